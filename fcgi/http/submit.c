/*
 * submit: the notification of an accepted post, composed
 * (mail/compose.h), judged by the message gate (gate/gate.h), committed
 * to the spool (held/ when the gate says hold).
 */
#include "http/http_int.h"
#include "mail/compose.h"
#include "mail/encrypt.h"

/*
 * Renders and builds the message, runs the message gate (gate.h's
 * gate_message: rspamd when configured) into *go, encrypts it when the
 * form says "encrypt" (mail/encrypt.h: after rspamd saw the plaintext,
 * before anything is written), then commits it to the
 * spool: queue/ on GATE_PASS, held/ on GATE_HOLD.  Returns 0 when
 * committed, 1 when the gate kept it out (GATE_SILENT: spam, nothing
 * kept; GATE_REFUSE: rspamd could not be asked), -1 on an internal error
 * (500), -2 when the spool could not commit (503).
 */
int
req_submit(struct req *q, const struct form *f, struct gate_out *go)
{
	const struct compose_in	 ci = { q->cf, q->form, f, &q->route, q->id,
	    q->ip, time(NULL) };
	struct spool_meta	 meta;
	struct buf		 msg = BUF_INIT;
	struct gate_in		 in = { .cf = q->cf, .form = q->form,
	    .ip = q->ip, .id = q->id, .spam = q->ctx->spam, .msg = &msg,
	    .meta = &meta };
	int			 rc = -1;

	memset(go, 0, sizeof(*go));
	if (compose_notification(&ci, &msg, &meta) == -1)
		goto out;
	if (gate_run(gate_message, gate_nmessage, &in, go) != NULL &&
	    go->verdict != GATE_HOLD) {
		rc = 1;
		goto out;
	}
	if (q->form->enc_method != CONF_ENC_NONE &&
	    encrypt_message(enc_set_find(q->ctx->enc, q->form->id),
	    q->form->enc_subject, q->id, &msg) == -1) {
		log_err("request %s: the notification could not be encrypted: "
		    "nothing kept", q->id);
		goto out;
	}
	if ((go->verdict == GATE_HOLD ? spool_commit_held(q->cf->spool_dir,
	    &meta, msg.data, msg.len) : spool_commit(q->cf->spool_dir, &meta,
	    msg.data, msg.len)) == -1) {
		log_err("request %s: spool commit failed: %m", q->id);
		rc = -2;
		goto out;
	}
	rc = 0;
out:
	if (msg.data != NULL)
		explicit_bzero(msg.data, msg.len);
	buf_free(&msg);
	return rc;
}
