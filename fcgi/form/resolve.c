/*
 * resolve: recipients, Reply-To, name and subject of a post (resolve.h).
 */
#include <string.h>

#include "form/resolve.h"
#include "lib/addr.h"
#include "lib/text.h"

/*
 * The names other form services use for the same thing, in the order
 * they are tried: Formspree/FormSubmit, then Web3Forms, then NMS.
 */
static const char *const reply_names[] = { "_replyto", "replyto", "email",
    NULL };
static const char *const subject_names[] = { "_subject", "subject", NULL };
static const char *const name_names[] = { "realname", "from_name", NULL };

int
form_reply_addr_ok(const struct form_field *v)
{
	return text_header_ok(v->value, v->value_len) ==
	    TEXT_OK && addr_spec_ok(v->value, v->value_len);
}

/* The first non-empty field of the NULL-terminated names, or NULL. */
static const struct form_field *
first(const struct form *f, const char *const *names)
{
	const struct form_field	*v;

	for (; *names != NULL; names++)
		if ((v = form_get(f, *names)) != NULL && v->value_len > 0)
			return v;
	return NULL;
}

/* A visitor's value for a header (a subject, a name): header text of at
 * most FORM_MAX_HEADER_CP characters. */
static int
header_ok(const struct form_field *v)
{
	return text_header_ok(v->value, v->value_len) ==
	    TEXT_OK && text_utf8_len(v->value, v->value_len) <=
	    FORM_MAX_HEADER_CP;
}

static size_t
route(const struct conf_form *cf, const struct form *f, struct form_route *r,
    struct validate_error *errs, size_t n)
{
	const struct form_field	*v;
	size_t			 i;

	r->to = cf->to;
	r->nto = cf->nto;
	if (cf->route_field == NULL)
		return n;
	if ((v = form_get(f, cf->route_field)) == NULL)
		v = form_get(f, "recipient");
	r->nto = 0;
	for (i = 0; v != NULL && i < cf->nchoices; i++)
		if (strlen(cf->choices[i].value) == v->value_len &&
		    memcmp(cf->choices[i].value, v->value, v->value_len) == 0) {
			r->to = cf->choices[i].to;
			r->nto = cf->choices[i].nto;
		}
	if (r->nto == 0 && n < VALIDATE_MAX_ERRORS)
		errs[n++] = (struct validate_error){ cf->route_field,
		    v == NULL || v->value_len == 0 ? "required" : "choice" };
	return n;
}

static size_t
reply(const struct conf_form *cf, const struct form *f, struct form_route *r,
    struct validate_error *errs, size_t n)
{
	const struct form_field	*v;
	size_t			 i;

	r->reply = NULL;
	for (i = 0; i < cf->nfields; i++)
		if (cf->fields[i].reply_to)
			r->reply = form_get(f, cf->fields[i].name);
	if (r->reply == NULL) {
		for (i = 0; i < cf->nfields; i++)
			if (cf->fields[i].reply_to)
				break;
		if (i == cf->nfields && (v = first(f, reply_names)) != NULL) {
			if (form_reply_addr_ok(v))
				r->reply = v;
			else if (n < VALIDATE_MAX_ERRORS)
				errs[n++] = (struct validate_error){ v->name,
				    "email" };
		}
	}
	if (r->reply != NULL && r->reply->value_len == 0)
		r->reply = NULL;
	r->reply_name = NULL;
	if (r->reply != NULL && (v = first(f, name_names)) != NULL) {
		if (header_ok(v))
			r->reply_name = v;
		else if (n < VALIDATE_MAX_ERRORS)
			errs[n++] = (struct validate_error){ v->name,
			    "invalid" };
	}
	return n;
}

size_t
form_resolve(const struct conf_form *cf, const struct form *f,
    struct form_route *r, struct validate_error *errs, size_t n)
{
	const struct form_field	*v;

	n = route(cf, f, r, errs, n);
	n = reply(cf, f, r, errs, n);
	r->subject = NULL;
	if (cf->allow_subject_field && (v = first(f, subject_names)) != NULL) {
		if (!header_ok(v)) {
			if (n < VALIDATE_MAX_ERRORS)
				errs[n++] = (struct validate_error){ v->name,
				    "invalid" };
		} else
			r->subject = v;
	}
	v = form_get(f, "_format");
	r->plain = v != NULL && v->value_len == 5 &&
	    memcmp(v->value, "plain", 5) == 0;
	return n;
}
