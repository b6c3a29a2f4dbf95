/*
 * fuzz_address: addr_spec_ok and addr_mailbox_parse on arbitrary
 * octets.  Invariants (abort() on violation):
 *  - an accepted addr-spec holds only atext, '.' and exactly one '@';
 *    its local part is 1..64 octets without a leading, trailing or double
 *    dot, its domain 1..253 octets of LDH labels of 1..63 octets, at least
 *    two, none with a '-' at either end, the last not all digits; the
 *    whole at most 254 octets;
 *  - addr_mailbox_parse (on NUL-free input) accepts the bare input exactly
 *    when addr_spec_ok does, and "<input>" likewise, both with an
 *    empty display name and the address unchanged;
 *  - whatever addr_mailbox_parse accepts has an address that passes
 *    addr_spec_ok and a display name that passes
 *    text_header_ok; on refusal both outputs are NULL;
 *  - addr_canonical (the per-address budget's key) accepts exactly what
 *    addr_spec_ok accepts; its key is no longer than the input, holds one
 *    '@', no upper case, and no '.', '+', '-' or '=' before the '@'; the
 *    key of a key that is itself an addr-spec is the same key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/text.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
fz_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    memchr("!#$%&'*+-/=?^_`{|}~", c, 19) != NULL);
}

static int
fz_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

static void
fz_check_addr(const uint8_t *s, size_t len)
{
	size_t	 i, at = 0, ats = 0, label = 0, labels = 0;
	int	 digits = 1;

	if (len == 0 || len > ADDR_MAX)
		abort();
	for (i = 0; i < len; i++) {
		if (s[i] == '@') {
			ats++;
			at = i;
		} else if (s[i] != '.' && !fz_atext(s[i]))
			abort();
	}
	if (ats != 1 || at == 0 || at > ADDR_MAX_LOCAL ||
	    len - at - 1 == 0 || len - at - 1 > ADDR_MAX_DOMAIN)
		abort();
	if (s[0] == '.' || s[at - 1] == '.')
		abort();
	for (i = 0; i + 1 < at; i++)
		if (s[i] == '.' && s[i + 1] == '.')
			abort();
	for (i = at + 1; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (label == 0 || label > 63 || s[i - 1] == '-' ||
			    s[i - label] == '-')
				abort();
			labels++;
			if (i < len) {
				label = 0;
				digits = 1;
			}
		} else {
			if (!fz_ldh(s[i]))
				abort();
			if (s[i] < '0' || s[i] > '9')
				digits = 0;
			label++;
		}
	}
	if (labels < 2 || digits)
		abort();
}

static int
fz_mailbox(const char *s, char **d, char **a)
{
	static char	 sentinel[] = "sentinel";
	int		 rc;

	*d = *a = sentinel;
	rc = addr_mailbox_parse(s, d, a);
	if (rc == -1) {
		if (*d != NULL || *a != NULL)
			abort();
		return -1;
	}
	if (rc != 0 || *d == NULL || *a == NULL ||
	    !addr_spec_ok(*a, strlen(*a)) ||
	    text_header_ok(*d, strlen(*d)) != TEXT_OK)
		abort();
	return 0;
}

static void
fz_canonical(const uint8_t *data, size_t size, int ok)
{
	char	 k[ADDR_MAX + 1], k2[ADDR_MAX + 1];
	int	 n, m;
	size_t	 i, ats = 0;

	n = addr_canonical((const char *)data, size, k, sizeof(k));
	if ((n >= 0) != ok || (n == -1 && k[0] != '\0'))
		abort();
	if (n < 0)
		return;
	if ((size_t)n > size || strlen(k) != (size_t)n)
		abort();
	for (i = 0; i < (size_t)n; i++) {
		if (k[i] == '@')
			ats++;
		else if (k[i] >= 'A' && k[i] <= 'Z')
			abort();
		else if (ats == 0 && strchr(".+-=", k[i]) != NULL)
			abort();
	}
	if (ats != 1)
		abort();
	if (addr_spec_ok(k, (size_t)n)) {
		m = addr_canonical(k, (size_t)n, k2, sizeof(k2));
		if (m != n || strcmp(k, k2) != 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s = NULL, *d, *a;
	int	 ok, plain;

	ok = addr_spec_ok((const char *)data, size);
	if (ok != 0 && ok != 1)
		abort();
	if (ok)
		fz_check_addr(data, size);
	fz_canonical(data, size, ok);

	if (memchr(data, '\0', size) != NULL || size > 4096)
		return 0;
	if ((s = malloc(size + 3)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	/* Surrounding spaces are ignored: compare with the bare test only
	 * when there are none. */
	plain = size > 0 && data[0] != ' ' && data[size - 1] != ' ';
	if (fz_mailbox(s, &d, &a) == 0) {
		if (plain && data[size - 1] != '>' && (!ok || d[0] != '\0' ||
		    strcmp(a, s) != 0))
			abort();
		free(d);
		free(a);
	} else if (ok)
		abort();

	s[0] = '<';
	memcpy(s + 1, data, size);
	s[size + 1] = '>';
	s[size + 2] = '\0';
	if (fz_mailbox(s, &d, &a) == 0) {
		if (!ok || d[0] != '\0' || strlen(a) != size ||
		    memcmp(a, data, size) != 0)
			abort();
		free(d);
		free(a);
	} else if (ok)
		abort();
	free(s);
	return 0;
}
