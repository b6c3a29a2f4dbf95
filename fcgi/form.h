/*
 * form: decode a form body (untrusted data!) into an ordered list of
 * name/value pairs.
 *
 * Names and values are decoded bytes, each NUL-terminated for convenience,
 * but they may hold any byte including NUL: always use the lengths.  No
 * character checks happen here; validate.h decides what is acceptable.
 * Order is the order of the body.  Repeated names are kept as they came.
 */
#ifndef F2M_FORM_H
#define F2M_FORM_H

#include <stddef.h>

#include "buf.h"

/* Hard ceilings, independent of config (config may only lower them). */
#define FORM_MAX_NAME	256		/* octets of a decoded name */
#define FORM_MAX_FIELDS	1000		/* absolute cap on pairs */

struct form_field {
	char	*name;
	size_t	 name_len;
	char	*value;
	size_t	 value_len;
};

struct form {
	struct form_field	*fields;
	size_t			 nfields;
};

enum form_err {
	FORM_OK = 0,
	FORM_ENOMEM,		/* out of memory */
	FORM_ETOOMANY,		/* more than max_fields pairs */
	FORM_ETOOBIG,		/* a name longer than FORM_MAX_NAME */
	FORM_EINVAL		/* malformed: bad %-escape, empty name */
};

/*
 * Parses application/x-www-form-urlencoded (WHATWG URL standard, section
 * 5.1): pairs split on '&', name and value on the first '=', '+' is a
 * space, %HH decoded (either case).  Empty pairs ("a=1&&b=2") are skipped.
 * A '%' not followed by two hex digits is FORM_EINVAL (stricter than the
 * standard: a browser never sends one).  A pair with an empty name is
 * FORM_EINVAL.  At most max_fields pairs (and never more than
 * FORM_MAX_FIELDS); the count is checked before each allocation.
 * On FORM_OK *out holds the result; release it with form_free().  On error
 * *out is NULL.
 */
enum form_err	 form_parse_urlencoded(const char *body, size_t len,
		    size_t max_fields, struct form **out);

/* First field with this exact name, or NULL.  Owned by the form. */
const struct form_field *form_get(const struct form *, const char *name);
/* Number of fields with this exact name. */
size_t		 form_count(const struct form *, const char *name);
/* NULL is accepted. */
void		 form_free(struct form *);
/* A short English text for an error code. */
const char	*form_strerror(enum form_err);

#endif
