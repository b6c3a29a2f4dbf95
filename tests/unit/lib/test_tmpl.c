/* test_tmpl: the template language, its limits and the shipped defaults. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/tmpl.h"
#include "t.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define S(n, v)		{ (n), (v), sizeof(v) - 1, NULL, 0 }
#define L(n, it)	{ (n), NULL, 0, (it), NELEM(it) }
#define SC(vs)		{ (vs), NELEM(vs), NULL }

/* Fixture: strings, a list with a missing member, an empty list, a list of
 * lists. */
static const struct tmpl_var ann[] = { S("name", "Ann"), S("role", "dev") };
static const struct tmpl_var bob[] = { S("name", "Bob") };
static struct tmpl_scope people[] = { SC(ann), SC(bob) };

static const struct tmpl_var c1[] = { S("v", "1") };
static const struct tmpl_var c2[] = { S("v", "2") };
static const struct tmpl_var c3[] = { S("v", "3") };
static const struct tmpl_scope cells1[] = { SC(c1), SC(c2) };
static const struct tmpl_scope cells2[] = { SC(c3) };
static const struct tmpl_var row1[] = { L("cells", cells1) };
static const struct tmpl_var row2[] = { L("cells", cells2) };
static const struct tmpl_scope rows[] = { SC(row1), SC(row2) };

static const struct tmpl_var rootvars[] = {
	S("name", "World"),
	S("empty", ""),
	S("one", "1"),
	S("role", "outer"),
	S("html", "<b>&\"'</b>"),
	S("a.b-c_9", "ok"),
	L("people", people),
	{ "nolist", NULL, 0, NULL, 0 },
	L("rows", rows),
};
static const struct tmpl_scope root = SC(rootvars);

#define N64 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_."

struct rcase {
	const char	*src;
	enum tmpl_mode	 mode;
	const char	*want;
};

static const struct rcase rcases[] = {
	{ "", TMPL_TEXT, "" },
	{ "plain text, no tags\n", TMPL_TEXT, "plain text, no tags\n" },
	{ "Hello, {{name}}!", TMPL_TEXT, "Hello, World!" },
	{ "{{ name }}|{{\tname\t}}", TMPL_TEXT, "World|World" },
	{ "[{{missing}}]", TMPL_TEXT, "[]" },
	{ "[{{empty}}]", TMPL_TEXT, "[]" },
	{ "[{{people}}]", TMPL_TEXT, "[]" },
	{ "{{a.b-c_9}}", TMPL_TEXT, "ok" },
	{ "[{{" N64 "}}]", TMPL_TEXT, "[]" },
	{ "a { b } c }} d {name}", TMPL_TEXT, "a { b } c }} d {name}" },
	{ "h\xc3\xa9llo {{name}}", TMPL_TEXT, "h\xc3\xa9llo World" },
	{ "{{#people}}{{name}},{{/people}}", TMPL_TEXT, "Ann,Bob," },
	/* Bob has no role: the lookup finds the outer one. */
	{ "{{#people}}{{name}}:{{role}};{{/people}}", TMPL_TEXT,
	  "Ann:dev;Bob:outer;" },
	{ "{{name}}{{#people}}{{name}}{{/people}}{{name}}", TMPL_TEXT,
	  "WorldAnnBobWorld" },
	{ "{{#people}}{{one}}{{/people}}", TMPL_TEXT, "11" },
	{ "{{#people}}{{#people}}{{name}}{{/people}}|{{/people}}", TMPL_TEXT,
	  "AnnBob|AnnBob|" },
	{ "{{#name}}[{{name}}]{{/name}}", TMPL_TEXT, "[World]" },
	{ "{{#empty}}no{{/empty}}", TMPL_TEXT, "" },
	{ "{{#missing}}no{{/missing}}", TMPL_TEXT, "" },
	{ "{{#nolist}}no{{/nolist}}", TMPL_TEXT, "" },
	{ "{{^missing}}yes{{/missing}}", TMPL_TEXT, "yes" },
	{ "{{^empty}}yes{{/empty}}", TMPL_TEXT, "yes" },
	{ "{{^nolist}}yes{{/nolist}}", TMPL_TEXT, "yes" },
	{ "{{^name}}no{{/name}}", TMPL_TEXT, "" },
	{ "{{^people}}no{{/people}}", TMPL_TEXT, "" },
	{ "{{#people}}{{^nick}}-{{/nick}}{{/people}}", TMPL_TEXT, "--" },
	{ "{{#rows}}[{{#cells}}{{v}}{{/cells}}]{{/rows}}", TMPL_TEXT,
	  "[12][3]" },
	{ "{{#rows}}{{#cells}}{{#people}}{{v}}{{name}} {{/people}}"
	  "{{/cells}}{{/rows}}", TMPL_TEXT,
	  "1Ann 1Bob 2Ann 2Bob 3Ann 3Bob " },
	{ "{{#one}}{{#one}}{{#one}}{{#one}}{{#one}}{{#one}}{{#one}}{{#one}}"
	  "x{{/one}}{{/one}}{{/one}}{{/one}}{{/one}}{{/one}}{{/one}}{{/one}}",
	  TMPL_TEXT, "x" },
	{ "a{{! hidden }}b", TMPL_TEXT, "ab" },
	{ "a{{! two\nlines {{ }}b", TMPL_TEXT, "ab" },
	/* Standalone lines. */
	{ "begin\n{{#one}}\nin\n{{/one}}\nend\n", TMPL_TEXT,
	  "begin\nin\nend\n" },
	{ "begin\r\n{{#one}}\r\nin\r\n{{/one}}\r\nend\r\n", TMPL_TEXT,
	  "begin\r\nin\r\nend\r\n" },
	{ "a\n  {{#one}} \t\nb\n\t{{/one}}\nc", TMPL_TEXT, "a\nb\nc" },
	{ "a\n{{! note }}\nb\n", TMPL_TEXT, "a\nb\n" },
	{ "a\r\n  {{! two\nlines }}  \r\nb", TMPL_TEXT, "a\r\nb" },
	{ "{{#one}}\nx\n{{/one}}", TMPL_TEXT, "x\n" },
	{ "{{^missing}}\nx\n{{/missing}}\n", TMPL_TEXT, "x\n" },
	{ "{{#people}}\n- {{name}}\n{{/people}}\n", TMPL_TEXT,
	  "- Ann\n- Bob\n" },
	{ "a\n{{name}}\nb", TMPL_TEXT, "a\nWorld\nb" },
	{ "a\n{{missing}}\nb", TMPL_TEXT, "a\n\nb" },
	{ "{{#one}}{{/one}}\nx", TMPL_TEXT, "\nx" },
	{ " {{#one}}x{{/one}} \n", TMPL_TEXT, " x \n" },
	{ "{{#one}}\r{{/one}}", TMPL_TEXT, "\r" },
	{ "a {{#one}}\nb\n{{/one}}", TMPL_TEXT, "a \nb\n" },
	/* Escaping. */
	{ "{{html}}", TMPL_TEXT, "<b>&\"'</b>" },
	{ "{{html}}", TMPL_HTML, "&lt;b&gt;&amp;&quot;&#39;&lt;/b&gt;" },
	{ "<p>{{name}} & 'co'</p>", TMPL_HTML, "<p>World & 'co'</p>" },
	{ "{{#people}}<i>{{name}}</i>{{/people}}", TMPL_HTML,
	  "<i>Ann</i><i>Bob</i>" },
	{ "<a title=\"{{html}}\">", TMPL_HTML,
	  "<a title=\"&lt;b&gt;&amp;&quot;&#39;&lt;/b&gt;\">" },
};

struct ecase {
	const char	*src;
	const char	*want;
};

static const struct ecase ecases[] = {
	{ "abc {{name", "1:5: unclosed \"{{\"" },
	{ "a\n{{! no end\n", "2:1: unclosed \"{{\"" },
	{ "{{name}", "1:1: unclosed \"{{\"" },
	{ "{{na me}}", "1:1: invalid character in name" },
	{ "x {{a*b}}", "1:3: invalid character in name" },
	{ "{{#a b}}{{/a}}", "1:1: invalid character in name" },
	{ "{{a\nb}}", "1:1: invalid character in name" },
	{ "a\r\nb\r\n {{?}}", "3:2: invalid character in name" },
	{ "\xc3\xa9t\xc3\xa9 {{x/}}", "1:5: invalid character in name" },
	{ "{{}}", "1:1: empty name" },
	{ "{{  }}", "1:1: empty name" },
	{ "ok\n  {{#}}", "2:3: empty name" },
	{ "{{/ }}", "1:1: empty name" },
	{ "{{" N64 "x}}", "1:1: name longer than 64 characters" },
	{ "{{#" N64 "-}}", "1:1: name longer than 64 characters" },
	{ "{{#a}}\n  {{/b}}", "2:3: \"{{/b}}\" does not close section \"a\"" },
	{ "{{#a}}{{^b}}{{/a}}{{/b}}",
	  "1:13: \"{{/a}}\" does not close section \"b\"" },
	{ "x\n{{#a}}\ny", "2:1: section \"a\" is not closed" },
	{ "{{#a}}{{^b}}{{/b}}", "1:1: section \"a\" is not closed" },
	{ "{{#a}}{{#b}}", "1:7: section \"b\" is not closed" },
	{ "ab\n{{/x}}", "2:1: \"{{/x}}\" closes no section" },
	{ "{{#a}}{{/a}}{{/a}}", "1:13: \"{{/a}}\" closes no section" },
	{ "{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{^a}}",
	  "1:49: sections nested deeper than 8" },
	{ "hi {{{x}}}", "1:4: \"{{{\" (unescaped output) is not supported" },
	{ "{{&x}}", "1:1: \"{{&\" (unescaped output) is not supported" },
	{ "{{ & x }}", "1:1: \"{{&\" (unescaped output) is not supported" },
	{ "{{=<% %>=}}", "1:1: delimiter changes are not supported" },
	{ "\n\n   {{>part}}", "3:4: partials are not supported" },
};

static char	 visbuf[4][4096];

/* Makes CR, LF, TAB and other controls visible in failure output. */
static const char *
vis(int slot, const char *s, size_t len)
{
	char	*d = visbuf[slot];
	size_t	 i, o = 0;

	for (i = 0; i < len && o + 5 < sizeof(visbuf[0]); i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n')
			o += (size_t)snprintf(d + o, 5, "\\n");
		else if (c == '\r')
			o += (size_t)snprintf(d + o, 5, "\\r");
		else if (c == '\t')
			o += (size_t)snprintf(d + o, 5, "\\t");
		else if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(d + o, 5, "\\x%02x", c);
		else
			d[o++] = (char)c;
	}
	d[o] = '\0';
	return d;
}

/* Parses and renders; returns the render's result, -2 on a parse error. */
static int
run(const char *src, size_t len, enum tmpl_mode mode,
    const struct tmpl_scope *sc, size_t max_out, struct buf *out)
{
	struct tmpl	*t;
	char		 err[256];
	int		 rc;

	if (tmpl_parse(src, len, &t, err, sizeof(err)) == -1) {
		fprintf(stderr, "parse [%s]: %s\n", vis(3, src, len), err);
		return -2;
	}
	rc = tmpl_render(t, mode, sc, max_out, out);
	tmpl_free(t);
	return rc;
}

static void
test_render(void)
{
	struct buf	 out = BUF_INIT;
	char		 what[512];
	size_t		 i;
	int		 rc;

	for (i = 0; i < NELEM(rcases); i++) {
		buf_reset(&out);
		rc = run(rcases[i].src, strlen(rcases[i].src), rcases[i].mode,
		    &root, 1 << 16, &out);
		snprintf(what, sizeof(what), "render case %zu [%s]", i,
		    vis(0, rcases[i].src, strlen(rcases[i].src)));
		T_INT(rc, 0, what);
		T_STR(vis(1, out.data ? out.data : "", out.len),
		    vis(2, rcases[i].want, strlen(rcases[i].want)), what);
	}
	buf_free(&out);
}

static void
test_errors(void)
{
	struct tmpl	*t;
	char		 err[256], what[512], *big;
	size_t		 i, n;
	int		 rc;

	for (i = 0; i < NELEM(ecases); i++) {
		t = (struct tmpl *)&t;
		rc = tmpl_parse(ecases[i].src, strlen(ecases[i].src), &t, err,
		    sizeof(err));
		snprintf(what, sizeof(what), "error case %zu [%s]", i,
		    vis(0, ecases[i].src, strlen(ecases[i].src)));
		T_INT(rc, -1, what);
		T_OK(t == NULL, "%s: *out not NULL", what);
		T_STR(err, ecases[i].want, what);
		if (rc == 0)
			tmpl_free(t);
	}

	/* Size bound, checked before any work. */
	n = TMPL_MAX_SIZE + 1;
	if ((big = malloc(n)) == NULL)
		abort();
	memset(big, 'x', n);
	rc = tmpl_parse(big, n, &t, err, sizeof(err));
	T_INT(rc, -1, "oversized template");
	T_STR(err, "1:1: template larger than 65536 octets", "oversized");
	rc = tmpl_parse(big, TMPL_MAX_SIZE, &t, err, sizeof(err));
	T_INT(rc, 0, "template of exactly TMPL_MAX_SIZE");
	tmpl_free(t);

	/* Node bound: 4096 variables parse, one more does not. */
	for (i = 0; i + 5 <= n; i += 5)
		memcpy(big + i, "{{a}}", 5);
	rc = tmpl_parse(big, 5 * TMPL_MAX_NODES, &t, err, sizeof(err));
	T_INT(rc, 0, "TMPL_MAX_NODES nodes");
	tmpl_free(t);
	rc = tmpl_parse(big, 5 * (TMPL_MAX_NODES + 1), &t, err, sizeof(err));
	T_INT(rc, -1, "TMPL_MAX_NODES + 1 nodes");
	T_STR(err, "1:20481: more than 4096 texts, variables and sections",
	    "node bound");
	free(big);

	/* err may be short or absent. */
	rc = tmpl_parse("{{", 2, &t, err, 3);
	T_INT(rc, -1, "short err");
	T_STR(err, "1:", "short err cut");
	rc = tmpl_parse("{{", 2, &t, NULL, 0);
	T_INT(rc, -1, "NULL err");
	rc = tmpl_parse(NULL, 0, &t, NULL, 0);
	T_INT(rc, 0, "empty NULL source");
	tmpl_free(t);
	tmpl_free(NULL);
}

static struct tmpl_scope	 many[2000];
static const struct tmpl_var	 manyvars[] = { L("many", many) };
static const struct tmpl_scope	 manyroot = SC(manyvars);

static void
test_limits(void)
{
	struct buf	 out = BUF_INIT;
	struct tmpl_scope ghost = SC(rootvars), r2 = { NULL, 0, &ghost };
	const char	*s = "Hello, {{name}}!";
	const char	*deep = "{{#many}}{{#many}}{{#many}}{{/many}}{{/many}}"
			    "{{/many}}";
	int		 rc;

	T_INT(run(s, strlen(s), TMPL_TEXT, &root, 13, &out), 0, "max_out 13");
	T_STR(out.data, "Hello, World!", "max_out exact");
	buf_reset(&out);
	T_INT(run(s, strlen(s), TMPL_TEXT, &root, 12, &out), -1, "max_out 12");
	T_OK(out.len <= 12, "partial output %zu over max_out", out.len);
	buf_reset(&out);
	T_INT(run(s, strlen(s), TMPL_TEXT, &root, 0, &out), -1, "max_out 0");
	T_INT(run("", 0, TMPL_TEXT, &root, 0, &out), 0, "empty, max_out 0");
	T_INT(run("{{missing}}", 11, TMPL_TEXT, &root, 0, &out), 0,
	    "missing, max_out 0");

	/* Escaping counts: 10 value octets become 35. */
	buf_reset(&out);
	T_INT(run("{{html}}", 8, TMPL_HTML, &root, 35, &out), 0, "html 35");
	T_INT(out.len, 35, "escaped length");
	buf_reset(&out);
	T_INT(run("{{html}}", 8, TMPL_HTML, &root, 34, &out), -1, "html 34");
	T_OK(out.len <= 34, "partial output %zu over max_out", out.len);
	T_INT(run("{{html}}", 8, TMPL_TEXT, &root, 10, &out), 0,
	    "max_out counts from the buffer's length");

	/* max_out counts only what this render appends. */
	buf_reset(&out);
	if (buf_adds(&out, "prefix:") == -1)
		abort();
	T_INT(run(s, strlen(s), TMPL_TEXT, &root, 13, &out), 0,
	    "appending render");
	T_STR(out.data, "prefix:Hello, World!", "appended");

	/* A render that would loop 2000^3 times stops at TMPL_MAX_STEPS. */
	buf_reset(&out);
	rc = run(deep, strlen(deep), TMPL_TEXT, &manyroot, 1 << 20, &out);
	T_INT(rc, -1, "step bound");
	rc = run("{{#many}}.{{/many}}", 19, TMPL_TEXT, &manyroot, 1 << 20,
	    &out);
	T_INT(rc, 0, "2000 items");
	T_INT(out.len, 2000, "2000 items output");

	/* The caller's data is not touched; root's parent is ignored. */
	buf_reset(&out);
	T_INT(run("{{#people}}{{name}}{{/people}}", 30, TMPL_TEXT, &root,
	    100, &out), 0, "people");
	T_OK(people[0].parent == NULL && people[1].parent == NULL,
	    "render wrote into the caller's items");
	buf_reset(&out);
	T_INT(run("[{{name}}]", 10, TMPL_TEXT, &r2, 100, &out), 0, "ghost");
	T_STR(out.data, "[]", "root parent ignored");
	buf_reset(&out);
	T_INT(run("[{{name}}]", 10, TMPL_TEXT, NULL, 100, &out), 0, "NULL root");
	T_STR(out.data, "[]", "NULL root");

	/* Values may hold any octet. */
	{
		static const struct tmpl_var nul[] = {
			{ "v", "a\0<\xff", 4, NULL, 0 }
		};
		static const struct tmpl_scope nulsc = SC(nul);

		buf_reset(&out);
		T_INT(run("{{v}}", 5, TMPL_HTML, &nulsc, 100, &out), 0, "nul");
		T_OK(out.len == 7 && memcmp(out.data, "a\0&lt;\xff", 7) == 0,
		    "NUL value: expected [a\\0&lt;\\xff], got [%s]",
		    vis(0, out.data, out.len));
	}
	buf_free(&out);
}

static void
collect(const char *name, void *arg)
{
	struct buf	*b = arg;

	if (buf_adds(b, name) == -1 || buf_addc(b, ',') == -1)
		abort();
}

static void
test_names(void)
{
	const char	*s = "{{a}}{{#b}}{{a}}{{ c }}{{/b}}{{^d}}\n{{/d}}"
			    "{{! e }}{{#b}}{{/b}}{{x.y}}";
	struct tmpl	*t;
	struct buf	 b = BUF_INIT;
	char		 err[128];

	T_INT(tmpl_parse(s, strlen(s), &t, err, sizeof(err)), 0, "names parse");
	tmpl_names(t, collect, &b);
	T_STR(b.data, "a,b,c,d,x.y,", "tmpl_names order");
	T_INT(tmpl_uses(t, "a"), 1, "uses a");
	T_INT(tmpl_uses(t, "b"), 1, "uses b (section)");
	T_INT(tmpl_uses(t, "c"), 1, "uses c");
	T_INT(tmpl_uses(t, "d"), 1, "uses d (inverted)");
	T_INT(tmpl_uses(t, "x.y"), 1, "uses x.y");
	T_INT(tmpl_uses(t, "e"), 0, "comment is no use");
	T_INT(tmpl_uses(t, "x"), 0, "prefix is no use");
	T_INT(tmpl_uses(t, ""), 0, "empty name");
	T_INT(tmpl_uses(t, NULL), 0, "NULL name");
	T_INT(tmpl_uses(NULL, "a"), 0, "NULL template");
	tmpl_free(t);

	buf_reset(&b);
	T_INT(tmpl_parse("text {{! only }}", 16, &t, err, sizeof(err)), 0,
	    "no names parse");
	tmpl_names(t, collect, &b);
	T_OK(b.len == 0, "no names expected, got [%s]", b.data);
	tmpl_names(NULL, collect, &b);
	tmpl_free(t);
	buf_free(&b);
}

/* The shipped defaults, with the data the worker gives them. */
#define EVIL_NAME	"<script>alert(1)</script>"
#define EVIL_MAIL	"\"&'@example.com"
#define EVIL_TEXT	"line 1\r\n</td><td onclick=\"x\">'&amp;"

static const struct tmpl_var f_name[] = {
	S("name", "name"), S("label", "Name"), S("value", EVIL_NAME),
	S("multiline", "")
};
static const struct tmpl_var f_mail[] = {
	S("name", "email"), S("label", "E-mail <you>"), S("value", EVIL_MAIL)
};
static const struct tmpl_var f_msg[] = {
	S("name", "message"), S("label", "Message"), S("value", EVIL_TEXT),
	S("multiline", "1")
};
static const struct tmpl_var f_phone[] = {
	S("name", "phone"), S("label", "Phone"), S("value", ""),
	S("multiline", "")
};
static const struct tmpl_scope fields[] = {
	SC(f_name), SC(f_mail), SC(f_msg), SC(f_phone)
};
static const struct tmpl_var subvars[] = {
	S("_form", "contact&co"),
	S("_id", "20260101T000000Z-abc"),
	S("_date", "Thu, 01 Jan 2026 00:00:00 +0000"),
	S("_ip", "2001:db8::7"),
	S("name", EVIL_NAME),
	S("email", EVIL_MAIL),
	S("message", EVIL_TEXT),
	S("phone", ""),
	L("fields", fields),
};
static const struct tmpl_scope subroot = SC(subvars);

static const char default_txt_want[] =
	"New submission to form contact&co\n"
	"\n"
	"Name: " EVIL_NAME "\n"
	"E-mail <you>: " EVIL_MAIL "\n"
	"Message:\n"
	EVIL_TEXT "\n"
	"\n"
	"Phone: \n"
	"\n"
	"--\n"
	"Submission: 20260101T000000Z-abc\n"
	"Date: Thu, 01 Jan 2026 00:00:00 +0000\n"
	"Client IP: 2001:db8::7\n";

static char *
slurp(const char *path, size_t *len)
{
	FILE	*f;
	char	*s;
	size_t	 n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if ((s = malloc(TMPL_MAX_SIZE + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(s, 1, TMPL_MAX_SIZE + 1, f);
	fclose(f);
	s[n < TMPL_MAX_SIZE ? n : TMPL_MAX_SIZE] = '\0';
	*len = n;
	return s;
}

static size_t
count(const char *s, size_t len, char c)
{
	size_t	 i, n = 0;

	for (i = 0; i < len; i++)
		n += s[i] == c;
	return n;
}

static void
test_defaults(void)
{
	struct buf	 out = BUF_INIT, ref = BUF_INIT;
	char		*src;
	size_t		 len;
	const char	*p;

	if ((src = slurp("templates/default.txt", &len)) == NULL) {
		T_OK(0, "templates/default.txt unreadable (run from repo root)");
		return;
	}
	T_INT(run(src, len, TMPL_TEXT, &subroot, 1 << 16, &out), 0,
	    "default.txt");
	T_STR(out.data, default_txt_want, "default.txt output");
	free(src);

	if ((src = slurp("templates/default.html", &len)) == NULL) {
		T_OK(0, "templates/default.html unreadable");
		return;
	}
	buf_reset(&out);
	T_INT(run(src, len, TMPL_HTML, &subroot, 1 << 16, &out), 0,
	    "default.html");
	p = out.data ? out.data : "";
	T_OK(strncmp(p, "<!DOCTYPE html>\n<html lang=\"en\">", 32) == 0,
	    "doctype, got [%.40s]", p);
	T_OK(strstr(p, "<script") == NULL, "unescaped <script> in HTML");
	T_OK(strstr(p, "onclick=\"") == NULL, "unescaped attribute in HTML");
	T_OK(strstr(p, "&lt;script&gt;alert(1)&lt;/script&gt;") != NULL,
	    "escaped name missing");
	T_OK(strstr(p, "<td>&quot;&amp;&#39;@example.com</td>") != NULL,
	    "escaped e-mail row missing");
	T_OK(strstr(p, "<th scope=\"row\" style=\"white-space:nowrap\">"
	    "E-mail &lt;you&gt;</th>") != NULL, "escaped label missing");
	T_OK(strstr(p, "<td style=\"white-space:pre-wrap\">line 1\r\n"
	    "&lt;/td&gt;&lt;td onclick=&quot;x&quot;&gt;&#39;&amp;amp;</td>")
	    != NULL, "multiline row missing");
	T_OK(strstr(p, "<title>New submission to form contact&amp;co</title>")
	    != NULL, "title missing");
	T_OK(strstr(p, "<td></td>") != NULL, "empty phone row missing");
	T_OK(strstr(p, "Client IP: 2001:db8::7</p>\n</body>\n</html>\n")
	    != NULL, "footer missing");
	free(src);

	/* The markup must not depend on the values: hostile and harmless
	 * values give the same count of markup characters. */
	if ((src = slurp("templates/default.html", &len)) == NULL)
		return;
	{
		static const struct tmpl_var g1[] = { S("label", "a"),
		    S("value", "b"), S("multiline", "") };
		static const struct tmpl_var g2[] = { S("label", "a"),
		    S("value", "b"), S("multiline", "") };
		static const struct tmpl_var g3[] = { S("label", "a"),
		    S("value", "b"), S("multiline", "1") };
		static const struct tmpl_var g4[] = { S("label", "a"),
		    S("value", ""), S("multiline", "") };
		static const struct tmpl_scope gf[] = { SC(g1), SC(g2),
		    SC(g3), SC(g4) };
		static const struct tmpl_var gv[] = { S("_form", "f"),
		    S("_id", "i"), S("_date", "d"), S("_ip", "p"),
		    L("fields", gf) };
		static const struct tmpl_scope groot = SC(gv);

		T_INT(run(src, len, TMPL_HTML, &groot, 1 << 16, &ref), 0,
		    "default.html harmless");
		T_INT(count(out.data, out.len, '<'),
		    count(ref.data, ref.len, '<'), "'<' hostile vs harmless");
		T_INT(count(out.data, out.len, '>'),
		    count(ref.data, ref.len, '>'), "'>' hostile vs harmless");
		T_INT(count(out.data, out.len, '"'),
		    count(ref.data, ref.len, '"'), "'\"' hostile vs harmless");
		T_INT(count(out.data, out.len, '\''),
		    count(ref.data, ref.len, '\''), "\"'\" hostile vs harmless");
	}
	free(src);
	buf_free(&out);
	buf_free(&ref);
}

int
main(void)
{
	test_render();
	test_errors();
	test_limits();
	test_names();
	test_defaults();
	T_DONE();
}
