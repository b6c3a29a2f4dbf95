/*
 * submit: the notification of an accepted post, composed
 * (mail/compose.h), judged by rspamd (the message gate), committed to the
 * spool (held/ when rspamd says hold).
 */
#include "http/http_int.h"
#include "mail/compose.h"

/* Asks rspamd about the rendered message; logs the verdict. */
static enum spam_verdict
req_rspamd(struct req *q, const struct spool_meta *meta, const struct buf *msg)
{
	enum spam_verdict	 v;
	double			 score = 0;
	char			 why[512];

	v = spam_check(q->ctx->spam, msg->data, msg->len, q->ip[0] ? q->ip :
	    NULL, meta->from, (const char *const *)meta->rcpt, meta->nrcpt,
	    NULL, NULL, q->id, &score, why, sizeof(why));
	if (v == SPAM_UNAVAILABLE)
		log_err("request id=%s rspamd unavailable (%s): %s", q->id,
		    q->cf->spam.fail_open ? "spooled anyway, fail_open" :
		    "refused", why);
	else if (v != SPAM_HAM)
		log_warn("request id=%s rspamd %s score=%.2f: %s", q->id,
		    spam_verdict_name(v), score, why);
	return v;
}

/*
 * Renders and builds the message, asks rspamd when configured, then
 * commits it to the spool (held/ when rspamd says hold).  Returns 0 when
 * queued, 2 when held, 1 when rspamd rejected it (nothing kept), -1 on an
 * internal error (500), -2 when the spool could not commit (503), -3 when
 * rspamd could not be asked and fail_open is off (503).
 */
int
req_submit(struct req *q, const struct form *f)
{
	const struct compose_in	 in = { q->cf, q->form, f, &q->route, q->id,
	    q->ip, time(NULL) };
	struct spool_meta	 meta;
	struct buf		 msg = BUF_INIT;
	int			 rc = -1, held = 0;

	if (compose_notification(&in, &msg, &meta) == -1)
		goto out;
	if (q->ctx->spam != NULL) {
		switch (req_rspamd(q, &meta, &msg)) {
		case SPAM_REJECT:
			rc = 1;
			goto out;
		case SPAM_HOLD:
			held = 1;
			break;
		case SPAM_UNAVAILABLE:
			if (!q->cf->spam.fail_open) {
				rc = -3;
				goto out;
			}
			break;
		default:
			break;
		}
	}
	if ((held ? spool_commit_held(q->cf->spool_dir, &meta, msg.data,
	    msg.len) : spool_commit(q->cf->spool_dir, &meta, msg.data,
	    msg.len)) == -1) {
		log_err("request %s: spool commit failed: %m", q->id);
		rc = -2;
		goto out;
	}
	rc = held ? 2 : 0;
out:
	buf_free(&msg);
	return rc;
}
