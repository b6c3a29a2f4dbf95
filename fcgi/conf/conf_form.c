/*
 * conf_form: "forms": each form's recipients and route, fields, uploads,
 * answers (redirects, origins, JSON style), content rules, subject and
 * templates (their variables checked against the form), and pages.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "conf/conf.h"
#include "conf/conf_json.h"
#include "lib/lang.h"
#include "lib/text.h"
#include "lib/tmpl.h"
#include "lib/url.h"

#define CONF_MAX_FORMS		256
#define CONF_MAX_FIELDS		100

static const char *const conf_form_keys[] = {
	"recipients", "route", "allow_subject_field", "cc", "bcc", "subject",
	"template", "pages", "autoresponder", "uploads", "fields",
	"success_url", "error_url", "allowed_origins", "allow_missing_origin",
	"honeypot", "extra_fields", "redirect_allowlist", "max_links",
	"blocked_phrases", "challenge", "captcha", "json_style", "site_url",
	"encrypt", "encrypted_subject", NULL
};

static const char *const conf_field_keys[] = {
	"required", "max_length", "type", "reply_to", "multiline", "label",
	"letters", NULL
};

static int
conf_ok_phrase(const char *s)
{
	size_t	 n = strlen(s);

	return n > 0 && n <= 200 &&
	    text_header_ok(s, n) == TEXT_OK;
}

static int
conf_ok_prefix(const char *s)
{
	return strncmp(s, "https://", 8) == 0 && url_prefix_ok(s);
}

static void
conf_fields(struct conf_ctx *c, const char *fp, json_t *fo,
    struct conf_form *f)
{
	char		 p[CONF_MAX_PATH], q[CONF_MAX_PATH];
	json_t		*o = conf_obj(c, fp, fo, "fields", 1), *v;
	const char	*name;
	char		*type;
	size_t		 nreply = 0;

	if (o == NULL)
		return;
	if (json_object_size(o) == 0 || json_object_size(o) > CONF_MAX_FIELDS) {
		conf_path(p, "%s/fields", fp);
		conf_err(c, p, 0, "\"fields\" must name 1 to %d fields",
		    CONF_MAX_FIELDS);
		return;
	}
	f->fields = calloc(json_object_size(o), sizeof(*f->fields));
	if (f->fields == NULL)
		return;
	json_object_foreach(o, name, v) {
		struct conf_field *fl = &f->fields[f->nfields];

		conf_path(p, "%s/fields/%s", fp, name);
		if (!text_field_name_ok(name, strlen(name)) || name[0] == '_') {
			conf_err(c, p, 1, "field name \"%s\" must be 1 to 64 "
			    "printable characters, not starting with '_'",
			    name);
			continue;
		}
		if (!json_is_object(v)) {
			conf_err(c, p, 0, "field \"%s\" must be an object",
			    name);
			continue;
		}
		f->nfields++;
		conf_known(c, p, v, conf_field_keys);
		fl->name = strdup(name);
		fl->label = conf_str(c, p, v, "label", name, 0);
		fl->required = conf_bool(c, p, v, "required", 0);
		fl->max_length = (size_t)conf_int(c, p, v, "max_length", 0, 1,
		    16 * 1024 * 1024);
		fl->reply_to = conf_bool(c, p, v, "reply_to", 0);
		fl->multiline = conf_bool(c, p, v, "multiline", 0);
		fl->letters = conf_bool(c, p, v, "letters", 0);
		type = conf_str(c, p, v, "type", "text", 0);
		conf_path(q, "%s/type", p);
		if (type != NULL && strcmp(type, "email") == 0)
			fl->email = 1;
		else if (type != NULL && strcmp(type, "text") != 0)
			conf_err(c, q, 0, "\"type\" must be \"text\" or "
			    "\"email\"");
		free(type);
		if (fl->reply_to) {
			fl->header = 1;
			if (!fl->email)
				conf_err(c, p, 0, "a \"reply_to\" field must "
				    "have \"type\": \"email\"");
			if (++nreply > 1)
				conf_err(c, p, 0, "only one field may be "
				    "\"reply_to\"");
		}
		if (fl->header && fl->multiline)
			conf_err(c, p, 0, "a header field cannot be "
			    "\"multiline\"");
	}
}

/* A MIME type "type/subtype" of token characters (RFC 2045 section 5.1). */
static int
conf_ok_mime(const char *s)
{
	size_t	 n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789!#$&^_.+-");

	return n > 0 && s[n] == '/' && s[n + 1] != '\0' &&
	    strspn(s + n + 1, "abcdefghijklmnopqrstuvwxyz0123456789!#$&^_.+-") ==
	    strlen(s + n + 1) && strlen(s) <= 100;
}

/*
 * "uploads": {"allowed_types": [...], "max_file_size": N, "max_files": N,
 * "max_total": N}; the types are those form_sniff() finds by content.
 */
static void
conf_uploads(struct conf_ctx *c, const char *fp, json_t *fo,
    struct conf_form *f)
{
	static const char *const keys[] = { "allowed_types", "max_file_size",
	    "max_files", "max_total", NULL };
	json_t	*o = conf_obj(c, fp, fo, "uploads", 0);
	char	 p[CONF_MAX_PATH];

	if (o == NULL)
		return;
	conf_path(p, "%s/uploads", fp);
	conf_known(c, p, o, keys);
	conf_strings(c, p, o, "allowed_types", conf_ok_mime, "a MIME type "
	    "such as \"application/pdf\" (lower case)", &f->up_allowed,
	    &f->nup_allowed);
	if (f->nup_allowed == 0)
		conf_err(c, p, 0, "\"uploads\" needs \"allowed_types\"");
	f->up_max_file_size = (size_t)conf_int(c, p, o, "max_file_size",
	    5 * 1024 * 1024, 1, 64 * 1024 * 1024);
	f->up_max_files = (size_t)conf_int(c, p, o, "max_files", 3, 1, 20);
	f->up_max_total = (size_t)conf_int(c, p, o, "max_total",
	    10 * 1024 * 1024, 1, 64 * 1024 * 1024);
}

/* "route": {"field": F, "choices": {"sales": ["..."], ...}} */
static void
conf_route(struct conf_ctx *c, const char *fp, json_t *fo,
    struct conf_form *f)
{
	static const char *const keys[] = { "field", "choices", NULL };
	json_t		*o = conf_obj(c, fp, fo, "route", 0), *ch, *v;
	char		 p[CONF_MAX_PATH], q[CONF_MAX_PATH];
	const char	*name;

	if (o == NULL)
		return;
	conf_path(p, "%s/route", fp);
	conf_known(c, p, o, keys);
	f->route_field = conf_str(c, p, o, "field", NULL, 1);
	if (f->route_field != NULL && (f->route_field[0] == '_' ||
	    !text_field_name_ok(f->route_field, strlen(f->route_field))))
		conf_err(c, p, 0, "route \"field\" must be a field name not "
		    "starting with '_'");
	if ((ch = conf_obj(c, p, o, "choices", 1)) == NULL)
		return;
	if (json_object_size(ch) == 0 || json_object_size(ch) > CONF_MAX_LIST) {
		conf_err(c, p, 0, "route \"choices\" must name 1 to %d choices",
		    CONF_MAX_LIST);
		return;
	}
	if ((f->choices = calloc(json_object_size(ch), sizeof(*f->choices))) ==
	    NULL)
		return;
	json_object_foreach(ch, name, v) {
		struct conf_choice *k = &f->choices[f->nchoices++];

		conf_path(q, "%s/choices", p);
		if ((k->value = strdup(name)) == NULL)
			return;
		if (text_header_ok(name, strlen(name)) !=
		    TEXT_OK || strlen(name) > 200 || name[0] == '\0')
			conf_err(c, q, 1, "choice \"%s\" must be 1 to 200 "
			    "printable characters", name);
		conf_mailboxes(c, q, ch, name, &k->to, &k->nto);
		if (k->nto == 0) {
			conf_path(q, "%s/choices/%s", p, name);
			conf_err(c, q, 0, "choice \"%s\" names no recipient",
			    name);
		}
	}
}

/* DIR/NAME.EXT, its errors reported at path (a missing file only when
 * required); a syntax error points into the template file itself. */
struct tmpl *
conf_tmpl_file(struct conf_ctx *c, const char *path, const char *dir,
    const char *name, const char *ext, int required)
{
	char		 err[PATH_MAX + 256];
	struct tmpl	*t;

	switch (tmpl_load(dir, name, ext, &t, err, sizeof(err))) {
	case TMPL_LOAD_ABSENT:
		if (required)
			conf_err(c, path, 0, "%s", err);
		break;
	case TMPL_LOAD_FILE:
		conf_err(c, path, 0, "%s", err);
		break;
	case TMPL_LOAD_SYNTAX:
		fprintf(stderr, "%s\n", err);
		c->errors++;
		break;
	case TMPL_LOAD_OK:
	case TMPL_LOAD_NOMEM:
		break;
	}
	return t;
}

/*
 * "pages": {"thanks": NAME, "error": NAME}: the answer pages,
 * NAME.<lang>.html in templates_dir for each language of lang.h (a named
 * page must have its .en.html, the fallback).  Without "pages", the
 * shipped thanks.*.html and error.*.html serve when they are there.
 */
static void
conf_pages(struct conf_ctx *c, const char *fp, json_t *fo,
    struct conf_form *f)
{
	static const char *const keys[] = { "thanks", "error", NULL };
	json_t		*o = conf_obj(c, fp, fo, "pages", 0);
	const char	*dir = c->conf->templates_dir;
	char		 p[CONF_MAX_PATH], name[96];
	char		*thanks = NULL, *error = NULL;
	size_t		 i;

	if (dir == NULL)
		return;
	conf_path(p, "%s/pages", fp);
	if (o != NULL) {
		conf_known(c, p, o, keys);
		thanks = conf_str(c, p, o, "thanks", NULL, 0);
		error = conf_str(c, p, o, "error", NULL, 0);
		if ((thanks != NULL && !conf_is_token(thanks, 64)) ||
		    (error != NULL && !conf_is_token(error, 64)))
			conf_err(c, p, 0, "page names are letters, digits, '_' "
			    "or '-'");
	}
	for (i = 0; i < LANG_COUNT && c->errors == 0; i++) {
		snprintf(name, sizeof(name), "%s.%s", thanks ? thanks :
		    "thanks", lang_tag((enum lang)i));
		f->thanks[i] = conf_tmpl_file(c, p, dir, name, "html",
		    thanks != NULL && i == LANG_EN);
		snprintf(name, sizeof(name), "%s.%s", error ? error : "error",
		    lang_tag((enum lang)i));
		f->error[i] = conf_tmpl_file(c, p, dir, name, "html",
		    error != NULL && i == LANG_EN);
	}
	free(thanks);
	free(error);
}

struct conf_warn_arg {
	struct conf_ctx		*c;
	const struct conf_form	*f;
	const char		*path;
	const char		*file;
};

/* Names the notification templates get besides the form's fields. */
static const char *const conf_tmpl_vars[] = { "fields", "name", "label",
    "value", "multiline", "_form", "_id", "_date", "_ip", NULL };

static void
conf_tmpl_name(const char *name, void *arg)
{
	struct conf_warn_arg	*a = arg;
	const struct conf_pos	*pos;
	size_t			 i;

	for (i = 0; conf_tmpl_vars[i] != NULL; i++)
		if (strcmp(conf_tmpl_vars[i], name) == 0)
			return;
	for (i = 0; i < a->f->nfields; i++)
		if (strcmp(a->f->fields[i].name, name) == 0)
			return;
	/* A warning, not an error: the value just renders empty. */
	pos = conf_pos_find(a->c, a->path);
	fprintf(stderr, "%s:%d:%d: warning: template %s uses \"%s\", which is "
	    "not a field of form \"%s\"\n", a->c->file, pos ? pos->vline : 1,
	    pos ? pos->vcol : 1, a->file, name, a->f->id);
}

static void
conf_tmpl_check(struct conf_ctx *c, const char *path,
    const struct conf_form *f, const struct tmpl *t, const char *name,
    const char *ext)
{
	struct conf_warn_arg	 a;
	char			 file[160];

	if (t == NULL)
		return;
	snprintf(file, sizeof(file), "%s.%s", name, ext);
	a = (struct conf_warn_arg){ c, f, path, file };
	tmpl_names(t, conf_tmpl_name, &a);
}

struct conf_subj_arg {
	struct conf_ctx		*c;
	struct conf_form	*f;
	const char		*path;
};

/* Fields the subject uses are header-bound; unknown names are errors,
 * because their values could not be checked as header text. */
static void
conf_subject_name(const char *name, void *arg)
{
	struct conf_subj_arg	*a = arg;
	size_t			 i;

	if (strcmp(name, "_form") == 0 || strcmp(name, "_id") == 0)
		return;
	for (i = 0; i < a->f->nfields; i++)
		if (strcmp(a->f->fields[i].name, name) == 0) {
			a->f->fields[i].header = 1;
			if (a->f->fields[i].multiline)
				conf_err(a->c, a->path, 0, "subject uses "
				    "multiline field \"%s\"", name);
			return;
		}
	conf_err(a->c, a->path, 0, "subject uses \"%s\", which is not a "
	    "field of this form (nor _form or _id)", name);
}

/* Recipients: "recipients", "cc", "bcc" or a "route", and their limits. */
static void
conf_form_rcpt(struct conf_ctx *c, const char *p, const char *id, json_t *fo,
    struct conf_form *f)
{
	conf_mailboxes(c, p, fo, "recipients", &f->to, &f->nto);
	conf_mailboxes(c, p, fo, "cc", &f->cc, &f->ncc);
	conf_mailboxes(c, p, fo, "bcc", &f->bcc, &f->nbcc);
	conf_route(c, p, fo, f);
	if (json_object_get(fo, "recipients") == NULL && f->route_field == NULL)
		conf_err(c, p, 0, "form \"%s\" has no \"recipients\" (nor a "
		    "\"route\")", id);
	if (json_object_get(fo, "recipients") != NULL && f->route_field != NULL)
		conf_err(c, p, 0, "form \"%s\" has both \"recipients\" and "
		    "\"route\"", id);
	f->allow_subject_field = conf_bool(c, p, fo, "allow_subject_field", 0);
	if (f->nto + f->ncc + f->nbcc > CONF_MAX_LIST)
		conf_err(c, p, 0, "too many recipients (at most %d)",
		    CONF_MAX_LIST);
}

/* Where answers send the visitor and who may post: redirects, site_url,
 * json_style, allowed_origins, redirect_allowlist. */
static void
conf_form_answers(struct conf_ctx *c, const char *p, json_t *fo,
    struct conf_form *f)
{
	char	 q[CONF_MAX_PATH];
	char	*s;

	f->success_url = conf_str(c, p, fo, "success_url", NULL, 0);
	conf_path(q, "%s/success_url", p);
	if (f->success_url && !url_prefix_ok(f->success_url))
		conf_err(c, q, 0, "\"success_url\" must be an https:// URL or "
		    "a path starting with '/'");
	f->site_url = conf_str(c, p, fo, "site_url", NULL, 0);
	conf_path(q, "%s/site_url", p);
	if (f->site_url && (strncmp(f->site_url, "https://", 8) != 0 ||
	    !url_prefix_ok(f->site_url)))
		conf_err(c, q, 0, "\"site_url\" must be an https:// URL");
	s = conf_str(c, p, fo, "json_style", "form2mail", 0);
	conf_path(q, "%s/json_style", p);
	if (s != NULL && strcmp(s, "formspree") == 0)
		f->json_style = CONF_JSON_FORMSPREE;
	else if (s != NULL && strcmp(s, "form2mail") != 0)
		conf_err(c, q, 0, "\"json_style\" must be \"form2mail\" or "
		    "\"formspree\"");
	free(s);
	f->error_url = conf_str(c, p, fo, "error_url", NULL, 0);
	conf_path(q, "%s/error_url", p);
	if (f->error_url && !url_prefix_ok(f->error_url))
		conf_err(c, q, 0, "\"error_url\" must be an https:// URL or a "
		    "path starting with '/'");
	conf_strings(c, p, fo, "allowed_origins", url_origin_ok,
	    "an origin such as \"https://example.com\" (no path)",
	    &f->origins, &f->norigins);
	f->allow_missing_origin = conf_bool(c, p, fo, "allow_missing_origin",
	    0);
	conf_strings(c, p, fo, "redirect_allowlist", conf_ok_prefix,
	    "an https:// URL prefix", &f->redirect_allowlist, &f->nredirect);
}

/* Content rules: links, phrases, the honeypot, fields not declared. */
static void
conf_form_content(struct conf_ctx *c, const char *p, json_t *fo,
    struct conf_form *f)
{
	char	 q[CONF_MAX_PATH];
	char	*s;

	f->max_links = (long)conf_int(c, p, fo, "max_links", -1, 0, 1000);
	conf_strings(c, p, fo, "blocked_phrases", conf_ok_phrase,
	    "a phrase of 1 to 200 octets", &f->blocked_phrases, &f->nblocked);
	f->honeypot = conf_str(c, p, fo, "honeypot", NULL, 0);
	conf_path(q, "%s/honeypot", p);
	if (f->honeypot != NULL &&
	    !text_field_name_ok(f->honeypot, strlen(f->honeypot)))
		conf_err(c, q, 0, "\"honeypot\" must be a field name");
	s = conf_str(c, p, fo, "extra_fields", "include", 0);
	conf_path(q, "%s/extra_fields", p);
	if (s != NULL && strcmp(s, "ignore") == 0)
		f->extra = CONF_EXTRA_IGNORE;
	else if (s != NULL && strcmp(s, "reject") == 0)
		f->extra = CONF_EXTRA_REJECT;
	else if (s != NULL && strcmp(s, "include") != 0)
		conf_err(c, q, 0, "\"extra_fields\" must be \"include\", "
		    "\"ignore\" or \"reject\"");
	free(s);
}

/* The notification: its subject template and its template files. */
static void
conf_form_mail(struct conf_ctx *c, const char *p, json_t *fo,
    struct conf_form *f)
{
	struct conf_subj_arg	 sa;
	char			 q[CONF_MAX_PATH], err[256];
	char			*s, *tname;
	const char		*dir = c->conf->templates_dir;

	s = conf_str(c, p, fo, "subject", "Form submission: {{_form}}", 0);
	conf_path(q, "%s/subject", p);
	if (s != NULL) {
		if (tmpl_parse(s, strlen(s), &f->subject, err,
		    sizeof(err)) == -1)
			conf_err(c, q, 0, "subject template: %s", err);
		else {
			sa.c = c;
			sa.f = f;
			sa.path = q;
			tmpl_names(f->subject, conf_subject_name, &sa);
		}
		free(s);
	}
	tname = conf_str(c, p, fo, "template", NULL, 0);
	conf_path(q, "%s/template", p);
	if (tname != NULL && !conf_is_token(tname, 64)) {
		conf_err(c, q, 0, "\"template\" must be a name of letters, "
		    "digits, '_' or '-' (files NAME.txt and NAME.html in "
		    "templates_dir)");
	} else if (dir != NULL) {
		f->text = conf_tmpl_file(c, tname ? q : p, dir,
		    tname ? tname : "default", "txt", 1);
		f->html = conf_tmpl_file(c, tname ? q : p, dir,
		    tname ? tname : "default", "html", 0);
	}
	conf_tmpl_check(c, tname ? q : p, f, f->text, tname ? tname : "default",
	    "txt");
	conf_tmpl_check(c, tname ? q : p, f, f->html, tname ? tname : "default",
	    "html");
	free(tname);
}

static void
conf_form(struct conf_ctx *c, const char *id, json_t *fo,
    struct conf_form *f)
{
	char	 p[CONF_MAX_PATH];

	conf_path(p, "/forms/%s", id);
	f->id = strdup(id);
	if (!conf_is_token(id, 64) || id[0] == '_')
		conf_err(c, p, 1, "form id \"%s\" must be 1 to 64 letters, "
		    "digits, '_' or '-', not starting with '_'", id);
	conf_known(c, p, fo, conf_form_keys);
	conf_form_rcpt(c, p, id, fo, f);
	conf_fields(c, p, fo, f);
	conf_form_answers(c, p, fo, f);
	conf_challenge(c, p, fo, f);
	conf_captcha(c, p, fo, &f->captcha);
	conf_uploads(c, p, fo, f);
	conf_form_content(c, p, fo, f);
	conf_form_mail(c, p, fo, f);
	conf_pages(c, p, fo, f);
	conf_autoresponder(c, p, fo, f);
	conf_encrypt(c, p, fo, f);
}

void
conf_forms(struct conf_ctx *c, json_t *root)
{
	struct conf	*cf = c->conf;
	json_t		*o = conf_obj(c, "", root, "forms", 1), *v;
	const char	*id;
	char		 p[CONF_MAX_PATH];

	if (o == NULL)
		return;
	if (json_object_size(o) == 0 || json_object_size(o) > CONF_MAX_FORMS) {
		conf_err(c, "/forms", 0, "\"forms\" must name 1 to %d forms",
		    CONF_MAX_FORMS);
		return;
	}
	if ((cf->forms = calloc(json_object_size(o), sizeof(*cf->forms))) ==
	    NULL)
		return;
	json_object_foreach(o, id, v) {
		conf_path(p, "/forms/%s", id);
		if (!json_is_object(v)) {
			conf_err(c, p, 0, "form \"%s\" must be an object", id);
			continue;
		}
		conf_form(c, id, v, &cf->forms[cf->nforms++]);
	}
}

void
conf_form_free(struct conf_form *f)
{
	size_t	 j;

	free(f->id);
	free(f->route_field);
	for (j = 0; j < f->nchoices; j++) {
		free(f->choices[j].value);
		conf_mailboxes_free(f->choices[j].to, f->choices[j].nto);
	}
	free(f->choices);
	conf_mailboxes_free(f->to, f->nto);
	conf_mailboxes_free(f->cc, f->ncc);
	conf_mailboxes_free(f->bcc, f->nbcc);
	for (j = 0; j < f->nfields; j++) {
		free(f->fields[j].name);
		free(f->fields[j].label);
	}
	free(f->fields);
	free(f->success_url);
	free(f->site_url);
	free(f->error_url);
	conf_strings_free(f->origins, f->norigins);
	conf_strings_free(f->redirect_allowlist, f->nredirect);
	conf_strings_free(f->blocked_phrases, f->nblocked);
	conf_strings_free(f->up_allowed, f->nup_allowed);
	free(f->honeypot);
	tmpl_free(f->subject);
	tmpl_free(f->text);
	tmpl_free(f->html);
	for (j = 0; j < LANG_COUNT; j++) {
		tmpl_free(f->thanks[j]);
		tmpl_free(f->error[j]);
	}
	conf_abuse_free(f);
	conf_encrypt_free(f);
}
