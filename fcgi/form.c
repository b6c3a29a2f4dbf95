/* form: form body decoding; see form.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"

/*
 * One allocation holds the struct form, its field array and every decoded
 * name and value (each followed by a NUL), so form_free() is one free().
 * Decoding never lengthens a byte run, so the text needs at most len octets
 * plus two NULs per pair; the pair count is known and capped first.
 */

static int
form_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

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
		if (len - i < 3 || form_hex((unsigned char)s[i + 1]) == -1 ||
		    form_hex((unsigned char)s[i + 2]) == -1)
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
			dst[o++] = (char)(form_hex((unsigned char)s[i + 1]) << 4 |
			    form_hex((unsigned char)s[i + 2]));
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
		return "too many fields";
	case FORM_ETOOBIG:
		return "field name too long";
	case FORM_EINVAL:
		return "malformed form body";
	}
	return "unknown error";
}
