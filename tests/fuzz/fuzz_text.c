/*
 * fuzz_text: lib/text.c's decoders on arbitrary octets.  Invariants
 * (abort() on violation):
 *  - text_utf8_next at every offset gives exactly the length and code
 *    point of the Unicode Standard's table of well-formed byte sequences
 *    (chapter 3, table 3-7), or 0 where the table has none; what it
 *    accepts text_utf8_put writes back octet for octet;
 *  - text_base64_decode accepts only canonical base64: what it decodes
 *    encodes back to the input; text_base64 of the input (flat and in
 *    lines) is as long as promised and decodes back to the input;
 *  - text_hex writes two digits per octet that text_hexval reads back;
 *  - text_name_ok (the autoresponder's name rule) accepts only header
 *    text of at most max code points holding no ASCII digit, '@', '.',
 *    ':', '/', '$', '<' or '&', no space first or last, no two in a row,
 *    no combining mark first, no Hangul filler, grapheme joiner or Lisu
 *    tone letter.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/text.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Longer inputs are cut: the checks are per octet. */
#define FZ_MAX	4096

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

static size_t
fz_seq(const uint8_t *s, size_t len, uint32_t *cp)
{
	static const uint32_t	 mask[] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
	size_t			 r, i, n;

	if (len == 0)
		return 0;
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

static void
fz_utf8(const uint8_t *s, size_t len)
{
	char		 d[4];
	uint32_t	 cp, rcp;
	size_t		 i, n, rn;

	for (i = 0; i < len; i++) {
		cp = rcp = 0;
		n = text_utf8_next(s + i, len - i, &cp);
		rn = fz_seq(s + i, len - i, &rcp);
		if (n != rn || (n > 0 && cp != rcp))
			abort();
		if (n > 0 && (text_utf8_put(d, cp) != n ||
		    memcmp(d, s + i, n) != 0))
			abort();
	}
}

static void
fz_base64(const uint8_t *s, size_t len)
{
	static unsigned char	 dec[FZ_MAX];
	struct buf		 b = BUF_INIT;
	size_t			 n;

	if (text_base64_decode((const char *)s, len, dec, &n) == 0) {
		if (n > len / 4 * 3 || text_base64(&b, dec, n, 0) == -1 ||
		    b.len != len || memcmp(b.data, s, len) != 0)
			abort();
	}
	buf_reset(&b);
	if (text_base64(&b, s, len, 0) == -1 ||
	    b.len != TEXT_BASE64_LEN(len))
		abort();
	if (len > 0 && (text_base64_decode(b.data, b.len, dec, &n) == -1 ||
	    n != len || memcmp(dec, s, len) != 0))
		abort();
	buf_reset(&b);
	if (text_base64(&b, s, len, 1) == -1 || (len > 0 &&
	    (b.len < 2 || memcmp(b.data + b.len - 2, "\r\n", 2) != 0)))
		abort();
	buf_free(&b);
}

static void
fz_hex(const uint8_t *s, size_t len)
{
	static char	 hex[2 * 64 + 1];
	size_t		 i, n = len < 64 ? len : 64;

	text_hex(s, n, hex);
	if (strlen(hex) != 2 * n)
		abort();
	for (i = 0; i < n; i++)
		if (text_hexval((unsigned char)hex[2 * i]) * 16 +
		    text_hexval((unsigned char)hex[2 * i + 1]) != s[i])
			abort();
}

static void
fz_name(const uint8_t *data, size_t size)
{
	const char	*s = (const char *)data;
	size_t		 i, max = size > 0 ? data[0] % 64 : 60;
	uint32_t	 cp;

	if (!text_name_ok(s, size, max))
		return;
	if (size == 0 || text_header_ok(s, size) != TEXT_OK ||
	    text_utf8_len(s, size) > max || s[0] == ' ' || s[size - 1] == ' ')
		abort();
	for (i = 0; i < size; i++)
		if ((s[i] >= '0' && s[i] <= '9') || strchr("@.:/$<&\t", s[i]) !=
		    NULL || (s[i] == ' ' && i + 1 < size && s[i + 1] == ' '))
			abort();
	/* No combining mark first; no Hangul filler (U+3164), grapheme
	 * joiner (U+034F) or Lisu tone letter (U+A4F8..U+A4FF) at all. */
	if (text_utf8_next(data, size, &cp) == 0 || (cp >= 0x300 &&
	    cp <= 0x36f))
		abort();
	for (i = 0; i + 1 < size; i++)
		if ((data[i] == 0xcd && data[i + 1] == 0x8f) ||
		    (i + 2 < size && ((data[i] == 0xe3 && data[i + 1] == 0x85 &&
		    data[i + 2] == 0xa4) || (data[i] == 0xea &&
		    data[i + 1] == 0x93 && data[i + 2] >= 0xb8))))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FZ_MAX)
		size = FZ_MAX;
	fz_utf8(data, size);
	fz_base64(data, size);
	fz_hex(data, size);
	fz_name(data, size);
	return 0;
}
