/*
 * tmpl: the small template language of notification mails and pages.
 *
 * Syntax (a subset of mustache):
 *   {{name}}             the value of name, escaped for the output
 *   {{#name}}...{{/name}} a list: once per item, the item's variables in
 *                        scope; a string: once when non-empty
 *   {{^name}}...{{/name}} once when name is absent, empty or an empty list
 *   {{! comment }}       nothing
 * Names are 1..64 of [A-Za-z0-9_.-].  Whitespace inside the braces is
 * allowed.  A line holding only a section tag or a comment (and blanks) is
 * removed with its line end ("standalone" tags), so templates read naturally.
 * There is no raw output: every value is escaped for its output mode.
 */
#ifndef F2M_TMPL_H
#define F2M_TMPL_H

#include <stddef.h>

#include "lib/buf.h"

enum tmpl_mode {
	TMPL_TEXT,	/* values as they are (bodies, subject before encoding) */
	TMPL_HTML	/* & < > " ' escaped as entities */
};

/*
 * Values given to a render.  A variable has either a string (str, len) or a
 * list (items, nitems; each item a scope whose parent is set while
 * rendering).  Lookup walks from the innermost scope outwards.
 */
struct tmpl_scope;

struct tmpl_var {
	const char		*name;
	const char		*str;	/* NULL for a list */
	size_t			 len;
	const struct tmpl_scope	*items;
	size_t			 nitems;
};

struct tmpl_scope {
	const struct tmpl_var	*vars;
	size_t			 nvars;
	const struct tmpl_scope	*parent;	/* set by tmpl_render */
};

struct tmpl;

#define TMPL_MAX_DEPTH	8	/* nesting of sections */
#define TMPL_MAX_SIZE	65536	/* octets of template source */
#define TMPL_MAX_NODES	4096	/* texts, variables and sections */
#define TMPL_NAME_MAX	64	/* octets of a name */
#define TMPL_MAX_STEPS	(1UL << 20)	/* nodes visited by one render */

/*
 * Compiles src (need not be NUL-terminated).  On success returns 0 and sets
 * *out (release with tmpl_free()).  On a syntax error, a template over
 * TMPL_MAX_SIZE or TMPL_MAX_NODES, or when memory runs out, returns -1,
 * leaves *out NULL and writes "LINE:COLUMN: message" (1-based; the column
 * counts UTF-8 characters) of the offending tag into err (may be NULL).
 */
int	 tmpl_parse(const char *src, size_t len, struct tmpl **out,
	    char *err, size_t errsize);

/*
 * Appends the output to out.  root is the outermost scope (its parent is
 * ignored; NULL is an empty scope); no caller data is modified.  A variable
 * naming a list renders nothing.  Returns 0, or -1 when memory runs out, the
 * output would pass max_out octets or the render would visit more than
 * TMPL_MAX_STEPS nodes (out then holds a partial result the caller must
 * discard).
 */
int	 tmpl_render(const struct tmpl *, enum tmpl_mode,
	    const struct tmpl_scope *root, size_t max_out, struct buf *out)
	    F2M_WUR;

/* Returns 1 when the template refers to name anywhere (variable or
 * section), 0 otherwise. */
int	 tmpl_uses(const struct tmpl *, const char *name);

/* Calls fn once per distinct name the template refers to (at top level or
 * inside sections), in order of first use.  Used by `form2mail check`. */
void	 tmpl_names(const struct tmpl *,
	    void (*fn)(const char *name, void *arg), void *arg);

/* NULL is accepted. */
void	 tmpl_free(struct tmpl *);

/* What tmpl_load() found. */
enum tmpl_load {
	TMPL_LOAD_OK,		/* *out is set */
	TMPL_LOAD_ABSENT,	/* no such file (ENOENT) */
	TMPL_LOAD_FILE,		/* the file cannot be opened, is not a
				   regular file of at most TMPL_MAX_SIZE
				   octets, or reads short */
	TMPL_LOAD_SYNTAX,	/* tmpl_parse() refused it */
	TMPL_LOAD_NOMEM		/* out of memory; err is "" */
};

/*
 * Reads and compiles the template file DIR/NAME.EXT (tmpl_load.c).  On
 * TMPL_LOAD_OK *out is set (release with tmpl_free()); otherwise *out is
 * NULL and err holds the reason: "template PATH: reason" for ABSENT and
 * FILE (the caller reports it where the file was named), "PATH:LINE:COLUMN:
 * message" for SYNTAX (a position in the template itself).
 */
enum tmpl_load tmpl_load(const char *dir, const char *name, const char *ext,
	    struct tmpl **out, char *err, size_t errsize);

#endif
