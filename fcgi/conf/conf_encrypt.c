/*
 * conf_encrypt: a form's "encrypt" ({"method": "smime" | "openpgp",
 * "keys": [files]}) and "encrypted_subject".  The key files are read and
 * checked by mail/enc_key.h (at check, doctor, serve and reload); here
 * only their shape, with the position of each for those messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "conf/conf.h"
#include "conf/conf_json.h"
#include "lib/text.h"

#define CONF_MAX_ENC_KEYS	32
#define CONF_MAX_ENC_SUBJECT	200	/* octets */

static const char *const conf_encrypt_keys[] = { "method", "keys", NULL };

/* "FILE:LINE:COLUMN" of path's value. */
static char *
conf_encrypt_at(struct conf_ctx *c, const char *path)
{
	const struct conf_pos	*p = conf_pos_find(c, path);
	char			*s;

	if (asprintf(&s, "%s:%d:%d", c->file, p ? p->vline : 1,
	    p ? p->vcol : 1) == -1)
		return NULL;
	return s;
}

static void
conf_encrypt_paths(struct conf_ctx *c, const char *ep, json_t *eo,
    struct conf_form *f)
{
	char		 kp[CONF_MAX_PATH], ip[CONF_MAX_PATH];
	json_t		*v = json_object_get(eo, "keys"), *e;
	const char	*s;
	size_t		 i, n;

	conf_path(kp, "%s/keys", ep);
	if (v == NULL || !json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > CONF_MAX_ENC_KEYS) {
		conf_err(c, v == NULL ? ep : kp, 0, "\"keys\" must be an array "
		    "of 1 to %d key files", CONF_MAX_ENC_KEYS);
		return;
	}
	n = json_array_size(v);
	if ((f->enc_keys = calloc(n, sizeof(char *))) == NULL ||
	    (f->enc_keys_at = calloc(n, sizeof(char *))) == NULL) {
		c->errors++;
		return;
	}
	json_array_foreach(v, i, e) {
		conf_path(ip, "%s/%zu", kp, i);
		s = json_is_string(e) ? json_string_value(e) : NULL;
		if (s == NULL || s[0] != '/' || strlen(s) > 4095) {
			conf_err(c, ip, 0, "a key file must be an absolute "
			    "path");
			continue;
		}
		f->enc_keys[f->nenc_keys] = strdup(s);
		f->enc_keys_at[f->nenc_keys] = conf_encrypt_at(c, ip);
		if (f->enc_keys[f->nenc_keys] == NULL ||
		    f->enc_keys_at[f->nenc_keys] == NULL) {
			free(f->enc_keys[f->nenc_keys]);
			free(f->enc_keys_at[f->nenc_keys]);
			f->enc_keys[f->nenc_keys] = NULL;
			f->enc_keys_at[f->nenc_keys] = NULL;
			c->errors++;
			return;
		}
		f->nenc_keys++;
	}
}

void
conf_encrypt(struct conf_ctx *c, const char *fp, json_t *fo,
    struct conf_form *f)
{
	char	 ep[CONF_MAX_PATH], sp[CONF_MAX_PATH];
	json_t	*eo = conf_obj(c, fp, fo, "encrypt", 0);
	char	*m;

	conf_path(sp, "%s/encrypted_subject", fp);
	if (eo == NULL) {
		if (json_object_get(fo, "encrypted_subject") != NULL)
			conf_err(c, sp, 1, "\"encrypted_subject\" needs "
			    "\"encrypt\"");
		return;
	}
	conf_path(ep, "%s/encrypt", fp);
	conf_known(c, ep, eo, conf_encrypt_keys);
	m = conf_str(c, ep, eo, "method", NULL, 1);
	if (m != NULL && strcmp(m, "smime") == 0)
		f->enc_method = CONF_ENC_SMIME;
	else if (m != NULL && strcmp(m, "openpgp") == 0)
		f->enc_method = CONF_ENC_OPENPGP;
	else if (m != NULL) {
		conf_path(sp, "%s/method", ep);
		conf_err(c, sp, 0, "\"method\" must be \"smime\" or "
		    "\"openpgp\"");
		conf_path(sp, "%s/encrypted_subject", fp);
	}
	free(m);
	conf_encrypt_paths(c, ep, eo, f);
	f->enc_subject = conf_str(c, fp, fo, "encrypted_subject",
	    CONF_DEFAULT_ENC_SUBJECT, 0);
	if (f->enc_subject != NULL && (f->enc_subject[0] == '\0' ||
	    strlen(f->enc_subject) > CONF_MAX_ENC_SUBJECT ||
	    text_header_ok(f->enc_subject, strlen(f->enc_subject)) !=
	    TEXT_OK))
		conf_err(c, sp, 0, "\"encrypted_subject\" must be 1 to %d "
		    "octets of header text", CONF_MAX_ENC_SUBJECT);
}

void
conf_encrypt_free(struct conf_form *f)
{
	conf_strings_free(f->enc_keys, f->nenc_keys);
	conf_strings_free(f->enc_keys_at, f->nenc_keys);
	free(f->enc_subject);
}
