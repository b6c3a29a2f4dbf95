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
#include "lib/file.h"
#include "mail/enc_key.h"
#include "ops/keys.h"
#include "http/request.h"
#include "lib/log.h"
#include "svc/sandbox.h"
#include "svc/worker.h"
#include "svc/privsep.h"
#include "ops/queue_cmd.h"
#include "svc/cgi.h"
#include "svc/server.h"
#include "deliver/sign.h"
#include "spool/spool.h"
#include "lib/stats.h"
#include "throttle/throttle.h"

#if defined(__SANITIZE_ADDRESS__)
/*
 * Under LeakSanitizer: Debian's libopendkim 2.11 never frees the Ed25519
 * key it parses per signature (dkim_privkey_load), and that key holds
 * OpenSSL provider objects first made when sign_key.c read the key.  Both are
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
	struct enc_set	*es;
	char		 err[512], *pw;
	int		 rc, bad_enc;

	if ((rc = conf_load(path, &cf)) != 0)
		return rc;
	/* Encryption keys: each problem said at its place in the file. */
	bad_enc = enc_set_load(cf, time(NULL), 0, &es) == -1;
	enc_set_free(es);
	/* The service user whoever runs check (serve asks only as root). */
	if ((rc = privsep_user_check(cf, err, sizeof(err))) != 0)
		fprintf(stderr, "%s: %s%s\n", path, rc == 1 ? "warning: " : "",
		    err);
	rc = rc == -1 || bad_enc ? 1 : 0;
	/* Keys and password are read here only to check them. */
	if (sign_open(cf, &s, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: dkim: %s\n", path, err);
		rc = 1;
	} else
		sign_close(s);
	if (cf->smtp.password_file != NULL) {
		if ((pw = file_read_secret(cf->smtp.password_file, err,
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
	struct enc_set		*es = NULL;
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
	if (enc_set_load(cf, time(NULL), 0, &es) == -1 ||
	    privsep_prepare_dirs(cf) == -1 || privsep_drop(cf) == -1)
		goto out;
	privsep_sync_open(cf);
	if (worker_env_open(&ctx, cf, NULL, err, sizeof(err)) == -1) {
		log_err("%s", err);
		goto out;
	}
	ctx.enc = es;
	if (request_send_test(&ctx, form, id, sizeof(id)) == 0) {
		printf("queued %s (form %s)\n", id, form);
		rc = 0;
	}
	worker_env_close(&ctx);
out:
	enc_set_free(es);
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
	struct stats_queue	 sq;
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
	spool_census(cf->spool_dir, &sq);
	if (stats_render(s, &sq, &b) == -1)
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
		return cgi_main(path);
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
	if (strcmp(cmd, "queue") == 0) {
		if ((rc = queue_cmd(path, n, args)) == QUEUE_CMD_USAGE) {
			usage();
			rc = 2;
		}
		return rc;
	}
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
