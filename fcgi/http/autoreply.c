/*
 * autoreply: the autoresponder's mail to the visitor: the canonical
 * address, the per-address and daily budget, render, build, commit.
 */
#include "http/http_int.h"

/* The lower-cased address without a "+tag" in its local part. */
static int
req_addr_canon(const char *a, size_t len, char *out, size_t outsize)
{
	const char	*at = memchr(a, '@', len), *plus;
	size_t		 i, o = 0, local;

	if (at == NULL || len >= outsize)
		return -1;
	local = (size_t)(at - a);
	if ((plus = memchr(a, '+', local)) != NULL && plus > a)
		local = (size_t)(plus - a);
	for (i = 0; i < local; i++)
		out[o++] = (char)tolower((unsigned char)a[i]);
	for (i = (size_t)(at - a); i < len; i++)
		out[o++] = (char)tolower((unsigned char)a[i]);
	out[o] = '\0';
	return 0;
}

/*
 * The autoresponder (issue 4, item 6): to the address the visitor typed
 * (checked as a header-bound email field), only after the challenge or
 * captcha passed (conf enforces that the form has one), at most one per
 * address per auto_per_address and auto_max_per_day in all, rendered from
 * metadata and single-line fields only, Auto-Submitted: auto-replied.  A
 * failure here never changes the visitor's answer.
 */
void
req_autoreply(struct req *q, const struct form *f)
{
	const struct conf_form	*cfm = q->form;
	const struct conf	*cf = q->cf;
	const struct form_field	*to, *v;
	struct tmpl_var		 vars[CONF_MAX_AUTO_VARS];
	struct tmpl_scope	 root;
	struct throttle_key	 k;
	struct message		 m;
	struct message_mailbox	 rcpt;
	struct spool_meta	 meta;
	struct buf		 subj = BUF_INIT, text = BUF_INIT, html = BUF_INIT;
	struct buf		 msg = BUF_INIT;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0;
	char			 key[80], date[64], canon[VALIDATE_MAX_ADDR + 1];
	size_t			 i, nv = 0;
	time_t			 now = time(NULL);
	long			 after;
	int			 rc;

	if (cfm->auto_text == NULL || q->ctx->throttle == NULL ||
	    (to = form_get(f, cfm->auto_field)) == NULL || to->value_len == 0 ||
	    !form_reply_addr_ok(to))
		return;
	/*
	 * Per mailbox, not per spelling: case folded and a "+tag" dropped,
	 * so Victim@, victim@EXAMPLE and victim+1@ share one budget.  A
	 * digest, so the table holds no address.
	 */
	if (req_addr_canon(to->value, to->value_len, canon,
	    sizeof(canon)) == -1)
		return;
	EVP_Digest(canon, strlen(canon), md, &mdlen, EVP_sha256(), NULL);
	rc = snprintf(key, sizeof(key), "auto:");
	for (i = 0; i < 16 && i < mdlen; i++)
		rc += snprintf(key + rc, sizeof(key) - (size_t)rc, "%02x", md[i]);
	if (throttle_once(q->ctx->throttle, key, "", throttle_now_us() +
	    (int64_t)cfm->auto_per_address * 1000000, throttle_now_us(), NULL,
	    0) != 1) {
		log_info("request id=%s autoreply skipped: this address had one",
		    q->id);
		return;
	}
	k = (struct throttle_key){ "auto:global", { cfm->auto_max_per_day,
	    86400 } };
	if (throttle_check(q->ctx->throttle, &k, 1, throttle_now_us(), &after) !=
	    THROTTLE_OK) {
		log_warn("request id=%s autoreply skipped: max_per_day reached",
		    q->id);
		return;
	}
	message_date(now, date, sizeof(date));
	for (i = 0; i < cfm->nfields && nv + 3 < CONF_MAX_AUTO_VARS; i++) {
		if (cfm->fields[i].multiline ||
		    (v = form_get(f, cfm->fields[i].name)) == NULL)
			continue;
		vars[nv++] = (struct tmpl_var){ cfm->fields[i].name, v->value,
		    v->value_len, NULL, 0 };
	}
	vars[nv++] = (struct tmpl_var){ "_form", cfm->id, strlen(cfm->id),
	    NULL, 0 };
	vars[nv++] = (struct tmpl_var){ "_id", q->id, strlen(q->id), NULL, 0 };
	vars[nv++] = (struct tmpl_var){ "_date", date, strlen(date), NULL, 0 };
	root = (struct tmpl_scope){ vars, nv, NULL };
	memset(&m, 0, sizeof(m));
	memset(&meta, 0, sizeof(meta));
	if (tmpl_render(cfm->auto_subject, TMPL_TEXT, &root, REQ_MAX_SUBJECT,
	    &subj) == -1 || subj.data == NULL ||
	    validate_header_text(subj.data, subj.len) != VALIDATE_TEXT_OK ||
	    tmpl_render(cfm->auto_text, TMPL_TEXT, &root, 65536, &text) == -1 ||
	    (cfm->auto_html != NULL && tmpl_render(cfm->auto_html, TMPL_HTML,
	    &root, 65536, &html) == -1)) {
		log_err("request id=%s autoreply could not be rendered", q->id);
		goto out;
	}
	rcpt = (struct message_mailbox){ NULL, to->value };
	m.from = (struct message_mailbox){ cf->from.display, cf->from.addr };
	m.to = &rcpt;
	m.nto = 1;
	m.subject = subj.data;
	if (spool_new_id(meta.id) == -1)
		goto out;
	m.id = meta.id;
	m.hostname = cf->message_id_domain;
	m.date = now;
	m.auto_submitted = "auto-replied";
	m.text = text.data ? text.data : "";
	m.text_len = text.len;
	m.html = html.data;
	m.html_len = html.len;
	if (message_build(&m, &msg) == -1) {
		log_err("request id=%s autoreply could not be built", q->id);
		goto out;
	}
	snprintf(meta.form, sizeof(meta.form), "%s", cfm->id);
	snprintf(meta.from, sizeof(meta.from), "%s", cf->envelope_from);
	meta.created = meta.next_try = now;
	meta.rcpt[0] = (char *)(uintptr_t)to->value;
	meta.nrcpt = 1;
	if (spool_commit(cf->spool_dir, &meta, msg.data, msg.len) == -1)
		log_err("request id=%s autoreply not spooled: %m", q->id);
	else
		log_info("request id=%s autoreply queued as %s", q->id, meta.id);
out:
	buf_free(&subj);
	buf_free(&text);
	buf_free(&html);
	buf_free(&msg);
}
