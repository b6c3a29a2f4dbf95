/*
 * test_gates: the head gates (gate/gate.h) one by one and as a table:
 * each verdict, status, outcome word and Retry-After, the table's order
 * (rate before https: every POST is charged), and the facts a gate hands
 * on (kind, length); the body gates: their order, each verdict (INVALID
 * with its errors, SILENT, REPEAT with the first post's id, REFUSE for a
 * repeat still in flight), the route they hand on; the message gate
 * (rspamd) against a small HTTP peer answering as rspamd does: reject,
 * hold, ham, and no answer with and without fail_open.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gate/challenge.h"
#include "gate/gate.h"
#include "gate/spam.h"
#include "lib/buf.h"
#include "spool/spool.h"
#include "t.h"

static char	 o1[] = "https://site.test";
static char	 o2[] = "https://www.site.test:8443";
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

/* Runs the body table on the urlencoded body; returns the gate's name. */
static const char *
body(struct gate_in *in, const char *post, struct gate_out *o,
    struct form **fp)
{
	const struct gate	*g;

	form_free(*fp);
	*fp = NULL;
	if (form_parse_urlencoded(post, strlen(post), 50, fp) != FORM_OK)
		return "parse";
	in->post = *fp;
	g = gate_run(gate_body, gate_nbody, in, o);
	return g != NULL ? g->name : "-";
}

static void
body_cases(struct throttle *t)
{
	static const char *const order[] = { "challenge", "captcha", "fields",
	    "honeypot", "content", "duplicate" };
	static char		 rf[] = "dept", c1[] = "sales";
	static char		 a1[] = "s@x.test";
	static char		 hp[] = "website";
	static struct conf_mailbox to[] = { { NULL, a1 } };
	static struct conf_choice choices[] = { { c1, to, 1 } };
	struct conf		 cf;
	struct conf_form	 f;
	struct gate_in		 in;
	struct gate_out		 o;
	struct form		*p = NULL;
	char			 id[SPOOL_ID_LEN + 1], first[SPOOL_ID_LEN + 1];
	size_t			 i;

	T_INT(gate_nbody, 6, "six body gates");
	for (i = 0; i < gate_nbody && i < 6; i++)
		T_STR(gate_body[i].name, order[i], "body table order");
	setup(&cf, &f, &in);
	f.max_links = -1;
	in.id = id;
	snprintf(id, sizeof(id), "%s", "aaaaaaaaaaaaaaaaaaaaaaaaaa");
	T_STR(body(&in, "name=Ada&message=hello", &o, &p), "-", "plain post");

	f.honeypot = hp;
	T_STR(body(&in, "name=Ada&website=x", &o, &p), "honeypot",
	    "configured honeypot filled");
	T_INT(o.verdict, GATE_SILENT, "honeypot: silent");
	T_STR(o.outcome, "honeypot", "honeypot word");
	T_STR(body(&in, "name=Ada&_gotcha=x", &o, &p), "honeypot",
	    "a Formspree honeypot name");
	T_STR(body(&in, "name=Ada&website=", &o, &p), "-", "empty honeypot");

	f.max_links = 1;
	T_STR(body(&in, "message=http://a.test+www.b.test", &o, &p),
	    "content", "two links over max_links 1");
	T_INT(o.verdict, GATE_SILENT, "content: silent");
	T_STR(o.outcome, "spam_links", "spam_links");
	/* the visitor's subject is judged too (issue 16, F7), once the
	 * fields gate has picked it */
	f.allow_subject_field = 1;
	T_STR(body(&in, "_subject=http://a.test+www.b.test&message=hi", &o,
	    &p), "content", "_subject: two links over max_links 1");
	T_STR(o.outcome, "spam_links", "_subject: spam_links");
	f.allow_subject_field = 0;
	T_STR(body(&in, "_subject=http://a.test+www.b.test&message=hi", &o,
	    &p), "-", "_subject not allowed: reaches no mail");
	f.max_links = -1;

	f.route_field = rf;
	f.choices = choices;
	f.nchoices = 1;
	T_STR(body(&in, "name=Ada", &o, &p), "fields", "route missing");
	T_INT(o.verdict, GATE_INVALID, "invalid");
	T_INT(o.nerr, 1, "one error");
	T_STR(o.errs[0].field, "dept", "on the route field");
	T_STR(o.errs[0].code, "required", "required");
	T_STR(body(&in, "dept=ops", &o, &p), "fields", "not a choice");
	T_STR(o.errs[0].code, "choice", "choice");
	T_STR(body(&in, "dept=sales&_replyto=ada@example.org", &o, &p), "-",
	    "a choice");
	T_OK(in.route.nto == 1 && in.route.to == to, "the route is handed on");
	T_OK(in.route.reply != NULL && in.route.reply->value_len == 15,
	    "Reply-To from _replyto");
	T_STR(body(&in, "dept=sales&_replyto=a%0d%0aBcc:x@y", &o, &p), "fields",
	    "Reply-To with CRLF");
	T_STR(o.errs[0].code, "email", "email");
	f.route_field = NULL;

	f.altcha = 1;
	T_STR(body(&in, "name=Ada", &o, &p), "challenge", "no ALTCHA payload");
	T_INT(o.verdict, GATE_INVALID, "challenge: invalid");
	T_STR(o.errs[0].field, CHALLENGE_FIELD, "on the altcha field");
	T_STR(o.errs[0].code, "challenge", "challenge code");
	T_STR(o.outcome, "challenge_failed", "challenge_failed");
	T_STR(body(&in, "name=Ada&website=x", &o, &p), "challenge",
	    "the challenge before the honeypot");
	f.altcha = 0;

	/* Duplicates: pending until recorded, then the first id. */
	in.throttle = t;
	cf.duplicate_window = 60;
	T_STR(body(&in, "name=Ada&message=once", &o, &p), "-", "first post");
	T_OK(strncmp(in.dupkey, "dup:", 4) == 0 && strlen(in.dupkey) == 36,
	    "dup key: dup: + 32 hex");
	T_STR(body(&in, "name=Ada&message=once", &o, &p), "duplicate",
	    "a repeat while the first is in flight");
	T_INT(o.verdict, GATE_REFUSE, "in flight: refused");
	T_INT(o.status, 503, "503");
	T_INT(o.retry_after, 2, "Retry-After 2");
	T_STR(o.outcome, "duplicate_in_flight", "duplicate_in_flight");
	T_STR(body(&in, "name=Ada&message=twice", &o, &p), "-", "another post");
	snprintf(first, sizeof(first), "%s", id);
	gate_dup_record(&in);
	snprintf(id, sizeof(id), "%s", "bbbbbbbbbbbbbbbbbbbbbbbbbb");
	T_STR(body(&in, "name=Ada&message=twice", &o, &p), "duplicate",
	    "a repeat after the commit");
	T_INT(o.verdict, GATE_REPEAT, "repeat");
	T_STR(id, first, "the first post's id");
	T_STR(in.dupkey, "", "no key for a repeat");
	in.ip = "192.0.2.99";
	T_STR(body(&in, "name=Ada&message=twice", &o, &p), "-",
	    "the same post from another client");
	form_free(p);
}

/* ---- the message gate --------------------------------------------- */

/*
 * An HTTP peer on 127.0.0.1 answering n requests as rspamd's /checkv2
 * does, the answer chosen by the URL's first path segment: /reject,
 * /hold, else ham.  Returns its pid; *port is its port.
 */
static pid_t
rspamd_peer(int n, int *port)
{
	struct sockaddr_in	 sa = { .sin_family = AF_INET };
	socklen_t		 sl = sizeof(sa);
	char			 req[65536], ans[512];
	const char		*json;
	ssize_t			 r;
	size_t			 got;
	pid_t			 pid;
	int			 lfd, fd;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(lfd, 8) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) == -1)
		abort();
	*port = ntohs(sa.sin_port);
	if ((pid = fork()) != 0) {
		close(lfd);
		return pid;
	}
	alarm(60);
	while (n-- > 0 && (fd = accept(lfd, NULL, NULL)) != -1) {
		/* The request: headers and body, until the client waits. */
		got = 0;
		while (got < sizeof(req) - 1 && (r = read(fd, req + got,
		    sizeof(req) - 1 - got)) > 0) {
			got += (size_t)r;
			req[got] = '\0';
			if (strstr(req, "\r\n\r\n") != NULL &&
			    strstr(req, "GTUBE-END") != NULL)
				break;
		}
		req[got] = '\0';
		json = strncmp(req, "POST /reject/", 13) == 0 ?
		    "{\"score\": 20.5, \"action\": \"reject\", "
		    "\"symbols\": {\"GTUBE\": {\"score\": 20.5}}}" :
		    strncmp(req, "POST /hold/", 11) == 0 ?
		    "{\"score\": 7.25, \"action\": \"add header\", "
		    "\"symbols\": {}}" :
		    "{\"score\": -0.5, \"action\": \"no action\", "
		    "\"symbols\": {}}";
		snprintf(ans, sizeof(ans), "HTTP/1.1 200 OK\r\nContent-Type: "
		    "application/json\r\nContent-Length: %zu\r\nConnection: "
		    "close\r\n\r\n%s", strlen(json), json);
		if (write(fd, ans, strlen(ans)) < 0)
			_exit(1);
		close(fd);
	}
	_exit(0);
}

static struct spam *
peer_client(int port, const char *path)
{
	struct spam_conf	 sc;
	char			 url[128];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	memset(&sc, 0, sizeof(sc));
	sc.url = url;
	sc.reject_score = 15;
	sc.hold_score = 6;
	sc.timeout_ms = 5000;
	return spam_open(&sc);
}

static void
message_case(const char *what, struct gate_in *in, const char *path,
    int port, enum gate_verdict want, const char *outcome, int status)
{
	struct gate_out		 o;
	const struct gate	*g;

	if (path != NULL && (in->spam = peer_client(port, path)) == NULL) {
		T_OK(0, "%s: spam_open", what);
		return;
	}
	g = gate_run(gate_message, gate_nmessage, in, &o);
	T_INT(o.verdict, want, what);
	T_STR(g != NULL ? g->name : "-", want == GATE_PASS ? "-" : "rspamd",
	    what);
	if (want != GATE_PASS)
		T_STR(o.outcome, outcome, what);
	T_INT(o.status, status, what);
	T_INT(o.retry_after, status ? 60 : 0, what);
	spam_close(in->spam);
	in->spam = NULL;
}

static void
message_cases(void)
{
	static char		 rcpt[] = "sales@example.test";
	struct conf		 cf;
	struct conf_form	 f;
	struct gate_in		 in;
	struct spool_meta	 meta;
	struct buf		 msg = BUF_INIT;
	char			 id[SPOOL_ID_LEN + 1] = "abcdefghij0123456789abcdef";
	pid_t			 pid;
	int			 port, st;

	T_INT(gate_nmessage, 1, "one message gate");
	T_STR(gate_message[0].name, "rspamd", "the message gate is rspamd");
	memset(&meta, 0, sizeof(meta));
	snprintf(meta.from, sizeof(meta.from), "forms@example.test");
	meta.rcpt[0] = rcpt;
	meta.nrcpt = 1;
	if (buf_adds(&msg, "From: forms@example.test\r\nTo: "
	    "sales@example.test\r\nSubject: t\r\n\r\nGTUBE-END\r\n") == -1)
		abort();
	setup(&cf, &f, &in);
	in.id = id;
	in.msg = &msg;
	in.meta = &meta;
	message_case("no rspamd configured", &in, NULL, 0, GATE_PASS, NULL, 0);

	pid = rspamd_peer(3, &port);
	message_case("rspamd rejects: silent", &in, "/reject", port,
	    GATE_SILENT, "spam_rspamd", 0);
	message_case("rspamd holds", &in, "/hold", port, GATE_HOLD, "held", 0);
	message_case("rspamd says ham", &in, "/ham", port, GATE_PASS, NULL, 0);
	T_INT(waitpid(pid, &st, 0), pid, "the peer served three");
	T_OK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "peer exit %#x", st);

	/* Nobody listens on port 1: no verdict. */
	message_case("rspamd unavailable", &in, "/", 1, GATE_REFUSE,
	    "rspamd_unavailable", 503);
	cf.spam.fail_open = 1;
	message_case("rspamd unavailable, fail_open", &in, "/", 1, GATE_PASS,
	    NULL, 0);
	buf_free(&msg);
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
	in.origin = "";
	in.referer = "https://site.test/contact.html?x=1";
	expect("empty Origin: Referer's origin decides", &in, "-", 0, NULL, 0);
	/* Issue 16 F9: "null" is an opaque origin, a foreign one. */
	in.origin = "null";
	expect("Origin null with an allowed Referer", &in, "origin", 403,
	    "bad_origin", 0);
	in.referer = NULL;
	f.allow_missing_origin = 1;
	expect("Origin null, allow_missing_origin", &in, "origin", 403,
	    "bad_origin", 0);
	in.origin = "NULL";
	expect("Origin NULL", &in, "origin", 403, "bad_origin", 0);
	f.allow_missing_origin = 0;
	in.origin = "null";
	in.referer = "https://site.test/contact.html?x=1";
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
	cf.throttle.per_ip = (struct rate){ 2, 3600 };
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
	/* Issue 16 F10: the /64s of a /48 share per_net; IPv4 /24s
	 * per_net_v4.  Every key checked before any is charged. */
	cf.throttle.per_net = (struct rate){ 3, 3600 };
	in.ip = "2001:db8:7:1::1";
	expect("/48: first /64", &in, "-", 0, NULL, 0);
	in.ip = "2001:db8:7:2::1";
	expect("/48: second /64", &in, "-", 0, NULL, 0);
	in.ip = "2001:db8:7:3::1";
	expect("/48: third /64", &in, "-", 0, NULL, 0);
	in.ip = "2001:db8:7:4::1";
	T_STR(run(&in, &o), "rate", "/48: a fourth /64 is throttled");
	T_INT(o.status, 429, "429");
	T_INT(o.retry_after, 1200, "Retry-After: the /48's");
	in.ip = "2001:db8:8:4::1";
	expect("the next /48", &in, "-", 0, NULL, 0);
	expect("its /64's second post", &in, "-", 0, NULL, 0);
	T_STR(run(&in, &o), "rate", "its /64's third post: per_ip");
	in.ip = "192.0.2.20";
	expect("IPv4 without per_net_v4", &in, "-", 0, NULL, 0);
	in.ip = "192.0.2.21";
	expect("another /24 neighbour", &in, "-", 0, NULL, 0);
	cf.throttle.per_net_v4 = (struct rate){ 3, 3600 };
	in.ip = "192.0.2.22";
	expect("per_net_v4: the /24's first", &in, "-", 0, NULL, 0);
	in.ip = "192.0.2.23";
	expect("per_net_v4: second", &in, "-", 0, NULL, 0);
	in.ip = "::ffff:192.0.2.24";
	expect("per_net_v4: third (IPv4-mapped)", &in, "-", 0, NULL, 0);
	in.ip = "192.0.2.25";
	T_STR(run(&in, &o), "rate", "per_net_v4: the /24's fourth");
	in.ip = "192.0.3.25";
	expect("per_net_v4: the next /24", &in, "-", 0, NULL, 0);
	/* Issue 16 F4: no client address, a per-client rate: 503. */
	{
		static const char *const bad[] = { "", "unix:", "garbage",
		    "192.0.2.7:80", "[2001:db8::1]" };

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			in.ip = bad[i];
			in.ip_why = "REMOTE_ADDR is not an IP address";
			expect(bad[i], &in, "rate", 503, "no_client_ip", 60);
		}
		in.ip_why = NULL;
		expect("no reason given", &in, "rate", 503, "no_client_ip", 60);
		cf.throttle.per_ip.count = cf.throttle.per_net.count =
		    cf.throttle.per_net_v4.count = 0;
		expect("no per-client rate: no address needed", &in, "-", 0,
		    NULL, 0);
		cf.throttle.per_net_v4 = (struct rate){ 3, 3600 };
		expect("per_net_v4 alone needs one", &in, "rate", 503,
		    "no_client_ip", 60);
		cf.throttle.per_net_v4.count = 0;
	}
	body_cases(t);
	message_cases();
	if (t != NULL)
		throttle_close(t);
	snprintf(tab, sizeof(tab), "rm -rf %s", path);
	if (system(tab) != 0)
		return 1;
	T_DONE();
}
