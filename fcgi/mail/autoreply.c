/*
 * autoreply: the autoresponder's mail to the visitor (autoreply.h).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "form/resolve.h"
#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/text.h"
#include "lib/tmpl.h"
#include "mail/autoreply.h"
#include "mail/compose.h"
#include "mail/message.h"
#include "spool/spool.h"

/* The lower-cased address without a "+tag" in its local part. */
static int
canon(const char *a, size_t len, char *out, size_t outsize)
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
 * Per mailbox, not per spelling: case folded and a "+tag" dropped, so
 * Victim@, victim@EXAMPLE and victim+1@ share one budget.  A digest, so
 * the table holds no address.  1 when this address and the day's budget
 * allow one more.
 */
static int
budget(const struct conf_form *cfm, const struct form_field *to,
    struct throttle *t, const char *id)
{
	struct throttle_key	 k;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0;
	char			 key[80], c[ADDR_MAX + 1];
	size_t			 i;
	long			 after;
	int			 rc;

	if (canon(to->value, to->value_len, c, sizeof(c)) == -1)
		return 0;
	EVP_Digest(c, strlen(c), md, &mdlen, EVP_sha256(), NULL);
	rc = snprintf(key, sizeof(key), "auto:");
	for (i = 0; i < 16 && i < mdlen; i++)
		rc += snprintf(key + rc, sizeof(key) - (size_t)rc, "%02x",
		    md[i]);
	if (throttle_once(t, key, "", throttle_now_us() +
	    (int64_t)cfm->auto_per_address * 1000000, throttle_now_us(), NULL,
	    0) != 1) {
		log_info("request id=%s autoreply skipped: this address had "
		    "one", id);
		return 0;
	}
	k = (struct throttle_key){ "auto:global", { cfm->auto_max_per_day,
	    86400 } };
	if (throttle_check(t, &k, 1, throttle_now_us(), &after) !=
	    THROTTLE_OK) {
		log_warn("request id=%s autoreply skipped: max_per_day reached",
		    id);
		return 0;
	}
	return 1;
}

/* Metadata and the single-line fields, never the message. */
static int
render(const struct conf_form *cfm, const struct form *f, const char *id,
    time_t now, struct buf *subj, struct buf *text, struct buf *html)
{
	struct tmpl_var		 vars[AUTOREPLY_MAX_VARS];
	struct tmpl_scope	 root;
	const struct form_field	*v;
	char			 date[64];
	size_t			 i, nv = 0;

	message_date(now, date, sizeof(date));
	for (i = 0; i < cfm->nfields && nv + 3 < AUTOREPLY_MAX_VARS; i++) {
		if (cfm->fields[i].multiline ||
		    (v = form_get(f, cfm->fields[i].name)) == NULL)
			continue;
		vars[nv++] = (struct tmpl_var){ cfm->fields[i].name, v->value,
		    v->value_len, NULL, 0 };
	}
	vars[nv++] = (struct tmpl_var){ "_form", cfm->id, strlen(cfm->id),
	    NULL, 0 };
	vars[nv++] = (struct tmpl_var){ "_id", id, strlen(id), NULL, 0 };
	vars[nv++] = (struct tmpl_var){ "_date", date, strlen(date), NULL, 0 };
	root = (struct tmpl_scope){ vars, nv, NULL };
	return tmpl_render(cfm->auto_subject, TMPL_TEXT, &root,
	    COMPOSE_MAX_SUBJECT, subj) == -1 || subj->data == NULL ||
	    text_header_ok(subj->data, subj->len) != TEXT_OK ||
	    tmpl_render(cfm->auto_text, TMPL_TEXT, &root, 65536, text) == -1 ||
	    (cfm->auto_html != NULL && tmpl_render(cfm->auto_html, TMPL_HTML,
	    &root, 65536, html) == -1) ? -1 : 0;
}

/* From the site (no Reply-To) to the visitor's address alone; its own
 * submission id. */
static void
queue(const struct conf *cf, const struct conf_form *cfm,
    const struct form_field *to, const char *id, time_t now,
    const struct buf *subj, const struct buf *text, const struct buf *html)
{
	struct message		 m;
	struct message_mailbox	 rcpt = { NULL, to->value };
	struct spool_meta	 meta;
	struct buf		 msg = BUF_INIT;

	memset(&m, 0, sizeof(m));
	memset(&meta, 0, sizeof(meta));
	if (spool_new_id(meta.id) == -1)
		return;
	m.from = (struct message_mailbox){ cf->from.display, cf->from.addr };
	m.to = &rcpt;
	m.nto = 1;
	m.subject = subj->data;
	m.id = meta.id;
	m.hostname = cf->message_id_domain;
	m.date = now;
	m.auto_submitted = "auto-replied";
	m.text = text->data ? text->data : "";
	m.text_len = text->len;
	m.html = html->data;
	m.html_len = html->len;
	if (message_build(&m, &msg) == -1) {
		log_err("request id=%s autoreply could not be built", id);
		return;
	}
	snprintf(meta.form, sizeof(meta.form), "%s", cfm->id);
	snprintf(meta.from, sizeof(meta.from), "%s", cf->envelope_from);
	meta.created = meta.next_try = now;
	meta.rcpt[0] = (char *)(uintptr_t)to->value;
	meta.nrcpt = 1;
	if (spool_commit(cf->spool_dir, &meta, msg.data, msg.len) == -1)
		log_err("request id=%s autoreply not spooled: %m", id);
	else
		log_info("request id=%s autoreply queued as %s", id, meta.id);
	buf_free(&msg);
}

void
autoreply_send(const struct conf *cf, const struct conf_form *cfm,
    const struct form *f, struct throttle *t, const char *id)
{
	const struct form_field	*to;
	struct buf		 subj = BUF_INIT, text = BUF_INIT;
	struct buf		 html = BUF_INIT;
	time_t			 now = time(NULL);

	if (cfm->auto_text == NULL || t == NULL ||
	    (to = form_get(f, cfm->auto_field)) == NULL || to->value_len == 0 ||
	    !form_reply_addr_ok(to) || !budget(cfm, to, t, id))
		return;
	if (render(cfm, f, id, now, &subj, &text, &html) == -1)
		log_err("request id=%s autoreply could not be rendered", id);
	else
		queue(cf, cfm, to, id, now, &subj, &text, &html);
	buf_free(&subj);
	buf_free(&text);
	buf_free(&html);
}
