/*
 * test_challenge: ALTCHA challenges (challenge.h): a real create/solve/
 * verify round, tampered and malformed payloads, strict base64, limits,
 * and the key file.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "lib/buf.h"
#include "gate/challenge.h"
#include "t.h"

#define NOW	 1700000000L
#define TTL	 600L
#define MAXN	 1000L
#define NUM0	 737LL
#define NONCE	 "00112233445566778899aabbccddeeff"
#define SALT0	 NONCE "?expires=1700000600&issued=1700000000&"

static const unsigned char KEY[CHALLENGE_KEY_LEN] =
    "0123456789abcdefghijklmnopqrstu";	/* 31 + NUL: ASCII, as altcha-lib */
static const unsigned char KEY2[CHALLENGE_KEY_LEN] =
    "another key, same length......";

/* ---- helpers: an independent client ---------------------------------- */

static void
hex(const unsigned char *p, size_t n, char *out)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static void
sha256_hex(const char *salt, long long number, char out[65])
{
	char		 msg[1024];
	unsigned char	 md[32];
	unsigned int	 mdlen = 0;
	int		 n;

	n = snprintf(msg, sizeof(msg), "%s%lld", salt, number);
	if (n < 0 || (size_t)n >= sizeof(msg) ||
	    EVP_Digest(msg, (size_t)n, md, &mdlen, EVP_sha256(), NULL) != 1)
		abort();
	hex(md, 32, out);
}

static void
hmac_hex(const unsigned char *key, const char *chal, char out[65])
{
	unsigned char	 md[32];
	unsigned int	 mdlen = 0;

	if (HMAC(EVP_sha256(), key, CHALLENGE_KEY_LEN,
	    (const unsigned char *)chal, strlen(chal), md, &mdlen) == NULL)
		abort();
	hex(md, 32, out);
}

/* Standard base64 with padding, as the widget's btoa(). */
static void
b64(const char *in, size_t len, struct buf *out)
{
	static const char	 a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char	*u = (const unsigned char *)in;
	size_t			 i;
	unsigned long		 v;
	char			 q[4];

	buf_reset(out);
	for (i = 0; i < len; i += 3) {
		v = (unsigned long)u[i] << 16;
		if (i + 1 < len)
			v |= (unsigned long)u[i + 1] << 8;
		if (i + 2 < len)
			v |= u[i + 2];
		q[0] = a[v >> 18 & 63];
		q[1] = a[v >> 12 & 63];
		q[2] = i + 1 < len ? a[v >> 6 & 63] : '=';
		q[3] = i + 2 < len ? a[v & 63] : '=';
		if (buf_add(out, q, 4) == -1)
			abort();
	}
	if (out->data == NULL && buf_adds(out, "") == -1)
		abort();
}

static const char *
show(const char *s, size_t len)
{
	static char	 o[3000];
	size_t		 i, k = 0;

	for (i = 0; i < len && k + 8 < sizeof(o); i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			o[k++] = (char)c;
		else
			k += (size_t)snprintf(o + k, sizeof(o) - k, "\\x%02x", c);
	}
	o[k] = '\0';
	return o;
}

static enum challenge_result
verify_json(const char *json, long max, long min_s, long now)
{
	struct buf		 p = BUF_INIT;
	enum challenge_result	 r;
	char			 rk[CHALLENGE_REPLAY_KEY_SIZE];
	time_t			 exp;

	b64(json, strlen(json), &p);
	r = challenge_verify(KEY, p.data, p.len, max, min_s, now, rk,
	    sizeof(rk), &exp);
	buf_free(&p);
	return r;
}

/* ---- create, solve like the widget, verify --------------------------- */

struct solved {
	char		 chal[65], sig[65], salt[256];
	long long	 number, maxnumber;
};

static int
get_str(json_t *o, const char *k, char *dst, size_t size)
{
	json_t	*v = json_object_get(o, k);

	if (!json_is_string(v) || json_string_length(v) >= size)
		return -1;
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

/* Parses challenge_create() output and brute-forces the number from 0
 * up, as the widget does.  Returns 0 or -1. */
static int
solve(const char *json, struct solved *s)
{
	json_t		*o;
	json_error_t	 e;
	char		 h[65], alg[16];
	long long	 n;
	int		 rc = -1;

	if ((o = json_loads(json, JSON_REJECT_DUPLICATES, &e)) == NULL)
		return -1;
	if (json_object_size(o) != 5 ||
	    get_str(o, "algorithm", alg, sizeof(alg)) == -1 ||
	    strcmp(alg, "SHA-256") != 0 ||
	    get_str(o, "challenge", s->chal, sizeof(s->chal)) == -1 ||
	    get_str(o, "salt", s->salt, sizeof(s->salt)) == -1 ||
	    get_str(o, "signature", s->sig, sizeof(s->sig)) == -1 ||
	    !json_is_integer(json_object_get(o, "maxnumber")))
		goto out;
	s->maxnumber = json_integer_value(json_object_get(o, "maxnumber"));
	for (n = 0; n <= s->maxnumber; n++) {
		sha256_hex(s->salt, n, h);
		if (strcmp(h, s->chal) == 0) {
			s->number = n;
			rc = 0;
			break;
		}
	}
out:
	json_decref(o);
	return rc;
}

static void
payload_of(const struct solved *s, const char *extra, struct buf *json,
    struct buf *p)
{
	buf_reset(json);
	if (buf_printf(json, "{\"algorithm\":\"SHA-256\",\"challenge\":\"%s\","
	    "\"number\":%lld,\"salt\":\"%s\",\"signature\":\"%s\"%s}",
	    s->chal, s->number, s->salt, s->sig, extra) == -1)
		abort();
	b64(json->data, json->len, p);
}

static void
test_round_trip(void)
{
	struct buf		 out = BUF_INIT, json = BUF_INIT, p = BUF_INIT;
	struct solved		 s;
	char			 rk[CHALLENGE_REPLAY_KEY_SIZE], want[80], h[65];
	char			 salt[256];
	time_t			 exp;
	enum challenge_result	 r;
	int			 i;

	for (i = 0; i < 5; i++) {
		buf_reset(&out);
		T_INT(challenge_create(KEY, MAXN, NOW, TTL, &out), 0, "create");
		T_OK(solve(out.data, &s) == 0, "unsolvable: %s", out.data);
		T_INT(s.maxnumber, MAXN, "maxnumber");
		T_OK(strlen(s.salt) == 32 + 38 && strspn(s.salt,
		    "0123456789abcdef") == 32, "salt nonce: %s", s.salt);
		T_STR(s.salt + 32, "?expires=1700000600&issued=1700000000&",
		    "salt parameters");
		hmac_hex(KEY, s.chal, h);
		T_STR(s.sig, h, "signature = HMAC(key, challenge)");

		payload_of(&s, i % 2 ? ",\"took\":1532.7" : "", &json, &p);
		memset(rk, 'x', sizeof(rk));
		exp = 1;
		r = challenge_verify(KEY, p.data, p.len, MAXN, 0, NOW + 1, rk,
		    sizeof(rk), &exp);
		T_STR(challenge_result_name(r), "ok", json.data);
		snprintf(want, sizeof(want), "altcha:%s", s.sig);
		T_STR(rk, want, "replay key");
		T_INT(exp, NOW + TTL, "expires");

		/* The same solution, encoded otherwise: same replay key. */
		payload_of(&s, ",\"took\":99", &json, &p);
		rk[0] = '\0';
		r = challenge_verify(KEY, p.data, p.len, MAXN, 0, NOW + 1, rk,
		    sizeof(rk), NULL);
		T_STR(challenge_result_name(r), "ok", json.data);
		T_STR(rk, want, "replay key, other took");

		/* Tampering with the real thing. */
		s.number++;
		payload_of(&s, "", &json, &p);
		T_STR(challenge_result_name(challenge_verify(KEY, p.data, p.len,
		    MAXN, 0, NOW + 1, rk, sizeof(rk), &exp)), "bad_solution",
		    json.data);
		T_STR(rk, "", "replay key after failure");
		T_INT(exp, 0, "expires after failure");
		s.number--;
		memcpy(salt, s.salt, sizeof(salt));
		memcpy(strstr(s.salt, "expires=") + 8, "2", 1);
		payload_of(&s, "", &json, &p);
		T_STR(challenge_result_name(challenge_verify(KEY, p.data, p.len,
		    MAXN, 0, NOW + 1, NULL, 0, NULL)), "bad_solution", json.data);
		memcpy(s.salt, salt, sizeof(salt));
		s.sig[10] = s.sig[10] == 'a' ? 'b' : 'a';
		payload_of(&s, "", &json, &p);
		T_STR(challenge_result_name(challenge_verify(KEY, p.data, p.len,
		    MAXN, 0, NOW + 1, NULL, 0, NULL)), "bad_signature",
		    json.data);
		s.sig[10] = h[10];
		payload_of(&s, "", &json, &p);
		T_STR(challenge_result_name(challenge_verify(KEY2, p.data, p.len,
		    MAXN, 0, NOW + 1, NULL, 0, NULL)), "bad_signature",
		    "another key");
		T_STR(challenge_result_name(challenge_verify(KEY, p.data, p.len,
		    MAXN, 30, NOW + 1, NULL, 0, NULL)), "too_fast",
		    "min_seconds 30 after 1 s");
		T_STR(challenge_result_name(challenge_verify(KEY, p.data, p.len,
		    MAXN, 30, NOW + TTL, NULL, 0, NULL)), "expired",
		    "at expiry");

		/* replay_keysize below the documented minimum. */
		T_STR(challenge_result_name(challenge_verify(KEY, p.data, p.len,
		    MAXN, 0, NOW + 1, rk, CHALLENGE_REPLAY_KEY_SIZE - 1, NULL)),
		    "malformed", "replay_keysize too small");
		T_STR(challenge_result_name(challenge_verify(KEY, p.data, p.len,
		    MAXN, 0, NOW + 1, rk, CHALLENGE_REPLAY_KEY_SIZE, NULL)),
		    "ok", "replay_keysize exact");
	}
	buf_free(&out);
	buf_free(&json);
	buf_free(&p);
}

/* Every number of [0, max] comes out, and nothing beyond. */
static void
test_number_range(void)
{
	static const long	 maxes[] = { 1, 3, 7 };
	struct buf		 out = BUF_INIT;
	struct solved		 s;
	unsigned		 seen;
	size_t			 m;
	int			 i;

	for (m = 0; m < sizeof(maxes) / sizeof(maxes[0]); m++) {
		seen = 0;
		for (i = 0; i < 400; i++) {
			buf_reset(&out);
			if (challenge_create(KEY, maxes[m], NOW, TTL, &out) != 0 ||
			    solve(out.data, &s) != 0) {
				T_OK(0, "max %ld: create/solve failed: %s",
				    maxes[m], out.data ? out.data : "(null)");
				break;
			}
			seen |= 1u << s.number;
		}
		T_INT(seen, (1u << (maxes[m] + 1)) - 1, "numbers seen (bitmap)");
	}
	buf_free(&out);
}

struct create_case {
	long	 max_number;
	long	 now;
	long	 ttl;
	int	 want;
};

static const struct create_case create_cases[] = {
	{ 1, NOW, TTL, 0 },
	{ CHALLENGE_MAX_NUMBER_MAX, NOW, TTL, 0 },
	{ MAXN, NOW, 1, 0 },
	{ MAXN, NOW, CHALLENGE_TTL_MAX, 0 },
	{ MAXN, 1, TTL, 0 },
	{ MAXN, (long)(CHALLENGE_TIME_MAX - TTL), TTL, 0 },
	{ 0, NOW, TTL, -1 },
	{ -1, NOW, TTL, -1 },
	{ CHALLENGE_MAX_NUMBER_MAX + 1, NOW, TTL, -1 },
	{ MAXN, NOW, 0, -1 },
	{ MAXN, NOW, -5, -1 },
	{ MAXN, NOW, CHALLENGE_TTL_MAX + 1, -1 },
	{ MAXN, 0, TTL, -1 },
	{ MAXN, -1, TTL, -1 },
	{ MAXN, (long)(CHALLENGE_TIME_MAX - TTL + 1), TTL, -1 },
};

static void
test_create_args(void)
{
	struct buf	 out = BUF_INIT, out2 = BUF_INIT;
	json_t		*o;
	json_error_t	 e;
	size_t		 i;
	char		 what[128], want[128];
	const char	*head = "prefix:{\"algorithm\":\"SHA-256\",\"challenge\":\"";
	const char	*s1, *s2;

	for (i = 0; i < sizeof(create_cases) / sizeof(create_cases[0]); i++) {
		const struct create_case *c = &create_cases[i];

		snprintf(what, sizeof(what), "create(max %ld, now %ld, ttl %ld)",
		    c->max_number, c->now, c->ttl);
		buf_reset(&out);
		if (buf_adds(&out, "prefix:") == -1)
			abort();
		T_INT(challenge_create(KEY, c->max_number, (time_t)c->now,
		    c->ttl, &out), c->want, what);
		if (c->want == -1) {
			T_STR(out.data, "prefix:", what);
			continue;
		}
		T_OK(strncmp(out.data, head, strlen(head)) == 0, "%s: %s", what,
		    out.data);
		o = json_loads(out.data + 7, JSON_REJECT_DUPLICATES, &e);
		T_OK(o != NULL && json_object_size(o) == 5, "%s: %s", what,
		    out.data);
		if (o == NULL)
			continue;
		T_INT(json_integer_value(json_object_get(o, "maxnumber")),
		    c->max_number, what);
		snprintf(want, sizeof(want), "?expires=%lld&issued=%ld&",
		    (long long)c->now + c->ttl, c->now);
		T_STR(strchr(json_string_value(json_object_get(o, "salt")),
		    '?'), want, what);
		json_decref(o);
	}
	/* Two challenges never share a nonce. */
	buf_reset(&out);
	T_OK(challenge_create(KEY, MAXN, NOW, TTL, &out) == 0 &&
	    challenge_create(KEY, MAXN, NOW, TTL, &out2) == 0 &&
	    (s1 = strstr(out.data, "\"salt\":\"")) != NULL &&
	    (s2 = strstr(out2.data, "\"salt\":\"")) != NULL &&
	    strncmp(s1, s2, 8 + 32) != 0,
	    "two challenges alike:\n%s\n%s", out.data, out2.data);
	buf_free(&out);
	buf_free(&out2);
}

/* ---- the table: payloads built from a template ----------------------- */

/*
 * Template placeholders: %C challenge, %G signature, %N number, %S salt
 * sent; %c %g the same with one hex digit changed, %n number + 1, %K %H
 * challenge and signature in upper case.  The challenge and signature are
 * those of (salt, number) under KEY; sent_salt, when set, replaces the salt
 * in the payload only.
 */
struct vcase {
	const char		*name;
	const char		*json;		/* NULL: J_STD */
	const char		*salt;		/* signed salt, NULL: SALT0 */
	long long		 number;	/* signed number */
	const char		*sent_salt;	/* NULL: the signed salt */
	long			 dnow;		/* now - NOW */
	long			 min_seconds;
	long			 max_number;	/* 0: MAXN */
	enum challenge_result	 want;
};

#define J_HEAD	"{\"algorithm\":\"SHA-256\",\"challenge\":\"%C\",\"number\":%N," \
		"\"salt\":\"%S\",\"signature\":\"%G\""
#define J_STD	J_HEAD "}"
#define J_ALG(a) "{\"algorithm\":" a ",\"challenge\":\"%C\",\"number\":%N," \
		"\"salt\":\"%S\",\"signature\":\"%G\"}"
#define J_CH(c)	"{\"algorithm\":\"SHA-256\",\"challenge\":" c ",\"number\":%N," \
		"\"salt\":\"%S\",\"signature\":\"%G\"}"
#define J_NUM(n) "{\"algorithm\":\"SHA-256\",\"challenge\":\"%C\",\"number\":" \
		n ",\"salt\":\"%S\",\"signature\":\"%G\"}"
#define J_SALT(s) "{\"algorithm\":\"SHA-256\",\"challenge\":\"%C\"," \
		"\"number\":%N,\"salt\":" s ",\"signature\":\"%G\"}"
#define J_SIG(g) "{\"algorithm\":\"SHA-256\",\"challenge\":\"%C\"," \
		"\"number\":%N,\"salt\":\"%S\",\"signature\":" g "}"
#define HEX63	"000000000000000000000000000000000000000000000000000000000000000"
#define HEX64	HEX63 "0"

#define OK	CHALLENGE_OK
#define MAL	CHALLENGE_MALFORMED
#define SIG	CHALLENGE_BAD_SIGNATURE
#define SOL	CHALLENGE_BAD_SOLUTION
#define EXP	CHALLENGE_EXPIRED
#define FAST	CHALLENGE_TOO_FAST

static const struct vcase vcases[] = {
	/* accepted */
	{ "canonical", NULL, NULL, NUM0, NULL, 0, 0, 0, OK },
	{ "took integer", J_HEAD ",\"took\":1234}", NULL, NUM0, NULL, 0, 0, 0, OK },
	{ "took real", J_HEAD ",\"took\":12.5}", NULL, NUM0, NULL, 0, 0, 0, OK },
	{ "took zero", J_HEAD ",\"took\":0}", NULL, NUM0, NULL, 0, 0, 0, OK },
	{ "took first", "{\"took\":3,\"algorithm\":\"SHA-256\",\"challenge\":"
	    "\"%C\",\"number\":%N,\"salt\":\"%S\",\"signature\":\"%G\"}",
	    NULL, NUM0, NULL, 0, 0, 0, OK },
	{ "other order, whitespace", " {\n\t\"signature\" : \"%G\", \"salt\":"
	    "\"%S\",\r\n\"number\":%N , \"challenge\":\"%C\",\"algorithm\":"
	    "\"SHA-256\" } \n", NULL, NUM0, NULL, 0, 0, 0, OK },
	{ "escaped salt text", J_SALT("\"" NONCE "\\u003fexpires=1700000600"
	    "\\u0026issued=1700000000&\""), NULL, NUM0, NULL, 0, 0, 0, OK },
	{ "altcha-lib order: issued, expires", NULL, NONCE "?issued=1700000000"
	    "&expires=1700000600&", NUM0, NULL, 0, 0, 0, OK },
	{ "number 0", NULL, NULL, 0, NULL, 0, 0, 0, OK },
	{ "number = max_number", NULL, NULL, MAXN, NULL, 0, 0, 0, OK },
	{ "max_number raised since", NULL, NULL, NUM0, NULL, 0, 0, 5000, OK },
	{ "nonce of 16", NULL, "0123456789abcdef?expires=1700000600&"
	    "issued=1700000000&", NUM0, NULL, 0, 0, 0, OK },
	{ "nonce of 128", NULL, HEX64 HEX64 "?expires=1700000600&"
	    "issued=1700000000&", NUM0, NULL, 0, 0, 0, OK },
	{ "one second before expiry", NULL, NULL, NUM0, NULL, 599, 0, 0, OK },
	{ "min_seconds just met", NULL, NULL, NUM0, NULL, 5, 5, 0, OK },
	{ "issued ahead, min_seconds 0", NULL, NULL, NUM0, NULL, -100, 0, 0, OK },
	{ "negative min_seconds is 0", NULL, NULL, NUM0, NULL, -100, -5, 0, OK },

	/* expired, too fast */
	{ "at expiry", NULL, NULL, NUM0, NULL, 600, 0, 0, EXP },
	{ "long expired", NULL, NULL, NUM0, NULL, 100000, 0, 0, EXP },
	{ "expired beats too fast", NULL, NULL, NUM0, NULL, 600, 1000, 0, EXP },
	{ "too fast by 1 s", NULL, NULL, NUM0, NULL, 4, 5, 0, FAST },
	{ "too fast, issued ahead", NULL, NULL, NUM0, NULL, -100, 5, 0, FAST },
	{ "too fast, at once", NULL, NULL, NUM0, NULL, 0, 1, 0, FAST },

	/* bad signature */
	{ "signature changed", J_SIG("\"%g\""), NULL, NUM0, NULL, 0, 0, 0, SIG },
	{ "challenge changed", J_CH("\"%c\""), NULL, NUM0, NULL, 0, 0, 0, SIG },
	{ "signature zero", J_SIG("\"" HEX64 "\""), NULL, NUM0, NULL, 0, 0, 0,
	    SIG },
	{ "challenge zero", J_CH("\"" HEX64 "\""), NULL, NUM0, NULL, 0, 0, 0,
	    SIG },
	{ "challenge and signature swapped", "{\"algorithm\":\"SHA-256\","
	    "\"challenge\":\"%G\",\"number\":%N,\"salt\":\"%S\","
	    "\"signature\":\"%C\"}", NULL, NUM0, NULL, 0, 0, 0, SIG },
	{ "bad signature beats expired", J_SIG("\"%g\""), NULL, NUM0, NULL,
	    9999, 0, 0, SIG },

	/* bad solution */
	{ "number + 1", J_NUM("%n"), NULL, NUM0, NULL, 0, 0, 0, SOL },
	{ "number -1", J_NUM("-1"), NULL, NUM0, NULL, 0, 0, 0, SOL },
	{ "number -0 (= 0)", J_NUM("-0"), NULL, NUM0, NULL, 0, 0, 0, SOL },
	{ "signed number above max_number", NULL, NULL, MAXN + 1, NULL, 0, 0,
	    0, SOL },
	{ "max_number lowered below it", NULL, NULL, NUM0, NULL, 0, 0, 500, SOL },
	{ "number INT64_MAX", J_NUM("9223372036854775807"), NULL, NUM0, NULL,
	    0, 0, 0, SOL },
	{ "number INT64_MIN", J_NUM("-9223372036854775808"), NULL, NUM0, NULL,
	    0, 0, 0, SOL },
	{ "expires pushed back", NULL, NULL, NUM0, NONCE "?expires=1700009999"
	    "&issued=1700000000&", 0, 0, 0, SOL },
	{ "expires pushed back, now late", NULL, NULL, NUM0, NONCE
	    "?expires=1700009999&issued=1700000000&", 5000, 0, 0, SOL },
	{ "issued moved back", NULL, NULL, NUM0, NONCE "?expires=1700000600"
	    "&issued=1600000000&", 0, 60, 0, SOL },
	{ "parameters swapped", NULL, NULL, NUM0, NONCE "?issued=1700000000"
	    "&expires=1700000600&", 0, 0, 0, SOL },
	{ "nonce changed", NULL, NULL, NUM0, "10112233445566778899aabbccddeeff"
	    "?expires=1700000600&issued=1700000000&", 0, 0, 0, SOL },

	/* splicing: digits of number moved into the salt keep the hash */
	{ "splice control", J_NUM("12345"), NULL, 12345, NULL, 0, 0, 100000,
	    OK },
	{ "spliced digit", J_NUM("2345"), NULL, 12345, SALT0 "1", 0, 0, 100000,
	    MAL },
	{ "signed salt without delimiter", NULL, NONCE "?expires=1700000600"
	    "&issued=1700000000", NUM0, NULL, 0, 0, 0, MAL },

	/* not a payload object */
	{ "empty JSON text", "", NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "array", "[]", NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "string", "\"x\"", NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "number", "42", NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "null", "null", NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "empty object", "{}", NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "cut JSON", J_HEAD, NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "garbage after", J_STD "x", NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "two objects", J_STD J_STD, NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "object in array", "[" J_STD "]", NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "NUL after object", J_STD "\\u0000", NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "single quotes", "{'algorithm':'SHA-256'}", NULL, NUM0, NULL, 0, 0,
	    0, MAL },

	/* members */
	{ "duplicate number", J_HEAD ",\"number\":%N}", NULL, NUM0, NULL, 0, 0,
	    0, MAL },
	{ "duplicate took", J_HEAD ",\"took\":1,\"took\":2}", NULL, NUM0, NULL,
	    0, 0, 0, MAL },
	{ "extra test", J_HEAD ",\"test\":true}", NULL, NUM0, NULL, 0, 0, 0,
	    MAL },
	{ "extra maxnumber", J_HEAD ",\"maxnumber\":1000}", NULL, NUM0, NULL,
	    0, 0, 0, MAL },
	{ "extra empty name", J_HEAD ",\"\":1}", NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "name with NUL", J_HEAD ",\"took\\u0000x\":1}", NULL, NUM0, NULL, 0,
	    0, 0, MAL },
	{ "Number capitalised", "{\"algorithm\":\"SHA-256\",\"challenge\":"
	    "\"%C\",\"Number\":%N,\"salt\":\"%S\",\"signature\":\"%G\"}",
	    NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "no algorithm", "{\"challenge\":\"%C\",\"number\":%N,\"salt\":\"%S\","
	    "\"signature\":\"%G\"}", NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "no challenge", "{\"algorithm\":\"SHA-256\",\"number\":%N,\"salt\":"
	    "\"%S\",\"signature\":\"%G\"}", NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "no number", "{\"algorithm\":\"SHA-256\",\"challenge\":\"%C\","
	    "\"salt\":\"%S\",\"signature\":\"%G\"}", NULL, NUM0, NULL, 0, 0, 0,
	    MAL },
	{ "no salt", "{\"algorithm\":\"SHA-256\",\"challenge\":\"%C\","
	    "\"number\":%N,\"signature\":\"%G\"}", NULL, NUM0, NULL, 0, 0, 0,
	    MAL },
	{ "no signature", "{\"algorithm\":\"SHA-256\",\"challenge\":\"%C\","
	    "\"number\":%N,\"salt\":\"%S\"}", NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "no signature, took instead", "{\"algorithm\":\"SHA-256\","
	    "\"challenge\":\"%C\",\"number\":%N,\"salt\":\"%S\",\"took\":1}",
	    NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "took string", J_HEAD ",\"took\":\"5\"}", NULL, NUM0, NULL, 0, 0, 0,
	    MAL },
	{ "took null", J_HEAD ",\"took\":null}", NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "took true", J_HEAD ",\"took\":true}", NULL, NUM0, NULL, 0, 0, 0, MAL },

	/* algorithm */
	{ "algorithm SHA-1", J_ALG("\"SHA-1\""), NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "algorithm sha-256", J_ALG("\"sha-256\""), NULL, NUM0, NULL, 0, 0, 0,
	    MAL },
	{ "algorithm SHA256", J_ALG("\"SHA256\""), NULL, NUM0, NULL, 0, 0, 0,
	    MAL },
	{ "algorithm SHA-512", J_ALG("\"SHA-512\""), NULL, NUM0, NULL, 0, 0, 0,
	    MAL },
	{ "algorithm trailing space", J_ALG("\"SHA-256 \""), NULL, NUM0, NULL,
	    0, 0, 0, MAL },
	{ "algorithm NUL", J_ALG("\"SHA-256\\u0000\""), NULL, NUM0, NULL, 0, 0,
	    0, MAL },
	{ "algorithm empty", J_ALG("\"\""), NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "algorithm number", J_ALG("256"), NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "algorithm null", J_ALG("null"), NULL, NUM0, NULL, 0, 0, 0, MAL },

	/* challenge, signature */
	{ "challenge upper case", J_CH("\"%K\""), NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "challenge 63 hex", J_CH("\"" HEX63 "\""), NULL, NUM0, NULL, 0, 0, 0,
	    MAL },
	{ "challenge 65 hex", J_CH("\"%C0\""), NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "challenge not hex", J_CH("\"g" HEX63 "\""), NULL, NUM0, NULL, 0, 0,
	    0, MAL },
	{ "challenge number", J_CH("0"), NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "challenge null", J_CH("null"), NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "challenge array", J_CH("[\"%C\"]"), NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "signature upper case", J_SIG("\"%H\""), NULL, NUM0, NULL, 0, 0, 0,
	    MAL },
	{ "signature 65 hex", J_SIG("\"%G0\""), NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "signature empty", J_SIG("\"\""), NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "signature NUL inside", J_SIG("\"" HEX63 "\\u0000\""), NULL, NUM0,
	    NULL, 0, 0, 0, MAL },

	/* number */
	{ "number string", J_NUM("\"%N\""), NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "number real", J_NUM("%N.0"), NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "number exponent", J_NUM("7.37e2"), NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "number 1e3", J_NUM("1e3"), NULL, 1000, NULL, 0, 0, 0, MAL },
	{ "number beyond int64", J_NUM("9223372036854775808"), NULL, NUM0,
	    NULL, 0, 0, 0, MAL },
	{ "number huge", J_NUM("99999999999999999999999999999999"), NULL,
	    NUM0, NULL, 0, 0, 0, MAL },
	{ "number leading zero", J_NUM("0737"), NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "number plus", J_NUM("+737"), NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "number hex", J_NUM("0x2e1"), NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "number true", J_NUM("true"), NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "number null", J_NUM("null"), NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "number array", J_NUM("[%N]"), NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "number NaN", J_NUM("NaN"), NULL, NUM0, NULL, 0, 0, 0, MAL },

	/* salt */
	{ "salt number", J_SALT("1"), NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "salt null", J_SALT("null"), NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "salt empty", NULL, NULL, NUM0, "", 0, 0, 0, MAL },
	{ "salt without delimiter", NULL, NULL, NUM0, NONCE "?expires="
	    "1700000600&issued=1700000000", 0, 0, 0, MAL },
	{ "salt without '?'", NULL, NULL, NUM0, NONCE "expires=1700000600"
	    "&issued=1700000000&", 0, 0, 0, MAL },
	{ "salt nonce only", NULL, NULL, NUM0, NONCE, 0, 0, 0, MAL },
	{ "salt nonce and '?'", NULL, NULL, NUM0, NONCE "?", 0, 0, 0, MAL },
	{ "no issued", NULL, NULL, NUM0, NONCE "?expires=1700000600&", 0, 0,
	    0, MAL },
	{ "no expires", NULL, NULL, NUM0, NONCE "?issued=1700000000&", 0, 0,
	    0, MAL },
	{ "expires twice", NULL, NULL, NUM0, NONCE "?expires=1700000600"
	    "&expires=1700000600&", 0, 0, 0, MAL },
	{ "issued twice", NULL, NULL, NUM0, NONCE "?issued=1700000000"
	    "&issued=1700000000&", 0, 0, 0, MAL },
	{ "third parameter", NULL, NULL, NUM0, SALT0 "foo=1&", 0, 0, 0, MAL },
	{ "parameter between", NULL, NULL, NUM0, NONCE "?expires=1700000600"
	    "&foo=1&issued=1700000000&", 0, 0, 0, MAL },
	{ "altcha-lib 'expire'", NULL, NULL, NUM0, NONCE "?expire=1700000600"
	    "&issued=1700000000&", 0, 0, 0, MAL },
	{ "leading zero", NULL, NULL, NUM0, NONCE "?expires=01700000600"
	    "&issued=1700000000&", 0, 0, 0, MAL },
	{ "zero time", NULL, NULL, NUM0, NONCE "?expires=0&issued=1700000000&",
	    0, 0, 0, MAL },
	{ "13 digits", NULL, NULL, NUM0, NONCE "?expires=1000000000000"
	    "&issued=1700000000&", 0, 0, 0, MAL },
	{ "12 digits (well-formed)", NULL, NULL, NUM0, NONCE
	    "?expires=999999999999&issued=1700000000&", 0, 0, 0, SOL },
	{ "empty value", NULL, NULL, NUM0, NONCE "?expires=&issued=1700000000&",
	    0, 0, 0, MAL },
	{ "no '='", NULL, NULL, NUM0, NONCE "?expires1700000600"
	    "&issued=1700000000&", 0, 0, 0, MAL },
	{ "signed value", NULL, NULL, NUM0, NONCE "?expires=+1700000600"
	    "&issued=1700000000&", 0, 0, 0, MAL },
	{ "negative value", NULL, NULL, NUM0, NONCE "?expires=-1700000600"
	    "&issued=1700000000&", 0, 0, 0, MAL },
	{ "double '&'", NULL, NULL, NUM0, NONCE "?expires=1700000600"
	    "&&issued=1700000000&", 0, 0, 0, MAL },
	{ "two '&' at end", NULL, NULL, NUM0, SALT0 "&", 0, 0, 0, MAL },
	{ "';' for '&'", NULL, NULL, NUM0, NONCE "?expires=1700000600"
	    ";issued=1700000000&", 0, 0, 0, MAL },
	{ "space", NULL, NULL, NUM0, NONCE "?expires=1700000600"
	    "& issued=1700000000&", 0, 0, 0, MAL },
	{ "upper-case name", NULL, NULL, NUM0, NONCE "?Expires=1700000600"
	    "&issued=1700000000&", 0, 0, 0, MAL },
	{ "nonce of 15", NULL, NULL, NUM0, "0123456789abcde?expires=1700000600"
	    "&issued=1700000000&", 0, 0, 0, MAL },
	{ "nonce of 129", NULL, NULL, NUM0, HEX64 HEX64 "0?expires=1700000600"
	    "&issued=1700000000&", 0, 0, 0, MAL },
	{ "nonce upper case", NULL, NULL, NUM0, "00112233445566778899AABBCCDDEEFF"
	    "?expires=1700000600&issued=1700000000&", 0, 0, 0, MAL },
	{ "nonce not hex", NULL, NULL, NUM0, "0011223344556677889gaabbccddeeff"
	    "?expires=1700000600&issued=1700000000&", 0, 0, 0, MAL },
	{ "no nonce", NULL, NULL, NUM0, "?expires=1700000600&issued=1700000000&",
	    0, 0, 0, MAL },
	{ "salt NUL", J_SALT("\"" NONCE "\\u0000?expires=1700000600&issued="
	    "1700000000&\""), NULL, NUM0, NULL, 0, 0, 0, MAL },
	{ "salt NUL at end", J_SALT("\"" SALT0 "\\u0000\""), NULL, NUM0, NULL,
	    0, 0, 0, MAL },
	{ "salt non-ASCII", J_SALT("\"" SALT0 "\\u00e9\""), NULL, NUM0, NULL,
	    0, 0, 0, MAL },
	{ "salt quote", J_SALT("\"" SALT0 "\\\"\""), NULL, NUM0, NULL, 0, 0, 0,
	    MAL },
	{ "salt long", NULL, NULL, NUM0, HEX64 HEX64 HEX64 "?expires="
	    "1700000600&issued=1700000000&", 0, 0, 0, MAL },
};

static void
expand(const char *t, const char *chal, const char *sig, const char *salt,
    long long number, struct buf *out)
{
	char	 alt[65];
	size_t	 i;

	buf_reset(out);
	for (; *t != '\0'; t++) {
		if (*t != '%') {
			if (buf_addc(out, *t) == -1)
				abort();
			continue;
		}
		t++;
		switch (*t) {
		case 'C':
		case 'G':
			if (buf_adds(out, *t == 'C' ? chal : sig) == -1)
				abort();
			break;
		case 'c':
		case 'g':
			snprintf(alt, sizeof(alt), "%s", *t == 'c' ? chal : sig);
			alt[20] = alt[20] == '7' ? '8' : '7';
			if (buf_adds(out, alt) == -1)
				abort();
			break;
		case 'K':
		case 'H':
			snprintf(alt, sizeof(alt), "%s", *t == 'K' ? chal : sig);
			for (i = 0; alt[i] != '\0'; i++)
				if (alt[i] >= 'a' && alt[i] <= 'f')
					alt[i] = (char)(alt[i] - 'a' + 'A');
			if (strcmp(alt, *t == 'K' ? chal : sig) == 0)
				abort();	/* no letter: not a test */
			if (buf_adds(out, alt) == -1)
				abort();
			break;
		case 'N':
		case 'n':
			if (buf_printf(out, "%lld", number + (*t == 'n')) == -1)
				abort();
			break;
		case 'S':
			if (buf_adds(out, salt) == -1)
				abort();
			break;
		default:
			abort();
		}
	}
	if (out->data == NULL && buf_adds(out, "") == -1)
		abort();
}

static void
test_table(void)
{
	struct buf		 json = BUF_INIT;
	char			 chal[65], sig[65];
	const char		*salt;
	size_t			 i;
	enum challenge_result	 r;

	for (i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++) {
		const struct vcase *c = &vcases[i];

		salt = c->salt != NULL ? c->salt : SALT0;
		sha256_hex(salt, c->number, chal);
		hmac_hex(KEY, chal, sig);
		expand(c->json != NULL ? c->json : J_STD, chal, sig,
		    c->sent_salt != NULL ? c->sent_salt : salt, c->number, &json);
		r = verify_json(json.data, c->max_number ? c->max_number : MAXN,
		    c->min_seconds, NOW + c->dnow);
		T_OK(r == c->want, "%s: expected %s, got %s\n  payload JSON %s",
		    c->name, challenge_result_name(c->want),
		    challenge_result_name(r), show(json.data, json.len));
	}
	buf_free(&json);
}

/* ---- strict base64 and the size cap ---------------------------------- */

struct b64_mut {
	const char	*name;
	int		 pad;	/* applies when the payload has this many '=' (-1 any) */
	void		 (*fn)(struct buf *);
};

static void
m_strip_pad(struct buf *b)
{
	while (b->len > 0 && b->data[b->len - 1] == '=')
		b->data[--b->len] = '\0';
}

/* Changes only the bits the padding leaves unused. */
static void
m_pad_bits(struct buf *b)
{
	static const char	 a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t			 k = b->len - 1;
	const char		*p;

	while (b->data[k] == '=')
		k--;
	p = strchr(a, b->data[k]);
	b->data[k] = a[(p - a) ^ 1];
}

static void
m_add(struct buf *b, const char *s, size_t len)
{
	if (buf_add(b, s, len) == -1)
		abort();
}

static void
m_nl(struct buf *b)
{
	m_add(b, "\n", 1);
}

static void
m_crlf(struct buf *b)
{
	m_add(b, "\r\n", 2);
}

static void
m_space(struct buf *b)
{
	m_add(b, " ", 1);
}

static void
m_nul(struct buf *b)
{
	m_add(b, "", 1);
}

static void
m_pad4(struct buf *b)
{
	m_add(b, "====", 4);
}

static void
m_pad1(struct buf *b)
{
	m_add(b, "=", 1);
}

static void
m_quad(struct buf *b)
{
	m_add(b, "AAAA", 4);
}

static void
m_set0(struct buf *b, char c)
{
	b->data[0] = c;
}

static void
m_dash(struct buf *b)
{
	m_set0(b, '-');
}

static void
m_under(struct buf *b)
{
	m_set0(b, '_');
}

static void
m_dot(struct buf *b)
{
	m_set0(b, '.');
}

static void
m_high(struct buf *b)
{
	m_set0(b, (char)0xc3);
}

static void
m_nul0(struct buf *b)
{
	b->data[4] = '\0';
}

static void
m_eq_mid(struct buf *b)
{
	b->data[4] = '=';
}

static void
m_tab_mid(struct buf *b)
{
	b->data[8] = '\t';
}

static void
m_drop_last(struct buf *b)
{
	b->data[--b->len] = '\0';
}

static void
m_inner_nl(struct buf *b)
{
	struct buf	 c = BUF_INIT;

	if (buf_add(&c, b->data, 76) == -1 || buf_add(&c, "\n", 1) == -1 ||
	    buf_add(&c, b->data + 76, b->len - 76) == -1)
		abort();
	buf_free(b);
	*b = c;
}

static void
m_lead_space(struct buf *b)
{
	struct buf	 c = BUF_INIT;

	if (buf_add(&c, " ", 1) == -1 || buf_add(&c, b->data, b->len) == -1)
		abort();
	buf_free(b);
	*b = c;
}

/* url-safe alphabet: valid elsewhere, not here. */
static void
m_urlsafe(struct buf *b)
{
	size_t	 i;

	for (i = 0; i < b->len; i++)
		if (b->data[i] == '+')
			b->data[i] = '-';
		else if (b->data[i] == '/')
			b->data[i] = '_';
}

static const struct b64_mut b64_muts[] = {
	{ "padding stripped", 1, m_strip_pad },
	{ "padding stripped", 2, m_strip_pad },
	{ "non-zero pad bits", 1, m_pad_bits },
	{ "non-zero pad bits", 2, m_pad_bits },
	{ "trailing LF", -1, m_nl },
	{ "trailing CRLF", -1, m_crlf },
	{ "trailing space", -1, m_space },
	{ "trailing NUL", -1, m_nul },
	{ "extra ====", -1, m_pad4 },
	{ "extra =", -1, m_pad1 },
	{ "data after padding", 1, m_quad },
	{ "data after padding", 2, m_quad },
	{ "'-'", -1, m_dash },
	{ "'_'", -1, m_under },
	{ "'.'", -1, m_dot },
	{ "octet 0xc3", -1, m_high },
	{ "NUL inside", -1, m_nul0 },
	{ "'=' inside", -1, m_eq_mid },
	{ "TAB inside", -1, m_tab_mid },
	{ "LF after 76", -1, m_inner_nl },
	{ "leading space", -1, m_lead_space },
	{ "last octet dropped", -1, m_drop_last },
	{ "url-safe alphabet", -1, m_urlsafe },
};

static void
test_base64(void)
{
	struct buf		 json = BUF_INIT, p = BUF_INIT, q = BUF_INIT;
	char			 chal[65], sig[65], what[128];
	size_t			 i, target;
	int			 pad, tried;
	enum challenge_result	 r;

	sha256_hex(SALT0, NUM0, chal);
	hmac_hex(KEY, chal, sig);
	/* JSON whitespace steers the length: 0, 2 and 1 '=' in turn. */
	for (pad = 0; pad <= 2; pad++) {
		expand(J_STD, chal, sig, SALT0, NUM0, &json);
		while (json.len % 3 != (size_t)(3 - pad) % 3)
			if (buf_adds(&json, " ") == -1)
				abort();
		b64(json.data, json.len, &p);
		snprintf(what, sizeof(what), "payload with %d '=' (%.16s)", pad,
		    show(p.data + p.len - 4, 4));
		T_INT(p.len - strcspn(p.data, "="), pad, what);
		T_STR(challenge_result_name(challenge_verify(KEY, p.data, p.len,
		    MAXN, 0, NOW, NULL, 0, NULL)), "ok", what);
		tried = 0;
		for (i = 0; i < sizeof(b64_muts) / sizeof(b64_muts[0]); i++) {
			if (b64_muts[i].pad != -1 && b64_muts[i].pad != pad)
				continue;
			buf_reset(&q);
			if (buf_add(&q, p.data, p.len) == -1)
				abort();
			b64_muts[i].fn(&q);
			if (q.len == p.len && memcmp(q.data, p.data, p.len) == 0)
				continue;	/* url-safe: nothing to change */
			tried++;
			r = challenge_verify(KEY, q.data, q.len, MAXN, 0, NOW,
			    NULL, 0, NULL);
			T_OK(r == CHALLENGE_MALFORMED, "%s, %s: expected "
			    "malformed, got %s\n  %s", what, b64_muts[i].name,
			    challenge_result_name(r), show(q.data, q.len));
		}
		T_OK(tried >= 16, "%s: only %d mutations applied", what, tried);
	}

	/* Raw junk. */
	{
		static const char *const junk[] = { "", "=", "==", "====",
		    "A", "AA", "AAA", "AAAA", "AA==", "AAA=", "e30=", "e30",
		    "W10=", "bnVsbA==", "!!!!", "e30=e30=" };

		for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
			T_STR(challenge_result_name(challenge_verify(KEY,
			    junk[i], strlen(junk[i]), MAXN, 0, NOW, NULL, 0,
			    NULL)), "malformed", junk[i]);
	}

	/* The cap: 1536 JSON octets are 2048 of base64, the most allowed. */
	for (target = 1534; target <= 1540; target++) {
		expand(J_STD, chal, sig, SALT0, NUM0, &json);
		while (json.len < target)
			if (buf_adds(&json, " ") == -1)
				abort();
		b64(json.data, json.len, &p);
		snprintf(what, sizeof(what), "JSON of %zu, payload of %zu",
		    json.len, p.len);
		T_STR(challenge_result_name(challenge_verify(KEY, p.data, p.len,
		    MAXN, 0, NOW, NULL, 0, NULL)), p.len <= CHALLENGE_PAYLOAD_MAX ?
		    "ok" : "malformed", what);
	}
	/* Huge, and never read past len. */
	buf_reset(&q);
	for (i = 0; i < 100000; i++)
		if (buf_adds(&q, "AAAA") == -1)
			abort();
	T_STR(challenge_result_name(challenge_verify(KEY, q.data, q.len, MAXN,
	    0, NOW, NULL, 0, NULL)), "malformed", "400 kB payload");
	expand(J_STD, chal, sig, SALT0, NUM0, &json);
	b64(json.data, json.len, &p);
	if (buf_adds(&p, "garbage after len") == -1)
		abort();
	T_STR(challenge_result_name(challenge_verify(KEY, p.data,
	    p.len - strlen("garbage after len"), MAXN, 0, NOW, NULL, 0, NULL)),
	    "ok", "octets after len ignored");

	buf_free(&json);
	buf_free(&p);
	buf_free(&q);
}

static void
test_names(void)
{
	static const char *const names[] = { "ok", "malformed",
	    "bad_signature", "bad_solution", "expired", "too_fast" };
	int	 i;

	for (i = 0; i <= CHALLENGE_TOO_FAST; i++)
		T_STR(challenge_result_name((enum challenge_result)i), names[i],
		    "result name");
	T_STR(challenge_result_name((enum challenge_result)99), "unknown",
	    "result name 99");
}

/* ---- key file --------------------------------------------------------- */

static char	 dir[] = "/tmp/f2m-test-challenge-XXXXXX";

static int
entries(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
write_file(const char *path, const void *p, size_t len, mode_t mode)
{
	int	 fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    write(fd, p, len) != (ssize_t)len || fchmod(fd, mode) == -1 ||
	    close(fd) == -1) {
		perror(path);
		abort();
	}
}

static int
is_zero(const unsigned char *k)
{
	int	 i;

	for (i = 0; i < CHALLENGE_KEY_LEN; i++)
		if (k[i] != 0)
			return 0;
	return 1;
}

struct bad_key {
	const char	*name;
	size_t		 len;		/* octets written */
	mode_t		 mode;
};

static const struct bad_key bad_keys[] = {
	{ "empty", 0, 0600 },
	{ "31 octets", 31, 0600 },
	{ "33 octets", 33, 0600 },
	{ "64 octets (hex text?)", 64, 0600 },
	{ "group readable", 32, 0640 },
	{ "others readable", 32, 0604 },
	{ "group writable", 32, 0620 },
	{ "world", 32, 0666 },
};

static void
test_key_file(void)
{
	unsigned char	 k1[CHALLENGE_KEY_LEN], k2[CHALLENGE_KEY_LEN];
	unsigned char	 k3[CHALLENGE_KEY_LEN], junk[64];
	char		 p1[256], p2[256], p[256], err[256];
	struct stat	 st;
	size_t		 i;
	int		 fds[2], n, status, same;
	pid_t		 pid;

	snprintf(p1, sizeof(p1), "%s/hmac.key", dir);
	snprintf(p2, sizeof(p2), "%s/other.key", dir);
	err[0] = '\0';
	T_INT(challenge_key_load(p1, k1, err, sizeof(err)), 0, err);
	T_OK(stat(p1, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & 07777) == 0600 && st.st_size == CHALLENGE_KEY_LEN,
	    "key file: mode %o size %lld", (unsigned)st.st_mode,
	    (long long)st.st_size);
	T_INT(entries(), 1, "files in dir after create (no temporary left)");
	T_OK(!is_zero(k1), "key all zero");
	T_INT(challenge_key_load(p1, k2, err, sizeof(err)), 0, err);
	T_OK(memcmp(k1, k2, sizeof(k1)) == 0, "reloaded key differs");
	T_INT(challenge_key_load(p2, k3, err, sizeof(err)), 0, err);
	T_OK(memcmp(k1, k3, sizeof(k1)) != 0, "two new keys alike");

	/* An operator's key is taken as it is. */
	snprintf(p, sizeof(p), "%s/given.key", dir);
	write_file(p, KEY, sizeof(KEY), 0600);
	T_INT(challenge_key_load(p, k2, err, sizeof(err)), 0, err);
	T_OK(memcmp(k2, KEY, sizeof(KEY)) == 0, "given key not read as is");
	write_file(p, KEY, sizeof(KEY), 0400);
	T_INT(challenge_key_load(p, k2, err, sizeof(err)), 0, "mode 0400");

	memset(junk, 'k', sizeof(junk));
	for (i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++) {
		snprintf(p, sizeof(p), "%s/bad%zu.key", dir, i);
		write_file(p, junk, bad_keys[i].len, bad_keys[i].mode);
		memset(k2, 0xff, sizeof(k2));
		err[0] = '\0';
		T_INT(challenge_key_load(p, k2, err, sizeof(err)), -1,
		    bad_keys[i].name);
		T_OK(strstr(err, p) != NULL, "%s: err [%s]", bad_keys[i].name,
		    err);
		T_OK(is_zero(k2), "%s: key not wiped", bad_keys[i].name);
		T_OK(stat(p, &st) == 0 && st.st_size == (off_t)bad_keys[i].len,
		    "%s: file changed", bad_keys[i].name);
	}

	/* Another user's key: they know it, so it is refused (as root the
	 * test can make one; otherwise the check is reported skipped). */
	snprintf(p, sizeof(p), "%s/theirs.key", dir);
	write_file(p, KEY, sizeof(KEY), 0600);
	if (geteuid() == 0) {
		T_OK(chown(p, 65534, 65534) == 0, "chown: %s", strerror(errno));
		memset(k2, 0xff, sizeof(k2));
		err[0] = '\0';
		T_INT(challenge_key_load(p, k2, err, sizeof(err)), -1,
		    "key owned by uid 65534");
		T_OK(strstr(err, "owned by uid 65534") != NULL, "err [%s]", err);
		T_OK(is_zero(k2), "another user's key: not wiped");
		T_OK(chown(p, 0, 0) == 0, "chown: %s", strerror(errno));
		T_INT(challenge_key_load(p, k2, err, sizeof(err)), 0,
		    "chowned back to root: loaded");
	} else {
		T_SKIP("another user's key", "needs root to chown");
	}

	snprintf(p, sizeof(p), "%s/link.key", dir);
	T_OK(symlink(p1, p) == 0, "symlink: %s", strerror(errno));
	err[0] = '\0';
	T_INT(challenge_key_load(p, k2, err, sizeof(err)), -1, "symlink");
	T_OK(strstr(err, "symbolic link") != NULL, "symlink: err [%s]", err);
	snprintf(p, sizeof(p), "%s/dangling.key", dir);
	T_OK(symlink("/nonexistent/f2m", p) == 0, "symlink: %s",
	    strerror(errno));
	T_INT(challenge_key_load(p, k2, err, sizeof(err)), -1,
	    "dangling symlink");
	snprintf(p, sizeof(p), "%s/subdir", dir);
	T_OK(mkdir(p, 0700) == 0, "mkdir: %s", strerror(errno));
	T_INT(challenge_key_load(p, k2, err, sizeof(err)), -1, "directory");
	snprintf(p, sizeof(p), "%s/fifo", dir);
	T_OK(mkfifo(p, 0600) == 0, "mkfifo: %s", strerror(errno));
	T_INT(challenge_key_load(p, k2, err, sizeof(err)), -1, "FIFO");
	snprintf(p, sizeof(p), "%s/missing/hmac.key", dir);
	err[0] = '\0';
	T_INT(challenge_key_load(p, k2, err, sizeof(err)), -1, "no parent");
	T_OK(err[0] != '\0', "no parent: empty err");

	/* Eight processes create one key at once: all end with the same. */
	snprintf(p, sizeof(p), "%s/race.key", dir);
	if (pipe(fds) == -1)
		abort();
	for (n = 0; n < 8; n++) {
		if ((pid = fork()) == -1)
			abort();
		if (pid == 0) {
			close(fds[0]);
			if (challenge_key_load(p, k2, err, sizeof(err)) == -1) {
				fprintf(stderr, "child: %s\n", err);
				_exit(1);
			}
			_exit(write(fds[1], k2, sizeof(k2)) ==
			    (ssize_t)sizeof(k2) ?
			    0 : 1);
		}
	}
	close(fds[1]);
	same = 0;
	while (wait(&status) > 0)
		T_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "racing child failed");
	T_INT(challenge_key_load(p, k1, err, sizeof(err)), 0, err);
	while (read(fds[0], k2, sizeof(k2)) == (ssize_t)sizeof(k2))
		same += memcmp(k1, k2, sizeof(k1)) == 0;
	close(fds[0]);
	T_INT(same, 8, "racing processes with the file's key");
	T_INT(entries(), 17, "files in dir after the race (no temporary left)");
}

static void
cleanup(void)
{
	DIR		*d;
	struct dirent	*de;
	char		 p[512];

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (unlink(p) == -1)
			rmdir(p);
	}
	closedir(d);
	rmdir(dir);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_names();
	test_round_trip();
	test_number_range();
	test_create_args();
	test_table();
	test_base64();
	test_key_file();
	cleanup();
	T_DONE();
}
