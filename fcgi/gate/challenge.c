/* challenge: ALTCHA-compatible proof of work; see challenge.h. */
#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "lib/buf.h"
#include "gate/challenge.h"
#include "lib/file.h"
#include "lib/text.h"

#define CH_HEX_LEN	 64	/* SHA-256 and HMAC-SHA-256 in hex */
#define CH_NONCE_LEN	 16	/* random salt octets we issue (32 hex) */
#define CH_NONCE_MIN	 16	/* hex digits accepted before '?' */
#define CH_NONCE_MAX	 128
#define CH_TIME_DIGITS	 12
/* <nonce>?expires=<12>&issued=<12>& */
#define CH_SALT_MAX	 (CH_NONCE_MAX + 1 + 8 + CH_TIME_DIGITS + 1 + 7 + \
			    CH_TIME_DIGITS + 1)
#define CH_RAW_MAX	 (CHALLENGE_PAYLOAD_MAX / 4 * 3)

/* Lower-case hex digits only: the form this file writes (text_hex). */
static int
ch_is_lower_hex(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (text_hexval((unsigned char)s[i]) < 0 ||
		    (s[i] >= 'A' && s[i] <= 'F'))
			return 0;
	return 1;
}

static int
ch_random(void *p, size_t len)
{
	unsigned char	*u = p;
	ssize_t		 n;

	while (len > 0) {
		if ((n = getrandom(u, len, 0)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		u += n;
		len -= (size_t)n;
	}
	return 0;
}

/* out = hex SHA-256(salt || decimal(number)), as altcha-lib's hashHex. */
static int
ch_challenge_hex(const char *salt, size_t saltlen, long long number,
    char out[CH_HEX_LEN + 1])
{
	char		 msg[CH_SALT_MAX + 32];
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	int		 n;

	if (saltlen > CH_SALT_MAX)
		return -1;
	memcpy(msg, salt, saltlen);
	n = snprintf(msg + saltlen, sizeof(msg) - saltlen, "%lld", number);
	if (n < 0 || (size_t)n >= sizeof(msg) - saltlen)
		return -1;
	if (EVP_Digest(msg, saltlen + (size_t)n, md, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen != CH_HEX_LEN / 2)
		return -1;
	text_hex(md, mdlen, out);
	return 0;
}

/* out = hex HMAC-SHA-256(key, challenge hex text), as altcha-lib's hmacHex. */
static int
ch_signature_hex(const unsigned char key[CHALLENGE_KEY_LEN],
    const char *challenge, char out[CH_HEX_LEN + 1])
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;

	if (HMAC(EVP_sha256(), key, CHALLENGE_KEY_LEN,
	    (const unsigned char *)challenge, CH_HEX_LEN, md, &mdlen) == NULL ||
	    mdlen != CH_HEX_LEN / 2)
		return -1;
	text_hex(md, mdlen, out);
	return 0;
}

/* ---- key file ------------------------------------------------------- */

/* Returns 0 (key read), 1 (path does not exist) or -1 (err set). */
static int
ch_key_read(const char *path, unsigned char key[CHALLENGE_KEY_LEN],
    char *err, size_t errsize)
{
	struct stat	 st;
	size_t		 got = 0;
	ssize_t		 n;
	int		 fd, rc = -1;

	if ((fd = file_open_private(path, 1, &st, err, errsize)) == -1)
		return errno == ENOENT ? 1 : -1;
	/* Whoever owns the key knows it: another user's file (0600 is
	 * theirs to read) would let them mint challenges and links. */
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		snprintf(err, errsize, "%s: owned by uid %lu, not by this "
		    "process's user (uid %lu) or root; chown it or remove it",
		    path, (unsigned long)st.st_uid, (unsigned long)geteuid());
		goto out;
	}
	if (st.st_size != CHALLENGE_KEY_LEN) {
		snprintf(err, errsize, "%s: holds %lld octets, not %d", path,
		    (long long)st.st_size, CHALLENGE_KEY_LEN);
		goto out;
	}
	while (got < CHALLENGE_KEY_LEN) {
		if ((n = read(fd, key + got, CHALLENGE_KEY_LEN - got)) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errsize, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0) {
			snprintf(err, errsize, "%s: short read", path);
			goto out;
		}
		got += (size_t)n;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

/*
 * Writes a fresh key to a temporary file and link()s it to path, so that
 * path never names a partly written key and concurrent starters agree.
 * Returns 0 (key created), 1 (another process created path first) or -1.
 */
static int
ch_key_create(const char *path, unsigned char key[CHALLENGE_KEY_LEN],
    char *err, size_t errsize)
{
	char		 tmp[PATH_MAX];
	size_t		 done = 0;
	ssize_t		 n;
	int		 fd, rc = -1;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >=
	    (int)sizeof(tmp)) {
		snprintf(err, errsize, "%s: path too long", path);
		return -1;
	}
	if (ch_random(key, CHALLENGE_KEY_LEN) == -1) {
		snprintf(err, errsize, "getrandom: %s", strerror(errno));
		return -1;
	}
	/* mkostemp: O_EXCL, mode 0600 whatever the umask. */
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		snprintf(err, errsize, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	while (done < CHALLENGE_KEY_LEN) {
		if ((n = write(fd, key + done, CHALLENGE_KEY_LEN - done)) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errsize, "%s: %s", tmp, strerror(errno));
			goto out;
		}
		done += (size_t)n;
	}
	if (fsync(fd) == -1) {
		snprintf(err, errsize, "%s: fsync: %s", tmp, strerror(errno));
		goto out;
	}
	if (link(tmp, path) == -1) {
		if (errno == EEXIST)
			rc = 1;
		else
			snprintf(err, errsize, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (file_fsync_parent(path) == -1) {
		snprintf(err, errsize, "%s: fsync directory: %s", path,
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	close(fd);
	unlink(tmp);
	return rc;
}

int
challenge_key_load(const char *path, unsigned char key[CHALLENGE_KEY_LEN],
    char *err, size_t errsize)
{
	int	 rc;

	if ((rc = ch_key_read(path, key, err, errsize)) == 1 &&
	    (rc = ch_key_create(path, key, err, errsize)) == 1 &&
	    (rc = ch_key_read(path, key, err, errsize)) == 1) {
		snprintf(err, errsize, "%s: vanished while loading", path);
		rc = -1;
	}
	if (rc != 0) {
		explicit_bzero(key, CHALLENGE_KEY_LEN);
		return -1;
	}
	return 0;
}

/* ---- challenge ------------------------------------------------------ */

/* Uniform in [0, max]: rejection sampling drops the biased top range. */
static int
ch_random_number(long max, long long *number)
{
	uint64_t	 r, range = (uint64_t)max + 1;
	uint64_t	 limit = UINT64_MAX / range * range;

	do {
		if (ch_random(&r, sizeof(r)) == -1)
			return -1;
	} while (r >= limit);
	*number = (long long)(r % range);
	return 0;
}

int
challenge_create(const unsigned char key[CHALLENGE_KEY_LEN], long max_number,
    time_t now, long ttl, struct buf *out)
{
	unsigned char	 nonce[CH_NONCE_LEN];
	char		 nhex[2 * CH_NONCE_LEN + 1], salt[CH_SALT_MAX + 1];
	char		 chal[CH_HEX_LEN + 1], sig[CH_HEX_LEN + 1], json[512];
	long long	 number;
	int		 n, slen;

	if (max_number < 1 || max_number > CHALLENGE_MAX_NUMBER_MAX ||
	    ttl < 1 || ttl > CHALLENGE_TTL_MAX || now < 1 ||
	    (long long)now > CHALLENGE_TIME_MAX - ttl)
		return -1;
	if (ch_random(nonce, sizeof(nonce)) == -1 ||
	    ch_random_number(max_number, &number) == -1)
		return -1;
	text_hex(nonce, sizeof(nonce), nhex);
	slen = snprintf(salt, sizeof(salt), "%s?expires=%lld&issued=%lld&",
	    nhex, (long long)now + ttl, (long long)now);
	if (slen < 0 || (size_t)slen >= sizeof(salt) ||
	    ch_challenge_hex(salt, (size_t)slen, number, chal) == -1 ||
	    ch_signature_hex(key, chal, sig) == -1)
		return -1;
	/* Every value is hex, digits or "?=&": no JSON escaping needed. */
	n = snprintf(json, sizeof(json), "{\"algorithm\":\"SHA-256\","
	    "\"challenge\":\"%s\",\"maxnumber\":%ld,\"salt\":\"%s\","
	    "\"signature\":\"%s\"}", chal, max_number, salt, sig);
	if (n < 0 || (size_t)n >= sizeof(json) ||
	    buf_add(out, json, (size_t)n) == -1)
		return -1;
	return 0;
}

/* ---- verification --------------------------------------------------- */

/* Parses name=<time>& at s[*i]; 1..CH_TIME_DIGITS digits, no leading 0. */
static int
ch_salt_param(const char *s, size_t len, size_t *i, const char *name,
    long long *t)
{
	size_t	 nlen = strlen(name), k;
	long long v = 0;

	if (len - *i < nlen + 1 || memcmp(s + *i, name, nlen) != 0 ||
	    s[*i + nlen] != '=')
		return -1;
	*i += nlen + 1;
	if (*i >= len || s[*i] < '1' || s[*i] > '9')
		return -1;
	for (k = 0; *i < len && s[*i] >= '0' && s[*i] <= '9'; (*i)++, k++) {
		if (k == CH_TIME_DIGITS)
			return -1;
		v = v * 10 + (s[*i] - '0');
	}
	if (*i >= len || s[*i] != '&')
		return -1;
	(*i)++;
	*t = v;
	return 0;
}

/* <nonce>?expires=<t>&issued=<t>& or with the two swapped (altcha-lib
 * puts its own params first, then expires). */
static int
ch_salt_parse(const char *s, size_t len, long long *expires,
    long long *issued)
{
	size_t	 i, n;
	int	 k, have_e = 0, have_i = 0;

	if (len > CH_SALT_MAX)
		return -1;
	for (n = 0; n < len && ch_is_lower_hex(s + n, 1); n++)
		;
	if (n < CH_NONCE_MIN || n > CH_NONCE_MAX || n >= len || s[n] != '?')
		return -1;
	i = n + 1;
	for (k = 0; k < 2; k++) {
		if (i < len && s[i] == 'e' && !have_e) {
			if (ch_salt_param(s, len, &i, "expires", expires) == -1)
				return -1;
			have_e = 1;
		} else if (i < len && s[i] == 'i' && !have_i) {
			if (ch_salt_param(s, len, &i, "issued", issued) == -1)
				return -1;
			have_i = 1;
		} else
			return -1;
	}
	return i == len ? 0 : -1;
}

/* A string member of exactly len lowercase hex digits. */
static const char *
ch_hex_member(const json_t *root, const char *name, size_t len)
{
	const json_t	*v = json_object_get(root, name);

	if (!json_is_string(v) || json_string_length(v) != len ||
	    !ch_is_lower_hex(json_string_value(v), len))
		return NULL;
	return json_string_value(v);
}

/* The members of a payload that ch_payload_parse() accepted; the strings
 * belong to the JSON object. */
struct ch_payload {
	const char	*chal, *sig, *salt;
	size_t		 saltlen;
	long long	 number, exp_t, iss_t;
};

/*
 * The payload's shape (challenge.h, CHALLENGE_MALFORMED): exactly its
 * members, each of its type, the salt's parameters.  Returns 0 with pl
 * filled, or -1.
 */
static int
ch_payload_parse(const json_t *root, struct ch_payload *pl)
{
	const json_t	*v;
	size_t		 members;

	/* json_object_get() compares whole C strings, so a member name with
	 * an embedded NUL is never found and fails the count below. */
	members = 5;
	if ((v = json_object_get(root, "took")) != NULL) {
		if (!json_is_number(v))
			return -1;
		members++;
	}
	if (json_object_size(root) != members)
		return -1;
	v = json_object_get(root, "algorithm");
	if (!json_is_string(v) || json_string_length(v) != 7 ||
	    memcmp(json_string_value(v), "SHA-256", 7) != 0)
		return -1;
	if ((pl->chal = ch_hex_member(root, "challenge", CH_HEX_LEN)) == NULL ||
	    (pl->sig = ch_hex_member(root, "signature", CH_HEX_LEN)) == NULL)
		return -1;
	v = json_object_get(root, "number");
	if (!json_is_integer(v))
		return -1;
	pl->number = json_integer_value(v);
	v = json_object_get(root, "salt");
	if (!json_is_string(v))
		return -1;
	pl->salt = json_string_value(v);
	pl->saltlen = json_string_length(v);
	pl->exp_t = pl->iss_t = 0;
	return ch_salt_parse(pl->salt, pl->saltlen, &pl->exp_t, &pl->iss_t);
}

/* The checks of a well-formed payload, in challenge.h's order: signature,
 * solution, expiry, age.  Returns the first that fails, or CHALLENGE_OK. */
static enum challenge_result
ch_payload_check(const unsigned char key[CHALLENGE_KEY_LEN],
    const struct ch_payload *pl, long max_number, long min_seconds,
    time_t now)
{
	char	 calc[CH_HEX_LEN + 1];

	if (ch_signature_hex(key, pl->chal, calc) == -1)
		return CHALLENGE_MALFORMED;
	if (CRYPTO_memcmp(calc, pl->sig, CH_HEX_LEN) != 0)
		return CHALLENGE_BAD_SIGNATURE;
	/* The salt is trustworthy only from here: it is bound to the signed
	 * challenge through the hash. */
	if (pl->number < 0 || pl->number > max_number ||
	    ch_challenge_hex(pl->salt, pl->saltlen, pl->number, calc) == -1 ||
	    CRYPTO_memcmp(calc, pl->chal, CH_HEX_LEN) != 0)
		return CHALLENGE_BAD_SOLUTION;
	if (pl->exp_t <= (long long)now)
		return CHALLENGE_EXPIRED;
	if (min_seconds > 0 && (long long)now - pl->iss_t < min_seconds)
		return CHALLENGE_TOO_FAST;
	return CHALLENGE_OK;
}

enum challenge_result
challenge_verify(const unsigned char key[CHALLENGE_KEY_LEN],
    const char *payload, size_t len, long max_number, long min_seconds,
    time_t now, char *replay_key, size_t replay_keysize, time_t *expires)
{
	unsigned char		 raw[CH_RAW_MAX];
	struct ch_payload	 pl;
	json_t			*root = NULL;
	json_error_t		 jerr;
	size_t			 rawlen;
	enum challenge_result	 res = CHALLENGE_MALFORMED;

	if (expires != NULL)
		*expires = 0;
	if (replay_key != NULL) {
		if (replay_keysize > 0)
			replay_key[0] = '\0';
		if (replay_keysize < CHALLENGE_REPLAY_KEY_SIZE)
			return CHALLENGE_MALFORMED;
	}
	if (len > CHALLENGE_PAYLOAD_MAX ||
	    text_base64_decode(payload, len, raw, &rawlen) == -1)
		return CHALLENGE_MALFORMED;
	/* Without JSON_DECODE_ANY only an object or array parses; without
	 * JSON_DISABLE_EOF_CHECK nothing may follow it. */
	if ((root = json_loadb((const char *)raw, rawlen,
	    JSON_REJECT_DUPLICATES, &jerr)) == NULL || !json_is_object(root))
		goto out;
	if (ch_payload_parse(root, &pl) == -1)
		goto out;
	if ((res = ch_payload_check(key, &pl, max_number, min_seconds,
	    now)) != CHALLENGE_OK)
		goto out;
	if (replay_key != NULL)
		snprintf(replay_key, replay_keysize, "altcha:%.*s", CH_HEX_LEN,
		    pl.sig);
	if (expires != NULL)
		*expires = (time_t)pl.exp_t;
out:
	json_decref(root);
	return res;
}

const char *
challenge_result_name(enum challenge_result r)
{
	switch (r) {
	case CHALLENGE_OK:
		return "ok";
	case CHALLENGE_MALFORMED:
		return "malformed";
	case CHALLENGE_BAD_SIGNATURE:
		return "bad_signature";
	case CHALLENGE_BAD_SOLUTION:
		return "bad_solution";
	case CHALLENGE_EXPIRED:
		return "expired";
	case CHALLENGE_TOO_FAST:
		return "too_fast";
	}
	return "unknown";
}
