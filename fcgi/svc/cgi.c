/*
 * cgi: form2mail as a CGI program (cgi.h).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "deliver/deliver.h"
#include "http/request.h"
#include "lib/log.h"
#include "lib/stats.h"
#include "svc/cgi.h"
#include "svc/privsep.h"
#include "svc/sandbox.h"
#include "svc/worker.h"

/*
 * CGI (docs/DESIGN.md "Processes"): one request from the environment and
 * stdin, spooled and answered; then, with the answer closed, one try at
 * delivering what is due.  `form2mail queue run` on a timer retries the
 * rest.  There is no process split under CGI: the CGI user reads the
 * keys, so give it its own account (suexec) on shared hosting.  Once the
 * config is loaded the process dumps no core and runs under the seccomp
 * allowlist of sandbox_cgi() (no exec, no ptrace, no other sockets).
 */
int
cgi_main(const char *path)
{
	struct request_ctx	 ctx;
	struct worker_shared	 sh;
	struct conf		*cf;
	struct deliver		*d;
	char			 err[512];
	time_t			 next;
	volatile sig_atomic_t	 stop = 0;	/* one round, not stopped */
	int			 rc;

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
	(void)worker_shared_open(&sh, cf, WORKER_CGI);
	if (stats_open(cf->state_dir, &sh.stats, err, sizeof(err)) == -1)
		sh.stats = NULL;
	privsep_sync_open(cf);
	if (worker_env_open(&ctx, cf, &sh, err, sizeof(err)) == -1) {
		log_err("%s", err);
		goto unavailable;
	}
	if (sandbox_no_core(err, sizeof(err)) == -1 ||
	    sandbox_cgi(err, sizeof(err)) == -1) {
		log_err("%s", err);
		worker_env_close(&ctx);
		goto unavailable;
	}
	request_handle_cgi(&ctx);
	worker_env_close(&ctx);
	fflush(stdout);
	/* The visitor has the answer: the web server sees EOF now. */
	close(1);
	close(0);
	if (deliver_open(cf, &d, err, sizeof(err)) == 0) {
		if (deliver_due(d, &stop, &next) < 0)
			log_err("cgi: queue not readable");
		deliver_close(d);
	} else
		log_err("cgi: no delivery: %s", err);
	stats_close(sh.stats);
	worker_shared_close(&sh);
	conf_free(cf);
	return 0;
unavailable:
	fputs("Status: 503 Service Unavailable\r\nContent-Type: text/plain"
	    "\r\n\r\nPlease try again later.\n", stdout);
	conf_free(cf);
	return 0;
}
