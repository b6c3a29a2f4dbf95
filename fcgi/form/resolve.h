/*
 * resolve: what a post decides within what its form's config allows
 * (docs/DESIGN.md "Details that tests rely on", Routing): the recipients
 * (a route choice, or the form's list), Reply-To, the visitor's name for
 * it, a visitor's subject when the form allows one, and _format=plain.
 */
#ifndef F2M_RESOLVE_H
#define F2M_RESOLVE_H

#include <stddef.h>

#include "conf/conf.h"
#include "form/form.h"
#include "form/validate.h"

#define FORM_MAX_HEADER_CP	200	/* characters of a visitor's subject
					   or name in a header */

struct form_route {
	const struct conf_mailbox *to;		/* route choice or recipients */
	size_t			 nto;
	const struct form_field	*reply;		/* NULL: no Reply-To */
	const struct form_field	*reply_name;	/* realname, from_name */
	const struct form_field	*subject;	/* _subject, when allowed */
	int			 plain;		/* _format=plain */
};

/*
 * Fills r from the post f of form cf; the fields it points to are f's.
 * Appends an error per refused choice or value to errs[n..] (up to
 * VALIDATE_MAX_ERRORS) and returns the new count: route field missing
 * ("required") or not a choice ("choice"); a Reply-To alias (_replyto,
 * replyto, email: when no field has reply_to) that is not one plain
 * address ("email"); a name or subject that is not header text of at
 * most FORM_MAX_HEADER_CP characters ("invalid").
 */
size_t	 form_resolve(const struct conf_form *cf, const struct form *f,
	    struct form_route *r, struct validate_error *errs, size_t n);

/* A visitor-chosen address (Reply-To, an autoreply's recipient): one
 * plain addr-spec, header-safe.  1 or 0. */
int	 form_reply_addr_ok(const struct form_field *);

#endif
