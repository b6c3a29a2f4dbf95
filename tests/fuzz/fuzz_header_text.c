/*
 * fuzz_header_text: text_header_ok, text_body_ok,
 * text_utf8_len and text_field_name_ok against an independent
 * decoder written from the Unicode Standard's table of well-formed byte
 * sequences (chapter 3, table 3-7).  Invariants (abort() on violation):
 *  - both checks give exactly the reference answer: the first problem in
 *    the text decides between TEXT_UTF8 and _CONTROL;
 *  - in particular header OK means no C0, DEL, C1, U+2028, U+2029, no
 *    bidi embedding, override or isolate (U+202A..E, U+2066..9) and no
 *    ill-formed sequence, and body OK whenever header OK;
 *  - text_utf8_len counts the reference's code points;
 *  - text_field_name_ok is "1..64 octets and header OK".
 */
#include <stdint.h>
#include <stdlib.h>

#include "lib/text.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Table 3-7: lead range, the second octet's range, total length. */
static const struct {
	uint8_t	 lo, hi, lo2, hi2, n;
} fz_rows[] = {
	{ 0x00, 0x7f, 0x00, 0x00, 1 },
	{ 0xc2, 0xdf, 0x80, 0xbf, 2 },
	{ 0xe0, 0xe0, 0xa0, 0xbf, 3 },
	{ 0xe1, 0xec, 0x80, 0xbf, 3 },
	{ 0xed, 0xed, 0x80, 0x9f, 3 },
	{ 0xee, 0xef, 0x80, 0xbf, 3 },
	{ 0xf0, 0xf0, 0x90, 0xbf, 4 },
	{ 0xf1, 0xf3, 0x80, 0xbf, 4 },
	{ 0xf4, 0xf4, 0x80, 0x8f, 4 },
};

/* Length of the well-formed sequence at s, 0 if none; sets *cp. */
static size_t
fz_seq(const uint8_t *s, size_t len, uint32_t *cp)
{
	static const uint32_t	 mask[] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
	size_t			 r, i, n;

	for (r = 0; r < sizeof(fz_rows) / sizeof(fz_rows[0]); r++)
		if (s[0] >= fz_rows[r].lo && s[0] <= fz_rows[r].hi)
			break;
	if (r == sizeof(fz_rows) / sizeof(fz_rows[0]))
		return 0;
	n = fz_rows[r].n;
	if (len < n)
		return 0;
	if (n > 1 && (s[1] < fz_rows[r].lo2 || s[1] > fz_rows[r].hi2))
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	*cp = s[0] & mask[n];
	for (i = 1; i < n; i++)
		*cp = *cp * 64 + (s[i] - 0x80);
	return n;
}

/* Headers also refuse the bidi embeddings, overrides and isolates. */
static int
fz_forbidden(uint32_t c, int body)
{
	if (body && (c == 0x09 || c == 0x0a || c == 0x0d))
		return 0;
	if (!body && ((c >= 0x202a && c <= 0x202e) ||
	    (c >= 0x2066 && c <= 0x2069)))
		return 1;
	return c <= 0x1f || c == 0x7f || (c >= 0x80 && c <= 0x9f) ||
	    c == 0x2028 || c == 0x2029;
}

static int
fz_ref(const uint8_t *s, size_t len, int body, size_t *cps)
{
	size_t		 i, n;
	uint32_t	 c;

	*cps = 0;
	for (i = 0; i < len; i += n, (*cps)++) {
		if ((n = fz_seq(s + i, len - i, &c)) == 0)
			return TEXT_UTF8;
		if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			abort();	/* the table itself is wrong */
		if (fz_forbidden(c, body))
			return TEXT_CONTROL;
	}
	return TEXT_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*s = (const char *)data;
	int		 h, b, rh, rb;
	size_t		 cps;

	h = text_header_ok(s, size);
	b = text_body_ok(s, size);
	rh = fz_ref(data, size, 0, &cps);
	rb = fz_ref(data, size, 1, &cps);
	if (h != rh || b != rb)
		abort();
	if (h == TEXT_OK && b != TEXT_OK)
		abort();
	if (b == TEXT_OK && text_utf8_len(s, size) != cps)
		abort();
	if (text_field_name_ok(s, size) !=
	    (size >= 1 && size <= 64 && h == TEXT_OK))
		abort();
	return 0;
}
