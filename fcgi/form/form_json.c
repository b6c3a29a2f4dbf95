/*
 * form_json: an application/json body as a form; see form.h.
 *
 * Two passes of one scanner, as for urlencoded bodies: the first checks
 * the whole body and counts the pairs without allocating anything, the
 * second decodes into one allocation.  Decoding never lengthens a run (an
 * escape is at least as long as what it stands for, a number or a literal
 * is copied as written), so the text needs at most len octets plus one NUL
 * per name and per value.  The pairs of one array share their name.
 * Nothing recurses: a nested object or array is refused where it starts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "form/form.h"
#include "lib/text.h"

struct fj {
	const unsigned char	*s;
	size_t			 len, pos;
	size_t			 count, max;
	struct form		*f;	/* NULL in the counting pass */
	char			*text;	/* where the next decoded octets go */
};

static void
fj_ws(struct fj *j)
{
	while (j->pos < j->len && (j->s[j->pos] == ' ' ||
	    j->s[j->pos] == '\t' || j->s[j->pos] == '\n' ||
	    j->s[j->pos] == '\r'))
		j->pos++;
}

static int
fj_hex4(struct fj *j, uint32_t *v)
{
	size_t	 i;
	int	 d;

	if (j->len - j->pos < 4)
		return -1;
	*v = 0;
	for (i = 0; i < 4; i++) {
		if ((d = text_hexval((unsigned char)j->s[j->pos++])) == -1)
			return -1;
		*v = *v << 4 | (uint32_t)d;
	}
	return 0;
}

/* RFC 8259 section 7: \uXXXX, a surrogate pair as two escapes. */
static int
fj_unicode(struct fj *j, uint32_t *cp)
{
	uint32_t	 lo;

	if (fj_hex4(j, cp) == -1)
		return -1;
	if (*cp >= 0xdc00 && *cp <= 0xdfff)
		return -1;			/* a lone low surrogate */
	if (*cp < 0xd800 || *cp > 0xdbff)
		return 0;
	if (j->len - j->pos < 2 || j->s[j->pos] != '\\' ||
	    j->s[j->pos + 1] != 'u')
		return -1;			/* a lone high surrogate */
	j->pos += 2;
	if (fj_hex4(j, &lo) == -1 || lo < 0xdc00 || lo > 0xdfff)
		return -1;
	*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	return 0;
}

/*
 * The string whose opening quote is at pos.  Its octets are taken as they
 * are (validate.h judges them, as for the other body types); escapes are
 * decoded; a raw control below 0x20 is not JSON.  Writes to dst when it
 * is not NULL; *out is the decoded length.
 */
static enum form_err
fj_string(struct fj *j, char *dst, size_t *out)
{
	char		 u[4];
	size_t		 o = 0, k, n;
	uint32_t	 cp;
	unsigned char	 c;

	j->pos++;
	for (;;) {
		if (j->pos >= j->len)
			return FORM_EINVAL;
		c = j->s[j->pos++];
		if (c == '"')
			break;
		if (c < 0x20)
			return FORM_EINVAL;
		if (c != '\\') {
			if (dst != NULL)
				dst[o] = (char)c;
			o++;
			continue;
		}
		if (j->pos >= j->len)
			return FORM_EINVAL;
		switch ((c = j->s[j->pos++])) {
		case '"': case '\\': case '/':
			break;
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u':
			if (fj_unicode(j, &cp) == -1)
				return FORM_EINVAL;
			n = text_utf8_put(u, cp);
			for (k = 0; dst != NULL && k < n; k++)
				dst[o + k] = u[k];
			o += n;
			continue;
		default:
			return FORM_EINVAL;
		}
		if (dst != NULL)
			dst[o] = (char)c;
		o++;
	}
	if (dst != NULL)
		dst[o] = '\0';
	*out = o;
	return FORM_OK;
}

/* RFC 8259 section 6; *n is the length of the number as written. */
static int
fj_number(const struct fj *j, size_t *n)
{
	size_t	 p = j->pos, d;

#define FJ_DIGITS() do {						\
	for (d = p; p < j->len && j->s[p] >= '0' && j->s[p] <= '9'; p++)	\
		;							\
} while (0)
	if (p < j->len && j->s[p] == '-')
		p++;
	if (p < j->len && j->s[p] == '0')
		p++;
	else {
		FJ_DIGITS();
		if (p == d)
			return -1;
	}
	if (p < j->len && j->s[p] == '.') {
		p++;
		FJ_DIGITS();
		if (p == d)
			return -1;
	}
	if (p < j->len && (j->s[p] == 'e' || j->s[p] == 'E')) {
		p++;
		if (p < j->len && (j->s[p] == '+' || j->s[p] == '-'))
			p++;
		FJ_DIGITS();
		if (p == d)
			return -1;
	}
#undef FJ_DIGITS
	*n = p - j->pos;
	return 0;
}

/* Adds one pair: name (already decoded, shared by an array's pairs) and
 * the scalar value at pos. */
static enum form_err
fj_scalar(struct fj *j, char *name, size_t name_len)
{
	struct form_field	*ff = NULL;
	const char		*lit = NULL;
	size_t			 n;
	enum form_err		 e;

	if (j->pos >= j->len)
		return FORM_EINVAL;
	if (++j->count > j->max)
		return FORM_ETOOMANY;
	if (j->f != NULL) {
		ff = &j->f->fields[j->count - 1];
		ff->name = name;
		ff->name_len = name_len;
		ff->value = j->text;
	}
	switch (j->s[j->pos]) {
	case '"':
		if ((e = fj_string(j, j->text, &n)) != FORM_OK)
			return e;
		break;
	case 't':
		lit = "true";
		break;
	case 'f':
		lit = "false";
		break;
	default:
		if (fj_number(j, &n) == -1)
			return FORM_EINVAL;	/* also null, {, [ */
		if (j->text != NULL)
			memcpy(j->text, j->s + j->pos, n);
		j->pos += n;
		break;
	}
	if (lit != NULL) {
		n = strlen(lit);
		if (j->len - j->pos < n || memcmp(j->s + j->pos, lit, n) != 0)
			return FORM_EINVAL;
		if (j->text != NULL)
			memcpy(j->text, lit, n);
		j->pos += n;
	}
	if (ff != NULL) {
		ff->value_len = n;
		ff->value[n] = '\0';
		j->text += n + 1;
	}
	return FORM_OK;
}

/* A member's value: a scalar, or an array of scalars (a repeated field). */
static enum form_err
fj_value(struct fj *j, char *name, size_t name_len)
{
	enum form_err	 e;

	if (j->pos >= j->len || j->s[j->pos] != '[')
		return fj_scalar(j, name, name_len);
	j->pos++;
	fj_ws(j);
	if (j->pos < j->len && j->s[j->pos] == ']') {
		j->pos++;
		return FORM_OK;
	}
	for (;;) {
		if ((e = fj_scalar(j, name, name_len)) != FORM_OK)
			return e;
		fj_ws(j);
		if (j->pos >= j->len)
			return FORM_EINVAL;
		if (j->s[j->pos++] == ']')
			return FORM_OK;
		if (j->s[j->pos - 1] != ',')
			return FORM_EINVAL;
		fj_ws(j);
	}
}

static enum form_err
fj_object(struct fj *j)
{
	char		*name;
	size_t		 name_len;
	enum form_err	 e;

	fj_ws(j);
	if (j->pos >= j->len || j->s[j->pos++] != '{')
		return FORM_EINVAL;
	fj_ws(j);
	if (j->pos < j->len && j->s[j->pos] == '}') {
		j->pos++;
		goto end;
	}
	for (;;) {
		if (j->pos >= j->len || j->s[j->pos] != '"')
			return FORM_EINVAL;
		name = j->text;
		if ((e = fj_string(j, name, &name_len)) != FORM_OK)
			return e;
		if (name_len == 0)
			return FORM_EINVAL;
		if (name_len > FORM_MAX_NAME)
			return FORM_ETOOBIG;
		if (j->text != NULL)
			j->text += name_len + 1;
		fj_ws(j);
		if (j->pos >= j->len || j->s[j->pos++] != ':')
			return FORM_EINVAL;
		fj_ws(j);
		if ((e = fj_value(j, name, name_len)) != FORM_OK)
			return e;
		fj_ws(j);
		if (j->pos >= j->len)
			return FORM_EINVAL;
		if (j->s[j->pos] == '}') {
			j->pos++;
			break;
		}
		if (j->s[j->pos++] != ',')
			return FORM_EINVAL;
		fj_ws(j);
	}
end:
	fj_ws(j);
	return j->pos == j->len ? FORM_OK : FORM_EINVAL;
}

enum form_err
form_parse_json(const char *body, size_t len, size_t max_fields,
    struct form **out)
{
	struct fj	 j;
	struct form	*f;
	size_t		 size, count;
	enum form_err	 e;

	*out = NULL;
	memset(&j, 0, sizeof(j));
	j.s = (const unsigned char *)body;
	j.len = len;
	j.max = max_fields < FORM_MAX_FIELDS ? max_fields : FORM_MAX_FIELDS;
	if ((e = fj_object(&j)) != FORM_OK)
		return e;
	count = j.count;

	/* Names and values: at most len octets, and one NUL each.  A name
	 * without a value (an empty array) needs its NUL too: at most one
	 * per ':' in the body. */
	size = sizeof(*f) + count * sizeof(*f->fields);
	if (len > (SIZE_MAX - size) / 2 - 1)
		return FORM_ENOMEM;
	if ((f = malloc(size + 2 * len + 1)) == NULL)
		return FORM_ENOMEM;
	f->nfields = count;
	f->fields = count > 0 ? (struct form_field *)(f + 1) : NULL;
	f->files = NULL;
	f->nfiles = 0;
	j.pos = 0;
	j.count = 0;
	j.f = f;
	j.text = (char *)(f + 1) + count * sizeof(*f->fields);
	if ((e = fj_object(&j)) != FORM_OK || j.count != count) {
		free(f);	/* the first pass said it is well formed */
		return e != FORM_OK ? e : FORM_EINVAL;
	}
	*out = f;
	return FORM_OK;
}
