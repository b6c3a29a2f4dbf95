/* test_validate: form rules (validate.h); the text classes are tested in
 * tests/unit/lib/test_text.c, addresses in tests/unit/lib/test_addr.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "conf/conf.h"
#include "form/form.h"
#include "form/resolve.h"
#include "t.h"
#include "form/validate.h"

/* Explicit length, so that tables may hold raw NUL octets. */
#define B(s)	(s), sizeof(s) - 1

/* ---- validate_form ------------------------------------------------- */

/*
 * By hand, as conf.c would build it:
 *   name     required, max 5 code points, in the subject (header)
 *   email    required, email, reply_to
 *   message  multiline, max 10
 *   phone    optional, single line, body only
 *   any      no rules at all
 */
static char	 s_name[] = "name", s_email[] = "email";
static char	 s_message[] = "message", s_phone[] = "phone", s_any[] = "any";
static char	 s_id[] = "contact", s_honeypot[] = "website";
static char	 s_city[] = "city";

static struct conf_field conf_fields[] = {
	{ s_name, s_name, 1, 5, 0, 0, 0, 1, 0 },
	{ s_email, s_email, 1, 0, 1, 1, 0, 0, 0 },
	{ s_message, s_message, 0, 10, 0, 0, 1, 0, 0 },
	{ s_phone, s_phone, 0, 0, 0, 0, 0, 0, 0 },
	{ s_any, s_any, 0, 0, 0, 0, 0, 0, 0 },
	{ s_city, s_city, 0, 0, 0, 0, 0, 0, 1 },
};

#define OKF	"name=Ann&email=ann@example.com"

struct form_case {
	const char	*body;
	enum conf_extra	 extra;
	const char	*want;	/* "field:code" joined by spaces */
};

static const struct form_case form_cases[] = {
	{ OKF, CONF_EXTRA_INCLUDE, "" },
	{ OKF "&message=hi&phone=1&any=", CONF_EXTRA_INCLUDE, "" },
	{ "", CONF_EXTRA_INCLUDE, "name:required email:required" },
	/* required: empty is zero octets, nothing trimmed */
	{ "name=&email=ann@example.com", CONF_EXTRA_INCLUDE, "name:required" },
	{ "name&email=ann@example.com", CONF_EXTRA_INCLUDE, "name:required" },
	{ "name=+&email=ann@example.com", CONF_EXTRA_INCLUDE, "" },
	{ "name=%C2%A0&email=ann@example.com", CONF_EXTRA_INCLUDE, "" },
	/* twice */
	{ OKF "&name=Bob", CONF_EXTRA_INCLUDE, "name:invalid" },
	{ "name=&name=&email=ann@example.com", CONF_EXTRA_INCLUDE,
	    "name:invalid" },
	{ OKF "&email=bob@example.com", CONF_EXTRA_INCLUDE, "email:invalid" },
	{ OKF "&phone=1&phone=2", CONF_EXTRA_INCLUDE, "phone:invalid" },
	/* max_length in code points */
	{ "name=abcde&email=ann@example.com", CONF_EXTRA_INCLUDE, "" },
	{ "name=abcdef&email=ann@example.com", CONF_EXTRA_INCLUDE,
	    "name:max_length" },
	{ "name=%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9&email=ann@example.com",
	    CONF_EXTRA_INCLUDE, "" },
	{ "name=%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9&email=ann@example.com",
	    CONF_EXTRA_INCLUDE, "name:max_length" },
	{ "name=%F0%9F%98%80%F0%9F%98%80&email=ann@example.com",
	    CONF_EXTRA_INCLUDE, "" },
	{ OKF "&message=0123456789", CONF_EXTRA_INCLUDE, "" },
	{ OKF "&message=01234%0D%0A6789", CONF_EXTRA_INCLUDE,
	    "message:max_length" },
	{ OKF "&any=" "0123456789012345678901234567890123456789",
	    CONF_EXTRA_INCLUDE, "" },
	/* header-bound: no control at all */
	{ "name=A%0D%0ABcc:+x@y.z&email=ann@example.com", CONF_EXTRA_INCLUDE,
	    "name:invalid" },
	{ "name=A%0A&email=ann@example.com", CONF_EXTRA_INCLUDE,
	    "name:invalid" },
	{ "name=A%09B&email=ann@example.com", CONF_EXTRA_INCLUDE,
	    "name:invalid" },
	{ "name=A%00&email=ann@example.com", CONF_EXTRA_INCLUDE,
	    "name:invalid" },
	{ "name=A%C2%85&email=ann@example.com", CONF_EXTRA_INCLUDE,
	    "name:invalid" },
	{ "name=A%E2%80%A8&email=ann@example.com", CONF_EXTRA_INCLUDE,
	    "name:invalid" },
	{ "name=A%7F&email=ann@example.com", CONF_EXTRA_INCLUDE,
	    "name:invalid" },
	{ "name=A%FF&email=ann@example.com", CONF_EXTRA_INCLUDE,
	    "name:invalid" },
	{ "name=%C0%80&email=ann@example.com", CONF_EXTRA_INCLUDE,
	    "name:invalid" },
	{ "name=%ED%A0%80&email=ann@example.com", CONF_EXTRA_INCLUDE,
	    "name:invalid" },
	/* too long and invalid: invalid wins */
	{ "name=abcdef%0A&email=ann@example.com", CONF_EXTRA_INCLUDE,
	    "name:invalid" },
	/* email: text first, then the address */
	{ "name=Ann&email=ann", CONF_EXTRA_INCLUDE, "email:email" },
	{ "name=Ann&email=Ann+%3Cann@example.com%3E", CONF_EXTRA_INCLUDE,
	    "email:email" },
	{ "name=Ann&email=a@b.c,+d@e.f", CONF_EXTRA_INCLUDE, "email:email" },
	{ "name=Ann&email=+ann@example.com", CONF_EXTRA_INCLUDE,
	    "email:email" },
	{ "name=Ann&email=a@b.c%0D%0ABcc:+x@y.z", CONF_EXTRA_INCLUDE,
	    "email:invalid" },
	{ "name=Ann&email=a@b.c%0A", CONF_EXTRA_INCLUDE, "email:invalid" },
	{ "name=Ann&email=a@b.c%00", CONF_EXTRA_INCLUDE, "email:invalid" },
	{ "name=Ann&email=a%09@b.c", CONF_EXTRA_INCLUDE, "email:invalid" },
	{ "name=Ann&email=%C3%BC@b.c", CONF_EXTRA_INCLUDE, "email:email" },
	/* multiline body field: TAB CR LF yes, other controls no */
	{ OKF "&message=a%0D%0Ab%09c", CONF_EXTRA_INCLUDE, "" },
	{ OKF "&message=a%0Db%0Ac", CONF_EXTRA_INCLUDE, "" },
	{ OKF "&message=a%00", CONF_EXTRA_INCLUDE, "message:invalid" },
	{ OKF "&message=a%0B", CONF_EXTRA_INCLUDE, "message:invalid" },
	{ OKF "&message=a%1B%5B2J", CONF_EXTRA_INCLUDE, "message:invalid" },
	{ OKF "&message=a%C2%9B", CONF_EXTRA_INCLUDE, "message:invalid" },
	{ OKF "&message=a%E2%80%A9", CONF_EXTRA_INCLUDE, "message:invalid" },
	{ OKF "&message=a%FF", CONF_EXTRA_INCLUDE, "message:invalid" },
	{ OKF "&message=%E0%80%8A", CONF_EXTRA_INCLUDE, "message:invalid" },
	/* single-line body field: CR or LF no, TAB yes */
	{ OKF "&phone=1%0A2", CONF_EXTRA_INCLUDE, "phone:invalid" },
	{ OKF "&phone=1%0D", CONF_EXTRA_INCLUDE, "phone:invalid" },
	{ OKF "&phone=1%092", CONF_EXTRA_INCLUDE, "" },
	{ OKF "&phone=1%01", CONF_EXTRA_INCLUDE, "phone:invalid" },
	{ OKF "&phone=", CONF_EXTRA_INCLUDE, "" },
	/* extras, include */
	{ OKF "&comment=hi", CONF_EXTRA_INCLUDE, "" },
	{ OKF "&comment=hi%0D%0Athere%09!", CONF_EXTRA_INCLUDE, "" },
	{ OKF "&comment=a&comment=b", CONF_EXTRA_INCLUDE, "" },
	{ OKF "&comment=%01", CONF_EXTRA_INCLUDE, "comment:invalid" },
	{ OKF "&comment=%FF", CONF_EXTRA_INCLUDE, "comment:invalid" },
	{ OKF "&bad%0Aname=x", CONF_EXTRA_INCLUDE, "bad\\x0aname:invalid" },
	{ OKF "&bad%FF=x", CONF_EXTRA_INCLUDE, "bad\\xff:invalid" },
	{ OKF "&" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "=x", CONF_EXTRA_INCLUDE, "" },
	{ OKF "&" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "=x", CONF_EXTRA_INCLUDE,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    ":invalid" },
	/* a NUL makes another name: "name\0" is an extra, "name" is missing */
	{ "name%00=Ann&email=ann@example.com", CONF_EXTRA_INCLUDE,
	    "name:required name\\x00:invalid" },
	{ OKF "&name%00=x", CONF_EXTRA_INCLUDE, "name\\x00:invalid" },
	{ OKF "&Name=x", CONF_EXTRA_INCLUDE, "" },
	/* skipped whatever they hold: '_' names, honeypot, redirect */
	{ OKF "&_next=%00&_replyto=%0A&_=x", CONF_EXTRA_INCLUDE, "" },
	{ OKF "&website=%01&redirect=%0D", CONF_EXTRA_INCLUDE, "" },
	{ OKF "&_next=x&website=&redirect=x", CONF_EXTRA_REJECT, "" },
	/* extras, reject */
	{ OKF "&comment=hi", CONF_EXTRA_REJECT, "comment:unknown" },
	{ OKF "&comment=%01", CONF_EXTRA_REJECT, "comment:unknown" },
	{ OKF "&a=1&b=2&a=3", CONF_EXTRA_REJECT, "a:unknown b:unknown a:unknown" },
	{ OKF "&message=hi&phone=&any=x", CONF_EXTRA_REJECT, "" },
	{ OKF "&website2=x", CONF_EXTRA_REJECT, "website2:unknown" },
	/* extras, ignore: never reach a message, not checked */
	{ OKF "&comment=%01&bad%0Aname=%FF", CONF_EXTRA_IGNORE, "" },
	{ "email=x&comment=%01", CONF_EXTRA_IGNORE,
	    "name:required email:email" },
	/* config order, then extras in body order */
	{ "z=%01&phone=%0A&y=%FF&email=bad&name=", CONF_EXTRA_INCLUDE,
	    "name:required email:email phone:invalid z:invalid y:invalid" },
	{ "z=%01&phone=%0A&y=%FF&email=bad&name=", CONF_EXTRA_REJECT,
	    "name:required email:email phone:invalid z:unknown y:unknown" },
	/* letters: at least one letter, any script */
	{ OKF "&city=Paris", CONF_EXTRA_INCLUDE, "" },
	{ OKF "&city=%C3%89vry", CONF_EXTRA_INCLUDE, "" },
	{ OKF "&city=%E6%9D%B1%E4%BA%AC", CONF_EXTRA_INCLUDE, "" },
	{ OKF "&city=%D0%9C%D0%BE", CONF_EXTRA_INCLUDE, "" },
	{ OKF "&city=12345", CONF_EXTRA_INCLUDE, "city:letters" },
	{ OKF "&city=%E2%82%AC%E2%82%AC+!!", CONF_EXTRA_INCLUDE,
	    "city:letters" },
	{ OKF "&city=%C3%97%C3%B7", CONF_EXTRA_INCLUDE, "city:letters" },
	{ OKF "&city=", CONF_EXTRA_INCLUDE, "" },
};

static struct conf_form *
make_conf(enum conf_extra extra)
{
	static struct conf_form	 cf;

	memset(&cf, 0, sizeof(cf));
	cf.id = s_id;
	cf.fields = conf_fields;
	cf.nfields = sizeof(conf_fields) / sizeof(conf_fields[0]);
	cf.honeypot = s_honeypot;
	cf.extra = extra;
	return &cf;
}

/* The length of an error's field name: a form's names may hold NUL. */
static size_t
field_len(const struct form *f, const char *name)
{
	size_t	 i;

	for (i = 0; i < f->nfields; i++)
		if (f->fields[i].name == name)
			return f->fields[i].name_len;
	return strlen(name);
}

static char *
errs_str(const struct form *f, const struct validate_error *errs, size_t n)
{
	struct buf	 b = BUF_INIT;
	size_t		 i;
	char		*s;
	int		 rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		if (i > 0)
			rc = buf_addc(&b, ' ');
		if (rc == 0)
			rc = buf_printf(&b, "%s:%s", t_show(errs[i].field,
			    field_len(f, errs[i].field)), errs[i].code);
	}
	if (rc == -1 || (s = buf_steal(&b)) == NULL)
		abort();
	return s;
}

static void
test_form_table(void)
{
	struct validate_error	 errs[VALIDATE_MAX_ERRORS];
	struct form		*f;
	char			*got, what[200];
	size_t			 i, n;

	for (i = 0; i < sizeof(form_cases) / sizeof(form_cases[0]); i++) {
		snprintf(what, sizeof(what), "form case %zu [%s] extra %d", i,
		    form_cases[i].body, (int)form_cases[i].extra);
		if (form_parse_urlencoded(form_cases[i].body,
		    strlen(form_cases[i].body), 50, &f) != FORM_OK) {
			T_OK(0, "%s: does not parse", what);
			continue;
		}
		n = validate_form(make_conf(form_cases[i].extra), f, errs,
		    VALIDATE_MAX_ERRORS);
		got = errs_str(f, errs, n);
		T_STR(got, form_cases[i].want, what);
		free(got);
		form_free(f);
	}
}

/* How a content case's form is set up. */
#define C_SUBJ		0x1	/* allow_subject_field */
#define C_NOREPLY	0x2	/* email is no reply_to field: _replyto counts */
#define C_IGNORE	0x4	/* extra_fields "ignore" (else "include") */

/*
 * The content rules see every value that reaches the mail, each once
 * (issue 16, F7): the fields shown, the visitor's subject, Reply-To and
 * name; not what reaches no message.
 */
static const struct {
	const char	*body;
	long		 max_links;
	int		 flags;
	const char	*want;	/* NULL: passes */
} content_cases[] = {
	{ "message=hello", -1, 0, NULL },
	{ "message=see+http://a.test+https://b.test+www.c.test", -1, 0, NULL },
	{ "message=see+http://a.test", 0, 0, "links" },
	{ "message=see+http://a.test", 1, 0, NULL },
	{ "message=HTTP://A.TEST+hTtPs://b.test", 1, 0, "links" },
	{ "message=www.a.test&any=www.b.test", 1, 0, "links" },
	{ "message=www.a.test&_next=https://x.test/", 1, 0, NULL },
	{ "message=Buy+CHEAP+Pills+now", -1, 0, "phrase" },
	{ "message=cheap+pill", -1, 0, NULL },
	{ "any=SEO+services", -1, 0, "phrase" },
	{ "any=seo+servicing", -1, 0, NULL },
	{ "_x=cheap+pills", -1, 0, NULL },
	/* extras shown under "include", not under "ignore" */
	{ "extra=SEO+services", -1, 0, "phrase" },
	{ "extra=SEO+services", -1, C_IGNORE, NULL },
	{ "extra=www.a.test&extra=www.b.test", 1, 0, "links" },
	/* the visitor's subject: _subject (Formspree, FormSubmit), subject
	 * (NMS, Web3Forms), when the form lets the post pick it */
	{ "_subject=http://a.test+http://b.test", 1, C_SUBJ, "links" },
	{ "_subject=Buy+cheap+pills", -1, C_SUBJ, "phrase" },
	{ "_subject=Buy+cheap+pills", -1, C_SUBJ | C_IGNORE, "phrase" },
	{ "_subject=Buy+cheap+pills", -1, 0, NULL },
	{ "subject=Buy+cheap+pills", -1, C_SUBJ | C_IGNORE, "phrase" },
	{ "subject=Buy+cheap+pills", -1, C_IGNORE, NULL },
	{ "subject=Buy+cheap+pills", -1, 0, "phrase" },
	{ "_subject=www.a.test&message=www.b.test", 1, C_SUBJ, "links" },
	{ "_subject=www.a.test&message=hello", 1, C_SUBJ, NULL },
	/* shown and in the subject: one value, counted once */
	{ "subject=www.a.test", 1, C_SUBJ, NULL },
	/* Reply-To: _replyto, replyto (no reply_to field), and the name */
	{ "_replyto=cheap.pills@example.com", 0, C_NOREPLY, NULL },
	{ "_replyto=x@www.spam.test", 0, C_NOREPLY, "links" },
	{ "replyto=x@www.spam.test", 0, C_NOREPLY | C_IGNORE, "links" },
	{ "_replyto=x@www.spam.test", 0, 0, NULL },
	{ "email=a@b.test&realname=SEO+services", -1, C_IGNORE, "phrase" },
	{ "email=a@b.test&from_name=SEO+services", -1, C_IGNORE, "phrase" },
	{ "realname=SEO+services", -1, C_IGNORE, NULL },
	/* an extra's name is its label in the mail: judged when shown */
	{ "Buy+cheap+pills=x", -1, 0, "phrase" },
	{ "Buy+cheap+pills=x", -1, C_IGNORE, NULL },
	{ "www.a.test+www.b.test=x", 1, 0, "links" },
	{ "www.a.test=x", 1, 0, NULL },
	{ "www.a.test=www.b.test", 1, 0, "links" },
	/* what reaches no message is not judged */
	{ "redirect=https://site.test/thanks", 0, 0, NULL },
	{ "_next=https://site.test/thanks", 0, 0, NULL },
	{ "g-recaptcha-response=www.a&cf-turnstile-response=www.b", 0, 0,
	    NULL },
	{ "website=SEO+services", -1, 0, NULL },
};

static void
test_content(void)
{
	static char		 p1[] = "cheap pills", p2[] = "seo services";
	static char		*phrases[] = { p1, p2 };
	struct validate_error	 errs[VALIDATE_MAX_ERRORS];
	struct form_route	 r;
	struct conf_form	*cf;
	struct form		*f;
	const char		*got;
	size_t			 i;
	int			 fl;

	for (i = 0; i < sizeof(content_cases) / sizeof(content_cases[0]); i++) {
		fl = content_cases[i].flags;
		cf = make_conf(fl & C_IGNORE ? CONF_EXTRA_IGNORE :
		    CONF_EXTRA_INCLUDE);
		cf->blocked_phrases = phrases;
		cf->nblocked = 2;
		cf->max_links = content_cases[i].max_links;
		cf->allow_subject_field = (fl & C_SUBJ) != 0;
		conf_fields[1].reply_to = (fl & C_NOREPLY) == 0;
		if (form_parse_urlencoded(content_cases[i].body,
		    strlen(content_cases[i].body), 50, &f) != FORM_OK) {
			T_OK(0, "content case %zu does not parse", i);
			continue;
		}
		(void)form_resolve(cf, f, &r, errs, 0);
		got = validate_content(cf, f, &r);
		T_STR(got ? got : "(pass)", content_cases[i].want ?
		    content_cases[i].want : "(pass)", content_cases[i].body);
		form_free(f);
	}
	conf_fields[1].reply_to = 1;
}

/* Attachments' names reach the mail too; links count across values. */
static void
test_content_files(void)
{
	static char		 p1[] = "cheap pills";
	static char		*phrases[] = { p1 };
	static char		 n1[] = "message", v1[] = "see www.a.test";
	static char		 fn1[] = "Cheap Pills.pdf", fn2[] = "www.b.pdf";
	static char		 ct[] = "application/pdf";
	struct form_field	 ff = { n1, sizeof(n1) - 1, v1, sizeof(v1) - 1 };
	struct form_file	 file = { n1, fn1, ct, ct, NULL, 0, 0 };
	struct form		 f = { &ff, 1, &file, 1 };
	struct form_route	 r;
	struct conf_form	*cf = make_conf(CONF_EXTRA_INCLUDE);
	const char		*got;

	memset(&r, 0, sizeof(r));
	cf->blocked_phrases = phrases;
	cf->nblocked = 1;
	cf->max_links = -1;
	got = validate_content(cf, &f, &r);
	T_STR(got ? got : "(pass)", "phrase", "phrase in a file name");
	file.filename = fn2;
	T_OK(validate_content(cf, &f, &r) == NULL, "www. in a file name, "
	    "max_links off");
	cf->max_links = 1;
	got = validate_content(cf, &f, &r);
	T_STR(got ? got : "(pass)", "links", "a link in the message and one "
	    "in a file name");
	file.filename = NULL;
	T_OK(validate_content(cf, &f, &r) == NULL, "no file name");
}

static void
test_form_memory(void)
{
	static const char	 body[] = "name=&x=%01&email=bad&y=%01";
	struct validate_error	 errs[4];
	struct conf_form	*cf = make_conf(CONF_EXTRA_INCLUDE);
	struct buf		 b = BUF_INIT;
	struct form		*f;
	size_t			 i, n;

	if (form_parse_urlencoded(body, sizeof(body) - 1, 50, &f) != FORM_OK) {
		T_OK(0, "does not parse");
		return;
	}
	n = validate_form(cf, f, errs, 4);
	T_INT(n, 4, "four errors");
	T_OK(errs[0].field == conf_fields[0].name, "name: config memory");
	T_OK(errs[1].field == conf_fields[1].name, "email: config memory");
	T_OK(errs[2].field == f->fields[1].name, "x: form memory");
	T_OK(errs[3].field == f->fields[3].name, "y: form memory");

	memset(errs, 0, sizeof(errs));
	n = validate_form(cf, f, errs, 1);
	T_INT(n, 4, "count beyond max");
	T_OK(errs[0].field == conf_fields[0].name, "max 1: first filled");
	T_OK(errs[1].field == NULL && errs[1].code == NULL,
	    "max 1: nothing written past max");
	n = validate_form(cf, f, NULL, 0);
	T_INT(n, 4, "max 0, errs NULL");
	form_free(f);

	/* every extra counts, even past VALIDATE_MAX_ERRORS */
	if (buf_adds(&b, OKF) == -1)
		abort();
	for (i = 0; i < FORM_MAX_FIELDS - 2; i++)
		if (buf_adds(&b, "&u=1") == -1)
			abort();
	if (form_parse_urlencoded(b.data, b.len, FORM_MAX_FIELDS, &f) !=
	    FORM_OK) {
		T_OK(0, "1000 fields do not parse");
		buf_free(&b);
		return;
	}
	T_INT(validate_form(make_conf(CONF_EXTRA_REJECT), f, errs, 4),
	    FORM_MAX_FIELDS - 2, "998 unknown");
	T_INT(validate_form(make_conf(CONF_EXTRA_INCLUDE), f, errs, 4),
	    0, "998 included");
	form_free(f);
	buf_free(&b);

	/* no fields configured at all */
	cf = make_conf(CONF_EXTRA_REJECT);
	cf->nfields = 0;
	cf->fields = NULL;
	cf->honeypot = NULL;
	if (form_parse_urlencoded("", 0, 50, &f) != FORM_OK) {
		T_OK(0, "empty does not parse");
		return;
	}
	T_INT(validate_form(cf, f, errs, 4), 0, "empty form, empty config");
	form_free(f);
}

int
main(void)
{
	test_form_table();
	test_form_memory();
	test_content();
	test_content_files();
	T_DONE();
}
