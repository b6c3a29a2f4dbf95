/*
 * server: the processes of `form2mail serve` (docs/DESIGN.md "Processes").
 *
 * The master opens the listening socket (or takes a listening fd 0 from
 * spawn-fcgi), prepares the spool and state directories, forks N workers
 * and one deliverer, restarts a child that dies, reloads on SIGHUP (the new
 * config is checked first; on error the old one stays) and stops on
 * SIGTERM/SIGINT, letting workers finish the request in hand.
 *
 * Workers drop to the service user before their first request, never
 * read a secret, and run under the seccomp allowlist of sandbox_worker().
 * The deliverer reads the secrets (deliver_open()) as root, then drops to
 * the service user too.  No process of the service dumps core.
 */
#ifndef F2M_SERVER_H
#define F2M_SERVER_H

#include <sys/types.h>

struct conf;

/*
 * Runs the service in the foreground until SIGTERM.  cf is consumed (the
 * master frees it on reload and exit).  Returns the exit status.
 */
int	 server_run(struct conf *cf);

#endif
