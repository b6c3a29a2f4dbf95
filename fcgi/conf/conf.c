/*
 * conf: the JSON config; see conf.h.
 *
 * jansson parses and reports syntax errors with their position, but keeps
 * no positions for values.  So the text is scanned a second time by a small
 * scanner of our own (it only runs on text jansson accepted) that records
 * the line and column of every key and value by JSON pointer path; checks
 * report through conf_err(), which looks the path up.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "conf/conf.h"
#include "lib/addr.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/rate.h"
#include "lib/text.h"
#include "lib/spf.h"
#include "lib/tmpl.h"
#include "lib/url.h"

#define CONF_MAX_FILE		(1024 * 1024)
#define CONF_MAX_FORMS		256
#define CONF_MAX_FIELDS		100
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

/* ---- positions ---------------------------------------------------- */

/* Writes a JSON pointer path into a CONF_MAX_PATH buffer; a path that does
 * not fit is cut, which only makes a message point at a parent. */
static void F2M_PRINTF(2, 3)
conf_path(char *dst, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(dst, CONF_MAX_PATH, fmt, ap);
	va_end(ap);
}

static void
conf_linecol(const struct conf_ctx *c, size_t off, int *line, int *col)
{
	size_t	 i;
	int	 l = 1, k = 1;

	for (i = 0; i < off && i < c->len; i++) {
		if (c->text[i] == '\n') {
			l++;
			k = 1;
		} else if (((unsigned char)c->text[i] & 0xc0) != 0x80)
			k++;
	}
	*line = l;
	*col = k;
}

static int
conf_pos_add(struct conf_ctx *c, const char *path, size_t koff, int haskey,
    size_t voff)
{
	struct conf_pos	*p;

	if (c->npos == c->cappos) {
		size_t n = c->cappos ? c->cappos * 2 : 64;
		if ((p = reallocarray(c->pos, n, sizeof(*p))) == NULL)
			return -1;
		c->pos = p;
		c->cappos = n;
	}
	p = &c->pos[c->npos];
	if ((p->path = strdup(path)) == NULL)
		return -1;
	p->kline = p->kcol = 0;
	if (haskey)
		conf_linecol(c, koff, &p->kline, &p->kcol);
	conf_linecol(c, voff, &p->vline, &p->vcol);
	c->npos++;
	return 0;
}

static size_t
conf_skip_ws(const struct conf_ctx *c, size_t i)
{
	while (i < c->len && (c->text[i] == ' ' || c->text[i] == '\t' ||
	    c->text[i] == '\n' || c->text[i] == '\r'))
		i++;
	return i;
}

/* Returns the offset after the string starting at the quote at i. */
static size_t
conf_skip_string(const struct conf_ctx *c, size_t i)
{
	for (i++; i < c->len && c->text[i] != '"'; i++)
		if (c->text[i] == '\\')
			i++;
	return i < c->len ? i + 1 : c->len;
}

static size_t	conf_scan_value(struct conf_ctx *, size_t, const char *,
		    int, size_t, int);

/*
 * Records the positions of the value at i and everything inside it.  The
 * text is known to be valid JSON, so the scanner only has to be careful
 * about staying in bounds.  Keys are used as written between the quotes.
 */
static size_t
conf_scan_value(struct conf_ctx *c, size_t i, const char *path, int haskey,
    size_t koff, int depth)
{
	char	 sub[CONF_MAX_PATH];
	size_t	 k, kend, idx = 0;

	i = conf_skip_ws(c, i);
	if (i >= c->len || depth > 64)
		return c->len;
	if (conf_pos_add(c, path, koff, haskey, i) == -1)
		return c->len;
	switch (c->text[i]) {
	case '{':
		i = conf_skip_ws(c, i + 1);
		while (i < c->len && c->text[i] != '}') {
			k = i;
			kend = conf_skip_string(c, i);
			conf_path(sub, "%s/%.*s", path,
			    (int)(kend - k >= 2 ? kend - k - 2 : 0),
			    c->text + k + 1);
			i = conf_skip_ws(c, kend);
			if (i < c->len && c->text[i] == ':')
				i++;
			i = conf_scan_value(c, i, sub, 1, k, depth + 1);
			i = conf_skip_ws(c, i);
			if (i < c->len && c->text[i] == ',')
				i = conf_skip_ws(c, i + 1);
			else
				break;
		}
		return i < c->len ? i + 1 : c->len;
	case '[':
		i = conf_skip_ws(c, i + 1);
		while (i < c->len && c->text[i] != ']') {
			conf_path(sub, "%s/%zu", path, idx++);
			i = conf_scan_value(c, i, sub, 0, 0, depth + 1);
			i = conf_skip_ws(c, i);
			if (i < c->len && c->text[i] == ',')
				i = conf_skip_ws(c, i + 1);
			else
				break;
		}
		return i < c->len ? i + 1 : c->len;
	case '"':
		return conf_skip_string(c, i);
	default:
		while (i < c->len && strchr(",}] \t\r\n", c->text[i]) == NULL)
			i++;
		return i;
	}
}

static const struct conf_pos *
conf_pos_find(const struct conf_ctx *c, const char *path)
{
	char	 p[CONF_MAX_PATH];
	char	*slash;
	size_t	 i;

	conf_path(p, "%s", path);
	for (;;) {
		for (i = 0; i < c->npos; i++)
			if (strcmp(c->pos[i].path, p) == 0)
				return &c->pos[i];
		if ((slash = strrchr(p, '/')) == NULL)
			return NULL;
		*slash = '\0';
	}
}

/*
 * Reports a problem at the value of path (or at its key when atkey),
 * falling back to the nearest enclosing position that is known.
 */
static void F2M_PRINTF(4, 5)
conf_err(struct conf_ctx *c, const char *path, int atkey, const char *fmt,
    ...)
{
	const struct conf_pos	*p;
	va_list			 ap;
	int			 line = 1, col = 1;

	if ((p = conf_pos_find(c, path)) != NULL) {
		line = p->vline;
		col = p->vcol;
		if (atkey && p->kline) {
			line = p->kline;
			col = p->kcol;
		}
	}
	fprintf(stderr, "%s:%d:%d: ", c->file, line, col);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	c->errors++;
}

/* Like conf_err at the value of path, but a warning: check still passes. */
static void F2M_PRINTF(3, 4)
conf_warn(struct conf_ctx *c, const char *path, const char *fmt, ...)
{
	const struct conf_pos	*p;
	va_list			 ap;

	p = conf_pos_find(c, path);
	fprintf(stderr, "%s:%d:%d: warning: ", c->file, p ? p->vline : 1,
	    p ? p->vcol : 1);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- typed getters ------------------------------------------------ */

static size_t
conf_lev(const char *a, const char *b)
{
	size_t	 la = strlen(a), lb = strlen(b), i, j, prev, tmp;
	size_t	 row[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			row[j] = prev + (a[i - 1] == b[j - 1] ? 0 : 1);
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			if (tmp + 1 < row[j])
				row[j] = tmp + 1;
			prev = tmp;
		}
	}
	return row[lb];
}

/* Reports every key of obj that is not in the NULL-terminated list. */
static void
conf_known(struct conf_ctx *c, const char *path, json_t *obj,
    const char *const *keys)
{
	const char	*key, *best;
	json_t		*v;
	char		 sub[CONF_MAX_PATH];
	size_t		 i, d, bestd;

	json_object_foreach(obj, key, v) {
		best = NULL;
		bestd = 99;
		for (i = 0; keys[i] != NULL; i++) {
			if (strcmp(keys[i], key) == 0)
				break;
			d = conf_lev(key, keys[i]);
			if (d < bestd) {
				bestd = d;
				best = keys[i];
			}
		}
		if (keys[i] != NULL)
			continue;
		conf_path(sub, "%s/%s", path, key);
		if (best != NULL && bestd <= 2 + strlen(key) / 4)
			conf_err(c, sub, 1, "unknown key \"%s\" (did you mean "
			    "\"%s\"?)", key, best);
		else
			conf_err(c, sub, 1, "unknown key \"%s\"", key);
	}
}

static json_t *
conf_obj(struct conf_ctx *c, const char *path, json_t *parent,
    const char *key, int required)
{
	char	 sub[CONF_MAX_PATH];
	json_t	*v = json_object_get(parent, key);

	conf_path(sub, "%s/%s", path, key);
	if (v == NULL) {
		if (required)
			conf_err(c, path, 0, "missing \"%s\"", key);
		return NULL;
	}
	if (!json_is_object(v)) {
		conf_err(c, sub, 0, "\"%s\" must be an object", key);
		return NULL;
	}
	return v;
}

/* Returns a malloc'd copy of a string member, def when absent, NULL on
 * error (reported) or when absent without default. */
static char *
conf_str(struct conf_ctx *c, const char *path, json_t *parent,
    const char *key, const char *def, int required)
{
	char		 sub[CONF_MAX_PATH];
	json_t		*v = json_object_get(parent, key);
	const char	*s;
	size_t		 i, n;

	conf_path(sub, "%s/%s", path, key);
	if (v == NULL) {
		if (required)
			conf_err(c, path, 0, "missing \"%s\"", key);
		return def ? strdup(def) : NULL;
	}
	if (!json_is_string(v)) {
		conf_err(c, sub, 0, "\"%s\" must be a string", key);
		return NULL;
	}
	s = json_string_value(v);
	n = json_string_length(v);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			conf_err(c, sub, 0, "\"%s\" holds a control character",
			    key);
			return NULL;
		}
	return strdup(s);
}

static int
conf_bool(struct conf_ctx *c, const char *path, json_t *parent,
    const char *key, int def)
{
	char	 sub[CONF_MAX_PATH];
	json_t	*v = json_object_get(parent, key);

	if (v == NULL)
		return def;
	if (!json_is_boolean(v)) {
		conf_path(sub, "%s/%s", path, key);
		conf_err(c, sub, 0, "\"%s\" must be true or false", key);
		return def;
	}
	return json_is_true(v);
}

static long long
conf_int(struct conf_ctx *c, const char *path, json_t *parent,
    const char *key, long long def, long long min, long long max)
{
	char		 sub[CONF_MAX_PATH];
	json_t		*v = json_object_get(parent, key);
	long long	 n;

	if (v == NULL)
		return def;
	conf_path(sub, "%s/%s", path, key);
	if (!json_is_integer(v)) {
		conf_err(c, sub, 0, "\"%s\" must be an integer", key);
		return def;
	}
	n = json_integer_value(v);
	if (n < min || n > max) {
		conf_err(c, sub, 0, "\"%s\" must be between %lld and %lld",
		    key, min, max);
		return def;
	}
	return n;
}

static long
conf_dur(struct conf_ctx *c, const char *path, json_t *parent,
    const char *key, long def)
{
	char	 sub[CONF_MAX_PATH];
	json_t	*v = json_object_get(parent, key);
	long	 d;

	if (v == NULL)
		return def;
	conf_path(sub, "%s/%s", path, key);
	if (json_is_integer(v) && json_integer_value(v) > 0 &&
	    json_integer_value(v) < 10LL * 366 * 86400)
		return (long)json_integer_value(v);
	if (!json_is_string(v) || (d = rate_duration(json_string_value(v))) <= 0) {
		conf_err(c, sub, 0, "\"%s\" must be a duration such as "
		    "\"90s\", \"10m\", \"1h\" or \"5d\"", key);
		return def;
	}
	return d;
}

static void
conf_rate(struct conf_ctx *c, const char *path, json_t *parent,
    const char *key, struct rate *r)
{
	char	 sub[CONF_MAX_PATH];
	json_t	*v = json_object_get(parent, key);

	r->count = r->period = 0;
	if (v == NULL)
		return;
	conf_path(sub, "%s/%s", path, key);
	if (!json_is_string(v) || rate_parse(json_string_value(v), r) == -1)
		conf_err(c, sub, 0, "\"%s\" must be a rate COUNT/PERIOD such as "
		    "\"5/10m\" (1 to 1000000 per 1 s to 30 d)", key);
}

static double
conf_real(struct conf_ctx *c, const char *path, json_t *parent,
    const char *key, double def, double min, double max)
{
	char	 sub[CONF_MAX_PATH];
	json_t	*v = json_object_get(parent, key);
	double	 d;

	if (v == NULL)
		return def;
	conf_path(sub, "%s/%s", path, key);
	if (!json_is_number(v) || (d = json_number_value(v)) < min || d > max) {
		conf_err(c, sub, 0, "\"%s\" must be a number from %g to %g",
		    key, min, max);
		return def;
	}
	return d;
}

/* ---- checks ------------------------------------------------------- */

static int
conf_is_token(const char *s, size_t max)
{
	size_t	 n = 0;

	if (s == NULL || *s == '\0')
		return 0;
	for (; *s; s++, n++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return 0;
	return n <= max;
}

/* Checks that a secret file exists and is private; reports at path. */
static void
conf_check_secret(struct conf_ctx *c, const char *path, const char *file)
{
	struct stat	 st;

	if (file == NULL)
		return;
	if (file[0] != '/') {
		conf_err(c, path, 0, "\"%s\" must be an absolute path", file);
		return;
	}
	if (stat(file, &st) == -1) {
		conf_err(c, path, 0, "%s: %s", file, strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		conf_err(c, path, 0, "%s: not a regular file", file);
		return;
	}
	if (st.st_mode & 077)
		conf_err(c, path, 0, "%s: readable or writable by group or "
		    "others (mode %04o); chmod 600 it", file,
		    (unsigned)(st.st_mode & 07777));
}

static int
conf_mailbox(struct conf_ctx *c, const char *path, const char *s,
    struct conf_mailbox *mb)
{
	char	 esc[512];

	if (addr_mailbox_parse(s, &mb->display, &mb->addr) == -1) {
		conf_err(c, path, 0, "\"%s\" is not a valid mailbox "
		    "(\"Name <local@domain>\" or \"local@domain\")",
		    log_escape(esc, sizeof(esc), s, strlen(s)));
		return -1;
	}
	return 0;
}

/* A string or an array of strings of mailboxes. */
static void
conf_mailboxes(struct conf_ctx *c, const char *path, json_t *parent,
    const char *key, struct conf_mailbox **out, size_t *nout)
{
	char	 sub[CONF_MAX_PATH], item[CONF_MAX_PATH];
	json_t	*v = json_object_get(parent, key), *e;
	size_t	 i, n;

	*out = NULL;
	*nout = 0;
	if (v == NULL)
		return;
	conf_path(sub, "%s/%s", path, key);
	if (json_is_string(v)) {
		if ((*out = calloc(1, sizeof(**out))) == NULL)
			return;
		if (conf_mailbox(c, sub, json_string_value(v), *out) == 0)
			*nout = 1;
		return;
	}
	if (!json_is_array(v) || json_array_size(v) > CONF_MAX_LIST) {
		conf_err(c, sub, 0, "\"%s\" must be an array of at most %d "
		    "addresses", key, CONF_MAX_LIST);
		return;
	}
	n = json_array_size(v);
	if (n == 0 || (*out = calloc(n, sizeof(**out))) == NULL)
		return;
	json_array_foreach(v, i, e) {
		conf_path(item, "%s/%zu", sub, i);
		if (!json_is_string(e)) {
			conf_err(c, item, 0, "must be a string");
			continue;
		}
		if (conf_mailbox(c, item, json_string_value(e),
		    &(*out)[*nout]) == 0)
			(*nout)++;
	}
}

/* An array of strings each accepted by ok(). */
static void
conf_strings(struct conf_ctx *c, const char *path, json_t *parent,
    const char *key, int (*ok)(const char *), const char *what,
    char ***out, size_t *nout)
{
	char	 sub[CONF_MAX_PATH], item[CONF_MAX_PATH];
	json_t	*v = json_object_get(parent, key), *e;
	size_t	 i, n;

	*out = NULL;
	*nout = 0;
	if (v == NULL)
		return;
	conf_path(sub, "%s/%s", path, key);
	if (!json_is_array(v) || json_array_size(v) > CONF_MAX_LIST) {
		conf_err(c, sub, 0, "\"%s\" must be an array of at most %d "
		    "strings", key, CONF_MAX_LIST);
		return;
	}
	n = json_array_size(v);
	if (n == 0 || (*out = calloc(n, sizeof(char *))) == NULL)
		return;
	json_array_foreach(v, i, e) {
		conf_path(item, "%s/%zu", sub, i);
		if (!json_is_string(e) || !ok(json_string_value(e))) {
			conf_err(c, item, 0, "must be %s", what);
			continue;
		}
		if (((*out)[*nout] = strdup(json_string_value(e))) != NULL)
			(*nout)++;
	}
}

/* DIR/NAME.EXT, its errors reported at path (a missing file only when
 * required); a syntax error points into the template file itself. */
static struct tmpl *
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

/* ---- sections ----------------------------------------------------- */

static const char *const conf_top_keys[] = {
	"listen", "listen_mode", "listen_group", "workers", "spool_dir",
	"state_dir", "templates_dir", "user", "require_https", "log",
	"limits", "max_age", "sender", "smtp", "dkim", "forms", "throttle",
	"spam", "duplicate_window", "altcha_key_file", "metrics", NULL
};
static const char *const conf_throttle_keys[] = {
	"backend", "per_ip", "per_form", "global", "redis", "fail_open",
	"entries", NULL
};
static const char *const conf_spam_keys[] = {
	"rspamd_url", "reject_score", "hold_score", "fail_open", "timeout",
	NULL
};
static const char *const conf_challenge_keys[] = {
	"type", "max_number", "min_seconds", "expires", NULL
};
static const char *const conf_captcha_keys[] = {
	"provider", "secret_file", "verify_url", "hostnames", "action",
	"min_score", "timeout", NULL
};
static const char *const conf_limits_keys[] = {
	"max_body", "max_fields", "max_value", NULL
};
static const char *const conf_sender_keys[] = {
	"from", "envelope_from", "hostname", "message_id_domain",
	"same_domain_from", "spf", NULL
};
static const char *const conf_smtp_keys[] = {
	"url", "username", "password_file", "ca_file", "max_per_hour",
	"pacing_period", "timeout", "insecure_plaintext", "connections", NULL
};
static const char *const conf_dkim_keys[] = {
	"domain", "selector", "algorithm", "key_file", NULL
};
static const char *const conf_form_keys[] = {
	"recipients", "route", "allow_subject_field", "cc", "bcc", "subject",
	"template", "pages", "autoresponder", "uploads", "fields",
	"success_url", "error_url", "allowed_origins", "allow_missing_origin",
	"honeypot", "extra_fields", "redirect_allowlist", "max_links",
	"blocked_phrases", "challenge", "captcha", "json_style", "site_url",
	NULL
};
static const char *const conf_field_keys[] = {
	"required", "max_length", "type", "reply_to", "multiline", "label",
	"letters", NULL
};

static char *
conf_abs_dir(struct conf_ctx *c, const char *path, json_t *root,
    const char *key, const char *def)
{
	char	 sub[CONF_MAX_PATH];
	char	*s = conf_str(c, path, root, key, def, 0);

	conf_path(sub, "%s/%s", path, key);
	if (s != NULL && (s[0] != '/' || strlen(s) > 200)) {
		conf_err(c, sub, 0, "\"%s\" must be an absolute path of at "
		    "most 200 octets", key);
	}
	return s;
}

static void
conf_top(struct conf_ctx *c, json_t *root)
{
	struct conf	*cf = c->conf;
	json_t		*v;
	char		*s, *end;
	unsigned long	 mode;

	conf_known(c, "", root, conf_top_keys);
	cf->listen = conf_str(c, "", root, "listen",
	    "unix:/run/form2mail/form2mail.sock", 0);
	if (cf->listen != NULL && (strncmp(cf->listen, "unix:/", 6) != 0 ||
	    strlen(cf->listen + 5) >= sizeof(((struct sockaddr_un *)0)->sun_path)))
		conf_err(c, "/listen", 0, "\"listen\" must be "
		    "\"unix:/absolute/path\" (at most 107 octets)");
	s = conf_str(c, "", root, "listen_mode", "0660", 0);
	if (s != NULL) {
		errno = 0;
		mode = strtoul(s, &end, 8);
		if (errno || *end || end == s || mode > 0777)
			conf_err(c, "/listen_mode", 0, "\"listen_mode\" must "
			    "be an octal mode such as \"0660\"");
		else
			cf->listen_mode = (mode_t)mode;
		free(s);
	}
	cf->listen_group = conf_str(c, "", root, "listen_group", NULL, 0);
	if (cf->listen_group != NULL && getgrnam(cf->listen_group) == NULL)
		conf_err(c, "/listen_group", 0, "no group \"%s\"",
		    cf->listen_group);
	cf->workers = (int)conf_int(c, "", root, "workers", 4, 1, 256);
	cf->spool_dir = conf_abs_dir(c, "", root, "spool_dir",
	    "/var/spool/form2mail");
	cf->state_dir = conf_abs_dir(c, "", root, "state_dir",
	    "/var/lib/form2mail");
	cf->templates_dir = conf_abs_dir(c, "", root, "templates_dir",
	    F2M_TEMPLATES_DIR);
	cf->user = conf_str(c, "", root, "user", NULL, 0);
	if (cf->user != NULL && getpwnam(cf->user) == NULL)
		conf_err(c, "/user", 0, "no user \"%s\"", cf->user);
	cf->require_https = conf_bool(c, "", root, "require_https", 1);
	s = conf_str(c, "", root, "log", "stderr", 0);
	if (s != NULL) {
		if (strcmp(s, "syslog") == 0)
			cf->log_syslog = 1;
		else if (strcmp(s, "stderr") != 0)
			conf_err(c, "/log", 0, "\"log\" must be \"stderr\" or "
			    "\"syslog\"");
		free(s);
	}
	cf->max_age = conf_dur(c, "", root, "max_age", 5 * 86400);
	v = json_object_get(root, "duplicate_window");
	if ((json_is_integer(v) && json_integer_value(v) == 0) ||
	    (json_is_string(v) && strcmp(json_string_value(v), "0") == 0))
		cf->duplicate_window = 0;	/* off */
	else
		cf->duplicate_window = conf_dur(c, "", root,
		    "duplicate_window", 600);
	cf->altcha_key_file = conf_str(c, "", root, "altcha_key_file", NULL, 0);
	if (cf->altcha_key_file != NULL && cf->altcha_key_file[0] != '/')
		conf_err(c, "/altcha_key_file", 0, "\"altcha_key_file\" must "
		    "be an absolute path");
}

/* "metrics": {"allow": ["127.0.0.1", "::1"]}: GET <prefix>/_metrics. */
static void
conf_metrics(struct conf_ctx *c, json_t *root)
{
	static const char *const keys[] = { "allow", NULL };
	json_t	*o = conf_obj(c, "", root, "metrics", 0);

	if (o == NULL)
		return;
	conf_known(c, "/metrics", o, keys);
	conf_strings(c, "/metrics", o, "allow", addr_ip_ok, "an IP address",
	    &c->conf->metrics_allow, &c->conf->nmetrics_allow);
	if (c->conf->nmetrics_allow == 0)
		conf_err(c, "/metrics", 0, "\"metrics\" needs \"allow\": the "
		    "addresses that may read them");
}

static void
conf_throttle(struct conf_ctx *c, json_t *root)
{
	struct conf_throttle	*t = &c->conf->throttle;
	json_t			*o = conf_obj(c, "", root, "throttle", 0);
	char			*s;

	t->entries = 65536;
	if (o == NULL)
		return;
	conf_known(c, "/throttle", o, conf_throttle_keys);
	s = conf_str(c, "/throttle", o, "backend", "shm", 0);
	if (s != NULL && strcmp(s, "redis") == 0)
		t->redis = 1;
	else if (s != NULL && strcmp(s, "shm") != 0)
		conf_err(c, "/throttle/backend", 0, "\"backend\" must be "
		    "\"shm\" or \"redis\"");
	free(s);
	conf_rate(c, "/throttle", o, "per_ip", &t->per_ip);
	conf_rate(c, "/throttle", o, "per_form", &t->per_form);
	conf_rate(c, "/throttle", o, "global", &t->global);
	t->redis_url = conf_str(c, "/throttle", o, "redis", NULL, 0);
	if (t->redis_url != NULL && strncmp(t->redis_url, "redis://", 8) != 0 &&
	    strncmp(t->redis_url, "unix:/", 6) != 0)
		conf_err(c, "/throttle/redis", 0, "\"redis\" must be "
		    "redis://host:port/db or unix:/path");
	if (t->redis && t->redis_url == NULL)
		t->redis_url = strdup("redis://127.0.0.1:6379/0");
	t->fail_open = conf_bool(c, "/throttle", o, "fail_open", 0);
	t->entries = (size_t)conf_int(c, "/throttle", o, "entries", 65536,
	    1024, 16 * 1024 * 1024);
}

static void
conf_spam(struct conf_ctx *c, json_t *root)
{
	struct conf_spam	*sp = &c->conf->spam;
	json_t			*o = conf_obj(c, "", root, "spam", 0);

	if (o == NULL)
		return;
	conf_known(c, "/spam", o, conf_spam_keys);
	sp->rspamd_url = conf_str(c, "/spam", o, "rspamd_url", NULL, 1);
	if (sp->rspamd_url != NULL && !url_service_ok(sp->rspamd_url))
		conf_err(c, "/spam/rspamd_url", 0, "\"rspamd_url\" must be an "
		    "https:// URL, or http:// to a loopback address");
	sp->reject_score = conf_real(c, "/spam", o, "reject_score", 15, -1000,
	    1000);
	sp->hold_score = conf_real(c, "/spam", o, "hold_score", 6, -1000, 1000);
	if (sp->hold_score > sp->reject_score)
		conf_err(c, "/spam/hold_score", 0, "\"hold_score\" is above "
		    "\"reject_score\"");
	sp->fail_open = conf_bool(c, "/spam", o, "fail_open", 1);
	sp->timeout = (long)conf_int(c, "/spam", o, "timeout", 5, 1, 120);
}

static void
conf_limits(struct conf_ctx *c, json_t *root)
{
	struct conf	*cf = c->conf;
	json_t		*o = conf_obj(c, "", root, "limits", 0);

	cf->max_body = 1024 * 1024;
	cf->max_fields = 50;
	cf->max_value = 100000;
	if (o == NULL)
		return;
	conf_known(c, "/limits", o, conf_limits_keys);
	cf->max_body = (size_t)conf_int(c, "/limits", o, "max_body",
	    1024 * 1024, 256, 64 * 1024 * 1024);
	cf->max_fields = (size_t)conf_int(c, "/limits", o, "max_fields",
	    50, 1, 1000);
	cf->max_value = (size_t)conf_int(c, "/limits", o, "max_value",
	    100000, 16, 16 * 1024 * 1024);
}

static void
conf_sender(struct conf_ctx *c, json_t *root)
{
	struct conf	*cf = c->conf;
	json_t		*o = conf_obj(c, "", root, "sender", 1);
	char		*s, *disp = NULL, esc[512];

	if (o == NULL)
		return;
	conf_known(c, "/sender", o, conf_sender_keys);
	if ((s = conf_str(c, "/sender", o, "from", NULL, 1)) != NULL) {
		conf_mailbox(c, "/sender/from", s, &cf->from);
		free(s);
	}
	if ((s = conf_str(c, "/sender", o, "envelope_from", NULL, 0)) != NULL) {
		if (addr_mailbox_parse(s, &disp, &cf->envelope_from) == -1 ||
		    disp[0] != '\0')
			conf_err(c, "/sender/envelope_from", 0, "\"%s\" is not "
			    "a bare address (local@domain)",
			    log_escape(esc, sizeof(esc), s, strlen(s)));
		free(disp);
		free(s);
	} else if (cf->from.addr != NULL)
		cf->envelope_from = strdup(cf->from.addr);
	cf->hostname = conf_str(c, "/sender", o, "hostname", NULL, 1);
	if (cf->hostname != NULL && (!addr_ldh_ok(cf->hostname,
	    strlen(cf->hostname), ADDR_MAX_DOMAIN) ||
	    strchr(cf->hostname, '.') == NULL))
		conf_err(c, "/sender/hostname", 0, "\"hostname\" must be a "
		    "fully qualified host name");
	cf->message_id_domain = conf_str(c, "/sender", o, "message_id_domain",
	    NULL, 0);
	if (cf->message_id_domain != NULL &&
	    (!addr_ldh_ok(cf->message_id_domain,
	    strlen(cf->message_id_domain), ADDR_MAX_DOMAIN) ||
	    strchr(cf->message_id_domain, '.') == NULL))
		conf_err(c, "/sender/message_id_domain", 0, "\"message_id_domain"
		    "\" must be a fully qualified domain name");
	else if (cf->message_id_domain == NULL && cf->from.addr != NULL &&
	    (cf->message_id_domain = strdup(addr_domain(cf->from.addr))) ==
	    NULL)
		conf_err(c, "/sender", 0, "out of memory");
	cf->from_recipient = 1;
	if ((s = conf_str(c, "/sender", o, "same_domain_from", NULL, 0)) !=
	    NULL) {
		if (strcmp(s, "recipient") == 0)
			cf->from_recipient = 1;
		else if (strcmp(s, "sender") == 0)
			cf->from_recipient = 0;
		else
			conf_err(c, "/sender/same_domain_from", 0,
			    "\"same_domain_from\" must be \"recipient\" or "
			    "\"sender\"");
		free(s);
	}
	cf->sender_spf = conf_str(c, "/sender", o, "spf", NULL, 0);
	if (cf->sender_spf != NULL && spf_terms_check(cf->sender_spf, esc,
	    sizeof(esc)) == -1)
		conf_err(c, "/sender/spf", 0, "\"spf\": %s", esc);
}

/* Accepts "smtps://host[:port]" and "smtp://host[:port]" only. */
static void
conf_smtp(struct conf_ctx *c, json_t *root)
{
	struct conf_smtp	*sm = &c->conf->smtp;
	json_t			*o = conf_obj(c, "", root, "smtp", 1);
	const char		*h;
	char			 host[256];
	size_t			 n;
	int			 loopback;

	if (o == NULL)
		return;
	conf_known(c, "/smtp", o, conf_smtp_keys);
	sm->url = conf_str(c, "/smtp", o, "url", NULL, 1);
	sm->username = conf_str(c, "/smtp", o, "username", NULL, 0);
	sm->password_file = conf_str(c, "/smtp", o, "password_file", NULL, 0);
	sm->ca_file = conf_str(c, "/smtp", o, "ca_file", NULL, 0);
	sm->max_per_hour = (long)conf_int(c, "/smtp", o, "max_per_hour", 0,
	    0, 1000000);
	sm->pacing_period = conf_dur(c, "/smtp", o, "pacing_period", 3600);
	sm->timeout = (long)conf_int(c, "/smtp", o, "timeout", 30, 1, 600);
	sm->connections = (int)conf_int(c, "/smtp", o, "connections", 2, 1,
	    CONF_MAX_SMTP_CONNECTIONS);
	sm->insecure_plaintext = conf_bool(c, "/smtp", o,
	    "insecure_plaintext", 0);
	if (sm->username != NULL && sm->password_file == NULL)
		conf_err(c, "/smtp", 0, "\"username\" needs \"password_file\"");
	conf_check_secret(c, "/smtp/password_file", sm->password_file);
	if (sm->ca_file != NULL && access(sm->ca_file, R_OK) == -1)
		conf_err(c, "/smtp/ca_file", 0, "%s: %s", sm->ca_file,
		    strerror(errno));
	if (sm->url == NULL)
		return;
	if (strncmp(sm->url, "smtps://", 8) == 0) {
		sm->tls = CONF_SMTP_IMPLICIT;
		h = sm->url + 8;
	} else if (strncmp(sm->url, "smtp://", 7) == 0) {
		sm->tls = CONF_SMTP_STARTTLS;
		h = sm->url + 7;
	} else {
		conf_err(c, "/smtp/url", 0, "\"url\" must start with smtps:// "
		    "(port 465) or smtp:// (port 587, STARTTLS)");
		return;
	}
	if (h[0] == '[') {
		n = strcspn(h, "]");
		if (h[n] == ']')
			n++;
	} else
		n = strcspn(h, ":/");
	if (n == 0 || n >= sizeof(host) || !url_chars_ok(h) ||
	    strpbrk(h, "/?#@") != NULL) {
		conf_err(c, "/smtp/url", 0, "\"url\" must be scheme://host[:port]"
		    " with nothing after the port");
		return;
	}
	memcpy(host, h, n);
	host[n] = '\0';
	if (h[n] == ':' && (strspn(h + n + 1, "0123456789") !=
	    strlen(h + n + 1) || h[n + 1] == '\0' || atoi(h + n + 1) > 65535))
		conf_err(c, "/smtp/url", 0, "bad port in \"url\"");
	loopback = addr_is_loopback(host, strlen(host), 1);
	if (sm->insecure_plaintext) {
		if (sm->tls != CONF_SMTP_STARTTLS || !loopback)
			conf_err(c, "/smtp/insecure_plaintext", 0,
			    "\"insecure_plaintext\" is allowed only with an "
			    "smtp:// url on a loopback host");
		else
			sm->tls = CONF_SMTP_PLAIN;
	}
}

static void
conf_dkim(struct conf_ctx *c, json_t *root)
{
	struct conf	*cf = c->conf;
	json_t		*a = json_object_get(root, "dkim"), *o;
	char		 p[CONF_MAX_PATH];
	char		*alg;
	size_t		 i, n;

	if (a == NULL) {
		conf_err(c, "", 0, "missing \"dkim\": every message is signed; "
		    "see form2mail keygen");
		return;
	}
	if (!json_is_array(a) || (n = json_array_size(a)) == 0 || n > 8) {
		conf_err(c, "/dkim", 0, "\"dkim\" must be an array of 1 to 8 "
		    "keys");
		return;
	}
	if ((cf->dkim = calloc(n, sizeof(*cf->dkim))) == NULL)
		return;
	json_array_foreach(a, i, o) {
		struct conf_dkim *d = &cf->dkim[cf->ndkim];

		conf_path(p, "/dkim/%zu", i);
		if (!json_is_object(o)) {
			conf_err(c, p, 0, "must be an object");
			continue;
		}
		cf->ndkim++;
		conf_known(c, p, o, conf_dkim_keys);
		d->domain = conf_str(c, p, o, "domain", NULL, 1);
		d->selector = conf_str(c, p, o, "selector", NULL, 1);
		d->key_file = conf_str(c, p, o, "key_file", NULL, 1);
		alg = conf_str(c, p, o, "algorithm", "rsa-sha256", 0);
		if (d->domain != NULL && (!addr_ldh_ok(d->domain,
		    strlen(d->domain), ADDR_MAX_DOMAIN) ||
		    strchr(d->domain, '.') == NULL))
			conf_err(c, p, 0, "\"domain\" must be a domain name");
		if (d->selector != NULL && !addr_ldh_ok(d->selector,
		    strlen(d->selector), ADDR_MAX_DOMAIN))
			conf_err(c, p, 0, "\"selector\" must be letters, "
			    "digits, '-' and '.'");
		if (alg != NULL && strcmp(alg, "ed25519-sha256") == 0)
			d->alg = CONF_DKIM_ED25519_SHA256;
		else if (alg != NULL && strcmp(alg, "rsa-sha256") != 0) {
			char q[CONF_MAX_PATH];
			conf_path(q, "%s/algorithm", p);
			conf_err(c, q, 0, "\"algorithm\" must be \"rsa-sha256\" "
			    "or \"ed25519-sha256\"");
		}
		free(alg);
		conf_path(p, "/dkim/%zu/key_file", i);
		conf_check_secret(c, p, d->key_file);
	}
}

int
conf_same_domain(const char *a, const char *b)
{
	const char	*x, *y;

	return (x = addr_domain(a)) != NULL && (y = addr_domain(b)) != NULL &&
	    strcasecmp(x, y) == 0;
}

int
conf_related_domain(const char *a, const char *b)
{
	return addr_domain_below(a, b) || addr_domain_below(b, a);
}

/* DMARC alignment (RFC 7489 section 3.1.1, relaxed): From's domain is a
 * signing domain or below one. */
static void
conf_alignment(struct conf_ctx *c)
{
	struct conf	*cf = c->conf;
	const char	*fd;
	size_t		 i;

	if (cf->from.addr == NULL || cf->ndkim == 0)
		return;
	fd = addr_domain(cf->from.addr);
	for (i = 0; i < cf->ndkim; i++)
		if (addr_domain_below(fd, cf->dkim[i].domain))
			return;
	conf_err(c, "/sender/from", 0, "From domain \"%s\" is not a DKIM "
	    "signing domain (nor below one): DMARC would fail", fd);
}

/*
 * Header choices a receiving rspamd scores (docs/DESIGN.md "Deliverability"),
 * named with the fix; warnings only, the mail still goes.  Measured with
 * rspamd 3.4 (tests/integration/test_inbox.py): SPOOF_REPLYTO +6.0
 * (rules/misc.lua: Reply-To on another domain than From while an SMTP
 * recipient has From's domain exactly, unless From is the first To),
 * MID_RHS_WWW +0.5.  With sender.same_domain_from "recipient" (the
 * default) a notification whose first To is on From's domain goes out
 * From that address, which rspamd exempts; a recipient on From's domain
 * behind a first To elsewhere is still caught.
 */
static void
conf_rcpt_warn(struct conf_ctx *c, const char *path, const char *key,
    const struct conf_mailbox *to, size_t n, const struct conf_mailbox *first)
{
	const struct conf	*cf = c->conf;
	const char		*fd;
	char			 p[CONF_MAX_PATH];
	size_t			 i;

	fd = addr_domain(cf->from.addr);
	if (first != NULL && strcasecmp(first->addr, cf->from.addr) == 0)
		return;
	if (cf->from_recipient && first != NULL &&
	    conf_same_domain(first->addr, cf->from.addr))
		return;
	for (i = 0; i < n; i++) {
		if (!conf_same_domain(to[i].addr, cf->from.addr))
			continue;
		conf_path(p, "%s/%s/%zu", path, key, i);
		if (cf->from_recipient)
			conf_warn(c, p, "recipient %s shares sender.from's "
			    "domain %s exactly but the first recipient does "
			    "not: with the visitor in Reply-To, a receiving "
			    "rspamd adds SPOOF_REPLYTO (+6.0); list a recipient "
			    "on %s first, or put sender.from on a sub-domain "
			    "(e.g. forms@notify.%s)", to[i].addr, fd, fd, fd);
		else
			conf_warn(c, p, "recipient %s shares sender.from's "
			    "domain %s exactly: with the visitor in Reply-To, "
			    "a receiving rspamd adds SPOOF_REPLYTO (+6.0); "
			    "remove sender.same_domain_from (the default "
			    "\"recipient\" sends such mail From the first "
			    "recipient) or put sender.from on a sub-domain "
			    "(e.g. forms@notify.%s)", to[i].addr, fd, fd);
		return;
	}
}

static void
conf_deliverability(struct conf_ctx *c)
{
	const struct conf	*cf = c->conf;
	const struct conf_form	*f;
	const char		*fd, *ed;
	char			 p[CONF_MAX_PATH], q[CONF_MAX_PATH];
	size_t			 i, j;

	if (cf->from.addr == NULL)
		return;
	fd = addr_domain(cf->from.addr);
	if (cf->message_id_domain != NULL &&
	    strncasecmp(cf->message_id_domain, "www.", 4) == 0)
		conf_warn(c, "/sender/message_id_domain", "Message-ID "
		    "<id@%s> is on a www. host: a receiving rspamd adds "
		    "MID_RHS_WWW (+0.5); use the From domain (%s, the "
		    "default: remove the key)", cf->message_id_domain, fd);
	if (cf->envelope_from != NULL &&
	    (ed = addr_domain(cf->envelope_from)) != NULL &&
	    !conf_related_domain(ed, fd))
		conf_warn(c, "/sender/envelope_from", "envelope sender %s is "
		    "not on From's domain %s: SPF then does not align for "
		    "DMARC, and a receiving rspamd adds FORGED_SENDER (+0.3); "
		    "use an address on %s (the default, %s: remove the key)",
		    cf->envelope_from, fd, fd, cf->from.addr);
	for (i = 0; i < cf->nforms; i++) {
		f = &cf->forms[i];
		if (f->id == NULL)
			continue;
		conf_path(p, "/forms/%s", f->id);
		conf_rcpt_warn(c, p, "recipients", f->to, f->nto,
		    f->nto > 0 ? &f->to[0] : NULL);
		conf_rcpt_warn(c, p, "cc", f->cc, f->ncc,
		    f->nto > 0 ? &f->to[0] : NULL);
		conf_rcpt_warn(c, p, "bcc", f->bcc, f->nbcc,
		    f->nto > 0 ? &f->to[0] : NULL);
		for (j = 0; j < f->nchoices; j++) {
			if (f->choices[j].value == NULL)
				continue;
			conf_path(q, "%s/route/choices", p);
			conf_rcpt_warn(c, q, f->choices[j].value,
			    f->choices[j].to, f->choices[j].nto,
			    f->choices[j].nto > 0 ? &f->choices[j].to[0] : NULL);
		}
	}
}

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

static void
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

static int
conf_ok_hostname(const char *s)
{
	return addr_ldh_ok(s, strlen(s), ADDR_MAX_DOMAIN);
}

static void
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
	cc->timeout = 5;
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
	cc->timeout = (long)conf_int(c, p, o, "timeout", 5, 1, 60);
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

/* Longest visitor text an autoreply may carry: a name, not a message. */
#define CONF_AUTO_MAX_FIELD	60

struct conf_auto_arg {
	struct conf_ctx		*c;
	const struct conf_form	*f;
	const char		*path;
	int			 subject;
};

/* The autoresponder may greet the visitor by name, never echo the
 * message: only metadata and single-line fields. */
static void
conf_auto_name(const char *name, void *arg)
{
	struct conf_auto_arg	*a = arg;
	size_t			 i;

	if (strcmp(name, "_form") == 0 || strcmp(name, "_id") == 0 ||
	    strcmp(name, "_date") == 0)
		return;
	if (a->subject) {
		conf_err(a->c, a->path, 0, "the autoresponder subject may not "
		    "use \"%s\": no visitor text in the subject of a mail to "
		    "an address anyone can type", name);
		return;
	}
	for (i = 0; i < a->f->nfields; i++)
		if (strcmp(a->f->fields[i].name, name) == 0) {
			if (a->f->fields[i].multiline ||
			    a->f->fields[i].max_length == 0 ||
			    a->f->fields[i].max_length > CONF_AUTO_MAX_FIELD)
				conf_err(a->c, a->path, 0, "the autoresponder "
				    "may show only single-line fields with a "
				    "max_length of at most %d (a name), not \"%s\"",
				    CONF_AUTO_MAX_FIELD, name);
			return;
		}
	/* Not a field of this form: renders empty, like any missing value
	 * (the shipped template greets {{name}}, which a form may lack). */
}

/*
 * "autoresponder": {"field": "email", "subject": "...", "template": NAME,
 * "per_address": "1d", "max_per_day": 200}
 */
static void
conf_autoresponder(struct conf_ctx *c, const char *fp, json_t *fo,
    struct conf_form *f)
{
	static const char *const keys[] = { "field", "subject", "template",
	    "per_address", "max_per_day", NULL };
	struct conf_auto_arg	 a;
	json_t			*o = conf_obj(c, fp, fo, "autoresponder", 0);
	char			 p[CONF_MAX_PATH], err[256];
	char			*s, *tname;
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
	a.c = c;
	a.f = f;
	a.path = p;
	a.subject = 1;
	s = conf_str(c, p, o, "subject", "We received your message", 0);
	if (s != NULL) {
		if (tmpl_parse(s, strlen(s), &f->auto_subject, err,
		    sizeof(err)) == -1)
			conf_err(c, p, 0, "autoresponder subject: %s", err);
		else
			tmpl_names(f->auto_subject, conf_auto_name, &a);
		free(s);
	}
	a.subject = 0;
	tname = conf_str(c, p, o, "template", "autoreply", 0);
	if (tname != NULL && !conf_is_token(tname, 64))
		conf_err(c, p, 0, "autoresponder \"template\" must be a name");
	else if (tname != NULL) {
		f->auto_text = conf_tmpl_file(c, p, c->conf->templates_dir,
		    tname, "txt", 1);
		f->auto_html = conf_tmpl_file(c, p, c->conf->templates_dir,
		    tname, "html", 0);
		if (f->auto_text != NULL)
			tmpl_names(f->auto_text, conf_auto_name, &a);
		if (f->auto_html != NULL)
			tmpl_names(f->auto_html, conf_auto_name, &a);
	}
	free(tname);
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

static void
conf_form(struct conf_ctx *c, const char *id, json_t *fo,
    struct conf_form *f)
{
	struct conf		*cf = c->conf;
	struct conf_subj_arg	 sa;
	char			 p[CONF_MAX_PATH], q[CONF_MAX_PATH];
	char			 err[256];
	char			*s, *tname;
	const char		*dir = cf->templates_dir;

	conf_path(p, "/forms/%s", id);
	f->id = strdup(id);
	if (!conf_is_token(id, 64) || id[0] == '_')
		conf_err(c, p, 1, "form id \"%s\" must be 1 to 64 letters, "
		    "digits, '_' or '-', not starting with '_'", id);
	conf_known(c, p, fo, conf_form_keys);
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
	conf_fields(c, p, fo, f);

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
	conf_challenge(c, p, fo, f);
	conf_captcha(c, p, fo, &f->captcha);
	conf_uploads(c, p, fo, f);
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
	conf_pages(c, p, fo, f);
	conf_autoresponder(c, p, fo, f);
}

static void
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

/* ---- public ------------------------------------------------------- */

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

static void
conf_mailboxes_free(struct conf_mailbox *m, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(m[i].display);
		free(m[i].addr);
	}
	free(m);
}

static void
conf_strings_free(char **v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
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
