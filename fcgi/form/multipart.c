/*
 * multipart: a multipart/form-data body (RFC 7578) as a form: parts,
 * their names and filenames (RFC 2231/5987), content sniffing; see
 * form.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "form/form.h"
#include "form/form_int.h"
#include "lib/buf.h"
#include "lib/text.h"

/*
 * multipart/form-data.  One scan over the body finds each part, checks it
 * against the limits and notes where its pieces are (names and filenames,
 * which need decoding, go to a scratch buffer); then one allocation holds
 * the struct form, both arrays and copies of every piece, so form_free()
 * stays one free().  The scratch buffer and the part list grow only with
 * the number of parts (at most max_fields) and header octets; file data is
 * copied only after its size passed max_file_size and max_total.
 */

#define FORM_MULTIPART		"multipart/form-data"
#define FORM_MAX_EXT		32	/* extension octets kept when cutting */

struct form_disp {
	struct form_param	 name, fname, fnamex;
	int			 has_name, has_fname, has_fnamex;
};

struct form_part {
	size_t		 name_off, name_len;	/* in form_scan.text */
	size_t		 fname_off, fname_len;	/* in form_scan.text */
	const char	*ctype;			/* in the body */
	size_t		 ctype_len;
	const char	*data;			/* in the body */
	size_t		 len;
	int		 is_file, fname_empty, too_large;
};

struct form_scan {
	const char		*body;
	size_t			 len;
	char			 delim[4 + FORM_MAX_BOUNDARY]; /* CRLF "--" b */
	size_t			 dlen;
	struct form_limits	 lim;
	struct form_part	*parts;
	size_t			 nparts, cap;
	size_t			 seen, nfiles, total;
	struct buf		 text;
};

/* RFC 2046 section 5.1.1, bchars. */
static int
form_bchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("'()+_,-./:=? ", c) != NULL);
}

/*
 * Characters a filename may not hold: controls, line and paragraph
 * separators, and the bidirectional formatting characters that can show
 * "gpj.exe" as "exe.jpg" (Unicode TR 9, section 2).
 */
static int
form_badcp(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c ||
	    cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * The boundary of a Content-Type value into sc->delim, as the delimiter
 * CRLF "--" boundary (RFC 2046 section 5.1.1).  Returns 0 or -1.
 */
static int
form_boundary(const char *ct, struct form_scan *sc)
{
	struct form_param	 pm;
	char			 b[2 * FORM_MAX_BOUNDARY];
	size_t			 len, pos, blen = 0, i;
	int			 rc, seen = 0;

	if (ct == NULL)
		return -1;
	len = strlen(ct);
	pos = form_ows(ct, len, 0);
	if (len - pos < sizeof(FORM_MULTIPART) - 1 || strncasecmp(ct + pos,
	    FORM_MULTIPART, sizeof(FORM_MULTIPART) - 1) != 0)
		return -1;
	pos += sizeof(FORM_MULTIPART) - 1;
	while ((rc = form_param(ct, len, &pos, &pm)) == 1) {
		if (!form_is(pm.name, pm.name_len, "boundary"))
			continue;
		/* Two boundaries: two parsers could pick different ones. */
		if (seen++ || pm.val_len > sizeof(b))
			return -1;
		blen = form_unquote(b, &pm);
	}
	if (rc == -1 || !seen || blen == 0 || blen > FORM_MAX_BOUNDARY ||
	    b[blen - 1] == ' ')
		return -1;
	for (i = 0; i < blen; i++)
		if (!form_bchar((unsigned char)b[i]))
			return -1;
	memcpy(sc->delim, "\r\n--", 4);
	memcpy(sc->delim + 4, b, blen);
	sc->dlen = blen + 4;
	return 0;
}

/*
 * After "--boundary" at *pos: returns 1 with *pos past the line when a part
 * follows, 0 at the close delimiter (what follows it is epilogue), -1 when
 * the line goes on with anything but transport-padding.
 */
static int
form_after_delim(const struct form_scan *sc, size_t *pos)
{
	const char	*s = sc->body;
	size_t		 i = *pos, len = sc->len;
	int		 close = 0;

	if (len - i >= 2 && s[i] == '-' && s[i + 1] == '-') {
		close = 1;
		i += 2;
	}
	i = form_ows(s, len, i);
	if (close && i == len)
		return 0;
	if (len - i < 2 || s[i] != '\r' || s[i + 1] != '\n')
		return -1;
	*pos = i + 2;
	return close ? 0 : 1;
}

/*
 * The header line at *pos: its length without CRLF in *n, *pos moved past
 * its CRLF.  Returns -1 when no CRLF comes within max_part_header octets or
 * the line holds a control other than TAB (bare CR and LF included) or DEL.
 */
static int
form_line(const struct form_scan *sc, size_t *pos, size_t *n)
{
	const char	*s = sc->body + *pos, *lf;
	size_t		 win = sc->lim.max_part_header + 2, i;
	unsigned char	 c;

	if (win > sc->len - *pos)
		win = sc->len - *pos;
	if ((lf = memchr(s, '\n', win)) == NULL || lf == s || lf[-1] != '\r')
		return -1;
	*n = (size_t)(lf - s) - 1;
	for (i = 0; i < *n; i++) {
		c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return -1;
	}
	*pos += *n + 2;
	return 0;
}

/* Content-Disposition: form-data and its parameters (RFC 7578 4.2). */
static int
form_disposition(const char *v, size_t len, struct form_disp *d)
{
	struct form_param	 pm;
	size_t			 pos;
	int			 rc;

	memset(d, 0, sizeof(*d));
	for (pos = 0; pos < len && form_tchar((unsigned char)v[pos]); pos++)
		continue;
	if (!form_is(v, pos, "form-data"))
		return -1;
	while ((rc = form_param(v, len, &pos, &pm)) == 1) {
		if (form_is(pm.name, pm.name_len, "name")) {
			if (d->has_name++)
				return -1;
			d->name = pm;
		} else if (form_is(pm.name, pm.name_len, "filename")) {
			if (d->has_fname++)
				return -1;
			d->fname = pm;
		} else if (form_is(pm.name, pm.name_len, "filename*")) {
			if (d->has_fnamex++)
				return -1;
			d->fnamex = pm;
		}
	}
	return rc;
}

/* A Content-Type value whose type is multipart (RFC 7578 section 4.3). */
static int
form_nested(const char *v, size_t len)
{
	size_t	 i;

	for (i = 0; i < len && form_tchar((unsigned char)v[i]); i++)
		continue;
	return form_is(v, i, "multipart");
}

/*
 * Appends the sanitized filename v[0..n) (see form.h) and a NUL to b; its
 * length goes to *out.
 */
static enum form_err
form_filename(struct buf *b, const char *v, size_t n, size_t *out)
{
	const unsigned char	*u = (const unsigned char *)v;
	size_t			 i, k, start = 0, ext = 0, stem;
	uint32_t		 cp;

	for (i = 0; i < n; i += k) {
		if ((k = text_utf8_next(u + i, n - i, &cp)) == 0 ||
		    form_badcp(cp))
			return FORM_EINVAL;
		if (cp == '/' || cp == '\\')
			start = i + 1;
	}
	v += start;
	n -= start;
	if (n == 0 || (n == 1 && v[0] == '.') ||
	    (n == 2 && v[0] == '.' && v[1] == '.')) {
		v = FORM_UPLOAD_NAME;
		n = sizeof(FORM_UPLOAD_NAME) - 1;
	}
	if (n > FORM_MAX_FILENAME) {
		for (i = n; i > 1 && n - i < FORM_MAX_EXT; i--)
			if (v[i - 1] == '.') {
				ext = n - (i - 1);
				break;
			}
		/* Cut before a lead octet, never inside a character. */
		for (stem = FORM_MAX_FILENAME - ext; stem > 0 &&
		    ((unsigned char)v[stem] & 0xc0) == 0x80; stem--)
			continue;
		if (buf_add(b, v, stem) == -1 ||
		    buf_add(b, v + n - ext, ext) == -1)
			return FORM_ENOMEM;
		n = stem + ext;
	} else if (buf_add(b, v, n) == -1)
		return FORM_ENOMEM;
	if (buf_addc(b, '\0') == -1)
		return FORM_ENOMEM;
	*out = n;
	return FORM_OK;
}

/* The headers of the part at *pos, up to and past the empty line. */
static enum form_err
form_part_head(struct form_scan *sc, size_t *pos, struct form_part *pt)
{
	struct form_disp	 d;
	char			 tmp[FORM_MAX_PART_HEADER];
	const char		*s;
	size_t			 lines, n, i, vs, ve;
	int			 disp = 0, type = 0, cte = 0;
	enum form_err		 e;

	for (lines = 0;; lines++) {
		s = sc->body + *pos;
		if (form_line(sc, pos, &n) == -1)
			return FORM_EINVAL;
		if (n == 0)
			break;
		if (lines == FORM_MAX_PART_LINES)
			return FORM_EINVAL;
		/* A field name, no space before ':' (and so no folding). */
		for (i = 0; i < n && form_tchar((unsigned char)s[i]); i++)
			continue;
		if (i == 0 || i == n || s[i] != ':')
			return FORM_EINVAL;
		vs = form_ows(s, n, i + 1);
		for (ve = n; ve > vs && (s[ve - 1] == ' ' || s[ve - 1] == '\t');
		    ve--)
			continue;
		if (form_is(s, i, "Content-Disposition")) {
			if (disp++ || form_disposition(s + vs, ve - vs, &d) == -1)
				return FORM_EINVAL;
		} else if (form_is(s, i, "Content-Type")) {
			if (type++ || form_nested(s + vs, ve - vs))
				return FORM_EINVAL;
			pt->ctype = s + vs;
			pt->ctype_len = ve - vs;
		} else if (form_is(s, i, "Content-Transfer-Encoding")) {
			/* RFC 7578 section 4.7: deprecated; we decode none. */
			if (cte++ || !(form_is(s + vs, ve - vs, "7bit") ||
			    form_is(s + vs, ve - vs, "8bit") ||
			    form_is(s + vs, ve - vs, "binary")))
				return FORM_EINVAL;
		}
	}
	if (!disp || !d.has_name || d.name.val_len == 0)
		return FORM_EINVAL;

	/* Every value is shorter than its line, so tmp holds it. */
	n = form_unquote(tmp, &d.name);
	if (n > FORM_MAX_NAME)
		return FORM_ETOOBIG;
	pt->name_off = sc->text.len;
	pt->name_len = n;
	if (buf_add(&sc->text, tmp, n) == -1 || buf_addc(&sc->text, '\0') == -1)
		return FORM_ENOMEM;
	if (!(pt->is_file = d.has_fname || d.has_fnamex))
		return FORM_OK;
	if (!d.has_fnamex || form_extvalue(tmp, &d.fnamex, &n) == -1)
		n = d.has_fname ? form_unquote(tmp, &d.fname) : 0;
	pt->fname_empty = n == 0;
	pt->fname_off = sc->text.len;
	if ((e = form_filename(&sc->text, tmp, n, &pt->fname_len)) != FORM_OK)
		return e;
	return FORM_OK;
}

/* Checks the part against the limits and keeps it. */
static enum form_err
form_add(struct form_scan *sc, struct form_part *pt)
{
	struct form_part	*np;
	size_t			 cap;

	if (pt->is_file) {
		/* A file input left empty (HTML: filename="", no data). */
		if (pt->fname_empty && pt->len == 0)
			return FORM_OK;
		if (sc->nfiles == sc->lim.max_files)
			return FORM_ETOOMANY;
		sc->nfiles++;
		if (pt->len > sc->lim.max_file_size)
			pt->too_large = 1;
		else if (pt->len > sc->lim.max_total - sc->total)
			return FORM_ETOOBIG;
		else
			sc->total += pt->len;
	}
	if (sc->nparts == sc->cap) {
		/* nparts < seen <= max_fields <= FORM_MAX_FIELDS */
		cap = sc->cap == 0 ? 8 : sc->cap * 2;
		if (cap > sc->lim.max_fields)
			cap = sc->lim.max_fields;
		if ((np = reallocarray(sc->parts, cap, sizeof(*np))) == NULL)
			return FORM_ENOMEM;
		sc->parts = np;
		sc->cap = cap;
	}
	sc->parts[sc->nparts++] = *pt;
	return FORM_OK;
}

static int
form_grow(size_t *size, size_t add)
{
	if (add > SIZE_MAX - *size)
		return -1;
	*size += add;
	return 0;
}

/* Copies text[0..len) and a NUL to *t; returns the copy. */
static char *
form_put(char **t, const char *s, size_t len)
{
	char	*r = *t;

	if (len > 0)
		memcpy(r, s, len);
	r[len] = '\0';
	*t += len + 1;
	return r;
}

static char *
form_put_name(char **t, const char *name, size_t len, const char *type)
{
	const char	*ext = form_safe_ext(type, name, len);
	char		*r = *t;
	size_t		 el = ext ? strlen(ext) + 1 : 0;

	if (ext != NULL && len + el > FORM_MAX_FILENAME) {
		for (len = FORM_MAX_FILENAME - el; len > 0 &&
		    ((unsigned char)name[len] & 0xc0) == 0x80; len--)
			continue;
	}
	memcpy(r, name, len);
	if (ext != NULL) {
		r[len] = '.';
		memcpy(r + len + 1, ext, el - 1);
	}
	r[len + el] = '\0';
	*t += len + el + 1;
	return r;
}

/* The one allocation: struct form, fields[], files[], then the text. */
static enum form_err
form_build(struct form_scan *sc, struct form **out)
{
	struct form		*f;
	struct form_part	*pt;
	struct form_field	*ff;
	struct form_file	*fl;
	const char		*ct;
	char			*t;
	size_t			 i, nf = 0, nfi = 0, size = sizeof(*f), ctl;
	int			 rc = 0;

	for (i = 0; i < sc->nparts; i++) {
		pt = &sc->parts[i];
		rc |= form_grow(&size, pt->name_len + 1);
		if (!pt->is_file) {
			nf++;
			rc |= form_grow(&size, sizeof(*ff));
			rc |= form_grow(&size, pt->len + 1);
			continue;
		}
		nfi++;
		ctl = pt->ctype_len ? pt->ctype_len : sizeof(FORM_DEFAULT_TYPE);
		rc |= form_grow(&size, sizeof(*fl));
		rc |= form_grow(&size, pt->fname_len + 1 + FORM_MAX_SAFE_EXT);
		rc |= form_grow(&size, ctl + 1);
		if (!pt->too_large)
			rc |= form_grow(&size, pt->len + 1);
	}
	if (rc != 0 || (f = malloc(size)) == NULL)
		return FORM_ENOMEM;
	f->nfields = nf;
	f->fields = nf > 0 ? (struct form_field *)(f + 1) : NULL;
	f->nfiles = nfi;
	f->files = nfi > 0 ? (struct form_file *)((char *)(f + 1) +
	    nf * sizeof(*ff)) : NULL;
	t = (char *)(f + 1) + nf * sizeof(*ff) + nfi * sizeof(*fl);
	ff = f->fields;
	fl = f->files;
	for (i = 0; i < sc->nparts; i++) {
		pt = &sc->parts[i];
		if (!pt->is_file) {
			ff->name = form_put(&t, sc->text.data + pt->name_off,
			    pt->name_len);
			ff->name_len = pt->name_len;
			ff->value = form_put(&t, pt->data, pt->len);
			ff->value_len = pt->len;
			ff++;
			continue;
		}
		fl->field = form_put(&t, sc->text.data + pt->name_off,
		    pt->name_len);
		fl->sniffed_type = form_sniff(pt->data, pt->len);
		fl->filename = form_put_name(&t, sc->text.data + pt->fname_off,
		    pt->fname_len, fl->sniffed_type);
		ct = pt->ctype_len ? pt->ctype : FORM_DEFAULT_TYPE;
		ctl = pt->ctype_len ? pt->ctype_len :
		    sizeof(FORM_DEFAULT_TYPE) - 1;
		fl->claimed_type = form_put(&t, ct, ctl);
		fl->len = pt->len;
		fl->too_large = pt->too_large;
		fl->data = pt->too_large ? NULL : form_put(&t, pt->data,
		    pt->len);
		fl++;
	}
	*out = f;
	return FORM_OK;
}

enum form_err
form_parse_multipart(const char *body, size_t len, const char *content_type,
    const struct form_limits *lim, struct form **out)
{
	struct form_scan	 sc;
	struct form_part	 pt;
	const char		*d;
	size_t			 pos;
	enum form_err		 e;
	int			 rc;

	*out = NULL;
	memset(&sc, 0, sizeof(sc));
	if (lim == NULL || (body == NULL && len > 0) ||
	    form_boundary(content_type, &sc) == -1)
		return FORM_EINVAL;
	sc.body = body != NULL ? body : "";
	sc.len = len;
	sc.lim = *lim;
	if (sc.lim.max_fields > FORM_MAX_FIELDS)
		sc.lim.max_fields = FORM_MAX_FIELDS;
	if (sc.lim.max_part_header > FORM_MAX_PART_HEADER)
		sc.lim.max_part_header = FORM_MAX_PART_HEADER;

	/* dash-boundary, at the start of the body or after the preamble. */
	if (len >= sc.dlen - 2 && memcmp(sc.body, sc.delim + 2,
	    sc.dlen - 2) == 0)
		pos = sc.dlen - 2;
	else if ((d = memmem(sc.body, len, sc.delim, sc.dlen)) != NULL)
		pos = (size_t)(d - sc.body) + sc.dlen;
	else
		return FORM_EINVAL;

	for (;;) {
		if ((rc = form_after_delim(&sc, &pos)) == -1) {
			e = FORM_EINVAL;
			goto out;
		}
		if (rc == 0)
			break;
		if (sc.seen++ == sc.lim.max_fields) {
			e = FORM_ETOOMANY;
			goto out;
		}
		memset(&pt, 0, sizeof(pt));
		if ((e = form_part_head(&sc, &pos, &pt)) != FORM_OK)
			goto out;
		/*
		 * A part with no body at all would have its delimiter's CRLF
		 * taken as the empty line: refused rather than read as data
		 * (browsers always send the empty line and the CRLF).
		 */
		if (len - pos >= sc.dlen - 2 && memcmp(sc.body + pos,
		    sc.delim + 2, sc.dlen - 2) == 0) {
			e = FORM_EINVAL;
			goto out;
		}
		if ((d = memmem(sc.body + pos, len - pos, sc.delim,
		    sc.dlen)) == NULL) {
			e = FORM_EINVAL;
			goto out;
		}
		pt.data = sc.body + pos;
		pt.len = (size_t)(d - pt.data);
		pos = (size_t)(d - sc.body) + sc.dlen;
		if ((e = form_add(&sc, &pt)) != FORM_OK)
			goto out;
	}
	e = form_build(&sc, out);
out:
	free(sc.parts);
	buf_free(&sc.text);
	return e;
}
