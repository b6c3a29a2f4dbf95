/*
 * dmarc_xml.c: the XML scanner under dmarc_report.c's parser (see there
 * and dmarc_int.h): the position of an error, the UTF-8 and Char check of
 * the whole input, names, references, comments, CDATA and processing
 * instructions.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/text.h"
#include "ops/dmarc_report.h"
#include "ops/dmarc_int.h"


int
dmarc_px_fail(struct px *x, const char *fmt, ...)
{
	const char	*q;
	unsigned long	 line = 1, col = 1;
	va_list		 ap;

	for (q = x->s; q < x->p && q < x->end; q++) {
		if (*q == '\n') {
			line++;
			col = 1;
		} else
			col++;
	}
	x->pos->line = line;
	x->pos->col = col;
	va_start(ap, fmt);
	vsnprintf(x->pos->why, sizeof(x->pos->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* Well-formed UTF-8 (text_utf8_next, RFC 3629) of XML Chars (XML 1.0
 * section 2.2): no C0 control but TAB, LF, CR; no U+FFFE/U+FFFF. */
int
dmarc_utf8_check(struct px *x)
{
	const unsigned char	*u = (const unsigned char *)x->s;
	size_t			 i, n = (size_t)(x->end - x->s), k;
	uint32_t		 c;

	for (i = 0; i < n; i += k) {
		if ((k = text_utf8_next(u + i, n - i, &c)) == 0 ||
		    (c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
		    c == 0xfffe || c == 0xffff)
			goto bad;
	}
	return 0;
bad:
	x->p = x->s + i;
	return dmarc_px_fail(x, "invalid UTF-8 or a control character");
}

static int
is_name_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    c == ':';
}

static int
is_name(int c)
{
	return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' ||
	    c == '.';
}

int
dmarc_is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void
dmarc_skip_space(struct px *x)
{
	while (x->p < x->end && dmarc_is_space((unsigned char)*x->p))
		x->p++;
}

int
dmarc_starts(const struct px *x, const char *lit)
{
	size_t	n = strlen(lit);

	return (size_t)(x->end - x->p) >= n && memcmp(x->p, lit, n) == 0;
}

/* Reads a Name (ASCII only: report element names are); returns its
 * length, 0 when none. */
size_t
dmarc_read_name(struct px *x, const char **name)
{
	const char	*b = x->p;

	if (x->p >= x->end || !is_name_start((unsigned char)*x->p))
		return 0;
	while (x->p < x->end && is_name((unsigned char)*x->p))
		x->p++;
	*name = b;
	return (size_t)(x->p - b);
}

int
dmarc_text_add(struct px *x, const char *b, size_t n)
{
	if (n > DMARC_REPORT_TEXT_MAX - x->ntext)
		return dmarc_px_fail(x, "element text over %d octets",
		    DMARC_REPORT_TEXT_MAX);
	memcpy(x->text + x->ntext, b, n);
	x->ntext += n;
	return 0;
}

/* One reference after '&' (XML 1.0 4.1, 4.6). */
int
dmarc_read_ref(struct px *x)
{
	static const struct {
		const char	*name;
		char		 c;
	} pre[] = {
		{ "lt;", '<' }, { "gt;", '>' }, { "amp;", '&' },
		{ "quot;", '"' }, { "apos;", '\'' },
	};
	char		 u[4];
	uint32_t	 c = 0;
	size_t		 i, n;
	int		 hex, digits = 0;

	x->p++;
	for (i = 0; i < sizeof(pre) / sizeof(pre[0]); i++)
		if (dmarc_starts(x, pre[i].name)) {
			x->p += strlen(pre[i].name);
			return dmarc_text_add(x, &pre[i].c, 1);
		}
	if (x->p >= x->end || *x->p != '#')
		return dmarc_px_fail(x, "unknown entity reference (only &lt; "
		    "&gt; &amp; &quot; &apos; and &#N; are read)");
	x->p++;
	hex = x->p < x->end && *x->p == 'x';
	if (hex)
		x->p++;
	for (; x->p < x->end && *x->p != ';'; x->p++, digits++) {
		int d = (unsigned char)*x->p, v;

		if (d >= '0' && d <= '9')
			v = d - '0';
		else if (hex && d >= 'a' && d <= 'f')
			v = d - 'a' + 10;
		else if (hex && d >= 'A' && d <= 'F')
			v = d - 'A' + 10;
		else
			return dmarc_px_fail(x, "bad character reference");
		if (digits >= 8)
			return dmarc_px_fail(x, "character reference out of "
			    "range");
		c = c * (hex ? 16u : 10u) + (uint32_t)v;
	}
	if (x->p >= x->end || digits == 0)
		return dmarc_px_fail(x, "bad character reference");
	x->p++;
	if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
	    (c >= 0xd800 && c <= 0xdfff) || c == 0xfffe || c == 0xffff ||
	    c > 0x10ffff)
		return dmarc_px_fail(x, "character reference to a "
		    "non-character");
	if (c < 0x80) {
		u[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (char)(0xc0 | (c >> 6));
		u[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		u[0] = (char)(0xe0 | (c >> 12));
		u[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		u[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (c >> 18));
		u[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		u[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	return dmarc_text_add(x, u, n);
}

/* "<!--", "<![CDATA[", "<?" at x->p: skipped or added; "<!" else refused. */
int
dmarc_markup(struct px *x)
{
	const char	*e;

	if (dmarc_starts(x, "<!--")) {
		e = memmem(x->p + 4, (size_t)(x->end - x->p - 4), "-->", 3);
		if (e == NULL)
			return dmarc_px_fail(x, "unterminated comment");
		x->p = e + 3;
		return 0;
	}
	if (dmarc_starts(x, "<![CDATA[")) {
		if (x->depth == 0)
			return dmarc_px_fail(x, "CDATA outside the root "
			    "element");
		e = memmem(x->p + 9, (size_t)(x->end - x->p - 9), "]]>", 3);
		if (e == NULL)
			return dmarc_px_fail(x, "unterminated CDATA section");
		if (dmarc_text_add(x, x->p + 9, (size_t)(e - x->p - 9)) == -1)
			return -1;
		x->p = e + 3;
		return 0;
	}
	if (dmarc_starts(x, "<?")) {
		e = memmem(x->p + 2, (size_t)(x->end - x->p - 2), "?>", 2);
		if (e == NULL)
			return dmarc_px_fail(x, "unterminated processing "
			    "instruction");
		x->p = e + 2;
		return 0;
	}
	return dmarc_px_fail(x, "DOCTYPE, ENTITY and other declarations are "
	    "refused");
}
