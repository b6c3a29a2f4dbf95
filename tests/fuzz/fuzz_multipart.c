/*
 * fuzz_multipart: form_parse_multipart and form_sniff on arbitrary input.
 * The input's first line (up to '\n') is the Content-Type value, the rest
 * the body; an input that starts with '-' or has no '\n' is all body, of
 * "multipart/form-data; boundary=XB".  Invariants (abort() on violation):
 *  - an error leaves *out NULL;
 *  - under the small limits FZ_SMALL: fields + files <= max_fields, files
 *    <= max_files, too_large exactly when len > max_file_size, data NULL
 *    exactly when too_large, kept sizes add up to at most max_total;
 *  - every name is non-empty, NUL-free, at most FORM_MAX_NAME octets; every
 *    value, name and data is NUL-terminated; each value and each file's
 *    data occurs in the body, and all of them together are no longer than
 *    the body;
 *  - every filename is non-empty, at most FORM_MAX_FILENAME octets, not
 *    "." or "..", without '/', '\\' or controls, well-formed UTF-8;
 *    claimed_type is never NULL and holds no CR, LF;
 *  - sniffed_type is form_sniff() of the data;
 *  - what parses under the small limits parses under the ceilings, with
 *    the same fields and files;
 *  - what parses under the ceilings, written out again with a fresh
 *    boundary, parses to the same fields and files (filenames are stable
 *    under sanitizing).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "form/form.h"

#define FZ_CT_MAX	512
#define FZ_BOUNDARY	"FuZzB0uNdArY"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const struct form_limits	 fz_small = { 8, 4, 64, 160, 256 };
static const struct form_limits	 fz_big = { FORM_MAX_FIELDS, FORM_MAX_FIELDS,
				    SIZE_MAX, SIZE_MAX, FORM_MAX_PART_HEADER };

static int
fz_in(const char *body, size_t len, const char *p, size_t n)
{
	return n == 0 || memmem(body, len, p, n) != NULL;
}

/*
 * Well-formed UTF-8 by the ranges of Unicode Table 3-7, written apart from
 * form.c's decoder; controls (C0, DEL, C1) refused too.
 */
static int
fz_utf8(const unsigned char *s, size_t n)
{
	size_t		 i = 0, k, j;
	unsigned char	 lo, hi;

	while (i < n) {
		if (s[i] < 0x20 || s[i] == 0x7f)
			return 0;
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		lo = 0x80;
		hi = 0xbf;
		if (s[i] >= 0xc2 && s[i] <= 0xdf)
			k = 1;
		else if (s[i] >= 0xe0 && s[i] <= 0xef) {
			k = 2;
			if (s[i] == 0xe0)
				lo = 0xa0;
			if (s[i] == 0xed)
				hi = 0x9f;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			k = 3;
			if (s[i] == 0xf0)
				lo = 0x90;
			if (s[i] == 0xf4)
				hi = 0x8f;
		} else
			return 0;
		if (n - i <= k || s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (j = 2; j <= k; j++)
			if (s[i + j] < 0x80 || s[i + j] > 0xbf)
				return 0;
		/* U+0080..U+009F */
		if (s[i] == 0xc2 && s[i + 1] <= 0x9f)
			return 0;
		i += k + 1;
	}
	return 1;
}

static void
fz_check(const struct form *f, const struct form_limits *lim,
    const char *body, size_t len)
{
	const struct form_field	*ff;
	const struct form_file	*fl;
	size_t			 i, n, kept = 0, all = 0;

	if (f->nfields + f->nfiles > lim->max_fields ||
	    f->nfields + f->nfiles > FORM_MAX_FIELDS ||
	    f->nfiles > lim->max_files)
		abort();
	if ((f->nfields == 0) != (f->fields == NULL) ||
	    (f->nfiles == 0) != (f->files == NULL))
		abort();
	for (i = 0; i < f->nfields; i++) {
		ff = &f->fields[i];
		if (ff->name_len == 0 || ff->name_len > FORM_MAX_NAME ||
		    strlen(ff->name) != ff->name_len ||
		    ff->value[ff->value_len] != '\0' ||
		    !fz_in(body, len, ff->value, ff->value_len))
			abort();
		all += ff->value_len;
	}
	for (i = 0; i < f->nfiles; i++) {
		fl = &f->files[i];
		n = strlen(fl->field);
		if (n == 0 || n > FORM_MAX_NAME)
			abort();
		n = strlen(fl->filename);
		if (n == 0 || n > FORM_MAX_FILENAME ||
		    strcmp(fl->filename, ".") == 0 ||
		    strcmp(fl->filename, "..") == 0 ||
		    strpbrk(fl->filename, "/\\") != NULL ||
		    !fz_utf8((const unsigned char *)fl->filename, n))
			abort();
		if (fl->claimed_type == NULL ||
		    strpbrk(fl->claimed_type, "\r\n") != NULL)
			abort();
		if (fl->too_large != (fl->len > lim->max_file_size) ||
		    (fl->data == NULL) != fl->too_large)
			abort();
		all += fl->len;
		if (fl->data == NULL)
			continue;
		if (fl->data[fl->len] != '\0' ||
		    !fz_in(body, len, fl->data, fl->len) ||
		    fl->sniffed_type != form_sniff(fl->data, fl->len))
			abort();
		kept += fl->len;
	}
	if (kept > lim->max_total || all > len)
		abort();
}

/* Same fields; same files, data compared when both kept it. */
static int
fz_same(const struct form *a, const struct form *b)
{
	const struct form_file	*x, *y;
	size_t			 i;

	if (a->nfields != b->nfields || a->nfiles != b->nfiles)
		return 0;
	for (i = 0; i < a->nfields; i++)
		if (a->fields[i].value_len != b->fields[i].value_len ||
		    strcmp(a->fields[i].name, b->fields[i].name) != 0 ||
		    memcmp(a->fields[i].value, b->fields[i].value,
		    a->fields[i].value_len) != 0)
			return 0;
	for (i = 0; i < a->nfiles; i++) {
		x = &a->files[i];
		y = &b->files[i];
		if (x->len != y->len || strcmp(x->field, y->field) != 0 ||
		    strcmp(x->filename, y->filename) != 0 ||
		    strcmp(x->claimed_type, y->claimed_type) != 0 ||
		    x->sniffed_type != y->sniffed_type)
			return 0;
		if (x->data != NULL && y->data != NULL &&
		    memcmp(x->data, y->data, x->len) != 0)
			return 0;
	}
	return 1;
}

/* A quoted-string with '"' and '\' escaped. */
static void
fz_quoted(struct buf *b, const char *s)
{
	if (buf_addc(b, '"') == -1)
		abort();
	for (; *s != '\0'; s++)
		if (((*s == '"' || *s == '\\') && buf_addc(b, '\\') == -1) ||
		    buf_addc(b, *s) == -1)
			abort();
	if (buf_addc(b, '"') == -1)
		abort();
}

/* Data that a fresh delimiter could cut, or that starts like one. */
static int
fz_clash(const char *p, size_t n)
{
	static const char	 d[] = "\r\n--" FZ_BOUNDARY;

	return memmem(p, n, d, sizeof(d) - 1) != NULL ||
	    (n >= sizeof(d) - 3 && memcmp(p, d + 2, sizeof(d) - 3) == 0);
}

/* Writes f out again as multipart/form-data; returns -1 when it cannot. */
static int
fz_write(const struct form *f, struct buf *b)
{
	const struct form_file	*fl;
	size_t			 i;
	int			 rc = 0;

	for (i = 0; i < f->nfields; i++) {
		if (fz_clash(f->fields[i].value, f->fields[i].value_len))
			return -1;
		rc |= buf_adds(b, "--" FZ_BOUNDARY "\r\n"
		    "Content-Disposition: form-data; name=");
		fz_quoted(b, f->fields[i].name);
		rc |= buf_adds(b, "\r\n\r\n");
		rc |= buf_add(b, f->fields[i].value, f->fields[i].value_len);
		rc |= buf_adds(b, "\r\n");
	}
	for (i = 0; i < f->nfiles; i++) {
		fl = &f->files[i];
		if (fl->data == NULL || fz_clash(fl->data, fl->len))
			return -1;
		rc |= buf_adds(b, "--" FZ_BOUNDARY "\r\n"
		    "Content-Disposition: form-data; name=");
		fz_quoted(b, fl->field);
		rc |= buf_adds(b, "; filename=");
		fz_quoted(b, fl->filename);
		/* No space after ':': never longer than the line it came in. */
		rc |= buf_printf(b, "\r\nContent-Type:%s\r\n\r\n",
		    fl->claimed_type);
		rc |= buf_add(b, fl->data, fl->len);
		rc |= buf_adds(b, "\r\n");
	}
	rc |= buf_adds(b, "--" FZ_BOUNDARY "--\r\n");
	if (rc != 0)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*in = (const char *)data, *nl, *body;
	const char	*t;
	char		 ct[FZ_CT_MAX + 1];
	struct form	*f = NULL, *g = NULL, *h = NULL;
	struct buf	 b = BUF_INIT;
	enum form_err	 e, eg;
	size_t		 len, n;

	t = form_sniff(data, size);
	if (strcmp(t, "application/octet-stream") != 0 &&
	    strcmp(t, "text/plain") != 0 && strncmp(t, "image/", 6) != 0 &&
	    strcmp(t, "application/pdf") != 0 &&
	    strcmp(t, "application/zip") != 0)
		abort();

	if (size > 0 && in[0] != '-' &&
	    (nl = memchr(in, '\n', size)) != NULL &&
	    (n = (size_t)(nl - in)) <= FZ_CT_MAX) {
		memcpy(ct, in, n);
		ct[n] = '\0';
		body = nl + 1;
		len = size - n - 1;
	} else {
		strcpy(ct, "multipart/form-data; boundary=XB");
		body = in;
		len = size;
	}

	e = form_parse_multipart(body, len, ct, &fz_small, &f);
	if (e != FORM_OK && f != NULL)
		abort();
	eg = form_parse_multipart(body, len, ct, &fz_big, &g);
	if (eg != FORM_OK && g != NULL)
		abort();
	if (e == FORM_OK) {
		fz_check(f, &fz_small, body, len);
		if (eg != FORM_OK || !fz_same(f, g))
			abort();
	}
	if (eg != FORM_OK)
		goto out;
	fz_check(g, &fz_big, body, len);

	if (fz_write(g, &b) == -1)
		goto out;
	if (form_parse_multipart(b.data, b.len,
	    "multipart/form-data; boundary=" FZ_BOUNDARY, &fz_big, &h) !=
	    FORM_OK || !fz_same(g, h))
		abort();
out:
	form_free(f);
	form_free(g);
	form_free(h);
	buf_free(&b);
	return 0;
}
