/*
 * gate: the abuse gates of a post (docs/DESIGN.md "Gates"), one
 * signature, run from tables in a fixed order.  A gate reads the facts of
 * the request (struct gate_in, copied once by http/), decides, and says
 * so in a struct gate_out; it never writes an answer.  http/'s
 * answer_verdict() turns a verdict into the HTTP answer.
 *
 * The head gates (before the body is read) run from gate_head[], the
 * body gates (on the parsed post) from gate_body[], the message gate
 * (rspamd on the rendered notification) from gate_message[].
 */
#ifndef F2M_GATE_H
#define F2M_GATE_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "form/form.h"
#include "form/resolve.h"
#include "form/validate.h"
#include "gate/captcha.h"
#include "lib/lang.h"
#include "throttle/throttle.h"

struct buf;
struct spam;
struct spool_meta;

enum gate_verdict {
	GATE_PASS = 0,	/* next gate */
	GATE_REFUSE,	/* an error answer: status, message, Retry-After */
	GATE_INVALID,	/* 422 with field errors */
	GATE_SILENT,	/* answered as accepted, nothing sent (honeypot...) */
	GATE_REPEAT,	/* a duplicate: the first post's answer, nothing sent */
	GATE_HOLD	/* kept in held/ for the admin */
};

/* What the gates read: filled by http/ from the request, never by a
 * gate, except the fields marked "out", which a gate sets for the next
 * steps. */
struct gate_in {
	const struct conf	*cf;
	const struct conf_form	*form;		/* the form posted to */
	struct throttle		*throttle;	/* NULL: no rate limits */
	const char		*ip;		/* client address, "" unknown */
	const char		*ip_why;	/* ip "": why, for the log */
	int			 https;		/* came over HTTPS */
	const char		*origin;	/* Origin, NULL: absent */
	const char		*referer;	/* Referer, NULL: absent */
	const char		*content_type;	/* NULL: absent */
	const char		*content_length; /* NULL: absent */
	int64_t			 now_us;	/* throttle_now_us() */
	enum form_kind		 kind;		/* out: by the type gate */
	unsigned long long	 length;	/* out: by the length gate */
	/* The body gates. */
	const struct form	*post;		/* the parsed body */
	const unsigned char	*altcha_key;	/* NULL: no ALTCHA key */
	struct throttle		*replay;	/* ALTCHA payloads used; NULL:
						   none (ALTCHA refused) */
	struct captcha		*captcha;	/* the form's client, or NULL */
	char			*id;		/* the submission id; REPEAT:
						   set to the first post's */
	struct form_route	 route;		/* out: by the fields gate */
	char			 dupkey[THROTTLE_KEY_MAX + 1]; /* out: by the
						   duplicate gate; "": none */
	/* The message gate. */
	struct spam		*spam;		/* NULL: no rspamd check */
	const struct buf	*msg;		/* the rendered notification */
	const struct spool_meta	*meta;		/* its envelope */
};

struct gate_out {
	enum gate_verdict	 verdict;
	int			 status;	/* REFUSE: HTTP status */
	const char		*outcome;	/* log and counter word */
	enum lang_msg		 message;	/* REFUSE: the visitor's text */
	long			 retry_after;	/* seconds; 0: no Retry-After */
	struct validate_error	 errs[VALIDATE_MAX_ERRORS]; /* INVALID */
	size_t			 nerr;
};

typedef void	 gate_fn(struct gate_in *, struct gate_out *);

struct gate {
	const char	*name;
	gate_fn		*fn;
};

/* The head gates, in docs/DESIGN.md's order: rate (every POST to a known
 * form is charged, valid or not; with a per-client rate, a post without
 * a client IP address is refused 503 "no_client_ip"), https, origin,
 * type, length. */
extern const struct gate	 gate_head[];
extern const size_t		 gate_nhead;

/* The body gates, in docs/DESIGN.md's order: challenge (ALTCHA),
 * captcha, fields (rules, uploads, route, Reply-To, subject), honeypot,
 * content, duplicate. */
extern const struct gate	 gate_body[];
extern const size_t		 gate_nbody;

/* The message gate, on the rendered notification (in->msg, in->meta):
 * rspamd.  Reject: GATE_SILENT "spam_rspamd" (nothing kept); hold:
 * GATE_HOLD "held" (kept in held/); no verdict: 503 "rspamd_unavailable"
 * with Retry-After 60, unless spam.fail_open (logged, then GATE_PASS). */
extern const struct gate	 gate_message[];
extern const size_t		 gate_nmessage;

/*
 * After the duplicate gate let a post through with in->dupkey set:
 * records the post's id under the key once its outcome is final (the
 * notification committed, or dropped as spam), so a repeat within
 * duplicate_window gets the same answer.  No-op for an empty key.
 */
void	 gate_dup_record(const struct gate_in *in);

/* conf.h's captcha kind as captcha.h's (same order; CONF_CAPTCHA_NONE
 * must not be passed). */
enum captcha_kind	 gate_captcha_kind(enum conf_captcha_kind);

/*
 * Runs the n gates of tab in order on in, until one says other than
 * GATE_PASS.  Returns that gate (out holds its verdict), or NULL when all
 * passed (out->verdict GATE_PASS).
 */
const struct gate	*gate_run(const struct gate *tab, size_t n,
			    struct gate_in *in, struct gate_out *out);

/* Sets out to GATE_REFUSE with the HTTP status, the log and counter word,
 * the visitor's message and the Retry-After seconds (0: none). */
void	 gate_refuse(struct gate_out *out, int status, const char *outcome,
	    enum lang_msg message, long retry_after);

/* The origin part (scheme://host[:port]) of an absolute URL: its length,
 * 0 when url is not absolute. */
size_t	 gate_origin_len(const char *url);

#endif
