/*
 * fuzz_accept_language: lang_negotiate on arbitrary octets.  The first
 * octet is the set of languages offered, the rest the header value (cut
 * at the first NUL, as FastCGI parameters are).  Invariants (abort() on
 * violation):
 *  - the answer is a language, one of the set when the set is not empty,
 *    English when it is;
 *  - octets past LANG_MAX_ACCEPT change nothing;
 *  - a value behind a first range "L" (q=1) of an offered language is
 *    answered L: nothing that follows outranks it;
 *  - a last member that is malformed (";q=2") or names no language we
 *    have ("x-y;q=1") changes nothing;
 *  - the same value gives the same answer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lang.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const tails[] = { ",de;q=2", ", zz;q=1",
	    ",;", ",x-y;q=1", ", *de" };
	unsigned int	 have;
	char		*s, *t;
	size_t		 n, i;
	enum lang	 got, l;

	if (size == 0)
		return 0;
	have = data[0] & LANG_ALL;
	n = strnlen((const char *)data + 1, size - 1);
	if ((s = malloc(n + 1)) == NULL || (t = malloc(n + 32)) == NULL)
		abort();
	memcpy(s, data + 1, n);
	s[n] = '\0';
	got = lang_negotiate(s, have);
	if ((unsigned int)got >= LANG_COUNT || lang_tag(got) == NULL)
		abort();
	if (have != 0 && !(have & LANG_BIT(got)))
		abort();
	if (have == 0 && got != LANG_EN)
		abort();
	if (lang_negotiate(s, have) != got)
		abort();
	if (n > LANG_MAX_ACCEPT) {
		memcpy(t, s, LANG_MAX_ACCEPT);
		t[LANG_MAX_ACCEPT] = '\0';
		if (lang_negotiate(t, have) != got)
			abort();
	} else {
		for (i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
			/* Not where the cut at LANG_MAX_ACCEPT would leave
			 * a part of the tail ("de" of ",de;q=2"). */
			if (n + strlen(tails[i]) > LANG_MAX_ACCEPT)
				continue;
			snprintf(t, n + 32, "%s%s", s, tails[i]);
			if (lang_negotiate(t, have) != got)
				abort();
		}
		for (l = 0; l < LANG_COUNT; l++) {
			if (!(have & LANG_BIT(l)))
				continue;
			snprintf(t, n + 32, "%s,%s", lang_tag(l), s);
			if (lang_negotiate(t, have) != l)
				abort();
		}
	}
	free(s);
	free(t);
	return 0;
}
