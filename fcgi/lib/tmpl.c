/*
 * tmpl: the small template language; see tmpl.h.  This file renders a
 * compiled template (always escaped in TMPL_HTML), lists its names and
 * frees it; tmpl_compile.c parses the source.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/tmpl.h"
#include "lib/tmpl_int.h"

struct tmpl_render {
	const struct tmpl	*t;
	enum tmpl_mode		 mode;
	struct buf		*out;
	size_t			 base;
	size_t			 max_out;
	unsigned long		 steps;
};
static int
tmpl_emit(struct tmpl_render *r, const char *s, size_t len)
{
	if (len > r->max_out - (r->out->len - r->base))
		return -1;
	return buf_add(r->out, s, len);
}

/* HTML: the five characters of the OWASP rule for element content and
 * quoted attribute values; everything else passes unchanged. */
static int
tmpl_emit_value(struct tmpl_render *r, const char *s, size_t len)
{
	const char	*ent;
	size_t		 i, run = 0;

	if (r->mode == TMPL_TEXT)
		return tmpl_emit(r, s, len);
	for (i = 0; i < len; i++) {
		switch (s[i]) {
		case '&':
			ent = "&amp;";
			break;
		case '<':
			ent = "&lt;";
			break;
		case '>':
			ent = "&gt;";
			break;
		case '"':
			ent = "&quot;";
			break;
		case '\'':
			ent = "&#39;";
			break;
		default:
			continue;
		}
		if (tmpl_emit(r, s + run, i - run) == -1 ||
		    tmpl_emit(r, ent, strlen(ent)) == -1)
			return -1;
		run = i + 1;
	}
	return tmpl_emit(r, s + run, len - run);
}

static const struct tmpl_var *
tmpl_lookup(const struct tmpl_scope *sc, const char *name)
{
	size_t	 i;

	for (; sc != NULL; sc = sc->parent) {
		if (sc->vars == NULL)
			continue;
		for (i = 0; i < sc->nvars; i++)
			if (sc->vars[i].name != NULL &&
			    strcmp(sc->vars[i].name, name) == 0)
				return &sc->vars[i];
	}
	return NULL;
}

static int
tmpl_islist(const struct tmpl_var *v)
{
	return v->str == NULL;
}

static int
tmpl_isempty(const struct tmpl_var *v)
{
	if (tmpl_islist(v))
		return v->items == NULL || v->nitems == 0;
	return v->len == 0;
}

/*
 * Renders nodes [i, end) in scope sc.  Recursion follows section nesting,
 * which the parser bounds to TMPL_MAX_DEPTH.  An item scope is a copy on
 * this frame's stack with its parent pointing at sc: the caller's items
 * stay untouched.
 */
static int
tmpl_run(struct tmpl_render *r, size_t i, size_t end,
    const struct tmpl_scope *sc)
{
	const struct tmpl_node	*n;
	const struct tmpl_var	*v;
	struct tmpl_scope	 item;
	size_t			 k;

	while (i < end) {
		if (++r->steps > TMPL_MAX_STEPS)
			return -1;
		n = &r->t->nodes[i];
		switch (n->type) {
		case TN_TEXT:
			if (tmpl_emit(r, r->t->src + n->off, n->len) == -1)
				return -1;
			i++;
			continue;
		case TN_VAR:
			v = tmpl_lookup(sc, r->t->names + n->off);
			if (v != NULL && !tmpl_islist(v) &&
			    tmpl_emit_value(r, v->str, v->len) == -1)
				return -1;
			i++;
			continue;
		case TN_SECTION:
			v = tmpl_lookup(sc, r->t->names + n->off);
			if (v == NULL || tmpl_isempty(v))
				break;
			if (!tmpl_islist(v)) {
				if (tmpl_run(r, i + 1, n->end, sc) == -1)
					return -1;
				break;
			}
			for (k = 0; k < v->nitems; k++) {
				if (++r->steps > TMPL_MAX_STEPS)
					return -1;
				item = v->items[k];
				item.parent = sc;
				if (tmpl_run(r, i + 1, n->end, &item) == -1)
					return -1;
			}
			break;
		case TN_INVERTED:
			v = tmpl_lookup(sc, r->t->names + n->off);
			if ((v == NULL || tmpl_isempty(v)) &&
			    tmpl_run(r, i + 1, n->end, sc) == -1)
				return -1;
			break;
		}
		i = n->end;
	}
	return 0;
}

int
tmpl_render(const struct tmpl *t, enum tmpl_mode mode,
    const struct tmpl_scope *root, size_t max_out, struct buf *out)
{
	struct tmpl_render	 r;
	struct tmpl_scope	 top = { NULL, 0, NULL };

	if (root != NULL) {
		top = *root;
		top.parent = NULL;
	}
	r.t = t;
	r.mode = mode;
	r.out = out;
	r.base = out->len;
	r.max_out = max_out;
	r.steps = 0;
	return tmpl_run(&r, 0, t->nnodes, &top);
}

int
tmpl_uses(const struct tmpl *t, const char *name)
{
	size_t	 off, l;

	if (t == NULL || name == NULL)
		return 0;
	for (off = 0; off < t->nameslen; off += l + 1) {
		l = strlen(t->names + off);
		if (strcmp(t->names + off, name) == 0)
			return 1;
	}
	return 0;
}

void
tmpl_names(const struct tmpl *t, void (*fn)(const char *, void *), void *arg)
{
	size_t	 off;

	if (t == NULL)
		return;
	for (off = 0; off < t->nameslen; off += strlen(t->names + off) + 1)
		fn(t->names + off, arg);
}

void
tmpl_free(struct tmpl *t)
{
	if (t == NULL)
		return;
	free(t->src);
	free(t->names);
	free(t->nodes);
	free(t);
}
