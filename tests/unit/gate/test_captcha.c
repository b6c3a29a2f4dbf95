/*
 * test_captcha: captcha verification against a fake siteverify endpoint
 * (tests/unit/captcha_peer.py, started here on free loopback ports, over
 * http and over https with a throwaway CA): a good answer of each
 * provider, refusals (success false, hostname, action, score), answers
 * that give no verdict (provider errors, timeout, HTTP 500, redirect,
 * malformed, duplicate keys, oversized with and without Content-Length,
 * connection closed or refused), tokens refused before any request (the
 * peer counts requests), the POST body as the peer decoded it, connection
 * reuse, certificate verification, captcha_open()'s checks and the answer
 * parser alone.  Run from the repository root.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>

#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "gate/captcha.h"
#include "lib/slots.h"
#include "captcha_peer.h"
#include "t.h"

#define SECRET		"test-Secret_0x&=+%;~"
#define TIMEOUT		1000	/* ms; the peer's "slow" takes 3 s */
#define WHY		512

static char	 dir[] = "/tmp/test_captcha.XXXXXX";

static const char *const hosts[] = { "example.com", "www.example.com" };

/* The requests the peer logged; *last the last one, parsed (or NULL). */
static int
peer_requests(json_t **last)
{
	static char	 line[4 * CAPTCHA_MAX_TOKEN + 4096];
	char	 path[256];
	FILE	*f;
	int	 n = 0;

	if (last != NULL)
		*last = NULL;
	snprintf(path, sizeof(path), "%s/peer.log", dir);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		n++;
		if (last != NULL) {
			json_decref(*last);
			*last = json_loads(line, 0, NULL);
		}
	}
	fclose(f);
	return n;
}

static const char *
kind_path(enum captcha_kind k)
{
	switch (k) {
	case CAPTCHA_TURNSTILE:
		return "turnstile";
	case CAPTCHA_HCAPTCHA:
		return "hcaptcha";
	case CAPTCHA_RECAPTCHA_V2:
		return "recaptcha";
	case CAPTCHA_RECAPTCHA_V3:
		return "recaptcha3";
	}
	return "?";
}

struct tconf {
	struct captcha_conf	 c;
	char			 url[128];
};

/* A handle of kind k on the plain peer, as most cases use it. */
static void
tconf(struct tconf *t, enum captcha_kind k)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->url, sizeof(t->url), "http://127.0.0.1:%d/%s", port_http,
	    kind_path(k));
	t->c.kind = k;
	t->c.secret = SECRET;
	t->c.verify_url = t->url;
	t->c.hostnames = hosts;
	t->c.nhostnames = 2;
	t->c.action = k == CAPTCHA_RECAPTCHA_V3 || k == CAPTCHA_TURNSTILE ?
	    "contact" : NULL;
	t->c.timeout_ms = TIMEOUT;
}

/* why is one printable line without the secret. */
static void
check_why(const char *why, const char *what)
{
	size_t	 i;
	int	 ok = why[0] != '\0';

	for (i = 0; why[i] != '\0'; i++)
		if (why[i] < ' ' || why[i] > '~')
			ok = 0;
	T_OK(ok, "%s: why is not one printable line: [%s]", what, why);
	T_OK(strstr(why, "Secret") == NULL && strstr(why, "test-") == NULL,
	    "%s: why shows the secret: [%s]", what, why);
}

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

#define T	CAPTCHA_TURNSTILE
#define H	CAPTCHA_HCAPTCHA
#define V2	CAPTCHA_RECAPTCHA_V2
#define V3	CAPTCHA_RECAPTCHA_V3

struct vcase {
	enum captcha_kind	 kind;
	const char		*token;
	size_t			 len;	/* 0: strlen(token) */
	enum captcha_result	 want;
	int			 sent;	/* requests the peer must see */
	const char		*why;	/* a substring of why, or NULL */
};

static const struct vcase vcases[] = {
	/* A good answer of each provider. */
	{ T, "ok", 0, CAPTCHA_OK, 1, "hostname \"www.example.com\"" },
	{ H, "ok", 0, CAPTCHA_OK, 1, "hostname \"www.example.com\"" },
	{ V2, "ok", 0, CAPTCHA_OK, 1, "hostname \"www.example.com\"" },
	{ V3, "ok", 0, CAPTCHA_OK, 1, "score 0.90" },
	{ V3, "edgescore", 0, CAPTCHA_OK, 1, "score 0.50" },
	{ V2, "uphost", 0, CAPTCHA_OK, 1, "WWW.Example.COM" },
	/* The provider says no, or the answer is for another place. */
	{ T, "fail", 0, CAPTCHA_REJECTED, 1, "invalid-input-response" },
	{ H, "fail", 0, CAPTCHA_REJECTED, 1, "invalid-input-response" },
	{ V2, "fail", 0, CAPTCHA_REJECTED, 1, "invalid-input-response" },
	{ V3, "fail", 0, CAPTCHA_REJECTED, 1, "invalid-input-response" },
	{ T, "badhost", 0, CAPTCHA_REJECTED, 1, "evil.example.net" },
	{ H, "badhost", 0, CAPTCHA_REJECTED, 1, "evil.example.net" },
	{ V2, "badhost", 0, CAPTCHA_REJECTED, 1, "evil.example.net" },
	{ V3, "badhost", 0, CAPTCHA_REJECTED, 1, "evil.example.net" },
	{ H, "nohost", 0, CAPTCHA_REJECTED, 1, "no hostname" },
	{ V3, "lowscore", 0, CAPTCHA_REJECTED, 1, "score 0.10 below 0.50" },
	{ V3, "badaction", 0, CAPTCHA_REJECTED, 1, "action \"login\"" },
	{ T, "badaction", 0, CAPTCHA_REJECTED, 1, "action \"login\"" },
	{ V3, "noaction", 0, CAPTCHA_REJECTED, 1, "action \"-\"" },
	{ T, "noaction", 0, CAPTCHA_REJECTED, 1, "action \"-\"" },
	/* No verdict: fail closed. */
	{ V2, "badsecret", 0, CAPTCHA_UNAVAILABLE, 1,
	    "provider error: invalid-input-secret" },
	{ V2, "slow", 0, CAPTCHA_UNAVAILABLE, 1, "Timeout" },
	{ V2, "500", 0, CAPTCHA_UNAVAILABLE, 1, "HTTP status 500" },
	{ V2, "redirect", 0, CAPTCHA_UNAVAILABLE, 1, "HTTP status 302" },
	{ V3, "noscore", 0, CAPTCHA_UNAVAILABLE, 1, "no \"score\"" },
	{ V3, "strscore", 0, CAPTCHA_UNAVAILABLE, 1, "\"score\" is not" },
	{ V2, "types", 0, CAPTCHA_UNAVAILABLE, 1, "no boolean \"success\"" },
	{ T, "types", 0, CAPTCHA_UNAVAILABLE, 1, "no boolean \"success\"" },
	{ V2, "dupkey", 0, CAPTCHA_UNAVAILABLE, 1, "not JSON" },
	{ V2, "array", 0, CAPTCHA_UNAVAILABLE, 1, "not a JSON object" },
	{ V2, "trailing", 0, CAPTCHA_UNAVAILABLE, 1, "not JSON" },
	{ H, "garbage", 0, CAPTCHA_UNAVAILABLE, 1, "not JSON" },
	{ H, "empty", 0, CAPTCHA_UNAVAILABLE, 1, "not JSON" },
	{ T, "huge", 0, CAPTCHA_UNAVAILABLE, 1, "answer over 65536" },
	{ T, "hugechunked", 0, CAPTCHA_UNAVAILABLE, 1, "answer over 65536" },
	/* On a reused connection: libcurl tries once more on a new one. */
	{ V2, "close", 0, CAPTCHA_UNAVAILABLE, 2, "Empty reply" },
	/* After all of that the handles still work. */
	{ T, "ok", 0, CAPTCHA_OK, 1, NULL },
	{ V2, "ok", 0, CAPTCHA_OK, 1, NULL },
	/* Nothing to verify, or nothing worth a request. */
	{ V2, "", 0, CAPTCHA_MISSING, 0, "no g-recaptcha-response" },
	{ T, NULL, 0, CAPTCHA_MISSING, 0, "no cf-turnstile-response" },
	{ H, "", 0, CAPTCHA_MISSING, 0, "no h-captcha-response" },
	{ V2, "ok\r\nX-Evil: 1", 0, CAPTCHA_REJECTED, 0, "octet 0x0d at 2" },
	{ V2, "ok\n", 0, CAPTCHA_REJECTED, 0, "octet 0x0a" },
	{ V2, "o\001k", 0, CAPTCHA_REJECTED, 0, "octet 0x01" },
	{ V2, "ok ok", 0, CAPTCHA_REJECTED, 0, "octet 0x20" },
	{ V2, "ok\177", 0, CAPTCHA_REJECTED, 0, "octet 0x7f" },
	{ V2, "ok\303\251", 0, CAPTCHA_REJECTED, 0, "octet 0xc3" },
	{ V2, "ok\0ok", 5, CAPTCHA_REJECTED, 0, "octet 0x00 at 2" },
	{ T, "\tok", 0, CAPTCHA_REJECTED, 0, "octet 0x09 at 0" },
};

static void
test_verify(void)
{
	struct captcha	*h[4] = { NULL, NULL, NULL, NULL };
	struct tconf	 t;
	const struct vcase *vc;
	char		 err[256], why[WHY], what[128];
	size_t		 i, len;
	int		 k, before, after;
	double		 t0;
	enum captcha_result r;

	for (k = 0; k < 4; k++) {
		tconf(&t, (enum captcha_kind)k);
		T_INT(captcha_open(&t.c, &h[k], err, sizeof(err)), 0, err);
	}
	if (h[0] == NULL || h[1] == NULL || h[2] == NULL || h[3] == NULL)
		goto out;
	for (i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++) {
		vc = &vcases[i];
		len = vc->len ? vc->len : vc->token ? strlen(vc->token) : 0;
		snprintf(what, sizeof(what), "case %zu (%s, token %.20s)", i,
		    captcha_kind_name(vc->kind), vc->token ? vc->token : "NULL");
		before = peer_requests(NULL);
		why[0] = '\0';
		t0 = now();
		r = captcha_verify(h[vc->kind], vc->token, len, "192.0.2.7",
		    why, sizeof(why));
		after = peer_requests(NULL);
		T_OK(r == vc->want, "%s: expected %s, got %s (%s)", what,
		    captcha_result_name(vc->want), captcha_result_name(r),
		    why);
		T_OK(after - before == vc->sent, "%s: expected %d requests, "
		    "the peer saw %d", what, vc->sent, after - before);
		check_why(why, what);
		if (vc->why != NULL)
			T_OK(strstr(why, vc->why) != NULL, "%s: expected [%s] "
			    "in why, got [%s]", what, vc->why, why);
		/* The timeout holds, with room for a slow machine. */
		T_OK(now() - t0 < 2.5, "%s: took %.2f s", what, now() - t0);
	}
out:
	for (k = 0; k < 4; k++)
		captcha_close(h[k]);
}

/* The last request's fields, as the peer decoded them, equal want. */
static void
check_fields(const char *const *want, size_t n, const char *what)
{
	json_t		*last, *fields, *f;
	const char	*name, *value;
	size_t		 i;

	peer_requests(&last);
	fields = json_object_get(last, "fields");
	T_OK(json_is_array(fields) && json_array_size(fields) == n,
	    "%s: expected %zu fields, got %zu", what, n,
	    json_array_size(fields));
	T_STR(json_string_value(json_object_get(last, "type")),
	    "application/x-www-form-urlencoded", what);
	for (i = 0; i < n && i < json_array_size(fields); i++) {
		f = json_array_get(fields, i);
		name = json_string_value(json_array_get(f, 0));
		value = json_string_value(json_array_get(f, 1));
		T_STR(name, want[2 * i], what);
		T_STR(value, want[2 * i + 1], what);
	}
	json_decref(last);
}

/* The peer's client port of the last request. */
static long
last_port(void)
{
	json_t	*last;
	long	 p;

	peer_requests(&last);
	p = (long)json_integer_value(json_object_get(last, "port"));
	json_decref(last);
	return p;
}

static void
test_body(void)
{
	static const char tok[] = "a&b=c+d%2B%e/f?g#h;i~j.k_l-m|n*o'p\"q";
	static const char secret2[] = "0x4AAAAAAAtest-secret";
	static const char sitekey[] = "10000000-ffff-ffff-ffff-000000000001";
	const char	*want_v6[] = { "secret", SECRET, "response", tok,
			    "remoteip", "2001:db8::7" };
	const char	*want_v4[] = { "secret", SECRET, "response", "ok",
			    "remoteip", "192.0.2.7" };
	const char	*want_noip[] = { "secret", SECRET, "response", "ok" };
	const char	*want_site[] = { "secret", secret2, "response", "ok",
			    "remoteip", "192.0.2.7", "sitekey", sitekey };
	char		 big[CAPTCHA_MAX_TOKEN + 2];
	const char	*want_big[] = { "secret", SECRET, "response", big };
	struct captcha	*c = NULL, *hc = NULL;
	struct tconf	 t;
	char		 err[256], why[WHY], what[64];
	long		 p1, p2;
	int		 before;

	tconf(&t, V2);
	T_INT(captcha_open(&t.c, &c, err, sizeof(err)), 0, err);
	if (c == NULL)
		return;
	T_INT(captcha_verify(c, tok, strlen(tok), "2001:db8::7", why,
	    sizeof(why)), CAPTCHA_OK, why);
	check_fields(want_v6, 3, "token with & = + % arrives intact");
	T_INT(captcha_verify(c, "ok", 2, "192.0.2.7", why, sizeof(why)),
	    CAPTCHA_OK, why);
	check_fields(want_v4, 3, "IPv4 remoteip");
	p1 = last_port();
	T_INT(captcha_verify(c, "ok", 2, NULL, why, sizeof(why)), CAPTCHA_OK,
	    why);
	check_fields(want_noip, 2, "no remoteip");
	p2 = last_port();
	T_OK(p1 == p2 && p1 != 0, "one connection for several posts: "
	    "client ports %ld then %ld", p1, p2);
	/* Not an address: left out, and cannot add a field either. */
	T_INT(captcha_verify(c, "ok", 2, "1.2.3.4&remoteip=6.6.6.6", why,
	    sizeof(why)), CAPTCHA_OK, why);
	check_fields(want_noip, 2, "bad remoteip left out");
	T_INT(captcha_verify(c, "ok", 2, "", why, sizeof(why)), CAPTCHA_OK,
	    why);
	check_fields(want_noip, 2, "empty remoteip left out");

	/* The cap: CAPTCHA_MAX_TOKEN octets go, one more does not. */
	memset(big, 'A', sizeof(big) - 1);
	big[CAPTCHA_MAX_TOKEN] = '\0';
	T_INT(captcha_verify(c, big, CAPTCHA_MAX_TOKEN, NULL, why,
	    sizeof(why)), CAPTCHA_OK, why);
	check_fields(want_big, 2, "token of CAPTCHA_MAX_TOKEN octets");
	big[CAPTCHA_MAX_TOKEN] = 'A';
	big[CAPTCHA_MAX_TOKEN + 1] = '\0';
	before = peer_requests(NULL);
	T_INT(captcha_verify(c, big, CAPTCHA_MAX_TOKEN + 1, NULL, why,
	    sizeof(why)), CAPTCHA_REJECTED, why);
	T_INT(peer_requests(NULL) - before, 0, "over the cap: no request");
	snprintf(what, sizeof(what), "over %d", CAPTCHA_MAX_TOKEN);
	T_OK(strstr(why, what) != NULL, "over the cap: why [%s]", why);
	/* len, not the NUL, bounds the token. */
	T_INT(captcha_verify(c, "okXYZ", 2, NULL, why, sizeof(why)),
	    CAPTCHA_OK, why);
	check_fields(want_noip, 2, "len bounds the token");
	/* why may be left out. */
	T_INT(captcha_verify(c, "ok", 2, NULL, NULL, 0), CAPTCHA_OK,
	    "why NULL");
	T_INT(captcha_verify(c, "fail", 4, NULL, why, 8), CAPTCHA_REJECTED,
	    "small why");
	T_INT((long long)strlen(why), 7, "small why is cut");
	captcha_close(c);

	tconf(&t, H);
	t.c.secret = secret2;
	t.c.sitekey = sitekey;
	T_INT(captcha_open(&t.c, &hc, err, sizeof(err)), 0, err);
	if (hc == NULL)
		return;
	T_INT(captcha_verify(hc, "ok", 2, "192.0.2.7", why, sizeof(why)),
	    CAPTCHA_OK, why);
	check_fields(want_site, 4, "hCaptcha sitekey");
	captcha_close(hc);
}

static void
test_tls(void)
{
	static const char *const ca[] = { "ca.pem", "other-ca.pem", NULL };
	static const enum captcha_result want[] = { CAPTCHA_OK,
	    CAPTCHA_UNAVAILABLE, CAPTCHA_UNAVAILABLE };
	struct captcha	*c;
	struct tconf	 t;
	char		 err[256], why[WHY], path[256], what[64];
	int		 i, before;
	enum captcha_result r;

	for (i = 0; i < 3; i++) {
		tconf(&t, V3);
		snprintf(t.url, sizeof(t.url),
		    "https://127.0.0.1:%d/recaptcha3", port_https);
		if (ca[i] != NULL) {
			snprintf(path, sizeof(path), "%s/%s", dir, ca[i]);
			t.c.ca_file = path;
		}
		snprintf(what, sizeof(what), "https, CA %s",
		    ca[i] ? ca[i] : "of the system");
		c = NULL;
		T_INT(captcha_open(&t.c, &c, err, sizeof(err)), 0, err);
		if (c == NULL)
			continue;
		before = peer_requests(NULL);
		r = captcha_verify(c, "ok", 2, NULL, why, sizeof(why));
		T_OK(r == want[i], "%s: expected %s, got %s (%s)", what,
		    captcha_result_name(want[i]), captcha_result_name(r), why);
		T_INT(peer_requests(NULL) - before, r == CAPTCHA_OK, what);
		check_why(why, what);
		captcha_close(c);
	}
}

struct ocase {
	enum captcha_kind	 kind;
	const char		*secret;
	const char		*url;
	const char		*action;
	double			 min_score;
	long			 timeout;
	const char		*host;
	const char		*sitekey;
	int			 ok;
	const char		*err;	/* a substring of err, or NULL */
};

static const struct ocase ocases[] = {
	{ V2, SECRET, NULL, NULL, 0, 0, NULL, NULL, 1, NULL },
	{ T, SECRET, NULL, NULL, 0, 0, NULL, NULL, 1, NULL },
	{ T, SECRET, NULL, "contact", 0, 0, NULL, NULL, 1, NULL },
	{ H, SECRET, NULL, NULL, 0, 0, NULL, "site-key", 1, NULL },
	{ V3, SECRET, NULL, "contact", 0, 0, NULL, NULL, 1, NULL },
	{ V3, SECRET, NULL, "a/b_c", 1.0, 60000, NULL, NULL, 1, NULL },
	{ V2, SECRET, "https://example.com/v", NULL, 0, 1, "x.example", NULL,
	    1, NULL },
	{ V2, SECRET, "http://[::1]:1/v", NULL, 0, 0, NULL, NULL, 1, NULL },
	{ V2, SECRET, "http://127.1.2.3:1/v", NULL, 0, 0, NULL, NULL, 1,
	    NULL },
	{ V2, SECRET, "HTTPS://Example.COM/", NULL, 0, 0, NULL, NULL, 1,
	    NULL },
	/* The URL. */
	{ V2, SECRET, "http://192.0.2.1/v", NULL, 0, 0, NULL, NULL, 0,
	    "https://" },
	{ V2, SECRET, "http://127.0.0.1.example.com/v", NULL, 0, 0, NULL,
	    NULL, 0, "https://" },
	{ V2, SECRET, "http://localhost:1/v", NULL, 0, 0, NULL, NULL, 0,
	    "https://" },
	{ V2, SECRET, "http://[::2]:1/v", NULL, 0, 0, NULL, NULL, 0,
	    "https://" },
	{ V2, SECRET, "ftp://127.0.0.1/v", NULL, 0, 0, NULL, NULL, 0,
	    "https://" },
	{ V2, SECRET, "file:///etc/passwd", NULL, 0, 0, NULL, NULL, 0,
	    NULL },
	{ V2, SECRET, "not a url", NULL, 0, 0, NULL, NULL, 0, "not a URL" },
	{ V2, SECRET, "", NULL, 0, 0, NULL, NULL, 0, NULL },
	/* The secret. */
	{ V2, NULL, NULL, NULL, 0, 0, NULL, NULL, 0, "secret" },
	{ V2, "", NULL, NULL, 0, 0, NULL, NULL, 0, "secret" },
	{ V2, "test-Secret with space", NULL, NULL, 0, 0, NULL, NULL, 0,
	    "secret" },
	{ V2, "test-Secret\n", NULL, NULL, 0, 0, NULL, NULL, 0, "secret" },
	/* Action, score, timeout, hostnames, sitekey, kind. */
	{ V3, SECRET, NULL, NULL, 0, 0, NULL, NULL, 0, "needs an action" },
	{ V2, SECRET, NULL, "contact", 0, 0, NULL, NULL, 0, "no action" },
	{ H, SECRET, NULL, "contact", 0, 0, NULL, NULL, 0, "no action" },
	{ V3, SECRET, NULL, "con tact", 0, 0, NULL, NULL, 0, "action" },
	{ V3, SECRET, NULL, "", 0, 0, NULL, NULL, 0, "action" },
	{ V3, SECRET, NULL, "contact", 1.5, 0, NULL, NULL, 0, "min_score" },
	{ V3, SECRET, NULL, "contact", -0.1, 0, NULL, NULL, 0, "min_score" },
	{ V3, SECRET, NULL, "contact", NAN, 0, NULL, NULL, 0, "min_score" },
	{ V2, SECRET, NULL, NULL, 0, -1, NULL, NULL, 0, "timeout" },
	{ V2, SECRET, NULL, NULL, 0, 60001, NULL, NULL, 0, "timeout" },
	{ V2, SECRET, NULL, NULL, 0, 0, "exa mple.com", NULL, 0, "hostnames" },
	{ V2, SECRET, NULL, NULL, 0, 0, "", NULL, 0, "hostnames" },
	{ V2, SECRET, NULL, NULL, 0, 0, "a/b", NULL, 0, "hostnames" },
	{ T, SECRET, NULL, NULL, 0, 0, NULL, "site-key", 0, "sitekey" },
	{ H, SECRET, NULL, NULL, 0, 0, NULL, "site key", 0, "sitekey" },
	{ (enum captcha_kind)42, SECRET, NULL, NULL, 0, 0, NULL, NULL, 0,
	    "kind" },
};

static void
test_open(void)
{
	const struct ocase *oc;
	struct captcha_conf c;
	struct captcha	*h;
	char		 err[256], what[64], longsecret[CAPTCHA_MAX_SECRET + 2];
	const char	*hostv[1];
	size_t		 i;
	int		 rc;

	for (i = 0; i < sizeof(ocases) / sizeof(ocases[0]); i++) {
		oc = &ocases[i];
		memset(&c, 0, sizeof(c));
		c.kind = oc->kind;
		c.secret = oc->secret;
		c.verify_url = oc->url;
		c.action = oc->action;
		c.min_score = oc->min_score;
		c.timeout_ms = oc->timeout;
		c.sitekey = oc->sitekey;
		if (oc->host != NULL) {
			hostv[0] = oc->host;
			c.hostnames = hostv;
			c.nhostnames = 1;
		}
		snprintf(what, sizeof(what), "open case %zu", i);
		h = (struct captcha *)&c;	/* must be reset to NULL */
		err[0] = '\0';
		rc = captcha_open(&c, &h, err, sizeof(err));
		T_OK((rc == 0) == oc->ok && (rc == 0) == (h != NULL),
		    "%s: expected %s, got %d (%s)", what,
		    oc->ok ? "success" : "failure", rc, err);
		if (rc == -1)
			check_why(err, what);
		if (oc->err != NULL)
			T_OK(strstr(err, oc->err) != NULL, "%s: expected [%s] "
			    "in err, got [%s]", what, oc->err, err);
		captcha_close(h);
	}
	memset(&c, 0, sizeof(c));
	memset(longsecret, 'a', sizeof(longsecret) - 1);
	longsecret[sizeof(longsecret) - 1] = '\0';
	c.kind = V2;
	c.secret = longsecret;
	T_INT(captcha_open(&c, &h, err, sizeof(err)), -1, "secret too long");
	longsecret[CAPTCHA_MAX_SECRET] = '\0';
	T_INT(captcha_open(&c, &h, err, sizeof(err)), 0, err);
	captcha_close(h);
	c.secret = SECRET;
	c.nhostnames = CAPTCHA_MAX_HOSTNAMES + 1;
	c.hostnames = hosts;
	T_INT(captcha_open(&c, &h, err, sizeof(err)), -1, "too many hosts");
	captcha_close(NULL);
}

struct pcase {
	enum captcha_kind	 kind;
	int			 strict;	/* hostnames, action, 0.7 */
	const char		*json;
	size_t			 len;		/* 0: strlen */
	enum captcha_result	 want;
};

static const struct pcase pcases[] = {
	{ V2, 0, "{\"success\":true}", 0, CAPTCHA_OK },
	{ V2, 1, "{\"success\":true}", 0, CAPTCHA_REJECTED },
	{ V2, 1, "{\"success\":true,\"hostname\":\"example.com\"}", 0,
	    CAPTCHA_OK },
	{ V2, 1, "{\"success\":true,\"hostname\":\"example.com.\"}", 0,
	    CAPTCHA_REJECTED },
	{ V2, 1, "{\"success\":true,\"hostname\":\"xexample.com\"}", 0,
	    CAPTCHA_REJECTED },
	{ V2, 1, "{\"success\":true,\"hostname\":\"example.co\"}", 0,
	    CAPTCHA_REJECTED },
	{ V2, 1, "{\"success\":true,\"hostname\":\"example.com\\u0000\"}", 0,
	    CAPTCHA_UNAVAILABLE },
	{ V2, 1, "{\"success\":true,\"hostname\":\"\\u0065xample.com\"}", 0,
	    CAPTCHA_OK },
	{ V2, 0, "{\"success\":true,\"hostname\":5}", 0,
	    CAPTCHA_UNAVAILABLE },
	{ V2, 0, "{\"success\":true,\"action\":5,\"score\":\"x\"}", 0,
	    CAPTCHA_OK },
	{ V2, 0, "{\"success\":true,\"error-codes\":\"x\"}", 0,
	    CAPTCHA_UNAVAILABLE },
	{ V2, 0, "{\"success\":false,\"error-codes\":[1,\"bad-request\"]}",
	    0, CAPTCHA_UNAVAILABLE },
	{ V2, 0, "{\"success\":false,\"error-codes\":[\"timeout-or-duplicate"
	    "\"]}", 0, CAPTCHA_REJECTED },
	{ V2, 0, "{\"success\":false}", 0, CAPTCHA_REJECTED },
	{ T, 0, "{\"success\":false,\"error-codes\":[\"internal-error\"]}", 0,
	    CAPTCHA_UNAVAILABLE },
	{ H, 0, "{\"success\":false,\"error-codes\":[\"sitekey-secret-"
	    "mismatch\"]}", 0, CAPTCHA_UNAVAILABLE },
	{ V2, 0, "{\"success\":1}", 0, CAPTCHA_UNAVAILABLE },
	{ V2, 0, "{\"success\":null}", 0, CAPTCHA_UNAVAILABLE },
	{ V2, 0, "{\"Success\":true}", 0, CAPTCHA_UNAVAILABLE },
	{ V2, 0, "{\"success\":true", 0, CAPTCHA_UNAVAILABLE },
	{ V2, 0, "{\"success\":true}\0", 17, CAPTCHA_UNAVAILABLE },
	{ V2, 0, "", 0, CAPTCHA_UNAVAILABLE },
	{ V2, 0, "true", 0, CAPTCHA_UNAVAILABLE },
	{ V2, 0, "{\"success\":true,\"x\":\"\\ud800\"}", 0,
	    CAPTCHA_UNAVAILABLE },
	{ V2, 0, "{\"success\":true,\"x\":\"\377\"}", 0, CAPTCHA_UNAVAILABLE },
	{ V3, 0, "{\"success\":true,\"score\":1,\"action\":\"contact\"}", 0,
	    CAPTCHA_OK },
	{ V3, 1, "{\"success\":true,\"score\":0.7,\"action\":\"contact\","
	    "\"hostname\":\"example.com\"}", 0, CAPTCHA_OK },
	{ V3, 1, "{\"success\":true,\"score\":0.69,\"action\":\"contact\","
	    "\"hostname\":\"example.com\"}", 0, CAPTCHA_REJECTED },
	{ V3, 1, "{\"success\":true,\"score\":0.9,\"action\":\"Contact\","
	    "\"hostname\":\"example.com\"}", 0, CAPTCHA_REJECTED },
	{ V3, 1, "{\"success\":true,\"score\":0.9,\"action\":\"contact\\u0000"
	    "x\",\"hostname\":\"example.com\"}", 0, CAPTCHA_UNAVAILABLE },
	{ V3, 0, "{\"success\":true,\"score\":1.01}", 0, CAPTCHA_UNAVAILABLE },
	{ V3, 0, "{\"success\":true,\"score\":-0.01}", 0,
	    CAPTCHA_UNAVAILABLE },
	{ V3, 0, "{\"success\":true,\"score\":1e999}", 0,
	    CAPTCHA_UNAVAILABLE },
	{ V3, 0, "{\"success\":true,\"score\":0.9,\"action\":[]}", 0,
	    CAPTCHA_UNAVAILABLE },
	{ V3, 0, "{\"success\":false}", 0, CAPTCHA_REJECTED },
	{ V3, 0, "{\"success\":false,\"score\":\"x\"}", 0,
	    CAPTCHA_UNAVAILABLE },
	{ T, 1, "{\"success\":true,\"hostname\":\"www.example.com\","
	    "\"action\":\"contact\",\"cdata\":\"\"}", 0, CAPTCHA_OK },
	{ T, 0, "{\"success\":true,\"action\":7}", 0, CAPTCHA_UNAVAILABLE },
	{ H, 1, "{\"success\":true,\"hostname\":\"www.example.com\","
	    "\"score\":\"x\",\"action\":7}", 0, CAPTCHA_OK },
};

static void
test_parse(void)
{
	const struct pcase *pc;
	struct captcha_conf c;
	char		 why[WHY], what[64], *big;
	size_t		 i, len;
	enum captcha_result r;

	for (i = 0; i < sizeof(pcases) / sizeof(pcases[0]); i++) {
		pc = &pcases[i];
		memset(&c, 0, sizeof(c));
		c.kind = pc->kind;
		c.action = pc->kind == V3 ? "contact" : NULL;
		if (pc->strict) {
			c.hostnames = hosts;
			c.nhostnames = 2;
			c.min_score = 0.7;
			if (pc->kind == T)
				c.action = "contact";
		}
		len = pc->len ? pc->len : strlen(pc->json);
		snprintf(what, sizeof(what), "parse case %zu", i);
		r = captcha_parse_answer(&c, pc->json, len, why, sizeof(why));
		T_OK(r == pc->want, "%s: %s: expected %s, got %s (%s)", what,
		    pc->json, captcha_result_name(pc->want),
		    captcha_result_name(r), why);
		check_why(why, what);
	}
	/* The cap holds without the network too. */
	len = CAPTCHA_MAX_ANSWER + 1;
	if ((big = malloc(len)) != NULL) {
		memset(big, ' ', len);
		memcpy(big, "{\"success\":true}", 16);
		memset(&c, 0, sizeof(c));
		c.kind = V2;
		T_INT(captcha_parse_answer(&c, big, len, why, sizeof(why)),
		    CAPTCHA_UNAVAILABLE, "answer over the cap");
		T_INT(captcha_parse_answer(&c, big, len - 1, why, sizeof(why)),
		    CAPTCHA_OK, why);
		free(big);
	}
}

static void
test_names(void)
{
	T_STR(captcha_field(T), "cf-turnstile-response", "field turnstile");
	T_STR(captcha_field(H), "h-captcha-response", "field hcaptcha");
	T_STR(captcha_field(V2), "g-recaptcha-response", "field v2");
	T_STR(captcha_field(V3), "g-recaptcha-response", "field v3");
	T_OK(captcha_field((enum captcha_kind)9) == NULL, "unknown kind");
	T_STR(captcha_result_name(CAPTCHA_OK), "ok", "ok");
	T_STR(captcha_result_name(CAPTCHA_MISSING), "missing", "missing");
	T_STR(captcha_result_name(CAPTCHA_REJECTED), "rejected", "rejected");
	T_STR(captcha_result_name(CAPTCHA_UNAVAILABLE), "unavailable",
	    "unavailable");
	T_STR(captcha_result_name(CAPTCHA_BUSY), "busy", "busy");
	T_STR(captcha_kind_name(V3), "recaptcha-v3", "kind name");
}

/* The only slot file in d (NULL when none or several): path filled. */
static int
slot_file(const char *d, char *path, size_t size)
{
	DIR		*dp;
	struct dirent	*e;
	int		 n = 0;

	if ((dp = opendir(d)) == NULL)
		return 0;
	while ((e = readdir(dp)) != NULL)
		if (strncmp(e->d_name, "captcha-", 8) == 0) {
			snprintf(path, size, "%s/%s", d, e->d_name);
			n++;
		}
	closedir(dp);
	return n;
}

/*
 * The cap on calls in flight to one provider (issue 16, F12): with its
 * max_calls slots held elsewhere, a call is CAPTCHA_BUSY at once and
 * nothing is sent; another form of the same provider too; another
 * provider is unaffected; a slot given back serves again.
 */
static void
test_cap(void)
{
	struct captcha	*h1 = NULL, *h2 = NULL, *h3 = NULL;
	struct tconf	 t1, t2, t3;
	struct slots	 other;
	char		 sdir[256], path[512], ca[256], err[256], why[WHY];
	int		 before, n;
	double		 t0;
	enum captcha_result r;

	snprintf(sdir, sizeof(sdir), "%s/state", dir);
	if (mkdir(sdir, 0700) == -1) {
		T_OK(0, "mkdir %s: %s", sdir, strerror(errno));
		return;
	}
	tconf(&t1, V2);
	t1.c.slot_dir = sdir;
	T_INT(captcha_open(&t1.c, &h1, err, sizeof(err)), -1, "max_calls 0");
	T_OK(strstr(err, "max_calls") != NULL, "max_calls 0: [%s]", err);
	t1.c.max_calls = 1;
	T_INT(captcha_open(&t1.c, &h1, err, sizeof(err)), 0, err);
	tconf(&t2, V3);		/* another form, the same provider */
	t2.c.slot_dir = sdir;
	t2.c.max_calls = 1;
	T_INT(captcha_open(&t2.c, &h2, err, sizeof(err)), 0, err);
	T_INT(slot_file(sdir, path, sizeof(path)), 1, "one file per provider");
	T_INT(slots_open(&other, path, 1, err, sizeof(err)), 0, err);
	tconf(&t3, V3);		/* another provider: host and port differ */
	snprintf(t3.url, sizeof(t3.url), "https://127.0.0.1:%d/recaptcha3",
	    port_https);
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	t3.c.ca_file = ca;
	t3.c.slot_dir = sdir;
	t3.c.max_calls = 1;
	T_INT(captcha_open(&t3.c, &h3, err, sizeof(err)), 0, err);
	if (h1 == NULL || h2 == NULL || h3 == NULL || other.fd == -1)
		goto out;
	n = slot_file(sdir, path, sizeof(path));
	T_INT(n, 2, "two providers, two files");

	T_INT(slots_take(&other), 1, "the slot taken by another process");
	before = peer_requests(NULL);
	t0 = now();
	r = captcha_verify(h1, "ok", 2, NULL, why, sizeof(why));
	T_OK(r == CAPTCHA_BUSY, "cap full: expected busy, got %s (%s)",
	    captcha_result_name(r), why);
	T_OK(now() - t0 < 1.0, "busy at once: took %.2f s", now() - t0);
	T_OK(strstr(why, "in flight") != NULL, "busy: why [%s]", why);
	check_why(why, "busy");
	r = captcha_verify(h2, "ok", 2, NULL, why, sizeof(why));
	T_OK(r == CAPTCHA_BUSY, "same provider, other form: expected busy, "
	    "got %s (%s)", captcha_result_name(r), why);
	T_INT(peer_requests(NULL) - before, 0, "busy: nothing sent");
	r = captcha_verify(h3, "ok", 2, NULL, why, sizeof(why));
	T_OK(r == CAPTCHA_OK, "other provider: expected ok, got %s (%s)",
	    captcha_result_name(r), why);
	slots_give(&other);
	r = captcha_verify(h1, "ok", 2, NULL, why, sizeof(why));
	T_OK(r == CAPTCHA_OK, "slot given back: expected ok, got %s (%s)",
	    captcha_result_name(r), why);
	/* The call gave its slot back, after a timeout too. */
	T_INT(slots_take(&other), 1, "free after a call");
	slots_give(&other);
	r = captcha_verify(h1, "slow", 4, NULL, why, sizeof(why));
	T_OK(r == CAPTCHA_UNAVAILABLE, "slow: %s", why);
	T_INT(slots_take(&other), 1, "free after a timeout");
	slots_give(&other);
out:
	slots_close(&other);
	captcha_close(h1);
	captcha_close(h2);
	captcha_close(h3);
	snprintf(t1.url, sizeof(t1.url), "%s/no/such", dir);
	tconf(&t2, V2);
	t2.c.slot_dir = t1.url;
	t2.c.max_calls = 1;
	T_INT(captcha_open(&t2.c, &h2, err, sizeof(err)), -1, "no slot dir");
	T_OK(h2 == NULL && strstr(err, "no/such") != NULL, "no slot dir: "
	    "[%s]", err);
}

/*
 * The deadline covers the connect: a listener that never answers the
 * TLS handshake (the kernel completes TCP; nobody accepts) holds a call
 * for the timeout, no longer.
 */
static void
test_connect_deadline(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	struct captcha		*c = NULL;
	struct tconf		 t;
	char			 err[256], why[WHY];
	double			 t0, took;
	int			 fd;
	enum captcha_result	 r;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 8) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		T_OK(0, "listener: %s", strerror(errno));
		if (fd != -1)
			close(fd);
		return;
	}
	tconf(&t, V2);
	snprintf(t.url, sizeof(t.url), "https://127.0.0.1:%d/recaptcha",
	    ntohs(sin.sin_port));
	T_INT(captcha_open(&t.c, &c, err, sizeof(err)), 0, err);
	if (c != NULL) {
		t0 = now();
		r = captcha_verify(c, "ok", 2, NULL, why, sizeof(why));
		took = now() - t0;
		T_OK(r == CAPTCHA_UNAVAILABLE, "silent TLS peer: %s (%s)",
		    captcha_result_name(r), why);
		printf("silent TLS peer, timeout %d ms: %.2f s (%s)\n",
		    TIMEOUT, took, why);
		T_OK(took >= 0.8 && took < 2.5, "silent TLS peer: took %.2f s",
		    took);
	}
	captcha_close(c);
	close(fd);
}

/* The endpoint stopped: a kept connection and a new one both fail. */
static void
test_refused(void)
{
	struct captcha	*c = NULL;
	struct tconf	 t;
	char		 err[256], why[WHY];

	tconf(&t, V2);
	T_INT(captcha_open(&t.c, &c, err, sizeof(err)), 0, err);
	if (c == NULL)
		return;
	T_INT(captcha_verify(c, "ok", 2, NULL, why, sizeof(why)), CAPTCHA_OK,
	    why);
	peer_stop();
	T_INT(captcha_verify(c, "ok", 2, NULL, why, sizeof(why)),
	    CAPTCHA_UNAVAILABLE, why);
	check_why(why, "endpoint stopped");
	T_OK(strstr(why, "curl: ") != NULL, "endpoint stopped: why [%s]",
	    why);
	captcha_close(c);
}

int
main(void)
{
	char	 cmd[300];

	signal(SIGPIPE, SIG_IGN);
	test_names();
	test_open();
	test_parse();
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	peer_dir = dir;
	if (peer_start() == -1) {
		peer_stop();
		T_OK(0, "the fake siteverify endpoint did not start");
	} else {
		test_verify();
		test_body();
		test_tls();
		test_cap();
		test_connect_deadline();
		test_refused();
	}
	peer_stop();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	T_DONE();
}
