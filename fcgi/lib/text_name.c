/*
 * text_name: the name rule of text.h (text_name_ok), on the generated
 * tables of Unicode letters and marks.
 */
#include <stddef.h>
#include <stdint.h>

#include "lib/text.h"
#include "lib/text_letters_int.h"

#define TEXT_NLETTERS	(sizeof(text_letters) / sizeof(text_letters[0]))
#define TEXT_NMARKS	(sizeof(text_marks) / sizeof(text_marks[0]))
/* Marks on one letter: Vietnamese needs 2, Tibetan and Hebrew stacks 3
 * or 4; "Zalgo" text that spills over the lines around it, dozens. */
#define TEXT_NAME_MARKS	4

/*
 * Letters and marks that are refused all the same: invisible ones (the
 * Hangul fillers, the grapheme joiner, Khmer inherent vowels, variation
 * selectors), which would hide what a name is, and letters drawn like
 * the punctuation of a URL or an address (Lisu tone letters . , .. .,
 * ; : - =, the sinological dot, the triangular colons, the clicks | ||
 * ! and the araea dots), which would spell "spam.example" in letters.
 */
static const uint32_t text_name_refused[][2] = {
	{ 0x01c0, 0x01c3 }, { 0x02d0, 0x02d1 }, { 0x034f, 0x034f },
	{ 0x115f, 0x1160 }, { 0x119e, 0x119e }, { 0x17b4, 0x17b5 },
	{ 0x180b, 0x180f }, { 0x3164, 0x3164 }, { 0x318d, 0x318d },
	{ 0xa4f8, 0xa4ff }, { 0xa78f, 0xa78f }, { 0xfe00, 0xfe0f },
	{ 0xffa0, 0xffa0 },
};

#define TEXT_NREFUSED	(sizeof(text_name_refused) / \
			    sizeof(text_name_refused[0]))

/* Whether c is in one of the n sorted ranges t, by binary search. */
static int
text_in(const uint32_t t[][2], size_t n, uint32_t c)
{
	size_t	 lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (c < t[mid][0])
			hi = mid;
		else if (c > t[mid][1])
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
	size_t			 i, n, cps = 0, marks = 0;
	int			 letters = 0;

	if (s == NULL || len == 0)
		return 0;
	for (i = 0; i < len; i += n) {
		if ((n = text_utf8_next(u + i, len - i, &c)) == 0 ||
		    ++cps > max ||
		    text_in(text_name_refused, TEXT_NREFUSED, c))
			return 0;
		if (text_in(text_marks, TEXT_NMARKS, c)) {
			/* On a letter (or its marks), a few at a time. */
			if (!text_in(text_letters, TEXT_NLETTERS, prev) ||
			    ++marks > TEXT_NAME_MARKS)
				return 0;
		} else if (text_in(text_letters, TEXT_NLETTERS, c)) {
			letters = 1;
			marks = 0;
		} else if (c == ' ') {
			if (prev == ' ')
				return 0;	/* first, or two in a row */
		} else if (c != '\'' && c != 0x2019 && c != '-' &&
		    c != 0x2010)
			return 0;
		prev = c;
	}
	return letters && prev != ' ';
}
