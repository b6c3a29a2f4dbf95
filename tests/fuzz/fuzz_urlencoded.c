/*
 * fuzz_urlencoded: form_parse_urlencoded on arbitrary bodies.  Invariants
 * (abort() on violation):
 *  - an error leaves *out NULL;
 *  - FORM_ETOOMANY comes only when the body holds more non-empty pairs
 *    than allowed, and a body that parses has exactly that many fields,
 *    never more than FORM_MAX_FIELDS; with one pair fewer allowed it fails
 *    with FORM_ETOOMANY, with exactly as many it parses again;
 *  - every name is non-empty and at most FORM_MAX_NAME octets, every name
 *    and value NUL-terminated at its length, decoding never grows the text;
 *  - re-encoding the pairs (alternating '+', %hh and %HH) and parsing the
 *    result gives the same pairs in the same order;
 *  - form_get()/form_count() agree with a plain scan for NUL-free names
 *    (of the first FZ_LOOKUPS fields).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "form/form.h"

#define FZ_LOOKUPS	16

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Non-empty '&'-separated pieces: what the parser counts. */
static size_t
fz_pairs(const char *s, size_t len)
{
	size_t	 i, n = 0, run = 0;

	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '&') {
			if (run > 0)
				n++;
			run = 0;
		} else
			run++;
	}
	return n;
}

static void
fz_encode(struct buf *b, const char *s, size_t len, size_t *k)
{
	static const char	 lo[] = "0123456789abcdef", up[] = "0123456789ABCDEF";
	unsigned char		 c;
	size_t			 i;
	const char		*hex;
	char			 e[3];

	for (i = 0; i < len; i++, (*k)++) {
		c = (unsigned char)s[i];
		hex = *k % 2 ? lo : up;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '*') {
			if (buf_addc(b, c) == -1)
				abort();
		} else if (c == ' ' && *k % 3 == 0) {
			if (buf_addc(b, '+') == -1)
				abort();
		} else {
			e[0] = '%';
			e[1] = hex[c >> 4];
			e[2] = hex[c & 15];
			if (buf_add(b, e, 3) == -1)
				abort();
		}
	}
}

static int
fz_same(const struct form *a, const struct form *b)
{
	size_t	 i;

	if (a->nfields != b->nfields)
		return 0;
	for (i = 0; i < a->nfields; i++) {
		const struct form_field *x = &a->fields[i], *y = &b->fields[i];

		if (x->name_len != y->name_len ||
		    x->value_len != y->value_len ||
		    memcmp(x->name, y->name, x->name_len) != 0 ||
		    memcmp(x->value, y->value, x->value_len) != 0)
			return 0;
	}
	return 1;
}

static void
fz_check(const struct form *f, size_t len)
{
	const struct form_field	*ff, *first;
	size_t			 i, j, n, total = 0;

	if (f->nfields > FORM_MAX_FIELDS)
		abort();
	for (i = 0; i < f->nfields; i++) {
		ff = &f->fields[i];
		if (ff->name_len == 0 || ff->name_len > FORM_MAX_NAME ||
		    ff->name[ff->name_len] != '\0' ||
		    ff->value[ff->value_len] != '\0')
			abort();
		total += ff->name_len + ff->value_len;
		/* Lookups for the first names only: quadratic otherwise. */
		if (i >= FZ_LOOKUPS || strlen(ff->name) != ff->name_len)
			continue;
		first = NULL;
		n = 0;
		for (j = 0; j < f->nfields; j++)
			if (f->fields[j].name_len == ff->name_len &&
			    memcmp(f->fields[j].name, ff->name,
			    ff->name_len) == 0 && n++ == 0)
				first = &f->fields[j];
		if (form_get(f, ff->name) != first ||
		    form_count(f, ff->name) != n)
			abort();
	}
	if (total > len)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*body = (const char *)data;
	struct form	*f = NULL, *g = NULL, *h = NULL;
	struct buf	 b = BUF_INIT;
	enum form_err	 e;
	size_t		 i, k = 0, pairs;

	pairs = fz_pairs(body, size);
	e = form_parse_urlencoded(body, size, FORM_MAX_FIELDS, &f);
	if (e != FORM_OK) {
		if (f != NULL)
			abort();
		if (e == FORM_ETOOMANY && pairs <= FORM_MAX_FIELDS)
			abort();
		if (pairs <= FORM_MAX_FIELDS &&
		    form_parse_urlencoded(body, size, pairs, &g) != e)
			abort();
		return 0;
	}
	if (f == NULL || f->nfields != pairs)
		abort();
	fz_check(f, size);

	if (pairs > 0) {
		if (form_parse_urlencoded(body, size, pairs - 1, &g) !=
		    FORM_ETOOMANY || g != NULL)
			abort();
		if (form_parse_urlencoded(body, size, pairs, &g) != FORM_OK ||
		    !fz_same(f, g))
			abort();
		form_free(g);
	}

	for (i = 0; i < f->nfields; i++) {
		if (i > 0 && buf_addc(&b, '&') == -1)
			abort();
		fz_encode(&b, f->fields[i].name, f->fields[i].name_len, &k);
		if (buf_addc(&b, '=') == -1)
			abort();
		fz_encode(&b, f->fields[i].value, f->fields[i].value_len, &k);
	}
	if (form_parse_urlencoded(b.data ? b.data : "", b.len,
	    FORM_MAX_FIELDS, &h) != FORM_OK || !fz_same(f, h))
		abort();
	form_free(h);
	form_free(f);
	buf_free(&b);
	return 0;
}
