/*
 * sandbox_env: the environment of `serve` and `queue run` cleared
 * (sandbox.h, SECURITY.md "F13").
 *
 * What the service reads from its environment: FORM2MAIL_CONFIG (main,
 * before the config is loaded, so before this), the systemd socket
 * variables (server_listen_fds, which removes them before any child is
 * forked), and in CGI mode the request (never cleared: CGI does not call
 * this).  Log times are UTC (gmtime), so not even TZ matters.  Everything
 * else is for libraries, and what they would take from it is what an
 * attacker who sets the environment of an admin's shell wants:
 * http_proxy, HTTPS_PROXY and ALL_PROXY (libcurl; curlx also sets
 * CURLOPT_PROXY ""), SSLKEYLOGFILE (libcurl writes the TLS secrets of the
 * SMTP session there), OPENSSL_CONF and OPENSSL_MODULES (OpenSSL loads
 * providers and engines named there: code), RES_OPTIONS, LOCALDOMAIN and
 * HOSTALIASES (glibc's resolver), and whatever secrets a shell exports.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "svc/sandbox.h"

extern char	**environ;

/* Read by the master itself and removed by it before any fork; kept
 * only when LISTEN_PID names this process (sd_listen_fds(3)), since
 * otherwise they were meant for another and nothing here removes them. */
static const char *const sandbox_env_keep[] = {
	"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES",
};

static int
sandbox_env_ours(void)
{
	const char	*pid = getenv("LISTEN_PID");
	char		*end;
	long		 v;

	if (pid == NULL || *pid < '0' || *pid > '9')
		return 0;
	errno = 0;
	v = strtol(pid, &end, 10);
	return errno == 0 && *end == '\0' && v == (long)getpid();
}

static int
sandbox_env_kept(const char *entry, int ours)
{
	size_t	 i, n;

	if (!ours)
		return 0;
	for (i = 0; i < sizeof(sandbox_env_keep) / sizeof(sandbox_env_keep[0]);
	    i++) {
		n = strlen(sandbox_env_keep[i]);
		if (strncmp(entry, sandbox_env_keep[i], n) == 0 &&
		    entry[n] == '=')
			return 1;
	}
	return 0;
}

/*
 * Each entry dropped is also overwritten where it lies: the first ones
 * on the initial stack, which /proc/PID/environ shows and every forked
 * child copies, so that neither holds a secret any longer.  No entry
 * here was set with putenv() of a constant (nothing in the service calls
 * putenv or setenv), so every one is writable.
 */
void
sandbox_env_clear(void)
{
	char	**in, **out;
	int	  ours;

	if (environ == NULL)
		return;
	ours = sandbox_env_ours();
	for (in = out = environ; *in != NULL; in++) {
		if (sandbox_env_kept(*in, ours))
			*out++ = *in;
		else
			explicit_bzero(*in, strlen(*in));
	}
	*out = NULL;
}
