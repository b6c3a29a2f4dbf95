/*
 * confirm: the signed link of the autoresponder's double opt-in
 * (docs/DESIGN.md "Autoresponder"), as text of [0-9a-z.]:
 *
 *	EXPIRES "." ID "." HEX(address) "." HEX(mac)
 *
 * EXPIRES is Unix seconds (1..12 digits, no leading zero), ID the
 * submission id of the post that asked (SPOOL_ID_LEN of [a-z0-9]), the
 * address in lower-case hex of its octets, mac the lower-case hex of
 *
 *	HMAC-SHA-256(key, "f2m-confirm-1\n" form "\n" canonical "\n"
 *	    address "\n" ID "\n" EXPIRES)
 *
 * with canonical the address's addr_canonical() key: a token is bound to
 * one form, one exact address (and so its mailbox) and one expiry.  The
 * key is CONFIRM_KEY_LEN octets of state_dir/confirm.key (made by
 * challenge_key_load(): 0600, on first start).  The token is untrusted
 * input: confirm_check() parses it strictly before any MAC is computed.
 */
#ifndef F2M_CONFIRM_H
#define F2M_CONFIRM_H

#include <stddef.h>
#include <time.h>

#include "lib/addr.h"
#include "spool/spool.h"

#define CONFIRM_KEY_LEN		32
#define CONFIRM_TTL		(2 * 86400L)	/* a link lives two days */
#define CONFIRM_MAC_HEX		64
/* The longest token: 12 + 1 + 26 + 1 + 2 * 254 + 1 + 64, and a NUL. */
#define CONFIRM_TOKEN_MAX	(12 + 1 + SPOOL_ID_LEN + 1 + 2 * ADDR_MAX + 1 + \
				    CONFIRM_MAC_HEX)
#define CONFIRM_TOKEN_SIZE	(CONFIRM_TOKEN_MAX + 1)

/* What a valid token says. */
struct confirm_claim {
	char	 addr[ADDR_MAX + 1];		/* passed addr_spec_ok() */
	char	 canon[ADDR_MAX + 1];		/* addr_canonical(addr) */
	char	 id[SPOOL_ID_LEN + 1];
	char	 mac[CONFIRM_MAC_HEX + 1];	/* its MAC, as in the token */
	time_t	 expires;
};

enum confirm_err {
	CONFIRM_OK,
	CONFIRM_EINVAL,		/* not a token: shape, lengths, address */
	CONFIRM_EMAC,		/* not ours, or for another form */
	CONFIRM_EEXPIRED	/* ours and for this form, but expired */
};

/*
 * Writes the token for form, the address addr (addr_spec_ok) and the
 * submission id, expiring at expires, to out (CONFIRM_TOKEN_SIZE
 * octets).  Returns 0, or -1 for a bad argument.
 */
int	 confirm_make(const unsigned char key[CONFIRM_KEY_LEN],
	    const char *form, const char *addr, const char *id,
	    time_t expires, char out[CONFIRM_TOKEN_SIZE]);

/*
 * Checks tok[0..len) for form at time now: shape first (CONFIRM_EINVAL
 * for anything longer than CONFIRM_TOKEN_MAX), then the MAC (constant
 * time), then the expiry.  On CONFIRM_OK *out is filled; otherwise its
 * contents are unspecified.
 */
enum confirm_err confirm_check(const unsigned char key[CONFIRM_KEY_LEN],
	    const char *form, const char *tok, size_t len, time_t now,
	    struct confirm_claim *out);

#endif
