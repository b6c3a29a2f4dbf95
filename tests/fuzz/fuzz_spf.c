/*
 * fuzz_spf: spf_terms_check and spf_is_record (lib/spf.c) on arbitrary
 * octets (cut at the first NUL for the terms, as C strings are; all of
 * them for the record).  Invariants (abort() on violation):
 *  - spf_terms_check returns 0 or -1; -1 comes with a non-empty reason
 *    of printable ASCII only (the bad term is escaped);
 *  - an accepted value is at most SPF_MAX octets of printable ASCII
 *    without " \ ; or %, holds at least one term, and every term is an
 *    optional qualifier and one of ip4: ip6: include: exists: a mx (any
 *    case), never all, ptr, v= or a modifier; an ip4:/ip6: address reads
 *    back with inet_pton; at most SPF_LOOKUPS terms are not ip4/ip6;
 *  - spf_is_record is 1 exactly for "v=spf1" (any case), alone or
 *    before a space.
 */
#include <arpa/inet.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/spf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Length of the mechanism name at t (up to ':', '/', '=' or the end). */
static size_t
fz_name(const char *t, size_t n)
{
	size_t	 k = 0;

	while (k < n && t[k] != ':' && t[k] != '/' && t[k] != '=')
		k++;
	return k;
}

static int
fz_is(const char *t, size_t k, const char *name)
{
	return k == strlen(name) && strncasecmp(t, name, k) == 0;
}

/* One accepted term of n octets; returns 1 when it costs a lookup. */
static int
fz_term(const char *t, size_t n)
{
	char		 addr[64];
	unsigned char	 bin[16];
	size_t		 k, a;

	if (strchr("+-~?", *t) != NULL) {
		t++;
		n--;
	}
	k = fz_name(t, n);
	if (k < n && t[k] == '=')
		abort();
	if (fz_is(t, k, "ip4") || fz_is(t, k, "ip6")) {
		if (k == n || t[k] != ':')
			abort();
		for (a = 0; k + 1 + a < n && t[k + 1 + a] != '/'; a++)
			;
		if (a >= sizeof(addr))
			abort();
		memcpy(addr, t + k + 1, a);
		addr[a] = '\0';
		if (inet_pton(t[2] == '6' ? AF_INET6 : AF_INET, addr, bin) != 1)
			abort();
		return 0;
	}
	if (!fz_is(t, k, "include") && !fz_is(t, k, "exists") &&
	    !fz_is(t, k, "a") && !fz_is(t, k, "mx"))
		abort();
	return 1;
}

static void
fz_terms(const char *s)
{
	char		 err[256];
	const char	*t;
	size_t		 n, terms = 0;
	int		 rc, lookups = 0;

	err[0] = '\0';
	rc = spf_terms_check(s, err, sizeof(err));
	if (rc == -1) {
		if (err[0] == '\0')
			abort();
		for (t = err; *t != '\0'; t++)
			if (*t < 0x20 || *t > 0x7e)
				abort();
		return;
	}
	if (rc != 0 || strlen(s) > SPF_MAX || strpbrk(s, "\"\\;%") != NULL)
		abort();
	for (t = s; *t != '\0'; t++)
		if (*t < 0x20 || *t > 0x7e)
			abort();
	for (t = s; *t != '\0'; t += n) {
		t += strspn(t, " ");
		if ((n = strcspn(t, " ")) == 0)
			continue;
		terms++;
		if (n >= 2 && strncasecmp(t, "v=", 2) == 0)
			abort();
		lookups += fz_term(t, n);
	}
	if (terms == 0 || lookups > SPF_LOOKUPS)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s;
	int	 ref;

	if (size > 4096 || (s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	ref = size >= 6 && strncasecmp(s, "v=spf1", 6) == 0 &&
	    (size == 6 || s[6] == ' ');
	if (spf_is_record(s, size) != ref)
		abort();
	fz_terms(s);
	free(s);
	return 0;
}
