/*
 * conf: the JSON config; see conf.h.  This file loads it (read, parse,
 * then each section in turn), finds a form, names the service user and
 * frees it all.  The sections live in conf_site.c (top level, limits,
 * throttle, spam, metrics), conf_mail.c (sender, smtp, dkim, alignment),
 * conf_form.c (forms) and conf_abuse.c (challenge, captcha,
 * autoresponder); what they share, the line:column positions and the
 * typed getters that report, in conf_json.c (conf_json.h, private).
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "conf/conf.h"
#include "conf/conf_json.h"
#include "lib/file.h"
#include "lib/lang.h"
#include "lib/tmpl.h"

#define CONF_MAX_FILE		(1024 * 1024)

/* The errno a config that cannot be read is reported with. */
static int
conf_slurp_errno(enum file_err fe)
{
	switch (fe) {
	case FILE_ENOTREG:
	case FILE_ETOOBIG:
		return EFBIG;
	case FILE_ESHORT:
		return EIO;
	case FILE_ENOMEM:
		return ENOMEM;
	default:
		return errno;
	}
}

int
conf_load(const char *path, struct conf **out)
{
	struct conf_ctx	 c;
	json_error_t	 jerr;
	json_t		*root = NULL;
	enum file_err	 fe;
	size_t		 i;
	int		 rc = 2;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	c.file = path;
	if ((fe = file_slurp(AT_FDCWD, path, CONF_MAX_FILE, 0, &c.text,
	    &c.len)) != FILE_OK) {
		fprintf(stderr, "%s: %s\n", path, strerror(conf_slurp_errno(fe)));
		return 2;
	}
	root = json_loadb(c.text, c.len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		fprintf(stderr, "%s:%d:%d: %s\n", path, jerr.line < 1 ? 1 :
		    jerr.line, jerr.column < 1 ? 1 : jerr.column, jerr.text);
		goto out;
	}
	if (!json_is_object(root)) {
		fprintf(stderr, "%s:1:1: the config must be a JSON object\n",
		    path);
		goto out;
	}
	conf_scan_value(&c, 0, "", 0, 0, 0);
	if ((c.conf = calloc(1, sizeof(*c.conf))) == NULL ||
	    (c.conf->path = strdup(path)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", path);
		goto out;
	}
	c.conf->listen_mode = 0660;
	conf_top(&c, root);
	conf_limits(&c, root);
	conf_throttle(&c, root);
	conf_spam(&c, root);
	conf_metrics(&c, root);
	conf_sender(&c, root);
	conf_smtp(&c, root);
	conf_dkim(&c, root);
	conf_alignment(&c);
	conf_forms(&c, root);
	if (c.errors == 0)
		conf_deliverability(&c);
	rc = c.errors ? 1 : 0;
out:
	if (rc == 0)
		*out = c.conf;
	else
		conf_free(c.conf);
	for (i = 0; i < c.npos; i++)
		free(c.pos[i].path);
	free(c.pos);
	json_decref(root);
	free(c.text);
	return rc;
}

const struct conf_form *
conf_form_find(const struct conf *cf, const char *id, size_t len)
{
	size_t	 i;

	for (i = 0; i < cf->nforms; i++)
		if (strlen(cf->forms[i].id) == len &&
		    memcmp(cf->forms[i].id, id, len) == 0)
			return &cf->forms[i];
	return NULL;
}

int
conf_user(const struct conf *cf, uid_t *uid, gid_t *gid)
{
	struct passwd	*pw = NULL;

	if (cf->user != NULL)
		pw = getpwnam(cf->user);
	else if ((pw = getpwnam("form2mail")) == NULL)
		pw = getpwnam("nobody");
	if (pw == NULL)
		return -1;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

void
conf_free(struct conf *cf)
{
	size_t	 i, j;

	if (cf == NULL)
		return;
	for (i = 0; i < cf->nforms; i++) {
		struct conf_form *f = &cf->forms[i];

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
		if (f->captcha.secret != NULL) {
			explicit_bzero(f->captcha.secret,
			    strlen(f->captcha.secret));
			free(f->captcha.secret);
		}
		free(f->captcha.secret_file);
		free(f->captcha.verify_url);
		conf_strings_free(f->captcha.hostnames, f->captcha.nhostnames);
		free(f->captcha.action);
		free(f->honeypot);
		tmpl_free(f->subject);
		tmpl_free(f->text);
		tmpl_free(f->html);
		for (j = 0; j < LANG_COUNT; j++) {
			tmpl_free(f->thanks[j]);
			tmpl_free(f->error[j]);
		}
		tmpl_free(f->auto_subject);
		tmpl_free(f->auto_text);
		tmpl_free(f->auto_html);
		free(f->auto_field);
	}
	free(cf->forms);
	for (i = 0; i < cf->ndkim; i++) {
		free(cf->dkim[i].domain);
		free(cf->dkim[i].selector);
		free(cf->dkim[i].key_file);
	}
	free(cf->dkim);
	free(cf->smtp.url);
	free(cf->smtp.username);
	free(cf->smtp.password_file);
	free(cf->smtp.ca_file);
	free(cf->from.display);
	free(cf->from.addr);
	free(cf->envelope_from);
	free(cf->hostname);
	free(cf->message_id_domain);
	free(cf->sender_spf);
	free(cf->path);
	free(cf->listen);
	free(cf->listen_group);
	free(cf->spool_dir);
	free(cf->state_dir);
	free(cf->templates_dir);
	free(cf->user);
	free(cf->altcha_key_file);
	free(cf->throttle.redis_url);
	free(cf->spam.rspamd_url);
	conf_strings_free(cf->metrics_allow, cf->nmetrics_allow);
	free(cf);
}
