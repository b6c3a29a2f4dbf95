/*
 * tmpl compile: the parser of the template language (see tmpl.h): source
 * to the flat node array of tmpl_int.h, every error as "LINE:COLUMN:
 * message".
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/tmpl.h"
#include "lib/tmpl_int.h"

enum tmpl_tag {
	TT_VAR,
	TT_SECTION,
	TT_INVERTED,
	TT_CLOSE,
	TT_COMMENT
};

struct tmpl_open {
	size_t		 node;	/* index of the section node */
	size_t		 tag;	/* source offset of its "{{", for errors */
};

struct tmpl_parser {
	const char		*src;
	size_t			 len;
	char			*err;
	size_t			 errsize;
	struct tmpl		*t;
	struct tmpl_open	 stack[TMPL_MAX_DEPTH];
	size_t			 depth;
};

static void	 tmpl_error(struct tmpl_parser *, size_t, const char *, ...)
		    F2M_PRINTF(3, 4);

/*
 * "LINE:COLUMN: message".  The column counts characters, not octets, so it
 * matches what an editor shows for a UTF-8 template: continuation bytes
 * (10xxxxxx) do not advance it.
 */
static void
tmpl_error(struct tmpl_parser *p, size_t off, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 i, line = 1, col = 1;
	int	 n;

	if (p->err == NULL || p->errsize == 0)
		return;
	for (i = 0; i < off && i < p->len; i++) {
		if (p->src[i] == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)p->src[i] & 0xc0) != 0x80)
			col++;
	}
	n = snprintf(p->err, p->errsize, "%zu:%zu: ", line, col);
	if (n < 0 || (size_t)n >= p->errsize)
		return;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errsize - (size_t)n, fmt, ap);
	va_end(ap);
}

static int
tmpl_isname(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

static int
tmpl_isblank(int c)
{
	return c == ' ' || c == '\t';
}

static const char *
tmpl_find(const char *s, size_t from, size_t len, const char *pat)
{
	if (from >= len)
		return NULL;
	return memmem(s + from, len - from, pat, strlen(pat));
}

static int
tmpl_addnode(struct tmpl_parser *p, size_t at, const struct tmpl_node *n)
{
	struct tmpl	*t = p->t;
	struct tmpl_node *nn;
	size_t		 ncap;

	if (t->nnodes >= TMPL_MAX_NODES) {
		tmpl_error(p, at, "more than %d texts, variables and sections",
		    TMPL_MAX_NODES);
		return -1;
	}
	if (t->nnodes == t->cap) {
		ncap = t->cap ? t->cap * 2 : 32;
		if (ncap > TMPL_MAX_NODES)
			ncap = TMPL_MAX_NODES;
		nn = reallocarray(t->nodes, ncap, sizeof(*nn));
		if (nn == NULL) {
			tmpl_error(p, at, "out of memory");
			return -1;
		}
		t->nodes = nn;
		t->cap = ncap;
	}
	t->nodes[t->nnodes++] = *n;
	return 0;
}

static int
tmpl_addtext(struct tmpl_parser *p, size_t from, size_t to)
{
	struct tmpl_node n = { TN_TEXT, from, to - from, 0 };

	if (to <= from)
		return 0;
	return tmpl_addnode(p, from, &n);
}

/*
 * Sets *off to the offset of name in t->names, adding it at the end the
 * first time.  t->names has room for the whole source, and every distinct
 * name and its NUL take fewer octets than the tag holding it, so the bound
 * check below never fails; it is kept because the copy must be bounded.
 */
static int
tmpl_intern(struct tmpl_parser *p, size_t at, const char *name, size_t len,
    size_t *off)
{
	struct tmpl	*t = p->t;
	size_t		 o, l;

	for (o = 0; o < t->nameslen; o += l + 1) {
		l = strlen(t->names + o);
		if (l == len && memcmp(t->names + o, name, len) == 0) {
			*off = o;
			return 0;
		}
	}
	if (len + 1 > t->namescap - t->nameslen) {
		tmpl_error(p, at, "too many names");
		return -1;
	}
	memcpy(t->names + o, name, len);
	t->names[o + len] = '\0';
	t->nameslen = o + len + 1;
	*off = o;
	return 0;
}

/*
 * Reads the tag between "{{" at ts and "}}" at cl: blanks, an optional
 * sigil, blanks, a name, blanks.  Comments hold anything but "}}".
 */
static int
tmpl_tag(struct tmpl_parser *p, size_t ts, size_t cl, enum tmpl_tag *type,
    size_t *name, size_t *namelen)
{
	const char	*s = p->src;
	size_t		 i = ts + 2, n;

	while (i < cl && tmpl_isblank(s[i]))
		i++;
	*type = TT_VAR;
	if (i < cl) {
		switch (s[i]) {
		case '!':
			*type = TT_COMMENT;
			return 0;
		case '#':
			*type = TT_SECTION;
			break;
		case '^':
			*type = TT_INVERTED;
			break;
		case '/':
			*type = TT_CLOSE;
			break;
		case '{':
		case '&':
			tmpl_error(p, ts, "\"{{%c\" (unescaped output) is not "
			    "supported", s[i]);
			return -1;
		case '=':
			tmpl_error(p, ts, "delimiter changes are not supported");
			return -1;
		case '>':
			tmpl_error(p, ts, "partials are not supported");
			return -1;
		default:
			break;
		}
		if (*type != TT_VAR)
			for (i++; i < cl && tmpl_isblank(s[i]); i++)
				continue;
	}
	for (n = i; i < cl && tmpl_isname((unsigned char)s[i]); i++)
		continue;
	*name = n;
	*namelen = i - n;
	while (i < cl && tmpl_isblank(s[i]))
		i++;
	if (i < cl) {
		tmpl_error(p, ts, "invalid character in name");
		return -1;
	}
	if (*namelen == 0) {
		tmpl_error(p, ts, "empty name");
		return -1;
	}
	if (*namelen > TMPL_NAME_MAX) {
		tmpl_error(p, ts, "name longer than %d characters",
		    TMPL_NAME_MAX);
		return -1;
	}
	return 0;
}

/*
 * Mustache "standalone" rule: a section, inverted, closing or comment tag
 * alone on its line but for blanks takes the whole line with it, line end
 * (LF or CRLF) included.  On 1 the line is [*from, *to).
 */
static int
tmpl_standalone(const char *s, size_t len, size_t ts, size_t te,
    size_t *from, size_t *to)
{
	size_t	 a = ts, b = te;

	while (a > 0 && tmpl_isblank(s[a - 1]))
		a--;
	if (a > 0 && s[a - 1] != '\n')
		return 0;
	while (b < len && tmpl_isblank(s[b]))
		b++;
	if (b < len) {
		if (s[b] == '\n')
			b++;
		else if (s[b] == '\r' && b + 1 < len && s[b + 1] == '\n')
			b += 2;
		else
			return 0;
	}
	*from = a;
	*to = b;
	return 1;
}

static int
tmpl_compile(struct tmpl_parser *p)
{
	struct tmpl		*t = p->t;
	struct tmpl_node	 n;
	struct tmpl_open	*o;
	const char		*hit, *oname;
	enum tmpl_tag		 type;
	size_t			 pos = 0, text = 0, ts, cl, te, tend, next;
	size_t			 name = 0, namelen = 0;

	while ((hit = tmpl_find(p->src, pos, p->len, "{{")) != NULL) {
		ts = (size_t)(hit - p->src);
		if ((hit = tmpl_find(p->src, ts + 2, p->len, "}}")) == NULL) {
			tmpl_error(p, ts, "unclosed \"{{\"");
			return -1;
		}
		cl = (size_t)(hit - p->src);
		te = cl + 2;
		if (tmpl_tag(p, ts, cl, &type, &name, &namelen) == -1)
			return -1;
		if (type == TT_VAR || !tmpl_standalone(p->src, p->len, ts, te,
		    &tend, &next)) {
			tend = ts;
			next = te;
		}
		if (tmpl_addtext(p, text, tend) == -1)
			return -1;
		switch (type) {
		case TT_VAR:
		case TT_SECTION:
		case TT_INVERTED:
			if (type != TT_VAR && p->depth == TMPL_MAX_DEPTH) {
				tmpl_error(p, ts, "sections nested deeper "
				    "than %d", TMPL_MAX_DEPTH);
				return -1;
			}
			n.type = type == TT_VAR ? TN_VAR : type == TT_SECTION ?
			    TN_SECTION : TN_INVERTED;
			n.len = 0;
			n.end = 0;
			if (tmpl_intern(p, ts, p->src + name, namelen,
			    &n.off) == -1 || tmpl_addnode(p, ts, &n) == -1)
				return -1;
			if (type != TT_VAR) {
				p->stack[p->depth].node = t->nnodes - 1;
				p->stack[p->depth].tag = ts;
				p->depth++;
			}
			break;
		case TT_CLOSE:
			if (p->depth == 0) {
				tmpl_error(p, ts, "\"{{/%.*s}}\" closes no "
				    "section", (int)namelen, p->src + name);
				return -1;
			}
			o = &p->stack[p->depth - 1];
			oname = t->names + t->nodes[o->node].off;
			if (strlen(oname) != namelen ||
			    memcmp(oname, p->src + name, namelen) != 0) {
				tmpl_error(p, ts, "\"{{/%.*s}}\" does not close "
				    "section \"%s\"", (int)namelen,
				    p->src + name, oname);
				return -1;
			}
			t->nodes[o->node].end = t->nnodes;
			p->depth--;
			break;
		case TT_COMMENT:
			break;
		}
		pos = text = next;
	}
	if (p->depth > 0) {
		o = &p->stack[p->depth - 1];
		tmpl_error(p, o->tag, "section \"%s\" is not closed",
		    t->names + t->nodes[o->node].off);
		return -1;
	}
	return tmpl_addtext(p, text, p->len);
}

int
tmpl_parse(const char *src, size_t len, struct tmpl **out, char *err,
    size_t errsize)
{
	struct tmpl_parser	 p;
	struct tmpl		*t = NULL;
	int			 rc = -1;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.src = src;
	p.len = len;
	p.err = err;
	p.errsize = errsize;
	if (err != NULL && errsize > 0)
		err[0] = '\0';
	if (len > TMPL_MAX_SIZE) {
		p.len = 0;
		tmpl_error(&p, 0, "template larger than %d octets",
		    TMPL_MAX_SIZE);
		goto out;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->src = malloc(len + 1)) == NULL ||
	    (t->names = malloc(len + 1)) == NULL) {
		tmpl_error(&p, 0, "out of memory");
		goto out;
	}
	t->namescap = len + 1;
	if (len > 0)
		memcpy(t->src, src, len);
	t->src[len] = '\0';
	p.src = t->src;
	p.t = t;
	if (tmpl_compile(&p) == -1)
		goto out;
	*out = t;
	t = NULL;
	rc = 0;
out:
	tmpl_free(t);
	return rc;
}
