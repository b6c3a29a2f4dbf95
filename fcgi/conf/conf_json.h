/*
 * conf_json.h: private to conf/ (check_layout.sh R4): what the config's
 * section files share.  struct conf_ctx is one load in progress: the
 * text, the positions the scanner found (by JSON pointer path), the error
 * count and the struct conf being filled.
 *
 * The getters read one key of a JSON object: a missing key gives the
 * default; a key of the wrong type or out of range is reported with
 * conf_err() at its line:column and also gives the default.  Strings
 * they return are malloc'd (the struct conf owns them once stored).
 */
#ifndef F2M_CONF_JSON_H
#define F2M_CONF_JSON_H

#include <stddef.h>

#include <jansson.h>

#include "conf/conf.h"
#include "lib/buf.h"		/* F2M_PRINTF */
#include "lib/tmpl.h"

#define CONF_MAX_LIST		100
#define CONF_MAX_PATH		512

/* One key or value position found by the scanner. */
struct conf_pos {
	char	*path;
	int	 kline, kcol;	/* the key; 0 for the root and array items */
	int	 vline, vcol;	/* the value */
};

struct conf_ctx {
	const char	*file;
	char		*text;
	size_t		 len;
	struct conf_pos	*pos;
	size_t		 npos, cappos;
	int		 errors;
	struct conf	*conf;
};

/* conf_json.c: positions and reports */

/* Writes a JSON pointer path into a CONF_MAX_PATH buffer (cut if longer,
 * which only makes a message point at a parent). */
void	 conf_path(char *dst, const char *fmt, ...) F2M_PRINTF(2, 3);
/* Records the positions of the value at c->text[i] (and of its key at
 * koff when haskey) under path, and of everything inside it; returns the
 * offset after the value.  Run once, from the root, by conf_load. */
size_t	 conf_scan_value(struct conf_ctx *c, size_t i, const char *path,
	    int haskey, size_t koff, int depth);
/* The position recorded for path, or NULL. */
const struct conf_pos *conf_pos_find(const struct conf_ctx *c,
	    const char *path);
/* "FILE:LINE:COLUMN: message" on stderr at path's value (its key when
 * atkey), and one more error; conf_warn: the same as a warning, which
 * does not fail the load. */
void	 conf_err(struct conf_ctx *c, const char *path, int atkey,
	    const char *fmt, ...) F2M_PRINTF(4, 5);
void	 conf_warn(struct conf_ctx *c, const char *path, const char *fmt,
	    ...) F2M_PRINTF(3, 4);

/* conf_json.c: typed getters of parent's key (path: parent's path) */

/* Reports every key of obj not in keys (NULL-terminated), with the
 * nearest known key as a suggestion ("did you mean"). */
void	 conf_known(struct conf_ctx *c, const char *path, json_t *obj,
	    const char *const *keys);
json_t	*conf_obj(struct conf_ctx *c, const char *path, json_t *parent,
	    const char *key, int required);
char	*conf_str(struct conf_ctx *c, const char *path, json_t *parent,
	    const char *key, const char *def, int required);
int	 conf_bool(struct conf_ctx *c, const char *path, json_t *parent,
	    const char *key, int def);
long long conf_int(struct conf_ctx *c, const char *path, json_t *parent,
	    const char *key, long long def, long long min, long long max);
/* A duration (seconds, or a string rate_duration reads), over 0. */
long	 conf_dur(struct conf_ctx *c, const char *path, json_t *parent,
	    const char *key, long def);
/* A rate "N/PERIOD" (rate_parse); absent: count 0, no limit. */
void	 conf_rate(struct conf_ctx *c, const char *path, json_t *parent,
	    const char *key, struct rate *r);
double	 conf_real(struct conf_ctx *c, const char *path, json_t *parent,
	    const char *key, double def, double min, double max);
/* A mailbox "Name <local@domain>" or "local@domain" (s), or a list of
 * them at key (at most CONF_MAX_LIST). */
int	 conf_mailbox(struct conf_ctx *c, const char *path, const char *s,
	    struct conf_mailbox *mb);
void	 conf_mailboxes(struct conf_ctx *c, const char *path, json_t *parent,
	    const char *key, struct conf_mailbox **out, size_t *nout);
/* A list of strings each ok() accepts (what names them in the error). */
void	 conf_strings(struct conf_ctx *c, const char *path, json_t *parent,
	    const char *key, int (*ok)(const char *), const char *what,
	    char ***out, size_t *nout);
/* An absolute directory path at root's key, def when absent. */
char	*conf_abs_dir(struct conf_ctx *c, const char *path, json_t *root,
	    const char *key, const char *def);
/* A secret file that exists, is regular and private (no group or other
 * bits); reported at path. */
void	 conf_check_secret(struct conf_ctx *c, const char *path,
	    const char *file);
/* 1 when s is 1..max of [A-Za-z0-9_-]. */
int	 conf_is_token(const char *s, size_t max);
/* Free what conf_mailboxes and conf_strings made. */
void	 conf_mailboxes_free(struct conf_mailbox *m, size_t n);
void	 conf_strings_free(char **v, size_t n);

/* conf_site.c, conf_mail.c, conf_form.c: the sections, in load order */
void	 conf_top(struct conf_ctx *c, json_t *root);
void	 conf_limits(struct conf_ctx *c, json_t *root);
void	 conf_throttle(struct conf_ctx *c, json_t *root);
void	 conf_spam(struct conf_ctx *c, json_t *root);
void	 conf_metrics(struct conf_ctx *c, json_t *root);
void	 conf_sender(struct conf_ctx *c, json_t *root);
void	 conf_smtp(struct conf_ctx *c, json_t *root);
void	 conf_dkim(struct conf_ctx *c, json_t *root);
/* From's domain against the DKIM domains (errors). */
void	 conf_alignment(struct conf_ctx *c);
void	 conf_forms(struct conf_ctx *c, json_t *root);
/* Warnings for what a receiving rspamd would score; after the forms. */
void	 conf_deliverability(struct conf_ctx *c);

/* conf_form.c: a template file DIR/NAME.EXT (tmpl_load), its problems
 * reported at path; a missing one only when required. */
struct tmpl *conf_tmpl_file(struct conf_ctx *c, const char *path,
	    const char *dir, const char *name, const char *ext, int required);

/* Free one section's part of a struct conf (conf_free's steps). */
void	 conf_site_free(struct conf *cf);
void	 conf_mail_free(struct conf *cf);
void	 conf_form_free(struct conf_form *f);	/* + conf_abuse_free */
void	 conf_abuse_free(struct conf_form *f);

/* conf_abuse.c: parts of one form (fp: its path, fo: its object) */
void	 conf_challenge(struct conf_ctx *c, const char *fp, json_t *fo,
	    struct conf_form *f);
void	 conf_captcha(struct conf_ctx *c, const char *fp, json_t *fo,
	    struct conf_captcha *cc);
/* conf_encrypt.c: "encrypt" and "encrypted_subject" of one form. */
void	 conf_encrypt(struct conf_ctx *c, const char *fp, json_t *fo,
	    struct conf_form *f);
void	 conf_encrypt_free(struct conf_form *f);
/* After the fields, challenge and captcha: it checks against them. */
void	 conf_autoresponder(struct conf_ctx *c, const char *fp, json_t *fo,
	    struct conf_form *f);

#endif
