/*
 * fuzz_tmpl: tmpl_parse on arbitrary input; what parses is rendered in both
 * modes over two scope trees of the same shape, one whose values are all
 * markup characters and one whose values are harmless letters of the same
 * lengths.  Invariants (abort() on violation):
 *  - a failed parse leaves *out NULL and says "LINE:COLUMN: message";
 *  - tmpl_names gives distinct, well-formed names, each tmpl_uses() == 1;
 *  - no render appends more than max_out octets;
 *  - harmless values render the same in TEXT and HTML modes;
 *  - HTML escaping works: the hostile render holds exactly as many < > " '
 *    as the harmless one (every such character comes from template text);
 *  - a render that fit fits again in exactly its length, not in one less.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/tmpl.h"

#define FZ_MAX_OUT	(1 << 16)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FZ_S(n, v)	{ (n), (v), sizeof(v) - 1, NULL, 0 }
#define FZ_L(n, it)	{ (n), NULL, 0, (it), sizeof(it) / sizeof((it)[0]) }
#define FZ_SC(vs)	{ (vs), sizeof(vs) / sizeof((vs)[0]), NULL }

/* Names the dictionary knows: a b c z e l m fields label value multiline. */
#define FZ_TREE(P, V1, V2)						\
static const struct tmpl_var P##_in1[] = { FZ_S("b", V1) };		\
static const struct tmpl_var P##_in2[] = { FZ_S("c", V2),		\
	FZ_S("b", "") };						\
static const struct tmpl_scope P##_inner[] = { FZ_SC(P##_in1),		\
	FZ_SC(P##_in2) };						\
static const struct tmpl_var P##_it1[] = { FZ_S("a", V2),		\
	FZ_L("m", P##_inner) };						\
static const struct tmpl_var P##_it2[] = { FZ_S("b", V1),		\
	{ "e", NULL, 0, NULL, 0 } };					\
static const struct tmpl_var P##_it3[] = { FZ_S("z", V1) };		\
static const struct tmpl_scope P##_items[] = { FZ_SC(P##_it1),		\
	FZ_SC(P##_it2), FZ_SC(P##_it3) };				\
static const struct tmpl_var P##_f1[] = { FZ_S("label", V1),		\
	FZ_S("value", V2), FZ_S("multiline", "1") };			\
static const struct tmpl_var P##_f2[] = { FZ_S("label", V2),		\
	FZ_S("value", V1), FZ_S("multiline", "") };			\
static const struct tmpl_scope P##_fields[] = { FZ_SC(P##_f1),		\
	FZ_SC(P##_f2) };						\
static const struct tmpl_var P##_vars[] = {				\
	FZ_S("a", V1), FZ_S("b", V2), FZ_S("z", ""),			\
	{ "e", NULL, 0, NULL, 0 }, FZ_L("l", P##_items),		\
	FZ_L("fields", P##_fields), FZ_S("_form", V2)			\
};									\
static const struct tmpl_scope P##_root = FZ_SC(P##_vars);

FZ_TREE(evil, "<>\"'&<", "'&\"><")
FZ_TREE(safe, "abcdef", "ghijkl")

static size_t
fz_count(const struct buf *b, char c)
{
	size_t	 i, n = 0;

	for (i = 0; i < b->len; i++)
		n += b->data[i] == c;
	return n;
}

static int
fz_same(const struct buf *a, const struct buf *b)
{
	return a->len == b->len &&
	    (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static void
fz_errfmt(const char *err)
{
	const char	*p = err;
	int		 n;

	for (n = 0; *p >= '0' && *p <= '9'; p++)
		n++;
	if (n == 0 || *p++ != ':')
		abort();
	for (n = 0; *p >= '0' && *p <= '9'; p++)
		n++;
	if (n == 0 || *p++ != ':' || *p++ != ' ' || *p == '\0')
		abort();
	if (err[0] == '0')
		abort();
}

struct fz_names {
	const struct tmpl	*t;
	struct buf		 seen;	/* NUL-separated */
};

static void
fz_name(const char *name, void *arg)
{
	struct fz_names	*fn = arg;
	size_t		 i, len = strlen(name), off, l;

	if (len == 0 || len > TMPL_NAME_MAX)
		abort();
	for (i = 0; i < len; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789_.-", name[i]) == NULL)
			abort();
	if (tmpl_uses(fn->t, name) != 1)
		abort();
	for (off = 0; off < fn->seen.len; off += l + 1) {
		l = strlen(fn->seen.data + off);
		if (strcmp(fn->seen.data + off, name) == 0)
			abort();
	}
	if (buf_add(&fn->seen, name, len + 1) == -1)
		abort();
}

static int
fz_render(const struct tmpl *t, enum tmpl_mode mode,
    const struct tmpl_scope *root, size_t max_out, struct buf *out)
{
	int	 rc;

	buf_reset(out);
	rc = tmpl_render(t, mode, root, max_out, out);
	if (out->len > max_out)
		abort();
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tmpl	*t = NULL;
	struct fz_names	 fn = { NULL, BUF_INIT };
	struct buf	 st = BUF_INIT, sh = BUF_INIT, eh = BUF_INIT;
	struct buf	 again = BUF_INIT;
	char		 err[256];
	int		 rst, rsh, reh;

	if (tmpl_parse((const char *)data, size, &t, err, sizeof(err)) == -1) {
		if (t != NULL)
			abort();
		fz_errfmt(err);
		return 0;
	}
	fn.t = t;
	tmpl_names(t, fz_name, &fn);
	if (tmpl_uses(t, "") != 0 || tmpl_uses(t, NULL) != 0)
		abort();

	rst = fz_render(t, TMPL_TEXT, &safe_root, FZ_MAX_OUT, &st);
	rsh = fz_render(t, TMPL_HTML, &safe_root, FZ_MAX_OUT, &sh);
	reh = fz_render(t, TMPL_HTML, &evil_root, FZ_MAX_OUT, &eh);
	if (rst != rsh || (rst == 0 && !fz_same(&st, &sh)))
		abort();
	if (rsh == 0 && reh == 0 &&
	    (fz_count(&eh, '<') != fz_count(&sh, '<') ||
	    fz_count(&eh, '>') != fz_count(&sh, '>') ||
	    fz_count(&eh, '"') != fz_count(&sh, '"') ||
	    fz_count(&eh, '\'') != fz_count(&sh, '\'')))
		abort();
	(void)fz_render(t, TMPL_TEXT, &evil_root, FZ_MAX_OUT, &again);

	if (rst == 0) {
		if (fz_render(t, TMPL_TEXT, &safe_root, st.len, &again) != 0 ||
		    !fz_same(&st, &again))
			abort();
		if (st.len > 0 && fz_render(t, TMPL_TEXT, &safe_root,
		    st.len - 1, &again) != -1)
			abort();
	}
	if (reh == 0 && eh.len > 0 && fz_render(t, TMPL_HTML, &evil_root,
	    eh.len - 1, &again) != -1)
		abort();

	buf_free(&fn.seen);
	buf_free(&st);
	buf_free(&sh);
	buf_free(&eh);
	buf_free(&again);
	tmpl_free(t);
	return 0;
}
