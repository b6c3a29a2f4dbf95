/* strict_mime: a strict RFC 5322 / MIME reader for the fuzz targets; see
 * strict_mime.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/buf.h"
#include "strict_mime.h"

#define LINE_MAX_OCTETS	998	/* RFC 5322 section 2.1.1 */
#define QP_LINE		76	/* RFC 2045 section 6.7 rule 5 */
#define B64_LINE	76	/* RFC 2045 section 6.8 */
#define EW_MAX		75	/* RFC 2047 section 2 */
#define BOUNDARY_MAX	70	/* RFC 2046 section 5.1.1 */
#define SECTION_MAX	999	/* RFC 2231 sections we accept */

static const char	*smime_why = "";

static int
fail(const char *why)
{
	smime_why = why;
	return -1;
}

const char *
smime_error(void)
{
	return smime_why;
}

/* A test tool: running out of memory is not a finding, so stop loudly. */
static void
put(struct buf *b, const void *p, size_t len)
{
	if (buf_add(b, p, len) == -1) {
		fprintf(stderr, "strict_mime: out of memory\n");
		abort();
	}
}

static char *
xstrndup(const char *s, size_t len)
{
	char	*d;

	if ((d = malloc(len + 1)) == NULL) {
		fprintf(stderr, "strict_mime: out of memory\n");
		abort();
	}
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

static int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

/* RFC 5322 section 3.2.3 atext. */
static int
is_atext(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* RFC 2045 section 5.1 token character. */
static int
is_tchar(int c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

static int
hexval(int c, int upper_only)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (!upper_only && c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static size_t
utf8_char(const unsigned char *s, size_t len)
{
	size_t		 n, k;
	uint32_t	 c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, c &= 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, c &= 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, c &= 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[k] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return n;
}

int
smime_utf8(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, n;

	for (i = 0; i < len; i += n)
		if ((n = utf8_char(p + i, len - i)) == 0)
			return 0;
	return 1;
}

/* ---- the wire ----------------------------------------------------- */

static int
wire_ok(const char *s, size_t len)
{
	size_t		 i, col = 0;
	unsigned char	 c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '\r') {
			if (i + 1 == len || s[i + 1] != '\n')
				return fail("bare CR");
			i++;
			col = 0;
			continue;
		}
		if (c == '\n')
			return fail("bare LF");
		if (c == '\0' || c >= 0x80)
			return fail("NUL or 8-bit octet");
		if (++col > LINE_MAX_OCTETS)
			return fail("line over 998 octets");
	}
	return 0;
}

/* The line at s[*pos..]: its length; *next after its CRLF (or len), *crlf
 * whether it had one. */
static size_t
line_at(const char *s, size_t len, size_t pos, size_t *next, int *crlf)
{
	const char	*e = memmem(s + pos, len - pos, "\r\n", 2);

	if (e == NULL) {
		*next = len;
		*crlf = 0;
		return len - pos;
	}
	*next = (size_t)(e - s) + 2;
	*crlf = 1;
	return (size_t)(e - (s + pos));
}

/* ---- header fields ------------------------------------------------ */

static void
append(char **dst, const char *s, size_t len)
{
	size_t	 old = strlen(*dst);
	char	*d;

	if ((d = realloc(*dst, old + len + 1)) == NULL) {
		fprintf(stderr, "strict_mime: out of memory\n");
		abort();
	}
	memcpy(d + old, s, len);
	d[old + len] = '\0';
	*dst = d;
}

/* The header section of s[0..len), up to and with its blank line. */
static int
headers_parse(struct smime_part *p, const char *s, size_t len, size_t *body)
{
	size_t		 pos = 0, next, ll, k;
	const char	*l, *c;
	int		 crlf;

	for (;;) {
		if (pos >= len)
			return fail("header section without a blank line");
		l = s + pos;
		ll = line_at(s, len, pos, &next, &crlf);
		if (!crlf)
			return fail("header line without CRLF");
		pos = next;
		if (ll == 0)
			break;
		if (is_wsp((unsigned char)l[0])) {
			if (p->nhdr == 0)
				return fail("folded line before any field");
			for (k = 0; k < ll && is_wsp((unsigned char)l[k]); k++)
				;
			if (k == ll)
				return fail("folded line of blanks only");
			append(&p->hdr[p->nhdr - 1].value, l, ll);
			continue;
		}
		if ((c = memchr(l, ':', ll)) == NULL || c == l)
			return fail("field without a name or colon");
		for (k = 0; l + k < c; k++)
			if ((unsigned char)l[k] <= 0x20)
				return fail("blank or control in a field name");
		if (c + 1 == l + ll || c[1] != ' ')
			return fail("no SP after the colon");
		if (p->nhdr == SMIME_MAX_HEADERS)
			return fail("too many fields");
		p->hdr[p->nhdr].name = xstrndup(l, (size_t)(c - l));
		p->hdr[p->nhdr].value = xstrndup(c + 2, (size_t)(l + ll - c - 2));
		p->nhdr++;
	}
	*body = pos;
	return 0;
}

const char *
smime_header(const struct smime_part *p, const char *name, size_t *count)
{
	const char	*v = NULL;
	size_t		 i, n = 0;

	for (i = 0; i < p->nhdr; i++)
		if (strcasecmp(p->hdr[i].name, name) == 0) {
			if (n++ == 0)
				v = p->hdr[i].value;
		}
	if (count != NULL)
		*count = n;
	return v;
}

/* ---- parameters (RFC 2045 section 5.1, RFC 2231) ------------------ */

struct raw_param {
	char	*attr;		/* lower case, as written */
	char	*value;		/* quoted-string unquoted */
	size_t	 len;
	int	 quoted;
};

/* RFC 2231 section 7 attribute-char. */
static int
is_attr_char(int c)
{
	return is_tchar(c) && c != '*' && c != '\'' && c != '%';
}

/* RFC 5987 section 3.2.1 attr-char: what an ext-value carries as is. */
static int
is_ext_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$&+-.^_`|~", c) != NULL);
}

/* Percent-decodes an ext-value run into out. */
static int
pct_decode(const char *s, size_t len, struct buf *out)
{
	size_t		 i;
	int		 h, l;
	unsigned char	 o;

	for (i = 0; i < len; i++) {
		if (s[i] != '%') {
			if (!is_ext_char((unsigned char)s[i]))
				return fail("ext-value character not encoded");
			put(out, s + i, 1);
			continue;
		}
		if (i + 2 >= len || (h = hexval((unsigned char)s[i + 1], 0)) < 0 ||
		    (l = hexval((unsigned char)s[i + 2], 0)) < 0)
			return fail("'%' not before two hex digits");
		o = (unsigned char)(h * 16 + l);
		if (o == 0)
			return fail("%00 in a parameter");
		put(out, &o, 1);
		i += 2;
	}
	return 0;
}

/* charset'language'value of a first extended section; *ascii set for
 * us-ascii. */
static int
ext_first(const char *s, size_t len, struct buf *out, int *ascii)
{
	const char	*q1, *q2;
	size_t		 i;

	if ((q1 = memchr(s, '\'', len)) == NULL ||
	    (q2 = memchr(q1 + 1, '\'', len - (size_t)(q1 + 1 - s))) == NULL)
		return fail("extended value without charset'language'");
	if ((size_t)(q1 - s) == 5 && strncasecmp(s, "utf-8", 5) == 0)
		*ascii = 0;
	else if ((size_t)(q1 - s) == 8 && strncasecmp(s, "us-ascii", 8) == 0)
		*ascii = 1;
	else
		return fail("extended value charset neither UTF-8 nor US-ASCII");
	for (i = 1; q1 + i < q2; i++)
		if (!((q1[i] >= 'a' && q1[i] <= 'z') ||
		    (q1[i] >= 'A' && q1[i] <= 'Z') || q1[i] == '-'))
			return fail("bad language tag");
	return pct_decode(q2 + 1, len - (size_t)(q2 + 1 - s), out);
}

/* Splits attr into base, section (-1: none) and the '*' of extended. */
static int
attr_split(const char *attr, size_t *baselen, long *sect, int *ext)
{
	size_t		 n = strlen(attr), b = 0, k;

	while (b < n && is_attr_char((unsigned char)attr[b]))
		b++;
	if (b == 0)
		return fail("empty parameter name");
	*baselen = b;
	*sect = -1;
	*ext = 0;
	if (b == n)
		return 0;
	if (attr[b] != '*')
		return fail("bad character in a parameter name");
	if (b + 1 == n) {
		*ext = 1;
		return 0;
	}
	k = b + 1;
	if (attr[k] < '0' || attr[k] > '9' || (attr[k] == '0' && k + 1 < n &&
	    attr[k + 1] >= '0' && attr[k + 1] <= '9'))
		return fail("bad section number");
	*sect = 0;
	for (; k < n && attr[k] >= '0' && attr[k] <= '9'; k++) {
		*sect = *sect * 10 + (attr[k] - '0');
		if (*sect > SECTION_MAX)
			return fail("section number too large");
	}
	if (k == n)
		return 0;
	if (attr[k] == '*' && k + 1 == n) {
		*ext = 1;
		return 0;
	}
	return fail("bad parameter name");
}

static void
raw_free(struct raw_param *r, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(r[i].attr);
		free(r[i].value);
	}
}

static int
param_add(struct smime_param *out, size_t *nout, const char *name,
    size_t namelen, struct buf *v, int extended)
{
	size_t	 i;

	for (i = 0; i < *nout; i++)
		if (strlen(out[i].name) == namelen &&
		    memcmp(out[i].name, name, namelen) == 0 &&
		    out[i].extended == extended)
			return fail("parameter given twice");
	if (*nout == SMIME_MAX_PARAMS)
		return fail("too many parameters");
	out[*nout].name = xstrndup(name, namelen);
	out[*nout].value = xstrndup(v->data ? v->data : "", v->len);
	out[*nout].len = v->len;
	out[*nout].extended = extended;
	(*nout)++;
	return 0;
}

/*
 * Puts the raw parameters together: plain ones as they are, "name*" and
 * "name*0".."name*N" as one extended value each (RFC 2231 sections 3, 4).
 */
static int
params_join(struct raw_param *r, size_t n, struct smime_param *out,
    size_t *nout)
{
	struct buf	 v = BUF_INIT;
	size_t		 i, k, bl, kbl, nsect;
	long		 sect, ks, want;
	int		 ext, kext, ascii = 0, rc = -1, found;

	for (i = 0; i < n; i++) {
		if (attr_split(r[i].attr, &bl, &sect, &ext) == -1)
			goto out;
		if (ext && r[i].quoted) {
			fail("extended value in quotes");
			goto out;
		}
		buf_reset(&v);
		if (sect == -1) {
			if (!ext)
				put(&v, r[i].value, r[i].len);
			else if (ext_first(r[i].value, r[i].len, &v, &ascii) == -1)
				goto out;
			if (ext && !smime_utf8(v.data ? v.data : "", v.len)) {
				fail("extended value not UTF-8");
				goto out;
			}
			for (k = 0; ext && ascii && k < v.len; k++)
				if ((unsigned char)v.data[k] >= 0x80) {
					fail("8-bit in a US-ASCII value");
					goto out;
				}
			if (param_add(out, nout, r[i].attr, bl, &v, ext) == -1)
				goto out;
			continue;
		}
		if (sect != 0)
			continue;	/* joined from its section 0 */
		/* Sections 0..N-1 of this name, each once, in any order. */
		for (want = 0, nsect = 0;; want++) {
			found = 0;
			for (k = 0; k < n; k++) {
				if (attr_split(r[k].attr, &kbl, &ks, &kext) == -1)
					goto out;
				if (ks != want || kbl != bl ||
				    memcmp(r[k].attr, r[i].attr, bl) != 0)
					continue;
				if (found++) {
					fail("section given twice");
					goto out;
				}
				if (kext && want == 0) {
					if (ext_first(r[k].value, r[k].len, &v,
					    &ascii) == -1)
						goto out;
				} else if (kext) {
					if (pct_decode(r[k].value, r[k].len,
					    &v) == -1)
						goto out;
				} else
					put(&v, r[k].value, r[k].len);
			}
			if (!found)
				break;
			nsect++;
		}
		/* A section past a gap belongs to no value. */
		for (k = 0; k < n; k++) {
			if (attr_split(r[k].attr, &kbl, &ks, &kext) == -1)
				goto out;
			if (kbl == bl && memcmp(r[k].attr, r[i].attr, bl) == 0 &&
			    ks >= (long)nsect) {
				fail("section after a gap");
				goto out;
			}
		}
		if (!smime_utf8(v.data ? v.data : "", v.len)) {
			fail("extended value not UTF-8");
			goto out;
		}
		if (param_add(out, nout, r[i].attr, bl, &v, 1) == -1)
			goto out;
	}
	/* "name*" and "name*0" together: two extended values for one name. */
	for (i = 0; i < *nout; i++)
		for (k = i + 1; k < *nout; k++)
			if (strcmp(out[i].name, out[k].name) == 0 &&
			    out[i].extended == out[k].extended) {
				fail("parameter given twice");
				goto out;
			}
	rc = 0;
out:
	buf_free(&v);
	return rc;
}

/*
 * value = token ["/" token] *(";" SP* attribute "=" (token /
 * quoted-string)), blanks allowed around ';' only.
 */
static int
params_parse(const char *v, char *first, size_t firstsize, int slash,
    struct smime_param *out, size_t *nout)
{
	struct raw_param	 r[SMIME_MAX_PARAMS];
	struct buf		 val = BUF_INIT;
	size_t			 i = 0, n = 0, k, start;
	int			 rc = -1, quoted;

	for (k = 0; is_tchar((unsigned char)v[i]); i++)
		if (k + 1 < firstsize) {
			first[k++] = (char)((v[i] >= 'A' && v[i] <= 'Z') ?
			    v[i] + 32 : v[i]);
		}
	if (k == 0)
		return fail("no type");
	if (slash) {
		if (v[i++] != '/')
			return fail("type without '/'");
		first[k++] = '/';
		for (start = i; is_tchar((unsigned char)v[i]); i++)
			if (k + 1 < firstsize)
				first[k++] = (char)((v[i] >= 'A' && v[i] <= 'Z') ?
				    v[i] + 32 : v[i]);
		if (i == start)
			return fail("no subtype");
	}
	if (k + 1 >= firstsize)
		return fail("type too long");
	first[k] = '\0';
	for (;;) {
		while (is_wsp((unsigned char)v[i]))
			i++;
		if (v[i] == '\0')
			break;
		if (v[i++] != ';') {
			fail("junk where ';' belongs");
			goto out;
		}
		while (is_wsp((unsigned char)v[i]))
			i++;
		if (n == SMIME_MAX_PARAMS) {
			fail("too many parameters");
			goto out;
		}
		for (start = i; is_tchar((unsigned char)v[i]); i++)
			;
		if (i == start || v[i] != '=') {
			fail("parameter without name or '='");
			goto out;
		}
		r[n].attr = xstrndup(v + start, i - start);
		for (k = 0; r[n].attr[k] != '\0'; k++)
			if (r[n].attr[k] >= 'A' && r[n].attr[k] <= 'Z')
				r[n].attr[k] += 32;
		r[n].value = NULL;
		n++;
		i++;
		buf_reset(&val);
		quoted = v[i] == '"';
		if (quoted) {
			for (i++; v[i] != '"'; i++) {
				if (v[i] == '\0') {
					fail("unterminated quoted-string");
					goto out;
				}
				if (v[i] == '\\') {
					i++;
					if (v[i] == '\0' || ((unsigned char)v[i] <
					    0x20 && v[i] != '\t')) {
						fail("bad quoted-pair");
						goto out;
					}
				} else if ((unsigned char)v[i] < 0x20 &&
				    v[i] != '\t') {
					fail("control in a quoted-string");
					goto out;
				}
				put(&val, v + i, 1);
			}
			i++;
		} else {
			for (start = i; is_tchar((unsigned char)v[i]); i++)
				;
			if (i == start) {
				fail("empty parameter value");
				goto out;
			}
			put(&val, v + start, i - start);
		}
		r[n - 1].value = xstrndup(val.data ? val.data : "", val.len);
		r[n - 1].len = val.len;
		r[n - 1].quoted = quoted;
		if (memchr(r[n - 1].value, '\0', val.len) != NULL) {
			fail("NUL in a parameter");
			goto out;
		}
	}
	rc = params_join(r, n, out, nout);
out:
	raw_free(r, n);
	buf_free(&val);
	return rc;
}

const struct smime_param *
smime_param(const struct smime_param *p, size_t n, const char *name,
    int extended)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(p[i].name, name) == 0 && p[i].extended == extended)
			return &p[i];
	return NULL;
}

/* ---- bodies -------------------------------------------------------- */

static int
qp_decode(const char *s, size_t len, struct buf *out)
{
	size_t		 pos = 0, next, ll, i;
	const char	*l;
	unsigned char	 c, o;
	int		 crlf, soft;

	while (pos < len) {
		l = s + pos;
		ll = line_at(s, len, pos, &next, &crlf);
		if (ll > QP_LINE)
			return fail("QP line over 76");
		soft = 0;
		for (i = 0; i < ll; i++) {
			c = (unsigned char)l[i];
			if (c == '=') {
				if (i + 1 == ll) {
					soft = 1;
					break;
				}
				if (i + 2 >= ll || hexval((unsigned char)l[i + 1],
				    1) < 0 || hexval((unsigned char)l[i + 2], 1) < 0)
					return fail("QP '=' not before upper-case "
					    "hex or a line end");
				o = (unsigned char)(hexval((unsigned char)l[i + 1],
				    1) * 16 + hexval((unsigned char)l[i + 2], 1));
				put(out, &o, 1);
				i += 2;
				continue;
			}
			if (!(c == ' ' || c == '\t' || (c >= 33 && c <= 126)))
				return fail("QP octet not encoded");
			put(out, l + i, 1);
		}
		if (!soft && ll > 0 && is_wsp((unsigned char)l[ll - 1]))
			return fail("QP blank at a line end");
		if (!crlf)
			break;
		if (!soft)
			put(out, "\r\n", 2);
		pos = next;
	}
	return 0;
}

static int
b64_value(int c)
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

/* Base64 without line breaks: whole quanta, padding at the end only,
 * zero pad bits. */
static int
b64_run(const char *s, size_t len, struct buf *out)
{
	size_t		 i, k;
	int		 v[4], pad;
	unsigned char	 o[3];

	if (len % 4 != 0)
		return fail("base64 not in whole quanta");
	for (i = 0; i < len; i += 4) {
		pad = 0;
		for (k = 0; k < 4; k++) {
			if (s[i + k] == '=') {
				if (i + 4 != len || k < 2 ||
				    (k == 2 && s[i + 3] != '='))
					return fail("base64 padding not at the end");
				pad++;
				v[k] = 0;
			} else if (pad || (v[k] = b64_value((unsigned char)s[i +
			    k])) < 0)
				return fail("not a base64 character");
		}
		if ((pad == 1 && (v[2] & 3) != 0) || (pad == 2 && (v[1] & 15) != 0))
			return fail("base64 pad bits not zero");
		o[0] = (unsigned char)((v[0] << 2) | (v[1] >> 4));
		o[1] = (unsigned char)(((v[1] & 15) << 4) | (v[2] >> 2));
		o[2] = (unsigned char)(((v[2] & 3) << 6) | v[3]);
		put(out, o, 3 - (size_t)pad);
	}
	return 0;
}

static int
b64_decode(const char *s, size_t len, struct buf *out)
{
	struct buf	 t = BUF_INIT;
	size_t		 pos = 0, next, ll;
	int		 crlf, rc = -1;

	while (pos < len) {
		ll = line_at(s, len, pos, &next, &crlf);
		if (ll > B64_LINE) {
			fail("base64 line over 76");
			goto out;
		}
		if (ll == 0) {
			fail("empty base64 line");
			goto out;
		}
		put(&t, s + pos, ll);
		pos = next;
	}
	rc = b64_run(t.data ? t.data : "", t.len, out);
out:
	buf_free(&t);
	return rc;
}

/* ---- entities ------------------------------------------------------ */

static int	entity_parse(struct smime_part *, const char *, size_t, int,
		    int, const char *);

/* RFC 2046 section 5.1.1 bchars. */
static int
boundary_ok(const char *b)
{
	size_t	 i, n = strlen(b);

	if (n == 0 || n > BOUNDARY_MAX || b[n - 1] == ' ')
		return 0;
	for (i = 0; i < n; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= 'A' &&
		    b[i] <= 'Z') || (b[i] >= '0' && b[i] <= '9') ||
		    strchr("'()+_,-./:=? ", b[i]) != NULL))
			return 0;
	return 1;
}

static int
multipart_parse(struct smime_part *p, const char *s, size_t len,
    const char *bd, int depth)
{
	size_t		 off[SMIME_MAX_PARTS], plen[SMIME_MAX_PARTS];
	size_t		 bl = strlen(bd), pos = 0, next, ll, n = 0, i;
	size_t		 open = 0;
	const char	*l;
	int		 crlf, in_part = 0, closed = 0;

	while (pos < len) {
		l = s + pos;
		ll = line_at(s, len, pos, &next, &crlf);
		if (ll >= 2 + bl && l[0] == '-' && l[1] == '-' &&
		    memcmp(l + 2, bd, bl) == 0) {
			if (closed)
				return fail("boundary line after the close "
				    "delimiter");
			if (ll != 2 + bl && !(ll == 4 + bl && l[2 + bl] == '-' &&
			    l[3 + bl] == '-'))
				return fail("line starting with the boundary in "
				    "a part");
			if (in_part) {
				if (pos < open + 2)
					return fail("delimiter right after a "
					    "delimiter");
				if (n == SMIME_MAX_PARTS)
					return fail("too many parts");
				off[n] = open;
				plen[n] = pos - 2 - open;
				n++;
			}
			if (ll == 2 + bl) {
				if (!crlf)
					return fail("delimiter without CRLF");
				in_part = 1;
				open = next;
			} else {
				closed = 1;
				in_part = 0;
			}
		}
		pos = next;
	}
	if (!closed)
		return fail("no close delimiter");
	if (n == 0)
		return fail("multipart without a part");
	if ((p->child = calloc(n, sizeof(*p->child))) == NULL) {
		fprintf(stderr, "strict_mime: out of memory\n");
		abort();
	}
	p->nchild = n;
	for (i = 0; i < n; i++)
		if (entity_parse(&p->child[i], s + off[i], plen[i], depth + 1, 0,
		    bd) == -1)
			return -1;
	return 0;
}

/*
 * One entity: the header section (a part may have none: it starts with
 * CRLF or is empty), then its body, decoded or split into parts.  outer
 * is the enclosing boundary (NULL at the top).
 */
static int
entity_parse(struct smime_part *p, const char *s, size_t len, int depth,
    int top, const char *outer)
{
	const struct smime_param	*bp, *cs;
	const char			*v;
	size_t				 body = 0, n, k;

	if (!top && (len == 0 || (len >= 2 && s[0] == '\r' && s[1] == '\n')))
		body = len == 0 ? 0 : 2;
	else if (headers_parse(p, s, len, &body) == -1)
		return -1;
	s += body;
	len -= body;

	if ((v = smime_header(p, "Content-Type", &n)) != NULL) {
		if (n > 1)
			return fail("Content-Type twice");
		if (params_parse(v, p->type, sizeof(p->type), 1, p->param,
		    &p->nparam) == -1)
			return -1;
	} else
		snprintf(p->type, sizeof(p->type), "text/plain");
	p->cte = SMIME_7BIT;
	if ((v = smime_header(p, "Content-Transfer-Encoding", &n)) != NULL) {
		if (n > 1)
			return fail("Content-Transfer-Encoding twice");
		if (strcasecmp(v, "quoted-printable") == 0)
			p->cte = SMIME_QP;
		else if (strcasecmp(v, "base64") == 0)
			p->cte = SMIME_BASE64;
		else if (strcasecmp(v, "7bit") != 0)
			return fail("Content-Transfer-Encoding not 7bit, "
			    "quoted-printable or base64");
	}
	if ((v = smime_header(p, "Content-Disposition", &n)) != NULL) {
		if (n > 1)
			return fail("Content-Disposition twice");
		if (params_parse(v, p->disposition, sizeof(p->disposition), 0,
		    p->dparam, &p->ndparam) == -1)
			return -1;
	}

	if (strncmp(p->type, "multipart/", 10) == 0) {
		if (p->cte != SMIME_7BIT)
			return fail("multipart not 7bit");
		if (depth >= SMIME_MAX_DEPTH)
			return fail("multipart nested too deep");
		if ((bp = smime_param(p->param, p->nparam, "boundary", 0)) ==
		    NULL || smime_param(p->param, p->nparam, "boundary", 1) !=
		    NULL || !boundary_ok(bp->value))
			return fail("multipart without one good boundary");
		if (outer != NULL && (strncmp(outer, bp->value,
		    strlen(outer)) == 0 || strncmp(bp->value, outer,
		    strlen(bp->value)) == 0))
			return fail("nested boundary a prefix of the outer one");
		return multipart_parse(p, s, len, bp->value, depth);
	}
	if (strncmp(p->type, "message/", 8) == 0)
		return fail("message/* type");
	switch (p->cte) {
	case SMIME_QP:
		if (qp_decode(s, len, &p->body) == -1)
			return -1;
		break;
	case SMIME_BASE64:
		if (b64_decode(s, len, &p->body) == -1)
			return -1;
		break;
	default:
		put(&p->body, s, len);
		break;
	}
	put(&p->body, "", 0);
	if (strncmp(p->type, "text/", 5) == 0 &&
	    (cs = smime_param(p->param, p->nparam, "charset", 0)) != NULL) {
		if (strcasecmp(cs->value, "us-ascii") == 0) {
			for (k = 0; k < p->body.len; k++)
				if ((unsigned char)p->body.data[k] >= 0x80)
					return fail("8-bit text in US-ASCII");
		} else if (strcasecmp(cs->value, "utf-8") != 0)
			return fail("text charset neither UTF-8 nor US-ASCII");
	}
	return 0;
}

int
smime_parse(const char *s, size_t len, struct smime_part **out)
{
	struct smime_part	*p;

	*out = NULL;
	if (wire_ok(s, len) == -1)
		return -1;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		fprintf(stderr, "strict_mime: out of memory\n");
		abort();
	}
	if (entity_parse(p, s, len, 0, 1, NULL) == -1) {
		smime_free(p);
		return -1;
	}
	*out = p;
	return 0;
}

static void
part_clear(struct smime_part *p)
{
	size_t	 i;

	for (i = 0; i < p->nhdr; i++) {
		free(p->hdr[i].name);
		free(p->hdr[i].value);
	}
	for (i = 0; i < p->nparam; i++) {
		free(p->param[i].name);
		free(p->param[i].value);
	}
	for (i = 0; i < p->ndparam; i++) {
		free(p->dparam[i].name);
		free(p->dparam[i].value);
	}
	buf_free(&p->body);
	for (i = 0; i < p->nchild; i++)
		part_clear(&p->child[i]);
	free(p->child);
}

void
smime_free(struct smime_part *p)
{
	if (p == NULL)
		return;
	part_clear(p);
	free(p);
}

/* ---- RFC 2047 ------------------------------------------------------ */

/*
 * One blank-free word: 1 when it is an encoded word (decoded into out),
 * 0 when it is plain text, -1 when it is a broken or ambiguous one.
 */
static int
ew_decode(const char *s, size_t len, struct buf *out)
{
	struct buf	 t = BUF_INIT;
	const char	*q1, *txt;
	size_t		 tl, i;
	int		 h, l, rc = -1;
	unsigned char	 o;
	char		 enc;

	if (len < 2 || s[0] != '=' || s[1] != '?') {
		if (len >= 2 && memmem(s, len, "=?", 2) != NULL)
			return fail("plain word holding \"=?\"");
		return 0;
	}
	if (len > EW_MAX)
		return fail("encoded word over 75 octets");
	if (len < 10 || s[len - 2] != '?' || s[len - 1] != '=' ||
	    (q1 = memchr(s + 2, '?', len - 2)) == NULL ||
	    q1 + 3 > s + len - 2 || q1[2] != '?')
		return fail("malformed encoded word");
	if (q1 - (s + 2) != 5 || strncasecmp(s + 2, "utf-8", 5) != 0)
		return fail("encoded word charset not UTF-8");
	enc = q1[1];
	txt = q1 + 3;
	tl = (size_t)(s + len - 2 - txt);
	if (tl == 0 || memchr(txt, '?', tl) != NULL)
		return fail("encoded text empty or holding '?'");
	if (enc == 'B' || enc == 'b') {
		if (b64_run(txt, tl, &t) == -1)
			goto out;
	} else if (enc == 'Q' || enc == 'q') {
		for (i = 0; i < tl; i++) {
			if (txt[i] == '_')
				put(&t, " ", 1);
			else if (txt[i] == '=') {
				if (i + 2 >= tl || (h = hexval((unsigned char)
				    txt[i + 1], 1)) < 0 || (l = hexval(
				    (unsigned char)txt[i + 2], 1)) < 0) {
					fail("bad Q encoding");
					goto out;
				}
				o = (unsigned char)(h * 16 + l);
				put(&t, &o, 1);
				i += 2;
			} else if ((unsigned char)txt[i] > 0x20 &&
			    (unsigned char)txt[i] < 0x7f)
				put(&t, txt + i, 1);
			else {
				fail("bad Q character");
				goto out;
			}
		}
	} else {
		fail("encoding neither B nor Q");
		goto out;
	}
	if (t.len == 0 || !smime_utf8(t.data, t.len)) {
		fail("encoded word not whole UTF-8 characters");
		goto out;
	}
	put(out, t.data, t.len);
	rc = 1;
out:
	buf_free(&t);
	return rc;
}

int
smime_unstructured(const char *v, struct buf *out)
{
	struct buf	 w = BUF_INIT;
	size_t		 i = 0, n = strlen(v), ws, we;
	int		 r, prev = 0;

	while (i < n) {
		for (ws = i; i < n && is_wsp((unsigned char)v[i]); i++)
			;
		if (i == n) {
			put(out, v + ws, i - ws);
			break;
		}
		for (we = i; we < n && !is_wsp((unsigned char)v[we]); we++)
			;
		buf_reset(&w);
		if ((r = ew_decode(v + i, we - i, &w)) == -1) {
			buf_free(&w);
			return -1;
		}
		if (!(r == 1 && prev))
			put(out, v + ws, i - ws);
		if (r == 1)
			put(out, w.data, w.len);
		else
			put(out, v + i, we - i);
		prev = r == 1;
		i = we;
	}
	put(out, "", 0);
	buf_free(&w);
	return 0;
}

/* ---- addresses ----------------------------------------------------- */

static int
dot_atom_text(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return 0;
		} else if (!is_atext((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

int
smime_addr_spec(const char *s, size_t len)
{
	const char	*at = memchr(s, '@', len);

	return at != NULL && dot_atom_text(s, (size_t)(at - s)) &&
	    dot_atom_text(at + 1, len - (size_t)(at + 1 - s));
}

/* One phrase word at v[*i]: an atom (maybe an encoded word) or a
 * quoted-string.  Returns 1 encoded word, 0 other, -1 broken. */
static int
phrase_word(const char *v, size_t *i, struct buf *out)
{
	size_t	 s = *i;
	int	 r;

	if (v[s] == '"') {
		for (s++; v[s] != '"'; s++) {
			if (v[s] == '\0')
				return fail("unterminated quoted-string");
			if (v[s] == '\\') {
				s++;
				if (!((unsigned char)v[s] >= 0x20 || v[s] == '\t'))
					return fail("bad quoted-pair");
			} else if ((unsigned char)v[s] < 0x20 && v[s] != '\t')
				return fail("control in a quoted-string");
			put(out, v + s, 1);
		}
		*i = s + 1;
		return 0;
	}
	while (is_atext((unsigned char)v[s]))
		s++;
	if (s == *i)
		return fail("phrase word neither atom nor quoted-string");
	if ((r = ew_decode(v + *i, s - *i, out)) == -1)
		return -1;
	if (r == 0)
		put(out, v + *i, s - *i);
	*i = s;
	return r;
}


/*
 * mailbox = addr-spec / [phrase] "<" addr-spec ">" (RFC 5322 section
 * 3.4).  The display keeps the blanks between its words but for those
 * between two encoded words (RFC 2047 section 6.2).
 */
static int
mailbox_parse(const char *v, size_t *pos, struct smime_mailbox *mb)
{
	struct buf	 d = BUF_INIT;
	const char	*gt;
	size_t		 i = *pos, e, ws, mark, after;
	int		 r, prev = 0, words = 0, rc = -1;

	/* A bare addr-spec: its run (to a blank, ',' or the end) holds '@',
	 * which no phrase word outside quotes can. */
	for (e = i; v[e] != '\0' && !is_wsp((unsigned char)v[e]) && v[e] != ',';
	    e++)
		;
	if (v[i] != '"' && v[i] != '<' && memchr(v + i, '@', e - i) != NULL) {
		if (!smime_addr_spec(v + i, e - i)) {
			fail("bad addr-spec");
			goto out;
		}
		mb->display = xstrndup("", 0);
		mb->addr = xstrndup(v + i, e - i);
		*pos = e;
		rc = 0;
		goto out;
	}
	for (;;) {
		for (ws = i; is_wsp((unsigned char)v[i]); i++)
			;
		if (v[i] == '<')
			break;
		if (v[i] == '\0' || v[i] == ',') {
			fail("phrase without an angle-addr");
			goto out;
		}
		mark = d.len;
		if (words > 0)
			put(&d, v + ws, i - ws);
		after = d.len;
		if ((r = phrase_word(v, &i, &d)) == -1)
			goto out;
		if (r == 1 && prev && after > mark) {
			memmove(d.data + mark, d.data + after, d.len - after);
			d.len -= after - mark;
			d.data[d.len] = '\0';
		}
		prev = r == 1;
		words++;
	}
	if ((gt = strchr(v + i, '>')) == NULL ||
	    !smime_addr_spec(v + i + 1, (size_t)(gt - v) - i - 1)) {
		fail("bad angle-addr");
		goto out;
	}
	e = (size_t)(gt - v);
	mb->display = xstrndup(d.data ? d.data : "", d.len);
	mb->addr = xstrndup(v + i + 1, e - i - 1);
	*pos = e + 1;
	rc = 0;
out:
	buf_free(&d);
	return rc;
}

int
smime_mailboxes(const char *v, struct smime_mailbox *mb, size_t max,
    size_t *n)
{
	size_t	 i = 0;

	*n = 0;
	for (;;) {
		while (is_wsp((unsigned char)v[i]))
			i++;
		if (*n == max) {
			fail("too many mailboxes");
			goto bad;
		}
		mb[*n].display = mb[*n].addr = NULL;
		if (mailbox_parse(v, &i, &mb[*n]) == -1)
			goto bad;
		(*n)++;
		while (is_wsp((unsigned char)v[i]))
			i++;
		if (v[i] == '\0')
			return 0;
		if (v[i++] != ',') {
			fail("junk after a mailbox");
			goto bad;
		}
	}
bad:
	smime_mailboxes_free(mb, *n);
	*n = 0;
	return -1;
}

void
smime_mailboxes_free(struct smime_mailbox *mb, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(mb[i].display);
		free(mb[i].addr);
	}
}

/* ---- dates --------------------------------------------------------- */

static int
digits(const char **p, int min, int max, int *out)
{
	int	 n = 0;

	*out = 0;
	while (n < max && **p >= '0' && **p <= '9') {
		*out = *out * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	return n >= min ? 0 : -1;
}

static int
expect(const char **p, char c)
{
	if (**p != c)
		return -1;
	(*p)++;
	return 0;
}

/* "Sat, 28 Nov 2026 00:26:26 +0000" (RFC 5322 section 3.3). */
int
smime_date(const char *v, time_t *out)
{
	static const char	 days[] = "SunMonTueWedThuFriSat";
	static const char	 mons[] = "JanFebMarAprMayJunJulAugSepOctNov"
	    "Dec";
	struct tm		 tm, back;
	const char		*p = v;
	int			 k, wd = -1, mon = -1, day, year, hh, mm, ss;
	int			 zone, sign;
	time_t			 t;

	for (k = 0; k < 7; k++)
		if (strncmp(p, days + 3 * k, 3) == 0)
			wd = k;
	if (wd < 0)
		return fail("bad day name");
	p += 3;
	if (expect(&p, ',') || expect(&p, ' ') || digits(&p, 1, 2, &day) ||
	    expect(&p, ' '))
		return fail("bad day");
	for (k = 0; k < 12; k++)
		if (strncmp(p, mons + 3 * k, 3) == 0)
			mon = k;
	if (mon < 0)
		return fail("bad month");
	p += 3;
	if (expect(&p, ' ') || digits(&p, 4, 4, &year) || expect(&p, ' ') ||
	    digits(&p, 2, 2, &hh) || expect(&p, ':') || digits(&p, 2, 2, &mm) ||
	    expect(&p, ':') || digits(&p, 2, 2, &ss) || expect(&p, ' '))
		return fail("bad date or time");
	if (*p != '+' && *p != '-')
		return fail("bad zone");
	sign = *p++ == '-' ? -1 : 1;
	if (digits(&p, 4, 4, &zone) || *p != '\0' || zone % 100 > 59)
		return fail("bad zone");
	if (year < 1900 || hh > 23 || mm > 59 || ss > 60 || day < 1)
		return fail("date out of range");
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon;
	tm.tm_mday = day;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	t = timegm(&tm);
	if (gmtime_r(&t, &back) == NULL || back.tm_mday != day ||
	    back.tm_mon != mon || back.tm_year != year - 1900)
		return fail("no such day");
	if (back.tm_wday != wd)
		return fail("day name does not match the date");
	*out = t - sign * ((zone / 100) * 3600 + (zone % 100) * 60);
	return 0;
}
