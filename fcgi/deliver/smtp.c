/* smtp: submission through libcurl; see smtp.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "conf/conf.h"
#include "lib/addr.h"
#include "lib/curlx.h"
#include "lib/log.h"
#include "deliver/smtp.h"
#include "deliver/smtp_int.h"

#define SMTP_MAX_RCPT		100	/* RFC 5321 section 4.5.3.1.8 */
#define SMTP_MAX_HELO		253
#define SMTP_DEFAULT_TIMEOUT	30	/* seconds, when cfg has none */
#define SMTP_TOTAL_FACTOR	10	/* whole transfer: timeout * 10 */
#define SMTP_MAX_IDLE		60	/* seconds an idle connection is reused */
#define SMTP_REPLY_TEXT		160	/* octets of the last reply kept */
#define SMTP_VERB		SMTP_PROBE_VERB

struct smtp {
	CURL		*curl;
	int		 fresh;		/* next transfer on a new connection */
	/* One transfer: */
	const char	*data;
	size_t		 len;
	size_t		 off;
	int		 code;		/* last reply code seen, 0: none yet */
	char		 cmd[SMTP_VERB];	/* last command sent */
	char		 replied[SMTP_VERB];	/* the one code answered */
	char		 text[SMTP_REPLY_TEXT];	/* last reply line */
	char		 errbuf[CURL_ERROR_SIZE];
};

/*
 * Commands whose name is recorded (those the probe must never send too).
 * Anything else libcurl writes on the control channel (an AUTH
 * continuation: credentials) is not looked at.
 */
static const char *const smtp_verbs[] = {
	"EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "RSET",
	"QUIT", "NOOP", "VRFY", "EXPN", "HELP", NULL
};

const char *
smtp_result_name(enum smtp_result r)
{
	switch (r) {
	case SMTP_SENT:
		return "sent";
	case SMTP_DEFER:
		return "deferred";
	case SMTP_FAIL:
		return "failed";
	case SMTP_CONFIG:
		return "config";
	}
	return "unknown";
}

/*
 * cfg->url with the EHLO name as its path (libcurl takes the EHLO domain
 * from the path).  The scheme must agree with cfg->tls, and clear text
 * is for loopback only (docs/DESIGN.md "SMTP").  Returns a curl_free()'d
 * string or NULL.
 */
char *
smtp_url(const struct conf_smtp *cfg, const char *helo)
{
	struct curlx_url	 u;
	char			*path = NULL, *url = NULL;
	size_t			 n;
	int			 ok = 0;

	if (curlx_url_parse(&u, cfg->url) == -1) {
		log_err("smtp: cannot parse the url");
		goto out;
	}
	switch (cfg->tls) {
	case CONF_SMTP_IMPLICIT:
		ok = strcmp(u.scheme, "smtps") == 0;
		break;
	case CONF_SMTP_STARTTLS:
		ok = strcmp(u.scheme, "smtp") == 0;
		break;
	case CONF_SMTP_PLAIN:
		ok = strcmp(u.scheme, "smtp") == 0 && cfg->insecure_plaintext &&
		    addr_is_loopback(u.host, strlen(u.host), 1);
		break;
	}
	if (!ok) {
		log_err("smtp: url scheme or host does not match the TLS "
		    "setting");
		goto out;
	}
	n = strlen(helo) + 2;
	if ((path = malloc(n)) == NULL)
		goto out;
	snprintf(path, n, "/%s", helo);
	if ((url = curlx_url_with_path(&u, path)) == NULL)
		log_err("smtp: cannot build the url");
out:
	free(path);
	curlx_url_free(&u);
	return url;
}

static size_t
smtp_read(char *buf, size_t size, size_t nitems, void *arg)
{
	struct smtp	*s = arg;
	size_t		 n = s->len - s->off;

	if (nitems != 0 && size > (size_t)-1 / nitems)
		return CURL_READFUNC_ABORT;
	if (n > size * nitems)
		n = size * nitems;
	if (n == 0)
		return 0;
	memcpy(buf, s->data + s->off, n);
	s->off += n;
	return n;
}

/*
 * The verb a command line starts with into verb (SMTP_VERB octets), when
 * it is one of smtp_verbs followed by a space or the line's end.
 */
int
smtp_verb(const char *p, size_t len, char *verb)
{
	size_t	 i, n;

	for (n = 0; n < len && n < SMTP_VERB - 1 && p[n] >= 'A' &&
	    p[n] <= 'Z'; n++)
		;
	for (i = 0; smtp_verbs[i] != NULL; i++)
		if (strlen(smtp_verbs[i]) == n &&
		    memcmp(smtp_verbs[i], p, n) == 0 && (n == len ||
		    p[n] == ' ' || p[n] == '\r')) {
			memcpy(verb, p, n);
			verb[n] = '\0';
			return 1;
		}
	return 0;
}

/*
 * One reply line "NNN text" or "NNN-text" (RFC 5321 section 4.2).  A 354
 * to DATA means the next reply answers the message itself, which libcurl
 * ends with CRLF.CRLF outside the command channel.
 */
static void
smtp_note_reply(struct smtp *s, const char *p, size_t len)
{
	size_t	 n;

	/* libcurl ends a failed transaction with QUIT: keep the refusal. */
	if (len < 3 || p[0] < '2' || p[0] > '5' || p[1] < '0' ||
	    p[1] > '9' || p[2] < '0' || p[2] > '9' ||
	    strcmp(s->cmd, "QUIT") == 0)
		return;
	s->code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	memcpy(s->replied, s->cmd, sizeof(s->replied));
	for (n = len; n > 0 && (p[n - 1] == '\r' || p[n - 1] == '\n'); n--)
		;
	log_escape(s->text, sizeof(s->text), p, n);
	if (s->code == 354 && strcmp(s->cmd, "DATA") == 0)
		snprintf(s->cmd, sizeof(s->cmd), ".");
}

/*
 * Watches the control channel only (CURLOPT_VERBOSE makes libcurl call
 * this instead of printing).  Message data and TLS records are ignored;
 * of commands only the verb is kept, never an argument.
 */
static int
smtp_debug(CURL *c, curl_infotype type, char *p, size_t len, void *arg)
{
	struct smtp	*s = arg;
	size_t		 i, start;

	(void)c;
	if (type != CURLINFO_HEADER_IN && type != CURLINFO_HEADER_OUT)
		return 0;
	for (start = i = 0; i < len; i++) {
		if (p[i] != '\n' && i + 1 < len)
			continue;
		if (type == CURLINFO_HEADER_OUT)
			(void)smtp_verb(p + start, i + 1 - start, s->cmd);
		else
			smtp_note_reply(s, p + start, i + 1 - start);
		start = i + 1;
	}
	return 0;
}

/*
 * The handle smtp_open() and smtp_probe() share: lib/curlx's hardening
 * (TLS 1.2+, peer and host verified, ca_file pinned, no proxy, no
 * signals), the protocol and TLS mode of cfg, AUTH when cfg has a username
 * and password is set, and a peer that stalls for t seconds in any phase
 * given up; total seconds for the whole transfer.
 */
CURL *
smtp_handle(const struct conf_smtp *cfg, const char *password,
    const char *url, long t, long total, char *errbuf)
{
	CURL	*h;
	int	 bad = 0;

	if ((h = curlx_open(&(struct curlx){ .url = url,
	    .protocols = cfg->tls == CONF_SMTP_IMPLICIT ? "smtps" : "smtp",
	    .ca_file = cfg->ca_file, .connect_ms = t * 1000,
	    .total_ms = total * 1000, .errbuf = errbuf })) == NULL)
		return NULL;
	bad |= curl_easy_setopt(h, CURLOPT_USE_SSL, cfg->tls ==
	    CONF_SMTP_PLAIN ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL) !=
	    CURLE_OK;
	if (cfg->username != NULL && password != NULL) {
		bad |= curl_easy_setopt(h, CURLOPT_USERNAME, cfg->username) !=
		    CURLE_OK;
		bad |= curl_easy_setopt(h, CURLOPT_PASSWORD, password) !=
		    CURLE_OK;
		bad |= curl_easy_setopt(h, CURLOPT_SASL_IR, 1L) != CURLE_OK;
	}
	bad |= curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, t) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_MAXAGE_CONN, (long)SMTP_MAX_IDLE) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_VERBOSE, 1L) != CURLE_OK;
	if (bad) {
		curlx_close(h);
		return NULL;
	}
	return h;
}

/* cfg's timeout, or SMTP_DEFAULT_TIMEOUT. */
long
smtp_timeout(const struct conf_smtp *cfg)
{
	return cfg->timeout > 0 ? cfg->timeout : SMTP_DEFAULT_TIMEOUT;
}

int
smtp_open(const struct conf_smtp *cfg, const char *password,
    const char *helo, struct smtp **out)
{
	struct smtp	*s;
	char		*url = NULL;
	long		 t = smtp_timeout(cfg);
	int		 bad = 0, rc = -1;

	*out = NULL;
	/* The EHLO name is the URL path: a host name, LDH labels only. */
	if (helo == NULL || !addr_ldh_ok(helo, strlen(helo), SMTP_MAX_HELO)) {
		log_err("smtp: the EHLO name is not a host name");
		return -1;
	}
	if (cfg->username != NULL && password == NULL) {
		log_err("smtp: username without password");
		return -1;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	if ((url = smtp_url(cfg, helo)) == NULL)
		goto out;
	if ((s->curl = smtp_handle(cfg, password, url, t,
	    t * SMTP_TOTAL_FACTOR, s->errbuf)) == NULL) {
		log_err("smtp: libcurl refused an option");
		goto out;
	}
	bad |= curl_easy_setopt(s->curl, CURLOPT_UPLOAD, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(s->curl, CURLOPT_READFUNCTION, smtp_read) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(s->curl, CURLOPT_READDATA, s) != CURLE_OK;
	bad |= curl_easy_setopt(s->curl, CURLOPT_DEBUGFUNCTION, smtp_debug) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(s->curl, CURLOPT_DEBUGDATA, s) != CURLE_OK;
	if (bad) {
		log_err("smtp: libcurl refused an option");
		goto out;
	}
	*out = s;
	rc = 0;
out:
	curl_free(url);
	if (rc == -1)
		smtp_close(s);
	return rc;
}

/*
 * docs/DESIGN.md "SMTP" and smtp.h.  The reply code is the one seen in this
 * transfer (CURLINFO_RESPONSE_CODE may be left from an earlier one after
 * a connection error).
 */
static enum smtp_result
smtp_classify(CURLcode rc, int code, const char *replied)
{
	switch (rc) {
	case CURLE_OK:
		return SMTP_SENT;
	case CURLE_LOGIN_DENIED:
	case CURLE_AUTH_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_USE_SSL_FAILED:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_NOT_BUILT_IN:
		return SMTP_CONFIG;
	default:
		break;
	}
	/*
	 * 530 authentication or STARTTLS required, 534 mechanism too weak,
	 * 535 credentials invalid, 538 encryption required (RFC 4954
	 * section 6, RFC 3207 section 4).
	 */
	if (code == 530 || code == 534 || code == 535 || code == 538)
		return SMTP_CONFIG;
	if (code >= 500 && code < 600) {
		/* A refusal of this message, not of this client. */
		if (strcmp(replied, "MAIL") == 0 ||
		    strcmp(replied, "RCPT") == 0 ||
		    strcmp(replied, "DATA") == 0 || strcmp(replied, ".") == 0)
			return SMTP_FAIL;
		return SMTP_CONFIG;
	}
	return SMTP_DEFER;
}

/* "<addr>" after addr_spec_ok(); NULL when refused or ENOMEM. */
static char *
smtp_angle(const char *addr)
{
	size_t	 len;
	char	*p;

	if (addr == NULL || !addr_spec_ok(addr, strlen(addr)))
		return NULL;
	len = strlen(addr) + 3;
	if ((p = malloc(len)) != NULL)
		snprintf(p, len, "<%s>", addr);
	return p;
}

/*
 * A reused connection that the server closed while it sat idle, silently
 * or with a 421 (RFC 5321 section 3.8), fails at MAIL, before anything was
 * accepted: one more try on a new connection cannot duplicate the message.
 * libcurl's liveness check misses both (the socket is readable).
 */
static int
smtp_retry(struct smtp *s, CURLcode rc, int fresh)
{
	long	 nconn = -1;

	if (rc == CURLE_OK || fresh || curl_easy_getinfo(s->curl,
	    CURLINFO_NUM_CONNECTS, &nconn) != CURLE_OK || nconn != 0)
		return 0;
	if (s->code == 0)
		return rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR ||
		    rc == CURLE_GOT_NOTHING || rc == CURLE_OPERATION_TIMEDOUT;
	return s->code == 421 && strcmp(s->replied, "MAIL") == 0;
}

static CURLcode
smtp_perform(struct smtp *s, int fresh)
{
	s->off = 0;
	s->code = 0;
	s->cmd[0] = s->replied[0] = s->text[0] = s->errbuf[0] = '\0';
	if (curl_easy_setopt(s->curl, CURLOPT_FRESH_CONNECT, (long)fresh) !=
	    CURLE_OK)
		return CURLE_FAILED_INIT;
	return curl_easy_perform(s->curl);
}

enum smtp_result
smtp_send(struct smtp *s, const char *mail_from, const char *const *rcpt,
    size_t nrcpt, const char *data, size_t len, char *err, size_t errsize)
{
	struct curl_slist	*list = NULL, *l;
	enum smtp_result	 r = SMTP_FAIL;
	CURLcode		 rc;
	char			*from = NULL, *to = NULL, detail[300];
	size_t			 i;

	if (nrcpt == 0 || nrcpt > SMTP_MAX_RCPT) {
		snprintf(err, errsize, "%zu recipients (1 to %d allowed)",
		    nrcpt, SMTP_MAX_RCPT);
		return SMTP_FAIL;
	}
	if ((from = smtp_angle(mail_from)) == NULL) {
		snprintf(err, errsize, "envelope sender refused by the "
		    "address check");
		goto out;
	}
	for (i = 0; i < nrcpt; i++) {
		if ((to = smtp_angle(rcpt[i])) == NULL) {
			snprintf(err, errsize, "recipient %zu refused by the "
			    "address check", i + 1);
			goto out;
		}
		if ((l = curl_slist_append(list, to)) == NULL) {
			snprintf(err, errsize, "out of memory");
			r = SMTP_DEFER;
			goto out;
		}
		list = l;
		free(to);
		to = NULL;
	}
	s->data = data;
	s->len = len;
	if (curl_easy_setopt(s->curl, CURLOPT_MAIL_FROM, from) != CURLE_OK ||
	    curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, list) != CURLE_OK ||
	    curl_easy_setopt(s->curl, CURLOPT_INFILESIZE_LARGE,
	    (curl_off_t)len) != CURLE_OK) {
		snprintf(err, errsize, "libcurl refused the envelope");
		r = SMTP_DEFER;
		goto out;
	}
	rc = smtp_perform(s, s->fresh);
	if (smtp_retry(s, rc, s->fresh))
		rc = smtp_perform(s, 1);
	r = smtp_classify(rc, s->code, s->replied);
	/* After any failure the server's transaction state is unknown. */
	s->fresh = r != SMTP_SENT;
	if (r != SMTP_SENT) {
		log_escape(detail, sizeof(detail), s->errbuf,
		    strlen(s->errbuf));
		if (s->code != 0)
			snprintf(err, errsize, "curl: %s (code %d)%s%s, server "
			    "reply %d after %s: %s", curl_easy_strerror(rc),
			    (int)rc, detail[0] ? ": " : "", detail, s->code,
			    s->replied[0] ? s->replied : "connect", s->text);
		else
			snprintf(err, errsize, "curl: %s (code %d)%s%s, no "
			    "server reply", curl_easy_strerror(rc), (int)rc,
			    detail[0] ? ": " : "", detail);
	}
out:
	/* The handle must not keep pointers to what is freed here. */
	if (curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, NULL) != CURLE_OK ||
	    curl_easy_setopt(s->curl, CURLOPT_MAIL_FROM, NULL) != CURLE_OK)
		s->fresh = 1;
	s->data = NULL;
	s->len = s->off = 0;
	curl_slist_free_all(list);
	free(from);
	free(to);
	return r;
}

void
smtp_close(struct smtp *s)
{
	if (s == NULL)
		return;
	curlx_close(s->curl);
	free(s);
}
