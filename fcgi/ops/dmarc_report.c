/*
 * dmarc_report.c: the XML subset of RFC 7489 Appendix C, parsed in one
 * pass with an explicit stack (no recursion: depth is a counter checked
 * before each push).  Only the elements the doctor needs are kept; their
 * text is decoded into a bounded buffer and copied visible-safe.
 *
 * Refused on purpose (XML 1.0 section numbers): DOCTYPE and every other
 * "<!" markup but comments and CDATA (2.8, 4.2: internal entities are how
 * "billion laughs" works, external ones how XXE does); entity references
 * other than the five predefined (4.6); character references to non-Chars
 * (2.2, 4.1).  Attributes are checked for quoting and skipped.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/text.h"
#include "ops/dmarc_report.h"

enum field {
	F_NONE, F_ORG, F_ID, F_BEGIN, F_END, F_DOMAIN, F_P, F_IP, F_COUNT,
	F_DISP, F_DKIM, F_SPF, F_FROM, F_ADKIM_D, F_ADKIM_R, F_ADKIM_S,
	F_ASPF_D, F_ASPF_R
};

/* Element paths below <feedback> that are kept. */
static const struct {
	const char	*path;
	enum field	 f;
} fields[] = {
	{ "report_metadata/org_name", F_ORG },
	{ "report_metadata/report_id", F_ID },
	{ "report_metadata/date_range/begin", F_BEGIN },
	{ "report_metadata/date_range/end", F_END },
	{ "policy_published/domain", F_DOMAIN },
	{ "policy_published/p", F_P },
	{ "record/row/source_ip", F_IP },
	{ "record/row/count", F_COUNT },
	{ "record/row/policy_evaluated/disposition", F_DISP },
	{ "record/row/policy_evaluated/dkim", F_DKIM },
	{ "record/row/policy_evaluated/spf", F_SPF },
	{ "record/identifiers/header_from", F_FROM },
	{ "record/auth_results/dkim/domain", F_ADKIM_D },
	{ "record/auth_results/dkim/result", F_ADKIM_R },
	{ "record/auth_results/dkim/selector", F_ADKIM_S },
	{ "record/auth_results/spf/domain", F_ASPF_D },
	{ "record/auth_results/spf/result", F_ASPF_R },
};

struct px {
	const char		*s, *end, *p;
	struct dmarc_report_pos	*pos;
	struct dmarc_report	*r;
	size_t			 recalloc;
	int			 adkim_seen, aspf_seen; /* in this record */
	int			 depth;
	size_t			 plen[DMARC_REPORT_DEPTH_MAX + 1];
	char			 path[DMARC_REPORT_DEPTH_MAX * 64 + 1];
	char			 text[DMARC_REPORT_TEXT_MAX + 1];
	size_t			 ntext;
	int			 have_begin, have_end;
};

static int	px_fail(struct px *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static int
px_fail(struct px *x, const char *fmt, ...)
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
static int
utf8_check(struct px *x)
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
	return px_fail(x, "invalid UTF-8 or a control character");
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

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
skip_space(struct px *x)
{
	while (x->p < x->end && is_space((unsigned char)*x->p))
		x->p++;
}

static int
starts(const struct px *x, const char *lit)
{
	size_t	n = strlen(lit);

	return (size_t)(x->end - x->p) >= n && memcmp(x->p, lit, n) == 0;
}

/* Reads a Name (ASCII only: report element names are); returns its
 * length, 0 when none. */
static size_t
read_name(struct px *x, const char **name)
{
	const char	*b = x->p;

	if (x->p >= x->end || !is_name_start((unsigned char)*x->p))
		return 0;
	while (x->p < x->end && is_name((unsigned char)*x->p))
		x->p++;
	*name = b;
	return (size_t)(x->p - b);
}

static int
text_add(struct px *x, const char *b, size_t n)
{
	if (n > DMARC_REPORT_TEXT_MAX - x->ntext)
		return px_fail(x, "element text over %d octets",
		    DMARC_REPORT_TEXT_MAX);
	memcpy(x->text + x->ntext, b, n);
	x->ntext += n;
	return 0;
}

/* One reference after '&' (XML 1.0 4.1, 4.6). */
static int
read_ref(struct px *x)
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
		if (starts(x, pre[i].name)) {
			x->p += strlen(pre[i].name);
			return text_add(x, &pre[i].c, 1);
		}
	if (x->p >= x->end || *x->p != '#')
		return px_fail(x, "unknown entity reference (only &lt; &gt; "
		    "&amp; &quot; &apos; and &#N; are read)");
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
			return px_fail(x, "bad character reference");
		if (digits >= 8)
			return px_fail(x, "character reference out of range");
		c = c * (hex ? 16u : 10u) + (uint32_t)v;
	}
	if (x->p >= x->end || digits == 0)
		return px_fail(x, "bad character reference");
	x->p++;
	if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
	    (c >= 0xd800 && c <= 0xdfff) || c == 0xfffe || c == 0xffff ||
	    c > 0x10ffff)
		return px_fail(x, "character reference to a non-character");
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
	return text_add(x, u, n);
}

/* Copies s (n octets) trimmed into dst visible-safe; -1 when too long. */
static int
put(struct px *x, char *dst, size_t size, const char *s, size_t n)
{
	size_t	i;

	while (n > 0 && is_space((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && is_space((unsigned char)s[n - 1]))
		n--;
	if (n >= size)
		return px_fail(x, "value over %zu octets", size - 1);
	for (i = 0; i < n; i++)
		dst[i] = s[i] >= 0x20 && s[i] <= 0x7e ? s[i] : '?';
	dst[n] = '\0';
	return 0;
}

/* A decimal number of digits only, at most max. */
static int
number(struct px *x, const char *s, uint64_t max, uint64_t *out)
{
	char		 buf[32];
	uint64_t	 v = 0;
	size_t		 i;

	if (put(x, buf, sizeof(buf), s, strlen(s)) == -1)
		return -1;
	if (buf[0] == '\0')
		return px_fail(x, "empty number");
	for (i = 0; buf[i] != '\0'; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return px_fail(x, "not a number: %s", buf);
		if (v > (max - (uint64_t)(buf[i] - '0')) / 10)
			return px_fail(x, "number too large: %s", buf);
		v = v * 10 + (uint64_t)(buf[i] - '0');
	}
	*out = v;
	return 0;
}

static int
new_record(struct px *x)
{
	struct dmarc_report_record	*n;
	size_t				 na;

	if (x->r->nrec >= DMARC_REPORT_RECORDS_MAX)
		return px_fail(x, "over %d records", DMARC_REPORT_RECORDS_MAX);
	if (x->r->nrec == x->recalloc) {
		na = x->recalloc ? x->recalloc * 2 : 16;
		if ((n = reallocarray(x->r->rec, na, sizeof(*n))) == NULL)
			return px_fail(x, "out of memory");
		x->r->rec = n;
		x->recalloc = na;
	}
	memset(&x->r->rec[x->r->nrec++], 0, sizeof(*n));
	x->adkim_seen = x->aspf_seen = 0;
	return 0;
}

/* The text of a closed element at x->path ("feedback/..."). */
static int
store(struct px *x)
{
	struct dmarc_report		*r = x->r;
	struct dmarc_report_record	*c;
	const char			*path;
	enum field			 f = F_NONE;
	uint64_t			 v;
	size_t				 i;
	char				*t = x->text;

	if (strncmp(x->path, "feedback/", 9) != 0)
		return 0;
	path = x->path + 9;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strcmp(path, fields[i].path) == 0)
			f = fields[i].f;
	if (f == F_NONE)
		return 0;
	x->text[x->ntext] = '\0';
	if (memchr(x->text, '\0', x->ntext) != NULL)
		return px_fail(x, "NUL in text");
	c = r->nrec ? &r->rec[r->nrec - 1] : NULL;
	if (f >= F_IP && c == NULL)
		return 0;
#define PUT(dst) put(x, (dst), sizeof(dst), t, x->ntext)
	switch (f) {
	case F_ORG:	return PUT(r->org_name);
	case F_ID:	return PUT(r->report_id);
	case F_DOMAIN:	return PUT(r->domain);
	case F_P:	return PUT(r->p);
	case F_BEGIN:
	case F_END:
		if (number(x, t, INT64_MAX / 2, &v) == -1)
			return -1;
		if (f == F_BEGIN) {
			r->begin = (int64_t)v;
			x->have_begin = 1;
		} else {
			r->end = (int64_t)v;
			x->have_end = 1;
		}
		return 0;
	case F_IP:	return PUT(c->source_ip);
	case F_COUNT:
		return number(x, t, DMARC_REPORT_COUNT_MAX, &c->count);
	case F_DISP:	return PUT(c->disposition);
	case F_DKIM:	return PUT(c->dkim);
	case F_SPF:	return PUT(c->spf);
	case F_FROM:	return PUT(c->header_from);
	case F_ADKIM_D:	return x->adkim_seen > 1 ? 0 : PUT(c->dkim_domain);
	case F_ADKIM_R:	return x->adkim_seen > 1 ? 0 : PUT(c->dkim_result);
	case F_ADKIM_S:	return x->adkim_seen > 1 ? 0 : PUT(c->dkim_selector);
	case F_ASPF_D:	return x->aspf_seen > 1 ? 0 : PUT(c->spf_domain);
	case F_ASPF_R:	return x->aspf_seen > 1 ? 0 : PUT(c->spf_result);
	default:	return 0;
	}
#undef PUT
}

static int
open_tag(struct px *x)
{
	const char	*name, *local;
	size_t		 n, ln;
	int		 empty = 0;
	char		 q;

	x->p++;
	if ((n = read_name(x, &name)) == 0)
		return px_fail(x, "bad element name");
	for (;;) {
		const char *an;

		skip_space(x);
		if (x->p >= x->end)
			return px_fail(x, "unexpected end inside a tag");
		if (*x->p == '>')
			break;
		if (starts(x, "/>")) {
			empty = 1;
			x->p++;
			break;
		}
		if (x->p[-1] != ' ' && !is_space((unsigned char)x->p[-1]))
			return px_fail(x, "space needed before an attribute");
		if (read_name(x, &an) == 0)
			return px_fail(x, "bad attribute name");
		skip_space(x);
		if (x->p >= x->end || *x->p != '=')
			return px_fail(x, "attribute without '='");
		x->p++;
		skip_space(x);
		if (x->p >= x->end || (*x->p != '"' && *x->p != '\''))
			return px_fail(x, "attribute value not quoted");
		q = *x->p++;
		while (x->p < x->end && *x->p != q) {
			if (*x->p == '<')
				return px_fail(x, "'<' in an attribute value");
			x->p++;
		}
		if (x->p >= x->end)
			return px_fail(x, "unexpected end in an attribute");
		x->p++;
	}
	x->p++;
	/* Namespace prefixes are dropped: reports use one vocabulary. */
	local = memrchr(name, ':', n);
	local = local ? local + 1 : name;
	ln = n - (size_t)(local - name);
	if (ln == 0 || ln > 63)
		return px_fail(x, "element name empty or over 63 octets");
	if (x->depth == 0 && (x->r->org_name[0] != '\0' || x->plen[0] != 0 ||
	    ln != 8 || memcmp(local, "feedback", 8) != 0))
		return px_fail(x, "root element is not <feedback>");
	if (x->depth >= DMARC_REPORT_DEPTH_MAX)
		return px_fail(x, "elements nested over %d deep",
		    DMARC_REPORT_DEPTH_MAX);
	x->plen[x->depth + 1] = x->plen[x->depth] + (x->depth ? 1 : 0) + ln;
	if (x->depth)
		x->path[x->plen[x->depth]] = '/';
	memcpy(x->path + x->plen[x->depth + 1] - ln, local, ln);
	x->path[x->plen[x->depth + 1]] = '\0';
	x->depth++;
	x->ntext = 0;
	if (strcmp(x->path, "feedback/record") == 0 && new_record(x) == -1)
		return -1;
	if (strcmp(x->path, "feedback/record/auth_results/dkim") == 0)
		x->adkim_seen++;
	if (strcmp(x->path, "feedback/record/auth_results/spf") == 0)
		x->aspf_seen++;
	if (empty) {
		if (store(x) == -1)
			return -1;
		x->depth--;
		x->path[x->plen[x->depth]] = '\0';
		x->ntext = 0;
	}
	return 0;
}

static int
close_tag(struct px *x)
{
	const char	*name, *local;
	size_t		 n, ln, top;

	x->p += 2;
	if ((n = read_name(x, &name)) == 0)
		return px_fail(x, "bad end tag");
	skip_space(x);
	if (x->p >= x->end || *x->p != '>')
		return px_fail(x, "unterminated end tag");
	local = memrchr(name, ':', n);
	local = local ? local + 1 : name;
	ln = n - (size_t)(local - name);
	if (x->depth == 0)
		return px_fail(x, "end tag without a start tag");
	top = x->plen[x->depth] - x->plen[x->depth - 1] - (x->depth > 1);
	if (ln != top ||
	    memcmp(x->path + x->plen[x->depth] - top, local, ln) != 0)
		return px_fail(x, "end tag </%.*s> does not match <%s>",
		    (int)(ln > 63 ? 63 : ln), local,
		    x->path + x->plen[x->depth] - top);
	if (store(x) == -1)
		return -1;
	x->p++;
	x->depth--;
	x->path[x->plen[x->depth]] = '\0';
	x->ntext = 0;
	return 0;
}

/* "<!--", "<![CDATA[", "<?" at x->p: skipped or added; "<!" else refused. */
static int
markup(struct px *x)
{
	const char	*e;

	if (starts(x, "<!--")) {
		e = memmem(x->p + 4, (size_t)(x->end - x->p - 4), "-->", 3);
		if (e == NULL)
			return px_fail(x, "unterminated comment");
		x->p = e + 3;
		return 0;
	}
	if (starts(x, "<![CDATA[")) {
		if (x->depth == 0)
			return px_fail(x, "CDATA outside the root element");
		e = memmem(x->p + 9, (size_t)(x->end - x->p - 9), "]]>", 3);
		if (e == NULL)
			return px_fail(x, "unterminated CDATA section");
		if (text_add(x, x->p + 9, (size_t)(e - x->p - 9)) == -1)
			return -1;
		x->p = e + 3;
		return 0;
	}
	if (starts(x, "<?")) {
		e = memmem(x->p + 2, (size_t)(x->end - x->p - 2), "?>", 2);
		if (e == NULL)
			return px_fail(x, "unterminated processing instruction");
		x->p = e + 2;
		return 0;
	}
	return px_fail(x, "DOCTYPE, ENTITY and other declarations are refused");
}

int
dmarc_report_parse_xml(const char *xml, size_t len, struct dmarc_report **out,
    struct dmarc_report_pos *pos)
{
	struct px	*x;
	int		 rc = -1, done = 0;

	*out = NULL;
	memset(pos, 0, sizeof(*pos));
	if ((x = calloc(1, sizeof(*x))) == NULL ||
	    (x->r = calloc(1, sizeof(*x->r))) == NULL) {
		snprintf(pos->why, sizeof(pos->why), "out of memory");
		goto out;
	}
	x->s = x->p = xml;
	x->end = xml + len;
	x->pos = pos;
	if (len > DMARC_REPORT_SIZE_MAX) {
		px_fail(x, "over %u octets", DMARC_REPORT_SIZE_MAX);
		goto out;
	}
	if (starts(x, "\xef\xbb\xbf"))
		x->p += 3;
	if (utf8_check(x) == -1)
		goto out;
	while (x->p < x->end) {
		if (*x->p == '<') {
			if (starts(x, "</")) {
				if (close_tag(x) == -1)
					goto out;
				done = x->depth == 0;
			} else if (starts(x, "<!") || starts(x, "<?")) {
				if (markup(x) == -1)
					goto out;
			} else if (done) {
				px_fail(x, "content after the root element");
				goto out;
			} else if (open_tag(x) == -1)
				goto out;
			else if (x->depth == 0)
				done = 1;
		} else if (*x->p == '&') {
			if (x->depth == 0) {
				px_fail(x, "text outside the root element");
				goto out;
			}
			if (read_ref(x) == -1)
				goto out;
		} else {
			const char *b = x->p;

			while (x->p < x->end && *x->p != '<' && *x->p != '&')
				x->p++;
			if (x->depth == 0) {
				for (; b < x->p; b++)
					if (!is_space((unsigned char)*b)) {
						x->p = b;
						px_fail(x, "text outside the "
						    "root element");
						goto out;
					}
			} else if (text_add(x, b, (size_t)(x->p - b)) == -1)
				goto out;
			else if (memmem(b, (size_t)(x->p - b), "]]>", 3)) {
				px_fail(x, "']]>' in text");
				goto out;
			}
		}
	}
	if (!done) {
		if (x->depth)
			px_fail(x, "unexpected end: <%s> not closed", x->path);
		else
			px_fail(x, "no root element");
		goto out;
	}
	if (x->r->org_name[0] == '\0' || x->r->report_id[0] == '\0' ||
	    !x->have_begin || !x->have_end) {
		px_fail(x, "report_metadata lacks org_name, report_id or "
		    "date_range");
		goto out;
	}
	if (x->r->end < x->r->begin) {
		px_fail(x, "date_range ends before it begins");
		goto out;
	}
	*out = x->r;
	x->r = NULL;
	rc = 0;
out:
	if (x != NULL)
		dmarc_report_free(x->r);
	free(x);
	return rc;
}

void
dmarc_report_free(struct dmarc_report *r)
{
	if (r == NULL)
		return;
	free(r->rec);
	free(r);
}
