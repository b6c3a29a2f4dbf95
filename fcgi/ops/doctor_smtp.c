/*
 * doctor_smtp: the relay of `form2mail doctor`: smtp.url's host and
 * addresses, then a login without a message (connect, TLS with
 * verification, EHLO, AUTH, NOOP, QUIT); see doctor.h.
 */
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <unbound.h>

#include "lib/buf.h"
#include "conf/conf.h"
#include "ops/doctor.h"
#include "ops/doctor_int.h"
#include "lib/log.h"

#define DOCTOR_REPLY		120	/* octets of an SMTP reply shown */
#define DOCTOR_VERB		10
#define DOCTOR_SMTP_TIMEOUT	30	/* seconds, when the config has none */

/* Host, port and addresses of smtp.url (A and AAAA through d->ub). */
void
doctor_relay(struct doctor *d)
{
	static const int	 types[] = { ns_t_a, ns_t_aaaa };
	CURLU			*u;
	struct ub_result	*res;
	char			*host = NULL, *port = NULL, why[128];
	unsigned char		 bin[16];
	size_t			 n, t;
	int			 i;

	d->naddr = 0;
	if ((u = curl_url()) == NULL)
		return;
	if (curl_url_set(u, CURLUPART_URL, d->cf->smtp.url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK) {
		doctor_say(d, D_FAIL, "fix smtp.url", "SMTP %s: cannot parse "
		    "the url", d->cf->smtp.url);
		goto out;
	}
	n = strlen(host);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	snprintf(d->host, sizeof(d->host), "%s", host);
	d->port = strtol(port, NULL, 10);
	if (inet_pton(AF_INET, host, bin) == 1 ||
	    inet_pton(AF_INET6, host, bin) == 1) {
		d->literal = 1;
		snprintf(d->addr[0], sizeof(d->addr[0]), "%s", host);
		d->naddr = 1;
		goto out;
	}
	for (t = 0; t < 2; t++) {
		if (doctor_query(d, host, types[t], &res, why, sizeof(why)) !=
		    DNS_OK)
			continue;
		for (i = 0; res->data[i] != NULL &&
		    d->naddr < DOCTOR_MAX_ADDR; i++)
			if (res->len[i] == (t ? 16 : 4) && inet_ntop(t ?
			    AF_INET6 : AF_INET, res->data[i],
			    d->addr[d->naddr], INET6_ADDRSTRLEN) != NULL)
				d->naddr++;
		ub_resolve_free(res);
	}
	if (d->naddr == 0)
		doctor_say(d, D_FAIL, "check the host name in smtp.url",
		    "SMTP %s: no address (A or AAAA) for the relay", host);
out:
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
}

struct doctor_smtp {
	char	 cmd[DOCTOR_VERB];	/* last command verb sent */
	int	 greeting;
	int	 auth;			/* last reply to AUTH */
	int	 noop;
	int	 forbidden;		/* MAIL, RCPT or DATA went out */
	int	 tls;
	char	 tlsver[24];
	char	 greet_text[DOCTOR_REPLY];
	char	 auth_text[DOCTOR_REPLY];
};

static int
doctor_verb(const char *p, size_t n)
{
	static const char *const verbs[] = {
		"EHLO", "HELO", "STARTTLS", "AUTH", "NOOP", "QUIT", "MAIL",
		"RCPT", "DATA", "RSET", "VRFY", "EXPN", "HELP", NULL
	};
	size_t	 i;

	for (i = 0; verbs[i] != NULL; i++)
		if (strlen(verbs[i]) == n && memcmp(verbs[i], p, n) == 0)
			return 1;
	return 0;
}

/* Watches the control channel: verbs only (an AUTH line carries the
 * credentials), reply codes, and libcurl's note of the TLS version. */
static int
doctor_smtp_debug(CURL *c, curl_infotype type, char *p, size_t len,
    void *arg)
{
	struct doctor_smtp	*s = arg;
	size_t			 i, start, n, k;
	const char		*l;
	int			 code;

	(void)c;
	if (type == CURLINFO_SSL_DATA_IN || type == CURLINFO_SSL_DATA_OUT) {
		s->tls = 1;
		return 0;
	}
	if (type == CURLINFO_TEXT) {
		static const char	 m[] = "SSL connection using ";

		if (len > sizeof(m) - 1 && memcmp(p, m, sizeof(m) - 1) == 0) {
			l = p + sizeof(m) - 1;
			for (n = 0; n < len - (sizeof(m) - 1) && n <
			    sizeof(s->tlsver) - 1 && (isalnum((unsigned char)
			    l[n]) || l[n] == '.'); n++)
				s->tlsver[n] = l[n];
			s->tlsver[n] = '\0';
		}
		return 0;
	}
	if (type != CURLINFO_HEADER_IN && type != CURLINFO_HEADER_OUT)
		return 0;
	for (start = i = 0; i < len; i++) {
		if (p[i] != '\n' && i + 1 < len)
			continue;
		l = p + start;
		n = i + 1 - start;
		start = i + 1;
		if (type == CURLINFO_HEADER_OUT) {
			for (k = 0; k < n && k < DOCTOR_VERB - 1 &&
			    l[k] >= 'A' && l[k] <= 'Z'; k++)
				;
			/* An AUTH continuation is base64, not a verb. */
			if (k == 0 || (k < n && l[k] != ' ' && l[k] != '\r') ||
			    !doctor_verb(l, k))
				continue;
			memcpy(s->cmd, l, k);
			s->cmd[k] = '\0';
			if (strcmp(s->cmd, "MAIL") == 0 ||
			    strcmp(s->cmd, "RCPT") == 0 ||
			    strcmp(s->cmd, "DATA") == 0)
				s->forbidden = 1;
			continue;
		}
		if (n < 3 || !isdigit((unsigned char)l[0]) ||
		    !isdigit((unsigned char)l[1]) ||
		    !isdigit((unsigned char)l[2]))
			continue;
		code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
		while (n > 0 && (l[n - 1] == '\r' || l[n - 1] == '\n'))
			n--;
		if (s->cmd[0] == '\0' && s->greeting == 0) {
			s->greeting = code;
			log_escape(s->greet_text, sizeof(s->greet_text), l, n);
		} else if (strcmp(s->cmd, "AUTH") == 0) {
			s->auth = code;
			log_escape(s->auth_text, sizeof(s->auth_text), l, n);
		} else if (strcmp(s->cmd, "NOOP") == 0)
			s->noop = code;
	}
	return 0;
}

static size_t
doctor_smtp_sink(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static int
doctor_tls_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_USE_SSL_FAILED:
		return 1;
	default:
		return 0;
	}
}

/*
 * Connect, TLS with verification, EHLO, AUTH, NOOP, QUIT.  With no
 * CURLOPT_UPLOAD and no recipients libcurl sends the custom command and
 * never MAIL FROM, so no message can leave.  The connection goes to the
 * addresses checked above (CURLOPT_RESOLVE), not to a second lookup.
 */
void
doctor_smtp(struct doctor *d)
{
	const struct conf_smtp	*c = &d->cf->smtp;
	struct doctor_smtp	 s;
	struct curl_slist	*pin = NULL, *l;
	struct buf		 b = BUF_INIT;
	CURLU			*u = NULL;
	CURL			*h = NULL;
	CURLcode		 rc;
	char			*url = NULL, *ip = NULL, path[DOCTOR_NAME_MAX + 2];
	char			 errbuf[CURL_ERROR_SIZE], esc[CURL_ERROR_SIZE * 4];
	const char		*mode;
	long			 t = c->timeout > 0 ? c->timeout :
				    DOCTOR_SMTP_TIMEOUT;
	size_t			 i;
	int			 bad = 0, tls_ok;

	memset(&s, 0, sizeof(s));
	errbuf[0] = '\0';
	mode = c->tls == CONF_SMTP_IMPLICIT ? "implicit TLS" :
	    c->tls == CONF_SMTP_STARTTLS ? "STARTTLS" : "clear text";
	if (d->naddr == 0) {
		doctor_say(d, D_SKIP, NULL, "SMTP %s: not tried (no address)",
		    d->host);
		return;
	}
	if ((u = curl_url()) == NULL || (h = curl_easy_init()) == NULL)
		goto nomem;
	snprintf(path, sizeof(path), "/%s", d->cf->hostname);
	if (curl_url_set(u, CURLUPART_URL, c->url, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_PATH, path, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK)
		goto nomem;
	if (!d->literal) {
		if (buf_printf(&b, "%s:%ld:", d->host, d->port) == -1)
			goto nomem;
		for (i = 0; i < d->naddr; i++)
			if (buf_printf(&b, strchr(d->addr[i], ':') ? "%s[%s]" :
			    "%s%s", i ? "," : "", d->addr[i]) == -1)
				goto nomem;
		if ((l = curl_slist_append(pin, b.data)) == NULL)
			goto nomem;
		pin = l;
		bad |= curl_easy_setopt(h, CURLOPT_RESOLVE, pin) != CURLE_OK;
	}
	bad |= curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR,
	    c->tls == CONF_SMTP_IMPLICIT ? "smtps" : "smtp") != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_USE_SSL, c->tls == CONF_SMTP_PLAIN ?
	    (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_SSLVERSION,
	    (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
	if (c->ca_file != NULL) {
		bad |= curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file) !=
		    CURLE_OK;
		bad |= curl_easy_setopt(h, CURLOPT_CAPATH, NULL) != CURLE_OK;
	}
	bad |= curl_easy_setopt(h, CURLOPT_PROXY, "") != CURLE_OK;
	if (c->username != NULL && d->password != NULL) {
		bad |= curl_easy_setopt(h, CURLOPT_USERNAME, c->username) !=
		    CURLE_OK;
		bad |= curl_easy_setopt(h, CURLOPT_PASSWORD, d->password) !=
		    CURLE_OK;
		bad |= curl_easy_setopt(h, CURLOPT_SASL_IR, 1L) != CURLE_OK;
	}
	bad |= curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "NOOP") != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_UPLOAD, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, doctor_smtp_sink) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, t) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT, t * 3) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, doctor_smtp_debug) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_DEBUGDATA, &s) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_VERBOSE, 1L) != CURLE_OK;
	if (bad)
		goto nomem;

	rc = curl_easy_perform(h);
	if (curl_easy_getinfo(h, CURLINFO_PRIMARY_IP, &ip) != CURLE_OK ||
	    ip == NULL)
		ip = NULL;
	log_escape(esc, sizeof(esc), errbuf, strlen(errbuf));
	if (esc[0] == '\0')
		snprintf(esc, sizeof(esc), "%s", curl_easy_strerror(rc));

	/* connect */
	if (s.greeting == 0 && !s.tls) {
		doctor_say(d, D_FAIL, "check smtp.url (host and port) and that "
		    "this host may reach the relay", "SMTP connect %s:%ld: %s",
		    d->host, d->port, esc);
		goto skip_rest;
	}
	if (s.greeting != 0 && s.greeting != 220) {
		doctor_say(d, D_FAIL, "ask the provider; the relay turns this "
		    "host away", "SMTP connect %s:%ld (%s): greeting \"%s\"",
		    d->host, d->port, ip ? ip : "?", s.greet_text);
		goto skip_rest;
	}
	if (s.greeting != 0)
		doctor_say(d, D_OK, NULL, "SMTP connect %s:%ld (%s): greeting "
		    "%d", d->host, d->port, ip && *ip ? ip : "?", s.greeting);
	else
		doctor_say(d, D_OK, NULL, "SMTP connect %s:%ld (%s): connected",
		    d->host, d->port, ip && *ip ? ip : "?");

	/* TLS */
	tls_ok = !doctor_tls_error(rc) && (s.greeting != 0 || rc == CURLE_OK);
	if (c->tls == CONF_SMTP_PLAIN)
		doctor_say(d, D_WARN, NULL, "SMTP TLS %s: clear text "
		    "(insecure_plaintext, loopback only)", d->host);
	else if (!tls_ok) {
		doctor_say(d, D_FAIL, rc == CURLE_USE_SSL_FAILED ? "the relay "
		    "offers no STARTTLS here: use smtps://HOST:465 or the "
		    "provider's submission port" : "the certificate must be "
		    "valid for the host in smtp.url; set smtp.ca_file to the "
		    "CA that issued it, or leave it unset for the system "
		    "store", "SMTP TLS %s (%s): %s", d->host, mode, esc);
		goto skip_auth;
	} else if (!s.tls) {
		doctor_say(d, D_FAIL, "use smtps:// or STARTTLS", "SMTP TLS %s "
		    "(%s): no TLS seen", d->host, mode);
		goto skip_auth;
	} else
		doctor_say(d, D_OK, NULL, "SMTP TLS %s: %s%s%s%s, certificate "
		    "verified%s", d->host, mode, s.tlsver[0] ? " (" : "",
		    s.tlsver, s.tlsver[0] ? ")" : "", c->ca_file ?
		    " against smtp.ca_file" : "");

	/* AUTH */
	if (c->username == NULL)
		doctor_say(d, D_SKIP, NULL, "SMTP AUTH: no smtp.username in the "
		    "config");
	else if (d->password == NULL)
		doctor_say(d, D_FAIL, "run doctor as root (the file stays "
		    "0600)", "SMTP AUTH %s: cannot read the password: %s",
		    c->username, d->pw_err);
	else if (s.auth == 235 && rc != CURLE_LOGIN_DENIED &&
	    rc != CURLE_AUTH_ERROR)
		doctor_say(d, D_OK, NULL, "SMTP AUTH %s: accepted (%s)",
		    c->username, s.auth_text);
	else if (s.auth == 0 && rc == CURLE_OK) {
		doctor_say(d, D_FAIL, "use the provider's submission port, "
		    "where AUTH is offered after TLS", "SMTP AUTH %s: the relay "
		    "offers no AUTH here (none after EHLO)", c->username);
		goto skip_noop;
	} else {
		doctor_say(d, D_FAIL, "check smtp.username and the password in "
		    "smtp.password_file", "SMTP AUTH %s: refused (%s)",
		    c->username, s.auth ? s.auth_text : esc);
		goto skip_noop;
	}

	/* nothing sent */
	if (s.forbidden)
		doctor_say(d, D_FAIL, "report this as a bug", "SMTP: a MAIL, "
		    "RCPT or DATA command went out");
	else if (rc == CURLE_OK && s.noop / 100 == 2)
		doctor_say(d, D_OK, NULL, "SMTP no mail sent: NOOP answered "
		    "%d, then QUIT", s.noop);
	else
		doctor_say(d, D_FAIL, "see the relay's reply", "SMTP NOOP: %s",
		    esc);
	goto out;
skip_rest:
	doctor_say(d, D_SKIP, NULL, "SMTP TLS and AUTH: not tried");
	goto out;
skip_auth:
	doctor_say(d, D_SKIP, NULL, "SMTP AUTH: not tried (no verified TLS)");
	goto out;
skip_noop:
	if (s.forbidden)
		doctor_say(d, D_FAIL, "report this as a bug", "SMTP: a MAIL, "
		    "RCPT or DATA command went out");
	goto out;
nomem:
	doctor_say(d, D_FAIL, "retry", "SMTP: cannot set up libcurl");
out:
	if (h != NULL)
		curl_easy_cleanup(h);	/* QUIT */
	curl_slist_free_all(pin);
	curl_free(url);
	curl_url_cleanup(u);
	buf_free(&b);
}
