/*
 * main: command line and subcommand dispatch (docs/DESIGN.md "Commands").
 * Exit status: 0 ok, 1 a check failed, 2 usage or config error.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <jansson.h>

#include "gate/challenge.h"
#include "conf/conf.h"
#include "deliver/deliver.h"
#include "ops/doctor.h"
#include "ops/keys.h"
#include "http/request.h"
#include "lib/log.h"
#include "svc/sandbox.h"
#include "svc/privsep.h"
#include "svc/server.h"
#include "deliver/sign.h"
#include "spool/spool.h"
#include "lib/stats.h"
#include "throttle/throttle.h"

static volatile sig_atomic_t	 main_stop;

#if defined(__SANITIZE_ADDRESS__)
/*
 * Under LeakSanitizer: Debian's libopendkim 2.11 never frees the Ed25519
 * key it parses per signature (dkim_privkey_load), and that key holds
 * OpenSSL provider objects first made when sign.c read the key.  Both are
 * allocated inside libcrypto.  The unit tests check our modules' leaks
 * without this suppression (test_sign suppresses only the first).
 */
const char	*__lsan_default_suppressions(void);

const char *
__lsan_default_suppressions(void)
{
	return "leak:dkim_privkey_load\nleak:libcrypto.so.3\n";
}
#endif

static void
main_on_term(int sig)
{
	(void)sig;
	main_stop = 1;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: form2mail serve     [-c FILE]\n"
	    "       form2mail check     [-c FILE]\n"
	    "       form2mail queue     [-c FILE] list [--json] | show ID [--json] |"
	    " retry [ID] |\n"
	    "                           delete ID | release ID | drop ID |"
	    " run [--once]\n"
	    "       form2mail stats     [-c FILE]\n"
	    "       form2mail keygen    --domain D --selector S"
	    " [--algorithm rsa-sha256|ed25519-sha256] --out FILE\n"
	    "       form2mail dns       [-c FILE] [--spf TERMS] [--rua ADDR]\n"
	    "       form2mail doctor    [-c FILE] [--resolver IP[:PORT]]\n"
	    "       form2mail doctor    [-c FILE] --dmarc-reports DIR\n"
	    "       form2mail send-test [-c FILE] FORM\n"
	    "       form2mail version\n"
	    "FILE defaults to $FORM2MAIL_CONFIG, else " CONF_DEFAULT_PATH "\n");
}

static int
main_check(const char *path)
{
	struct conf	*cf;
	struct sign	*s;
	char		 err[512], *pw;
	int		 rc;

	if ((rc = conf_load(path, &cf)) != 0)
		return rc;
	/* Keys and password are read here only to check them. */
	if (sign_open(cf, &s, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: dkim: %s\n", path, err);
		rc = 1;
	} else
		sign_close(s);
	if (cf->smtp.password_file != NULL) {
		if ((pw = conf_read_secret(cf->smtp.password_file, err,
		    sizeof(err))) == NULL) {
			fprintf(stderr, "%s: smtp: %s\n", path, err);
			rc = 1;
		} else {
			explicit_bzero(pw, strlen(pw));
			free(pw);
		}
	}
	if (rc == 0)
		printf("%s: ok (%zu form%s, %zu DKIM key%s)\n", path,
		    cf->nforms, cf->nforms == 1 ? "" : "s", cf->ndkim,
		    cf->ndkim == 1 ? "" : "s");
	conf_free(cf);
	return rc;
}

struct main_list {
	json_t	*arr;
	int	 json;
	const char *state;
};

static const struct {
	enum spool_state	 st;
	const char		*name;
} main_states[] = {
	{ SPOOL_QUEUE, "queued" }, { SPOOL_HELD, "held" },
	{ SPOOL_FAILED, "failed" }
};

static int
main_list_one(const struct spool_meta *m, void *arg)
{
	struct main_list	*l = arg;
	char			 c[32], n[32];
	struct tm		 tm;

	if (l->json) {
		json_array_append_new(l->arr, json_pack(
		    "{s:s,s:s,s:s,s:I,s:i,s:I,s:s,s:i}", "id", m->id, "state",
		    l->state, "form", m->form, "created", (json_int_t)m->created,
		    "attempts", (int)m->attempts, "next_try",
		    (json_int_t)m->next_try, "last_error", m->error,
		    "recipients", (int)m->nrcpt));
		return 0;
	}
	gmtime_r(&m->created, &tm);
	strftime(c, sizeof(c), "%Y-%m-%d %H:%M:%S", &tm);
	gmtime_r(&m->next_try, &tm);
	strftime(n, sizeof(n), "%Y-%m-%d %H:%M:%S", &tm);
	printf("%-26s  %-6s  %-16.16s  %s  %3u  %s  %s\n", m->id, l->state,
	    m->form, c, m->attempts, n, m->error[0] ? m->error : "-");
	return 0;
}

static int
main_queue_list(const struct conf *cf, int json)
{
	struct main_list	 l;
	size_t			 i;
	char			*s;

	l.json = json;
	l.arr = json_array();
	if (!json)
		printf("%-26s  %-6s  %-16s  %-19s  %3s  %-19s  %s\n", "ID",
		    "STATE", "FORM", "CREATED (UTC)", "TRY", "NEXT TRY (UTC)",
		    "LAST ERROR");
	for (i = 0; i < sizeof(main_states) / sizeof(main_states[0]); i++) {
		l.state = main_states[i].name;
		if (spool_scan(cf->spool_dir, main_states[i].st, main_list_one,
		    &l) == -1 && main_states[i].st == SPOOL_QUEUE) {
			fprintf(stderr, "%s: %s\n", cf->spool_dir,
			    strerror(errno));
			json_decref(l.arr);
			return 1;
		}
	}
	if (json) {
		s = json_dumps(l.arr, JSON_INDENT(2));
		printf("%s\n", s ? s : "[]");
		free(s);
	}
	json_decref(l.arr);
	return 0;
}

/* show, delete, release (held -> queue), drop (delete a held one). */
static int
main_queue_one(const struct conf *cf, const char *op, const char *id,
    int json)
{
	struct spool_meta	 m;
	struct main_list	 l;
	char			*msg;
	size_t			 i, len;
	int			 rc = 1;

	if (!spool_id_valid(id)) {
		fprintf(stderr, "%s: not a message id\n", id);
		return 2;
	}
	if (strcmp(op, "release") == 0 || strcmp(op, "drop") == 0) {
		rc = strcmp(op, "release") == 0 ?
		    spool_release_held(cf->spool_dir, id, time(NULL)) :
		    spool_delete(cf->spool_dir, SPOOL_HELD, id);
		if (rc == 0)
			printf("%s: %s\n", id, op[0] == 'r' ? "released into "
			    "the queue" : "dropped");
		else
			fprintf(stderr, "%s: %s\n", id, rc == 1 ? "no such held "
			    "message" : strerror(errno));
		return rc == 0 ? 0 : 1;
	}
	for (i = 0; i < sizeof(main_states) / sizeof(main_states[0]); i++) {
		if (strcmp(op, "delete") == 0) {
			if ((rc = spool_delete(cf->spool_dir, main_states[i].st,
			    id)) == 0) {
				printf("%s: deleted from %s\n", id,
				    main_states[i].name);
				return 0;
			}
			if (rc == -1)
				break;
			continue;
		}
		if ((rc = spool_read(cf->spool_dir, main_states[i].st, id, &m,
		    &msg, &len)) == 1)
			continue;
		if (rc == -1)
			break;
		l.json = json;
		l.state = main_states[i].name;
		l.arr = json_array();
		if (!json)
			main_list_one(&m, &l);
		else {
			main_list_one(&m, &l);
			json_object_set_new(json_array_get(l.arr, 0), "message",
			    json_stringn(msg, len));
			char *s = json_dumps(json_array_get(l.arr, 0),
			    JSON_INDENT(2));
			printf("%s\n", s ? s : "{}");
			free(s);
		}
		if (!json) {
			for (i = 0; i < m.nrcpt; i++)
				printf("rcpt: %s\n", m.rcpt[i]);
			printf("\n");
			fwrite(msg, 1, len, stdout);
		}
		json_decref(l.arr);
		spool_meta_clear(&m);
		free(msg);
		return 0;
	}
	if (rc == 1)
		fprintf(stderr, "%s: no such message\n", id);
	else
		fprintf(stderr, "%s: %s\n", id, strerror(errno));
	return 1;
}

/*
 * Queues a sample submission of FORM through the workers' own path
 * (validation, templates, message, rspamd when configured, spool), as the
 * service user; the running deliverer (or `queue run`) sends it.
 */
static int
main_send_test(const char *path, const char *form)
{
	struct request_ctx	 ctx;
	struct conf		*cf;
	char			 err[512], id[SPOOL_ID_LEN + 1];
	int			 rc;

	log_role("send-test");
	if ((rc = conf_load(path, &cf)) != 0)
		return 2;
	if (conf_form_find(cf, form, strlen(form)) == NULL) {
		fprintf(stderr, "form2mail: no form \"%s\" in %s\n", form,
		    path);
		conf_free(cf);
		return 2;
	}
	rc = 1;
	if (privsep_prepare_dirs(cf) == -1 || privsep_drop(cf) == -1)
		goto out;
	privsep_sync_open(cf);
	if (request_ctx_init(&ctx, cf, NULL, NULL, err, sizeof(err)) == -1) {
		log_err("%s", err);
		goto out;
	}
	if (request_send_test(&ctx, form, id, sizeof(id)) == 0) {
		printf("queued %s (form %s)\n", id, form);
		rc = 0;
	}
	request_ctx_free(&ctx);
out:
	conf_free(cf);
	return rc;
}

static int
main_queue_run(const struct conf *cf, int once)
{
	struct deliver		*d;
	struct sigaction	 sa;
	char			 err[512];
	time_t			 next;
	int			 n;

	log_role("queue-run");
	if (privsep_prepare_dirs(cf) == -1)
		return 1;
	if (deliver_open(cf, &d, err, sizeof(err)) == -1) {
		log_err("%s", err);
		return 1;
	}
	/* Same discipline as the deliverer: secrets read, then no root. */
	if (privsep_drop(cf) == -1) {
		deliver_close(d);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = main_on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (once) {
		n = deliver_due(d, &main_stop, &next);
		deliver_close(d);
		if (n < 0)
			return 1;
		log_info("queue run: %d delivered", n);
		return 0;
	}
	while (!main_stop)
		deliver_loop(d, &main_stop);
	deliver_close(d);
	return 0;
}

static int
main_queue(const char *path, int argc, char **argv)
{
	struct conf	*cf;
	int		 rc, json = 0, once = 0, i;
	const char	*id = NULL;

	if (argc < 1) {
		usage();
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--once") == 0)
			once = 1;
		else if (id == NULL && argv[i][0] != '-')
			id = argv[i];
		else {
			usage();
			return 2;
		}
	}
	if ((rc = conf_load(path, &cf)) != 0)
		return 2;
	log_init("form2mail", cf->log_syslog);
	if (strcmp(argv[0], "list") == 0 && id == NULL)
		rc = privsep_drop(cf) == -1 ? 1 : main_queue_list(cf, json);
	else if (strcmp(argv[0], "run") == 0 && id == NULL)
		rc = main_queue_run(cf, once);
	else if (strcmp(argv[0], "retry") == 0) {
		/* Files rewritten here must stay the service user's. */
		if (privsep_drop(cf) == -1)
			rc = 1;
		else if (id != NULL && !spool_id_valid(id)) {
			fprintf(stderr, "%s: not a message id\n", id);
			rc = 2;
		} else if ((rc = spool_retry(cf->spool_dir, id, time(NULL))) <
		    0) {
			fprintf(stderr, "retry: %s\n", strerror(errno));
			rc = 1;
		} else {
			printf("%d message%s due now\n", rc, rc == 1 ? "" : "s");
			rc = (id != NULL && rc == 0) ? 1 : 0;
		}
	} else if (id != NULL && (strcmp(argv[0], "show") == 0 ||
	    strcmp(argv[0], "delete") == 0 || strcmp(argv[0], "release") == 0 ||
	    strcmp(argv[0], "drop") == 0)) {
		if (privsep_drop(cf) == -1)
			rc = 1;
		else
			rc = main_queue_one(cf, argv[0], id, json);
	} else {
		usage();
		rc = 2;
	}
	conf_free(cf);
	return rc;
}

/* Prometheus text of the counters under state_dir and the spool. */
static int
main_stats(const char *path)
{
	struct conf	*cf;
	struct stats	*s;
	struct buf	 b = BUF_INIT;
	char		 err[512];
	int		 rc = 0;

	if (conf_load(path, &cf) != 0)
		return 2;
	/* Open first: the master may have made the file as root. */
	if (privsep_prepare_dirs(cf) == -1 ||
	    stats_open(cf->state_dir, &s, err, sizeof(err)) == -1 ||
	    privsep_drop(cf) == -1) {
		fprintf(stderr, "stats: cannot open the counters\n");
		conf_free(cf);
		return 1;
	}
	if (stats_render(s, cf->spool_dir, &b) == -1)
		rc = 1;
	else
		fwrite(b.data, 1, b.len, stdout);
	buf_free(&b);
	stats_close(s);
	conf_free(cf);
	return rc;
}

/* Takes "--opt VALUE" or "--opt=VALUE" at argv[*i]; 1 when it matched. */
static int
main_opt(int argc, char **argv, int *i, const char *opt, const char **val)
{
	size_t	 len = strlen(opt);

	if (strncmp(argv[*i], opt, len) != 0)
		return 0;
	if (argv[*i][len] == '=') {
		*val = argv[*i] + len + 1;
		return 1;
	}
	if (argv[*i][len] != '\0' || *i + 1 >= argc)
		return 0;
	*val = argv[++*i];
	return 1;
}

/* form2mail keygen --domain D --selector S [--algorithm A] --out FILE */
static int
main_keygen(int argc, char **argv)
{
	struct buf	 txt = BUF_INIT, line = BUF_INIT, name = BUF_INIT;
	const char	*domain = NULL, *selector = NULL, *out = NULL;
	const char	*alg = "rsa-sha256";
	char		 err[512];
	int		 i, rc = 2;

	for (i = 0; i < argc; i++)
		if (!main_opt(argc, argv, &i, "--domain", &domain) &&
		    !main_opt(argc, argv, &i, "--selector", &selector) &&
		    !main_opt(argc, argv, &i, "--algorithm", &alg) &&
		    !main_opt(argc, argv, &i, "--out", &out)) {
			usage();
			return 2;
		}
	if (domain == NULL || selector == NULL || out == NULL ||
	    *domain == '\0' || *selector == '\0') {
		usage();
		return 2;
	}
	if (buf_printf(&name, "%s._domainkey.%s.", selector, domain) == -1) {
		fprintf(stderr, "form2mail: out of memory\n");
		goto out;
	}
	if (keys_generate(alg, out, err, sizeof(err)) == -1 ||
	    keys_dkim_txt(out, alg, &txt, err, sizeof(err)) == -1 ||
	    keys_record(&line, name.data, "TXT", txt.data, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "form2mail: keygen: %s\n", err);
		goto out;
	}
	if (fputs(line.data, stdout) == EOF || fflush(stdout) == EOF) {
		fprintf(stderr, "form2mail: stdout: %s\n", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	buf_free(&txt);
	buf_free(&line);
	buf_free(&name);
	return rc;
}

/* form2mail dns [-c FILE] [--spf TERMS] [--rua ADDR] */
static int
main_dns(const char *path, int argc, char **argv)
{
	struct conf	*cf = NULL;
	struct buf	 out = BUF_INIT;
	const char	*spf = NULL, *rua = NULL;
	char		 err[512];
	int		 i, rc = 2;

	for (i = 0; i < argc; i++)
		if (!main_opt(argc, argv, &i, "--spf", &spf) &&
		    !main_opt(argc, argv, &i, "--rua", &rua)) {
			usage();
			return 2;
		}
	if (conf_load(path, &cf) != 0)
		return 2;
	if (keys_dns_records(cf, spf, rua, &out, err, sizeof(err)) == -1) {
		fprintf(stderr, "form2mail: dns: %s\n", err);
		goto out;
	}
	if (out.data != NULL && (fputs(out.data, stdout) == EOF ||
	    fflush(stdout) == EOF)) {
		fprintf(stderr, "form2mail: stdout: %s\n", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	buf_free(&out);
	conf_free(cf);
	return rc;
}

/*
 * CGI (docs/DESIGN.md "Processes"): one request from the environment and
 * stdin, spooled and answered; then, with the answer closed, one try at
 * delivering what is due.  `form2mail queue run` on a timer retries the
 * rest.  There is no process split under CGI: the CGI user reads the
 * keys, so give it its own account (suexec) on shared hosting.  Once the
 * config is loaded the process dumps no core and runs under the seccomp
 * allowlist of sandbox_cgi() (no exec, no ptrace, no other sockets).
 */
static int
main_cgi(const char *path)
{
	struct request_ctx	 ctx;
	struct conf		*cf;
	struct throttle		*t = NULL;
	struct stats		*st = NULL;
	struct deliver		*d;
	char			 err[512], tpath[4096];
	unsigned char		 key[CHALLENGE_KEY_LEN];
	time_t			 next;
	int			 rc, have_key;

	log_role("cgi");
	if ((rc = conf_load(path, &cf)) != 0) {
		fputs("Status: 503 Service Unavailable\r\nContent-Type: "
		    "text/plain\r\n\r\nThe form service is not configured.\n",
		    stdout);
		return 0;
	}
	log_init("form2mail", cf->log_syslog);
	if (privsep_prepare_dirs(cf) == -1)
		goto unavailable;
	snprintf(tpath, sizeof(tpath), "%s/throttle.shm", cf->state_dir);
	if (cf->throttle.redis)
		rc = throttle_open_redis(cf->throttle.redis_url,
		    THROTTLE_REDIS_TIMEOUT_MS, &t, err, sizeof(err));
	else
		rc = throttle_open(tpath, cf->throttle.entries, &t, err,
		    sizeof(err));
	if (rc == -1) {
		log_err("throttle: %s", err);
		t = NULL;
	}
	snprintf(tpath, sizeof(tpath), "%s", cf->altcha_key_file ?
	    cf->altcha_key_file : "");
	if (tpath[0] == '\0')
		snprintf(tpath, sizeof(tpath), "%s/altcha.key", cf->state_dir);
	have_key = challenge_key_load(tpath, key, err, sizeof(err)) == 0;
	if (stats_open(cf->state_dir, &st, err, sizeof(err)) == -1)
		st = NULL;
	privsep_sync_open(cf);
	if (request_ctx_init(&ctx, cf, t, have_key ? key : NULL, err,
	    sizeof(err)) == -1) {
		log_err("%s", err);
		goto unavailable;
	}
	ctx.stats = st;
	if (sandbox_no_core(err, sizeof(err)) == -1 ||
	    sandbox_cgi(err, sizeof(err)) == -1) {
		log_err("%s", err);
		request_ctx_free(&ctx);
		goto unavailable;
	}
	request_handle_cgi(&ctx);
	request_ctx_free(&ctx);
	fflush(stdout);
	/* The visitor has the answer: the web server sees EOF now. */
	close(1);
	close(0);
	if (deliver_open(cf, &d, err, sizeof(err)) == 0) {
		if (deliver_due(d, &main_stop, &next) < 0)
			log_err("cgi: queue not readable");
		deliver_close(d);
	} else
		log_err("cgi: no delivery: %s", err);
	throttle_close(t);
	stats_close(st);
	explicit_bzero(key, sizeof(key));
	conf_free(cf);
	return 0;
unavailable:
	fputs("Status: 503 Service Unavailable\r\nContent-Type: text/plain"
	    "\r\n\r\nPlease try again later.\n", stdout);
	conf_free(cf);
	return 0;
}

int
main(int argc, char *argv[])
{
	const char	*path = getenv("FORM2MAIL_CONFIG");
	const char	*cmd = NULL;
	char		*args[32];
	struct conf	*cf;
	int		 i, n = 0, rc;

	if (path == NULL || *path == '\0')
		path = CONF_DEFAULT_PATH;
	/* -c FILE may stand before or after the subcommand. */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i],
		    "--config") == 0) {
			if (++i == argc) {
				usage();
				return 2;
			}
			path = argv[i];
		} else if (strncmp(argv[i], "--config=", 9) == 0)
			path = argv[i] + 9;
		else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			usage();
			return 0;
		} else if (cmd == NULL)
			cmd = argv[i];
		else if (n < (int)(sizeof(args) / sizeof(args[0])) - 1)
			args[n++] = argv[i];
		else {
			usage();
			return 2;
		}
	}
	args[n] = NULL;
	log_init("form2mail", 0);
	/* Run by a web server as CGI: no subcommand, GATEWAY_INTERFACE set,
	 * and stdin is not a FastCGI listening socket. */
	if (cmd == NULL && getenv("GATEWAY_INTERFACE") != NULL &&
	    FCGX_IsCGI())
		return main_cgi(path);
	if (cmd == NULL) {
		usage();
		return 2;
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("form2mail %s\n", F2M_VERSION);
		return 0;
	}
	if (strcmp(cmd, "check") == 0 && n == 0)
		return main_check(path);
	if (strcmp(cmd, "queue") == 0)
		return main_queue(path, n, args);
	if (strcmp(cmd, "stats") == 0 && n == 0)
		return main_stats(path);
	if (strcmp(cmd, "keygen") == 0)
		return main_keygen(n, args);
	if (strcmp(cmd, "dns") == 0)
		return main_dns(path, n, args);
	if (strcmp(cmd, "doctor") == 0)
		return doctor_main(path, n, args);
	if (strcmp(cmd, "send-test") == 0 && n == 1)
		return main_send_test(path, args[0]);
	if (strcmp(cmd, "serve") == 0 && n == 0) {
		if ((rc = conf_load(path, &cf)) != 0)
			return 2;
		log_init("form2mail", cf->log_syslog);
		return server_run(cf);
	}
	usage();
	return 2;
}
