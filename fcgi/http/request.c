/*
 * request: one FastCGI or CGI request (request.h): dispatch (POST,
 * OPTIONS, GET challenge, _metrics), the log line and the counters, and
 * the long-lived clients of a worker (request_ctx).
 */
#include "http/http_int.h"


/* GET .../<form>/challenge: a fresh ALTCHA challenge for the widget. */
static void
req_challenge(struct req *q)
{
	struct buf	 b = BUF_INIT;

	if (!q->form->altcha || q->ctx->altcha_key == NULL) {
		req_fail(q, 404, NULL, "no_challenge", LANG_NO_FORM);
		return;
	}
	if (challenge_create(q->ctx->altcha_key, q->form->altcha_max_number,
	    time(NULL), q->form->altcha_expires, &b) == -1) {
		buf_free(&b);
		req_fail(q, 503, NULL, "challenge_error", LANG_TRY_LATER);
		return;
	}
	q->outcome = "challenge";
	req_send(q, 200, "application/json", NULL, b.data, b.len);
	buf_free(&b);
}















/*
 * The client address (docs/DESIGN.md "Throttle"): REMOTE_ADDR, or when it
 * is not an IP address (a unix-socket listener in front) the address in
 * throttle.client_ip_header; none: q->ip "" and q->ip_why the cause.
 */
static void
req_client_ip(struct req *q)
{
	const struct conf_throttle	*t = &q->cf->throttle;
	const char			*ra, *hv = NULL;
	char				 e1[80], e2[80];
	int				 rc;

	ra = req_param(q, "REMOTE_ADDR");
	if (t->client_ip_param != NULL && (hv = req_param(q,
	    t->client_ip_param)) == NULL)
		hv = "";
	rc = throttle_client_addr(ra, hv, t->client_ip_last, q->ip,
	    sizeof(q->ip));
	q->ip_forwarded = rc == 1;
	if (rc != -1)
		return;
	log_escape(e1, sizeof(e1), ra != NULL ? ra : "", ra != NULL ?
	    strlen(ra) : 0);
	if (hv == NULL)
		snprintf(q->ip_why, sizeof(q->ip_why), "REMOTE_ADDR \"%s\" is "
		    "not an IP address (behind a unix-socket listener, set "
		    "throttle.client_ip_header)", e1);
	else
		snprintf(q->ip_why, sizeof(q->ip_why), "REMOTE_ADDR \"%s\" is "
		    "not an IP address, nor is client_ip_header %s \"%s\"", e1,
		    t->client_ip_header, log_escape(e2, sizeof(e2), hv,
		    strlen(hv)));
}

/* The counter of each outcome word that has its own; the others count
 * by their status (req_status_counters). */
static const struct {
	const char		*word;
	enum stats_counter	 counter;
} req_outcome_counters[] = {
	{ "accepted", STATS_ACCEPTED },
	{ "held", STATS_ACCEPTED },		/* and STATS_HELD */
	{ "honeypot", STATS_SPAM },
	{ "spam_links", STATS_SPAM },
	{ "spam_phrase", STATS_SPAM },
	{ "spam_rspamd", STATS_SPAM },
	{ "duplicate", STATS_DUPLICATE },
	{ "challenge_failed", STATS_CHALLENGE },
	{ "captcha_failed", STATS_CHALLENGE },
	{ "invalid", STATS_INVALID },
};

static const struct {
	int			 status;
	enum stats_counter	 counter;
} req_status_counters[] = {
	{ 429, STATS_THROTTLED }, { 403, STATS_FORBIDDEN },
	{ 413, STATS_TOO_LARGE }, { 415, STATS_BAD_TYPE },
	{ 404, STATS_NOT_FOUND }, { 405, STATS_BAD_METHOD },
	{ 400, STATS_BAD_REQUEST }, { 414, STATS_BAD_REQUEST },
};

/* One counter per answered request (stats.h), by outcome and status. */
static void
req_count(const struct req *q)
{
	struct stats	*s = q->ctx->stats;
	size_t		 i;

	for (i = 0; i < sizeof(req_outcome_counters) /
	    sizeof(req_outcome_counters[0]); i++)
		if (strcmp(q->outcome, req_outcome_counters[i].word) == 0) {
			stats_inc(s, req_outcome_counters[i].counter);
			if (strcmp(q->outcome, "held") == 0)
				stats_inc(s, STATS_HELD);
			return;
		}
	for (i = 0; i < sizeof(req_status_counters) /
	    sizeof(req_status_counters[0]); i++)
		if (q->status == req_status_counters[i].status) {
			stats_inc(s, req_status_counters[i].counter);
			return;
		}
	if (q->status >= 500)
		stats_inc(s, STATS_UNAVAILABLE);
}

/* GET <prefix>/_metrics from an allowed address: Prometheus text. */
static int
req_metrics(struct req *q, const char *id, size_t idlen)
{
	struct buf		 b = BUF_INIT;
	struct stats_queue	 sq;
	size_t			 i;

	if (idlen != 8 || memcmp(id, "_metrics", 8) != 0)
		return 0;
	for (i = 0; i < q->cf->nmetrics_allow; i++)
		if (strcmp(q->cf->metrics_allow[i], q->ip) == 0)
			break;
	/* REMOTE_ADDR's address only, never one a header claims. */
	if (i == q->cf->nmetrics_allow || q->ip_forwarded ||
	    q->ctx->stats == NULL) {
		req_fail(q, 404, NULL, "unknown_form", LANG_NO_FORM);
		return 1;
	}
	q->outcome = "metrics";
	spool_census(q->cf->spool_dir, &sq);
	if (stats_render(q->ctx->stats, &sq, &b) == -1)
		req_fail(q, 503, NULL, "metrics_error", LANG_TRY_LATER);
	else
		req_send(q, 200, "text/plain; version=0.0.4; charset=utf-8",
		    NULL, b.data, b.len);
	buf_free(&b);
	return 1;
}

void
request_handle(const struct request_ctx *ctx, FCGX_Request *r)
{
	struct req	 q;
	struct timespec	 t1;
	const char	*method, *id;
	size_t		 idlen;
	enum req_sub	 sub;

	memset(&q, 0, sizeof(q));
	q.ctx = ctx;
	q.cf = ctx->cf;
	q.r = r;
	q.outcome = "error";
	clock_gettime(CLOCK_MONOTONIC, &q.t0);
	q.json = req_wants_json(&q);
	q.lang = req_lang(&q, LANG_ALL);
	req_client_ip(&q);
	method = req_param(&q, "REQUEST_METHOD");
	if (method == NULL)
		method = "";

	if (req_form_id(&q, &id, &idlen, &sub) == -1)
		req_fail(&q, 414, NULL, "uri_too_long", LANG_BAD_REQUEST);
	else if (sub == REQ_SUB_FORM && strcmp(method, "GET") == 0 &&
	    req_metrics(&q, id, idlen))
		;
	else if ((q.form = conf_form_find(q.cf, id, idlen)) == NULL)
		req_fail(&q, 404, NULL, "unknown_form", LANG_NO_FORM);
	else if (sub == REQ_SUB_CONFIRM)
		req_confirm(&q, method);
	else if (sub == REQ_SUB_CHALLENGE) {
		if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
			req_challenge(&q);
		else
			req_fail(&q, 405, "Allow: GET\r\n", "bad_method",
			    LANG_CHALLENGE_ONLY);
	}
	else if (strcmp(method, "OPTIONS") == 0) {
		q.cors = req_cors_origin(&q);
		req_preflight(&q);
	} else if (strcmp(method, "POST") != 0)
		req_fail(&q, 405, "Allow: POST, OPTIONS\r\n", "bad_method",
		    LANG_POST_ONLY);
	else {
		q.cors = req_cors_origin(&q);
		req_post(&q);
	}

	req_count(&q);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_info("request id=%s form=\"%s\" ip=%s outcome=%s status=%d ms=%ld",
	    q.id[0] ? q.id : "-", q.formname, q.ip[0] ? q.ip : "-", q.outcome,
	    q.status, (long)((t1.tv_sec - q.t0.tv_sec) * 1000 +
	    (t1.tv_nsec - q.t0.tv_nsec) / 1000000));
}

void
request_handle_cgi(const struct request_ctx *ctx)
{
	request_handle(ctx, NULL);
}
