/*
 * autoreply: the autoresponder's mail to the visitor (docs/DESIGN.md
 * "Autoresponder"): to the address the visitor typed (a header-bound
 * email field), only after the challenge or captcha passed (conf
 * enforces that the form has one), Auto-Submitted set.
 *
 * No visitor-typed text reaches a stranger's inbox: the subject is config
 * text; the body shows metadata and those single-line fields the config
 * allows (conf checks the names) whose value passes text_name_ok() (the
 * name rule, at most AUTOREPLY_NAME_MAX code points); any other value is
 * left out (empty).
 *
 * Budgets, per mailbox (addr_canonical(): v.ictim@, victim-1@ and
 * Victim+x@ are one) and per form: at most one mail per mailbox per
 * auto_per_address and auto_max_per_day mails a day in all (the deliverer
 * counts them again).  Keys in the throttle's "seen once" set hold a
 * digest, never an address.
 *
 * Double opt-in (auto_confirm): an address not yet confirmed for the form
 * first gets only the signed link (mail/confirm.h; _form, _date, _link);
 * the reply goes once its page is POSTed (autoreply_confirm()), which
 * remembers that exact address (not its mailbox key: another spelling
 * may be another person) as confirmed for AUTOREPLY_CONFIRMED_KEEP in
 * the same bounded set (an entry the table evicts only means one more
 * confirmation, within the same budgets); a confirmed address's later
 * posts get the reply directly.  Both mails obey both budgets.
 */
#ifndef F2M_AUTOREPLY_H
#define F2M_AUTOREPLY_H

#include <stddef.h>

#include "conf/conf.h"
#include "form/form.h"
#include "throttle/throttle.h"

#define AUTOREPLY_MAX_VARS	104	/* fields + metadata of an autoreply */
#define AUTOREPLY_NAME_MAX	60	/* code points of a shown value */
#define AUTOREPLY_CONFIRMED_KEEP (30 * 86400L)	/* THROTTLE_ONCE_MAX_US */

/*
 * Queues the autoreply (or, for a mailbox not yet confirmed on a confirm
 * form, the confirmation) of form cfm for the post f (submission id),
 * when the form has one and the budgets of t allow it.  confirm_key:
 * CONFIRM_KEY_LEN octets, NULL when none was loaded (a confirm form then
 * sends nothing).  Logs what it did; a failure never changes the
 * visitor's answer, so nothing is returned.
 */
void	 autoreply_send(const struct conf *cf, const struct conf_form *cfm,
	    const struct form *f, struct throttle *t,
	    const unsigned char *confirm_key, const char *id);

enum autoreply_result {
	AUTOREPLY_SENT,		/* the reply is queued */
	AUTOREPLY_USED,		/* the link was used before: nothing sent */
	AUTOREPLY_LIMITED,	/* a budget said no: nothing sent */
	AUTOREPLY_INVALID,	/* not a token of this form (confirm_check) */
	AUTOREPLY_EXPIRED,
	AUTOREPLY_ERROR		/* no key or table; render or spool: logged */
};

/*
 * The POST of a confirmation link: tok[0..len) (untrusted) checked for
 * form cfm; then, single use (the first POST of a link sends, later ones
 * get AUTOREPLY_USED), within one reply per mailbox per auto_per_address
 * and the daily budget, the reply (metadata only: the post is not kept)
 * is queued and the mailbox remembered as confirmed.
 */
enum autoreply_result autoreply_confirm(const struct conf *cf,
	    const struct conf_form *cfm, struct throttle *t,
	    const unsigned char *confirm_key, const char *tok, size_t len);

#endif
