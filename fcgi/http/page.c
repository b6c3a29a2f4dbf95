/*
 * page: the built-in answer page and the form's thanks and error
 * templates, in the visitor's language (Accept-Language).
 */
#include "http/http_int.h"
#include "lib/text.h"

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
int
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
const char *
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
	if (text_field_name_ok(name, strlen(name)))
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
const char *
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
void
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
enum lang
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
int
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
