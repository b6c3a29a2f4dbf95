/* form: form body decoding; see form.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "form/form.h"
#include "form/form_int.h"
#include "lib/text.h"

#define FORM_SNIFF_TEXT		4096	/* octets checked for text/plain */

/*
 * One allocation holds the struct form, its field array and every decoded
 * name and value (each followed by a NUL), so form_free() is one free().
 * Decoding never lengthens a byte run, so the text needs at most len octets
 * plus two NULs per pair; the pair count is known and capped first.
 */

/*
 * Decoded length of s[0..len): each "%HH" is one octet.  Returns -1 when a
 * '%' is not followed by two hex digits.
 */
static int
form_decoded_len(const char *s, size_t len, size_t *out)
{
	size_t	 i, n = 0;

	for (i = 0; i < len; i++, n++) {
		if (s[i] != '%')
			continue;
		if (len - i < 3 || text_hexval((unsigned char)s[i + 1]) == -1 ||
		    text_hexval((unsigned char)s[i + 2]) == -1)
			return -1;
		i += 2;
	}
	*out = n;
	return 0;
}

/* Decodes s[0..len) (already checked) into dst; returns the octets written. */
static size_t
form_decode(char *dst, const char *s, size_t len)
{
	size_t	 i, o = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '%') {
			dst[o++] = (char)(text_hexval((unsigned char)s[i + 1])
			    << 4 | text_hexval((unsigned char)s[i + 2]));
			i += 2;
		} else if (s[i] == '+')
			dst[o++] = ' ';
		else
			dst[o++] = s[i];
	}
	dst[o] = '\0';
	return o;
}

/* Splits the pair s[0..len) at its first '='; *vlen is 0 without one. */
static void
form_split(const char *s, size_t len, size_t *nlen, const char **v,
    size_t *vlen)
{
	const char	*eq;

	if ((eq = memchr(s, '=', len)) == NULL) {
		*nlen = len;
		*v = s + len;
		*vlen = 0;
	} else {
		*nlen = (size_t)(eq - s);
		*v = eq + 1;
		*vlen = len - *nlen - 1;
	}
}

/* The next '&'-delimited piece from *pos; returns its length. */
static size_t
form_next(const char *body, size_t len, size_t *pos, const char **start)
{
	const char	*amp;
	size_t		 n;

	*start = body + *pos;
	if ((amp = memchr(*start, '&', len - *pos)) == NULL)
		n = len - *pos;
	else
		n = (size_t)(amp - *start);
	*pos += n + 1;
	return n;
}

enum form_err
form_parse_urlencoded(const char *body, size_t len, size_t max_fields,
    struct form **out)
{
	struct form	*f;
	const char	*p, *v;
	char		*text;
	size_t		 pos, n, nlen, vlen, dlen, count = 0, size, i;

	*out = NULL;
	if (max_fields > FORM_MAX_FIELDS)
		max_fields = FORM_MAX_FIELDS;

	/* Pass 1: count and check everything before allocating anything. */
	for (pos = 0; pos < len; ) {
		if ((n = form_next(body, len, &pos, &p)) == 0)
			continue;
		form_split(p, n, &nlen, &v, &vlen);
		if (nlen == 0)
			return FORM_EINVAL;
		if (++count > max_fields)
			return FORM_ETOOMANY;
		if (form_decoded_len(p, nlen, &dlen) == -1)
			return FORM_EINVAL;
		if (dlen > FORM_MAX_NAME)
			return FORM_ETOOBIG;
		if (form_decoded_len(v, vlen, &dlen) == -1)
			return FORM_EINVAL;
	}

	/* count <= FORM_MAX_FIELDS, so only len can overflow the sum. */
	size = sizeof(*f) + count * sizeof(*f->fields) + 2 * count;
	if (len > SIZE_MAX - size)
		return FORM_ENOMEM;
	if ((f = malloc(size + len)) == NULL)
		return FORM_ENOMEM;
	f->nfields = count;
	f->fields = count > 0 ? (struct form_field *)(f + 1) : NULL;
	f->files = NULL;
	f->nfiles = 0;
	text = (char *)(f + 1) + count * sizeof(*f->fields);

	/* Pass 2: decode. */
	for (pos = 0, i = 0; pos < len; ) {
		if ((n = form_next(body, len, &pos, &p)) == 0)
			continue;
		form_split(p, n, &nlen, &v, &vlen);
		f->fields[i].name = text;
		f->fields[i].name_len = form_decode(text, p, nlen);
		text += f->fields[i].name_len + 1;
		f->fields[i].value = text;
		f->fields[i].value_len = form_decode(text, v, vlen);
		text += f->fields[i].value_len + 1;
		i++;
	}
	*out = f;
	return FORM_OK;
}

/* ---- header parameters (multipart.c's Content-Type, Content-Disposition) */

/* RFC 9110 section 5.6.2. */
int
form_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* RFC 5987 section 3.2.1, attr-char. */
static int
form_attrchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$&+-.^_`|~", c) != NULL);
}

size_t
form_ows(const char *s, size_t len, size_t i)
{
	while (i < len && text_wsp(s[i]))
		i++;
	return i;
}

/* s[0..len) is lit, ignoring ASCII case. */
int
form_is(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && strncasecmp(s, lit, len) == 0;
}

/*
 * The next parameter (RFC 9110 section 5.6.6: ';' OWS name '=' value, no
 * spaces around '=') of s[0..len) from *pos.  Returns 1 with *pm set, 0 at
 * the end (an empty trailing ';' is tolerated), -1 when malformed.  Inside
 * a quoted string only \" and \\ are pairs (see form.h).
 */
int
form_param(const char *s, size_t len, size_t *pos, struct form_param *pm)
{
	size_t	 i = form_ows(s, len, *pos);

	if (i == len) {
		*pos = i;
		return 0;
	}
	if (s[i] != ';')
		return -1;
	while (i < len && s[i] == ';')
		i = form_ows(s, len, i + 1);
	if (i == len) {
		*pos = i;
		return 0;
	}
	pm->name = s + i;
	while (i < len && form_tchar((unsigned char)s[i]))
		i++;
	pm->name_len = (size_t)(s + i - pm->name);
	if (pm->name_len == 0 || i == len || s[i] != '=')
		return -1;
	i++;
	if (i < len && s[i] == '"') {
		pm->quoted = 1;
		pm->val = s + ++i;
		for (;;) {
			if (i == len)
				return -1;
			if (s[i] == '"')
				break;
			if (s[i] == '\\' && i + 1 < len &&
			    (s[i + 1] == '"' || s[i + 1] == '\\'))
				i += 2;
			else
				i++;
		}
		pm->val_len = (size_t)(s + i - pm->val);
		i++;
	} else {
		pm->quoted = 0;
		pm->val = s + i;
		while (i < len && form_tchar((unsigned char)s[i]))
			i++;
		pm->val_len = (size_t)(s + i - pm->val);
		if (pm->val_len == 0)
			return -1;
	}
	*pos = i;
	return 1;
}

/* Writes the value of pm, pairs undone, to dst; returns its length. */
size_t
form_unquote(char *dst, const struct form_param *pm)
{
	size_t	 i, o = 0;

	for (i = 0; i < pm->val_len; i++) {
		if (pm->quoted && pm->val[i] == '\\' && i + 1 < pm->val_len &&
		    (pm->val[i + 1] == '"' || pm->val[i + 1] == '\\'))
			i++;
		dst[o++] = pm->val[i];
	}
	return o;
}

/*
 * Decodes an RFC 5987 ext-value "UTF-8'lang'%e2%82%ac.pdf" into dst.
 * Returns its length, or -1 for anything else (another charset, a quoted
 * value, a stray octet): the caller then ignores it.
 */
int
form_extvalue(char *dst, const struct form_param *pm, size_t *out)
{
	const char	*v = pm->val, *q;
	size_t		 i, n = pm->val_len, o = 0;

	if (pm->quoted || n < 7 || strncasecmp(v, "UTF-8'", 6) != 0)
		return -1;
	if ((q = memchr(v + 6, '\'', n - 6)) == NULL)
		return -1;
	for (i = (size_t)(q - v) + 1; i < n; i++) {
		if (v[i] == '%') {
			if (n - i < 3 || text_hexval((unsigned char)v[i + 1]) ==
			    -1 || text_hexval((unsigned char)v[i + 2]) == -1)
				return -1;
			dst[o++] = (char)(text_hexval((unsigned char)v[i + 1])
			    << 4 | text_hexval((unsigned char)v[i + 2]));
			i += 2;
		} else if (form_attrchar((unsigned char)v[i]))
			dst[o++] = v[i];
		else
			return -1;
	}
	*out = o;
	return 0;
}

/* ---- content sniffing, safe extensions ------------------------------ */

/*
 * The extensions a file of each sniffed type may be named with, the first
 * being the one appended when its name has none of them.  Windows opens a
 * file by its last extension, whatever it holds: "invoice.hta" that
 * sniffs as text must reach the recipient as "invoice.hta.txt".  The zip
 * entry lists the office formats that are zip files; no format that runs
 * code (jar, apk, xpi, ...) is among them.
 */
static const struct {
	const char	*type;
	const char	*ext[8];
} form_exts[] = {
	{ "application/pdf", { "pdf" } },
	{ "image/png", { "png" } },
	{ "image/jpeg", { "jpg", "jpeg", "jpe" } },
	{ "image/gif", { "gif" } },
	{ "image/webp", { "webp" } },
	{ "application/zip", { "zip", "docx", "xlsx", "pptx", "odt", "ods",
	    "odp" } },
	{ "text/plain", { "txt", "text", "csv", "log" } },
	{ FORM_DEFAULT_TYPE, { "bin" } },
};

const char *
form_safe_ext(const char *type, const char *name, size_t len)
{
	const char	*dot = memrchr(name, '.', len);
	size_t		 i, k, el;

	for (i = 0; i < sizeof(form_exts) / sizeof(form_exts[0]); i++) {
		if (strcmp(form_exts[i].type, type) != 0)
			continue;
		for (k = 0; dot != NULL && dot != name && k < 8 &&
		    form_exts[i].ext[k] != NULL; k++) {
			el = strlen(form_exts[i].ext[k]);
			if (len - (size_t)(dot + 1 - name) == el &&
			    strncasecmp(dot + 1, form_exts[i].ext[k], el) == 0)
				return NULL;
		}
		return form_exts[i].ext[0];
	}
	return form_exts[sizeof(form_exts) / sizeof(form_exts[0]) - 1].ext[0];
}

/*
 * Copies the sanitized filename to *t with the extension of its sniffed
 * type appended when it has none of them, cut at a character boundary to
 * stay within FORM_MAX_FILENAME.
 */

/* Well-formed UTF-8 text without controls but TAB, CR and LF. */
static int
form_is_text(const unsigned char *s, size_t len)
{
	size_t		 i, k, win;
	uint32_t	 cp;

	if (len == 0)
		return 0;
	win = len < FORM_SNIFF_TEXT ? len : FORM_SNIFF_TEXT;
	/* A character straddling the mark is checked whole. */
	for (i = 0; i < win; i += k) {
		if ((k = text_utf8_next(s + i, len - i, &cp)) == 0)
			return 0;
		if ((cp < 0x20 && cp != '\t' && cp != '\r' && cp != '\n') ||
		    (cp >= 0x7f && cp <= 0x9f))
			return 0;
	}
	return 1;
}

const char *
form_sniff(const void *data, size_t len)
{
	static const struct {
		const char	*magic;
		size_t		 len;
		const char	*type;
	} m[] = {
		{ "%PDF-", 5, "application/pdf" },
		{ "\x89PNG\r\n\x1a\n", 8, "image/png" },
		{ "\xff\xd8\xff", 3, "image/jpeg" },
		{ "GIF87a", 6, "image/gif" },
		{ "GIF89a", 6, "image/gif" },
		{ "PK\x03\x04", 4, "application/zip" },
	};
	const unsigned char	*s = data;
	size_t			 i;

	if (s == NULL || len == 0)
		return FORM_DEFAULT_TYPE;
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (len >= m[i].len && memcmp(s, m[i].magic, m[i].len) == 0)
			return m[i].type;
	if (len >= 12 && memcmp(s, "RIFF", 4) == 0 &&
	    memcmp(s + 8, "WEBP", 4) == 0)
		return "image/webp";
	if (form_is_text(s, len))
		return "text/plain";
	return FORM_DEFAULT_TYPE;
}

/* ---- kinds, lookups -------------------------------------------------- */

enum form_kind
form_kind(const char *ct)
{
	static const struct {
		const char	*type;
		enum form_kind	 kind;
	} k[] = {
		{ "application/x-www-form-urlencoded", FORM_KIND_URLENCODED },
		{ "multipart/form-data", FORM_KIND_MULTIPART },
		{ "application/json", FORM_KIND_JSON },
	};
	size_t	 i, n;

	for (i = 0; ct != NULL && i < sizeof(k) / sizeof(k[0]); i++) {
		n = strlen(k[i].type);
		if (strncasecmp(ct, k[i].type, n) == 0 && (ct[n] == '\0' ||
		    ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t'))
			return k[i].kind;
	}
	return FORM_KIND_NONE;
}

static int
form_name_is(const struct form_field *ff, const char *name, size_t len)
{
	return ff->name_len == len && memcmp(ff->name, name, len) == 0;
}

const struct form_field *
form_get(const struct form *f, const char *name)
{
	size_t	 i, len;

	if (f == NULL || name == NULL)
		return NULL;
	len = strlen(name);
	for (i = 0; i < f->nfields; i++)
		if (form_name_is(&f->fields[i], name, len))
			return &f->fields[i];
	return NULL;
}

size_t
form_count(const struct form *f, const char *name)
{
	size_t	 i, len, n = 0;

	if (f == NULL || name == NULL)
		return 0;
	len = strlen(name);
	for (i = 0; i < f->nfields; i++)
		if (form_name_is(&f->fields[i], name, len))
			n++;
	return n;
}

void
form_free(struct form *f)
{
	free(f);
}

const char *
form_strerror(enum form_err e)
{
	switch (e) {
	case FORM_OK:
		return "ok";
	case FORM_ENOMEM:
		return "out of memory";
	case FORM_ETOOMANY:
		return "too many fields or files";
	case FORM_ETOOBIG:
		return "field name or uploads too large";
	case FORM_EINVAL:
		return "malformed form body";
	}
	return "unknown error";
}
