/*
 * compose: the notification of an accepted post, as a message and its
 * envelope (docs/DESIGN.md "Message rules"): the values (configured
 * fields in config order, then the extra ones), the template variables,
 * the subject, the text and HTML bodies, the attachments; From, Reply-To
 * and recipients from the config and the post's route only.
 */
#ifndef F2M_COMPOSE_H
#define F2M_COMPOSE_H

#include <time.h>

#include "conf/conf.h"
#include "form/form.h"
#include "form/resolve.h"
#include "lib/buf.h"
#include "spool/spool.h"

#define COMPOSE_MAX_SUBJECT	900	/* octets of a rendered subject */
#define COMPOSE_MAX_ATTACH	20	/* conf caps uploads.max_files */

struct compose_in {
	const struct conf	*cf;
	const struct conf_form	*form;
	const struct form	*post;		/* checked by the body gates */
	const struct form_route	*route;		/* form_resolve()'s */
	const char		*id;		/* the submission id */
	const char		*ip;		/* client address, "" unknown */
	time_t			 now;
};

/*
 * Appends the notification to msg and fills meta (id, form, envelope
 * sender, recipients: To, Cc, Bcc, times).  Returns 0, or -1 with the
 * reason logged (no memory, a template that does not render, a rendered
 * subject that is not header text, a message that cannot be built).
 */
int	 compose_notification(const struct compose_in *, struct buf *msg,
	    struct spool_meta *meta);

#endif
