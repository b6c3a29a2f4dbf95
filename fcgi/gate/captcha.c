/* captcha: the siteverify client (libcurl); see captcha.h.  The answer
 * is judged in captcha_answer.c. */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "lib/buf.h"
#include "lib/curlx.h"
#include "gate/captcha.h"
#include "gate/captcha_int.h"
#include "lib/addr.h"
#include "lib/log.h"
#include "lib/slots.h"
#include "lib/text.h"

#define CAPTCHA_MAX_HOSTNAME	253	/* RFC 1035 section 2.3.4 */
#define CAPTCHA_MAX_URL		2048
#define CAPTCHA_KEEP_ANSWER	16384	/* answer buffer kept between posts */
#define CAPTCHA_AGENT		"form2mail"

struct captcha {
	CURL			*curl;
	struct curl_slist	*headers;
	struct captcha_conf	 conf;		/* points into what follows */
	char			*url;
	char			*ca_file;
	char			*secret;	/* percent-encoded; wiped */
	size_t			 secret_len;
	char			*sitekey;	/* percent-encoded, or NULL */
	char			**hostnames;
	size_t			 nhostnames;
	char			*action;
	struct buf		 answer;
	struct slots		 slots;		/* fd -1: no cap */
	int			 toobig;
	char			 errbuf[CURL_ERROR_SIZE];
};

static const char *
captcha_default_url(enum captcha_kind k)
{
	switch (k) {
	case CAPTCHA_TURNSTILE:
		return CAPTCHA_URL_TURNSTILE;
	case CAPTCHA_HCAPTCHA:
		return CAPTCHA_URL_HCAPTCHA;
	case CAPTCHA_RECAPTCHA_V2:
	case CAPTCHA_RECAPTCHA_V3:
		return CAPTCHA_URL_RECAPTCHA;
	}
	return NULL;
}

/* Printable ASCII without space, 1 to max octets. */
static int
captcha_visible(const char *s, size_t len, size_t max)
{
	size_t	 i;

	if (len == 0 || len > max)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] < '!' || s[i] > '~')
			return 0;
	return 1;
}

static int
captcha_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* reCAPTCHA actions: letters, digits, '/', '_'; Turnstile adds '-'. */
static int
captcha_action_ok(const char *s)
{
	size_t	 i, len = strlen(s);

	if (len == 0 || len > CAPTCHA_MAX_ACTION)
		return 0;
	for (i = 0; i < len; i++)
		if (!captcha_alnum(s[i]) && s[i] != '_' && s[i] != '-' &&
		    s[i] != '/')
			return 0;
	return 1;
}

/*
 * The verify URL as libcurl will use it.  https only, but http towards a
 * loopback address literal, where a test's own endpoint listens.
 * Returns a malloc'd URL and sets *plain and the provider's name
 * ("scheme://host:port", lower case) in who, or NULL with err set.
 */
static char *
captcha_url(const char *in, int *plain, char *who, size_t whosize,
    char *err, size_t errsize)
{
	CURLU	*u;
	char	*scheme = NULL, *host = NULL, *port = NULL, *url = NULL;
	char	*copy = NULL, *p;

	*plain = 0;
	if (strnlen(in, CAPTCHA_MAX_URL) == CAPTCHA_MAX_URL) {
		snprintf(err, errsize, "verify_url is too long");
		return NULL;
	}
	if ((u = curl_url()) == NULL) {
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	if (curl_url_set(u, CURLUPART_URL, in, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK) {
		snprintf(err, errsize, "verify_url is not a URL");
		goto out;
	}
	/* 127.0.0.0/8 or ::1 written as an address, not "localhost". */
	if (strcmp(scheme, "http") == 0 &&
	    addr_is_loopback(host, strlen(host), 0))
		*plain = 1;
	else if (strcmp(scheme, "https") != 0) {
		snprintf(err, errsize, "verify_url must be https:// (http:// "
		    "only towards a loopback address)");
		goto out;
	}
	snprintf(who, whosize, "%s://%s:%s", scheme, host, port);
	for (p = who; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if ((copy = strdup(url)) == NULL)
		snprintf(err, errsize, "out of memory");
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(url);
	curl_url_cleanup(u);
	return copy;
}

/*
 * The provider's slot file: dir/captcha-H.slots, H the hex of the first
 * 8 octets of SHA-256 over who, so that every form (and process) calling
 * the same provider shares one cap, and a name from the config never
 * becomes a path.
 */
static int
captcha_slots(struct captcha *c, const struct captcha_conf *conf,
    const char *who, char *err, size_t errsize)
{
	unsigned char	 md[32];
	char		 hex[17], path[4096];

	if (conf->slot_dir == NULL)
		return 0;
	if (conf->max_calls < 1 || conf->max_calls > SLOTS_MAX) {
		snprintf(err, errsize, "max_calls: 1 to %d", SLOTS_MAX);
		return -1;
	}
	if (EVP_Digest(who, strlen(who), md, NULL, EVP_sha256(), NULL) != 1) {
		snprintf(err, errsize, "SHA-256 failed");
		return -1;
	}
	text_hex(md, 8, hex);
	if ((size_t)snprintf(path, sizeof(path), "%s/captcha-%s.slots",
	    conf->slot_dir, hex) >= sizeof(path)) {
		snprintf(err, errsize, "slot_dir is too long");
		return -1;
	}
	return slots_open(&c->slots, path, conf->max_calls, err, errsize);
}

/*
 * Percent-encodes len octets into dst (room for 3 * len + 1): everything
 * but RFC 3986 section 2.3 unreserved characters, which is what
 * application/x-www-form-urlencoded decoders take back unchanged.  Done
 * here rather than by curl_easy_escape() so the secret lands only in
 * buffers of known size that are wiped.  Returns the length written.
 */
static size_t
captcha_encode(char *dst, const char *src, size_t len)
{
	static const char	 hex[] = "0123456789ABCDEF";
	unsigned char		 c;
	size_t			 i, o = 0;

	for (i = 0; i < len; i++) {
		c = (unsigned char)src[i];
		if (captcha_alnum((char)c) || c == '-' || c == '.' ||
		    c == '_' || c == '~')
			dst[o++] = (char)c;
		else {
			dst[o++] = '%';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = '\0';
	return o;
}

/* A malloc'd percent-encoding of s; *lenp its length.  NULL on ENOMEM. */
static char *
captcha_encoded(const char *s, size_t *lenp)
{
	size_t	 len = strlen(s);
	char	*p;

	if (len > (SIZE_MAX - 1) / 3 || (p = malloc(3 * len + 1)) == NULL)
		return NULL;
	*lenp = captcha_encode(p, s, len);
	return p;
}

static void
captcha_wipe_free(char *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

static size_t
captcha_write(char *p, size_t size, size_t nitems, void *arg)
{
	struct captcha	*c = arg;
	size_t		 len;

	if (nitems != 0 && size > SIZE_MAX / nitems)
		return 0;
	len = size * nitems;
	if (len > CAPTCHA_MAX_ANSWER - c->answer.len) {
		c->toobig = 1;
		return 0;
	}
	if (buf_add(&c->answer, p, len) == -1)
		return 0;
	return len;
}

/* Everything of conf but the URL and the secret; sets err on failure. */
static int
captcha_check_conf(const struct captcha_conf *conf, char *err,
    size_t errsize)
{
	size_t	 i;

	if (captcha_field(conf->kind) == NULL) {
		snprintf(err, errsize, "unknown captcha kind %d",
		    (int)conf->kind);
		return -1;
	}
	if (conf->nhostnames > CAPTCHA_MAX_HOSTNAMES ||
	    (conf->nhostnames > 0 && conf->hostnames == NULL)) {
		snprintf(err, errsize, "hostnames: at most %d",
		    CAPTCHA_MAX_HOSTNAMES);
		return -1;
	}
	for (i = 0; i < conf->nhostnames; i++)
		if (conf->hostnames[i] == NULL ||
		    !addr_ldh_ok(conf->hostnames[i],
		    strlen(conf->hostnames[i]), CAPTCHA_MAX_HOSTNAME)) {
			snprintf(err, errsize, "hostnames: entry %zu is not a "
			    "host name", i + 1);
			return -1;
		}
	if (conf->action != NULL && !captcha_has_action(conf->kind)) {
		snprintf(err, errsize, "%s has no action",
		    captcha_kind_name(conf->kind));
		return -1;
	}
	if (conf->action == NULL && conf->kind == CAPTCHA_RECAPTCHA_V3) {
		snprintf(err, errsize, "recaptcha-v3 needs an action");
		return -1;
	}
	if (conf->action != NULL && !captcha_action_ok(conf->action)) {
		snprintf(err, errsize, "action: 1 to %d letters, digits, "
		    "'_', '-' or '/'", CAPTCHA_MAX_ACTION);
		return -1;
	}
	/* Written so that NaN fails too. */
	if (conf->kind == CAPTCHA_RECAPTCHA_V3 && conf->min_score != 0 &&
	    !(conf->min_score > 0 && conf->min_score <= 1)) {
		snprintf(err, errsize, "min_score must lie in (0, 1]");
		return -1;
	}
	if (conf->timeout_ms < 0 || conf->timeout_ms > CAPTCHA_MAX_TIMEOUT) {
		snprintf(err, errsize, "timeout: 1 to %d ms",
		    CAPTCHA_MAX_TIMEOUT);
		return -1;
	}
	if (conf->sitekey != NULL && (conf->kind != CAPTCHA_HCAPTCHA ||
	    !captcha_visible(conf->sitekey, strlen(conf->sitekey),
	    CAPTCHA_MAX_SECRET))) {
		snprintf(err, errsize, "sitekey: hCaptcha only, printable "
		    "ASCII");
		return -1;
	}
	return 0;
}

/* The handle: lib/curlx's hardening, then the siteverify POST. */
static int
captcha_setopts(struct captcha *c, int plain, long timeout)
{
	CURL		*h;
	struct curl_slist *l;
	int		 bad = 0;

	/* No 100-continue round trip for a body over 1 KiB. */
	if ((l = curl_slist_append(NULL, "Expect:")) == NULL)
		return -1;
	c->headers = l;
	if ((l = curl_slist_append(c->headers, "Accept: application/json")) ==
	    NULL)
		return -1;
	c->headers = l;
	/* No proxy from the environment sees the secret (curlx.h); a
	 * redirect is not followed: any answer but 200 is no verdict. */
	if ((h = c->curl = curlx_open(&(struct curlx){ .url = c->url,
	    .protocols = plain ? "http,https" : "https", .ca_file = c->ca_file,
	    .connect_ms = timeout, .total_ms = timeout,
	    .errbuf = c->errbuf })) == NULL)
		return -1;
	bad |= curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_USERAGENT, CAPTCHA_AGENT) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_POST, 1L) != CURLE_OK;
	/* Content-Length over the cap fails before the body is read. */
	bad |= curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)CAPTCHA_MAX_ANSWER) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, captcha_write) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, c) != CURLE_OK;
	return bad ? -1 : 0;
}

int
captcha_open(const struct captcha_conf *conf, struct captcha **out,
    char *err, size_t errsize)
{
	struct captcha	*c;
	const char	*url;
	char		 who[CAPTCHA_MAX_URL + 16];
	size_t		 i, n;
	int		 plain, rc = -1;
	long		 timeout;

	*out = NULL;
	if (captcha_check_conf(conf, err, errsize) == -1)
		return -1;
	if (conf->secret == NULL || !captcha_visible(conf->secret,
	    strnlen(conf->secret, CAPTCHA_MAX_SECRET + 1),
	    CAPTCHA_MAX_SECRET)) {
		snprintf(err, errsize, "secret: 1 to %d printable ASCII "
		    "characters, no space", CAPTCHA_MAX_SECRET);
		return -1;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	c->slots.fd = -1;
	c->slots.held = -1;
	url = conf->verify_url != NULL ? conf->verify_url :
	    captcha_default_url(conf->kind);
	if ((c->url = captcha_url(url, &plain, who, sizeof(who), err,
	    errsize)) == NULL || captcha_slots(c, conf, who, err, errsize) == -1)
		goto out;
	snprintf(err, errsize, "out of memory");
	if ((c->secret = captcha_encoded(conf->secret, &c->secret_len)) ==
	    NULL)
		goto out;
	if (conf->sitekey != NULL &&
	    (c->sitekey = captcha_encoded(conf->sitekey, &n)) == NULL)
		goto out;
	if (conf->ca_file != NULL &&
	    (c->ca_file = strdup(conf->ca_file)) == NULL)
		goto out;
	if (conf->action != NULL && (c->action = strdup(conf->action)) ==
	    NULL)
		goto out;
	if (conf->nhostnames > 0) {
		if ((c->hostnames = calloc(conf->nhostnames,
		    sizeof(*c->hostnames))) == NULL)
			goto out;
		c->nhostnames = conf->nhostnames;
		for (i = 0; i < conf->nhostnames; i++)
			if ((c->hostnames[i] = strdup(conf->hostnames[i])) ==
			    NULL)
				goto out;
	}
	c->conf.kind = conf->kind;
	c->conf.hostnames = (const char *const *)c->hostnames;
	c->conf.nhostnames = c->nhostnames;
	c->conf.action = c->action;
	c->conf.min_score = conf->min_score > 0 ? conf->min_score :
	    CAPTCHA_DEFAULT_SCORE;
	timeout = conf->timeout_ms > 0 ? conf->timeout_ms :
	    CAPTCHA_DEFAULT_TIMEOUT;
	c->conf.timeout_ms = timeout;
	if (captcha_setopts(c, plain, timeout) == -1) {
		snprintf(err, errsize, "libcurl refused an option");
		goto out;
	}
	if (errsize > 0)
		err[0] = '\0';
	*out = c;
	rc = 0;
out:
	if (rc == -1)
		captcha_close(c);
	return rc;
}

void
captcha_close(struct captcha *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	curlx_close(c->curl);
	slots_close(&c->slots);
	curl_slist_free_all(c->headers);
	captcha_wipe_free(c->secret, c->secret_len);
	free(c->sitekey);
	free(c->url);
	free(c->ca_file);
	free(c->action);
	for (i = 0; i < c->nhostnames; i++)
		free(c->hostnames[i]);
	free(c->hostnames);
	buf_free(&c->answer);
	free(c);
}

/*
 * "secret=S&response=T[&remoteip=IP][&sitekey=K]", each value
 * percent-encoded (the form of every provider's siteverify).  *sizep is
 * the allocation, wiped by the caller.  NULL on ENOMEM.
 */
static char *
captcha_body(const struct captcha *c, const char *token, size_t len,
    const char *ip, size_t *sizep)
{
	size_t	 size, o, iplen = ip != NULL ? strlen(ip) : 0;
	char	*p;

	/* Bounded by CAPTCHA_MAX_TOKEN, CAPTCHA_MAX_SECRET, ADDR_MAX_IP. */
	size = sizeof("secret=") + c->secret_len + sizeof("&response=") +
	    3 * len + sizeof("&remoteip=") + 3 * iplen + sizeof("&sitekey=") +
	    (c->sitekey != NULL ? strlen(c->sitekey) : 0) + 1;
	if ((p = malloc(size)) == NULL)
		return NULL;
	o = (size_t)snprintf(p, size, "secret=%s&response=", c->secret);
	o += captcha_encode(p + o, token, len);
	if (ip != NULL) {
		o += (size_t)snprintf(p + o, size - o, "&remoteip=");
		o += captcha_encode(p + o, ip, iplen);
	}
	if (c->sitekey != NULL)
		snprintf(p + o, size - o, "&sitekey=%s", c->sitekey);
	*sizep = size;
	return p;
}

/* A slot of the provider's cap, when it has one: 0, or -1 with *r and
 * why set (all taken: CAPTCHA_BUSY; the lock failed: UNAVAILABLE). */
static int
captcha_slot_take(struct captcha *c, enum captcha_result *r, char *why,
    size_t whysize)
{
	int	 t;

	if (c->slots.fd == -1 || (t = slots_take(&c->slots)) == 1)
		return 0;
	if (t == 0) {
		*r = CAPTCHA_BUSY;
		captcha_say(why, whysize, "%u calls to the provider in flight "
		    "already (max_calls), not sent", c->slots.n);
	} else
		captcha_say(why, whysize, "slot lock: %s", strerror(errno));
	return -1;
}

enum captcha_result
captcha_verify(struct captcha *c, const char *token, size_t len,
    const char *remote_ip, char *why, size_t whysize)
{
	enum captcha_result	 r = CAPTCHA_UNAVAILABLE;
	CURLcode		 rc;
	char			*body = NULL, detail[CURL_ERROR_SIZE];
	size_t			 i, bodysize = 0;
	long			 status = 0;

	if (token == NULL || len == 0) {
		captcha_say(why, whysize, "no %s in the post",
		    captcha_field(c->conf.kind));
		return CAPTCHA_MISSING;
	}
	if (len > CAPTCHA_MAX_TOKEN) {
		captcha_say(why, whysize, "token over %d octets, not sent",
		    CAPTCHA_MAX_TOKEN);
		return CAPTCHA_REJECTED;
	}
	/* Every provider's tokens are base64url and '.' '_' '-' '|'. */
	for (i = 0; i < len; i++)
		if (token[i] < '!' || token[i] > '~') {
			captcha_say(why, whysize, "token holds octet 0x%02x at "
			    "%zu, not sent", (unsigned char)token[i], i);
			return CAPTCHA_REJECTED;
		}
	if ((body = captcha_body(c, token, len,
	    addr_ip_ok(remote_ip) ? remote_ip : NULL, &bodysize)) == NULL) {
		captcha_say(why, whysize, "out of memory");
		return CAPTCHA_UNAVAILABLE;
	}
	buf_reset(&c->answer);
	c->toobig = 0;
	c->errbuf[0] = '\0';
	if (curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)strlen(body)) != CURLE_OK) {
		captcha_say(why, whysize, "libcurl refused the request body");
		goto out;
	}
	if (captcha_slot_take(c, &r, why, whysize) == -1)
		goto out;
	rc = curl_easy_perform(c->curl);
	slots_give(&c->slots);
	if (rc != CURLE_OK) {
		if (c->toobig || rc == CURLE_FILESIZE_EXCEEDED)
			captcha_say(why, whysize, "answer over %d octets",
			    CAPTCHA_MAX_ANSWER);
		else {
			log_escape(detail, sizeof(detail), c->errbuf,
			    strlen(c->errbuf));
			captcha_say(why, whysize, "curl: %s (code %d)%s%s",
			    curl_easy_strerror(rc), (int)rc,
			    detail[0] ? ": " : "", detail);
		}
		goto out;
	}
	if (curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status) !=
	    CURLE_OK || status != 200) {
		captcha_say(why, whysize, "HTTP status %ld", status);
		goto out;
	}
	r = captcha_parse_answer(&c->conf,
	    c->answer.data != NULL ? c->answer.data : "", c->answer.len, why,
	    whysize);
out:
	/* The handle must not keep a pointer to the freed body. */
	if (curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, "") != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)0) != CURLE_OK) {
		captcha_say(why, whysize, "libcurl refused a reset");
		r = CAPTCHA_UNAVAILABLE;
	}
	captcha_wipe_free(body, bodysize);
	if (c->answer.cap > CAPTCHA_KEEP_ANSWER)
		buf_free(&c->answer);
	else
		buf_reset(&c->answer);
	return r;
}
