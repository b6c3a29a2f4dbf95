/*
 * fuzz_confirm: the autoresponder's confirmation token (mail/confirm.h)
 * on arbitrary octets.  Invariants (abort() on violation):
 *  - confirm_check returns one of its four results; whatever passes the
 *    shape (a MAC, an expiry or OK) has an address that addr_spec_ok
 *    accepts, its addr_canonical key, a 26-character id of [a-z0-9] and
 *    64 lower-case hex digits of MAC;
 *  - what it accepts is exactly what confirm_make writes for that claim
 *    (one spelling per token), and it is refused for another form, under
 *    another key, and at its expiry;
 *  - the input taken as an address: when addr_spec_ok accepts it,
 *    confirm_make's token checks OK and its claim holds that address.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "mail/confirm.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const unsigned char fz_key[CONFIRM_KEY_LEN] =
    "fuzz key, 32 octets, not secret";
static const unsigned char fz_key2[CONFIRM_KEY_LEN] =
    "the other key of the fuzz test.";
#define FZ_ID	"abcdefghijklmnopqrstuvwxyz"
#define FZ_NOW	((time_t)1000000000)

static void
fz_claim_ok(const struct confirm_claim *c)
{
	char	 k[ADDR_MAX + 1];
	size_t	 i;

	if (!addr_spec_ok(c->addr, strlen(c->addr)) ||
	    addr_canonical(c->addr, strlen(c->addr), k, sizeof(k)) == -1 ||
	    strcmp(k, c->canon) != 0 || strlen(c->id) != SPOOL_ID_LEN ||
	    strlen(c->mac) != CONFIRM_MAC_HEX)
		abort();
	for (i = 0; i < SPOOL_ID_LEN; i++)
		if (!((c->id[i] >= 'a' && c->id[i] <= 'z') ||
		    (c->id[i] >= '0' && c->id[i] <= '9')))
			abort();
	for (i = 0; i < CONFIRM_MAC_HEX; i++)
		if (!((c->mac[i] >= 'a' && c->mac[i] <= 'f') ||
		    (c->mac[i] >= '0' && c->mac[i] <= '9')))
			abort();
}

static void
fz_token(const uint8_t *data, size_t size)
{
	struct confirm_claim	 c, c2;
	char			 tok[CONFIRM_TOKEN_SIZE];
	enum confirm_err	 e;

	e = confirm_check(fz_key, "contact", (const char *)data, size, FZ_NOW,
	    &c);
	if (e != CONFIRM_OK && e != CONFIRM_EINVAL && e != CONFIRM_EMAC &&
	    e != CONFIRM_EEXPIRED)
		abort();
	if (e == CONFIRM_EINVAL)
		return;
	fz_claim_ok(&c);
	if (e != CONFIRM_OK)
		return;
	if (confirm_make(fz_key, "contact", c.addr, c.id, c.expires,
	    tok) != 0 || strlen(tok) != size || memcmp(tok, data, size) != 0)
		abort();
	if (confirm_check(fz_key, "other", (const char *)data, size, FZ_NOW,
	    &c2) != CONFIRM_EMAC || confirm_check(fz_key2, "contact",
	    (const char *)data, size, FZ_NOW, &c2) != CONFIRM_EMAC ||
	    confirm_check(fz_key, "contact", (const char *)data, size,
	    c.expires, &c2) != CONFIRM_EEXPIRED)
		abort();
}

static void
fz_address(const uint8_t *data, size_t size)
{
	struct confirm_claim	 c;
	char			 a[ADDR_MAX + 1], tok[CONFIRM_TOKEN_SIZE];

	if (size > ADDR_MAX || memchr(data, '\0', size) != NULL)
		return;
	memcpy(a, data, size);
	a[size] = '\0';
	if (!addr_spec_ok(a, size)) {
		if (confirm_make(fz_key, "contact", a, FZ_ID, FZ_NOW + 1,
		    tok) != -1)
			abort();
		return;
	}
	if (confirm_make(fz_key, "contact", a, FZ_ID, FZ_NOW + 1, tok) != 0 ||
	    strlen(tok) > CONFIRM_TOKEN_MAX ||
	    confirm_check(fz_key, "contact", tok, strlen(tok), FZ_NOW, &c) !=
	    CONFIRM_OK || strcmp(c.addr, a) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_token(data, size);
	fz_address(data, size);
	return 0;
}
