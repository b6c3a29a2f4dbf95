/*
 * request: one HTTP request arriving over FastCGI (untrusted data!): its
 * parameters and body, read within the limits of the config, the
 * submission pipeline (form -> validate -> tmpl -> message -> spool), and
 * the answer of docs/DESIGN.md "HTTP answers".
 */
#ifndef F2M_REQUEST_H
#define F2M_REQUEST_H

#include <fcgiapp.h>

#include <stddef.h>

struct captcha;
struct conf;
struct enc_set;
struct spam;
struct stats;
struct throttle;

/* Longest request path considered; longer ones are answered 414. */
#define REQUEST_MAX_URI		4096

/*
 * What a worker holds while it serves: the config, the shared throttle
 * table and the ALTCHA replay store (opened by the master before the
 * fork; with Redis one handle), the ALTCHA HMAC key, and
 * per-process clients (one libcurl handle each) for captcha providers and
 * rspamd.  Nothing here is a DKIM key or the SMTP password.  Filled by
 * svc/worker.h's worker_env_open().
 */
struct request_ctx {
	const struct conf	*cf;
	struct throttle		*throttle;	/* NULL: no limits, no dedupe */
	struct throttle		*replay;	/* ALTCHA replays; NULL: none */
	const unsigned char	*altcha_key;	/* NULL: no form has one */
	const unsigned char	*confirm_key;	/* autoresponder.confirm's
						   (mail/confirm.h); NULL:
						   no form has one */
	struct captcha		**captcha;	/* per form, in cf->forms order */
	struct spam		*spam;		/* NULL: no rspamd check */
	struct stats		*stats;		/* NULL: no counters */
	const struct enc_set	*enc;		/* keys of encrypted forms
						   (mail/enc_key.h); NULL:
						   none loaded */
};

/*
 * Handles one request accepted by FCGX_Accept_r() and writes its answer.
 * Never exits and never answers "accepted" before the message is durable
 * in the spool.  Logs one line per request: id, form, outcome, status,
 * milliseconds.
 */
void	 request_handle(const struct request_ctx *, FCGX_Request *);

/* The same for one CGI request: parameters from the environment, the
 * body from stdin, the answer to stdout. */
void	 request_handle_cgi(const struct request_ctx *);

/*
 * form2mail send-test: builds a submission of the form form_id from sample
 * values that pass its field rules (the first route choice when routed),
 * and commits it to the spool like a post.  Writes the submission id into
 * id.  Returns 0 when queued, -1 otherwise (logged).
 */
int	 request_send_test(const struct request_ctx *, const char *form_id,
	    char *id, size_t idsize);

#endif
