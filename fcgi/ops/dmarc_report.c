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
 * (2.2, 4.1).  Attributes are checked for quoting and skipped.  The
 * scanner's steps (names, references, markup) are dmarc_xml.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ops/dmarc_report.h"
#include "ops/dmarc_int.h"

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

/* Copies s (n octets) trimmed into dst visible-safe; -1 when too long. */
static int
put(struct px *x, char *dst, size_t size, const char *s, size_t n)
{
	size_t	i;

	while (n > 0 && dmarc_is_space((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && dmarc_is_space((unsigned char)s[n - 1]))
		n--;
	if (n >= size)
		return dmarc_px_fail(x, "value over %zu octets", size - 1);
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
		return dmarc_px_fail(x, "empty number");
	for (i = 0; buf[i] != '\0'; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return dmarc_px_fail(x, "not a number: %s", buf);
		if (v > (max - (uint64_t)(buf[i] - '0')) / 10)
			return dmarc_px_fail(x, "number too large: %s", buf);
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
		return dmarc_px_fail(x, "over %d records",
		    DMARC_REPORT_RECORDS_MAX);
	if (x->r->nrec == x->recalloc) {
		na = x->recalloc ? x->recalloc * 2 : 16;
		if ((n = reallocarray(x->r->rec, na, sizeof(*n))) == NULL)
			return dmarc_px_fail(x, "out of memory");
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
		return dmarc_px_fail(x, "NUL in text");
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

/* The attributes of a start tag up to its '>' (checked for quoting,
 * skipped); *empty for "/>".  Returns 0 with x->p at the '>', or -1. */
static int
open_attrs(struct px *x, int *empty)
{
	char	 q;

	for (;;) {
		const char *an;

		dmarc_skip_space(x);
		if (x->p >= x->end)
			return dmarc_px_fail(x, "unexpected end inside a tag");
		if (*x->p == '>')
			break;
		if (dmarc_starts(x, "/>")) {
			*empty = 1;
			x->p++;
			break;
		}
		if (x->p[-1] != ' ' && !dmarc_is_space((unsigned char)x->p[-1]))
			return dmarc_px_fail(x, "space needed before an "
			    "attribute");
		if (dmarc_read_name(x, &an) == 0)
			return dmarc_px_fail(x, "bad attribute name");
		dmarc_skip_space(x);
		if (x->p >= x->end || *x->p != '=')
			return dmarc_px_fail(x, "attribute without '='");
		x->p++;
		dmarc_skip_space(x);
		if (x->p >= x->end || (*x->p != '"' && *x->p != '\''))
			return dmarc_px_fail(x, "attribute value not quoted");
		q = *x->p++;
		while (x->p < x->end && *x->p != q) {
			if (*x->p == '<')
				return dmarc_px_fail(x, "'<' in an attribute "
				    "value");
			x->p++;
		}
		if (x->p >= x->end)
			return dmarc_px_fail(x, "unexpected end in an "
			    "attribute");
		x->p++;
	}
	return 0;
}

static int
open_tag(struct px *x)
{
	const char	*name, *local;
	size_t		 n, ln;
	int		 empty = 0;

	x->p++;
	if ((n = dmarc_read_name(x, &name)) == 0)
		return dmarc_px_fail(x, "bad element name");
	if (open_attrs(x, &empty) == -1)
		return -1;
	x->p++;
	/* Namespace prefixes are dropped: reports use one vocabulary. */
	local = memrchr(name, ':', n);
	local = local ? local + 1 : name;
	ln = n - (size_t)(local - name);
	if (ln == 0 || ln > 63)
		return dmarc_px_fail(x, "element name empty or over 63 octets");
	if (x->depth == 0 && (x->r->org_name[0] != '\0' || x->plen[0] != 0 ||
	    ln != 8 || memcmp(local, "feedback", 8) != 0))
		return dmarc_px_fail(x, "root element is not <feedback>");
	if (x->depth >= DMARC_REPORT_DEPTH_MAX)
		return dmarc_px_fail(x, "elements nested over %d deep",
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
	if ((n = dmarc_read_name(x, &name)) == 0)
		return dmarc_px_fail(x, "bad end tag");
	dmarc_skip_space(x);
	if (x->p >= x->end || *x->p != '>')
		return dmarc_px_fail(x, "unterminated end tag");
	local = memrchr(name, ':', n);
	local = local ? local + 1 : name;
	ln = n - (size_t)(local - name);
	if (x->depth == 0)
		return dmarc_px_fail(x, "end tag without a start tag");
	top = x->plen[x->depth] - x->plen[x->depth - 1] - (x->depth > 1);
	if (ln != top ||
	    memcmp(x->path + x->plen[x->depth] - top, local, ln) != 0)
		return dmarc_px_fail(x, "end tag </%.*s> does not match <%s>",
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

/* The steps of the scan, each for what x->p starts with; *done: the
 * root element is closed. */
static int
px_close(struct px *x, int *done)
{
	if (close_tag(x) == -1)
		return -1;
	*done = x->depth == 0;
	return 0;
}

static int
px_markup(struct px *x, int *done)
{
	(void)done;
	return dmarc_markup(x);
}

static int
px_open(struct px *x, int *done)
{
	if (*done)
		return dmarc_px_fail(x, "content after the root element");
	if (open_tag(x) == -1)
		return -1;
	if (x->depth == 0)
		*done = 1;
	return 0;
}

static int
px_ref(struct px *x, int *done)
{
	(void)done;
	if (x->depth == 0)
		return dmarc_px_fail(x, "text outside the root element");
	return dmarc_read_ref(x);
}

static int
px_text(struct px *x, int *done)
{
	const char	*b = x->p;

	(void)done;
	while (x->p < x->end && *x->p != '<' && *x->p != '&')
		x->p++;
	if (x->depth == 0) {
		for (; b < x->p; b++)
			if (!dmarc_is_space((unsigned char)*b)) {
				x->p = b;
				return dmarc_px_fail(x, "text outside the root "
				    "element");
			}
	} else if (dmarc_text_add(x, b, (size_t)(x->p - b)) == -1)
		return -1;
	else if (memmem(b, (size_t)(x->p - b), "]]>", 3))
		return dmarc_px_fail(x, "']]>' in text");
	return 0;
}

/* First match wins: "" (text) matches anything. */
static const struct {
	const char	*lit;
	int		(*fn)(struct px *, int *);
} px_steps[] = {
	{ "</", px_close },
	{ "<!", px_markup },
	{ "<?", px_markup },
	{ "<", px_open },
	{ "&", px_ref },
	{ "", px_text },
};

/* After the scan: a closed root with the metadata the summary needs. */
static int
px_finish(struct px *x, int done)
{
	if (!done) {
		if (x->depth)
			return dmarc_px_fail(x, "unexpected end: <%s> not "
			    "closed", x->path);
		return dmarc_px_fail(x, "no root element");
	}
	if (x->r->org_name[0] == '\0' || x->r->report_id[0] == '\0' ||
	    !x->have_begin || !x->have_end)
		return dmarc_px_fail(x, "report_metadata lacks org_name, "
		    "report_id or date_range");
	if (x->r->end < x->r->begin)
		return dmarc_px_fail(x, "date_range ends before it begins");
	return 0;
}

int
dmarc_report_parse_xml(const char *xml, size_t len, struct dmarc_report **out,
    struct dmarc_report_pos *pos)
{
	struct px	*x;
	size_t		 i;
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
		dmarc_px_fail(x, "over %u octets", DMARC_REPORT_SIZE_MAX);
		goto out;
	}
	if (dmarc_starts(x, "\xef\xbb\xbf"))
		x->p += 3;
	if (dmarc_utf8_check(x) == -1)
		goto out;
	while (x->p < x->end) {
		for (i = 0; !dmarc_starts(x, px_steps[i].lit); i++)
			;
		if (px_steps[i].fn(x, &done) == -1)
			goto out;
	}
	if (px_finish(x, done) == -1)
		goto out;
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
