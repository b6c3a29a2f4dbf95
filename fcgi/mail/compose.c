/*
 * compose: the notification of an accepted post (compose.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form/validate.h"
#include "lib/log.h"
#include "lib/text.h"
#include "lib/tmpl.h"
#include "mail/compose.h"
#include "mail/message.h"

struct val {
	const char	*name;
	char		*value;	/* CR LF and lone CR turned into LF */
	size_t		 len;
	const char	*label;
	int		 multiline;
};

/* The working set of one notification, freed by work_free(). */
struct work {
	struct val		*vals;
	size_t			 nvals;
	struct tmpl_var		*vars, (*iv)[5];
	struct tmpl_scope	*items, root;
	struct buf		 subj, text, html;
	char			 date[64];
};

static char *
normalise(const char *s, size_t len, size_t *outlen)
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

static int
add_val(struct work *w, const char *name, const char *label, int multiline,
    const char *value, size_t len)
{
	struct val	*v = &w->vals[w->nvals];

	v->name = name;
	v->label = label;
	v->multiline = multiline;
	if ((v->value = normalise(value, len, &v->len)) == NULL)
		return -1;
	w->nvals++;
	return 0;
}

/* Configured fields in config order, then the extras in body order. */
static int
values(const struct compose_in *in, struct work *w)
{
	const struct conf_form	*cfm = in->form;
	const struct form	*f = in->post;
	const struct form_field	*ff;
	size_t			 i, cap = f->nfields + cfm->nfields;

	w->vals = calloc(cap, sizeof(*w->vals));
	w->vars = calloc(cap + 5, sizeof(*w->vars));
	w->iv = calloc(cap, sizeof(*w->iv));
	w->items = calloc(cap, sizeof(*w->items));
	if (w->vals == NULL || w->vars == NULL || w->iv == NULL ||
	    w->items == NULL)
		return -1;
	for (i = 0; i < cfm->nfields; i++) {
		ff = form_get(f, cfm->fields[i].name);
		if (add_val(w, cfm->fields[i].name, cfm->fields[i].label,
		    cfm->fields[i].multiline, ff ? ff->value : "",
		    ff ? ff->value_len : 0) == -1)
			return -1;
	}
	for (i = 0; i < f->nfields; i++)
		if (validate_extra_shown(cfm, &f->fields[i]) && add_val(w,
		    f->fields[i].name, f->fields[i].name, 1, f->fields[i].value,
		    f->fields[i].value_len) == -1)
			return -1;
	return 0;
}

/* The template variables: each configured field by name, "fields" (name,
 * label, value, multiline of every value), _form, _id, _date, _ip. */
static void
variables(const struct compose_in *in, struct work *w)
{
	size_t	 i, nv = 0;

	message_date(in->now, w->date, sizeof(w->date));
	for (i = 0; i < w->nvals; i++) {
		const struct val *v = &w->vals[i];

		w->iv[i][0] = (struct tmpl_var){ "name", v->name,
		    strlen(v->name), NULL, 0 };
		w->iv[i][1] = (struct tmpl_var){ "label", v->label,
		    strlen(v->label), NULL, 0 };
		w->iv[i][2] = (struct tmpl_var){ "value", v->value, v->len,
		    NULL, 0 };
		w->iv[i][3] = (struct tmpl_var){ "multiline",
		    v->multiline ? "1" : "", v->multiline, NULL, 0 };
		w->items[i] = (struct tmpl_scope){ w->iv[i], 4, NULL };
		if (i < in->form->nfields)
			w->vars[nv++] = (struct tmpl_var){ v->name, v->value,
			    v->len, NULL, 0 };
	}
	w->vars[nv++] = (struct tmpl_var){ "fields", NULL, 0, w->items,
	    w->nvals };
	w->vars[nv++] = (struct tmpl_var){ "_form", in->form->id,
	    strlen(in->form->id), NULL, 0 };
	w->vars[nv++] = (struct tmpl_var){ "_id", in->id, strlen(in->id), NULL,
	    0 };
	w->vars[nv++] = (struct tmpl_var){ "_date", w->date, strlen(w->date),
	    NULL, 0 };
	w->vars[nv++] = (struct tmpl_var){ "_ip", in->ip, strlen(in->ip), NULL,
	    0 };
	w->root = (struct tmpl_scope){ w->vars, nv, NULL };
}

/* The visitor's subject when the form allows one, else the template's;
 * one that does not render or is too long is cut (never inside a UTF-8
 * sequence), the form id when empty. */
static int
subject(const struct compose_in *in, struct work *w)
{
	const struct form_field	*s = in->route->subject;
	struct buf		*b = &w->subj;

	if (s != NULL)
		return buf_add(b, s->value, s->value_len);
	if (tmpl_render(in->form->subject, TMPL_TEXT, &w->root,
	    COMPOSE_MAX_SUBJECT, b) == 0 && b->data != NULL)
		return 0;
	log_warn("request %s: subject empty or over %d octets", in->id,
	    COMPOSE_MAX_SUBJECT);
	if (b->len == 0 && buf_adds(b, in->form->id) == -1)
		return -1;
	if (b->len > COMPOSE_MAX_SUBJECT)
		b->len = COMPOSE_MAX_SUBJECT;
	while (b->len > 0 && ((unsigned char)b->data[b->len] & 0xc0) == 0x80)
		b->len--;
	b->data[b->len] = '\0';
	return 0;
}

static int
render(const struct compose_in *in, struct work *w)
{
	size_t	 maxout = 2 * in->cf->max_body + 65536;

	if (subject(in, w) == -1)
		return -1;
	/* Fields in the subject were checked as header text; the template's
	 * own text was checked by conf.  Check the result anyway. */
	if (text_header_ok(w->subj.data, w->subj.len) !=
	    TEXT_OK) {
		log_err("request %s: rendered subject is not header-safe",
		    in->id);
		return -1;
	}
	if (tmpl_render(in->form->text, TMPL_TEXT, &w->root, maxout,
	    &w->text) == -1 || (in->form->html != NULL && !in->route->plain &&
	    tmpl_render(in->form->html, TMPL_HTML, &w->root, maxout,
	    &w->html) == -1)) {
		log_err("request %s: rendering failed", in->id);
		return -1;
	}
	return 0;
}

/* From, Reply-To, To, Cc, the bodies and attachments into msg. */
static int
build(const struct compose_in *in, struct work *w, struct buf *msg)
{
	const struct conf	*cf = in->cf;
	const struct form_route	*r = in->route;
	const struct form	*f = in->post;
	struct message_mailbox	*to, *cc, reply;
	struct message_attachment att[COMPOSE_MAX_ATTACH];
	struct message		 m;
	size_t			 i, natt = 0;
	int			 rc = -1;

	memset(&m, 0, sizeof(m));
	to = calloc(r->nto + 1, sizeof(*to));
	cc = calloc(in->form->ncc + 1, sizeof(*cc));
	if (to == NULL || cc == NULL)
		goto out;
	for (i = 0; i < r->nto; i++)
		to[i] = (struct message_mailbox){ r->to[i].display,
		    r->to[i].addr };
	for (i = 0; i < in->form->ncc; i++)
		cc[i] = (struct message_mailbox){ in->form->cc[i].display,
		    in->form->cc[i].addr };
	m.from = (struct message_mailbox){ cf->from.display, cf->from.addr };
	if (r->reply != NULL) {
		/* Checked: one addr-spec, no controls, NUL-free. */
		reply = (struct message_mailbox){ r->reply_name != NULL ?
		    r->reply_name->value : NULL, r->reply->value };
		m.reply_to = &reply;
		/* A receiving rspamd scores Reply-To elsewhere while a
		 * recipient shares From's domain as SPOOF_REPLYTO (+6.0),
		 * unless From is the first To (its web-form exemption):
		 * sender.same_domain_from "recipient", conf.h. */
		if (cf->from_recipient && r->nto > 0 &&
		    conf_same_domain(r->to[0].addr, cf->from.addr))
			m.from.addr = r->to[0].addr;
	}
	m.to = to;
	m.nto = r->nto;
	m.cc = cc;
	m.ncc = in->form->ncc;
	m.subject = w->subj.data;
	m.id = in->id;
	m.hostname = cf->message_id_domain;
	m.date = in->now;
	m.client_ip = in->ip[0] ? in->ip : NULL;
	m.text = w->text.data ? w->text.data : "";
	m.text_len = w->text.len;
	m.html = r->plain ? NULL : w->html.data;
	m.html_len = w->html.len;
	for (i = 0; i < f->nfiles && natt < COMPOSE_MAX_ATTACH; i++)
		if (f->files[i].len != 0 && f->files[i].data != NULL)
			att[natt++] = (struct message_attachment){
			    f->files[i].filename, f->files[i].sniffed_type,
			    f->files[i].data, f->files[i].len };
	m.attachments = natt ? att : NULL;
	m.nattachments = natt;
	if ((rc = message_build(&m, msg)) == -1)
		log_err("request %s: message could not be built", in->id);
out:
	free(to);
	free(cc);
	return rc;
}

/* The envelope: the configured sender, To then Cc then Bcc. */
static void
envelope(const struct compose_in *in, struct spool_meta *meta)
{
	const struct conf_form	*cfm = in->form;
	size_t			 i;

	memset(meta, 0, sizeof(*meta));
	snprintf(meta->id, sizeof(meta->id), "%s", in->id);
	snprintf(meta->form, sizeof(meta->form), "%s", cfm->id);
	snprintf(meta->from, sizeof(meta->from), "%s", in->cf->envelope_from);
	meta->created = in->now;
	meta->next_try = in->now;
	for (i = 0; i < in->route->nto && meta->nrcpt < SPOOL_MAX_RCPT; i++)
		meta->rcpt[meta->nrcpt++] = in->route->to[i].addr;
	for (i = 0; i < cfm->ncc && meta->nrcpt < SPOOL_MAX_RCPT; i++)
		meta->rcpt[meta->nrcpt++] = cfm->cc[i].addr;
	for (i = 0; i < cfm->nbcc && meta->nrcpt < SPOOL_MAX_RCPT; i++)
		meta->rcpt[meta->nrcpt++] = cfm->bcc[i].addr;
}

static void
work_free(struct work *w)
{
	size_t	 i;

	for (i = 0; w->vals != NULL && i < w->nvals; i++)
		free(w->vals[i].value);
	free(w->vals);
	free(w->vars);
	free(w->iv);
	free(w->items);
	buf_free(&w->subj);
	buf_free(&w->text);
	buf_free(&w->html);
}

int
compose_notification(const struct compose_in *in, struct buf *msg,
    struct spool_meta *meta)
{
	struct work	 w;
	int		 rc = -1;

	memset(&w, 0, sizeof(w));
	if (values(in, &w) == 0) {
		variables(in, &w);
		if (render(in, &w) == 0 && build(in, &w, msg) == 0) {
			envelope(in, meta);
			rc = 0;
		}
	}
	work_free(&w);
	return rc;
}
