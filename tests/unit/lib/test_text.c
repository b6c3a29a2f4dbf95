/*
 * test_text: lib/text.h: the UTF-8 decoder and encoder, the header and
 * body text classes, field names, hex, base64 and the small classes, each
 * against a table of hostile cases (overlongs, surrogates, truncated
 * sequences, NUL, CR/LF in header text, U+2028, bad base64).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/text.h"
#include "t.h"

/* Explicit length, so that tables may hold raw NUL octets. */
#define B(s)	(s), sizeof(s) - 1

/* ---- text_utf8_next ------------------------------------------------ */

struct utf8_case {
	const char	*s;
	size_t		 len;
	size_t		 n;	/* 0: refused */
	uint32_t	 cp;
};

static const struct utf8_case utf8_cases[] = {
	{ B("a"), 1, 'a' },
	{ B("\0"), 1, 0 },			/* NUL decodes: policy refuses */
	{ B("\r\n"), 1, '\r' },		/* one character at a time */
	{ B("\x7f"), 1, 0x7f },
	{ B("\xc2\x80"), 2, 0x80 },
	{ B("\xdf\xbf"), 2, 0x7ff },
	{ B("\xe0\xa0\x80"), 3, 0x800 },
	{ B("\xe2\x80\xa8"), 3, 0x2028 },	/* decodes: policy refuses */
	{ B("\xed\x9f\xbf"), 3, 0xd7ff },
	{ B("\xee\x80\x80"), 3, 0xe000 },
	{ B("\xef\xbf\xbf"), 3, 0xffff },
	{ B("\xf0\x90\x80\x80"), 4, 0x10000 },
	{ B("\xf4\x8f\xbf\xbf"), 4, 0x10ffff },
	{ B("\xc3\xa9\xff"), 2, 0xe9 },	/* what follows is not read */
	/* overlong forms */
	{ B("\xc0\x80"), 0, 0 },
	{ B("\xc0\x8a"), 0, 0 },		/* LF */
	{ B("\xc1\xbf"), 0, 0 },
	{ B("\xe0\x80\x80"), 0, 0 },
	{ B("\xe0\x9f\xbf"), 0, 0 },
	{ B("\xf0\x80\x80\x80"), 0, 0 },
	{ B("\xf0\x8f\xbf\xbf"), 0, 0 },
	/* surrogates */
	{ B("\xed\xa0\x80"), 0, 0 },
	{ B("\xed\xaf\xbf"), 0, 0 },
	{ B("\xed\xb0\x80"), 0, 0 },
	{ B("\xed\xbf\xbf"), 0, 0 },
	/* over U+10FFFF, never-used leads */
	{ B("\xf4\x90\x80\x80"), 0, 0 },
	{ B("\xf5\x80\x80\x80"), 0, 0 },
	{ B("\xf8\x88\x80\x80\x80"), 0, 0 },
	{ B("\xfe"), 0, 0 },
	{ B("\xff"), 0, 0 },
	/* stray continuations, truncations */
	{ B("\x80"), 0, 0 },
	{ B("\xbf"), 0, 0 },
	{ B("\xc3"), 0, 0 },
	{ B("\xc3" "a"), 0, 0 },
	{ B("\xe2\x82"), 0, 0 },
	{ B("\xe2\x82" "a"), 0, 0 },
	{ B("\xf0\x9f\x98"), 0, 0 },
	{ B("\xf0\x9f\x98" "a"), 0, 0 },
	{ B("\xe2\x80\xc0"), 0, 0 },
	{ "", 0, 0, 0 },			/* nothing to decode */
};

static void
test_utf8_next(void)
{
	const struct utf8_case	*c;
	uint32_t		 cp;
	size_t			 i, n;

	for (i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]); i++) {
		c = &utf8_cases[i];
		cp = 0xfffffff;
		n = text_utf8_next((const unsigned char *)c->s, c->len, &cp);
		T_OK(n == c->n && (n == 0 ? cp == 0xfffffff : cp == c->cp),
		    "utf8 case %zu [%s]: expected %zu U+%04X, got %zu U+%04X",
		    i, t_show(c->s, c->len), c->n, (unsigned)c->cp, n,
		    (unsigned)cp);
	}
	/* The length is honoured: a sequence cut by len is refused. */
	T_INT(text_utf8_next((const unsigned char *)"\xc3\xa9", 1, &cp), 0,
	    "cut in e-acute");
	T_INT(text_utf8_next((const unsigned char *)"\xf0\x9f\x98\x80", 3,
	    &cp), 0, "cut in U+1F600");
}

/* Every scalar value: encoded by text_utf8_put, decoded back whole. */
static void
test_utf8_put(void)
{
	unsigned char	 d[4];
	uint32_t	 cp, got;
	size_t		 n, want;
	unsigned long	 bad = 0;

	for (cp = 0; cp <= 0x10ffff; cp++) {
		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		want = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
		n = text_utf8_put((char *)d, cp);
		if (n != want || text_utf8_next(d, n, &got) != n ||
		    got != cp || text_utf8_next(d, n - 1, &got) != 0)
			bad++;
	}
	T_INT(bad, 0, "scalar values that do not round-trip");
}

/* ---- text ---------------------------------------------------------- */

enum { OK = TEXT_OK, U8 = TEXT_UTF8,
    CT = TEXT_CONTROL };

struct text_case {
	const char	*s;
	size_t		 len;
	int		 header, body;
	size_t		 cps;	/* code points, when OK */
};

static const struct text_case text_cases[] = {
	{ B(""), OK, OK, 0 },
	{ B("hello"), OK, OK, 5 },
	{ B("Re: =?utf-8?q?x?="), OK, OK, 17 },
	{ B("\xc3\x9cn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9 \xe2\x82\xac"), OK, OK, 9 },
	{ B("\xf0\x9f\x98\x80"), OK, OK, 1 },		/* U+1F600 */
	{ B("\xc2\xa0"), OK, OK, 1 },			/* NBSP */
	{ B("\xc2\xa0\xc2\xbf"), OK, OK, 2 },
	{ B("\xe2\x80\xa7"), OK, OK, 1 },		/* U+2027 */
	/* Bidi embeddings, overrides and isolates reorder what a reader
	 * sees ("Trojan Source"): refused in headers, kept in the body. */
	{ B("\xe2\x80\xaa"), CT, OK, 1 },		/* U+202A */
	{ B("a\xe2\x80\xae" "b"), CT, OK, 3 },	/* U+202E RLO */
	{ B("\xe2\x81\xa6" "x"), CT, OK, 2 },	/* U+2066 LRI */
	{ B("\xe2\x81\xa9"), CT, OK, 1 },		/* U+2069 PDI */
	{ B("\xe2\x81\xa5"), OK, OK, 1 },		/* U+2065, unassigned */
	{ B("\xe2\x80\x8f"), OK, OK, 1 },		/* U+200F RLM: kept */
	{ B("\xed\x9f\xbf"), OK, OK, 1 },		/* U+D7FF */
	{ B("\xee\x80\x80"), OK, OK, 1 },		/* U+E000 */
	{ B("\xef\xbb\xbf"), OK, OK, 1 },		/* BOM */
	{ B("\xef\xbf\xbf"), OK, OK, 1 },		/* U+FFFF */
	{ B("\xf0\x90\x80\x80"), OK, OK, 1 },		/* U+10000 */
	{ B("\xf4\x8f\xbf\xbf"), OK, OK, 1 },		/* U+10FFFF */
	{ B("~"), OK, OK, 1 },
	/* TAB CR LF: body only */
	{ B("\t"), CT, OK, 1 },
	{ B("\r"), CT, OK, 1 },
	{ B("\n"), CT, OK, 1 },
	{ B("a\r\nb"), CT, OK, 4 },
	{ B("x\r\nBcc: y@z.example"), CT, OK, 19 },
	{ B("line 1\nline 2\twith tab"), CT, OK, 22 },
	/* other C0, DEL: never */
	{ B("\0"), CT, CT, 0 },
	{ B("a\0b"), CT, CT, 0 },
	{ B("\x01"), CT, CT, 0 },
	{ B("\x0b"), CT, CT, 0 },
	{ B("\x0c"), CT, CT, 0 },
	{ B("\x1b[31m"), CT, CT, 0 },
	{ B("\x1f"), CT, CT, 0 },
	{ B("\x7f"), CT, CT, 0 },
	/* C1, LINE and PARAGRAPH SEPARATOR */
	{ B("\xc2\x80"), CT, CT, 0 },
	{ B("\xc2\x85"), CT, CT, 0 },			/* NEL */
	{ B("\xc2\x9b"), CT, CT, 0 },			/* CSI */
	{ B("\xc2\x9f"), CT, CT, 0 },
	{ B("a\xe2\x80\xa8" "b"), CT, CT, 0 },
	{ B("a\xe2\x80\xa9" "b"), CT, CT, 0 },
	/* overlong forms */
	{ B("\xc0\x80"), U8, U8, 0 },
	{ B("\xc0\xaf"), U8, U8, 0 },
	{ B("\xc1\xbf"), U8, U8, 0 },
	{ B("\xe0\x80\xaf"), U8, U8, 0 },
	{ B("\xe0\x9f\xbf"), U8, U8, 0 },
	{ B("\xf0\x80\x80\xaf"), U8, U8, 0 },
	{ B("\xf0\x8f\xbf\xbf"), U8, U8, 0 },
	{ B("\xe0\x80\x8a"), U8, U8, 0 },		/* LF, overlong */
	/* surrogates */
	{ B("\xed\xa0\x80"), U8, U8, 0 },
	{ B("\xed\xbf\xbf"), U8, U8, 0 },
	{ B("\xed\xa0\xbd\xed\xb8\x80"), U8, U8, 0 },	/* CESU-8 pair */
	/* beyond U+10FFFF, bytes never used */
	{ B("\xf4\x90\x80\x80"), U8, U8, 0 },
	{ B("\xf5\x80\x80\x80"), U8, U8, 0 },
	{ B("\xf7\xbf\xbf\xbf"), U8, U8, 0 },
	{ B("\xf8\x88\x80\x80\x80"), U8, U8, 0 },
	{ B("\xfc\x84\x80\x80\x80\x80"), U8, U8, 0 },
	{ B("\xfe"), U8, U8, 0 },
	{ B("\xff"), U8, U8, 0 },
	/* truncated sequences, stray continuation octets */
	{ B("\xc3"), U8, U8, 0 },
	{ B("a\xc3"), U8, U8, 0 },
	{ B("\xc3" "a"), U8, U8, 0 },
	{ B("\xe2\x82"), U8, U8, 0 },
	{ B("\xe2\x82" "a"), U8, U8, 0 },
	{ B("\xf0\x9f\x98"), U8, U8, 0 },
	{ B("\x80"), U8, U8, 0 },
	{ B("\xbf"), U8, U8, 0 },
	{ B("a\x80" "b"), U8, U8, 0 },
	{ B("\xc3\xa9\xa9"), U8, U8, 0 },
	/* the first problem decides */
	{ B("\x01\xff"), CT, CT, 0 },
	{ B("\xff\x01"), U8, U8, 0 },
	{ B("\t\xff"), CT, U8, 0 },
};

static void
test_classes(void)
{
	const struct text_case	*c;
	size_t			 i;
	int			 h, b;

	for (i = 0; i < sizeof(text_cases) / sizeof(text_cases[0]); i++) {
		c = &text_cases[i];
		h = text_header_ok(c->s, c->len);
		b = text_body_ok(c->s, c->len);
		T_OK(h == c->header, "text case %zu [%s]: header expected %d, "
		    "got %d", i, t_show(c->s, c->len), c->header, h);
		T_OK(b == c->body, "text case %zu [%s]: body expected %d, "
		    "got %d", i, t_show(c->s, c->len), c->body, b);
		if (c->body == OK)
			T_OK(text_utf8_len(c->s, c->len) == c->cps,
			    "text case %zu [%s]: expected %zu code points, "
			    "got %zu", i, t_show(c->s, c->len), c->cps,
			    text_utf8_len(c->s, c->len));
	}
	/* the length is honoured, not the NUL */
	T_INT(text_header_ok("ab\r\n", 2), OK, "prefix ab");
	T_INT(text_header_ok("\xc3\xa9", 1), U8, "prefix cut in é");
}

struct name_case {
	const char	*s;
	size_t		 len;
	int		 want;
};

static const struct name_case name_cases[] = {
	{ B("name"), 1 },
	{ B("a b"), 1 },
	{ B("_gotcha"), 1 },
	{ B("Pr\xc3\xa9nom"), 1 },
	{ B("x"), 1 },
	{ B(""), 0 },
	{ B("a\tb"), 0 },
	{ B("a\nb"), 0 },
	{ B("a\r"), 0 },
	{ B("a\0b"), 0 },
	{ B("\x7f"), 0 },
	{ B("\xc2\x85"), 0 },
	{ B("a\xe2\x80\xa8"), 0 },
	{ B("\xff"), 0 },
	{ B("\xc0\xae"), 0 },
};

static void
test_field_name(void)
{
	char	 s[80];
	size_t	 i;

	for (i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++)
		T_OK(text_field_name_ok(name_cases[i].s, name_cases[i].len) ==
		    name_cases[i].want, "name case %zu [%s]: expected %d, "
		    "got %d", i, t_show(name_cases[i].s, name_cases[i].len),
		    name_cases[i].want, !name_cases[i].want);
	memset(s, 'a', sizeof(s));
	T_INT(text_field_name_ok(s, 64), 1, "name of 64 octets");
	T_INT(text_field_name_ok(s, 65), 0, "name of 65 octets");
	/* octets, not code points: 32 é is 64 octets, 33 is 66 */
	for (i = 0; i < 33; i++)
		memcpy(s + 2 * i, "\xc3\xa9", 2);
	T_INT(text_field_name_ok(s, 64), 1, "32 x é");
	T_INT(text_field_name_ok(s, 66), 0, "33 x é");
	T_INT(text_field_name_ok(NULL, 0), 0, "NULL");
}

/* ---- hex ------------------------------------------------------------ */

static void
test_hex(void)
{
	static const unsigned char	 in[] = { 0x00, 0x01, 0x7f, 0x80, 0xab,
	    0xff };
	char				 out[2 * sizeof(in) + 1];
	const char			*digits = "0123456789abcdefABCDEF";
	int				 c, want;

	memset(out, 'x', sizeof(out));
	text_hex(in, sizeof(in), out);
	T_STR(out, "00017f80abff", "text_hex");
	text_hex(in, 0, out);
	T_STR(out, "", "text_hex of nothing");
	for (c = 0; c < 256; c++) {
		want = -1;
		if (c != 0 && strchr(digits, c) != NULL)
			want = (int)(strchr(digits, c) - digits);
		if (want > 15)
			want -= 6;
		T_OK(text_hexval((unsigned char)c) == want,
		    "text_hexval(0x%02x): expected %d, got %d", c, want,
		    text_hexval((unsigned char)c));
	}
}

/* ---- base64 --------------------------------------------------------- */

static void
test_base64(void)
{
	/* RFC 4648 section 10. */
	static const struct {
		const char	*in, *out;
	} v[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	static const char *const refused[] = {
		"", "Zg", "Zg=", "Zg===", "Zh==", "Zm9=", "Z===", "====",
		"Zg==Zg==", "Zm9v\r\n", "Zm 9", "Zm9-", "Zm9_", "Zm9v=",
		"\0\0\0\0", "Zm\xc3\xa9",
	};
	struct buf	 b = BUF_INIT;
	unsigned char	 bin[300], dec[300];
	char		 flat[8];
	size_t		 i, n;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		buf_reset(&b);
		T_INT(text_base64(&b, v[i].in, strlen(v[i].in), 0), 0, "b64");
		T_STR(b.len ? b.data : "", v[i].out, v[i].in);
		n = text_base64_to(flat, v[i].in, strlen(v[i].in));
		T_OK(n == strlen(v[i].out) && memcmp(flat, v[i].out, n) == 0,
		    "text_base64_to [%s]", v[i].in);
		if (*v[i].out == '\0')
			continue;
		T_INT(text_base64_decode(v[i].out, strlen(v[i].out), dec, &n),
		    0, v[i].out);
		T_OK(n == strlen(v[i].in) && memcmp(dec, v[i].in, n) == 0,
		    "decode [%s]", v[i].out);
	}
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		T_OK(text_base64_decode(refused[i], strlen(refused[i]), dec,
		    &n) == -1, "refused [%s]", t_show(refused[i],
		    strlen(refused[i])));
	/* Lines of 76 with CRLF, the last one too; every length round-trips. */
	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)(i * 7 + 3);
	buf_reset(&b);
	T_INT(text_base64(&b, bin, 57, 1), 0, "one full line");
	T_INT(b.len, 78, "76 + CRLF");
	T_OK(memcmp(b.data + 76, "\r\n", 2) == 0, "ends with CRLF");
	buf_reset(&b);
	T_INT(text_base64(&b, bin, 58, 1), 0, "a second line");
	T_INT(b.len, 78 + 4 + 2, "76 + CRLF + 4 + CRLF");
	for (n = 1; n <= sizeof(bin); n++) {
		buf_reset(&b);
		if (text_base64(&b, bin, n, 0) == -1 ||
		    b.len != TEXT_BASE64_LEN(n) ||
		    text_base64_decode(b.data, b.len, dec, &i) == -1 ||
		    i != n || memcmp(dec, bin, n) != 0) {
			T_OK(0, "round trip of %zu octets", n);
			break;
		}
	}
	buf_reset(&b);
	T_INT(text_base64(&b, NULL, 1, 0), -1, "NULL with a length");
	T_INT(text_base64(&b, NULL, 0, 1), 0, "nothing");
	T_INT(b.len, 0, "nothing appended");
	buf_free(&b);
}

/* ---- small classes -------------------------------------------------- */

static void
test_classes_ascii(void)
{
	int	 c, al;

	for (c = -1; c < 256; c++) {
		al = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
		    (c >= 'a' && c <= 'z');
		T_OK(text_alnum(c) == al, "text_alnum(%d)", c);
		T_OK(text_wsp(c) == (c == ' ' || c == '\t'), "text_wsp(%d)",
		    c);
		T_OK(text_fws(c) == (c == ' ' || c == '\t' || c == '\r' ||
		    c == '\n'), "text_fws(%d)", c);
	}
	T_INT(text_alnum(0xe9), 0, "no Latin-1 letter");
}

/* ---- text_name_ok: the autoresponder's name rule ---------------- */

static const struct {
	const char	*s;
	int		 want;
} name_rule_cases[] = {
	{ "Ada", 1 },
	{ "Ada Lovelace", 1 },
	{ "Zo\xc3\xa9 O'Brien-Ha", 1 },		/* é */
	{ "Jean-Luc d\xe2\x80\x99" "Arc", 1 },		/* U+2019 */
	{ "Ren\xc3\xa9" "e\xe2\x80\x90" "Marie", 1 },	/* U+2010 hyphen */
	{ "\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd", 1 },	/* Cyrillic */
	{ "\xce\x9d\xce\xaf\xce\xba\xce\xbf\xcf\x82", 1 },	/* Greek */
	{ "\xe5\xb1\xb1\xe7\x94\xb0 \xe5\xa4\xaa\xe9\x83\x8e", 1 },
	{ "\xd9\x85\xd8\xad\xd9\x85\xd8\xaf", 1 },	/* Arabic */
	{ "\xe0\xa4\xb0\xe0\xa4\xbe\xe0\xa4\xae", 1 },	/* Devanagari + mark */
	{ "e\xcc\x81", 1 },				/* e + combining acute */
	/* the review's spam, and its parts */
	{ "Hello WIN $5000 at http://spam.example/x,", 0 },
	{ "WIN 5000", 0 },
	{ "http://spam.example", 0 },
	{ "spam.example", 0 },
	{ "www example com", 1 },	/* letters and spaces: a name by form */
	{ "victim@example.org", 0 },
	{ "a:b", 0 }, { "a/b", 0 }, { "a.b", 0 }, { "a,b", 0 }, { "a$", 0 },
	{ "a!", 0 }, { "a?", 0 }, { "a_b", 0 }, { "a<b", 0 }, { "a&amp;", 0 },
	{ "a\"b", 0 }, { "(a)", 0 }, { "a#", 0 }, { "a%", 0 }, { "a+b", 0 },
	/* digits of any script */
	{ "Ada1", 0 }, { "\xd9\xa5\xd9\xa0\xd9\xa0", 0 },	/* Arabic-Indic */
	{ "a\xe0\xa5\xa6", 0 },			/* Devanagari zero */
	{ "a\xef\xbc\x95", 0 },			/* fullwidth 5 */
	{ "a\xe2\x85\xa0", 0 },			/* Roman numeral I */
	{ "a\xe2\x91\xa0", 0 },			/* circled 1 */
	{ "a\xc2\xb2", 0 },				/* superscript 2 */
	/* look-alikes of URL punctuation */
	{ "spam\xef\xbc\x8e" "example", 0 },		/* fullwidth full stop */
	{ "spam\xe3\x80\x82" "example", 0 },		/* ideographic full stop */
	{ "a\xef\xbc\x9a//b", 0 },			/* fullwidth colon */
	{ "a\xe2\x88\x95" "b", 0 },			/* division slash */
	{ "a\xef\xbc\xa0" "b", 0 },			/* fullwidth @ */
	{ "a\xc2\xb7" "b", 0 },			/* middle dot */
	/* letters that look like URL punctuation, invisible letters */
	{ "spam\xea\x93\xb8" "example", 0 },		/* Lisu tone: . */
	{ "a\xea\x93\xbd" "b", 0 },			/* Lisu tone: : */
	{ "spam\xea\x9e\x8f" "example", 0 },		/* sinological dot */
	{ "http\xcb\x90", 0 },			/* triangular colon */
	{ "a\xc7\x83", 0 },				/* retroflex click: ! */
	{ "WIN\xe3\x85\xa4" "FREE", 0 },		/* Hangul filler */
	{ "\xe3\x85\xa4", 0 },
	{ "a\xef\xbe\xa0" "b", 0 },			/* halfwidth filler */
	{ "a\xcd\x8f" "b", 0 },			/* grapheme joiner */
	{ "a\xef\xb8\x8f", 0 },			/* variation selector */
	/* marks: on a letter, a few at a time */
	{ "\xcc\x81", 0 },				/* a mark alone */
	{ "\xcc\x81" "a", 0 },			/* before any letter */
	{ "a \xcc\x81" "b", 0 },			/* after a space */
	{ "a-\xcc\x81" "b", 0 },			/* after a hyphen */
	{ "e\xcc\xa3\xcc\x82", 1 },			/* Vietnamese: 2 */
	{ "a\xcc\x81\xcc\x82\xcc\x83\xcc\x84", 1 },	/* 4 */
	{ "a\xcc\x81\xcc\x82\xcc\x83\xcc\x84\xcc\x85", 0 },	/* 5 */
	{ "\xe0\xa4\x95\xe0\xa5\x8d\xe0\xa4\xb7\xe0\xa4\xbf", 1 },
							/* Devanagari kssi */
	/* controls, format characters, bidi, spaces */
	{ "a\tb", 0 }, { "a\nb", 0 }, { "a\r\nBcc: x", 0 }, { "a\x7f", 0 },
	{ "a\xc2\x85", 0 },				/* NEL */
	{ "a\xe2\x80\xae" "b", 0 },			/* RLO */
	{ "a\xe2\x80\x8b" "b", 0 },			/* zero width space */
	{ "a\xc2\xa0" "b", 0 },			/* no-break space */
	{ "a\xe2\x80\xa8" "b", 0 },			/* line separator */
	{ " Ada", 0 }, { "Ada ", 0 }, { "Ada  L", 0 }, { " ", 0 }, { "", 0 },
	{ "'-'", 0 },					/* no letter */
	{ "\xe2\x83\x9d", 0 },			/* enclosing mark only */
	/* not UTF-8 */
	{ "a\xff", 0 }, { "\xc3", 0 }, { "\xc0\xa1", 0 },
	{ "\xed\xa0\x80", 0 },				/* surrogate */
	{ "\xf0\x9f\x98\x80", 0 },			/* emoji: a symbol */
};

static void
test_name(void)
{
	char	 big[200];
	size_t	 i;

	for (i = 0; i < sizeof(name_rule_cases) /
	    sizeof(name_rule_cases[0]); i++)
		T_INT(text_name_ok(name_rule_cases[i].s,
		    strlen(name_rule_cases[i].s), 60), name_rule_cases[i].want,
		    t_show(name_rule_cases[i].s, strlen(name_rule_cases[i].s)));
	T_INT(text_name_ok("a\0b", 3, 60), 0, "NUL inside");
	T_INT(text_name_ok(NULL, 0, 60), 0, "NULL");
	memset(big, 'a', sizeof(big));
	T_INT(text_name_ok(big, 60, 60), 1, "60 letters of 60");
	T_INT(text_name_ok(big, 61, 60), 0, "61 letters of 60");
	/* the bound counts code points, not octets */
	for (i = 0; i + 1 < sizeof(big); i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	T_INT(text_name_ok(big, 120, 60), 1, "60 two-octet letters");
	T_INT(text_name_ok(big, 122, 60), 0, "61 two-octet letters");
}

int
main(void)
{
	test_utf8_next();
	test_utf8_put();
	test_classes();
	test_field_name();
	test_hex();
	test_base64();
	test_classes_ascii();
	test_name();
	T_DONE();
}
