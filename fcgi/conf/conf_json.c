/*
 * conf_json: positions and typed getters for the config's sections; see
 * conf_json.h.
 *
 * jansson parses and reports syntax errors with their position, but keeps
 * no positions for values.  So the text is scanned a second time by a small
 * scanner of our own (it only runs on text jansson accepted) that records
 * the line and column of every key and value by JSON pointer path; checks
 * report through conf_err(), which looks the path up.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "conf/conf.h"
#include "conf/conf_json.h"
#include "lib/addr.h"
#include "lib/log.h"
#include "lib/rate.h"

/* Writes a JSON pointer path into a CONF_MAX_PATH buffer; a path that does
 * not fit is cut, which only makes a message point at a parent. */
void F2M_PRINTF(2, 3)
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

/*
 * Records the positions of the value at i and everything inside it.  The
 * text is known to be valid JSON, so the scanner only has to be careful
 * about staying in bounds.  Keys are used as written between the quotes.
 */
size_t
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

const struct conf_pos *
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
void F2M_PRINTF(4, 5)
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
void F2M_PRINTF(3, 4)
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
void
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

json_t *
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
char *
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

int
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

long long
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

long
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

void
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

double
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

int
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
void
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

int
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
void
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
void
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

char *
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

void
conf_mailboxes_free(struct conf_mailbox *m, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(m[i].display);
		free(m[i].addr);
	}
	free(m);
}

void
conf_strings_free(char **v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
