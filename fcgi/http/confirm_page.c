/*
 * confirm_page: the autoresponder's confirmation link, .../<form>/confirm
 * ?t=TOKEN (docs/DESIGN.md "Autoresponder").  GET and HEAD show its page
 * (confirm.<lang>.html) and change nothing: mail scanners fetch links.
 * The POST from that page sends the reply (autoreply_confirm()).  A
 * token that is not one of this form's: 400; an expired one: 410; both
 * send nothing.
 */
#include "http/http_int.h"
#include "mail/autoreply.h"
#include "mail/confirm.h"

/* The value of "t=" leading QUERY_STRING (untrusted), or NULL. */
static const char *
req_confirm_token(const struct req *q, size_t *len)
{
	const char	*qs = req_param(q, "QUERY_STRING");

	if (qs == NULL || strncmp(qs, "t=", 2) != 0)
		return NULL;
	*len = strcspn(qs + 2, "&");
	return qs + 2;
}

/* The page, before (done 0) or after the POST; tok passed confirm_check,
 * so it is of [0-9a-z.] only. */
static void
req_confirm_page(struct req *q, const char *tok, size_t len, int done)
{
	struct tmpl_var		 vars[4];
	struct tmpl_scope	 root;
	struct buf		 out = BUF_INIT;
	unsigned int		 have = 0;
	char			 cl[64];
	enum lang		 lang;
	size_t			 i;

	for (i = 0; i < LANG_COUNT; i++)
		if (q->form->auto_confirm_page[i] != NULL)
			have |= LANG_BIT(i);
	lang = req_lang(q, have);
	vars[0] = (struct tmpl_var){ "_form", q->form->id, strlen(q->form->id),
	    NULL, 0 };
	vars[1] = (struct tmpl_var){ "_token", tok, len, NULL, 0 };
	vars[2] = (struct tmpl_var){ "_done", "1", done ? 1 : 0, NULL, 0 };
	vars[3] = (struct tmpl_var){ "_lang", lang_tag(lang),
	    strlen(lang_tag(lang)), NULL, 0 };
	root = (struct tmpl_scope){ vars, 4, NULL };
	if (have == 0 || tmpl_render(q->form->auto_confirm_page[lang],
	    TMPL_HTML, &root, 256 * 1024, &out) == -1) {
		buf_free(&out);
		req_fail(q, 500, NULL, "internal", LANG_INTERNAL);
		return;
	}
	q->outcome = done ? "confirmed" : "confirm_page";
	snprintf(cl, sizeof(cl), "Content-Language: %s\r\n"
	    "Referrer-Policy: no-referrer\r\n", lang_tag(lang));
	req_send(q, 200, "text/html; charset=utf-8", cl, out.data, out.len);
	buf_free(&out);
}

/* GET: the page for a valid token, nothing changed. */
static void
req_confirm_get(struct req *q, const char *tok, size_t len)
{
	struct confirm_claim	 c;
	enum confirm_err	 e;

	if (q->ctx->confirm_key == NULL) {
		req_fail(q, 503, NULL, "confirm_error", LANG_TRY_LATER);
		return;
	}
	e = confirm_check(q->ctx->confirm_key, q->form->id, tok, len,
	    time(NULL), &c);
	if (e == CONFIRM_OK)
		req_confirm_page(q, tok, len, 0);
	else if (e == CONFIRM_EEXPIRED)
		req_fail(q, 410, NULL, "confirm_expired", LANG_LINK_INVALID);
	else
		req_fail(q, 400, NULL, "confirm_invalid", LANG_LINK_INVALID);
}

void
req_confirm(struct req *q, const char *method)
{
	const char	*tok;
	size_t		 len = 0;

	if (!q->form->auto_confirm) {
		req_fail(q, 404, NULL, "unknown_form", LANG_NO_FORM);
		return;
	}
	if (q->cf->require_https && !req_is_https(q)) {
		req_fail(q, 403, NULL, "not_https", LANG_NOT_HTTPS);
		return;
	}
	if ((tok = req_confirm_token(q, &len)) == NULL)
		tok = "";
	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
		req_confirm_get(q, tok, len);
		return;
	}
	if (strcmp(method, "POST") != 0) {
		req_fail(q, 405, "Allow: GET, POST\r\n", "bad_method",
		    LANG_BAD_REQUEST);
		return;
	}
	switch (autoreply_confirm(q->cf, q->form, q->ctx->throttle,
	    q->ctx->confirm_key, tok, len)) {
	case AUTOREPLY_SENT:
	case AUTOREPLY_USED:	/* single use: the same page, nothing sent */
		req_confirm_page(q, tok, len, 1);
		break;
	case AUTOREPLY_LIMITED:
		req_fail(q, 429, "Retry-After: 3600\r\n", "confirm_limited",
		    LANG_RATE_TEXT);
		break;
	case AUTOREPLY_EXPIRED:
		req_fail(q, 410, NULL, "confirm_expired", LANG_LINK_INVALID);
		break;
	case AUTOREPLY_INVALID:
		req_fail(q, 400, NULL, "confirm_invalid", LANG_LINK_INVALID);
		break;
	case AUTOREPLY_ERROR:
		req_fail(q, 503, NULL, "confirm_error", LANG_TRY_LATER);
		break;
	}
}
