/*
 * autoreply: the autoresponder's mail to the visitor (issue 4, item 6):
 * to the address the visitor typed (a header-bound email field), only
 * after the challenge or captcha passed (conf enforces that the form has
 * one), at most one per address per auto_per_address and
 * auto_max_per_day in all, rendered from metadata and single-line fields
 * only, Auto-Submitted: auto-replied.
 */
#ifndef F2M_AUTOREPLY_H
#define F2M_AUTOREPLY_H

#include "conf/conf.h"
#include "form/form.h"
#include "throttle/throttle.h"

#define AUTOREPLY_MAX_VARS	104	/* fields + metadata of an autoreply */

/*
 * Queues the autoreply of form cfm for the post f (submission id), when
 * the form has one and the budgets of t allow it.  Logs what it did;
 * a failure never changes the visitor's answer, so nothing is returned.
 */
void	 autoreply_send(const struct conf *cf, const struct conf_form *cfm,
	    const struct form *f, struct throttle *t, const char *id);

#endif
