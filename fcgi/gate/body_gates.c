/*
 * body_gates: the gates that judge a post by its parsed body (gate.h):
 * challenge, captcha, fields, honeypot, content, duplicate.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "gate/challenge.h"
#include "gate/gate.h"
#include "gate/spam.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "spool/spool.h"

#define DUP_PENDING	"pending"	/* not a submission id */

static void
invalid(struct gate_out *o, const char *field, const char *code,
    const char *outcome)
{
	o->verdict = GATE_INVALID;
	o->errs[0] = (struct validate_error){ field, code };
	o->nerr = 1;
	o->outcome = outcome;
}

/* The ALTCHA payload (docs/DESIGN.md "Challenge"): valid, not expired,
 * solved, and never seen before (an entry per payload in the replay
 * store, which never forgets one before its expiry).  NULL: it passes;
 * else why not, with *down the errno when the store could not answer
 * (ENOSPC: full; -1: no store). */
static const char *
challenge_why(struct gate_in *in, int *down)
{
	const struct form_field	*p = form_get(in->post, CHALLENGE_FIELD);
	enum challenge_result	 r;
	char			 rkey[CHALLENGE_REPLAY_KEY_SIZE];
	time_t			 expires = 0;
	int			 once;

	if (p == NULL || p->value_len == 0)
		return "missing";
	r = challenge_verify(in->altcha_key, p->value, p->value_len,
	    in->form->altcha_max_number, in->form->altcha_min_seconds,
	    time(NULL), rkey, sizeof(rkey), &expires);
	if (r != CHALLENGE_OK)
		return challenge_result_name(r);
	*down = -1;
	if (in->replay == NULL)
		return "no replay store";
	once = throttle_once(in->replay, rkey, "", (int64_t)(expires + 1) *
	    1000000, throttle_now_us(), NULL, 0);
	if (once == -1) {
		*down = errno;
		return errno == ENOSPC ? "replay store full" : strerror(errno);
	}
	*down = 0;
	return once == 0 ? "replayed" : NULL;
}

/* A payload the store cannot record is refused, never let through
 * twice: 503, try later (full: until payloads expire, at most the
 * form's challenge "expires"). */
static void
challenge(struct gate_in *in, struct gate_out *o)
{
	const char	*why;
	int		 down = 0;

	if (!in->form->altcha || (why = challenge_why(in, &down)) == NULL)
		return;
	if (down != 0) {
		log_err("request id=%s challenge refused: %s%s", in->id,
		    down == ENOSPC || down == -1 ? "" : "replay store: ", why);
		gate_refuse(o, 503, "replay_unavailable", LANG_TRY_LATER, 60);
		return;
	}
	log_info("request id=%s challenge refused: %s", in->id, why);
	invalid(o, CHALLENGE_FIELD, "challenge", "challenge_failed");
}

enum captcha_kind
gate_captcha_kind(enum conf_captcha_kind k)
{
	_Static_assert(CONF_CAPTCHA_RECAPTCHA_V3 - CONF_CAPTCHA_TURNSTILE ==
	    CAPTCHA_RECAPTCHA_V3 - CAPTCHA_TURNSTILE, "captcha kinds");
	return (enum captcha_kind)(k - CONF_CAPTCHA_TURNSTILE);
}

/* The provider's verdict on the widget's token; the provider down, or
 * its cap of calls in flight full, is 503 (fail closed). */
static void
captcha(struct gate_in *in, struct gate_out *o)
{
	const struct form_field	*t;
	enum captcha_result	 r;
	enum captcha_kind	 k;
	char			 why[256];

	if (in->form->captcha.kind == CONF_CAPTCHA_NONE)
		return;
	k = gate_captcha_kind(in->form->captcha.kind);
	t = form_get(in->post, captcha_field(k));
	why[0] = '\0';
	r = captcha_verify(in->captcha, t ? t->value : "", t ? t->value_len :
	    0, in->ip[0] ? in->ip : NULL, why, sizeof(why));
	if (r == CAPTCHA_OK)
		return;
	log_warn("request id=%s captcha %s: %s", in->id,
	    captcha_result_name(r), why);
	if (r == CAPTCHA_UNAVAILABLE) {
		gate_refuse(o, 503, "captcha_unavailable", LANG_CAPTCHA_DOWN,
		    30);
		return;
	}
	/* The provider's cap is full (issue 16, F12): at once, the same
	 * answer as the provider down. */
	if (r == CAPTCHA_BUSY) {
		gate_refuse(o, 503, "captcha_busy", LANG_CAPTCHA_DOWN, 30);
		return;
	}
	invalid(o, captcha_field(k), "captcha", "captcha_failed");
}

/* The form's field rules, its uploads, then what the post may decide
 * (form/resolve.h); every error at once, as 422 "invalid". */
static void
fields(struct gate_in *in, struct gate_out *o)
{
	size_t	 n;

	n = validate_form(in->form, in->post, o->errs, VALIDATE_MAX_ERRORS);
	n = validate_files(in->form, in->post, o->errs, n);
	n = form_resolve(in->form, in->post, &in->route, o->errs, n);
	if (n == 0)
		return;
	o->verdict = GATE_INVALID;
	o->nerr = n < VALIDATE_MAX_ERRORS ? n : VALIDATE_MAX_ERRORS;
	o->outcome = "invalid";
}

/* The names users bring from other form services (issue 4, item 5). */
static const char *const honeypots[] = { "_gotcha", "_honey", "botcheck" };

/* Is name a field the form's config names (then it is never an alias)? */
static int
is_field(const struct conf_form *cf, const char *name)
{
	size_t	 i;

	for (i = 0; i < cf->nfields; i++)
		if (strcmp(cf->fields[i].name, name) == 0)
			return 1;
	return 0;
}

/* A filled honeypot, or spam by content: answered exactly like an
 * accepted post (after the same checks, with the same redirect), and
 * nothing is sent. */
static void
honeypot(struct gate_in *in, struct gate_out *o)
{
	const struct form_field	*v;
	size_t			 i;
	int			 hit = 0;

	if (in->form->honeypot != NULL && (v = form_get(in->post,
	    in->form->honeypot)) != NULL && v->value_len > 0)
		hit = 1;
	for (i = 0; !hit && i < sizeof(honeypots) / sizeof(honeypots[0]); i++)
		if ((v = form_get(in->post, honeypots[i])) != NULL &&
		    v->value_len > 0 && !is_field(in->form, honeypots[i]))
			hit = 1;
	if (hit) {
		o->verdict = GATE_SILENT;
		o->outcome = "honeypot";
	}
}

/* The content rules on every visitor-typed value that reaches the
 * mail, the route's subject, Reply-To and name included (issue 16, F7). */
static void
content(struct gate_in *in, struct gate_out *o)
{
	const char	*why = validate_content(in->form, in->post, &in->route);

	if (why != NULL) {
		o->verdict = GATE_SILENT;
		o->outcome = why[0] == 'l' ? "spam_links" : "spam_phrase";
	}
}

/* "dup:" and the first 16 octets of SHA-256 over form, client and every
 * field (lengths first, so no two posts hash the same bytes) but the
 * ALTCHA payload, and the files.  The key format is kept across
 * versions: a restart must not forget the window. */
static int
dup_key(const struct gate_in *in, char *key, size_t keysize)
{
	const struct form	*f = in->post;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0;
	EVP_MD_CTX		*mc;
	uint64_t		 n;
	size_t			 i;
	int			 rc;

	if ((mc = EVP_MD_CTX_new()) == NULL)
		return -1;
	EVP_DigestInit_ex(mc, EVP_sha256(), NULL);
	EVP_DigestUpdate(mc, in->form->id, strlen(in->form->id) + 1);
	EVP_DigestUpdate(mc, in->ip, strlen(in->ip) + 1);
	for (i = 0; i < f->nfields; i++) {
		if (strcmp(f->fields[i].name, CHALLENGE_FIELD) == 0)
			continue;	/* a fresh payload each time */
		n = f->fields[i].name_len;
		EVP_DigestUpdate(mc, &n, sizeof(n));
		EVP_DigestUpdate(mc, f->fields[i].name, n);
		n = f->fields[i].value_len;
		EVP_DigestUpdate(mc, &n, sizeof(n));
		EVP_DigestUpdate(mc, f->fields[i].value, n);
	}
	for (i = 0; i < f->nfiles; i++) {
		n = f->files[i].len;
		EVP_DigestUpdate(mc, &n, sizeof(n));
		if (f->files[i].data != NULL)
			EVP_DigestUpdate(mc, f->files[i].data, n);
	}
	EVP_DigestFinal_ex(mc, md, &mdlen);
	EVP_MD_CTX_free(mc);
	rc = snprintf(key, keysize, "dup:");
	for (i = 0; i < 16 && i < mdlen; i++)
		rc += snprintf(key + rc, keysize - (size_t)rc, "%02x", md[i]);
	return 0;
}

/*
 * The same post again within duplicate_window: the first one's answer
 * (its id), nothing sent.  The key says "pending" until the first post's
 * commit is durable (gate_dup_record): a repeat meanwhile must not be told
 * "accepted" for what may still fail, so it gets 503.
 */
static void
duplicate(struct gate_in *in, struct gate_out *o)
{
	char	 first[THROTTLE_VALUE_MAX + 1];
	int	 rc;

	in->dupkey[0] = '\0';
	if (in->throttle == NULL || in->cf->duplicate_window <= 0 ||
	    dup_key(in, in->dupkey, sizeof(in->dupkey)) == -1)
		return;
	rc = throttle_once(in->throttle, in->dupkey, DUP_PENDING,
	    throttle_now_us() + (int64_t)in->cf->duplicate_window * 1000000,
	    throttle_now_us(), first, sizeof(first));
	if (rc == 1)
		return;
	in->dupkey[0] = '\0';
	if (rc != 0)
		return;		/* the store failed: no duplicate check */
	if (!spool_id_valid(first)) {
		gate_refuse(o, 503, "duplicate_in_flight", LANG_DUPLICATE, 2);
		return;
	}
	memcpy(in->id, first, SPOOL_ID_LEN + 1);
	o->verdict = GATE_REPEAT;
	o->outcome = "duplicate";
}

void
gate_dup_record(const struct gate_in *in)
{
	if (in->dupkey[0] == '\0')
		return;		/* no duplicate check for this post */
	if (throttle_forget(in->throttle, in->dupkey) == -1 ||
	    throttle_once(in->throttle, in->dupkey, in->id, throttle_now_us() +
	    (int64_t)in->cf->duplicate_window * 1000000, throttle_now_us(),
	    NULL, 0) == -1)
		log_warn("request id=%s: duplicate key not recorded", in->id);
}

const struct gate gate_body[] = {
	{ "challenge", challenge },
	{ "captcha", captcha },
	{ "fields", fields },
	{ "honeypot", honeypot },
	{ "content", content },
	{ "duplicate", duplicate },
};
const size_t gate_nbody = sizeof(gate_body) / sizeof(gate_body[0]);

/* The message gate: rspamd on the notification as it will be spooled. */
static void
rspamd(struct gate_in *in, struct gate_out *o)
{
	enum spam_verdict	 v;
	double			 score = 0;
	char			 why[512];

	if (in->spam == NULL)
		return;
	v = spam_check(in->spam, in->msg->data, in->msg->len, in->ip[0] ?
	    in->ip : NULL, in->meta->from, (const char *const *)in->meta->rcpt,
	    in->meta->nrcpt, NULL, NULL, in->id, &score, why, sizeof(why));
	switch (v) {
	case SPAM_HAM:
		return;
	case SPAM_UNAVAILABLE:
		log_err("request id=%s rspamd unavailable (%s): %s", in->id,
		    in->cf->spam.fail_open ? "spooled anyway, fail_open" :
		    "refused", why);
		if (!in->cf->spam.fail_open)
			gate_refuse(o, 503, "rspamd_unavailable",
			    LANG_NOT_CHECKED, 60);
		return;
	case SPAM_HOLD:
		o->verdict = GATE_HOLD;
		o->outcome = "held";
		break;
	case SPAM_REJECT:
		o->verdict = GATE_SILENT;
		o->outcome = "spam_rspamd";
		break;
	}
	log_warn("request id=%s rspamd %s score=%.2f: %s", in->id,
	    spam_verdict_name(v), score, why);
}

const struct gate gate_message[] = {
	{ "rspamd", rspamd },
};
const size_t gate_nmessage = sizeof(gate_message) / sizeof(gate_message[0]);
