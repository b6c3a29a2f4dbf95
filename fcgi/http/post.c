/*
 * post: the pipeline of a POST (docs/DESIGN.md "Gates"): the head gates,
 * the body read and parsed, the body gates, the notification (rspamd,
 * commit), the answer, the duplicate window's record, the autoreply.
 */
#include "http/http_int.h"
#include "mail/autoreply.h"

/* The facts the gates read, copied once from the request. */
static void
gate_facts(struct req *q, struct gate_in *in)
{
	*in = (struct gate_in){ .cf = q->cf, .form = q->form,
	    .throttle = q->ctx->throttle, .replay = q->ctx->replay,
	    .ip = q->ip, .ip_why = q->ip_why,
	    .https = req_is_https(q),
	    .origin = req_param(q, "HTTP_ORIGIN"),
	    .referer = req_param(q, "HTTP_REFERER"),
	    .content_type = req_param(q, "CONTENT_TYPE"),
	    .content_length = req_param(q, "CONTENT_LENGTH"),
	    .now_us = throttle_now_us(), .altcha_key = q->ctx->altcha_key,
	    .captcha = q->ctx->captcha != NULL ?
	    q->ctx->captcha[q->form - q->cf->forms] : NULL, .id = q->id };
}

/* The body's limits by its kind; a form without uploads still parses
 * FormData, noting file parts (422 "file") without keeping their data. */
static enum form_err
parse(struct req *q, const struct gate_in *in, const char *body,
    struct form **f)
{
	struct form_limits	 fl;

	switch (in->kind) {
	case FORM_KIND_MULTIPART:
		fl.max_fields = q->cf->max_fields + q->form->up_max_files;
		fl.max_part_header = FORM_MAX_PART_HEADER;
		if (q->form->up_allowed != NULL) {
			fl.max_files = q->form->up_max_files;
			fl.max_file_size = q->form->up_max_file_size;
			fl.max_total = q->form->up_max_total;
		} else {
			fl.max_files = fl.max_fields;
			fl.max_file_size = 0;
			fl.max_total = 0;
		}
		return form_parse_multipart(body, (size_t)in->length,
		    in->content_type, &fl, f);
	case FORM_KIND_JSON:
		return form_parse_json(body, (size_t)in->length,
		    q->cf->max_fields, f);
	default:
		return form_parse_urlencoded(body, (size_t)in->length,
		    q->cf->max_fields, f);
	}
}

/*
 * The intake: the body read (CONTENT_LENGTH octets, checked by the head
 * gates), parsed, every value within max_value, the submission id made
 * (before the body gates: a honeypot's answer carries one too).  Returns
 * 0 with *f set, or -1 once the error answer is sent.
 */
static int
intake(struct req *q, const struct gate_in *in, char **body,
    struct form **f)
{
	enum form_err	 fe;
	size_t		 i, got;
	int		 n;

	if ((*body = malloc((size_t)in->length + 1)) == NULL) {
		req_fail(q, 503, NULL, "no_memory", LANG_TRY_LATER);
		return -1;
	}
	for (got = 0; got < in->length; got += (size_t)n)
		if ((n = req_read(q, *body + got, in->length - got)) <= 0)
			break;
	if (got != in->length) {
		req_fail(q, 400, NULL, "short_body", LANG_BAD_REQUEST);
		return -1;
	}
	fe = parse(q, in, *body, f);
	if (fe == FORM_ETOOMANY || fe == FORM_ETOOBIG) {
		req_fail(q, 413, NULL, "too_many_fields", LANG_TOO_MANY);
		return -1;
	}
	if (fe != FORM_OK) {
		req_fail(q, fe == FORM_ENOMEM ? 503 : 400, NULL, "bad_body",
		    LANG_BAD_REQUEST);
		return -1;
	}
	for (i = 0; i < (*f)->nfields; i++)
		if ((*f)->fields[i].value_len > q->cf->max_value) {
			req_fail(q, 413, NULL, "value_too_large",
			    LANG_VALUE_TOO_LARGE);
			return -1;
		}
	if (spool_new_id(q->id) == -1) {
		req_fail(q, 503, NULL, "no_random", LANG_TRY_LATER);
		return -1;
	}
	return 0;
}

/*
 * The notification: composed, judged by the message gate, committed
 * (req_submit), then answered.  The duplicate window's key is forgotten
 * when the post failed after the body gates, recorded when its outcome is
 * final (committed, or dropped as spam); the autoreply only once the
 * notification is queued.
 */
static void
submit(struct req *q, const struct form *f, struct gate_in *in)
{
	struct gate_out	 go;
	int		 rc;

	rc = req_submit(q, f, &go);
	if ((rc < 0 || go.verdict == GATE_REFUSE) && in->dupkey[0] != '\0' &&
	    throttle_forget(q->ctx->throttle, in->dupkey) == -1)
		log_err("request id=%s: cannot forget the duplicate key: a "
		    "repeat within %lds is answered but not sent", q->id,
		    q->cf->duplicate_window);
	if (rc == -2) {
		req_fail(q, 503, "Retry-After: 60\r\n", "spool_failed",
		    LANG_NOT_STORED);
		return;
	}
	if (rc == -1) {
		req_fail(q, 500, NULL, "internal", LANG_INTERNAL);
		return;
	}
	if (go.verdict != GATE_REFUSE)
		gate_dup_record(in);	/* a repeat gets the same answer */
	if (go.verdict != GATE_PASS) {
		answer_verdict(q, &go, f);	/* refused, spam, held */
		return;
	}
	q->outcome = "accepted";
	req_accepted(q, req_redirect(q, f));
	if (q->form->auto_text != NULL)
		autoreply_send(q->cf, q->form, f, q->ctx->throttle,
		    q->ctx->confirm_key, q->id);
}

/* A POST to a known form, step by step. */
void
req_post(struct req *q)
{
	struct gate_in		 in;
	struct gate_out		 go;
	struct form		*f = NULL;
	char			*body = NULL;

	gate_facts(q, &in);
	if (gate_run(gate_head, gate_nhead, &in, &go) != NULL)
		answer_verdict(q, &go, NULL);
	else if (intake(q, &in, &body, &f) == 0) {
		in.post = f;
		if (gate_run(gate_body, gate_nbody, &in, &go) != NULL) {
			q->route = in.route;
			answer_verdict(q, &go, f);
		} else {
			q->route = in.route;
			submit(q, f, &in);
		}
	}
	form_free(f);
	free(body);
}
