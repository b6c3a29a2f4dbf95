/*
 * conf_abuse: a form's "challenge" (ALTCHA), "captcha" and
 * "autoresponder" (which needs one of the other two).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "conf/conf.h"
#include "conf/conf_json.h"
#include "lib/addr.h"
#include "lib/file.h"
#include "lib/lang.h"
#include "lib/tmpl.h"
#include "lib/url.h"

static const char *const conf_challenge_keys[] = {
	"type", "max_number", "min_seconds", "expires", NULL
};

static const char *const conf_captcha_keys[] = {
	"provider", "secret_file", "verify_url", "hostnames", "action",
	"min_score", "timeout", NULL
};

void
conf_challenge(struct conf_ctx *c, const char *fp, json_t *fo,
    struct conf_form *f)
{
	json_t	*o = conf_obj(c, fp, fo, "challenge", 0);
	char	 p[CONF_MAX_PATH];
	char	*type;

	if (o == NULL)
		return;
	conf_path(p, "%s/challenge", fp);
	conf_known(c, p, o, conf_challenge_keys);
	type = conf_str(c, p, o, "type", NULL, 1);
	if (type != NULL && strcmp(type, "altcha") != 0)
		conf_err(c, p, 0, "challenge \"type\" must be \"altcha\"");
	free(type);
	f->altcha = 1;
	f->altcha_max_number = (long)conf_int(c, p, o, "max_number", 100000,
	    1000, 10000000);
	f->altcha_min_seconds = (long)conf_int(c, p, o, "min_seconds", 0, 0,
	    3600);
	f->altcha_expires = conf_dur(c, p, o, "expires", 600);
	if (f->altcha_expires > 86400)
		conf_err(c, p, 0, "challenge \"expires\" must be at most 1d");
	if (f->altcha_expires <= f->altcha_min_seconds)
		conf_err(c, p, 0, "challenge \"expires\" must be longer than "
		    "\"min_seconds\"");
}

static int
conf_ok_hostname(const char *s)
{
	return addr_ldh_ok(s, strlen(s), ADDR_MAX_DOMAIN);
}

void
conf_captcha(struct conf_ctx *c, const char *fp, json_t *fo,
    struct conf_captcha *cc)
{
	static const struct {
		const char		*name;
		enum conf_captcha_kind	 kind;
	} kinds[] = {
		{ "turnstile", CONF_CAPTCHA_TURNSTILE },
		{ "hcaptcha", CONF_CAPTCHA_HCAPTCHA },
		{ "recaptcha_v2", CONF_CAPTCHA_RECAPTCHA_V2 },
		{ "recaptcha_v3", CONF_CAPTCHA_RECAPTCHA_V3 },
	};
	json_t	*o = conf_obj(c, fp, fo, "captcha", 0);
	char	 p[CONF_MAX_PATH], q[CONF_MAX_PATH], err[256];
	char	*prov;
	size_t	 i;

	cc->min_score = 0.5;
	cc->timeout = 3;
	if (o == NULL)
		return;
	conf_path(p, "%s/captcha", fp);
	conf_known(c, p, o, conf_captcha_keys);
	prov = conf_str(c, p, o, "provider", NULL, 1);
	for (i = 0; prov != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(prov, kinds[i].name) == 0)
			cc->kind = kinds[i].kind;
	conf_path(q, "%s/provider", p);
	if (prov != NULL && cc->kind == CONF_CAPTCHA_NONE)
		conf_err(c, q, 0, "\"provider\" must be \"turnstile\", "
		    "\"hcaptcha\", \"recaptcha_v2\" or \"recaptcha_v3\"");
	free(prov);
	cc->secret_file = conf_str(c, p, o, "secret_file", NULL, 1);
	conf_path(q, "%s/secret_file", p);
	conf_check_secret(c, q, cc->secret_file);
	if (cc->secret_file != NULL && c->errors == 0 &&
	    (cc->secret = file_read_secret(cc->secret_file, err,
	    sizeof(err))) == NULL)
		conf_err(c, q, 0, "%s", err);
	cc->verify_url = conf_str(c, p, o, "verify_url", NULL, 0);
	conf_path(q, "%s/verify_url", p);
	if (cc->verify_url != NULL && !url_service_ok(cc->verify_url))
		conf_err(c, q, 0, "\"verify_url\" must be an https:// URL, or "
		    "http:// to a loopback address");
	conf_strings(c, p, o, "hostnames", conf_ok_hostname, "a host name",
	    &cc->hostnames, &cc->nhostnames);
	cc->action = conf_str(c, p, o, "action", NULL, 0);
	if (cc->kind == CONF_CAPTCHA_RECAPTCHA_V3 && cc->action == NULL)
		conf_err(c, p, 0, "recaptcha_v3 needs the \"action\" the page "
		    "asks for");
	if (cc->action != NULL && (cc->kind == CONF_CAPTCHA_HCAPTCHA ||
	    cc->kind == CONF_CAPTCHA_RECAPTCHA_V2))
		conf_err(c, p, 0, "\"action\" is for recaptcha_v3 and "
		    "turnstile only");
	cc->min_score = conf_real(c, p, o, "min_score", 0.5, 0.01, 1);
	cc->timeout = (long)conf_int(c, p, o, "timeout", 3, 1, 60);
}

/* Longest visitor text an autoreply may carry: a name, not a message. */
#define CONF_AUTO_MAX_FIELD	60

/* What an autoresponder template is checked against. */
enum conf_auto_kind {
	CONF_AUTO_SUBJECT,	/* config text: metadata only */
	CONF_AUTO_REPLY,	/* metadata and fields that may hold a name */
	CONF_AUTO_CONFIRM	/* the confirmation: metadata and the link */
};

struct conf_auto_arg {
	struct conf_ctx		*c;
	const struct conf_form	*f;
	const char		*path;
	enum conf_auto_kind	 kind;
};

/*
 * The autoresponder may greet the visitor by name, never echo the
 * message: only metadata and single-line, short, non-email fields, whose
 * values must still pass the name rule (text_name_ok) when the mail is
 * made; the subject and the confirmation carry no field at all.
 */
static void
conf_auto_name(const char *name, void *arg)
{
	struct conf_auto_arg	*a = arg;
	const struct conf_field	*fl;
	size_t			 i;

	if (strcmp(name, "_form") == 0 || strcmp(name, "_date") == 0 ||
	    (a->kind != CONF_AUTO_CONFIRM && strcmp(name, "_id") == 0) ||
	    (a->kind == CONF_AUTO_CONFIRM && strcmp(name, "_link") == 0))
		return;
	if (a->kind != CONF_AUTO_REPLY) {
		conf_err(a->c, a->path, 0, "the autoresponder %s may not use "
		    "\"%s\": no visitor text in %s", a->kind ==
		    CONF_AUTO_SUBJECT ? "subject" : "confirmation", name,
		    a->kind == CONF_AUTO_SUBJECT ? "the subject of a mail to "
		    "an address anyone can type" : "the first mail to an "
		    "address (_form, _date and _link only)");
		return;
	}
	for (i = 0; i < a->f->nfields; i++) {
		fl = &a->f->fields[i];
		if (strcmp(fl->name, name) != 0)
			continue;
		if (fl->multiline || fl->email || fl->max_length == 0 ||
		    fl->max_length > CONF_AUTO_MAX_FIELD)
			conf_err(a->c, a->path, 0, "the autoresponder may show "
			    "only single-line fields with a max_length of at "
			    "most %d, not of type email (a name), not \"%s\"",
			    CONF_AUTO_MAX_FIELD, name);
		return;
	}
	/* Not a field of this form: renders empty, like any missing value
	 * (the shipped template greets {{name}}, which a form may lack). */
}

/* A subject of config text (metadata only) to *out. */
static void
conf_auto_subject(struct conf_ctx *c, const char *p, json_t *o,
    const char *key, const char *def, struct conf_auto_arg *a,
    struct tmpl **out)
{
	char	 err[256];
	char	*s = conf_str(c, p, o, key, def, 0);

	if (s == NULL)
		return;
	if (tmpl_parse(s, strlen(s), out, err, sizeof(err)) == -1)
		conf_err(c, p, 0, "autoresponder %s: %s", key, err);
	else {
		a->kind = CONF_AUTO_SUBJECT;
		tmpl_names(*out, conf_auto_name, a);
	}
	free(s);
}

/* NAME.txt (required) and NAME.html of the template named by key. */
static void
conf_auto_files(struct conf_ctx *c, const char *p, json_t *o,
    const char *key, const char *def, struct conf_auto_arg *a,
    struct tmpl **text, struct tmpl **html)
{
	char	*tname = conf_str(c, p, o, key, def, 0);

	if (tname != NULL && !conf_is_token(tname, 64))
		conf_err(c, p, 0, "autoresponder \"%s\" must be a name", key);
	else if (tname != NULL) {
		*text = conf_tmpl_file(c, p, c->conf->templates_dir, tname,
		    "txt", 1);
		*html = conf_tmpl_file(c, p, c->conf->templates_dir, tname,
		    "html", 0);
		if (*text != NULL)
			tmpl_names(*text, conf_auto_name, a);
		if (*html != NULL)
			tmpl_names(*html, conf_auto_name, a);
	}
	free(tname);
}

/*
 * "confirm_url": where the link points: an https URL (http only to a
 * loopback address, for tests) ending in "/<form id>/confirm", the path
 * the web server sends to form2mail like the form's own posts; no query,
 * no fragment.  Never built from the request's Host.
 */
static void
conf_auto_confirm(struct conf_ctx *c, const char *p, json_t *o,
    struct conf_form *f, struct conf_auto_arg *a)
{
	char	 want[CONF_MAX_PATH];
	char	*u;
	size_t	 ul, wl, i;

	f->auto_confirm_url = u = conf_str(c, p, o, "confirm_url", NULL, 1);
	if (u != NULL) {
		snprintf(want, sizeof(want), "/%s/confirm", f->id);
		ul = strlen(u);
		wl = strlen(want);
		if (!url_service_ok(u) || strpbrk(u, "?#") != NULL ||
		    ul <= wl || strcmp(u + ul - wl, want) != 0)
			conf_err(c, p, 0, "autoresponder \"confirm_url\" must be "
			    "the https URL of this form's endpoint followed by "
			    "\"%s\" (e.g. https://www.example.com/f2m%s)", want,
			    want);
	}
	conf_auto_subject(c, p, o, "confirm_subject",
	    "Please confirm your email address", a, &f->auto_confirm_subject);
	a->kind = CONF_AUTO_CONFIRM;
	conf_auto_files(c, p, o, "confirm_template", "autoreply-confirm", a,
	    &f->auto_confirm_text, &f->auto_confirm_html);
	for (i = 0; i < LANG_COUNT && c->errors == 0; i++) {
		snprintf(want, sizeof(want), "confirm.%s",
		    lang_tag((enum lang)i));
		f->auto_confirm_page[i] = conf_tmpl_file(c, p,
		    c->conf->templates_dir, want, "html", i == LANG_EN);
	}
}

/*
 * "autoresponder": {"field": "email", "subject": "...", "template": NAME,
 * "per_address": "1d", "max_per_day": 200, "confirm": false,
 * "confirm_url": URL, "confirm_subject": "...", "confirm_template": NAME}
 */
void
conf_autoresponder(struct conf_ctx *c, const char *fp, json_t *fo,
    struct conf_form *f)
{
	static const char *const keys[] = { "field", "subject", "template",
	    "per_address", "max_per_day", "confirm", "confirm_url",
	    "confirm_subject", "confirm_template", NULL };
	struct conf_auto_arg	 a;
	json_t			*o = conf_obj(c, fp, fo, "autoresponder", 0);
	char			 p[CONF_MAX_PATH];
	size_t			 i;

	if (o == NULL || c->conf->templates_dir == NULL)
		return;
	conf_path(p, "%s/autoresponder", fp);
	conf_known(c, p, o, keys);
	if (!f->altcha && f->captcha.kind == CONF_CAPTCHA_NONE)
		conf_err(c, p, 0, "an autoresponder needs a \"challenge\" or a "
		    "\"captcha\" on the form: it writes to an address anyone "
		    "can type");
	f->auto_field = conf_str(c, p, o, "field", "email", 0);
	for (i = 0; f->auto_field != NULL && i < f->nfields; i++)
		if (strcmp(f->fields[i].name, f->auto_field) == 0)
			break;
	if (f->auto_field != NULL && (i == f->nfields || !f->fields[i].email))
		conf_err(c, p, 0, "autoresponder \"field\" must name a field "
		    "of \"type\": \"email\"");
	else if (f->auto_field != NULL)
		f->fields[i].header = 1;	/* it becomes To */
	f->auto_per_address = conf_dur(c, p, o, "per_address", 86400);
	f->auto_max_per_day = (long)conf_int(c, p, o, "max_per_day", 200, 1,
	    100000);
	a = (struct conf_auto_arg){ c, f, p, CONF_AUTO_SUBJECT };
	conf_auto_subject(c, p, o, "subject", "We received your message", &a,
	    &f->auto_subject);
	a.kind = CONF_AUTO_REPLY;
	conf_auto_files(c, p, o, "template", "autoreply", &a, &f->auto_text,
	    &f->auto_html);
	if ((f->auto_confirm = conf_bool(c, p, o, "confirm", 0)))
		conf_auto_confirm(c, p, o, f, &a);
	else if (json_object_get(o, "confirm_url") != NULL)
		conf_err(c, p, 0, "\"confirm_url\" is for \"confirm\": true");
}

void
conf_abuse_free(struct conf_form *f)
{
	size_t	 i;

	if (f->captcha.secret != NULL) {
		explicit_bzero(f->captcha.secret, strlen(f->captcha.secret));
		free(f->captcha.secret);
	}
	free(f->captcha.secret_file);
	free(f->captcha.verify_url);
	conf_strings_free(f->captcha.hostnames, f->captcha.nhostnames);
	free(f->captcha.action);
	tmpl_free(f->auto_subject);
	tmpl_free(f->auto_text);
	tmpl_free(f->auto_html);
	free(f->auto_field);
	free(f->auto_confirm_url);
	tmpl_free(f->auto_confirm_subject);
	tmpl_free(f->auto_confirm_text);
	tmpl_free(f->auto_confirm_html);
	for (i = 0; i < LANG_COUNT; i++)
		tmpl_free(f->auto_confirm_page[i]);
}
