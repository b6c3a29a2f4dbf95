/*
 * test_worker: svc/worker.c without nginx.  worker_shared_open in its two
 * modes (serve opens only what the config needs and fails on what it
 * cannot open; CGI always opens the table and leaves out what fails),
 * worker_env_open's borrowing and clients, and worker_run: a real worker
 * process on a unix socket, asked over FastCGI, stopped by SIGTERM.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "http/request.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "svc/privsep.h"
#include "svc/worker.h"
#include "t.h"

static char	 dir[] = "/tmp/test_worker.XXXXXX";
static char	 tpl[PATH_MAX + 16];

/* The config: common keys, then extra top-level keys and the form's. */
static struct conf *
load(const char *name, const char *top, const char *form)
{
	char		 path[PATH_MAX], text[8192];
	struct conf	*cf;
	FILE		*f;

	snprintf(text, sizeof(text),
	    "{\n"
	    "  \"listen\": \"unix:%s/sock\",\n"
	    "  \"spool_dir\": \"%s/spool\",\n"
	    "  \"user\": \"nobody\",\n"
	    "  \"state_dir\": \"%s/state-%s\",\n"
	    "  \"templates_dir\": \"%s\",\n"
	    "  \"log\": \"stderr\",\n"
	    "  \"sender\": { \"from\": \"Forms <forms@example.test>\",\n"
	    "              \"hostname\": \"mail.example.test\" },\n"
	    "  \"dkim\": [ { \"domain\": \"example.test\", \"selector\": \"s1\",\n"
	    "              \"key_file\": \"%s/key\" } ],\n"
	    "  \"smtp\": { \"url\": \"smtps://localhost:4650\",\n"
	    "            \"username\": \"u\", \"password_file\": \"%s/pw\" },\n"
	    "  %s\n"
	    "  \"forms\": { \"contact\": {\n"
	    "      \"recipients\": [\"sales@example.test\"],\n"
	    "      \"subject\": \"Contact\",\n"
	    "      %s\n"
	    "      \"fields\": { \"message\": { \"required\": true } } } }\n"
	    "}\n", dir, dir, dir, name, tpl, dir, dir, top, form);
	snprintf(path, sizeof(path), "%s/%s.json", dir, name);
	if ((f = fopen(path, "w")) == NULL || fputs(text, f) == EOF ||
	    fclose(f) == EOF)
		abort();
	if (conf_load(path, &cf) != 0) {
		fprintf(stderr, "%s does not load:\n%s", path, text);
		exit(1);
	}
	return cf;
}

static void
test_shared(void)
{
	struct worker_shared	 sh;
	struct conf		*bare, *rate, *alt, *noalt, *redis;

	bare = load("bare", "\"duplicate_window\": 0,", "");
	rate = load("rate", "\"duplicate_window\": 0, \"throttle\": "
	    "{ \"per_ip\": \"5/1h\" },", "");
	alt = load("alt", "\"duplicate_window\": 0,",
	    "\"challenge\": { \"type\": \"altcha\" },");
	/* An ALTCHA key file that cannot be created (its directory is a
	 * file): serve refuses to start, CGI serves without ALTCHA. */
	noalt = load("noalt", "\"duplicate_window\": 0, \"altcha_key_file\": "
	    "\"/dev/null/altcha.key\",", "\"challenge\": { \"type\": "
	    "\"altcha\" },");
	/* Nobody listens on port 1: connects lazily, the start goes on. */
	redis = load("redis", "\"duplicate_window\": 0, \"throttle\": "
	    "{ \"per_ip\": \"5/1h\", \"backend\": \"redis\", "
	    "\"redis\": \"redis://127.0.0.1:1\" },",
	    "");
	if (privsep_prepare_dirs(bare) == -1 ||
	    privsep_prepare_dirs(rate) == -1 ||
	    privsep_prepare_dirs(alt) == -1 ||
	    privsep_prepare_dirs(noalt) == -1)
		abort();

	T_INT(worker_shared_open(&sh, bare, WORKER_SERVE), 0, "serve, bare");
	T_OK(sh.thr == NULL && !sh.have_key && sh.stats == NULL,
	    "serve opens nothing the config does not need");
	worker_shared_close(&sh);
	T_INT(worker_shared_open(&sh, bare, WORKER_CGI), 0, "cgi, bare");
	T_OK(sh.thr != NULL, "CGI always opens the table");
	T_OK(sh.have_key, "CGI loads (creates) the key when it can");
	worker_shared_close(&sh);
	T_OK(sh.thr == NULL && !sh.have_key, "closed");

	T_INT(worker_shared_open(&sh, rate, WORKER_SERVE), 0, "serve, rate");
	T_OK(sh.thr != NULL && !sh.have_key, "a rate needs the table only");
	worker_shared_close(&sh);

	T_INT(worker_shared_open(&sh, alt, WORKER_SERVE), 0, "serve, ALTCHA");
	T_OK(sh.thr != NULL && sh.have_key, "ALTCHA needs table and key");
	{
		unsigned char	 zero[CHALLENGE_KEY_LEN] = { 0 };

		T_OK(memcmp(sh.altcha_key, zero, sizeof(zero)) != 0,
		    "a key was read");
		worker_shared_close(&sh);
		T_OK(memcmp(sh.altcha_key, zero, sizeof(zero)) == 0,
		    "close wipes the key");
	}

	T_INT(worker_shared_open(&sh, noalt, WORKER_SERVE), -1,
	    "serve: an unreadable ALTCHA key stops the start");
	T_OK(sh.thr == NULL && !sh.have_key, "nothing left open");
	T_INT(worker_shared_open(&sh, noalt, WORKER_CGI), 0,
	    "CGI: an unreadable ALTCHA key is left out");
	T_OK(sh.thr != NULL && !sh.have_key, "CGI: table, no key");
	worker_shared_close(&sh);

	T_INT(worker_shared_open(&sh, redis, WORKER_SERVE), 0,
	    "serve: a Redis that is down does not stop the start");
	T_OK(sh.thr != NULL, "the Redis handle");
	worker_shared_close(&sh);
	conf_free(bare);
	conf_free(rate);
	conf_free(alt);
	conf_free(noalt);
	conf_free(redis);
}

static void
test_env(void)
{
	struct worker_shared	 sh;
	struct request_ctx	 ctx;
	struct conf		*alt, *spam;
	char			 err[256];

	alt = load("alt", "\"duplicate_window\": 0,",
	    "\"challenge\": { \"type\": \"altcha\" },");
	spam = load("spam", "\"duplicate_window\": 0, \"spam\": "
	    "{ \"rspamd_url\": \"http://127.0.0.1:1/checkv2\" },", "");

	T_INT(worker_env_open(&ctx, alt, NULL, err, sizeof(err)), 0,
	    "env without shared state");
	T_OK(ctx.cf == alt && ctx.throttle == NULL && ctx.altcha_key == NULL &&
	    ctx.stats == NULL && ctx.spam == NULL && ctx.captcha != NULL,
	    "nothing borrowed, no rspamd client");
	worker_env_close(&ctx);
	T_OK(ctx.captcha == NULL && ctx.spam == NULL, "env closed");

	T_INT(worker_shared_open(&sh, alt, WORKER_SERVE), 0, "shared");
	sh.stats = (struct stats *)&sh;	/* only borrowed, never used */
	T_INT(worker_env_open(&ctx, alt, &sh, err, sizeof(err)), 0, "env");
	T_OK(ctx.throttle == sh.thr && ctx.altcha_key == sh.altcha_key &&
	    ctx.stats == sh.stats, "borrows table, key and counters");
	worker_env_close(&ctx);
	sh.have_key = 0;
	T_INT(worker_env_open(&ctx, alt, &sh, err, sizeof(err)), 0,
	    "env, no key");
	T_OK(ctx.altcha_key == NULL, "no key: NULL, not a zero key");
	worker_env_close(&ctx);
	sh.stats = NULL;
	worker_shared_close(&sh);

	T_INT(worker_env_open(&ctx, spam, NULL, err, sizeof(err)), 0,
	    "env with rspamd");
	T_OK(ctx.spam != NULL, "the rspamd client");
	worker_env_close(&ctx);
	T_OK(ctx.spam == NULL, "rspamd client closed");
	conf_free(alt);
	conf_free(spam);
}

/*
 * A captcha form's cap (issue 16, F12): its slot file in state_dir.  In
 * serve mode a state_dir the worker cannot use stops it; under CGI the
 * client goes without the cap.
 */
static void
test_env_captcha(void)
{
	struct worker_shared	 sh;
	struct request_ctx	 ctx;
	struct conf		*cf;
	char			 form[PATH_MAX + 256], secret[PATH_MAX];
	char			 sd[PATH_MAX + 16];
	char			 err[256];
	FILE			*f;

	snprintf(secret, sizeof(secret), "%s/captcha-secret", dir);
	if ((f = fopen(secret, "w")) == NULL || fputs("s3cret\n", f) == EOF ||
	    fclose(f) == EOF || chmod(secret, 0600) == -1)
		abort();
	snprintf(form, sizeof(form), "\"captcha\": { \"provider\": "
	    "\"turnstile\", \"secret_file\": \"%s\", \"verify_url\": "
	    "\"http://127.0.0.1:1/v\" },", secret);
	cf = load("cap", "\"duplicate_window\": 0,", form);
	snprintf(sd, sizeof(sd), "%s/state-cap", dir);
	rmdir(sd);
	T_INT(worker_env_open(&ctx, cf, NULL, err, sizeof(err)), -1,
	    "serve: no state_dir for the slot file");
	T_OK(strstr(err, "state-cap/captcha-") != NULL, "names the slot "
	    "file: [%s]", err);
	memset(&sh, 0, sizeof(sh));
	sh.cgi = 1;
	T_INT(worker_env_open(&ctx, cf, &sh, err, sizeof(err)), 0,
	    "CGI: no cap, still a client");
	T_OK(ctx.captcha[0] != NULL, "CGI: the captcha client");
	worker_env_close(&ctx);
	T_OK(mkdir(sd, 0700) == 0, "mkdir %s", sd);
	T_INT(worker_env_open(&ctx, cf, NULL, err, sizeof(err)), 0, err);
	T_OK(ctx.captcha[0] != NULL, "serve: the captcha client");
	worker_env_close(&ctx);
	conf_free(cf);
}

/* ---- a worker over FastCGI ---------------------------------------- */

static volatile sig_atomic_t	 stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void
record(struct buf *b, int type, const void *data, size_t len)
{
	unsigned char	 h[8] = { 1, (unsigned char)type, 0, 1,
	    (unsigned char)(len >> 8), (unsigned char)len, 0, 0 };

	if (buf_add(b, h, 8) == -1 || (len && buf_add(b, data, len) == -1))
		abort();
}

static void
param(struct buf *p, const char *name, const char *value)
{
	unsigned char	 l[2] = { (unsigned char)strlen(name),
	    (unsigned char)strlen(value) };

	if (buf_add(p, l, 2) == -1 || buf_adds(p, name) == -1 ||
	    buf_adds(p, value) == -1)
		abort();
}

/* One GET over a fresh connection; the STDOUT records' content in out. */
static int
ask(const char *sock, const char *uri, struct buf *out)
{
	static const unsigned char begin[8] = { 0, 1, 0, 0, 0, 0, 0, 0 };
	struct sockaddr_un	 sa;
	struct buf		 req = BUF_INIT, p = BUF_INIT;
	unsigned char		 h[8], body[65536 + 256];
	size_t			 len;
	int			 fd, ended = 0;

	param(&p, "REQUEST_METHOD", "GET");
	param(&p, "REQUEST_URI", uri);
	param(&p, "DOCUMENT_URI", uri);
	param(&p, "REMOTE_ADDR", "192.0.2.1");
	param(&p, "HTTPS", "on");
	param(&p, "HTTP_ACCEPT", "application/json");
	record(&req, 1, begin, sizeof(begin));
	record(&req, 4, p.data, p.len);
	record(&req, 4, NULL, 0);
	record(&req, 5, NULL, 0);
	buf_free(&p);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    write(fd, req.data, req.len) != (ssize_t)req.len) {
		buf_free(&req);
		return -1;
	}
	buf_free(&req);
	while (!ended) {
		if (recv(fd, h, 8, MSG_WAITALL) != 8)
			break;
		len = ((size_t)h[4] << 8 | h[5]) + h[6];
		if (len && recv(fd, body, len, MSG_WAITALL) != (ssize_t)len)
			break;
		if (h[1] == 6 && buf_add(out, body, len - h[6]) == -1)
			abort();
		ended = h[1] == 3;
	}
	close(fd);
	return ended ? 0 : -1;
}

static void
test_run(void)
{
	struct sockaddr_un	 sa;
	struct buf		 out = BUF_INIT;
	struct worker_shared	 sh;
	struct sigaction	 act;
	struct conf		*cf;
	char			 sock[sizeof(((struct sockaddr_un *)0)->sun_path) - 16];
	pid_t			 pid;
	int			 lfd, status = 0;

	cf = load("run", "\"duplicate_window\": 0,", "");
	if (privsep_prepare_dirs(cf) == -1 ||
	    worker_shared_open(&sh, cf, WORKER_SERVE) == -1)
		abort();
	if ((size_t)snprintf(sock, sizeof(sock), "%s/fcgi.sock", dir) >=
	    sizeof(sock))
		abort();
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if ((lfd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    chmod(sock, 0666) == -1 || listen(lfd, 8) == -1 ||
	    fcntl(lfd, F_SETFL, O_NONBLOCK) == -1)
		abort();
	if ((pid = fork()) == 0) {
		memset(&act, 0, sizeof(act));
		act.sa_handler = on_term;	/* no SA_RESTART, as serve */
		sigaction(SIGTERM, &act, NULL);
		worker_run(cf, &sh, lfd, &stop);
	}
	close(lfd);
	T_INT(ask(sock, "/f/nosuch", &out), 0, "an answer over FastCGI");
	T_OK(out.len > 12 && memcmp(out.data, "Status: 404", 11) == 0,
	    "unknown form: 404: %.*s", (int)(out.len > 200 ? 200 : out.len),
	    out.data ? out.data : "");
	T_OK(out.data && memmem(out.data, out.len, "unknown_form", 12) !=
	    NULL, "the JSON error word");
	out.len = 0;
	T_INT(ask(sock, "/f/contact", &out), 0, "a second request");
	T_OK(out.len > 12 && memcmp(out.data, "Status: 405", 11) == 0,
	    "GET on a form: 405: %.*s", (int)(out.len > 200 ? 200 : out.len),
	    out.data ? out.data : "");
	kill(pid, SIGTERM);
	T_INT(waitpid(pid, &status, 0), pid, "the worker stops");
	T_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "SIGTERM: exit 0 (status %#x)", status);
	buf_free(&out);
	worker_shared_close(&sh);
	conf_free(cf);
}

int
main(void)
{
	char	 cwd[PATH_MAX], path[PATH_MAX + 8];
	int	 fd;

	signal(SIGPIPE, SIG_IGN);
	if (getcwd(cwd, sizeof(cwd)) == NULL || mkdtemp(dir) == NULL ||
	    chmod(dir, 0711) == -1)
		return 1;
	snprintf(tpl, sizeof(tpl), "%s/templates", cwd);
	snprintf(path, sizeof(path), "%s/pw", dir);
	if ((fd = open(path, O_WRONLY | O_CREAT, 0600)) == -1 ||
	    write(fd, "secret\n", 7) != 7 || close(fd) == -1)
		return 1;
	snprintf(path, sizeof(path), "%s/key", dir);
	if ((fd = open(path, O_WRONLY | O_CREAT, 0600)) == -1 ||
	    write(fd, "not read\n", 9) != 9 || close(fd) == -1)
		return 1;
	log_init("test_worker", 0);
	test_shared();
	test_env();
	test_env_captcha();
	test_run();
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path) != 0)
		return 1;
	T_DONE();
}
