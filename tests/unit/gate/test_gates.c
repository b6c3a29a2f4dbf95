/*
 * test_gates: the head gates (gate/gate.h) one by one and as a table:
 * each verdict, status, outcome word and Retry-After, the table's order
 * (rate before https: every POST is charged), and the facts a gate hands
 * on (kind, length).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gate/gate.h"
#include "t.h"

static char	 o1[] = "https://site.test", o2[] = "https://www.site.test:8443";
static char	*origins[] = { o1, o2 };
static char	 formid[] = "contact";

static void
setup(struct conf *cf, struct conf_form *f, struct gate_in *in)
{
	memset(cf, 0, sizeof(*cf));
	memset(f, 0, sizeof(*f));
	cf->require_https = 1;
	cf->max_body = 1000;
	f->id = formid;
	f->origins = origins;
	f->norigins = 2;
	*in = (struct gate_in){ .cf = cf, .form = f, .ip = "192.0.2.7",
	    .https = 1, .origin = "https://site.test",
	    .content_type = "application/x-www-form-urlencoded",
	    .content_length = "12", .now_us = 1000000 };
}

/* Runs the head table; returns the name of the gate that stopped it. */
static const char *
run(struct gate_in *in, struct gate_out *o)
{
	const struct gate	*g = gate_run(gate_head, gate_nhead, in, o);

	return g != NULL ? g->name : "-";
}

static void
expect(const char *what, struct gate_in *in, const char *gate, int status,
    const char *outcome, long retry)
{
	struct gate_out	 o;
	const char	*g = run(in, &o);

	T_STR(g, gate, what);
	if (status == 0) {
		T_INT(o.verdict, GATE_PASS, what);
		return;
	}
	T_INT(o.verdict, GATE_REFUSE, what);
	T_INT(o.status, status, what);
	T_STR(o.outcome, outcome, what);
	T_INT(o.retry_after, retry, what);
}

int
main(void)
{
	struct conf		 cf;
	struct conf_form	 f;
	struct gate_in		 in;
	struct gate_out		 o;
	struct throttle		*t = NULL;
	char			 path[] = "/tmp/f2m-test-gates-XXXXXX", tab[64];
	char			 err[256];
	size_t			 i;

	T_INT(gate_nhead, 5, "five head gates");
	{
		static const char *const order[] = { "rate", "https", "origin",
		    "type", "length" };

		for (i = 0; i < gate_nhead && i < 5; i++)
			T_STR(gate_head[i].name, order[i], "table order");
	}

	setup(&cf, &f, &in);
	expect("a good head passes", &in, "-", 0, NULL, 0);
	T_INT(in.kind, FORM_KIND_URLENCODED, "type gate hands on the kind");
	T_OK(in.length == 12, "length gate hands on the length");

	setup(&cf, &f, &in);
	in.https = 0;
	expect("plain http", &in, "https", 403, "not_https", 0);
	cf.require_https = 0;
	expect("plain http allowed", &in, "-", 0, NULL, 0);

	/* Origin (docs/DESIGN.md "Details that tests rely on"). */
	setup(&cf, &f, &in);
	in.origin = "https://evil.test";
	expect("foreign origin", &in, "origin", 403, "bad_origin", 0);
	in.origin = "https://site.test.evil.test";
	expect("origin with the allowed one as a prefix", &in, "origin", 403,
	    "bad_origin", 0);
	in.origin = "HTTPS://WWW.SITE.TEST:8443";
	expect("origin: scheme and host any case", &in, "-", 0, NULL, 0);
	in.origin = "https://www.site.test";
	expect("origin: the port counts", &in, "origin", 403, "bad_origin", 0);
	in.origin = NULL;
	expect("no Origin, no Referer", &in, "origin", 403, "bad_origin", 0);
	f.allow_missing_origin = 1;
	expect("no Origin, no Referer, allow_missing_origin", &in, "-", 0,
	    NULL, 0);
	f.allow_missing_origin = 0;
	in.origin = "null";
	in.referer = "https://site.test/contact.html?x=1";
	expect("Origin null: Referer's origin decides", &in, "-", 0, NULL, 0);
	in.referer = "https://evil.test/https://site.test/";
	expect("Referer elsewhere", &in, "origin", 403, "bad_origin", 0);
	in.referer = "site.test/contact";
	expect("Referer not absolute", &in, "origin", 403, "bad_origin", 0);
	f.norigins = 0;
	expect("no allowed_origins: any origin", &in, "-", 0, NULL, 0);
	T_INT(gate_origin_len("https://a.test:1/x?y"), 16, "origin length");
	T_INT(gate_origin_len("://a.test"), 0, "no scheme");

	setup(&cf, &f, &in);
	in.content_type = "text/plain";
	expect("text/plain", &in, "type", 415, "bad_type", 0);
	in.content_type = NULL;
	expect("no type", &in, "type", 415, "bad_type", 0);
	in.content_type = "Multipart/Form-Data; boundary=x";
	expect("multipart, any case", &in, "-", 0, NULL, 0);
	T_INT(in.kind, FORM_KIND_MULTIPART, "multipart kind");
	in.content_type = "application/json";
	expect("json", &in, "-", 0, NULL, 0);
	T_INT(in.kind, FORM_KIND_JSON, "json kind");

	setup(&cf, &f, &in);
	{
		static const char *const bad[] = { "-1", "+5", " 5", "5 ",
		    "0x10", "1e3", "12abc" };

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			in.content_length = bad[i];
			expect(bad[i], &in, "length", 400, "bad_length", 0);
		}
	}
	in.content_length = "1001";
	expect("over max_body", &in, "length", 413, "too_large", 0);
	in.content_length = "99999999999999999999999";
	expect("huge length", &in, "length", 413, "too_large", 0);
	in.content_length = "1000";
	expect("at max_body", &in, "-", 0, NULL, 0);
	in.content_length = "";
	expect("empty length is 0", &in, "-", 0, NULL, 0);
	T_OK(in.length == 0, "empty length");

	/* Rate: a real table; 2/1h per client. */
	if (mkdtemp(path) == NULL)
		return 1;
	snprintf(tab, sizeof(tab), "%s/throttle", path);
	T_INT(throttle_open(tab, THROTTLE_MIN_ENTRIES, &t, err, sizeof(err)),
	    0, "throttle table");
	setup(&cf, &f, &in);
	in.throttle = t;
	cf.throttle.per_ip = (struct conf_rate){ 2, 3600 };
	expect("first post", &in, "-", 0, NULL, 0);
	expect("second post", &in, "-", 0, NULL, 0);
	T_STR(run(&in, &o), "rate", "third post: rate");
	T_INT(o.status, 429, "429");
	T_STR(o.outcome, "throttled", "throttled");
	T_INT(o.retry_after, 1800, "Retry-After: one per PERIOD/N");
	/* Charged before https: a refused plain-http post still counts. */
	in.ip = "192.0.2.8";
	in.https = 0;
	expect("other client, plain http", &in, "https", 403, "not_https", 0);
	expect("again", &in, "https", 403, "not_https", 0);
	T_STR(run(&in, &o), "rate", "its third post is throttled first");
	in.ip = "2001:db8::1";
	in.https = 1;
	expect("IPv6 client", &in, "-", 0, NULL, 0);
	in.ip = "2001:db8::2";
	expect("same /64 shares the budget", &in, "-", 0, NULL, 0);
	T_STR(run(&in, &o), "rate", "the /64's third post");
	if (t != NULL)
		throttle_close(t);
	snprintf(tab, sizeof(tab), "rm -rf %s", path);
	if (system(tab) != 0)
		return 1;
	T_DONE();
}
