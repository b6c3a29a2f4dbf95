/*
 * fuzz_json_body: form_parse_json on arbitrary bodies, checked against
 * jansson as an independent reader.  Invariants (abort() on violation):
 *  - an error leaves *out NULL; FORM_OK gives at most max_fields pairs,
 *    each name non-empty, at most FORM_MAX_NAME octets, every name and
 *    value NUL-terminated at its length;
 *  - when jansson reads the body (duplicate names refused, NUL allowed)
 *    as an object of scalars and arrays of scalars with no null, no
 *    empty or over-long name and no more pairs than allowed, ours gives
 *    FORM_OK with the same pairs in the same order: strings octet for
 *    octet, numbers the same value, true/false as "true"/"false";
 *  - when jansson reads it as anything else (null, a nested object or
 *    array, not an object), ours refuses it;
 *  - a body holding a raw NUL is refused;
 *  - when jansson refuses valid UTF-8 as malformed JSON (not for a number
 *    too large for its integers or reals), ours refuses it too.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "form/form.h"

#define FZ_MAX_FIELDS	40

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
fz_utf8_ok(const uint8_t *s, size_t n)
{
	size_t	 i = 0, k, need;
	uint32_t cp;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0)
			need = 1, cp = s[i] & 0x1f;
		else if ((s[i] & 0xf0) == 0xe0)
			need = 2, cp = s[i] & 0x0f;
		else if ((s[i] & 0xf8) == 0xf0)
			need = 3, cp = s[i] & 0x07;
		else
			return 0;
		if (n - i <= need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

/* 1: a form body by the contract, -1: not, with *pairs counted. */
static int
fz_shape(json_t *o, size_t *pairs)
{
	const char	*k;
	json_t		*v, *e;
	size_t		 i;

	*pairs = 0;
	if (!json_is_object(o))
		return -1;
	json_object_foreach(o, k, v) {
		if (json_is_array(v)) {
			json_array_foreach(v, i, e) {
				if (!(json_is_string(e) || json_is_number(e) ||
				    json_is_boolean(e)))
					return -1;
				(*pairs)++;
			}
		} else if (json_is_string(v) || json_is_number(v) ||
		    json_is_boolean(v))
			(*pairs)++;
		else
			return -1;
	}
	return 1;
}

static void
fz_same(const struct form_field *ff, json_t *v)
{
	double	 d;
	char	*end;

	if (json_is_string(v)) {
		if (ff->value_len != json_string_length(v) ||
		    memcmp(ff->value, json_string_value(v), ff->value_len) != 0)
			abort();
	} else if (json_is_boolean(v)) {
		if (strcmp(ff->value, json_is_true(v) ? "true" : "false") != 0)
			abort();
	} else {
		d = strtod(ff->value, &end);
		if (*end != '\0' || d != json_number_value(v))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct form	*f = NULL;
	json_t		*o, *v, *e;
	json_error_t	 jerr;
	const char	*k;
	enum form_err	 rc;
	size_t		 i, n, pairs, at = 0;
	int		 shape, bad_name = 0;

	rc = form_parse_json((const char *)data, size, FZ_MAX_FIELDS, &f);
	if (rc != FORM_OK && f != NULL)
		abort();
	if (rc == FORM_OK) {
		if (f->nfields > FZ_MAX_FIELDS || f->nfiles != 0)
			abort();
		for (i = 0; i < f->nfields; i++)
			if (f->fields[i].name_len == 0 ||
			    f->fields[i].name_len > FORM_MAX_NAME ||
			    f->fields[i].name[f->fields[i].name_len] != '\0' ||
			    f->fields[i].value[f->fields[i].value_len] != '\0')
				abort();
	}
	/* A raw NUL is JSON nowhere (in a string it is a control), and
	 * jansson reads one as the end of its input. */
	if (memchr(data, '\0', size) != NULL) {
		if (rc == FORM_OK)
			abort();
		return 0;
	}
	o = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES |
	    JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
	if (o == NULL) {
		/* Numbers jansson cannot hold are JSON still. */
		if (rc == FORM_OK && fz_utf8_ok(data, size) &&
		    strstr(jerr.text, "too big") == NULL &&
		    strstr(jerr.text, "overflow") == NULL &&
		    strstr(jerr.text, "duplicate") == NULL &&
		    strstr(jerr.text, "NUL byte") == NULL &&
		    strstr(jerr.text, "maximum") == NULL)
			abort();
		form_free(f);
		return 0;
	}
	shape = fz_shape(o, &pairs);
	if (shape == 1)
		json_object_foreach(o, k, v) {
			n = strlen(k);
			if (n == 0 || n > FORM_MAX_NAME)
				bad_name = 1;
		}
	if (shape == -1 && rc == FORM_OK)
		abort();
	if (shape == 1 && !bad_name && pairs <= FZ_MAX_FIELDS) {
		if (rc != FORM_OK || f->nfields != pairs)
			abort();
		/* jansson keeps member order (2.8+). */
		json_object_foreach(o, k, v) {
			if (json_is_array(v)) {
				json_array_foreach(v, i, e) {
					if (strcmp(f->fields[at].name, k) != 0)
						abort();
					fz_same(&f->fields[at++], e);
				}
			} else {
				if (strcmp(f->fields[at].name, k) != 0)
					abort();
				fz_same(&f->fields[at++], v);
			}
		}
	}
	if (shape == 1 && pairs > FZ_MAX_FIELDS && !bad_name &&
	    rc != FORM_ETOOMANY)
		abort();
	json_decref(o);
	form_free(f);
	return 0;
}
