/*
 * text_name: the name rule of text.h (text_name_ok), on the generated
 * table of Unicode letters and marks.
 */
#include <stddef.h>
#include <stdint.h>

#include "lib/text.h"
#include "lib/text_letters_int.h"

#define TEXT_NLETTERS	(sizeof(text_letters) / sizeof(text_letters[0]))

/* A letter or mark of Unicode (text_letters_int.h), by binary search. */
static int
text_letter(uint32_t c)
{
	size_t	 lo = 0, hi = TEXT_NLETTERS, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (c < text_letters[mid][0])
			hi = mid;
		else if (c > text_letters[mid][1])
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

int
text_name_ok(const char *s, size_t len, size_t max)
{
	const unsigned char	*u = (const unsigned char *)s;
	uint32_t		 c, prev = ' ';
	size_t			 i, n, cps = 0;
	int			 letters = 0;

	if (s == NULL || len == 0)
		return 0;
	for (i = 0; i < len; i += n) {
		if ((n = text_utf8_next(u + i, len - i, &c)) == 0 ||
		    ++cps > max)
			return 0;
		if (text_letter(c))
			letters = 1;
		else if (c == ' ') {
			if (prev == ' ')
				return 0;	/* first, or two in a row */
		} else if (c != '\'' && c != 0x2019 && c != '-' &&
		    c != 0x2010)
			return 0;
		prev = c;
	}
	return letters && prev != ' ';
}
