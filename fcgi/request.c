/*
 * request: one FastCGI request; see request.h.
 *
 * Order of the checks: cheap ones first, and nothing is allocated in
 * proportion to what the visitor sent before the limit for it is checked.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <fcgiapp.h>
#include <jansson.h>

#include "conf.h"
#include "form.h"
#include "log.h"
#include "message.h"
#include "request.h"
#include "spool.h"
#include "tmpl.h"
#include "validate.h"

#define REQ_MAX_HEADER		8192	/* Origin, Referer, Accept... */
#define REQ_MAX_SUBJECT		900	/* octets of a rendered subject */

struct req {
	const struct conf	*cf;
	FCGX_Request		*r;
	const struct conf_form	*form;
	struct timespec		 t0;
	int			 json;
	char			 id[SPOOL_ID_LEN + 1];
	char			 ip[INET6_ADDRSTRLEN];
	char			 formname[80];	/* escaped, for the log */
	const char		*outcome;
	int			 status;
};

static const char *
req_param(const struct req *q, const char *name)
{
	const char	*v = FCGX_GetParam(name, q->r->envp);

	if (v != NULL && strlen(v) > REQ_MAX_HEADER)
		return NULL;
	return v;
}

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
static void
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
	    buf_printf(&h, "Content-Length: %lu\r\n\r\n",
	    (unsigned long)len) == -1) {
		buf_free(&h);
		return;
	}
	FCGX_PutStr(h.data, (int)h.len, q->r->out);
	if (len > 0)
		FCGX_PutStr(body, (int)len, q->r->out);
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

/* ---- built-in pages ----------------------------------------------- */

static const char req_page_src[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>{{title}}</title>\n"
    "<style>body{font-family:system-ui,sans-serif;max-width:40em;"
    "margin:3em auto;padding:0 1em;line-height:1.5;color:#222}"
    "li{margin:.3em 0}</style></head>\n"
    "<body><h1>{{title}}</h1>\n<p>{{message}}</p>\n"
    "{{#errors}}<ul>\n{{/errors}}"
    "{{#errors}}<li><strong>{{label}}</strong> {{text}}</li>\n{{/errors}}"
    "{{#errors}}</ul>\n{{/errors}}"
    "{{#id}}<p><small>Reference: {{id}}</small></p>\n{{/id}}"
    "</body></html>\n";

static const char *
req_code_text(const char *code)
{
	if (strcmp(code, "required") == 0)
		return "is required.";
	if (strcmp(code, "max_length") == 0)
		return "is too long.";
	if (strcmp(code, "email") == 0)
		return "is not a valid email address.";
	if (strcmp(code, "unknown") == 0)
		return "is not a field of this form.";
	if (strcmp(code, "letters") == 0)
		return "must contain letters.";
	return "contains characters that are not allowed.";
}

/* A field's label from the config, else its (checked) name. */
static const char *
req_label(const struct req *q, const char *name)
{
	size_t	 i;

	for (i = 0; q->form != NULL && i < q->form->nfields; i++)
		if (strcmp(q->form->fields[i].name, name) == 0)
			return q->form->fields[i].label;
	if (validate_field_name(name, strlen(name)))
		return name;
	return "A field";
}

static void
req_send_page(struct req *q, int status, const char *extra,
    const char *title, const char *message,
    const struct validate_error *errs, size_t nerrs, const char *id)
{
	static struct tmpl	*page;
	struct tmpl_var		 vars[4], ev[VALIDATE_MAX_ERRORS][2];
	struct tmpl_scope	 items[VALIDATE_MAX_ERRORS], root;
	struct buf		 out = BUF_INIT;
	char			 err[128];
	size_t			 i, n = 0;

	if (page == NULL && tmpl_parse(req_page_src, sizeof(req_page_src) - 1,
	    &page, err, sizeof(err)) == -1) {
		log_err("built-in page: %s", err);
		req_send(q, status, "text/plain; charset=utf-8", extra, title,
		    strlen(title));
		return;
	}
	for (i = 0; i < nerrs && i < VALIDATE_MAX_ERRORS; i++) {
		const char *l = req_label(q, errs[i].field);
		const char *t = req_code_text(errs[i].code);

		ev[i][0] = (struct tmpl_var){ "label", l, strlen(l), NULL, 0 };
		ev[i][1] = (struct tmpl_var){ "text", t, strlen(t), NULL, 0 };
		items[i] = (struct tmpl_scope){ ev[i], 2, NULL };
	}
	vars[n++] = (struct tmpl_var){ "title", title, strlen(title), NULL, 0 };
	vars[n++] = (struct tmpl_var){ "message", message, strlen(message),
	    NULL, 0 };
	vars[n++] = (struct tmpl_var){ "errors", NULL, 0, items, i };
	if (id != NULL)
		vars[n++] = (struct tmpl_var){ "id", id, strlen(id), NULL, 0 };
	root = (struct tmpl_scope){ vars, n, NULL };
	if (tmpl_render(page, TMPL_HTML, &root, 256 * 1024, &out) == -1) {
		buf_free(&out);
		req_send(q, 500, "text/plain; charset=utf-8", NULL, "error", 5);
		return;
	}
	req_send(q, status, "text/html; charset=utf-8", extra, out.data,
	    out.len);
	buf_free(&out);
}

/* An error answer without field details, as JSON or as a page. */
static void
req_fail(struct req *q, int status, const char *extra, const char *outcome,
    const char *message)
{
	json_t	*j;

	q->outcome = outcome;
	if (q->json) {
		j = json_pack("{s:b,s:s}", "ok", 0, "error",
		    req_error_word(status));
		req_send_json(q, status, extra, j);
	} else
		req_send_page(q, status, extra, req_reason(status), message,
		    NULL, 0, NULL);
}

/* ---- checks ------------------------------------------------------- */

/* The last path segment of DOCUMENT_URI, else of REQUEST_URI. */
static int
req_form_id(struct req *q, const char **id, size_t *len)
{
	const char	*uri = req_param(q, "DOCUMENT_URI");
	size_t		 end;
	const char	*slash;

	if (uri == NULL || *uri == '\0')
		uri = req_param(q, "REQUEST_URI");
	if (uri == NULL)
		uri = "";
	end = strcspn(uri, "?#");
	if (end > REQUEST_MAX_URI)
		return -1;
	slash = memrchr(uri, '/', end);
	*id = slash ? slash + 1 : uri;
	*len = (size_t)(uri + end - *id);
	log_escape(q->formname, sizeof(q->formname), *id, *len);
	return 0;
}

static int
req_is_https(const struct req *q)
{
	const char	*h = req_param(q, "HTTPS");
	const char	*s = req_param(q, "REQUEST_SCHEME");

	return (h != NULL && strcasecmp(h, "on") == 0) ||
	    (s != NULL && strcasecmp(s, "https") == 0);
}

/* Length of the origin part (scheme://host[:port]) of an absolute URL. */
static size_t
req_origin_len(const char *url)
{
	const char	*p = strstr(url, "://");

	if (p == NULL || p == url)
		return 0;
	p += 3;
	return (size_t)(p - url) + strcspn(p, "/?#");
}

/* DESIGN.md "Details that tests rely on", Origin. */
static int
req_origin_ok(const struct req *q)
{
	const char	*o = req_param(q, "HTTP_ORIGIN");
	size_t		 i, len;

	if (q->form->norigins == 0)
		return 1;
	if (o == NULL || *o == '\0' || strcmp(o, "null") == 0) {
		o = req_param(q, "HTTP_REFERER");
		if (o == NULL || *o == '\0')
			return q->form->allow_missing_origin;
	}
	if ((len = req_origin_len(o)) == 0)
		return 0;
	for (i = 0; i < q->form->norigins; i++)
		if (strlen(q->form->origins[i]) == len &&
		    strncasecmp(q->form->origins[i], o, len) == 0)
			return 1;
	return 0;
}

static int
req_wants_json(const struct req *q)
{
	const char	*a = req_param(q, "HTTP_ACCEPT");

	return a != NULL && strcasestr(a, "application/json") != NULL;
}

static int
req_is_urlencoded(const char *ct)
{
	static const char	 t[] = "application/x-www-form-urlencoded";
	size_t			 n = sizeof(t) - 1;

	if (ct == NULL || strncasecmp(ct, t, n) != 0)
		return 0;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/*
 * A redirect target from the form (_next, redirect) is used only when it
 * is a clean URL under one of the form's redirect_allowlist prefixes, the
 * prefix ending at a path boundary.
 */
static const char *
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
		for (i = 0; i < v->value_len; i++)
			if ((unsigned char)v->value[i] <= 0x20 ||
			    (unsigned char)v->value[i] >= 0x7f ||
			    strchr("\"<>\\^`{|}", v->value[i]) != NULL)
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

/* ---- the submission ----------------------------------------------- */

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

	if (q->form->extra != CONF_EXTRA_INCLUDE || ff->name[0] == '_' ||
	    (q->form->honeypot != NULL &&
	    strcmp(ff->name, q->form->honeypot) == 0) ||
	    strcmp(ff->name, "redirect") == 0)
		return 0;
	for (i = 0; i < q->form->nfields; i++)
		if (strcmp(ff->name, q->form->fields[i].name) == 0)
			return 0;
	return 1;
}

/*
 * Renders and builds the message, then commits it to the spool.  Returns
 * 0 when committed, -1 on an internal error (500), -2 when the spool
 * could not commit (503).
 */
static int
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
	int			 rc = -1;

	memset(&meta, 0, sizeof(meta));
	memset(&m, 0, sizeof(m));
	vals = calloc(f->nfields + cfm->nfields, sizeof(*vals));
	vars = calloc(f->nfields + cfm->nfields + 5, sizeof(*vars));
	iv = calloc(f->nfields + cfm->nfields, sizeof(*iv));
	items = calloc(f->nfields + cfm->nfields, sizeof(*items));
	to = calloc(cfm->nto + 1, sizeof(*to));
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
	if (tmpl_render(cfm->subject, TMPL_TEXT, &root, REQ_MAX_SUBJECT,
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
	    (cfm->html != NULL &&
	    tmpl_render(cfm->html, TMPL_HTML, &root, maxout, &html) == -1)) {
		log_err("request %s: rendering failed", q->id);
		goto out;
	}

	for (i = 0; i < cfm->nto; i++)
		to[i] = (struct message_mailbox){ cfm->to[i].display,
		    cfm->to[i].addr };
	for (i = 0; i < cfm->ncc; i++)
		cc[i] = (struct message_mailbox){ cfm->cc[i].display,
		    cfm->cc[i].addr };
	m.from = (struct message_mailbox){ cf->from.display, cf->from.addr };
	for (i = 0; i < cfm->nfields; i++)
		if (cfm->fields[i].reply_to && vals[i].len > 0) {
			reply = (struct message_mailbox){ NULL, vals[i].value };
			m.reply_to = &reply;
		}
	m.to = to;
	m.nto = cfm->nto;
	m.cc = cc;
	m.ncc = cfm->ncc;
	m.subject = subj.data;
	m.id = q->id;
	m.hostname = cf->hostname;
	m.date = now;
	m.client_ip = q->ip[0] ? q->ip : NULL;
	m.text = text.data ? text.data : "";
	m.text_len = text.len;
	m.html = html.data;
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
	for (i = 0; i < cfm->nto && meta.nrcpt < SPOOL_MAX_RCPT; i++)
		meta.rcpt[meta.nrcpt++] = cfm->to[i].addr;
	for (i = 0; i < cfm->ncc && meta.nrcpt < SPOOL_MAX_RCPT; i++)
		meta.rcpt[meta.nrcpt++] = cfm->cc[i].addr;
	for (i = 0; i < cfm->nbcc && meta.nrcpt < SPOOL_MAX_RCPT; i++)
		meta.rcpt[meta.nrcpt++] = cfm->bcc[i].addr;
	if (spool_commit(cf->spool_dir, &meta, msg.data, msg.len) == -1) {
		log_err("request %s: spool commit failed: %m", q->id);
		rc = -2;
		goto out;
	}
	rc = 0;
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

static void
req_accepted(struct req *q, const char *next)
{
	struct buf	 h = BUF_INIT;
	const char	*to = next ? next : q->form->success_url;

	if (q->json) {
		req_send_json(q, 200, NULL, json_pack("{s:b,s:s}", "ok", 1,
		    "id", q->id));
		return;
	}
	if (to != NULL && buf_printf(&h, "Location: %s\r\n", to) == 0) {
		req_send(q, 303, "text/plain; charset=utf-8", h.data,
		    "Thank you.\n", 11);
		buf_free(&h);
		return;
	}
	buf_free(&h);
	req_send_page(q, 200, NULL, "Thank you",
	    "Your message has been received.", NULL, 0, q->id);
}

static void
req_invalid(struct req *q, const struct validate_error *errs, size_t n)
{
	struct buf	 h = BUF_INIT;
	json_t		*j, *e;
	size_t		 i;

	q->outcome = "invalid";
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
	req_send_page(q, 422, NULL, "Please check the form",
	    "Some fields need your attention:", errs, n, NULL);
}

static void
req_post(struct req *q)
{
	struct validate_error	 errs[VALIDATE_MAX_ERRORS];
	struct form		*f = NULL;
	const struct form_field	*hp;
	const char		*cl, *ct, *why;
	char			*body = NULL, *end;
	unsigned long long	 len;
	size_t			 i, nerr, got;
	enum form_err		 fe;
	int			 n, rc;

	if (q->cf->require_https && !req_is_https(q)) {
		req_fail(q, 403, NULL, "not_https", "This form must be sent "
		    "over HTTPS.");
		return;
	}
	if (!req_origin_ok(q)) {
		req_fail(q, 403, NULL, "bad_origin", "This form cannot be "
		    "sent from that site.");
		return;
	}
	/* Throttle: issue 3 charges every POST to a known form here. */
	ct = req_param(q, "CONTENT_TYPE");
	if (!req_is_urlencoded(ct)) {
		req_fail(q, 415, NULL, "bad_type", "The form was sent in a "
		    "format this service does not take.");
		return;
	}
	cl = req_param(q, "CONTENT_LENGTH");
	len = 0;
	if (cl != NULL && *cl != '\0') {
		len = strtoull(cl, &end, 10);
		if (*end != '\0' || !isdigit((unsigned char)cl[0])) {
			req_fail(q, 400, NULL, "bad_length", "Bad request.");
			return;
		}
	}
	if (len > q->cf->max_body) {
		req_fail(q, 413, NULL, "too_large", "The form is too large.");
		return;
	}
	if ((body = malloc((size_t)len + 1)) == NULL) {
		req_fail(q, 503, NULL, "no_memory", "Please try again later.");
		return;
	}
	for (got = 0; got < len; got += (size_t)n)
		if ((n = FCGX_GetStr(body + got, (int)(len - got),
		    q->r->in)) <= 0)
			break;
	if (got != len) {
		req_fail(q, 400, NULL, "short_body", "Bad request.");
		goto out;
	}
	fe = form_parse_urlencoded(body, (size_t)len, q->cf->max_fields, &f);
	if (fe == FORM_ETOOMANY || fe == FORM_ETOOBIG) {
		req_fail(q, 413, NULL, "too_many_fields", "The form has too "
		    "many or too large fields.");
		goto out;
	}
	if (fe != FORM_OK) {
		req_fail(q, fe == FORM_ENOMEM ? 503 : 400, NULL, "bad_body",
		    "Bad request.");
		goto out;
	}
	for (i = 0; i < f->nfields; i++)
		if (f->fields[i].value_len > q->cf->max_value) {
			req_fail(q, 413, NULL, "value_too_large", "A field is "
			    "too large.");
			goto out;
		}
	if (spool_new_id(q->id) == -1) {
		req_fail(q, 503, NULL, "no_random", "Please try again later.");
		goto out;
	}
	/* A filled honeypot gets the answer of an accepted post. */
	if (q->form->honeypot != NULL &&
	    (hp = form_get(f, q->form->honeypot)) != NULL &&
	    hp->value_len > 0) {
		q->outcome = "honeypot";
		req_accepted(q, NULL);
		goto out;
	}
	if ((nerr = validate_form(q->form, f, errs, VALIDATE_MAX_ERRORS)) > 0) {
		req_invalid(q, errs, nerr < VALIDATE_MAX_ERRORS ? nerr :
		    VALIDATE_MAX_ERRORS);
		goto out;
	}
	/* Spam by content: answered like an accepted post, nothing sent. */
	if ((why = validate_content(q->form, f)) != NULL) {
		q->outcome = why[0] == 'l' ? "spam_links" : "spam_phrase";
		req_accepted(q, NULL);
		goto out;
	}
	if ((rc = req_submit(q, f)) == -2) {
		req_fail(q, 503, "Retry-After: 60\r\n", "spool_failed",
		    "Your message could not be stored. Please try again "
		    "later.");
		goto out;
	} else if (rc == -1) {
		req_fail(q, 500, NULL, "internal", "Something went wrong.");
		goto out;
	}
	q->outcome = "accepted";
	req_accepted(q, req_redirect(q, f));
out:
	form_free(f);
	free(body);
}

void
request_handle(const struct conf *cf, FCGX_Request *r)
{
	struct req	 q;
	struct timespec	 t1;
	const char	*method, *id, *addr;
	unsigned char	 sa[sizeof(struct in6_addr)];
	size_t		 idlen;

	memset(&q, 0, sizeof(q));
	q.cf = cf;
	q.r = r;
	q.outcome = "error";
	clock_gettime(CLOCK_MONOTONIC, &q.t0);
	q.json = req_wants_json(&q);
	addr = req_param(&q, "REMOTE_ADDR");
	if (addr != NULL && (inet_pton(AF_INET, addr, sa) == 1 ||
	    inet_pton(AF_INET6, addr, sa) == 1))
		snprintf(q.ip, sizeof(q.ip), "%s", addr);
	method = req_param(&q, "REQUEST_METHOD");
	if (method == NULL)
		method = "";

	if (req_form_id(&q, &id, &idlen) == -1)
		req_fail(&q, 414, NULL, "uri_too_long", "Bad request.");
	else if ((q.form = conf_form_find(cf, id, idlen)) == NULL)
		req_fail(&q, 404, NULL, "unknown_form", "There is no such "
		    "form.");
	else if (strcmp(method, "OPTIONS") == 0) {
		q.outcome = "options";
		req_send(&q, 204, NULL, "Allow: POST, OPTIONS\r\n", NULL, 0);
	} else if (strcmp(method, "POST") != 0)
		req_fail(&q, 405, "Allow: POST, OPTIONS\r\n", "bad_method",
		    "This address only takes form posts.");
	else
		req_post(&q);

	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_info("request id=%s form=\"%s\" ip=%s outcome=%s status=%d ms=%ld",
	    q.id[0] ? q.id : "-", q.formname, q.ip[0] ? q.ip : "-", q.outcome,
	    q.status, (long)((t1.tv_sec - q.t0.tv_sec) * 1000 +
	    (t1.tv_nsec - q.t0.tv_nsec) / 1000000));
}
