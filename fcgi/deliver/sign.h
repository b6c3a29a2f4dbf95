/*
 * sign: DKIM signatures (RFC 6376, RFC 8463).
 *
 * Only the deliverer (and `form2mail check`) call this module: it reads the
 * private keys.  Keys are read, checked and parsed once in sign_open() and
 * kept for the life of the handle, not parsed per message.
 *
 * Two signers produce the same octets: the built-in one (SIGN_NATIVE:
 * relaxed/relaxed canonicalisation here, RSA and Ed25519 with the kept
 * EVP_PKEYs) and libopendkim (SIGN_OPENDKIM, which parses the PEM key again
 * for every signature).  libopendkim stays the reference: sign_open() runs
 * a known-answer self-test of one against the other, and the tests and a
 * differential fuzz target compare them message by message.
 */
#ifndef F2M_SIGN_H
#define F2M_SIGN_H

#include <stddef.h>
#include <time.h>

#include "lib/buf.h"

struct conf;
struct sign;

enum sign_impl {
	SIGN_NATIVE,		/* built-in, keys kept parsed */
	SIGN_OPENDKIM		/* libopendkim 2.11, the reference */
};

/*
 * Loads every key of conf->dkim (PEM, PKCS#8 or PKCS#1 for RSA; 1 to 8
 * keys) and checks that each matches its algorithm (RSA of 1024 to 8192
 * bits for rsa-sha256, Ed25519 for ed25519-sha256).  A key file must be a
 * regular file not readable or writable by group or others; encrypted keys
 * are refused (no passphrase prompt).  The files are not read again.
 * Then runs sign_selftest(): when the built-in signer fails it or differs
 * from libopendkim, the error is logged (log_err) and this handle signs
 * with libopendkim; when libopendkim itself cannot sign the probe message,
 * sign_open() fails.
 * Returns 0 with *out set, or -1 with *out NULL and a one-line reason
 * naming the key file in err (never key material).
 *
 * Debian's libopendkim 2.11 leaks the parsed private key on every Ed25519
 * signature it makes (about 0.5 KiB, not cleansed): with the built-in
 * signer that is once, in the self-test; a handle that fell back to
 * libopendkim should be recycled after some thousands of messages.
 */
int	 sign_open(const struct conf *, struct sign **out, char *err,
	    size_t errsize) F2M_WUR;

/* Makes signatures reproducible (fixed t=, DKIM_OPTS_FIXEDTIME for
 * libopendkim); 0 turns it off. */
void	 sign_fixed_time(struct sign *, time_t);

/*
 * Signs msg (a whole message as message_build() makes it: CRLF line ends,
 * headers, empty line, body; not dot-stuffed) with every key, relaxed/
 * relaxed, the headers of docs/DESIGN.md "DKIM" (From oversigned, the others
 * that are present), using sign_impl().  Appends one "DKIM-Signature:
 * ...\r\n" header per key to out, RSA keys first, to be put in front of
 * the message; every line appended ends in CRLF and holds at most 998
 * octets.  Returns 0, or -1 with a reason in err and out as it was.
 *
 * Refused (the same way by both signers, before either signs): a bare CR
 * or LF anywhere (not repaired: what is signed is what is sent), a NUL, a
 * line over 998 octets, a control character other than HTAB, or DEL, in
 * the header section, a malformed header field (no "name:", a name with
 * other than printable ASCII, or with ';', which libopendkim refuses), a
 * continuation line without a field, a field over 64 KiB, more than 256
 * header fields, more than 64 fields to sign, no From field, a
 * DKIM-Signature field already present, no empty line after the header
 * section, and a body that is not empty and does not end in CRLF.
 */
int	 sign_message(struct sign *, const char *msg, size_t len,
	    struct buf *out, char *err, size_t errsize) F2M_WUR;

/* Like sign_message() with the given signer; for the differential tests. */
int	 sign_message_impl(struct sign *, enum sign_impl, const char *msg,
	    size_t len, struct buf *out, char *err, size_t errsize) F2M_WUR;

/* The signer sign_message() uses: SIGN_NATIVE unless the self-test failed. */
enum sign_impl	 sign_impl(const struct sign *);

/*
 * Known-answer self-test, run by sign_open(): signs a fixed probe message
 * (folded and repeated headers, odd case, WSP runs, 8-bit octets, blank
 * and WSP-only trailing lines) with both signers at a fixed time and
 * requires identical output.  Returns 0 and selects SIGN_NATIVE when they
 * agree; -1 with the reason in err and SIGN_OPENDKIM selected when the
 * built-in signer fails or differs; -2 with the reason in err (and
 * SIGN_OPENDKIM selected) when libopendkim itself cannot sign the probe.
 */
int	 sign_selftest(struct sign *, char *err, size_t errsize) F2M_WUR;

/*
 * TEST ONLY (compiled always, used by tests/unit/deliver/test_sign.c): with on set,
 * the built-in signer flips one bit of every signature it makes, so that
 * a test can watch sign_selftest() catch it and fall back.
 */
void	 sign_test_break_native(struct sign *, int on);

/* NULL is accepted.  Frees the kept keys (OpenSSL clears their private
 * parts) and cleanses the PEM copies kept for libopendkim. */
void	 sign_close(struct sign *);

#endif
