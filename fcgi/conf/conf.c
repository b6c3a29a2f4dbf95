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

void
conf_free(struct conf *cf)
{
	size_t	 i;

	if (cf == NULL)
		return;
	for (i = 0; i < cf->nforms; i++)
		conf_form_free(&cf->forms[i]);
	free(cf->forms);
	conf_mail_free(cf);
	conf_site_free(cf);
	free(cf->path);
	free(cf);
}
