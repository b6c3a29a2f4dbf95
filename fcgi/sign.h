/*
 * sign: DKIM signatures through libopendkim (RFC 6376, RFC 8463).
 *
 * Only the deliverer (and `form2mail check`) call this module: it reads the
 * private keys.  Keys are read and checked once in sign_open(), not per
 * message.
 */
#ifndef F2M_SIGN_H
#define F2M_SIGN_H

#include <stddef.h>
#include <time.h>

#include "buf.h"

struct conf;
struct sign;

/*
 * Loads every key of conf->dkim (PEM, PKCS#8 or PKCS#1 for RSA; 1 to 8
 * keys) and checks that each matches its algorithm (RSA of 1024 to 8192
 * bits for rsa-sha256, Ed25519 for ed25519-sha256).  A key file must be a
 * regular file not readable or writable by group or others; encrypted keys
 * are refused (no passphrase prompt).  The files are not read again.
 * Returns 0 with *out set, or -1 with *out NULL and a one-line reason
 * naming the key file in err (never key material).
 *
 * Debian's libopendkim 2.11 leaks the parsed private key on every Ed25519
 * signature (about 0.5 KiB each, not cleansed): a long-lived deliverer
 * should be recycled after some thousands of messages.
 */
int	 sign_open(const struct conf *, struct sign **out, char *err,
	    size_t errsize) F2M_WUR;

/* Makes signatures reproducible (DKIM_OPTS_FIXEDTIME); 0 turns it off. */
void	 sign_fixed_time(struct sign *, time_t);

/*
 * Signs msg (a whole message as message_build() makes it: CRLF line ends,
 * headers, empty line, body; not dot-stuffed) with every key, relaxed/
 * relaxed, the headers of DESIGN.md "DKIM" (From oversigned, the others
 * that are present).  Appends one "DKIM-Signature: ...\r\n" header per key
 * to out, RSA keys first, to be put in front of the message; every line
 * appended ends in CRLF and holds at most 998 octets.  Returns 0, or -1
 * with a reason in err and out as it was.  A message with a bare CR or LF,
 * a NUL, a line over 998 octets, a malformed header field, more than 256
 * header fields or no empty line after them is refused.
 */
int	 sign_message(struct sign *, const char *msg, size_t len,
	    struct buf *out, char *err, size_t errsize) F2M_WUR;

/* NULL is accepted. */
void	 sign_close(struct sign *);

#endif
