/*
 * test_spam: spam_check() against a real rspamd and against fault peers,
 * all started on free loopback ports by tests/unit/rspamd_ctl.py (rspamd
 * with its own config, DBDIR and run dir under a temp dir, a loopback
 * dnsmasq as its only resolver, no Redis; a stalled listener; a fake HTTP
 * server with malformed and hostile answers).  Exits 77 (skipped) only
 * when rspamd is not installed.  Run from the repository root.
 *
 * rspamd's first start compiles its patterns (about 20 s); the compiled
 * cache is kept in /tmp between runs (see rspamd_ctl.py).
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <ftw.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/sha.h>

#include "lib/buf.h"
#include "gate/spam.h"
#include "t.h"

#define CTL		"tests/unit/rspamd_ctl.py"
#define CTL_WAIT	240	/* s; the helper caps rspamd's cold start at 180 */
#define STOP_WAIT	20	/* s */
#define SKIP		77
#define TIMEOUT_MS	10000	/* towards rspamd and the fake peer */
#define SHORT_MS	1000	/* towards the stalled peers */
#define UNTOUCHED	-12345.0
#define BIG_MESSAGE	(1536 * 1024)

static char	 dir[] = "/tmp/test_spam.XXXXXX";
static pid_t	 ctl_pid = -1;
static int	 ctl_in = -1, ctl_out = -1;
static int	 port_rspamd, port_stall, port_fake, port_closed;

static const char *const rcpt1[] = { "sales@example.com" };
static const char *const rcpt2[] = { "sales@example.com", "ops@example.com" };

static const char gtube[] =
    "From: Example Forms <forms@example.com>\r\n"
    "To: Sales <sales@example.com>\r\n"
    "Subject: Contact form\r\n"
    "Message-ID: <f2m-gtube@example.com>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "Message:\r\n"
    "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n";

static long long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One line from the helper within secs seconds; "" on EOF or timeout. */
static void
ctl_line(char *line, size_t size, int secs)
{
	struct pollfd	 pfd;
	long long	 end = now_ms() + secs * 1000LL;
	size_t		 n = 0;
	ssize_t		 r;
	int		 left;

	pfd.fd = ctl_out;
	pfd.events = POLLIN;
	while (n < size - 1 && (n == 0 || line[n - 1] != '\n')) {
		if ((left = (int)(end - now_ms())) <= 0 ||
		    poll(&pfd, 1, left) <= 0)
			break;
		/* One octet at a time: nothing after the newline is eaten. */
		if ((r = read(ctl_out, line + n, 1)) <= 0)
			break;
		n++;
	}
	line[n] = '\0';
	line[strcspn(line, "\n")] = '\0';
}

static int
ctl_start(void)
{
	char	 line[512];
	int	 in[2], out[2];

	if (pipe(in) == -1 || pipe(out) == -1)
		return -1;
	if ((ctl_pid = fork()) == -1)
		return -1;
	if (ctl_pid == 0) {
		if (dup2(in[0], 0) == -1 || dup2(out[1], 1) == -1)
			_exit(127);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		execl("/usr/bin/python3", "python3", "-W", "ignore", CTL, dir,
		    (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	ctl_in = in[1];
	ctl_out = out[0];
	ctl_line(line, sizeof(line), CTL_WAIT);
	if (strncmp(line, "skip:", 5) == 0) {
		printf("SKIP: test_spam:%s\n", line + 5);
		return SKIP;
	}
	if (sscanf(line, "rspamd=%d stall=%d fake=%d closed=%d",
	    &port_rspamd, &port_stall, &port_fake, &port_closed) != 4) {
		fprintf(stderr, "rspamd_ctl.py did not start (got [%s])\n",
		    line);
		return -1;
	}
	return 0;
}

/* Closing its stdin makes the helper stop rspamd and dnsmasq by pid. */
static void
ctl_stop(void)
{
	int	 st, i;

	if (ctl_in != -1)
		close(ctl_in);
	ctl_in = -1;
	if (ctl_pid != -1) {
		for (i = 0; i < STOP_WAIT * 10; i++) {
			if (waitpid(ctl_pid, &st, WNOHANG) == ctl_pid)
				break;
			usleep(100000);
		}
		if (i == STOP_WAIT * 10) {
			fprintf(stderr, "rspamd_ctl.py did not stop: "
			    "SIGTERM\n");
			kill(ctl_pid, SIGTERM);
			waitpid(ctl_pid, &st, 0);
		}
	}
	ctl_pid = -1;
	if (ctl_out != -1)
		close(ctl_out);
	ctl_out = -1;
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	(void)remove(path);
	return 0;
}

static struct spam *
open_url(const char *url, double reject, double hold, long timeout_ms)
{
	struct spam_conf	 cf;

	cf.url = url;
	cf.reject_score = reject;
	cf.hold_score = hold;
	cf.timeout_ms = timeout_ms;
	return spam_open(&cf);
}

/* http://127.0.0.1:<port><path> */
static struct spam *
open_port(int port, const char *path, double reject, double hold,
    long timeout_ms)
{
	char	 url[256];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	return open_url(url, reject, hold, timeout_ms);
}

/* A clean message dated now (rspamd scores a date in the past). */
static void
clean_message(struct buf *b, const char *body_extra, size_t repeat)
{
	char		 date[64];
	time_t		 t = time(NULL);
	struct tm	 tm;
	size_t		 i;
	int		 bad = 0;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	buf_reset(b);
	bad |= buf_printf(b,
	    "From: Example Forms <forms@example.com>\r\n"
	    "To: Sales <sales@example.com>\r\n"
	    "Subject: Contact form: opening hours\r\n"
	    "Date: %s\r\n"
	    "Message-ID: <f2m-20261128-clean1@example.com>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n"
	    "\r\n"
	    "Name: Ada Lovelace\r\n"
	    "Message:\r\n"
	    "Hello, are you open on Saturday mornings? Thank you.\r\n",
	    date) == -1;
	for (i = 0; i < repeat; i++)
		bad |= buf_adds(b, body_extra) == -1;
	if (bad) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
}

/*
 * The shape form2mail builds: From the site, Reply-To the visitor, To the
 * site's own domain, Message-ID on the web host, French text in
 * quoted-printable.
 */
static void
french_message(struct buf *b)
{
	char		 date[64];
	time_t		 t = time(NULL);
	struct tm	 tm;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	buf_reset(b);
	if (buf_printf(b,
	    "From: Example Forms <forms@example.com>\r\n"
	    "Reply-To: Jeanne Dupont <jeanne.dupont@example.org>\r\n"
	    "To: Ventes <sales@example.com>\r\n"
	    "Subject: =?UTF-8?Q?Demande_de_devis_=E2=80=94_r=C3=A9novation_de_"
	    "cuisine?=\r\n"
	    "Date: %s\r\n"
	    "Message-ID: <f2m-20261128-7q3k@www.example.com>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Auto-Submitted: auto-generated\r\n"
	    "X-Originating-IP: [192.0.2.7]\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n"
	    "\r\n"
	    "Nouveau message depuis le formulaire de contact.\r\n"
	    "\r\n"
	    "Nom : Jeanne Dupont\r\n"
	    "Courriel : jeanne.dupont@example.org\r\n"
	    "Message :\r\n"
	    "Bonjour,\r\n"
	    "\r\n"
	    "Je souhaiterais obtenir un devis pour la r=C3=A9novation de ma "
	    "cuisine (envi=\r\n"
	    "ron 12 m=C2=B2) : d=C3=A9pose de l=E2=80=99ancien plan de "
	    "travail, pose d=E2=\r\n"
	    "=80=99un nouveau en ch=C3=AAne massif et remplacement de "
	    "l=E2=80=99=C3=A9vier.\r\n"
	    "Seriez-vous disponible pour passer la semaine prochaine ?\r\n"
	    "\r\n"
	    "Bien cordialement,\r\n"
	    "Jeanne\r\n", date) == -1) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
}

/* Every octet printable ASCII: the reason is fit for one log line. */
static int
log_safe(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < ' ' || *s > '~')
			return 0;
	return 1;
}

struct open_case {
	const char	*url;
	double		 reject, hold;
	long		 timeout_ms;
	int		 ok;
};

static void
test_open(void)
{
	static const struct open_case cases[] = {
		{ "http://127.0.0.1:11333", 15, 6, 5000, 1 },
		{ "http://127.0.0.1:11333/", 15, 6, 5000, 1 },
		{ "http://127.1.2.3:11333", 15, 6, 5000, 1 },
		{ "http://localhost:11333", 15, 6, 5000, 1 },
		{ "http://[::1]:11333", 15, 6, 5000, 1 },
		{ "HTTP://127.0.0.1:11333", 15, 6, 5000, 1 },
		{ "https://rspamd.example.com/scan/", 15, 6, 5000, 1 },
		{ "https://rspamd.example.com:8443", 15, 6, 5000, 1 },
		{ "http://127.0.0.1:11333", 15, 15, 1, 1 },
		{ "http://127.0.0.1:11333", HUGE_VAL, HUGE_VAL, 600000, 1 },
		{ "http://127.0.0.1:11333", 15, -HUGE_VAL, 5000, 1 },
		{ "http://192.0.2.1:11333", 15, 6, 5000, 0 },
		{ "http://127.example.com:11333", 15, 6, 5000, 0 },
		{ "http://localhost.example.com:11333", 15, 6, 5000, 0 },
		{ "http://[::2]:11333", 15, 6, 5000, 0 },
		{ "http://[::ffff:127.0.0.1]:11333", 15, 6, 5000, 0 },
		{ "http://[fe80::1%25lo]:11333", 15, 6, 5000, 0 },
		{ "http://user:pw@127.0.0.1:11333", 15, 6, 5000, 0 },
		{ "https://user@rspamd.example.com", 15, 6, 5000, 0 },
		{ "http://127.0.0.1:11333/?x=1", 15, 6, 5000, 0 },
		{ "http://127.0.0.1:11333/#top", 15, 6, 5000, 0 },
		{ "ftp://127.0.0.1/", 15, 6, 5000, 0 },
		{ "file:///etc/passwd", 15, 6, 5000, 0 },
		{ "127.0.0.1:11333", 15, 6, 5000, 0 },
		{ "http://127.0.0.1:11333/a b", 15, 6, 5000, 0 },
		{ "", 15, 6, 5000, 0 },
		{ NULL, 15, 6, 5000, 0 },
		{ "http://127.0.0.1:11333", 6, 15, 5000, 0 },
		{ "http://127.0.0.1:11333", NAN, 6, 5000, 0 },
		{ "http://127.0.0.1:11333", 15, NAN, 5000, 0 },
		{ "http://127.0.0.1:11333", 15, 6, 0, 0 },
		{ "http://127.0.0.1:11333", 15, 6, -1, 0 },
		{ "http://127.0.0.1:11333", 15, 6, 600001, 0 },
	};
	struct spam	*s;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = open_url(cases[i].url, cases[i].reject, cases[i].hold,
		    cases[i].timeout_ms);
		T_OK((s != NULL) == cases[i].ok,
		    "spam_open(%s, reject %g, hold %g, %ld ms): expected %s, "
		    "got %s", cases[i].url ? cases[i].url : "NULL",
		    cases[i].reject, cases[i].hold, cases[i].timeout_ms,
		    cases[i].ok ? "a handle" : "NULL",
		    s != NULL ? "a handle" : "NULL");
		spam_close(s);
	}
	spam_close(NULL);
	T_STR(spam_verdict_name(SPAM_HAM), "ham", "name of SPAM_HAM");
	T_STR(spam_verdict_name(SPAM_HOLD), "hold", "name of SPAM_HOLD");
	T_STR(spam_verdict_name(SPAM_REJECT), "reject", "name of SPAM_REJECT");
	T_STR(spam_verdict_name(SPAM_UNAVAILABLE), "unavailable",
	    "name of SPAM_UNAVAILABLE");
}

/* One check with the usual envelope; prints the verdict line. */
static enum spam_verdict
check(struct spam *s, const char *what, const char *msg, size_t len,
    double *score, char *why, size_t whysize, long long *ms)
{
	enum spam_verdict	 v;
	long long		 t0 = now_ms();

	*score = UNTOUCHED;
	v = spam_check(s, msg, len, "192.0.2.7", "forms@example.com", rcpt1,
	    1, NULL, "mail.example.com", "f2m-test-1", score, why, whysize);
	if (ms != NULL)
		*ms = now_ms() - t0;
	printf("  %-24s %-11s %s\n", what, spam_verdict_name(v), why);
	return v;
}

static void
test_rspamd(void)
{
	struct buf	 b = BUF_INIT;
	struct spam	*s, *h;
	char		 why[512], url[64];
	double		 sc;
	long long	 ms;
	enum spam_verdict v;

	printf("rspamd on port %d:\n", port_rspamd);
	if ((s = open_port(port_rspamd, "", 15, 6, TIMEOUT_MS)) == NULL) {
		T_OK(0, "spam_open for rspamd failed");
		return;
	}

	clean_message(&b, "", 0);
	v = check(s, "clean message", b.data, b.len, &sc, why, sizeof(why),
	    NULL);
	T_STR(spam_verdict_name(v), "ham", "clean message: verdict");
	T_OK(sc != UNTOUCHED && sc < 6, "clean message: expected a score "
	    "under 6, got %.2f (%s)", sc, why);
	T_OK(strstr(why, "action \"no action\"") != NULL, "clean message: "
	    "expected rspamd's action \"no action\", got [%s]", why);

	/* Same handle again: the connection (or a new one) still works. */
	v = check(s, "clean message again", b.data, b.len, &sc, why,
	    sizeof(why), NULL);
	T_STR(spam_verdict_name(v), "ham", "second check on one handle");

	v = check(s, "GTUBE", gtube, sizeof(gtube) - 1, &sc, why, sizeof(why),
	    NULL);
	T_STR(spam_verdict_name(v), "reject", "GTUBE: verdict");
	T_OK(sc >= 15, "GTUBE: expected a score of at least 15, got %.2f", sc);
	T_OK(strstr(why, "GTUBE(") != NULL && strstr(why,
	    "action \"reject\"") != NULL, "GTUBE: expected the symbol and "
	    "the action in the reason, got [%s]", why);

	french_message(&b);
	v = check(s, "French form message", b.data, b.len, &sc, why,
	    sizeof(why), NULL);
	T_OK(v == SPAM_HAM || v == SPAM_HOLD, "French form message: expected "
	    "ham or hold under reject 15, got %s (%s)", spam_verdict_name(v),
	    why);

	/* 1.5 MiB: past libcurl's Expect: 100-continue size. */
	clean_message(&b, "The quick brown fox jumps over the lazy dog, "
	    "again and again and again.\r\n", BIG_MESSAGE / 72);
	v = check(s, "1.5 MiB message", b.data, b.len, &sc, why, sizeof(why),
	    &ms);
	T_OK(v != SPAM_UNAVAILABLE, "1.5 MiB message: expected a verdict, "
	    "got %s (%s)", spam_verdict_name(v), why);

	/* hold -100: a clean message lands in held/. */
	clean_message(&b, "", 0);
	if ((h = open_port(port_rspamd, "/", 15, -100, TIMEOUT_MS)) == NULL)
		T_OK(0, "spam_open with hold -100 failed");
	else {
		v = check(h, "clean, hold -100", b.data, b.len, &sc, why,
		    sizeof(why), NULL);
		T_STR(spam_verdict_name(v), "hold", "hold -100: verdict");
		T_OK(strstr(why, "(hold -100.00, reject 15.00)") != NULL,
		    "hold -100: expected the thresholds in the reason, got "
		    "[%s]", why);
		spam_close(h);
	}

	snprintf(url, sizeof(url), "http://localhost:%d", port_rspamd);
	if ((h = open_url(url, 15, 6, TIMEOUT_MS)) == NULL)
		T_OK(0, "spam_open of %s failed", url);
	else {
		v = check(h, "via localhost", b.data, b.len, &sc, why,
		    sizeof(why), NULL);
		T_STR(spam_verdict_name(v), "ham", "localhost url: verdict");
		spam_close(h);
	}

	/* rspamd stopped under a handle that has talked to it. */
	if (write(ctl_in, "stop-rspamd\n", 12) != 12)
		T_OK(0, "cannot ask the helper to stop rspamd");
	ctl_line(why, sizeof(why), STOP_WAIT);
	T_STR(why, "stopped", "helper's answer to stop-rspamd");
	v = check(s, "rspamd stopped", b.data, b.len, &sc, why, sizeof(why),
	    &ms);
	T_STR(spam_verdict_name(v), "unavailable", "rspamd stopped: verdict");
	T_OK(ms < 1000, "rspamd stopped: expected an answer within 1 s, "
	    "took %lld ms", ms);
	T_OK(strstr(why, "(code 7)") != NULL, "rspamd stopped: expected "
	    "connection refused (code 7), got [%s]", why);
	T_OK(sc == UNTOUCHED, "rspamd stopped: score changed to %.2f", sc);
	spam_close(s);
	buf_free(&b);
}

struct fake_case {
	const char		*name;
	enum spam_verdict	 want;
	double			 score;		/* UNTOUCHED: not parsed */
	const char		*why;		/* expected in the reason */
};

static void
test_fake(void)
{
	static const struct fake_case cases[] = {
		{ "ok", SPAM_HAM, 3.5, "score 3.50 (hold 6.00, reject 15.00), "
		  "action \"no action\", symbols HIGH(3.00) MID(1.50) "
		  "LOW(-1.00)" },
		{ "reject", SPAM_REJECT, 2.0, "score 2.00 (hold 6.00, reject "
		  "15.00), action \"reject\", symbols R(2.00)" },
		{ "nosymbols", SPAM_HAM, -0.5, "score -0.50 (hold 6.00, reject "
		  "15.00), action \"no action\"" },
		{ "notjson", SPAM_UNAVAILABLE, UNTOUCHED, "malformed answer: " },
		{ "empty", SPAM_UNAVAILABLE, UNTOUCHED, "malformed answer: " },
		{ "truncated", SPAM_UNAVAILABLE, UNTOUCHED,
		  "malformed answer: " },
		{ "array", SPAM_UNAVAILABLE, UNTOUCHED,
		  "malformed answer: not a JSON object" },
		{ "strscore", SPAM_UNAVAILABLE, UNTOUCHED,
		  "malformed answer: no numeric score" },
		{ "noscore", SPAM_UNAVAILABLE, UNTOUCHED,
		  "malformed answer: no numeric score" },
		{ "noaction", SPAM_UNAVAILABLE, UNTOUCHED,
		  "malformed answer: no action string" },
		{ "numaction", SPAM_UNAVAILABLE, UNTOUCHED,
		  "malformed answer: no action string" },
		{ "dupkey", SPAM_UNAVAILABLE, UNTOUCHED,
		  "malformed answer: duplicate object key" },
		{ "symsarray", SPAM_UNAVAILABLE, UNTOUCHED,
		  "malformed answer: symbols is not an object" },
		{ "symstrscore", SPAM_UNAVAILABLE, UNTOUCHED,
		  "malformed answer: symbol \"A\" without a numeric score" },
		{ "symnotobj", SPAM_UNAVAILABLE, UNTOUCHED,
		  "without a numeric score" },
		{ "hugenum", SPAM_UNAVAILABLE, UNTOUCHED,
		  "malformed answer: real number overflow" },
		{ "nul", SPAM_UNAVAILABLE, UNTOUCHED, "malformed answer: " },
		{ "badutf8", SPAM_UNAVAILABLE, UNTOUCHED,
		  "malformed answer: " },
		{ "deep", SPAM_UNAVAILABLE, UNTOUCHED, "malformed answer: " },
		{ "big", SPAM_UNAVAILABLE, UNTOUCHED, "answer over 262144 "
		  "octets" },
		{ "bigchunked", SPAM_UNAVAILABLE, UNTOUCHED, "answer over "
		  "262144 octets" },
		{ "status500", SPAM_UNAVAILABLE, UNTOUCHED, "HTTP status 500: "
		  "bad \\x01 thing \\x22x\\x22" },
		{ "redirect", SPAM_UNAVAILABLE, UNTOUCHED, "HTTP status 302" },
		{ "nosuchcase", SPAM_UNAVAILABLE, UNTOUCHED,
		  "HTTP status 404" },
		{ "close", SPAM_UNAVAILABLE, UNTOUCHED, "(code 52)" },
	};
	struct spam	*s;
	char		 why[512], path[64];
	double		 sc;
	size_t		 i;
	enum spam_verdict v;

	printf("fake rspamd on port %d:\n", port_fake);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), "/%s", cases[i].name);
		if ((s = open_port(port_fake, path, 15, 6, TIMEOUT_MS)) ==
		    NULL) {
			T_OK(0, "spam_open for %s failed", cases[i].name);
			continue;
		}
		v = check(s, cases[i].name, gtube, sizeof(gtube) - 1, &sc,
		    why, sizeof(why), NULL);
		T_OK(v == cases[i].want, "%s: expected %s, got %s (%s)",
		    cases[i].name, spam_verdict_name(cases[i].want),
		    spam_verdict_name(v), why);
		T_OK(sc == cases[i].score, "%s: expected score %.2f, got "
		    "%.2f", cases[i].name, cases[i].score, sc);
		T_OK(strstr(why, cases[i].why) != NULL, "%s: reason\n"
		    "  expected to hold [%s]\n  got [%s]", cases[i].name,
		    cases[i].why, why);
		T_OK(log_safe(why), "%s: reason not log-safe: [%s]",
		    cases[i].name, why);
		spam_close(s);
	}
}

/* The last request the fake peer logged, parsed; NULL if none. */
static json_t *
fake_last(size_t *count)
{
	char	 path[256], line[65536], last[65536] = "";
	FILE	*f;

	*count = 0;
	snprintf(path, sizeof(path), "%s/fake.log", dir);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	while (fgets(line, sizeof(line), f) != NULL) {
		(*count)++;
		snprintf(last, sizeof(last), "%s", line);
	}
	fclose(f);
	return json_loads(last, 0, NULL);
}

/* Value of the n-th header called name (case-insensitive), or NULL. */
static const char *
fake_header(json_t *req, const char *name, size_t n)
{
	json_t		*hs = json_object_get(req, "headers"), *kv;
	size_t		 i;

	json_array_foreach(hs, i, kv) {
		if (strcasecmp(json_string_value(json_array_get(kv, 0)),
		    name) == 0 && n-- == 0)
			return json_string_value(json_array_get(kv, 1));
	}
	return NULL;
}

static void
test_request(void)
{
	struct spam	*s;
	json_t		*req;
	unsigned char	 md[SHA256_DIGEST_LENGTH];
	char		 why[512], hex[2 * SHA256_DIGEST_LENGTH + 1];
	char		 long_value[SPAM_MAX_VALUE + 2];
	const char	*bad_rcpt[] = { "sales@example.com", NULL };
	const char	*many[SPAM_MAX_RCPT + 1];
	double		 sc = UNTOUCHED;
	size_t		 i, before, after;
	enum spam_verdict v;

	if ((s = open_port(port_fake, "/ok/", 15, 6, TIMEOUT_MS)) == NULL) {
		T_OK(0, "spam_open for /ok/ failed");
		return;
	}
	v = spam_check(s, gtube, sizeof(gtube) - 1, "192.0.2.7",
	    "forms@example.com", rcpt2, 2, "www.example.com",
	    "mail.example.com", "f2m-q1", &sc, why, sizeof(why));
	T_STR(spam_verdict_name(v), "ham", "request check: verdict");
	if ((req = fake_last(&before)) == NULL) {
		T_OK(0, "the fake peer logged no request");
		spam_close(s);
		return;
	}
	T_STR(json_string_value(json_object_get(req, "path")), "/ok/checkv2",
	    "request path");
	T_STR(fake_header(req, "IP", 0), "192.0.2.7", "IP header");
	T_STR(fake_header(req, "From", 0), "forms@example.com", "From header");
	T_STR(fake_header(req, "Rcpt", 0), "sales@example.com",
	    "first Rcpt header");
	T_STR(fake_header(req, "Rcpt", 1), "ops@example.com",
	    "second Rcpt header");
	T_OK(fake_header(req, "Rcpt", 2) == NULL, "a third Rcpt header: %s",
	    fake_header(req, "Rcpt", 2));
	T_STR(fake_header(req, "Helo", 0), "www.example.com", "Helo header");
	T_STR(fake_header(req, "Hostname", 0), "mail.example.com",
	    "Hostname header");
	T_STR(fake_header(req, "Queue-Id", 0), "f2m-q1", "Queue-Id header");
	T_STR(fake_header(req, "User-Agent", 0), "form2mail",
	    "User-Agent header");
	T_OK(fake_header(req, "Expect", 0) == NULL, "Expect header sent: %s",
	    fake_header(req, "Expect", 0));
	T_OK(fake_header(req, "Content-Type", 0) == NULL, "Content-Type "
	    "header sent: %s", fake_header(req, "Content-Type", 0));
	T_INT(json_integer_value(json_object_get(req, "body_len")),
	    sizeof(gtube) - 1, "body length");
	SHA256((const unsigned char *)gtube, sizeof(gtube) - 1, md);
	for (i = 0; i < sizeof(md); i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	T_STR(json_string_value(json_object_get(req, "body_sha256")), hex,
	    "body as sent");
	json_decref(req);

	/* NULL values leave their header out. */
	v = spam_check(s, gtube, sizeof(gtube) - 1, NULL, NULL, NULL, 0,
	    NULL, NULL, NULL, NULL, why, sizeof(why));
	T_STR(spam_verdict_name(v), "ham", "no envelope: verdict");
	if ((req = fake_last(&before)) != NULL) {
		T_OK(fake_header(req, "IP", 0) == NULL &&
		    fake_header(req, "From", 0) == NULL &&
		    fake_header(req, "Rcpt", 0) == NULL &&
		    fake_header(req, "Helo", 0) == NULL &&
		    fake_header(req, "Hostname", 0) == NULL &&
		    fake_header(req, "Queue-Id", 0) == NULL,
		    "no envelope: a header was sent anyway");
		json_decref(req);
	}

	v = spam_check(s, gtube, sizeof(gtube) - 1, "2001:db8::7", NULL,
	    NULL, 0, NULL, NULL, NULL, NULL, why, sizeof(why));
	T_STR(spam_verdict_name(v), "ham", "IPv6 client: verdict");
	if ((req = fake_last(&before)) != NULL) {
		T_STR(fake_header(req, "IP", 0), "2001:db8::7",
		    "IPv6 IP header");
		json_decref(req);
	}

	/* Values that could end or fold a header never leave. */
	memset(long_value, 'a', sizeof(long_value) - 1);
	long_value[sizeof(long_value) - 1] = '\0';
	for (i = 0; i < SPAM_MAX_RCPT + 1; i++)
		many[i] = "sales@example.com";
	json_decref(fake_last(&before));
	sc = UNTOUCHED;
#define BAD(what, ip, from, rc, nrc, helo, host, qid) do {		\
	v = spam_check(s, gtube, sizeof(gtube) - 1, ip, from, rc, nrc,	\
	    helo, host, qid, &sc, why, sizeof(why));			\
	T_OK(v == SPAM_UNAVAILABLE, "%s: expected unavailable, got %s",	\
	    what, spam_verdict_name(v));				\
	T_OK(log_safe(why) && why[0] != '\0', "%s: reason [%s]", what, why); \
} while (0)
	BAD("CRLF in IP", "192.0.2.7\r\nX-Evil: 1", "forms@example.com",
	    rcpt1, 1, NULL, NULL, NULL);
	BAD("IP not an address", "192.0.2.7.example", "forms@example.com",
	    rcpt1, 1, NULL, NULL, NULL);
	BAD("IPv4 with a port", "192.0.2.7:8080", "forms@example.com",
	    rcpt1, 1, NULL, NULL, NULL);
	BAD("LF in From", "192.0.2.7", "a@example.com\nX: y", rcpt1, 1,
	    NULL, NULL, NULL);
	BAD("space in Rcpt", "192.0.2.7", "forms@example.com",
	    (const char *const[]){ "a b@example.com" }, 1, NULL, NULL, NULL);
	BAD("NULL recipient", "192.0.2.7", "forms@example.com",
	    (const char *const *)bad_rcpt, 2, NULL, NULL, NULL);
	BAD("recipients NULL", "192.0.2.7", "forms@example.com", NULL, 1,
	    NULL, NULL, NULL);
	BAD("101 recipients", "192.0.2.7", "forms@example.com",
	    (const char *const *)many, SPAM_MAX_RCPT + 1, NULL, NULL, NULL);
	BAD("UTF-8 in Helo", "192.0.2.7", "forms@example.com", rcpt1, 1,
	    "h\xc3\xa9llo.example", NULL, NULL);
	BAD("DEL in Hostname", "192.0.2.7", "forms@example.com", rcpt1, 1,
	    NULL, "mail\x7f.example.com", NULL);
	BAD("empty Queue-Id", "192.0.2.7", "forms@example.com", rcpt1, 1,
	    NULL, NULL, "");
	BAD("Queue-Id over 320", "192.0.2.7", "forms@example.com", rcpt1, 1,
	    NULL, NULL, long_value);
#undef BAD
	json_decref(fake_last(&after));
	T_OK(after == before, "bad values reached the peer: %zu requests "
	    "before, %zu after", before, after);
	T_OK(sc == UNTOUCHED, "bad values: score changed to %.2f", sc);

	v = spam_check(s, gtube, SPAM_MAX_MESSAGE + 1, "192.0.2.7", NULL,
	    NULL, 0, NULL, NULL, NULL, &sc, why, sizeof(why));
	T_STR(spam_verdict_name(v), "unavailable", "message over the limit");
	json_decref(fake_last(&before));
	T_INT(before, after, "message over the limit reached the peer");
	v = spam_check(NULL, gtube, 1, NULL, NULL, NULL, 0, NULL, NULL, NULL,
	    &sc, why, sizeof(why));
	T_STR(why, "not configured", "NULL handle: reason");
	T_STR(spam_verdict_name(v), "unavailable", "NULL handle");
	spam_close(s);
}

static void
test_hostile(void)
{
	struct spam	*s;
	char		 why[512], small[40];
	double		 sc;
	enum spam_verdict v;

	if ((s = open_port(port_fake, "/evil", 15, 6, TIMEOUT_MS)) == NULL) {
		T_OK(0, "spam_open for /evil failed");
		return;
	}
	v = check(s, "hostile symbol names", gtube, sizeof(gtube) - 1, &sc,
	    why, sizeof(why), NULL);
	T_STR(spam_verdict_name(v), "ham", "hostile symbols: verdict");
	T_OK(log_safe(why), "hostile symbols: reason not log-safe: [%s]",
	    why);
	T_OK(strstr(why, "symbols CTRL\\x01\\x1b[31m\\x0d\\x0aX-Injected: "
	    "yes(9.00) QUOTE\\x22\\x5cBS(8.00) LONG_AAA") != NULL,
	    "hostile symbols: expected the 5 highest, escaped, got [%s]",
	    why);
	T_OK(strstr(why, "UTF8_\\xc3\\xa9\\xe2\\x80\\xa8(6.00) ZERO(5.00)") !=
	    NULL && strstr(why, "SYM_") == NULL, "hostile symbols: expected "
	    "exactly the top 5, got [%s]", why);
	T_OK(strlen(why) < sizeof(why), "hostile symbols: reason too long");

	v = check(s, "reason cut to 40", gtube, sizeof(gtube) - 1, &sc,
	    small, sizeof(small), NULL);
	T_STR(spam_verdict_name(v), "ham", "cut reason: verdict");
	T_INT(strlen(small), sizeof(small) - 1, "cut reason: length");
	T_OK(strcmp(small + sizeof(small) - 4, "...") == 0, "cut reason: "
	    "expected to end in \"...\", got [%s]", small);
	v = spam_check(s, gtube, sizeof(gtube) - 1, "192.0.2.7", NULL, NULL, 0,
	    NULL, NULL, NULL, NULL, small, 1);
	T_STR(small, "", "reason of size 1");
	T_STR(spam_verdict_name(v), "ham", "reason of size 1: verdict");
	v = spam_check(s, gtube, sizeof(gtube) - 1, "192.0.2.7", NULL, NULL, 0,
	    NULL, NULL, NULL, NULL, NULL, 0);
	T_STR(spam_verdict_name(v), "ham", "no reason buffer: verdict");
	spam_close(s);
}

static void
test_stalls(void)
{
	struct buf	 b = BUF_INIT;
	struct spam	*s;
	char		 why[512];
	double		 sc;
	long long	 ms;
	enum spam_verdict v;

	clean_message(&b, "", 0);
	printf("stalled and closed peers:\n");
	if ((s = open_port(port_stall, "", 15, 6, SHORT_MS)) != NULL) {
		v = check(s, "accepts, never answers", b.data, b.len, &sc, why,
		    sizeof(why), &ms);
		T_STR(spam_verdict_name(v), "unavailable", "stalled: verdict");
		T_OK(ms >= SHORT_MS - 50 && ms < SHORT_MS + 2000, "stalled: "
		    "expected about %d ms, took %lld ms", SHORT_MS, ms);
		T_OK(strstr(why, "no answer within 1000 ms") != NULL,
		    "stalled: reason [%s]", why);
		spam_close(s);
	} else
		T_OK(0, "spam_open for the stalled peer failed");

	if ((s = open_port(port_fake, "/slow", 15, 6, SHORT_MS)) != NULL) {
		v = check(s, "drips its answer", b.data, b.len, &sc, why,
		    sizeof(why), &ms);
		T_STR(spam_verdict_name(v), "unavailable", "dripping: verdict");
		T_OK(ms >= SHORT_MS - 50 && ms < SHORT_MS + 2000, "dripping: "
		    "expected about %d ms, took %lld ms", SHORT_MS, ms);
		spam_close(s);
	} else
		T_OK(0, "spam_open for the slow peer failed");

	if ((s = open_port(port_closed, "", 15, 6, TIMEOUT_MS)) != NULL) {
		v = check(s, "nobody listens", b.data, b.len, &sc, why,
		    sizeof(why), &ms);
		T_STR(spam_verdict_name(v), "unavailable", "closed: verdict");
		T_OK(ms < 1000, "closed port: expected an answer within 1 s, "
		    "took %lld ms", ms);
		T_OK(strstr(why, "(code 7)") != NULL, "closed port: reason "
		    "[%s]", why);
		spam_close(s);
	} else
		T_OK(0, "spam_open for the closed port failed");
	buf_free(&b);
}

int
main(void)
{
	long long	 t0 = now_ms(), t1;
	int		 rc;

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_open();
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if ((rc = ctl_start()) != 0) {
		ctl_stop();
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		return rc == SKIP ? SKIP : 1;
	}
	t1 = now_ms();
	test_rspamd();
	test_fake();
	test_request();
	test_hostile();
	test_stalls();
	ctl_stop();
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	printf("test_spam: %lld ms in all, %lld ms of them starting rspamd\n",
	    now_ms() - t0, t1 - t0);
	T_DONE();
}
