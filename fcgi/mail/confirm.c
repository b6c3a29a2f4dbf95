/*
 * confirm: the signed link of the double opt-in (confirm.h).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "lib/text.h"
#include "mail/confirm.h"

#define CONFIRM_DOMAIN	"f2m-confirm-1\n"
#define CONFIRM_TIME_DIGITS	12

/* The MAC of the claim's fields for form, in hex, to mac. */
static int
confirm_mac(const unsigned char key[CONFIRM_KEY_LEN], const char *form,
    const struct confirm_claim *c, char mac[CONFIRM_MAC_HEX + 1])
{
	char		 msg[64 + 2 * ADDR_MAX + SPOOL_ID_LEN + 1024];
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	int		 n;

	n = snprintf(msg, sizeof(msg), CONFIRM_DOMAIN "%s\n%s\n%s\n%s\n%lld",
	    form, c->canon, c->addr, c->id, (long long)c->expires);
	if (n < 0 || (size_t)n >= sizeof(msg) || HMAC(EVP_sha256(), key,
	    CONFIRM_KEY_LEN, (const unsigned char *)msg, (size_t)n, md,
	    &mdlen) == NULL || mdlen != CONFIRM_MAC_HEX / 2)
		return -1;
	text_hex(md, mdlen, mac);
	return 0;
}

static int
confirm_id_ok(const char *s, size_t len)
{
	size_t	 i;

	if (len != SPOOL_ID_LEN)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9')))
			return 0;
	return 1;
}

int
confirm_make(const unsigned char key[CONFIRM_KEY_LEN], const char *form,
    const char *addr, const char *id, time_t expires,
    char out[CONFIRM_TOKEN_SIZE])
{
	struct confirm_claim	 c;
	char			 hex[2 * ADDR_MAX + 1];
	size_t			 len;

	out[0] = '\0';
	if (form == NULL || addr == NULL || id == NULL || expires <= 0 ||
	    expires > 999999999999LL || (len = strlen(addr)) > ADDR_MAX ||
	    !confirm_id_ok(id, strlen(id)) ||
	    addr_canonical(addr, len, c.canon, sizeof(c.canon)) == -1)
		return -1;
	memcpy(c.addr, addr, len + 1);
	memcpy(c.id, id, SPOOL_ID_LEN + 1);
	c.expires = expires;
	if (confirm_mac(key, form, &c, c.mac) == -1)
		return -1;
	text_hex(addr, len, hex);
	snprintf(out, CONFIRM_TOKEN_SIZE, "%lld.%s.%s.%s",
	    (long long)expires, id, hex, c.mac);
	return 0;
}

/* EXPIRES "." ID "." at tok[0..*len): the first two fields into c. */
static int
confirm_head(const char *tok, size_t len, struct confirm_claim *c,
    size_t *used)
{
	size_t	 i = 0;
	long long t = 0;

	if (len == 0 || tok[0] < '1' || tok[0] > '9')
		return -1;
	for (; i < len && i < CONFIRM_TIME_DIGITS && tok[i] >= '0' &&
	    tok[i] <= '9'; i++)
		t = t * 10 + (tok[i] - '0');
	if (i == len || tok[i] != '.' || len - i - 1 < SPOOL_ID_LEN + 1 ||
	    !confirm_id_ok(tok + i + 1, SPOOL_ID_LEN) ||
	    tok[i + 1 + SPOOL_ID_LEN] != '.')
		return -1;
	c->expires = (time_t)t;
	memcpy(c->id, tok + i + 1, SPOOL_ID_LEN);
	c->id[SPOOL_ID_LEN] = '\0';
	*used = i + 1 + SPOOL_ID_LEN + 1;
	return 0;
}

/* A lower-case hex digit's value, or -1 (upper case too: one spelling). */
static int
confirm_hexval(char c)
{
	return c >= 'A' && c <= 'F' ? -1 : text_hexval((unsigned char)c);
}

/* Lower-case hex of 1..ADDR_MAX octets, then "." and the MAC, to end. */
static int
confirm_tail(const char *p, size_t len, struct confirm_claim *c)
{
	const char	*dot = memchr(p, '.', len);
	size_t		 hlen, i;
	int		 hi, lo;

	if (dot == NULL || (hlen = (size_t)(dot - p)) == 0 || hlen % 2 != 0 ||
	    hlen > 2 * ADDR_MAX || len - hlen - 1 != CONFIRM_MAC_HEX)
		return -1;
	for (i = 0; i < hlen; i += 2) {
		if ((hi = confirm_hexval(p[i])) == -1 ||
		    (lo = confirm_hexval(p[i + 1])) == -1)
			return -1;
		c->addr[i / 2] = (char)(hi << 4 | lo);
	}
	c->addr[hlen / 2] = '\0';
	for (i = 0; i < CONFIRM_MAC_HEX; i++)
		if (confirm_hexval(dot[1 + i]) == -1)
			return -1;
	memcpy(c->mac, dot + 1, CONFIRM_MAC_HEX);
	c->mac[CONFIRM_MAC_HEX] = '\0';
	return addr_canonical(c->addr, hlen / 2, c->canon,
	    sizeof(c->canon)) == -1 ? -1 : 0;
}

enum confirm_err
confirm_check(const unsigned char key[CONFIRM_KEY_LEN], const char *form,
    const char *tok, size_t len, time_t now, struct confirm_claim *out)
{
	char	 mac[CONFIRM_MAC_HEX + 1];
	size_t	 used;

	if (tok == NULL || form == NULL || len > CONFIRM_TOKEN_MAX ||
	    confirm_head(tok, len, out, &used) == -1 ||
	    confirm_tail(tok + used, len - used, out) == -1)
		return CONFIRM_EINVAL;
	if (confirm_mac(key, form, out, mac) == -1)
		return CONFIRM_EINVAL;
	if (CRYPTO_memcmp(mac, out->mac, CONFIRM_MAC_HEX) != 0)
		return CONFIRM_EMAC;
	if (out->expires <= now)
		return CONFIRM_EEXPIRED;
	return CONFIRM_OK;
}
