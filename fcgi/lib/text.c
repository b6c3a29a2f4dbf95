/* text: UTF-8, text classes, hex, base64; see text.h. */
#include <stdint.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/text.h"

#define B64_LINE	76	/* RFC 2045 section 6.8 */

static const char	 text_b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
text_utf8_len(const char *s, size_t len)
{
	size_t	 i, n = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

size_t
text_utf8_put(char *d, uint32_t cp)
{
	if (cp < 0x80) {
		d[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		d[0] = (char)(0xc0 | cp >> 6);
		d[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		d[0] = (char)(0xe0 | cp >> 12);
		d[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		d[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	d[0] = (char)(0xf0 | cp >> 18);
	d[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	d[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	d[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Code points that could end or fold a header, or hide text from the
 * reader: C0 (allowed ones aside), DEL, C1, LINE and PARAGRAPH SEPARATOR;
 * in a header also the bidi embeddings, overrides and isolates (U+202A..
 * U+202E, U+2066..U+2069), which reorder what a mail client shows
 * (Unicode UAX #9, CVE-2021-42574).  The marks (U+200E, U+200F) stay:
 * right-to-left names need them and they cannot reorder other text.
 */
static enum text_check
text_check(const char *s, size_t len, int body)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, n;
	uint32_t		 c;

	for (i = 0; i < len; i += n) {
		if ((n = text_utf8_next(p + i, len - i, &c)) == 0)
			return TEXT_UTF8;
		if (body && (c == '\t' || c == '\r' || c == '\n'))
			continue;
		if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 ||
		    c == 0x2029)
			return TEXT_CONTROL;
		if (!body && ((c >= 0x202a && c <= 0x202e) ||
		    (c >= 0x2066 && c <= 0x2069)))
			return TEXT_CONTROL;
	}
	return TEXT_OK;
}

enum text_check
text_header_ok(const char *s, size_t len)
{
	return text_check(s, len, 0);
}

enum text_check
text_body_ok(const char *s, size_t len)
{
	return text_check(s, len, 1);
}

int
text_field_name_ok(const char *s, size_t len)
{
	return s != NULL && len > 0 && len <= TEXT_MAX_NAME &&
	    text_header_ok(s, len) == TEXT_OK;
}

void
text_hex(const void *in, size_t n, char *out)
{
	static const char	 digits[] = "0123456789abcdef";
	const unsigned char	*p = in;
	size_t			 i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

size_t
text_base64_to(char *out, const void *in, size_t n)
{
	const unsigned char	*p = in;
	size_t			 i, o = 0, k;
	uint32_t		 v;

	for (i = 0; i < n; i += 3) {
		k = n - i < 3 ? n - i : 3;
		v = (uint32_t)p[i] << 16;
		if (k > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (k > 2)
			v |= p[i + 2];
		out[o++] = text_b64_alphabet[(v >> 18) & 63];
		out[o++] = text_b64_alphabet[(v >> 12) & 63];
		out[o++] = k > 1 ? text_b64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = k > 2 ? text_b64_alphabet[v & 63] : '=';
	}
	return o;
}

int
text_base64(struct buf *b, const void *p, size_t len, int wrap)
{
	const unsigned char	*s = p;
	size_t			 i, n, out;

	if (len == 0)
		return 0;
	if (p == NULL || len > SIZE_MAX / 2)
		return -1;
	out = TEXT_BASE64_LEN(len);
	if (wrap)
		out += (out + B64_LINE - 1) / B64_LINE * 2;
	if (buf_reserve(b, out) == -1)
		return -1;
	/* B64_LINE / 4 * 3 input octets make one full line. */
	for (i = 0; i < len; i += n) {
		n = wrap ? B64_LINE / 4 * 3 : len;
		if (n > len - i)
			n = len - i;
		b->len += text_base64_to(b->data + b->len, s + i, n);
		if (wrap) {
			b->data[b->len++] = '\r';
			b->data[b->len++] = '\n';
		}
	}
	b->data[b->len] = '\0';
	return 0;
}

static int
text_b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
text_base64_decode(const char *in, size_t len, unsigned char *out,
    size_t *outlen)
{
	size_t		 i, j, o = 0, pad = 0;
	uint32_t	 v = 0;
	int		 d;

	if (len == 0 || len % 4 != 0)
		return -1;
	if (in[len - 1] == '=')
		pad = in[len - 2] == '=' ? 2 : 1;
	for (i = 0; i < len; i += 4) {
		v = 0;
		for (j = 0; j < 4; j++) {
			if (i + 4 == len && j >= 4 - pad)
				d = 0;
			else if ((d = text_b64_value((unsigned char)in[i +
			    j])) < 0)
				return -1;
			v = v << 6 | (uint32_t)d;
		}
		out[o++] = (unsigned char)(v >> 16);
		if (i + 4 < len || pad < 2)
			out[o++] = (unsigned char)(v >> 8);
		if (i + 4 < len || pad < 1)
			out[o++] = (unsigned char)v;
	}
	if ((pad == 1 && (v & 0xff) != 0) || (pad == 2 && (v & 0xffff) != 0))
		return -1;
	*outlen = o;
	return 0;
}
