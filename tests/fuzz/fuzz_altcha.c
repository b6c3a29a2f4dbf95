/*
 * fuzz_altcha: challenge_verify() on hostile payloads.  The first octet
 * picks the mode (octet % 3) and min_seconds (octet / 3 % 8):
 *
 *  0  the rest is the form field as posted (base64);
 *  1  the rest is JSON text, base64-encoded here first;
 *  2  the rest is number (8 octets, big-endian, two's complement), now -
 *     FZ_NOW (2 octets, signed) and a salt; the payload is built and
 *     signed here with FZ_KEY, so the salt grammar, range, expiry and
 *     timing checks are reached with a valid signature.
 *
 * Invariants (abort() on violation):
 *  - the same input gives the same result and replay key twice; the
 *    result is one of the enum; a payload over CHALLENGE_PAYLOAD_MAX is
 *    CHALLENGE_MALFORMED; on failure replay_key is "" and *expires 0;
 *  - on CHALLENGE_OK replay_key is "altcha:" + 64 lowercase hex, the
 *    "signature" member of the decoded JSON, and now < *expires;
 *  - mode 0: any result but CHALLENGE_MALFORMED means the input is
 *    canonical base64 (OpenSSL decodes and re-encodes it to the same text);
 *  - mode 1: any result but CHALLENGE_MALFORMED means jansson parses the
 *    text to an object of 5 or 6 members with a 64-character "signature";
 *  - mode 2: the result is what an independent model of the contract
 *    (salt grammar written here differently, then range, expiry, timing)
 *    predicts; a changed signature digit gives CHALLENGE_BAD_SIGNATURE and
 *    number + 1 CHALLENGE_BAD_SOLUTION where the salt is well-formed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "lib/buf.h"
#include "gate/challenge.h"

#define FZ_NOW		 1700000000LL
#define FZ_MAXN		 1000000L
#define FZ_SALT_MAX	 1400	/* beyond, the payload passes the cap */

static const unsigned char FZ_KEY[CHALLENGE_KEY_LEN] =
    "form2mail fuzz key, 32 octets..";

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fz_b64(const void *in, size_t len, struct buf *out)
{
	unsigned char	*o;
	int		 n;

	buf_reset(out);
	if (len > INT32_MAX / 2 || buf_reserve(out, (len + 2) / 3 * 4 + 1) == -1)
		abort();
	o = (unsigned char *)out->data;
	n = EVP_EncodeBlock(o, in, (int)len);
	if (n < 0)
		abort();
	out->len = (size_t)n;
	out->data[n] = '\0';
}

/* Canonical base64 iff OpenSSL decodes it and encodes it back alike. */
static int
fz_canonical_b64(const char *in, size_t len, struct buf *raw)
{
	struct buf	 again = BUF_INIT;
	size_t		 pad = 0, i;
	int		 n, ok = 0;

	buf_reset(raw);
	if (len == 0 || len % 4 != 0 || len > INT32_MAX / 2 ||
	    memchr(in, '\0', len) != NULL)
		return 0;
	for (i = len; i > 0 && in[i - 1] == '='; i--)
		pad++;
	if (buf_reserve(raw, len / 4 * 3 + 1) == -1)
		abort();
	n = EVP_DecodeBlock((unsigned char *)raw->data,
	    (const unsigned char *)in, (int)len);
	if (n < 0 || (size_t)n < pad)
		goto out;
	raw->len = (size_t)n - pad;	/* EVP_DecodeBlock keeps pad zeros */
	raw->data[raw->len] = '\0';
	fz_b64(raw->data, raw->len, &again);
	ok = again.len == len && memcmp(again.data, in, len) == 0;
out:
	buf_free(&again);
	return ok;
}

static void
fz_hex(const unsigned char *p, size_t n, char *out)
{
	static const char	 d[] = "0123456789abcdef";
	size_t			 i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* The model of the salt grammar: split on '?' and '&', then look. */
static int
fz_time(const char *v, size_t len, long long *t)
{
	size_t	 i;

	if (len < 1 || len > 12 || v[0] == '0')
		return 0;
	*t = 0;
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return 0;
		*t = *t * 10 + (v[i] - '0');
	}
	return 1;
}

static int
fz_salt_ok(const char *s, size_t len, long long *expires, long long *issued)
{
	const char	*q, *amp, *rest, *end = s + len, *eq;
	size_t		 i, nonce;
	int		 k, seen_e = 0, seen_i = 0;
	long long	 t;

	if ((q = memchr(s, '?', len)) == NULL)
		return 0;
	nonce = (size_t)(q - s);
	if (nonce < 16 || nonce > 128)
		return 0;
	for (i = 0; i < nonce; i++)
		if (strchr("0123456789abcdef", s[i]) == NULL || s[i] == '\0')
			return 0;
	if (len == 0 || s[len - 1] != '&')
		return 0;
	rest = q + 1;
	for (k = 0; rest < end; k++) {
		if (k == 2 || (amp = memchr(rest, '&', (size_t)(end - rest))) ==
		    NULL || (eq = memchr(rest, '=', (size_t)(amp - rest))) == NULL)
			return 0;
		if (!fz_time(eq + 1, (size_t)(amp - eq - 1), &t))
			return 0;
		if (eq - rest == 7 && memcmp(rest, "expires", 7) == 0 &&
		    !seen_e) {
			seen_e = 1;
			*expires = t;
		} else if (eq - rest == 6 && memcmp(rest, "issued", 6) == 0 &&
		    !seen_i) {
			seen_i = 1;
			*issued = t;
		} else
			return 0;
		rest = amp + 1;
	}
	return seen_e && seen_i;
}

/* JSON string body for octets: what a sender might write. */
static void
fz_json_str(struct buf *b, const char *s, size_t len)
{
	size_t	 i;
	int	 rc = 0;

	for (i = 0; i < len && rc == 0; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\' || c < 0x20 || c == 0x7f)
			rc = buf_printf(b, "\\u%04x", c);
		else
			rc = buf_addc(b, c);
	}
	if (rc == -1)
		abort();
}

static enum challenge_result
fz_verify(const char *p, size_t len, long min_s, long long now,
    char rk[CHALLENGE_REPLAY_KEY_SIZE], time_t *exp)
{
	char			 rk2[CHALLENGE_REPLAY_KEY_SIZE];
	time_t			 exp2;
	enum challenge_result	 r, r2;

	memset(rk, 'x', CHALLENGE_REPLAY_KEY_SIZE);
	*exp = 12345;
	r = challenge_verify(FZ_KEY, p, len, FZ_MAXN, min_s, (time_t)now, rk,
	    CHALLENGE_REPLAY_KEY_SIZE, exp);
	r2 = challenge_verify(FZ_KEY, p, len, FZ_MAXN, min_s, (time_t)now, rk2,
	    sizeof(rk2), &exp2);
	if (r != r2 || strcmp(rk, rk2) != 0 || *exp != exp2)
		abort();
	if ((unsigned)r > CHALLENGE_TOO_FAST ||
	    strcmp(challenge_result_name(r), "unknown") == 0)
		abort();
	if (len > CHALLENGE_PAYLOAD_MAX && r != CHALLENGE_MALFORMED)
		abort();
	if (r != CHALLENGE_OK) {
		if (rk[0] != '\0' || *exp != 0)
			abort();
		return r;
	}
	if (strlen(rk) != 7 + 64 || strncmp(rk, "altcha:", 7) != 0 ||
	    strspn(rk + 7, "0123456789abcdef") != 64 || *exp <= now)
		abort();
	return r;
}

/* On CHALLENGE_OK the replay key names the payload's signature. */
static void
fz_check_key(const char *json, size_t len, const char *rk)
{
	json_t		*o, *sig;
	json_error_t	 e;

	if ((o = json_loadb(json, len, 0, &e)) == NULL)
		abort();
	sig = json_object_get(o, "signature");
	if (!json_is_string(sig) || strcmp(json_string_value(sig), rk + 7) != 0)
		abort();
	json_decref(o);
}

static void
fz_mode_raw(const char *p, size_t len, long min_s)
{
	struct buf		 raw = BUF_INIT;
	char			 rk[CHALLENGE_REPLAY_KEY_SIZE];
	time_t			 exp;
	enum challenge_result	 r;

	r = fz_verify(p, len, min_s, FZ_NOW, rk, &exp);
	if (r != CHALLENGE_MALFORMED) {
		if (!fz_canonical_b64(p, len, &raw))
			abort();
		if (r == CHALLENGE_OK)
			fz_check_key(raw.data, raw.len, rk);
	}
	buf_free(&raw);
}

static void
fz_mode_json(const char *j, size_t len, long min_s)
{
	struct buf		 p = BUF_INIT;
	char			 rk[CHALLENGE_REPLAY_KEY_SIZE];
	time_t			 exp;
	json_t			*o, *sig;
	json_error_t		 e;
	enum challenge_result	 r;

	fz_b64(j, len, &p);
	r = fz_verify(p.data, p.len, min_s, FZ_NOW, rk, &exp);
	if (r != CHALLENGE_MALFORMED) {
		o = json_loadb(j, len, JSON_REJECT_DUPLICATES, &e);
		sig = json_object_get(o, "signature");
		if (!json_is_object(o) || json_object_size(o) < 5 ||
		    json_object_size(o) > 6 || !json_is_string(sig) ||
		    json_string_length(sig) != 64)
			abort();
		json_decref(o);
		if (r == CHALLENGE_OK)
			fz_check_key(j, len, rk);
	}
	buf_free(&p);
}

static void
fz_mode_signed(const uint8_t *d, size_t size, long min_s)
{
	struct buf		 json = BUF_INIT, p = BUF_INIT, msg = BUF_INIT;
	unsigned char		 md[32];
	unsigned int		 mdlen;
	char			 chal[65], sig[65], rk[CHALLENGE_REPLAY_KEY_SIZE];
	const char		*salt;
	char			*q;
	long long		 number, now, expires = 0, issued = 0;
	uint64_t		 u = 0;
	size_t			 i, saltlen;
	time_t			 exp;
	int			 ok;
	enum challenge_result	 r, want;

	if (size < 10)
		return;
	for (i = 0; i < 8; i++)
		u = u << 8 | d[i];
	number = (long long)u;
	now = FZ_NOW + (int16_t)(d[8] << 8 | d[9]);
	salt = (const char *)d + 10;
	saltlen = size - 10;
	if (saltlen > FZ_SALT_MAX)
		return;

	if (buf_add(&msg, salt, saltlen) == -1 ||
	    buf_printf(&msg, "%lld", number) == -1 ||
	    EVP_Digest(msg.data, msg.len, md, &mdlen, EVP_sha256(), NULL) != 1)
		abort();
	fz_hex(md, 32, chal);
	if (HMAC(EVP_sha256(), FZ_KEY, sizeof(FZ_KEY),
	    (const unsigned char *)chal, 64, md, &mdlen) == NULL)
		abort();
	fz_hex(md, 32, sig);

	ok = fz_salt_ok(salt, saltlen, &expires, &issued);
	if (!ok)
		want = CHALLENGE_MALFORMED;
	else if (number < 0 || number > FZ_MAXN)
		want = CHALLENGE_BAD_SOLUTION;
	else if (expires <= now)
		want = CHALLENGE_EXPIRED;
	else if (min_s > 0 && now - issued < min_s)
		want = CHALLENGE_TOO_FAST;
	else
		want = CHALLENGE_OK;

	if (buf_printf(&json, "{\"algorithm\":\"SHA-256\",\"challenge\":\"%s\","
	    "\"number\":%lld,\"salt\":\"", chal, number) == -1)
		abort();
	fz_json_str(&json, salt, saltlen);
	if (buf_printf(&json, "\",\"signature\":\"%s\",\"took\":%u}", sig,
	    d[9]) == -1)
		abort();
	fz_b64(json.data, json.len, &p);
	r = fz_verify(p.data, p.len, min_s, now, rk, &exp);
	if (r != want)
		abort();
	if (r == CHALLENGE_OK) {
		if (strcmp(rk + 7, sig) != 0 || exp != (time_t)expires)
			abort();
	}

	/* One signature digit changed (the salt's '"' are escaped, so the
	 * first match is the member). */
	if ((q = strstr(json.data, "\"signature\":\"")) == NULL)
		abort();
	q += 13;
	*q = *q == '0' ? '1' : '0';
	fz_b64(json.data, json.len, &p);
	r = fz_verify(p.data, p.len, min_s, now, rk, &exp);
	if (r != (ok ? CHALLENGE_BAD_SIGNATURE : CHALLENGE_MALFORMED))
		abort();

	/* The next number: the solution no longer holds. */
	if (ok && number >= 0 && number < FZ_MAXN) {
		buf_reset(&json);
		if (buf_printf(&json, "{\"algorithm\":\"SHA-256\",\"challenge\":"
		    "\"%s\",\"number\":%lld,\"salt\":\"", chal, number + 1) == -1)
			abort();
		fz_json_str(&json, salt, saltlen);
		if (buf_printf(&json, "\",\"signature\":\"%s\"}", sig) == -1)
			abort();
		fz_b64(json.data, json.len, &p);
		if (fz_verify(p.data, p.len, min_s, now, rk, &exp) !=
		    CHALLENGE_BAD_SOLUTION)
			abort();
	}
	buf_free(&json);
	buf_free(&p);
	buf_free(&msg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long	 min_s;

	if (size < 1)
		return 0;
	min_s = data[0] / 3 % 8;
	switch (data[0] % 3) {
	case 0:
		fz_mode_raw((const char *)data + 1, size - 1, min_s);
		break;
	case 1:
		fz_mode_json((const char *)data + 1, size - 1, min_s);
		break;
	default:
		fz_mode_signed(data + 1, size - 1, min_s);
		break;
	}
	return 0;
}
