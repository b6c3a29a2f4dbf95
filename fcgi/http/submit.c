/*
 * submit: the notification of an accepted post: values, template
 * variables, subject, text and HTML, the message and its envelope, the
 * rspamd check of the message, and the commit to the spool.
 */
#include "http/http_int.h"

struct req_val {
	const char	*name;
	char		*value;	/* CR LF and lone CR turned into LF */
	size_t		 len;
	const char	*label;
	int		 multiline;
};

static char *
req_normalise(const char *s, size_t len, size_t *outlen)
{
	char	*d;
	size_t	 i, o = 0;

	if ((d = malloc(len + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		if (s[i] == '\r') {
			d[o++] = '\n';
			if (i + 1 < len && s[i + 1] == '\n')
				i++;
		} else
			d[o++] = s[i];
	}
	d[o] = '\0';
	*outlen = o;
	return d;
}

/* Is this form field shown as an extra field? */
static int
req_is_extra(const struct req *q, const struct form_field *ff)
{
	size_t	 i;

	if (q->form->extra != CONF_EXTRA_INCLUDE ||
	    validate_reserved_name(ff->name, ff->name_len) ||
	    (q->form->honeypot != NULL &&
	    strcmp(ff->name, q->form->honeypot) == 0))
		return 0;
	for (i = 0; i < q->form->nfields; i++)
		if (strcmp(ff->name, q->form->fields[i].name) == 0)
			return 0;
	return 1;
}

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
	const struct conf_form	*cfm = q->form;
	const struct conf	*cf = q->cf;
	struct req_val		*vals = NULL;
	struct tmpl_var		*vars = NULL, (*iv)[5] = NULL;
	struct tmpl_scope	*items = NULL, root;
	struct message_mailbox	*to = NULL, *cc = NULL, reply;
	struct message		 m;
	struct spool_meta	 meta;
	struct buf		 subj = BUF_INIT, text = BUF_INIT;
	struct buf		 html = BUF_INIT, msg = BUF_INIT;
	char			 date[64];
	const struct form_field	*ff;
	size_t			 i, n = 0, nv = 0, maxout;
	time_t			 now = time(NULL);
	struct message_attachment att[REQ_MAX_ATTACH];
	size_t			 natt = 0;
	int			 rc = -1, held;

	memset(&meta, 0, sizeof(meta));
	memset(&m, 0, sizeof(m));
	vals = calloc(f->nfields + cfm->nfields, sizeof(*vals));
	vars = calloc(f->nfields + cfm->nfields + 5, sizeof(*vars));
	iv = calloc(f->nfields + cfm->nfields, sizeof(*iv));
	items = calloc(f->nfields + cfm->nfields, sizeof(*items));
	to = calloc(q->route.nto + 1, sizeof(*to));
	cc = calloc(cfm->ncc + 1, sizeof(*cc));
	if (vals == NULL || vars == NULL || iv == NULL || items == NULL ||
	    to == NULL || cc == NULL)
		goto out;

	/* Configured fields in config order, then the extras in body order. */
	for (i = 0; i < cfm->nfields; i++) {
		ff = form_get(f, cfm->fields[i].name);
		vals[n].name = cfm->fields[i].name;
		vals[n].label = cfm->fields[i].label;
		vals[n].multiline = cfm->fields[i].multiline;
		if ((vals[n].value = req_normalise(ff ? ff->value : "",
		    ff ? ff->value_len : 0, &vals[n].len)) == NULL)
			goto out;
		n++;
	}
	for (i = 0; i < f->nfields; i++) {
		if (!req_is_extra(q, &f->fields[i]))
			continue;
		vals[n].name = vals[n].label = f->fields[i].name;
		vals[n].multiline = 1;
		if ((vals[n].value = req_normalise(f->fields[i].value,
		    f->fields[i].value_len, &vals[n].len)) == NULL)
			goto out;
		n++;
	}
	message_date(now, date, sizeof(date));
	for (i = 0; i < n; i++) {
		iv[i][0] = (struct tmpl_var){ "name", vals[i].name,
		    strlen(vals[i].name), NULL, 0 };
		iv[i][1] = (struct tmpl_var){ "label", vals[i].label,
		    strlen(vals[i].label), NULL, 0 };
		iv[i][2] = (struct tmpl_var){ "value", vals[i].value,
		    vals[i].len, NULL, 0 };
		iv[i][3] = (struct tmpl_var){ "multiline",
		    vals[i].multiline ? "1" : "", vals[i].multiline, NULL, 0 };
		items[i] = (struct tmpl_scope){ iv[i], 4, NULL };
		if (i < cfm->nfields)
			vars[nv++] = (struct tmpl_var){ vals[i].name,
			    vals[i].value, vals[i].len, NULL, 0 };
	}
	vars[nv++] = (struct tmpl_var){ "fields", NULL, 0, items, n };
	vars[nv++] = (struct tmpl_var){ "_form", cfm->id, strlen(cfm->id),
	    NULL, 0 };
	vars[nv++] = (struct tmpl_var){ "_id", q->id, strlen(q->id), NULL, 0 };
	vars[nv++] = (struct tmpl_var){ "_date", date, strlen(date), NULL, 0 };
	vars[nv++] = (struct tmpl_var){ "_ip", q->ip, strlen(q->ip), NULL, 0 };
	root = (struct tmpl_scope){ vars, nv, NULL };

	maxout = 2 * cf->max_body + 65536;
	if (q->route.subject != NULL) {
		if (buf_add(&subj, q->route.subject->value, q->route.subject->value_len) ==
		    -1)
			goto out;
	} else if (tmpl_render(cfm->subject, TMPL_TEXT, &root, REQ_MAX_SUBJECT,
	    &subj) == -1 || subj.data == NULL) {
		log_warn("request %s: subject empty or over %d octets", q->id,
		    REQ_MAX_SUBJECT);
		if (subj.len == 0 && buf_adds(&subj, cfm->id) == -1)
			goto out;
		if (subj.len > REQ_MAX_SUBJECT)
			subj.len = REQ_MAX_SUBJECT;
		/* Never cut inside a UTF-8 sequence. */
		while (subj.len > 0 &&
		    ((unsigned char)subj.data[subj.len] & 0xc0) == 0x80)
			subj.len--;
		subj.data[subj.len] = '\0';
	}
	/* Fields in the subject were checked as header text; the template's
	 * own text was checked by conf.  Check the result anyway. */
	if (validate_header_text(subj.data, subj.len) != VALIDATE_TEXT_OK) {
		log_err("request %s: rendered subject is not header-safe",
		    q->id);
		goto out;
	}
	if (tmpl_render(cfm->text, TMPL_TEXT, &root, maxout, &text) == -1 ||
	    (cfm->html != NULL && !q->route.plain &&
	    tmpl_render(cfm->html, TMPL_HTML, &root, maxout, &html) == -1)) {
		log_err("request %s: rendering failed", q->id);
		goto out;
	}

	for (i = 0; i < q->route.nto; i++)
		to[i] = (struct message_mailbox){ q->route.to[i].display,
		    q->route.to[i].addr };
	for (i = 0; i < cfm->ncc; i++)
		cc[i] = (struct message_mailbox){ cfm->cc[i].display,
		    cfm->cc[i].addr };
	m.from = (struct message_mailbox){ cf->from.display, cf->from.addr };
	if (q->route.reply != NULL) {
		/* Checked: one addr-spec, no controls, NUL-free. */
		reply = (struct message_mailbox){ q->route.reply_name != NULL ?
		    q->route.reply_name->value : NULL, q->route.reply->value };
		m.reply_to = &reply;
		/* A receiving rspamd scores Reply-To elsewhere while a
		 * recipient shares From's domain as SPOOF_REPLYTO (+6.0),
		 * unless From is the first To (its web-form exemption):
		 * sender.same_domain_from "recipient", conf.h. */
		if (cf->from_recipient && q->route.nto > 0 &&
		    conf_same_domain(q->route.to[0].addr, cf->from.addr))
			m.from.addr = q->route.to[0].addr;
	}
	m.to = to;
	m.nto = q->route.nto;
	m.cc = cc;
	m.ncc = cfm->ncc;
	m.subject = subj.data;
	m.id = q->id;
	m.hostname = cf->message_id_domain;
	m.date = now;
	m.client_ip = q->ip[0] ? q->ip : NULL;
	m.text = text.data ? text.data : "";
	m.text_len = text.len;
	m.html = q->route.plain ? NULL : html.data;
	for (i = 0; i < f->nfiles && natt < REQ_MAX_ATTACH; i++) {
		if (f->files[i].len == 0 || f->files[i].data == NULL)
			continue;
		att[natt++] = (struct message_attachment){ f->files[i].filename,
		    f->files[i].sniffed_type, f->files[i].data, f->files[i].len };
	}
	m.attachments = natt ? att : NULL;
	m.nattachments = natt;
	m.html_len = html.len;
	if (message_build(&m, &msg) == -1) {
		log_err("request %s: message could not be built", q->id);
		goto out;
	}

	memcpy(meta.id, q->id, sizeof(meta.id));
	snprintf(meta.form, sizeof(meta.form), "%s", cfm->id);
	snprintf(meta.from, sizeof(meta.from), "%s", cf->envelope_from);
	meta.created = now;
	meta.next_try = now;
	for (i = 0; i < q->route.nto && meta.nrcpt < SPOOL_MAX_RCPT; i++)
		meta.rcpt[meta.nrcpt++] = q->route.to[i].addr;
	for (i = 0; i < cfm->ncc && meta.nrcpt < SPOOL_MAX_RCPT; i++)
		meta.rcpt[meta.nrcpt++] = cfm->cc[i].addr;
	for (i = 0; i < cfm->nbcc && meta.nrcpt < SPOOL_MAX_RCPT; i++)
		meta.rcpt[meta.nrcpt++] = cfm->bcc[i].addr;
	held = 0;
	if (q->ctx->spam != NULL) {
		switch (req_rspamd(q, &meta, &msg)) {
		case SPAM_REJECT:
			rc = 1;
			goto out;
		case SPAM_HOLD:
			held = 1;
			break;
		case SPAM_UNAVAILABLE:
			if (!cf->spam.fail_open) {
				rc = -3;
				goto out;
			}
			break;
		default:
			break;
		}
	}
	if ((held ? spool_commit_held(cf->spool_dir, &meta, msg.data,
	    msg.len) : spool_commit(cf->spool_dir, &meta, msg.data, msg.len)) ==
	    -1) {
		log_err("request %s: spool commit failed: %m", q->id);
		rc = -2;
		goto out;
	}
	rc = held ? 2 : 0;
out:
	for (i = 0; vals != NULL && i < n; i++)
		free(vals[i].value);
	free(vals);
	free(vars);
	free(iv);
	free(items);
	free(to);
	free(cc);
	buf_free(&subj);
	buf_free(&text);
	buf_free(&html);
	buf_free(&msg);
	return rc;
}
