/*
 * test_text_diff: the four UTF-8 decoders of the tree before lib/text.c
 * (form.c form_utf8, message.c utf8_char, validate.c validate_utf8_next
 * and dmarc_report.c utf8_check) over every sequence of 1 to 3 octets and
 * the 4-octet boundary ranges (every lead and second octet, the third and
 * fourth from the continuation range's edges).  The first three agreed on
 * length, code point and refusal and are now lib/text.h's text_utf8_next
 * (message.c's base64 gave the same octets as text_base64 too); left is
 * the DMARC parser's check of a whole text, which must accept exactly the
 * texts text_utf8_next decodes to the end, but for its own caller policy
 * (XML 1.0 section 2.2 Char): C0 controls other than TAB, LF, CR and the
 * noncharacters U+FFFE, U+FFFF are refused on top.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "t.h"
#include "text_diff.h"

static unsigned long	 mismatches, compared;

static void
report(const unsigned char *s, size_t len, const char *what,
    size_t want, uint32_t wcp, size_t got, uint32_t gcp)
{
	char	 hex[16];
	size_t	 i;

	t_checks++;
	if (mismatches++ >= 20)
		return;		/* the count says how many more */
	t_failed++;
	for (i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", s[i]);
	fprintf(stderr, "FAIL %s on %s: expected %zu U+%04X, got %zu U+%04X\n",
	    what, hex, want, (unsigned)wcp, got, (unsigned)gcp);
}

/* Whole-text acceptance by the reference decoder (validate.c's), with the
 * XML Char policy when xml is set. */
static int
whole_ok(const unsigned char *s, size_t len, int xml)
{
	size_t		 i, n;
	uint32_t	 cp;

	for (i = 0; i < len; i += n) {
		if ((n = diff_validate_utf8(s + i, len - i, &cp)) == 0)
			return 0;
		if (xml && ((cp < 0x20 && cp != '\t' && cp != '\n' &&
		    cp != '\r') || cp == 0xfffe || cp == 0xffff))
			return 0;
	}
	return 1;
}

static void
one(const unsigned char *s, size_t len)
{
	compared++;
	if ((diff_dmarc_utf8(s, len) == 0) != whole_ok(s, len, 1))
		report(s, len, "utf8_check", (size_t)whole_ok(s, len, 1), 0,
		    (size_t)(diff_dmarc_utf8(s, len) == 0), 0);
}

int
main(void)
{
	static const unsigned char	 edge[] = { 0x00, 0x7f, 0x80, 0x81,
	    0x8f, 0x90, 0xbf, 0xc0, 0xff };
	unsigned char	 s[4];
	unsigned	 a, b, c, d;
	unsigned long	 accepted = 0;
	size_t		 n;
	uint32_t	 cp;

	for (a = 0; a < 256; a++) {
		s[0] = (unsigned char)a;
		one(s, 1);
		for (b = 0; b < 256; b++) {
			s[1] = (unsigned char)b;
			one(s, 2);
			for (c = 0; c < 256; c++) {
				s[2] = (unsigned char)c;
				one(s, 3);
				if (diff_validate_utf8(s, 3, &cp) == 3)
					accepted++;
			}
			for (c = 0; c < sizeof(edge); c++)
				for (d = 0; d < sizeof(edge); d++) {
					s[2] = edge[c];
					s[3] = edge[d];
					one(s, 4);
				}
		}
	}
	/* Table 3-7 of the Unicode Standard: 0x800 - 0x800 surrogates of the
	 * 3-octet forms are U+0800..U+FFFF without U+D800..U+DFFF. */
	T_INT(accepted, 0x10000 - 0x800 - 0x800, "3-octet forms accepted");
	n = diff_validate_utf8((const unsigned char *)"\xf4\x8f\xbf\xbf", 4,
	    &cp);
	T_OK(n == 4 && cp == 0x10ffff, "U+10FFFF: %zu %x", n, (unsigned)cp);
	T_INT(diff_validate_utf8((const unsigned char *)"\xf4\x90\x80\x80", 4,
	    &cp), 0, "over U+10FFFF");
	printf("%lu sequences through the decoders\n", compared);
	if (mismatches > 0)
		fprintf(stderr, "%lu mismatches\n", mismatches);
	T_INT(mismatches, 0, "mismatches");
	T_DONE();
}
