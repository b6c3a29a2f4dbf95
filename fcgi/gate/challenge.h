/*
 * challenge: ALTCHA-compatible proof of work (docs/DESIGN.md "Challenge").
 *
 * Protocol (ALTCHA v1, as altcha-lib's createChallenge/verifySolution and
 * the "altcha" widget speak it):
 *
 *   GET  /<prefix>/<form>/challenge  ->  challenge_create() JSON
 *   the widget finds number with hex(SHA-256(salt || decimal(number))) ==
 *   challenge, counting up from 0, and posts base64(JSON payload) in the
 *   form field CHALLENGE_FIELD  ->  challenge_verify()
 *
 *   challenge = lowercase hex SHA-256(salt || decimal(number))
 *   signature = lowercase hex HMAC-SHA-256(key, challenge as 64 ASCII hex)
 *
 * The signature covers only the challenge; the salt (and so its expiry)
 * is bound to it through the hash.  Our salts read
 *
 *   <32 lowercase hex, random>?expires=<unix>&issued=<unix>&
 *
 * The trailing '&' is altcha-lib's delimiter against parameter splicing:
 * without it, digits moved from number to the end of the salt give the
 * same hash with a later "expires".  challenge_verify() therefore insists
 * on it.
 *
 * The HMAC key is CHALLENGE_KEY_LEN raw octets.  altcha-lib takes its
 * hmacKey as a string and uses its UTF-8 octets: a key whose octets are
 * ASCII is the same key there.
 */
#ifndef F2M_CHALLENGE_H
#define F2M_CHALLENGE_H

#include <stddef.h>
#include <time.h>

#include "lib/buf.h"

#define CHALLENGE_KEY_LEN	 32
#define CHALLENGE_FIELD		 "altcha"	/* form field of the payload */
/* Longest payload (base64 octets) challenge_verify() looks at; a real one
 * is about 350. */
#define CHALLENGE_PAYLOAD_MAX	 2048
/* max_number is accepted in [1, CHALLENGE_MAX_NUMBER_MAX]. */
#define CHALLENGE_MAX_NUMBER_MAX 1000000000L
/* ttl is accepted in [1, CHALLENGE_TTL_MAX] seconds. */
#define CHALLENGE_TTL_MAX	 86400L
/* A sensible ttl when config gives none: the widget fetches a new
 * challenge when one expires.  Use CHALLENGE_TTL_DEFAULT + min_seconds. */
#define CHALLENGE_TTL_DEFAULT	 600L
/* Times in a salt have at most 12 digits: now + ttl must stay below. */
#define CHALLENGE_TIME_MAX	 999999999999LL
/* replay_key size: "altcha:" + 64 hex + NUL. */
#define CHALLENGE_REPLAY_KEY_SIZE 72

/*
 * Loads the HMAC key from path (a regular file of exactly
 * CHALLENGE_KEY_LEN octets, not a symlink, no permission bits for group
 * or others, owned by the effective user or root).  When path does not exist, draws CHALLENGE_KEY_LEN octets
 * from getrandom(), writes them to a temporary file beside path (0600,
 * O_EXCL, fsync) and link()s it to path, then fsyncs the directory; when
 * another process won that race, its key is loaded instead.  So all
 * workers and restarts share one key.  The file belongs to the calling
 * user: call this in the process (uid) that will read it later.
 * Returns 0 with key filled, or -1 with a message in err (key zeroed).
 */
int	 challenge_key_load(const char *path, unsigned char key[CHALLENGE_KEY_LEN],
	    char *err, size_t errsize) F2M_WUR;

/*
 * Appends the challenge JSON for the widget to out (serve it with
 * Content-Type application/json and Cache-Control: no-store):
 *
 *   {"algorithm":"SHA-256","challenge":"<64 hex>","maxnumber":<max_number>,
 *    "salt":"<32 hex>?expires=<now+ttl>&issued=<now>&","signature":"<64 hex>"}
 *
 * (one line, members in this order).  The secret number is drawn
 * uniformly from [0, max_number], the salt from getrandom().
 * Returns 0, or -1 (out unchanged) when max_number or ttl is out of range,
 * now < 1 or now + ttl > CHALLENGE_TIME_MAX, randomness or memory fails.
 */
int	 challenge_create(const unsigned char key[CHALLENGE_KEY_LEN],
	    long max_number, time_t now, long ttl, struct buf *out)
	    F2M_WUR;

enum challenge_result {
	CHALLENGE_OK,
	CHALLENGE_MALFORMED,		/* not a payload we could have made */
	CHALLENGE_BAD_SIGNATURE,	/* HMAC over challenge does not match */
	CHALLENGE_BAD_SOLUTION,		/* number wrong or out of range */
	CHALLENGE_EXPIRED,		/* expires <= now */
	CHALLENGE_TOO_FAST		/* now - issued < min_seconds */
};

/*
 * Verifies the widget's payload (untrusted data!): payload[0..len), not
 * NUL-terminated, exactly as the form field carried it (after the form's
 * percent-decoding).  Every result but CHALLENGE_OK means 422 with error
 * code "challenge" on field CHALLENGE_FIELD; the others are for the log.
 * The checks, in this order, the first failing one deciding:
 *
 * CHALLENGE_MALFORMED
 *  - len > CHALLENGE_PAYLOAD_MAX (checked before anything is decoded);
 *  - not strict base64 (RFC 4648 section 4): standard alphabet, len a
 *    non-zero multiple of 4, '=' only as the last one or two octets, the
 *    unused bits zero; no whitespace, NUL, '-' or '_';
 *  - the octets are not one JSON object (jansson, duplicate member
 *    names refused, nothing after it);
 *  - members other than exactly "algorithm", "challenge", "number",
 *    "salt", "signature" and optionally "took" (any JSON number: the
 *    widget's solving time in ms, ignored);
 *  - "algorithm" not the string "SHA-256" (case-sensitive: we only issue
 *    "SHA-256" and the widget echoes it; "sha-256", "SHA-1" are refused);
 *  - "challenge" or "signature" not a string of 64 lowercase hex digits;
 *  - "number" not a JSON integer (1.0, 1e3, "5", a value beyond the
 *    64-bit range are refused);
 *  - "salt" not of the form <16..128 lowercase hex>?P&P& where the two P
 *    are expires=<T> and issued=<T> in either order, T 1..12 digits with
 *    no leading zero.  Nothing else in the salt, no other parameter.
 * CHALLENGE_BAD_SIGNATURE
 *  - signature != HMAC-SHA-256(key, challenge) (CRYPTO_memcmp);
 * CHALLENGE_BAD_SOLUTION
 *  - number < 0 or number > max_number, or challenge !=
 *    SHA-256(salt || decimal(number)): a salt or number changed after
 *    signing lands here;
 * CHALLENGE_EXPIRED
 *  - expires <= now;
 * CHALLENGE_TOO_FAST
 *  - min_seconds > 0 and now - issued < min_seconds.  With min_seconds 0
 *    an issued time in the future (clock skew) is accepted.
 *
 * max_number, min_seconds: the form's config (max_number should be the
 * one the challenge was created with).  On CHALLENGE_OK, when not NULL,
 * replay_key receives "altcha:" + the signature's 64 hex digits (the same
 * for every encoding of one solved challenge, whatever "took" says) and
 * *expires the challenge's expiry: the caller stores the key in its
 * shared "seen once" store until *expires and refuses a key it has seen
 * (test and insert in one atomic step, or two workers may both accept
 * one payload).  A challenge is not bound to a form: one fetched for form
 * A passes on form B when its number is within B's max_number (the store
 * being shared, it is still used only once).
 * replay_keysize must be at least CHALLENGE_REPLAY_KEY_SIZE when
 * replay_key is not NULL, else the result is CHALLENGE_MALFORMED and the
 * payload is not looked at.  On any other result replay_key is "" (if
 * given) and *expires 0.  Allocates only inside jansson; no logging.
 */
enum challenge_result challenge_verify(const unsigned char key[CHALLENGE_KEY_LEN],
	    const char *payload, size_t len, long max_number, long min_seconds,
	    time_t now, char *replay_key, size_t replay_keysize,
	    time_t *expires) F2M_WUR;

/* "ok", "malformed", "bad_signature", "bad_solution", "expired",
 * "too_fast"; "unknown" for any other value.  Never NULL. */
const char *challenge_result_name(enum challenge_result);

#endif
