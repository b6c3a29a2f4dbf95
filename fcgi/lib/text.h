/*
 * text: UTF-8 (RFC 3629), the text classes of a header value and of a
 * body value, field-name syntax, hex and base64 (RFC 4648), and the small
 * ASCII classes the parsers share.  Every input here is untrusted data:
 * each check is an allowlist, each decoder refuses what is not well-formed.
 */
#ifndef F2M_TEXT_H
#define F2M_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define TEXT_MAX_NAME	64	/* octets of a shown field name */

/*
 * Decodes the one UTF-8 sequence at p[0..len) (RFC 3629 section 4):
 * returns its length (1..4) and sets *cp, or returns 0, *cp untouched,
 * for anything not well-formed: len 0, a stray or missing continuation
 * octet, a truncated sequence, an overlong form, a surrogate (U+D800..
 * U+DFFF), anything over U+10FFFF.  No octet past p[len - 1] is read.
 * What else a caller refuses (controls, noncharacters) is its policy.
 * Inline: it runs on every octet of every post.
 */
static inline size_t
text_utf8_next(const unsigned char *p, size_t len, uint32_t *cp)
{
	uint32_t	 c, min;
	size_t		 i, n;

	if (len == 0)
		return 0;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		min = 0x80;
		c = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		min = 0x800;
		c = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		min = 0x10000;
		c = p[0] & 0x07;
	} else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* Number of code points in well-formed UTF-8 (call after a check below). */
size_t	 text_utf8_len(const char *s, size_t len);

/*
 * Writes the UTF-8 form of cp (at most U+10FFFF, not a surrogate: the
 * caller's to ensure) to d, which holds 4 octets; returns its length.
 */
size_t	 text_utf8_put(char *d, uint32_t cp);

/* Result of the text checks below. */
enum text_check {
	TEXT_OK = 0,
	TEXT_UTF8,	/* not well-formed UTF-8 (text_utf8_next() refuses) */
	TEXT_CONTROL	/* a character the context forbids */
};

/*
 * For a value bound for a header: well-formed UTF-8 without any C0
 * control (TAB included), DEL, C1 control (U+0080..U+009F), U+2028 or
 * U+2029 (docs/DESIGN.md "Details that tests rely on"), nor a bidi
 * embedding, override or isolate (U+202A..U+202E, U+2066..U+2069).
 * The first problem in the text decides between TEXT_UTF8 and
 * TEXT_CONTROL.
 */
enum text_check text_header_ok(const char *s, size_t len);

/*
 * For a value shown only in the body: as text_header_ok(), but TAB, CR,
 * LF and the bidi controls are allowed.
 */
enum text_check text_body_ok(const char *s, size_t len);

/*
 * Returns 1 when a field name may be shown in a message body: 1..
 * TEXT_MAX_NAME octets that text_header_ok() accepts; 0 otherwise
 * (NULL included).
 */
int	 text_field_name_ok(const char *s, size_t len);

/*
 * The name rule (text_name.c): what visitor text may reach a stranger's
 * inbox in an autoreply.  Returns 1 when s[0..len) is 1..max code points
 * of well-formed UTF-8, each a Unicode letter or mark (L*, Mn, Mc: Latin,
 * Greek, Cyrillic, Arabic, CJK, ...), a space, an apostrophe (' or
 * U+2019) or a hyphen (- or U+2010), with at least one letter and no
 * space first, last or twice in a row, each mark on a letter and at most
 * 4 in a row; 0 otherwise (NULL included).  So no digit of any script,
 * no '@', '.', ':' or '/' (no address, no URL), no symbol, punctuation,
 * control or format character; nor the few letters and marks that are
 * invisible or drawn like URL punctuation (text_name.c lists them).
 */
int	 text_name_ok(const char *s, size_t len, size_t max);

/* Writes 2 * n lower-case hex digits of in[0..n) and a NUL to out. */
void	 text_hex(const void *in, size_t n, char *out);

/* The value of one hex digit (either case), or -1. */
static inline int
text_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Octets of the base64 of n octets, padding included, no line breaks. */
#define TEXT_BASE64_LEN(n)	(((n) + 2) / 3 * 4)

/*
 * Writes the padded base64 (RFC 4648 section 4) of in[0..n) to out, which
 * holds TEXT_BASE64_LEN(n) octets (no NUL is written); returns that
 * length.
 */
size_t	 text_base64_to(char *out, const void *in, size_t n);

/*
 * Appends the padded base64 of p[0..len) to b; with wrap, in lines of 76
 * characters each ended by CRLF (RFC 2045 section 6.8), the last one
 * included.  Nothing is appended for len 0.  Returns 0, or -1 (ENOMEM, or
 * p NULL with len > 0) with b as it was.
 */
int	 text_base64(struct buf *b, const void *p, size_t len, int wrap)
	    F2M_WUR;

/*
 * Strict RFC 4648 section 4 decoding of in[0..len): padded, canonical
 * (section 3.5: the pad bits are zero), nothing outside the alphabet, no
 * white space, len a non-zero multiple of 4.  out holds at least len / 4
 * * 3 octets.  Returns 0 and sets *outlen, or -1.
 */
int	 text_base64_decode(const char *in, size_t len, unsigned char *out,
	    size_t *outlen) F2M_WUR;

/* SP or HTAB: RFC 5234 WSP, RFC 9110 OWS. */
static inline int
text_wsp(int c)
{
	return c == ' ' || c == '\t';
}

/* WSP, CR or LF: the white space of folded DNS TXT and tag=value lists. */
static inline int
text_fws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* ASCII letter or digit (RFC 5234 ALPHA / DIGIT), whatever the locale. */
static inline int
text_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

#endif
