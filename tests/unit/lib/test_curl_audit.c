/*
 * test_curl_audit: the libcurl options of every call site that makes an
 * easy handle, recorded and compared with tests/data/curl_audit.txt (the
 * table taken before lib/curlx; a change to it is a change of what the
 * clients do, and its commit says which and why).
 *
 * How: this program is linked with -Wl,--wrap=curl_easy_setopt and
 * --wrap=curl_easy_init (CMakeLists.txt), so every call that libf2m.a
 * makes lands in __wrap_curl_easy_setopt() below, which records
 * "OPTION=value" per handle and passes the call on unchanged.  Nothing is
 * compiled into the library for it.  Values: longs and curl_off_t as
 * numbers, strings quoted (the test's directory written $DIR, the
 * version $VERSION), string lists as [a|b], callbacks "fn", data pointers
 * "ptr", NULL "NULL", blobs by length and flags.
 *
 * Sites: smtp_open (implicit TLS + ca_file + AUTH, STARTTLS, clear text
 * to loopback), captcha_open (https + ca_file, http to loopback),
 * spam_open (https, http to loopback), and in a child (it drops
 * privileges) doctor_run_opts() against a local unbound (local-data):
 * doctor_smtp, then hop_fetch for one recipient domain that publishes
 * MTA-STS.  No site reaches a server: the ports are closed.
 *
 * Each site's options, sorted (an option set twice is listed twice), are
 * printed; F2M_AUDIT_UPDATE=1 rewrites the table instead of comparing.
 * Run from the repository root.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "conf/conf.h"
#include "deliver/smtp.h"
#include "gate/captcha.h"
#include "gate/spam.h"
#include "lib/buf.h"
#include "ops/doctor.h"
#include "t.h"

#define TABLE		"tests/data/curl_audit.txt"
#define UNBOUND		"/usr/sbin/unbound"
#define MAX_REC		512
#define MAX_HANDLES	16

CURLcode	 __real_curl_easy_setopt(CURL *, CURLoption, ...);
CURLcode	 __wrap_curl_easy_setopt(CURL *, CURLoption, ...);
CURL		*__real_curl_easy_init(void);
CURL		*__wrap_curl_easy_init(void);

static char	 dir[] = "/tmp/test_curl_audit.XXXXXX";

/* One record: the handle's serial (curl_easy_init order) and the line. */
static struct {
	int	 serial;
	char	*line;
}		 rec[MAX_REC];
static size_t	 nrec;
static CURL	*handle[MAX_HANDLES];
static int	 nhandle;

static int	 put_failed;

static void put(struct buf *, const char *, ...) F2M_PRINTF(2, 3);

/* buf_printf(); out of memory only shortens the record. */
static void
put(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	if (buf_vprintf(b, fmt, ap) == -1)
		put_failed++;
	va_end(ap);
}

CURL *
__wrap_curl_easy_init(void)
{
	CURL	*h = __real_curl_easy_init();

	if (h != NULL && nhandle < MAX_HANDLES)
		handle[nhandle++] = h;
	return h;
}

/* The serial of h: its latest curl_easy_init() (a freed one is reused). */
static int
serial_of(CURL *h)
{
	int	 i;

	for (i = nhandle - 1; i >= 0; i--)
		if (handle[i] == h)
			return i;
	return -1;
}

/* s with the test's directory written $DIR, the version $VERSION. */
static void
put_str(struct buf *b, const char *s)
{
	const char	*v = strstr(s, F2M_VERSION);
	size_t		 n = strlen(dir);

	if (strncmp(s, dir, n) == 0)
		put(b, "\"$DIR%s\"", s + n);
	else if (v != NULL)
		put(b, "\"%.*s$VERSION%s\"", (int)(v - s), s,
		    v + strlen(F2M_VERSION));
	else
		put(b, "\"%s\"", s);
}

static void
record(CURL *h, CURLoption opt, va_list ap)
{
	const struct curl_easyoption	*o = curl_easy_option_by_id(opt);
	const struct curl_slist		*l;
	const struct curl_blob		*blob;
	struct buf			 b = BUF_INIT;
	void				*p;

	put(&b, "%s=", o != NULL ? o->name : "?");
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		put(&b, "%ld", va_arg(ap, long));
	else if (opt < CURLOPTTYPE_FUNCTIONPOINT) {
		p = va_arg(ap, void *);
		if (p == NULL)
			put(&b, "NULL");
		else if (o != NULL && o->type == CURLOT_STRING)
			put_str(&b, p);
		else if (o != NULL && o->type == CURLOT_SLIST) {
			put(&b, "[");
			for (l = p; l != NULL; l = l->next)
				put(&b, "%s%s", l == p ? "" : "|",
				    l->data);
			put(&b, "]");
		} else
			put(&b, "ptr");
	} else if (opt < CURLOPTTYPE_OFF_T)
		put(&b, "%s", va_arg(ap, void (*)(void)) != NULL ?
		    "fn" : "NULL");
	else if (opt < CURLOPTTYPE_BLOB)
		put(&b, "%lld", (long long)va_arg(ap, curl_off_t));
	else {
		blob = va_arg(ap, const struct curl_blob *);
		if (blob == NULL)
			put(&b, "NULL");
		else
			put(&b, "blob(%zu octets, flags %u)",
			    blob->len, blob->flags);
	}
	if (nrec < MAX_REC && b.data != NULL) {
		rec[nrec].serial = serial_of(h);
		rec[nrec++].line = b.data;
	} else
		buf_free(&b);
}

CURLcode
__wrap_curl_easy_setopt(CURL *h, CURLoption opt, ...)
{
	va_list		 ap, aq;
	CURLcode	 rc;

	va_start(ap, opt);
	va_copy(aq, ap);
	record(h, opt, aq);
	va_end(aq);
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		rc = __real_curl_easy_setopt(h, opt, va_arg(ap, long));
	else if (opt < CURLOPTTYPE_FUNCTIONPOINT)
		rc = __real_curl_easy_setopt(h, opt, va_arg(ap, void *));
	else if (opt < CURLOPTTYPE_OFF_T)
		rc = __real_curl_easy_setopt(h, opt,
		    va_arg(ap, void (*)(void)));
	else if (opt < CURLOPTTYPE_BLOB)
		rc = __real_curl_easy_setopt(h, opt, va_arg(ap, curl_off_t));
	else
		rc = __real_curl_easy_setopt(h, opt, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

static int
cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Appends "[name]" and the sorted records of handle serial to out, then
 * forgets every record and handle.
 */
static void
take(struct buf *out, const char *name, int serial)
{
	char	*lines[MAX_REC];
	size_t	 i, n = 0;

	for (i = 0; i < nrec; i++)
		if (rec[i].serial == serial)
			lines[n++] = rec[i].line;
	qsort(lines, n, sizeof(lines[0]), cmp_line);
	put(out, "[%s]\n", name);
	for (i = 0; i < n; i++)
		put(out, "%s\n", lines[i]);
	put(out, "\n");
}

static void
forget(void)
{
	size_t	 i;

	for (i = 0; i < nrec; i++)
		free(rec[i].line);
	nrec = 0;
	nhandle = 0;
}

static void
write_file(const char *name, const char *text, mode_t mode)
{
	char	 p[512];
	int	 fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode)) == -1 ||
	    write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		perror(p);
	if (fd != -1)
		close(fd);
}

static void
audit_smtp(struct buf *out)
{
	struct conf_smtp	 c;
	struct smtp		*s;
	char			 ca[600], u1[] = "smtps://127.0.0.1:1";
	char			 u2[] = "smtp://127.0.0.1:1";
	char			 user[] = "forms@example.test";

	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	memset(&c, 0, sizeof(c));
	c.url = u1;
	c.tls = CONF_SMTP_IMPLICIT;
	c.username = user;
	c.ca_file = ca;
	c.timeout = 7;
	T_INT(smtp_open(&c, "pw", "mail.example.test", &s), 0, "smtp implicit");
	take(out, "smtp_open implicit TLS, ca_file, AUTH", 0);
	smtp_close(s);
	forget();

	memset(&c, 0, sizeof(c));
	c.url = u2;
	c.tls = CONF_SMTP_STARTTLS;
	T_INT(smtp_open(&c, NULL, "mail.example.test", &s), 0, "smtp starttls");
	take(out, "smtp_open STARTTLS, system CAs, no AUTH", 0);
	smtp_close(s);
	forget();

	memset(&c, 0, sizeof(c));
	c.url = u2;
	c.tls = CONF_SMTP_PLAIN;
	c.insecure_plaintext = 1;
	c.timeout = 3;
	T_INT(smtp_open(&c, NULL, "mail.example.test", &s), 0, "smtp plain");
	take(out, "smtp_open clear text to loopback", 0);
	smtp_close(s);
	forget();
}

static void
audit_captcha(struct buf *out)
{
	struct captcha_conf	 c;
	struct captcha		*cp;
	char			 err[200], ca[600];

	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	memset(&c, 0, sizeof(c));
	c.kind = CAPTCHA_TURNSTILE;
	c.secret = "s3cret";
	c.ca_file = ca;
	c.timeout_ms = 1500;
	T_INT(captcha_open(&c, &cp, err, sizeof(err)), 0, err);
	take(out, "captcha_open https (provider URL), ca_file", 0);
	captcha_close(cp);
	forget();

	memset(&c, 0, sizeof(c));
	c.kind = CAPTCHA_HCAPTCHA;
	c.secret = "s3cret";
	c.verify_url = "http://127.0.0.1:1/siteverify";
	T_INT(captcha_open(&c, &cp, err, sizeof(err)), 0, err);
	take(out, "captcha_open http to loopback, default timeout", 0);
	captcha_close(cp);
	forget();
}

static void
audit_spam(struct buf *out)
{
	struct spam_conf	 c;
	struct spam		*s;

	memset(&c, 0, sizeof(c));
	c.url = "https://rspamd.example.test/base/";
	c.reject_score = 15;
	c.hold_score = 6;
	c.timeout_ms = 2500;
	T_OK((s = spam_open(&c)) != NULL, "spam https");
	take(out, "spam_open https", 0);
	spam_close(s);
	forget();

	c.url = "http://127.0.0.1:1";
	T_OK((s = spam_open(&c)) != NULL, "spam http");
	take(out, "spam_open http to loopback", 0);
	spam_close(s);
	forget();
}

static int
free_port(void)
{
	struct sockaddr_in	 a;
	socklen_t		 len = sizeof(a);
	int			 fd, port = -1;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static int
tcp_up(int port)
{
	struct sockaddr_in	 a;
	int			 fd, ok;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return 0;
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

/* unbound on 127.0.0.1:port with the zone "test." as local-data. */
static pid_t
unbound_start(int port)
{
	char	 text[2048], conf[600];
	pid_t	 pid;
	int	 i;

	snprintf(text, sizeof(text), "server:\n  interface: 127.0.0.1\n"
	    "  port: %d\n  do-ip6: no\n  do-daemonize: no\n  username: \"\"\n"
	    "  chroot: \"\"\n  directory: \"%s\"\n  pidfile: \"\"\n"
	    "  use-syslog: no\n  logfile: \"%s/unbound.log\"\n"
	    "  module-config: \"iterator\"\n"
	    "  access-control: 127.0.0.0/8 allow\n"
	    "  local-zone: \"test.\" static\n"
	    "  local-data: '_mta-sts.sts.test. 60 IN TXT \"v=STSv1; id=1;\"'\n"
	    "  local-data: 'mta-sts.sts.test. 60 IN A 127.0.0.1'\n"
	    "remote-control:\n  control-enable: no\n", port, dir, dir);
	write_file("unbound.conf", text, 0644);
	snprintf(conf, sizeof(conf), "%s/unbound.conf", dir);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		char out[600];
		int fd;

		snprintf(out, sizeof(out), "%s/unbound.out", dir);
		if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644)) !=
		    -1) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(UNBOUND, "unbound", "-d", "-c", conf, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 300 && !tcp_up(port); i++)
		usleep(100000);
	if (i == 300) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return pid;
}

static struct conf *
doctor_config(void)
{
	char		 text[4096], path[512], cwd[512], cmd[700];
	struct conf	*cf = NULL;

	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	snprintf(cmd, sizeof(cmd), "openssl genpkey -algorithm ED25519 "
	    "-out %s/dkim.pem 2>/dev/null && chmod 600 %s/dkim.pem", dir, dir);
	if (system(cmd) != 0)
		return NULL;
	write_file("pw", "pw\n", 0600);
	snprintf(text, sizeof(text),
	    "{ \"listen\": \"unix:%s/sock\", \"spool_dir\": \"%s/spool\",\n"
	    "  \"user\": \"nobody\",\n"
	    "  \"state_dir\": \"%s/state\", \"templates_dir\": \"%s/templates\",\n"
	    "  \"sender\": { \"from\": \"Forms <forms@example.test>\",\n"
	    "              \"hostname\": \"mail.example.test\" },\n"
	    "  \"smtp\": { \"url\": \"smtps://127.0.0.1:1\",\n"
	    "            \"username\": \"forms@example.test\",\n"
	    "            \"password_file\": \"%s/pw\",\n"
	    "            \"ca_file\": \"%s/ca.pem\", \"timeout\": 4 },\n"
	    "  \"dkim\": [ { \"domain\": \"example.test\", \"selector\": \"s1\",\n"
	    "              \"algorithm\": \"ed25519-sha256\",\n"
	    "              \"key_file\": \"%s/dkim.pem\" } ],\n"
	    "  \"forms\": { \"contact\": {\n"
	    "    \"recipients\": [\"a@sts.test\"],\n"
	    "    \"fields\": { \"name\": {} } } } }\n",
	    dir, dir, dir, cwd, dir, dir, dir);
	write_file("form2mail.json", text, 0644);
	snprintf(path, sizeof(path), "%s/form2mail.json", dir);
	if (conf_load(path, &cf) != 0)
		return NULL;
	return cf;
}

/*
 * doctor_run_opts() in a child (it drops privileges when root); the
 * child's table comes back through a pipe.
 */
static void
audit_doctor(struct buf *out)
{
	struct doctor_opts	 o;
	struct conf		*cf;
	struct buf		 t = BUF_INIT;
	char			 res[64], ca[600], chunk[4096];
	pid_t			 ub, pid;
	ssize_t			 n;
	int			 port, p[2], st;
	FILE			*devnull;

	if (access(UNBOUND, X_OK) == -1) {
		T_SKIP("doctor_smtp, hop_fetch", "no %s", UNBOUND);
		return;
	}
	if ((cf = doctor_config()) == NULL) {
		T_OK(0, "doctor config");
		return;
	}
	if ((port = free_port()) == -1 || (ub = unbound_start(port)) == -1) {
		T_OK(0, "unbound did not start (%s/unbound.log)", dir);
		conf_free(cf);
		return;
	}
	snprintf(res, sizeof(res), "127.0.0.1:%d", port);
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	memset(&o, 0, sizeof(o));
	o.resolver = res;
	o.trust_anchor = "none";
	o.sts_ca = ca;
	o.sts_port = 1;
	T_INT(pipe(p), 0, "pipe");
	if ((pid = fork()) == 0) {
		close(p[0]);
		devnull = fopen("/dev/null", "w");
		(void)doctor_run_opts(cf, &o, devnull);
		take(&t, "doctor_smtp (doctor_run_opts)", 0);
		take(&t, "hop_fetch (doctor_run_opts, --sts-ca)", 1);
		if (t.data != NULL && write(p[1], t.data, t.len) !=
		    (ssize_t)t.len)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	while ((n = read(p[0], chunk, sizeof(chunk))) > 0)
		if (buf_add(out, chunk, (size_t)n) == -1)
			break;
	close(p[0]);
	T_INT(waitpid(pid, &st, 0), pid, "doctor child");
	T_OK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "doctor child exit %d", st);
	kill(ub, SIGTERM);
	waitpid(ub, NULL, 0);
	conf_free(cf);
}

/* The section of text that starts with head ("[name]\n"), or NULL. */
static const char *
section(const char *text, const char *head, size_t *len)
{
	const char	*p = text, *e;

	while (*p != '\0') {
		e = strstr(p, "\n\n");
		*len = e != NULL ? (size_t)(e - p) + 1 : strlen(p);
		if (strncmp(p, head, strlen(head)) == 0)
			return p;
		if (e == NULL)
			break;
		p = e + 2;
	}
	return NULL;
}

/* Per section of a, the lines b's section lacks (or the whole section). */
static void
show_missing(const char *a, const char *b, const char *what)
{
	const char	*l, *e, *sa, *sb;
	char		 head[256], line[1024];
	size_t		 la, lb;

	for (l = a; *l != '\0'; l = e + 1) {
		if ((e = strchr(l, '\n')) == NULL)
			break;
		if (*l != '[')
			continue;
		snprintf(head, sizeof(head), "%.*s\n", (int)(e - l), l);
		sa = section(a, head, &la);
		if ((sb = section(b, head, &lb)) == NULL) {
			fprintf(stderr, "%s: %s", what, head);
			continue;
		}
		for (l = sa + strlen(head); l < sa + la; l = e + 1) {
			e = strchr(l, '\n');
			snprintf(line, sizeof(line), "\n%.*s\n", (int)(e - l), l);
			if (memmem(sb + strlen(head) - 1, lb - strlen(head) + 1,
			    line, strlen(line)) == NULL)
				fprintf(stderr, "%s: %.*s %s", what,
				    (int)strlen(head) - 1, head, line + 1);
		}
		e = sa + la - 1;
	}
}

int
main(void)
{
	struct buf	 out = BUF_INIT;
	char		*want, cmd[700];
	FILE		*f;
	long		 n;

	if (mkdtemp(dir) == NULL)
		return 1;
	write_file("ca.pem", "not read before a connection\n", 0644);
	audit_smtp(&out);
	audit_captcha(&out);
	audit_spam(&out);
	audit_doctor(&out);
	fputs(out.data != NULL ? out.data : "", stdout);

	if (getenv("F2M_AUDIT_UPDATE") != NULL && t_failed == 0) {
		T_OK((f = fopen(TABLE, "w")) != NULL, "%s", TABLE);
		if (f != NULL) {
			fputs(out.data, f);
			fclose(f);
		}
	} else if ((f = fopen(TABLE, "r")) == NULL)
		T_OK(0, "cannot read %s", TABLE);
	else {
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		rewind(f);
		want = calloc(1, (size_t)n + 1);
		T_OK(want != NULL && fread(want, 1, (size_t)n, f) == (size_t)n,
		    "read %s", TABLE);
		fclose(f);
		if (want != NULL && strcmp(want, out.data) != 0) {
			show_missing(want, out.data, "expected, not set");
			show_missing(out.data, want, "set, not expected");
		}
		T_OK(want != NULL && strcmp(want, out.data) == 0,
		    "the options differ from %s (above)", TABLE);
		free(want);
	}
	buf_free(&out);
	forget();
	snprintf(cmd, sizeof(cmd), t_failed ? "cat %s/unbound.out" :
	    "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "%s failed\n", cmd);
	T_DONE();
}
