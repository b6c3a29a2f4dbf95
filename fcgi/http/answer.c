/*
 * answer: the status line and headers of every answer (no-store, nosniff,
 * CORS), JSON and error answers, the 303 to an allowlisted _next, the
 * accepted and invalid answers, and answer_verdict(): the one place a
 * gate's verdict becomes an answer.
 */
#include "http/http_int.h"

static const char *
req_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 303: return "See Other";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

/* The short error word of JSON answers. */
static const char *
req_error_word(int status)
{
	switch (status) {
	case 400: return "bad_request";
	case 403: return "forbidden";
	case 404: return "unknown_form";
	case 405: return "method_not_allowed";
	case 411: return "length_required";
	case 413: return "too_large";
	case 414: return "uri_too_long";
	case 415: return "unsupported_media_type";
	case 422: return "invalid";
	case 429: return "rate_limited";
	case 503: return "unavailable";
	default: return "internal";
	}
}

/*
 * Writes status line, headers and body.  extra holds complete header lines
 * ending in CRLF, made only of config values and our own text.
 */
void
req_send(struct req *q, int status, const char *ctype, const char *extra,
    const char *body, size_t len)
{
	struct buf	 h = BUF_INIT;

	q->status = status;
	if (buf_printf(&h, "Status: %d %s\r\n", status, req_reason(status)) ==
	    -1 || buf_adds(&h, "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n") == -1 ||
	    (extra != NULL && buf_adds(&h, extra) == -1) ||
	    (ctype != NULL && buf_printf(&h, "Content-Type: %s\r\n",
	    ctype) == -1) ||
	    (q->cors != NULL && buf_printf(&h, "Access-Control-Allow-Origin: "
	    "%s\r\nVary: Origin\r\n", q->cors) == -1) ||
	    buf_printf(&h, "Content-Length: %lu\r\n\r\n",
	    (unsigned long)len) == -1) {
		buf_free(&h);
		return;
	}
	req_write(q, h.data, h.len);
	if (len > 0)
		req_write(q, body, len);
	buf_free(&h);
}

static void
req_send_json(struct req *q, int status, const char *extra, json_t *j)
{
	char	*s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	if (s == NULL)
		req_send(q, 500, "application/json", NULL,
		    "{\"ok\":false,\"error\":\"internal\"}", 32);
	else
		req_send(q, status, "application/json", extra, s, strlen(s));
	free(s);
	json_decref(j);
}

/*
 * An error answer without field details, as JSON or as a page in the
 * visitor's language.  A Formspree-style form's JSON adds "errors":
 * [{"code", "message"}], as Formspree's client code reads them.
 */
void
req_fail(struct req *q, int status, const char *extra, const char *outcome,
    enum lang_msg message)
{
	const char	*m = lang_msg(q->lang, message);
	json_t		*j;

	q->outcome = outcome;
	if (q->json) {
		if (q->form != NULL &&
		    q->form->json_style == CONF_JSON_FORMSPREE)
			j = json_pack("{s:b,s:s,s:[{s:s,s:s}]}", "ok", 0,
			    "error", m, "errors", "code",
			    req_error_word(status), "message", m);
		else
			j = json_pack("{s:b,s:s}", "ok", 0, "error",
			    req_error_word(status));
		req_send_json(q, status, extra, j);
	} else
		req_send_page(q, status, extra, lang_status_title(q->lang,
		    status), m, NULL, 0, NULL);
}

/* CORS (Fetch standard): the allowed origin the request's Origin names,
 * as written in config (never the visitor's bytes), or NULL. */
const char *
req_cors_origin(const struct req *q)
{
	const char	*o = req_param(q, "HTTP_ORIGIN");
	size_t		 i;

	if (o == NULL || q->form == NULL)
		return NULL;
	for (i = 0; i < q->form->norigins; i++)
		if (strcasecmp(q->form->origins[i], o) == 0)
			return q->form->origins[i];
	return NULL;
}

/* OPTIONS: the CORS preflight of a cross-origin fetch() post. */
void
req_preflight(struct req *q)
{
	const char	*m = req_param(q, "HTTP_ACCESS_CONTROL_REQUEST_METHOD");

	q->outcome = "options";
	if (q->cors == NULL || m == NULL) {
		/* Not a preflight we allow: plain OPTIONS, no CORS grant. */
		q->cors = NULL;
		req_send(q, 204, NULL, "Allow: POST, OPTIONS\r\n", NULL, 0);
		return;
	}
	req_send(q, 204, NULL, "Allow: POST, OPTIONS\r\n"
	    "Access-Control-Allow-Methods: POST\r\n"
	    "Access-Control-Allow-Headers: Content-Type, Accept\r\n"
	    "Access-Control-Max-Age: 600\r\n", NULL, 0);
}

/*
 * A redirect target from the form (_next, redirect) is used only when it
 * is a clean URL under one of the form's redirect_allowlist prefixes, the
 * prefix ending at a path boundary.
 */
const char *
req_redirect(const struct req *q, const struct form *f)
{
	static const char *const names[] = { "_next", "redirect" };
	const struct form_field	*v;
	size_t			 i, k, pl;
	const char		*pre;

	for (k = 0; k < 2; k++) {
		if ((v = form_get(f, names[k])) == NULL || v->value_len == 0 ||
		    v->value_len > 2000)
			continue;
		if (!req_clean_url(v->value, v->value_len))
			return NULL;
		for (i = 0; i < q->form->nredirect; i++) {
			pre = q->form->redirect_allowlist[i];
			pl = strlen(pre);
			if (v->value_len >= pl &&
			    strncmp(v->value, pre, pl) == 0 &&
			    (pre[pl - 1] == '/' || v->value[pl] == '\0' ||
			    strchr("/?#", v->value[pl]) != NULL))
				return v->value;
		}
	}
	return NULL;
}

/*
 * Accepted (or silently dropped, which must look the same).  next: the
 * allowlisted _next/redirect, else NULL.  Formspree-style JSON names
 * where the page should go: next, else success_url, else the way back
 * (req_back); without any, no "next".
 */
void
req_accepted(struct req *q, const char *next)
{
	struct buf	 h = BUF_INIT;
	const char	*to = next ? next : q->form->success_url;
	char		 back[2048];
	json_t		*j;

	if (q->json) {
		j = json_pack("{s:b,s:s}", "ok", 1, "id", q->id);
		if (j != NULL && q->form->json_style == CONF_JSON_FORMSPREE &&
		    (to != NULL || (to = req_back(q, back, sizeof(back))) !=
		    NULL) && json_object_set_new(j, "next", json_string(to)) ==
		    -1) {
			json_decref(j);
			j = NULL;
		}
		req_send_json(q, 200, NULL, j);
		return;
	}
	if (to != NULL && buf_printf(&h, "Location: %s\r\n", to) == 0) {
		req_send(q, 303, "text/plain; charset=utf-8", h.data,
		    "Thank you.\n", 11);
		buf_free(&h);
		return;
	}
	buf_free(&h);
	if (req_send_tmpl(q, 200, q->form->thanks, NULL, 0) == 0)
		return;
	req_send_page(q, 200, NULL, lang_msg(q->lang, LANG_THANKS_TITLE),
	    lang_msg(q->lang, LANG_THANKS_TEXT), NULL, 0, q->id);
}

/* A field's name as a JSON string: "_field" when it is not UTF-8. */
static json_t *
req_json_name(const char *name)
{
	json_t	*j = json_string(name);

	return j != NULL ? j : json_string("_field");
}

/* Formspree's 422: {"errors":[{"field", "code", "message"}]}, the message
 * the label and text of the built-in page, in the visitor's language. */
static json_t *
req_formspree_errors(const struct req *q, const struct validate_error *errs,
    size_t n)
{
	struct buf	 m = BUF_INIT;
	json_t		*a = json_array(), *e;
	size_t		 i;

	for (i = 0; a != NULL && i < n; i++) {
		m.len = 0;
		if (buf_printf(&m, "%s%s%s", req_label(q, q->lang,
		    errs[i].field), lang_msg(q->lang, LANG_SEP),
		    lang_code_text(q->lang, errs[i].code)) == -1 ||
		    (e = json_pack("{s:o,s:s,s:s%}", "field",
		    req_json_name(errs[i].field), "code", errs[i].code,
		    "message", m.data, m.len)) == NULL ||
		    json_array_append_new(a, e) == -1) {
			json_decref(a);
			a = NULL;
		}
	}
	buf_free(&m);
	return a != NULL ? json_pack("{s:b,s:o}", "ok", 0, "errors", a) : NULL;
}

static void
req_invalid(struct req *q, const struct validate_error *errs, size_t n)
{
	struct buf	 h = BUF_INIT;
	json_t		*j, *e;
	size_t		 i;

	q->outcome = "invalid";
	if (q->json && q->form->json_style == CONF_JSON_FORMSPREE) {
		req_send_json(q, 422, NULL, req_formspree_errors(q, errs, n));
		return;
	}
	if (q->json) {
		e = json_object();
		for (i = 0; e != NULL && i < n; i++)
			if (json_object_set_new(e, errs[i].field,
			    json_string(errs[i].code)) == -1)
				json_object_set_new(e, "_field",
				    json_string(errs[i].code));
		j = json_pack("{s:b,s:o}", "ok", 0, "errors", e ? e :
		    json_object());
		req_send_json(q, 422, NULL, j);
		return;
	}
	if (q->form->error_url != NULL &&
	    buf_printf(&h, "Location: %s\r\n", q->form->error_url) == 0) {
		req_send(q, 303, "text/plain; charset=utf-8", h.data,
		    "Please check the form.\n", 23);
		buf_free(&h);
		return;
	}
	buf_free(&h);
	if (req_send_tmpl(q, 422, q->form->error, errs, n) == 0)
		return;
	req_send_page(q, 422, NULL, lang_msg(q->lang, LANG_CHECK_TITLE),
	    lang_msg(q->lang, LANG_CHECK_TEXT), errs, n, NULL);
}

/*
 * The one place a gate's verdict becomes an HTTP answer (gate/gate.h):
 * GATE_REFUSE an error answer in the visitor's language (429 with the
 * wait), GATE_INVALID 422 with the field errors, GATE_SILENT,
 * GATE_REPEAT and GATE_HOLD the answer of an accepted post (its
 * redirect, the id: the first post's for a repeat).  f: the parsed post,
 * NULL before the body.
 */
void
answer_verdict(struct req *q, const struct gate_out *o, const struct form *f)
{
	char		 hdr[64];
	const char	*extra = NULL;

	if (o->retry_after > 0) {
		snprintf(hdr, sizeof(hdr), "Retry-After: %ld\r\n",
		    o->retry_after);
		extra = hdr;
	}
	switch (o->verdict) {
	case GATE_REFUSE:
		if (o->status != 429) {
			req_fail(q, o->status, extra, o->outcome, o->message);
			return;
		}
		q->outcome = o->outcome;
		if (q->json)
			req_send_json(q, 429, extra, json_pack("{s:b,s:s,s:i}",
			    "ok", 0, "error", "rate_limited", "retry_after",
			    (int)o->retry_after));
		else
			req_send_page(q, 429, extra, lang_status_title(q->lang,
			    429), lang_msg(q->lang, o->message), NULL, 0,
			    NULL);
		return;
	case GATE_INVALID:
		req_invalid(q, o->errs, o->nerr);
		q->outcome = o->outcome;
		return;
	case GATE_SILENT:
	case GATE_REPEAT:
	case GATE_HOLD:
		if (f != NULL) {
			q->outcome = o->outcome;
			req_accepted(q, req_redirect(q, f));
			return;
		}
		break;
	default:
		break;
	}
	log_err("request id=%s: verdict %d has no answer here", q->id,
	    (int)o->verdict);
	req_fail(q, 500, NULL, "internal", LANG_INTERNAL);
}
