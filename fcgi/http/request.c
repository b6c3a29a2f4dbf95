/*
 * request: one FastCGI request; see request.h.
 *
 * Order of the checks: cheap ones first, and nothing is allocated in
 * proportion to what the visitor sent before the limit for it is checked.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <fcgiapp.h>
#include <jansson.h>

#include <openssl/evp.h>

#include "gate/captcha.h"
#include "gate/challenge.h"
#include "conf/conf.h"
#include "lib/lang.h"
#include "form/form.h"
#include "gate/gate.h"
#include "form/resolve.h"
#include "lib/log.h"
#include "mail/message.h"
#include "http/request.h"
#include "gate/spam.h"
#include "spool/spool.h"
#include "lib/stats.h"
#include "throttle/throttle.h"
#include "lib/tmpl.h"
#include "form/validate.h"

#define REQ_MAX_HEADER		8192	/* Origin, Referer, Accept... */
#define REQ_MAX_SUBJECT		900	/* octets of a rendered subject */
#define CONF_MAX_AUTO_VARS	104	/* fields + metadata of an autoreply */
#define REQ_MAX_ATTACH		20	/* conf caps uploads.max_files */

struct req {
	const struct request_ctx *ctx;
	const struct conf	*cf;
	FCGX_Request		*r;	/* NULL: CGI, on stdin/stdout */
	const struct conf_form	*form;
	struct timespec		 t0;
	int			 json;
	char			 id[SPOOL_ID_LEN + 1];
	char			 ip[INET6_ADDRSTRLEN];
	char			 formname[80];	/* escaped, for the log */
	const char		*outcome;
	int			 status;
	struct form_route	 route;		/* decided from the post within
						   what config allows */
	const char		*cors;		/* the config's origin matching
						   the request's Origin */
	enum lang		 lang;		/* of built-in answers */
};

static const char *
req_param(const struct req *q, const char *name)
{
	const char	*v = q->r != NULL ? FCGX_GetParam(name, q->r->envp) :
	    getenv(name);

	if (v != NULL && strlen(v) > REQ_MAX_HEADER)
		return NULL;
	return v;
}

/* The body, from the FastCGI stream or, under CGI, from stdin. */
static int
req_read(struct req *q, char *p, size_t n)
{
	ssize_t	 got;

	if (n > INT_MAX)
		n = INT_MAX;
	if (q->r != NULL)
		return FCGX_GetStr(p, (int)n, q->r->in);
	while ((got = read(0, p, n)) == -1 && errno == EINTR)
		;
	return (int)got;
}

static void
req_write(struct req *q, const char *p, size_t n)
{
	ssize_t	 w;

	if (q->r != NULL) {
		FCGX_PutStr(p, (int)n, q->r->out);
		return;
	}
	while (n > 0) {
		if ((w = write(1, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
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

/* ---- built-in pages ----------------------------------------------- */

static const char req_page_src[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"{{lang}}\"><head><meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>{{title}}</title>\n"
    "<style>body{font-family:system-ui,sans-serif;max-width:40em;"
    "margin:3em auto;padding:0 1em;line-height:1.5;color:#222}"
    "li{margin:.3em 0}</style></head>\n"
    "<body><h1>{{title}}</h1>\n<p>{{message}}</p>\n"
    "{{#errors}}<ul>\n{{/errors}}"
    "{{#errors}}<li><strong>{{label}}</strong>{{sep}}{{text}}</li>\n"
    "{{/errors}}"
    "{{#errors}}</ul>\n{{/errors}}"
    "{{#id}}<p><small>{{reference}} {{id}}</small></p>\n{{/id}}"
    "{{#back}}<p><a href=\"{{back}}\">{{back_text}}</a></p>\n{{/back}}"
    "</body></html>\n";

/* A URL of printable ASCII without quotes, spaces or the other octets
 * RFC 3986 never allows: safe in a Location header and an href. */
static int
req_clean_url(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f ||
		    strchr("\"<>\\^`{|}", s[i]) != NULL)
			return 0;
	return 1;
}

/* A field's label from the config, else its (checked) name, in the
 * answer's language where it is ours. */
static const char *
req_label(const struct req *q, enum lang l, const char *name)
{
	size_t	 i;

	for (i = 0; q->form != NULL && i < q->form->nfields; i++)
		if (strcmp(q->form->fields[i].name, name) == 0)
			return q->form->fields[i].label;
	if (strcmp(name, CHALLENGE_FIELD) == 0)
		return lang_msg(l, LANG_LABEL_CHALLENGE);
	if (strstr(name, "captcha") != NULL || strcmp(name,
	    "g-recaptcha-response") == 0)
		return lang_msg(l, LANG_LABEL_CAPTCHA);
	if (validate_field_name(name, strlen(name)))
		return name;
	return lang_msg(l, LANG_LABEL_FIELD);
}

/* "Content-Language: xx\r\n" for the answer's headers. */
static const char *
req_content_language(enum lang l, char *hdr, size_t size)
{
	snprintf(hdr, size, "Content-Language: %s\r\n", lang_tag(l));
	return hdr;
}

/*
 * The way back to the site from the thank-you page: the page the form was
 * sent from (a Referer on one of the form's allowed origins), else the
 * form's site_url, else the allowed origin the post came from; NULL when
 * none is known.  Never a visitor's URL the config does not vouch for.
 */
static const char *
req_back(const struct req *q, char *buf, size_t size)
{
	const char	*r = req_param(q, "HTTP_REFERER");
	size_t		 i, n;

	if (r != NULL && (n = strlen(r)) > 0 && n < size && n <= 2000 &&
	    req_clean_url(r, n))
		for (i = 0; i < q->form->norigins; i++) {
			size_t ol = strlen(q->form->origins[i]);

			if (n >= ol && strncasecmp(r, q->form->origins[i],
			    ol) == 0 && (r[ol] == '\0' || r[ol] == '/')) {
				snprintf(buf, size, "%s", r);
				return buf;
			}
		}
	if (q->form->site_url != NULL)
		return q->form->site_url;
	if (q->cors != NULL && snprintf(buf, size, "%s/", q->cors) <
	    (int)size)
		return buf;
	return NULL;
}

/*
 * The built-in page in the visitor's language (q->lang): a title, a
 * message, the invalid fields, the submission id and the way back (both
 * only on the thank-you page).  extra: header lines, as for req_send.
 */
static void
req_send_page(struct req *q, int status, const char *extra,
    const char *title, const char *message,
    const struct validate_error *errs, size_t nerrs, const char *id)
{
	static struct tmpl	*page;
	struct tmpl_var		 vars[9], ev[VALIDATE_MAX_ERRORS][3];
	struct tmpl_scope	 items[VALIDATE_MAX_ERRORS], root;
	struct buf		 out = BUF_INIT, h = BUF_INIT;
	char			 err[128], back[2048], cl[64];
	const char		*tag = lang_tag(q->lang), *b, *s;
	size_t			 i, n = 0;

	if (page == NULL && tmpl_parse(req_page_src, sizeof(req_page_src) - 1,
	    &page, err, sizeof(err)) == -1) {
		log_err("built-in page: %s", err);
		req_send(q, status, "text/plain; charset=utf-8", extra, title,
		    strlen(title));
		return;
	}
	s = lang_msg(q->lang, LANG_SEP);
	for (i = 0; i < nerrs && i < VALIDATE_MAX_ERRORS; i++) {
		const char *l = req_label(q, q->lang, errs[i].field);
		const char *t = lang_code_text(q->lang, errs[i].code);

		ev[i][0] = (struct tmpl_var){ "label", l, strlen(l), NULL, 0 };
		ev[i][1] = (struct tmpl_var){ "text", t, strlen(t), NULL, 0 };
		ev[i][2] = (struct tmpl_var){ "sep", s, strlen(s), NULL, 0 };
		items[i] = (struct tmpl_scope){ ev[i], 3, NULL };
	}
	vars[n++] = (struct tmpl_var){ "lang", tag, strlen(tag), NULL, 0 };
	vars[n++] = (struct tmpl_var){ "title", title, strlen(title), NULL, 0 };
	vars[n++] = (struct tmpl_var){ "message", message, strlen(message),
	    NULL, 0 };
	vars[n++] = (struct tmpl_var){ "errors", NULL, 0, items, i };
	if (id != NULL) {
		s = lang_msg(q->lang, LANG_REFERENCE);
		vars[n++] = (struct tmpl_var){ "id", id, strlen(id), NULL, 0 };
		vars[n++] = (struct tmpl_var){ "reference", s, strlen(s), NULL,
		    0 };
		if (q->form != NULL &&
		    (b = req_back(q, back, sizeof(back))) != NULL) {
			s = lang_msg(q->lang, LANG_BACK);
			vars[n++] = (struct tmpl_var){ "back", b, strlen(b),
			    NULL, 0 };
			vars[n++] = (struct tmpl_var){ "back_text", s,
			    strlen(s), NULL, 0 };
		}
	}
	root = (struct tmpl_scope){ vars, n, NULL };
	if (tmpl_render(page, TMPL_HTML, &root, 256 * 1024, &out) == -1 ||
	    buf_adds(&h, req_content_language(q->lang, cl, sizeof(cl))) ==
	    -1 || (extra != NULL && buf_adds(&h, extra) == -1)) {
		buf_free(&out);
		buf_free(&h);
		req_send(q, 500, "text/plain; charset=utf-8", NULL, "error", 5);
		return;
	}
	req_send(q, status, "text/html; charset=utf-8", h.data, out.data,
	    out.len);
	buf_free(&out);
	buf_free(&h);
}

/* The visitor's language among `have` (lang.h). */
static enum lang
req_lang(const struct req *q, unsigned int have)
{
	return lang_negotiate(req_param(q, "HTTP_ACCEPT_LANGUAGE"), have);
}

static const char *const req_codes[] = { "required", "max_length", "email",
    "invalid", "unknown", "letters", "choice", "challenge", "captcha",
    "type", "size", "file" };
#define REQ_NCODES	(sizeof(req_codes) / sizeof(req_codes[0]))

/*
 * Renders an answer page template of the form (thanks or error) in the
 * visitor's language among those the form has, HTML-escaped: _form, _id,
 * _lang, _back (req_back, "" when none) and, for error pages, a list
 * "errors" with name, label, code, message (the built-in text) and one
 * flag per code (every flag present, "" when false, so lookups never
 * reach outer variables).  Returns 0 when sent, -1 when the form has no
 * such template.
 */
static int
req_send_tmpl(struct req *q, int status, struct tmpl *const *pages,
    const struct validate_error *errs, size_t nerrs)
{
	const struct tmpl	*t;
	struct tmpl_var		 vars[6];
	struct tmpl_var		 ev[VALIDATE_MAX_ERRORS][4 + REQ_NCODES];
	struct tmpl_scope	 items[VALIDATE_MAX_ERRORS], root;
	struct buf		 out = BUF_INIT;
	char			 back[2048], cl[64];
	const char		*b, *tag;
	size_t			 i, k, n = 0;
	unsigned int		 have = 0;
	enum lang		 lang;

	for (i = 0; i < LANG_COUNT; i++)
		if (pages[i] != NULL)
			have |= LANG_BIT(i);
	if (have == 0)
		return -1;
	lang = req_lang(q, have);
	t = pages[lang];
	tag = lang_tag(lang);
	if ((b = req_back(q, back, sizeof(back))) == NULL)
		b = "";
	for (i = 0; i < nerrs && i < VALIDATE_MAX_ERRORS; i++) {
		const char *l = req_label(q, lang, errs[i].field);
		const char *m = lang_code_text(lang, errs[i].code);

		ev[i][0] = (struct tmpl_var){ "name", errs[i].field,
		    strlen(errs[i].field), NULL, 0 };
		ev[i][1] = (struct tmpl_var){ "label", l, strlen(l), NULL, 0 };
		ev[i][2] = (struct tmpl_var){ "code", errs[i].code,
		    strlen(errs[i].code), NULL, 0 };
		ev[i][3] = (struct tmpl_var){ "message", m, strlen(m), NULL, 0 };
		for (k = 0; k < REQ_NCODES; k++)
			ev[i][4 + k] = (struct tmpl_var){ req_codes[k],
			    "1", strcmp(errs[i].code, req_codes[k]) == 0, NULL, 0 };
		items[i] = (struct tmpl_scope){ ev[i], 4 + REQ_NCODES, NULL };
	}
	vars[n++] = (struct tmpl_var){ "_form", q->form->id,
	    strlen(q->form->id), NULL, 0 };
	vars[n++] = (struct tmpl_var){ "_id", q->id, strlen(q->id), NULL, 0 };
	vars[n++] = (struct tmpl_var){ "_lang", tag, strlen(tag), NULL, 0 };
	vars[n++] = (struct tmpl_var){ "_back", b, strlen(b), NULL, 0 };
	vars[n++] = (struct tmpl_var){ "errors", NULL, 0, items, i };
	root = (struct tmpl_scope){ vars, n, NULL };
	if (tmpl_render(t, TMPL_HTML, &root, 256 * 1024, &out) == -1) {
		buf_free(&out);
		return -1;
	}
	req_send(q, status, "text/html; charset=utf-8",
	    req_content_language(lang, cl, sizeof(cl)), out.data, out.len);
	buf_free(&out);
	return 0;
}

/*
 * An error answer without field details, as JSON or as a page in the
 * visitor's language.  A Formspree-style form's JSON adds "errors":
 * [{"code", "message"}], as Formspree's client code reads them.
 */
static void
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

/* ---- checks ------------------------------------------------------- */

/*
 * The last path segment of DOCUMENT_URI, else of REQUEST_URI; for
 * ".../<form>/challenge" the segment before, with *challenge set.
 */
static int
req_form_id(struct req *q, const char **id, size_t *len, int *challenge)
{
	static const char	 suffix[] = "/challenge";
	const char		*uri = req_param(q, "DOCUMENT_URI");
	size_t			 end, sl = sizeof(suffix) - 1;
	const char		*slash;

	*challenge = 0;
	if (uri == NULL || *uri == '\0')
		uri = req_param(q, "REQUEST_URI");
	if (uri == NULL)
		uri = "";
	end = strcspn(uri, "?#");
	if (end > REQUEST_MAX_URI)
		return -1;
	if (end > sl && memcmp(uri + end - sl, suffix, sl) == 0) {
		*challenge = 1;
		end -= sl;
	}
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

/* CORS (Fetch standard): the allowed origin the request's Origin names,
 * as written in config (never the visitor's bytes), or NULL. */
static const char *
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
static void
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

static int
req_wants_json(const struct req *q)
{
	const char	*a = req_param(q, "HTTP_ACCEPT");

	return a != NULL && strcasestr(a, "application/json") != NULL;
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

/* ---- abuse ------------------------------------------------------- */


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















/* The lower-cased address without a "+tag" in its local part. */
static int
req_addr_canon(const char *a, size_t len, char *out, size_t outsize)
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
 * The autoresponder (issue 4, item 6): to the address the visitor typed
 * (checked as a header-bound email field), only after the challenge or
 * captcha passed (conf enforces that the form has one), at most one per
 * address per auto_per_address and auto_max_per_day in all, rendered from
 * metadata and single-line fields only, Auto-Submitted: auto-replied.  A
 * failure here never changes the visitor's answer.
 */
static void
req_autoreply(struct req *q, const struct form *f)
{
	const struct conf_form	*cfm = q->form;
	const struct conf	*cf = q->cf;
	const struct form_field	*to, *v;
	struct tmpl_var		 vars[CONF_MAX_AUTO_VARS];
	struct tmpl_scope	 root;
	struct throttle_key	 k;
	struct message		 m;
	struct message_mailbox	 rcpt;
	struct spool_meta	 meta;
	struct buf		 subj = BUF_INIT, text = BUF_INIT, html = BUF_INIT;
	struct buf		 msg = BUF_INIT;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0;
	char			 key[80], date[64], canon[VALIDATE_MAX_ADDR + 1];
	size_t			 i, nv = 0;
	time_t			 now = time(NULL);
	long			 after;
	int			 rc;

	if (cfm->auto_text == NULL || q->ctx->throttle == NULL ||
	    (to = form_get(f, cfm->auto_field)) == NULL || to->value_len == 0 ||
	    !form_reply_addr_ok(to))
		return;
	/*
	 * Per mailbox, not per spelling: case folded and a "+tag" dropped,
	 * so Victim@, victim@EXAMPLE and victim+1@ share one budget.  A
	 * digest, so the table holds no address.
	 */
	if (req_addr_canon(to->value, to->value_len, canon,
	    sizeof(canon)) == -1)
		return;
	EVP_Digest(canon, strlen(canon), md, &mdlen, EVP_sha256(), NULL);
	rc = snprintf(key, sizeof(key), "auto:");
	for (i = 0; i < 16 && i < mdlen; i++)
		rc += snprintf(key + rc, sizeof(key) - (size_t)rc, "%02x", md[i]);
	if (throttle_once(q->ctx->throttle, key, "", throttle_now_us() +
	    (int64_t)cfm->auto_per_address * 1000000, throttle_now_us(), NULL,
	    0) != 1) {
		log_info("request id=%s autoreply skipped: this address had one",
		    q->id);
		return;
	}
	k = (struct throttle_key){ "auto:global", { cfm->auto_max_per_day,
	    86400 } };
	if (throttle_check(q->ctx->throttle, &k, 1, throttle_now_us(), &after) !=
	    THROTTLE_OK) {
		log_warn("request id=%s autoreply skipped: max_per_day reached",
		    q->id);
		return;
	}
	message_date(now, date, sizeof(date));
	for (i = 0; i < cfm->nfields && nv + 3 < CONF_MAX_AUTO_VARS; i++) {
		if (cfm->fields[i].multiline ||
		    (v = form_get(f, cfm->fields[i].name)) == NULL)
			continue;
		vars[nv++] = (struct tmpl_var){ cfm->fields[i].name, v->value,
		    v->value_len, NULL, 0 };
	}
	vars[nv++] = (struct tmpl_var){ "_form", cfm->id, strlen(cfm->id),
	    NULL, 0 };
	vars[nv++] = (struct tmpl_var){ "_id", q->id, strlen(q->id), NULL, 0 };
	vars[nv++] = (struct tmpl_var){ "_date", date, strlen(date), NULL, 0 };
	root = (struct tmpl_scope){ vars, nv, NULL };
	memset(&m, 0, sizeof(m));
	memset(&meta, 0, sizeof(meta));
	if (tmpl_render(cfm->auto_subject, TMPL_TEXT, &root, REQ_MAX_SUBJECT,
	    &subj) == -1 || subj.data == NULL ||
	    validate_header_text(subj.data, subj.len) != VALIDATE_TEXT_OK ||
	    tmpl_render(cfm->auto_text, TMPL_TEXT, &root, 65536, &text) == -1 ||
	    (cfm->auto_html != NULL && tmpl_render(cfm->auto_html, TMPL_HTML,
	    &root, 65536, &html) == -1)) {
		log_err("request id=%s autoreply could not be rendered", q->id);
		goto out;
	}
	rcpt = (struct message_mailbox){ NULL, to->value };
	m.from = (struct message_mailbox){ cf->from.display, cf->from.addr };
	m.to = &rcpt;
	m.nto = 1;
	m.subject = subj.data;
	if (spool_new_id(meta.id) == -1)
		goto out;
	m.id = meta.id;
	m.hostname = cf->message_id_domain;
	m.date = now;
	m.auto_submitted = "auto-replied";
	m.text = text.data ? text.data : "";
	m.text_len = text.len;
	m.html = html.data;
	m.html_len = html.len;
	if (message_build(&m, &msg) == -1) {
		log_err("request id=%s autoreply could not be built", q->id);
		goto out;
	}
	snprintf(meta.form, sizeof(meta.form), "%s", cfm->id);
	snprintf(meta.from, sizeof(meta.from), "%s", cf->envelope_from);
	meta.created = meta.next_try = now;
	meta.rcpt[0] = (char *)(uintptr_t)to->value;
	meta.nrcpt = 1;
	if (spool_commit(cf->spool_dir, &meta, msg.data, msg.len) == -1)
		log_err("request id=%s autoreply not spooled: %m", q->id);
	else
		log_info("request id=%s autoreply queued as %s", q->id, meta.id);
out:
	buf_free(&subj);
	buf_free(&text);
	buf_free(&html);
	buf_free(&msg);
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

	if (q->form->extra != CONF_EXTRA_INCLUDE ||
	    validate_reserved_name(ff->name, ff->name_len) ||
	    (q->form->honeypot != NULL &&
	    strcmp(ff->name, q->form->honeypot) == 0))
		return 0;
	for (i = 0; i < q->form->nfields; i++)
		if (strcmp(ff->name, q->form->fields[i].name) == 0)
			return 0;
	return 1;
}

/* Asks rspamd about the rendered message; logs the verdict. */
static enum spam_verdict
req_rspamd(struct req *q, const struct spool_meta *meta, const struct buf *msg)
{
	enum spam_verdict	 v;
	double			 score = 0;
	char			 why[512];

	v = spam_check(q->ctx->spam, msg->data, msg->len, q->ip[0] ? q->ip :
	    NULL, meta->from, (const char *const *)meta->rcpt, meta->nrcpt,
	    NULL, NULL, q->id, &score, why, sizeof(why));
	if (v == SPAM_UNAVAILABLE)
		log_err("request id=%s rspamd unavailable (%s): %s", q->id,
		    q->cf->spam.fail_open ? "spooled anyway, fail_open" :
		    "refused", why);
	else if (v != SPAM_HAM)
		log_warn("request id=%s rspamd %s score=%.2f: %s", q->id,
		    spam_verdict_name(v), score, why);
	return v;
}

/*
 * Renders and builds the message, asks rspamd when configured, then
 * commits it to the spool (held/ when rspamd says hold).  Returns 0 when
 * queued, 2 when held, 1 when rspamd rejected it (nothing kept), -1 on an
 * internal error (500), -2 when the spool could not commit (503), -3 when
 * rspamd could not be asked and fail_open is off (503).
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
	struct message_attachment att[REQ_MAX_ATTACH];
	size_t			 natt = 0;
	int			 rc = -1, held;

	memset(&meta, 0, sizeof(meta));
	memset(&m, 0, sizeof(m));
	vals = calloc(f->nfields + cfm->nfields, sizeof(*vals));
	vars = calloc(f->nfields + cfm->nfields + 5, sizeof(*vars));
	iv = calloc(f->nfields + cfm->nfields, sizeof(*iv));
	items = calloc(f->nfields + cfm->nfields, sizeof(*items));
	to = calloc(q->route.nto + 1, sizeof(*to));
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
	if (q->route.subject != NULL) {
		if (buf_add(&subj, q->route.subject->value, q->route.subject->value_len) ==
		    -1)
			goto out;
	} else if (tmpl_render(cfm->subject, TMPL_TEXT, &root, REQ_MAX_SUBJECT,
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
	    (cfm->html != NULL && !q->route.plain &&
	    tmpl_render(cfm->html, TMPL_HTML, &root, maxout, &html) == -1)) {
		log_err("request %s: rendering failed", q->id);
		goto out;
	}

	for (i = 0; i < q->route.nto; i++)
		to[i] = (struct message_mailbox){ q->route.to[i].display,
		    q->route.to[i].addr };
	for (i = 0; i < cfm->ncc; i++)
		cc[i] = (struct message_mailbox){ cfm->cc[i].display,
		    cfm->cc[i].addr };
	m.from = (struct message_mailbox){ cf->from.display, cf->from.addr };
	if (q->route.reply != NULL) {
		/* Checked: one addr-spec, no controls, NUL-free. */
		reply = (struct message_mailbox){ q->route.reply_name != NULL ?
		    q->route.reply_name->value : NULL, q->route.reply->value };
		m.reply_to = &reply;
		/* A receiving rspamd scores Reply-To elsewhere while a
		 * recipient shares From's domain as SPOOF_REPLYTO (+6.0),
		 * unless From is the first To (its web-form exemption):
		 * sender.same_domain_from "recipient", conf.h. */
		if (cf->from_recipient && q->route.nto > 0 &&
		    conf_same_domain(q->route.to[0].addr, cf->from.addr))
			m.from.addr = q->route.to[0].addr;
	}
	m.to = to;
	m.nto = q->route.nto;
	m.cc = cc;
	m.ncc = cfm->ncc;
	m.subject = subj.data;
	m.id = q->id;
	m.hostname = cf->message_id_domain;
	m.date = now;
	m.client_ip = q->ip[0] ? q->ip : NULL;
	m.text = text.data ? text.data : "";
	m.text_len = text.len;
	m.html = q->route.plain ? NULL : html.data;
	for (i = 0; i < f->nfiles && natt < REQ_MAX_ATTACH; i++) {
		if (f->files[i].len == 0 || f->files[i].data == NULL)
			continue;
		att[natt++] = (struct message_attachment){ f->files[i].filename,
		    f->files[i].sniffed_type, f->files[i].data, f->files[i].len };
	}
	m.attachments = natt ? att : NULL;
	m.nattachments = natt;
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
	for (i = 0; i < q->route.nto && meta.nrcpt < SPOOL_MAX_RCPT; i++)
		meta.rcpt[meta.nrcpt++] = q->route.to[i].addr;
	for (i = 0; i < cfm->ncc && meta.nrcpt < SPOOL_MAX_RCPT; i++)
		meta.rcpt[meta.nrcpt++] = cfm->cc[i].addr;
	for (i = 0; i < cfm->nbcc && meta.nrcpt < SPOOL_MAX_RCPT; i++)
		meta.rcpt[meta.nrcpt++] = cfm->bcc[i].addr;
	held = 0;
	if (q->ctx->spam != NULL) {
		switch (req_rspamd(q, &meta, &msg)) {
		case SPAM_REJECT:
			rc = 1;
			goto out;
		case SPAM_HOLD:
			held = 1;
			break;
		case SPAM_UNAVAILABLE:
			if (!cf->spam.fail_open) {
				rc = -3;
				goto out;
			}
			break;
		default:
			break;
		}
	}
	if ((held ? spool_commit_held(cf->spool_dir, &meta, msg.data,
	    msg.len) : spool_commit(cf->spool_dir, &meta, msg.data, msg.len)) ==
	    -1) {
		log_err("request %s: spool commit failed: %m", q->id);
		rc = -2;
		goto out;
	}
	rc = held ? 2 : 0;
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

/*
 * Accepted (or silently dropped, which must look the same).  next: the
 * allowlisted _next/redirect, else NULL.  Formspree-style JSON names
 * where the page should go: next, else success_url, else the way back
 * (req_back); without any, no "next".
 */
static void
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
 * wait), GATE_INVALID 422 with the field errors, GATE_SILENT and
 * GATE_REPEAT the answer of an accepted post (its redirect, the id: the
 * first post's for a repeat).  GATE_HOLD is answered as accepted by the
 * commit, not here.  f: the parsed post, NULL before the body.
 */
static void
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

static void
req_post(struct req *q)
{
	struct form		*f = NULL;
	struct gate_in		 in;
	struct gate_out		 go;
	const char		*ct;
	char			*body = NULL;
	struct form_limits	 fl;
	enum form_kind		 kind;
	unsigned long long	 len;
	size_t			 i, got;
	enum form_err		 fe;
	int			 n, rc;

	in = (struct gate_in){ .cf = q->cf, .form = q->form,
	    .throttle = q->ctx->throttle, .ip = q->ip, .https = req_is_https(q),
	    .origin = req_param(q, "HTTP_ORIGIN"),
	    .referer = req_param(q, "HTTP_REFERER"),
	    .content_type = req_param(q, "CONTENT_TYPE"),
	    .content_length = req_param(q, "CONTENT_LENGTH"),
	    .now_us = throttle_now_us() };
	if (gate_run(gate_head, gate_nhead, &in, &go) != NULL) {
		answer_verdict(q, &go, NULL);
		return;
	}
	ct = in.content_type;
	kind = in.kind;
	len = in.length;
	if ((body = malloc((size_t)len + 1)) == NULL) {
		req_fail(q, 503, NULL, "no_memory", LANG_TRY_LATER);
		return;
	}
	for (got = 0; got < len; got += (size_t)n)
		if ((n = req_read(q, body + got, len - got)) <= 0)
			break;
	if (got != len) {
		req_fail(q, 400, NULL, "short_body", LANG_BAD_REQUEST);
		goto out;
	}
	switch (kind) {
	case FORM_KIND_MULTIPART:
		fl.max_fields = q->cf->max_fields + q->form->up_max_files;
		fl.max_part_header = FORM_MAX_PART_HEADER;
		if (q->form->up_allowed != NULL) {
			fl.max_files = q->form->up_max_files;
			fl.max_file_size = q->form->up_max_file_size;
			fl.max_total = q->form->up_max_total;
		} else {
			/* FormData on a form without uploads: file parts
			 * are noted (422 "file"), their data never kept. */
			fl.max_files = fl.max_fields;
			fl.max_file_size = 0;
			fl.max_total = 0;
		}
		fe = form_parse_multipart(body, (size_t)len, ct, &fl, &f);
		break;
	case FORM_KIND_JSON:
		fe = form_parse_json(body, (size_t)len, q->cf->max_fields, &f);
		break;
	default:
		fe = form_parse_urlencoded(body, (size_t)len,
		    q->cf->max_fields, &f);
		break;
	}
	if (fe == FORM_ETOOMANY || fe == FORM_ETOOBIG) {
		req_fail(q, 413, NULL, "too_many_fields", LANG_TOO_MANY);
		goto out;
	}
	if (fe != FORM_OK) {
		req_fail(q, fe == FORM_ENOMEM ? 503 : 400, NULL, "bad_body",
		    LANG_BAD_REQUEST);
		goto out;
	}
	for (i = 0; i < f->nfields; i++)
		if (f->fields[i].value_len > q->cf->max_value) {
			req_fail(q, 413, NULL, "value_too_large",
			    LANG_VALUE_TOO_LARGE);
			goto out;
		}
	if (spool_new_id(q->id) == -1) {
		req_fail(q, 503, NULL, "no_random", LANG_TRY_LATER);
		goto out;
	}
	in.post = f;
	in.altcha_key = q->ctx->altcha_key;
	in.captcha = q->ctx->captcha != NULL ?
	    q->ctx->captcha[q->form - q->cf->forms] : NULL;
	in.id = q->id;
	in.dupkey[0] = '\0';
	if (gate_run(gate_body, gate_nbody, &in, &go) != NULL) {
		q->route = in.route;
		answer_verdict(q, &go, f);
		goto out;
	}
	q->route = in.route;
	if ((rc = req_submit(q, f)) < 0 && in.dupkey[0] != '\0' &&
	    throttle_forget(q->ctx->throttle, in.dupkey) == -1)
		log_err("request id=%s: cannot forget the duplicate key: a "
		    "repeat within %lds is answered but not sent", q->id,
		    q->cf->duplicate_window);
	if (rc == 1) {
		gate_dup_record(&in);	/* a repeat gets the same answer */
		q->outcome = "spam_rspamd";
		req_accepted(q, req_redirect(q, f));
		goto out;
	}
	if (rc == -3) {
		req_fail(q, 503, "Retry-After: 60\r\n", "rspamd_unavailable",
		    LANG_NOT_CHECKED);
		goto out;
	}
	if (rc == -2) {
		req_fail(q, 503, "Retry-After: 60\r\n", "spool_failed",
		    LANG_NOT_STORED);
		goto out;
	} else if (rc == -1) {
		req_fail(q, 500, NULL, "internal", LANG_INTERNAL);
		goto out;
	}
	gate_dup_record(&in);
	q->outcome = rc == 2 ? "held" : "accepted";
	req_accepted(q, req_redirect(q, f));
	/* Only once the notification itself is durable. */
	if (rc == 0 && q->form->auto_text != NULL)
		req_autoreply(q, f);
out:
	form_free(f);
	free(body);
}

/* One counter per answered request (stats.h), by outcome and status. */
static void
req_count(const struct req *q)
{
	struct stats	*s = q->ctx->stats;
	const char	*o = q->outcome;

	if (strcmp(o, "accepted") == 0 || strcmp(o, "held") == 0) {
		stats_inc(s, STATS_ACCEPTED);
		if (o[0] == 'h')
			stats_inc(s, STATS_HELD);
	} else if (strcmp(o, "honeypot") == 0 || strncmp(o, "spam_", 5) == 0)
		stats_inc(s, STATS_SPAM);
	else if (strcmp(o, "duplicate") == 0)
		stats_inc(s, STATS_DUPLICATE);
	else if (strcmp(o, "challenge_failed") == 0 ||
	    strcmp(o, "captcha_failed") == 0)
		stats_inc(s, STATS_CHALLENGE);
	else if (strcmp(o, "invalid") == 0)
		stats_inc(s, STATS_INVALID);
	else if (q->status == 429)
		stats_inc(s, STATS_THROTTLED);
	else if (q->status == 403)
		stats_inc(s, STATS_FORBIDDEN);
	else if (q->status == 413)
		stats_inc(s, STATS_TOO_LARGE);
	else if (q->status == 415)
		stats_inc(s, STATS_BAD_TYPE);
	else if (q->status == 404)
		stats_inc(s, STATS_NOT_FOUND);
	else if (q->status == 405)
		stats_inc(s, STATS_BAD_METHOD);
	else if (q->status == 400 || q->status == 414)
		stats_inc(s, STATS_BAD_REQUEST);
	else if (q->status >= 500)
		stats_inc(s, STATS_UNAVAILABLE);
}

/* GET <prefix>/_metrics from an allowed address: Prometheus text. */
static int
req_metrics(struct req *q, const char *id, size_t idlen)
{
	struct buf	 b = BUF_INIT;
	size_t		 i;

	if (idlen != 8 || memcmp(id, "_metrics", 8) != 0)
		return 0;
	for (i = 0; i < q->cf->nmetrics_allow; i++)
		if (strcmp(q->cf->metrics_allow[i], q->ip) == 0)
			break;
	if (i == q->cf->nmetrics_allow || q->ctx->stats == NULL) {
		req_fail(q, 404, NULL, "unknown_form", LANG_NO_FORM);
		return 1;
	}
	q->outcome = "metrics";
	if (stats_render(q->ctx->stats, q->cf->spool_dir, &b) == -1)
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
	const char	*method, *id, *addr;
	unsigned char	 sa[sizeof(struct in6_addr)];
	size_t		 idlen;
	int		 challenge;

	memset(&q, 0, sizeof(q));
	q.ctx = ctx;
	q.cf = ctx->cf;
	q.r = r;
	q.outcome = "error";
	clock_gettime(CLOCK_MONOTONIC, &q.t0);
	q.json = req_wants_json(&q);
	q.lang = req_lang(&q, LANG_ALL);
	addr = req_param(&q, "REMOTE_ADDR");
	if (addr != NULL && (inet_pton(AF_INET, addr, sa) == 1 ||
	    inet_pton(AF_INET6, addr, sa) == 1))
		snprintf(q.ip, sizeof(q.ip), "%s", addr);
	method = req_param(&q, "REQUEST_METHOD");
	if (method == NULL)
		method = "";

	if (req_form_id(&q, &id, &idlen, &challenge) == -1)
		req_fail(&q, 414, NULL, "uri_too_long", LANG_BAD_REQUEST);
	else if (!challenge && strcmp(method, "GET") == 0 &&
	    req_metrics(&q, id, idlen))
		;
	else if ((q.form = conf_form_find(q.cf, id, idlen)) == NULL)
		req_fail(&q, 404, NULL, "unknown_form", LANG_NO_FORM);
	else if (challenge) {
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

int
request_ctx_init(struct request_ctx *ctx, const struct conf *cf,
    struct throttle *t, const unsigned char *altcha_key, char *err,
    size_t errsize)
{
	struct captcha_conf	 cc;
	struct spam_conf	 sc;
	const struct conf_form	*f;
	size_t			 i;

	memset(ctx, 0, sizeof(*ctx));
	ctx->cf = cf;
	ctx->throttle = t;
	ctx->altcha_key = altcha_key;
	if ((ctx->captcha = calloc(cf->nforms + 1, sizeof(*ctx->captcha))) ==
	    NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	if (cf->spam.rspamd_url != NULL) {
		memset(&sc, 0, sizeof(sc));
		sc.url = cf->spam.rspamd_url;
		sc.reject_score = cf->spam.reject_score;
		sc.hold_score = cf->spam.hold_score;
		sc.timeout_ms = cf->spam.timeout * 1000;
		if ((ctx->spam = spam_open(&sc)) == NULL) {
			snprintf(err, errsize, "rspamd client for %s cannot be "
			    "set up", cf->spam.rspamd_url);
			request_ctx_free(ctx);
			return -1;
		}
	}
	for (i = 0; i < cf->nforms; i++) {
		f = &cf->forms[i];
		if (f->captcha.kind == CONF_CAPTCHA_NONE)
			continue;
		memset(&cc, 0, sizeof(cc));
		cc.kind = gate_captcha_kind(f->captcha.kind);
		cc.secret = f->captcha.secret;
		cc.verify_url = f->captcha.verify_url;
		cc.hostnames = (const char *const *)f->captcha.hostnames;
		cc.nhostnames = f->captcha.nhostnames;
		cc.action = f->captcha.action;
		cc.min_score = f->captcha.min_score;
		cc.timeout_ms = f->captcha.timeout * 1000;
		if (captcha_open(&cc, &ctx->captcha[i], err, errsize) == -1) {
			request_ctx_free(ctx);
			return -1;
		}
	}
	return 0;
}

void
request_ctx_free(struct request_ctx *ctx)
{
	size_t	 i;

	if (ctx->captcha != NULL)
		for (i = 0; i < ctx->cf->nforms; i++)
			captcha_close(ctx->captcha[i]);
	free(ctx->captcha);
	ctx->captcha = NULL;
	spam_close(ctx->spam);
	ctx->spam = NULL;
}

void
request_handle_cgi(const struct request_ctx *ctx)
{
	request_handle(ctx, NULL);
}

/*
 * A sample value for a configured field that passes its rules: an address
 * for email fields, a letter-bearing text cut to max_length otherwise.
 */
static int
req_sample(const struct conf *cf, const struct conf_field *fd, struct buf *b)
{
	const char	*at;
	size_t		 n;

	if (fd->email) {
		at = strrchr(cf->envelope_from, '@');
		return buf_printf(b, "send-test@%s", at ? at + 1 :
		    "example.com");
	}
	if (buf_adds(b, fd->multiline ? "This is a test submission queued by "
	    "form2mail send-test.\nIf it reached you, the form's mail path "
	    "works." : "form2mail send-test") == -1)
		return -1;
	/* ASCII sample: octets are code points. */
	n = fd->max_length;
	if (n > 0 && b->len > n) {
		b->len = n;
		b->data[n] = '\0';
	}
	return 0;
}

/* Appends name=value, both percent-encoded, to an urlencoded body. */
static int
req_pair_add(struct buf *b, const char *name, const char *value, size_t len)
{
	char	*n, *v;
	int	 rc = -1;

	n = curl_easy_escape(NULL, name, 0);
	v = curl_easy_escape(NULL, value, (int)len);
	if (n != NULL && v != NULL)
		rc = buf_printf(b, "%s%s=%s", b->len ? "&" : "", n, v);
	curl_free(n);
	curl_free(v);
	return rc;
}

int
request_send_test(const struct request_ctx *ctx, const char *form_id,
    char *id, size_t idsize)
{
	struct req		 q;
	struct form		*f = NULL;
	struct validate_error	 errs[VALIDATE_MAX_ERRORS];
	struct buf		 body = BUF_INIT, v = BUF_INIT;
	const struct conf_field	*fd;
	size_t			 i, nerr;
	int			 rc = -1;

	memset(&q, 0, sizeof(q));
	q.ctx = ctx;
	q.cf = ctx->cf;
	q.outcome = "send_test";
	if ((q.form = conf_form_find(q.cf, form_id, strlen(form_id))) == NULL) {
		log_err("send-test: no form \"%s\" in the config", form_id);
		return -1;
	}
	for (i = 0; i < q.form->nfields; i++) {
		fd = &q.form->fields[i];
		v.len = 0;
		if (req_sample(q.cf, fd, &v) == -1 || req_pair_add(&body,
		    fd->name, v.data ? v.data : "", v.len) == -1)
			goto out;
	}
	if (q.form->route_field != NULL && q.form->nchoices > 0 &&
	    req_pair_add(&body, q.form->route_field, q.form->choices[0].value,
	    strlen(q.form->choices[0].value)) == -1)
		goto out;
	if (form_parse_urlencoded(body.data ? body.data : "", body.len,
	    q.cf->max_fields, &f) != FORM_OK)
		goto out;
	nerr = validate_form(q.form, f, errs, VALIDATE_MAX_ERRORS);
	if ((nerr = form_resolve(q.form, f, &q.route, errs,
	    nerr < VALIDATE_MAX_ERRORS ? nerr : VALIDATE_MAX_ERRORS)) > 0) {
		for (i = 0; i < nerr && i < VALIDATE_MAX_ERRORS; i++)
			log_err("send-test: field %s: %s (the form's rules "
			    "refuse the sample value)", errs[i].field,
			    errs[i].code);
		goto out;
	}
	if (spool_new_id(q.id) == -1)
		goto out;
	snprintf(q.ip, sizeof(q.ip), "127.0.0.1");
	if (req_submit(&q, f) != 0) {
		log_err("send-test: the sample could not be queued");
		goto out;
	}
	snprintf(id, idsize, "%s", q.id);
	rc = 0;
out:
	form_free(f);
	buf_free(&body);
	buf_free(&v);
	return rc;
}
