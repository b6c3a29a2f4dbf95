/*
 * autoreply: the autoresponder's mail to the visitor (autoreply.h).
 */
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
#include "mail/confirm.h"
#include "mail/message.h"
#include "spool/spool.h"

#define AUTOREPLY_BODY_MAX	65536
#define AUTOREPLY_KEY_SIZE	48	/* a prefix, 32 hex digits, NUL */
#define AUTOREPLY_LINK_MAX	(2048 + CONFIRM_TOKEN_SIZE)

/* One mail to the visitor: its templates and what they may show. */
struct autoreply_mail {
	const struct tmpl	*subject, *text, *html;
	const char		*auto_submitted;
	const struct form	*post;	/* NULL: no field values */
	const char		*link;	/* the confirmation link, or NULL */
};

/*
 * A key of the "seen once" set: prefix and 16 octets of SHA-256 over the
 * form (NULL: none) and the mailbox's canonical key (or, for autook:, the
 * exact address), in hex; so the table holds no address.
 */
static void
autoreply_key(const char *prefix, const char *form, const char *canon,
    char out[AUTOREPLY_KEY_SIZE])
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	EVP_MD_CTX	*ctx = EVP_MD_CTX_new();
	size_t		 n = strlen(prefix);

	memset(md, 0, sizeof(md));
	if (ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    (form == NULL || (EVP_DigestUpdate(ctx, form, strlen(form)) == 1 &&
	    EVP_DigestUpdate(ctx, "\n", 1) == 1)) &&
	    EVP_DigestUpdate(ctx, canon, strlen(canon)) == 1)
		EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	memcpy(out, prefix, n);
	text_hex(md, 16, out + n);
}

/*
 * 1 when the mailbox may have one more mail: the once key (prefix) of
 * the mailbox stored for auto_per_address, and the day's budget of all
 * autoreplies admits one.  0 (logged) otherwise, and on table errors.
 */
static int
autoreply_budget(const struct conf_form *cfm, const char *canon,
    const char *prefix, struct throttle *t, const char *id)
{
	struct throttle_key	 k;
	char			 key[AUTOREPLY_KEY_SIZE];
	int64_t			 now = throttle_now_us();
	long			 after;

	autoreply_key(prefix, NULL, canon, key);
	if (throttle_once(t, key, "", now + (int64_t)cfm->auto_per_address *
	    1000000, now, NULL, 0) != 1) {
		log_info("request id=%s autoreply skipped: this address had "
		    "one", id);
		return 0;
	}
	k = (struct throttle_key){ "auto:global", { cfm->auto_max_per_day,
	    86400 } };
	if (throttle_check(t, &k, 1, now, &after) != THROTTLE_OK) {
		log_warn("request id=%s autoreply skipped: max_per_day reached",
		    id);
		return 0;
	}
	return 1;
}

static void
autoreply_forget(struct throttle *t, const char *key, const char *id)
{
	if (throttle_forget(t, key) == -1)
		log_err("request id=%s autoreply: cannot forget a key: %m", id);
}

/*
 * Whether the address confirmed for this form: a probe of its once key
 * with an entry that expires at once (present: 0, confirmed).  A table
 * error counts as not confirmed: one more confirmation, not a reply.
 * The key is the exact address the link went to, not its mailbox key:
 * addr_canonical() folds dots and tags for every domain, which is
 * stricter for a budget but would let a confirmed bob@ stand for a
 * stranger's b.ob@ or bob-smith@ where those are other people.
 */
static int
autoreply_is_confirmed(const struct conf_form *cfm, const char *addr,
    struct throttle *t)
{
	char	 key[AUTOREPLY_KEY_SIZE];
	int64_t	 now = throttle_now_us();

	autoreply_key("autook:", cfm->id, addr, key);
	return throttle_once(t, key, "", now + 1, now, NULL, 0) == 0;
}

static void
autoreply_remember(const struct conf_form *cfm, const char *addr,
    struct throttle *t, const char *id)
{
	char	 key[AUTOREPLY_KEY_SIZE];
	int64_t	 now = throttle_now_us();

	autoreply_key("autook:", cfm->id, addr, key);
	autoreply_forget(t, key, id);	/* a probe's entry, if any */
	if (throttle_once(t, key, "1", now + (int64_t)AUTOREPLY_CONFIRMED_KEEP *
	    1000000, now, NULL, 0) == -1)
		log_err("request id=%s: cannot remember the confirmation: %m",
		    id);
}

/*
 * The variables of a mail: metadata; the link of a confirmation; for a
 * reply to a post, its single-line, non-email fields whose value passes
 * the name rule, the others empty (never the visitor's text).
 */
static size_t
autoreply_vars(const struct conf_form *cfm, const struct autoreply_mail *am,
    const char *id, const char *date, struct tmpl_var *vars)
{
	const struct form_field	*v;
	size_t			 i, nv = 0;

	for (i = 0; am->post != NULL && i < cfm->nfields &&
	    nv + 4 < AUTOREPLY_MAX_VARS; i++) {
		if (cfm->fields[i].multiline || cfm->fields[i].email)
			continue;
		v = form_get(am->post, cfm->fields[i].name);
		if (v != NULL && text_name_ok(v->value, v->value_len,
		    AUTOREPLY_NAME_MAX))
			vars[nv++] = (struct tmpl_var){ cfm->fields[i].name,
			    v->value, v->value_len, NULL, 0 };
		else {
			if (v != NULL && v->value_len > 0)
				log_info("request id=%s autoreply: field \"%s\" "
				    "left out, not a name", id,
				    cfm->fields[i].name);
			vars[nv++] = (struct tmpl_var){ cfm->fields[i].name,
			    "", 0, NULL, 0 };
		}
	}
	vars[nv++] = (struct tmpl_var){ "_form", cfm->id, strlen(cfm->id),
	    NULL, 0 };
	vars[nv++] = (struct tmpl_var){ "_date", date, strlen(date), NULL, 0 };
	if (am->link != NULL)
		vars[nv++] = (struct tmpl_var){ "_link", am->link,
		    strlen(am->link), NULL, 0 };
	else
		vars[nv++] = (struct tmpl_var){ "_id", id, strlen(id), NULL,
		    0 };
	return nv;
}

static int
autoreply_render(const struct conf_form *cfm, const struct autoreply_mail *am,
    const char *id, time_t now, struct buf *subj, struct buf *text,
    struct buf *html)
{
	struct tmpl_var		 vars[AUTOREPLY_MAX_VARS];
	struct tmpl_scope	 root;
	char			 date[64];

	message_date(now, date, sizeof(date));
	root = (struct tmpl_scope){ vars, autoreply_vars(cfm, am, id, date,
	    vars), NULL };
	return tmpl_render(am->subject, TMPL_TEXT, &root,
	    COMPOSE_MAX_SUBJECT, subj) == -1 || subj->data == NULL ||
	    text_header_ok(subj->data, subj->len) != TEXT_OK ||
	    tmpl_render(am->text, TMPL_TEXT, &root, AUTOREPLY_BODY_MAX,
	    text) == -1 || (am->html != NULL && tmpl_render(am->html,
	    TMPL_HTML, &root, AUTOREPLY_BODY_MAX, html) == -1) ? -1 : 0;
}

/* From the site (no Reply-To) to the visitor's address alone; its own
 * submission id.  Returns 0 when spooled, -1 (logged) otherwise. */
static int
autoreply_queue(const struct conf *cf, const struct conf_form *cfm,
    const char *to, const char *id, const struct autoreply_mail *am)
{
	struct message		 m;
	struct message_mailbox	 rcpt = { NULL, to };
	struct spool_meta	 meta;
	struct buf		 msg = BUF_INIT, subj = BUF_INIT;
	struct buf		 text = BUF_INIT, html = BUF_INIT;
	time_t			 now = time(NULL);
	int			 rc = -1;

	memset(&m, 0, sizeof(m));
	memset(&meta, 0, sizeof(meta));
	if (autoreply_render(cfm, am, id, now, &subj, &text, &html) == -1) {
		log_err("request id=%s autoreply could not be rendered", id);
		goto out;
	}
	if (spool_new_id(meta.id) == -1)
		goto out;
	m.from = (struct message_mailbox){ cf->from.display, cf->from.addr };
	m.to = &rcpt;
	m.nto = 1;
	m.subject = subj.data;
	m.id = meta.id;
	m.hostname = cf->message_id_domain;
	m.date = now;
	m.auto_submitted = am->auto_submitted;
	m.text = text.data ? text.data : "";
	m.text_len = text.len;
	m.html = html.data;
	m.html_len = html.len;
	if (message_build(&m, &msg) == -1) {
		log_err("request id=%s autoreply could not be built", id);
		goto out;
	}
	snprintf(meta.form, sizeof(meta.form), "%s", cfm->id);
	snprintf(meta.from, sizeof(meta.from), "%s", cf->envelope_from);
	meta.created = meta.next_try = now;
	meta.rcpt[0] = (char *)(uintptr_t)to;
	meta.nrcpt = 1;
	if (spool_commit(cf->spool_dir, &meta, msg.data, msg.len) == -1)
		log_err("request id=%s autoreply not spooled: %m", id);
	else {
		log_info("request id=%s %s queued as %s", id, am->link ?
		    "confirmation" : "autoreply", meta.id);
		rc = 0;
	}
out:
	buf_free(&msg);
	buf_free(&subj);
	buf_free(&text);
	buf_free(&html);
	return rc;
}

/* The confirmation of a post: the link alone. */
static void
autoreply_ask(const struct conf *cf, const struct conf_form *cfm,
    const char *to, const unsigned char *key, const char *id)
{
	struct autoreply_mail	 am;
	char			 tok[CONFIRM_TOKEN_SIZE];
	char			 link[AUTOREPLY_LINK_MAX];

	if (confirm_make(key, cfm->id, to, id, time(NULL) + CONFIRM_TTL,
	    tok) == -1 || snprintf(link, sizeof(link), "%s?t=%s",
	    cfm->auto_confirm_url, tok) >= (int)sizeof(link)) {
		log_err("request id=%s confirmation link not made", id);
		return;
	}
	am = (struct autoreply_mail){ cfm->auto_confirm_subject,
	    cfm->auto_confirm_text, cfm->auto_confirm_html, "auto-generated",
	    NULL, link };
	(void)autoreply_queue(cf, cfm, to, id, &am);
}

void
autoreply_send(const struct conf *cf, const struct conf_form *cfm,
    const struct form *f, struct throttle *t,
    const unsigned char *confirm_key, const char *id)
{
	const struct form_field	*to;
	struct autoreply_mail	 am;
	char			 canon[ADDR_MAX + 1];

	if (cfm->auto_text == NULL || t == NULL ||
	    (to = form_get(f, cfm->auto_field)) == NULL || to->value_len == 0 ||
	    !form_reply_addr_ok(to) ||
	    addr_canonical(to->value, to->value_len, canon, sizeof(canon)) ==
	    -1)
		return;
	if (cfm->auto_confirm && confirm_key == NULL) {
		log_err("request id=%s autoreply skipped: no confirmation key",
		    id);
		return;
	}
	if (!autoreply_budget(cfm, canon, "auto:", t, id))
		return;
	if (cfm->auto_confirm && !autoreply_is_confirmed(cfm, to->value, t)) {
		autoreply_ask(cf, cfm, to->value, confirm_key, id);
		return;
	}
	am = (struct autoreply_mail){ cfm->auto_subject, cfm->auto_text,
	    cfm->auto_html, "auto-replied", f, NULL };
	(void)autoreply_queue(cf, cfm, to->value, id, &am);
}

enum autoreply_result
autoreply_confirm(const struct conf *cf, const struct conf_form *cfm,
    struct throttle *t, const unsigned char *confirm_key, const char *tok,
    size_t len)
{
	struct confirm_claim	 c;
	struct autoreply_mail	 am;
	char			 key[AUTOREPLY_KEY_SIZE];
	int64_t			 now = throttle_now_us();
	int			 rc;

	if (!cfm->auto_confirm)
		return AUTOREPLY_INVALID;
	if (confirm_key == NULL || t == NULL)
		return AUTOREPLY_ERROR;		/* ours to fix, not the link */
	switch (confirm_check(confirm_key, cfm->id, tok, len, time(NULL),
	    &c)) {
	case CONFIRM_OK:
		break;
	case CONFIRM_EEXPIRED:
		return AUTOREPLY_EXPIRED;
	default:
		return AUTOREPLY_INVALID;
	}
	snprintf(key, sizeof(key), "autoused:%.32s", c.mac);
	if ((rc = throttle_once(t, key, "", (int64_t)c.expires * 1000000,
	    now, NULL, 0)) == -1)
		return AUTOREPLY_ERROR;
	if (rc == 0)
		return AUTOREPLY_USED;
	/* Nothing sent: the link stays usable (a later try, within budget). */
	if (!autoreply_budget(cfm, c.canon, "autoc:", t, c.id)) {
		autoreply_forget(t, key, c.id);
		return AUTOREPLY_LIMITED;
	}
	am = (struct autoreply_mail){ cfm->auto_subject, cfm->auto_text,
	    cfm->auto_html, "auto-replied", NULL, NULL };
	if (autoreply_queue(cf, cfm, c.addr, c.id, &am) == -1) {
		autoreply_forget(t, key, c.id);
		return AUTOREPLY_ERROR;
	}
	autoreply_remember(cfm, c.addr, t, c.id);
	return AUTOREPLY_SENT;
}
