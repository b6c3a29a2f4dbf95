/*
 * server: the processes of `form2mail serve` (DESIGN.md "Processes").
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

/*
 * Drops to the service user of cf when running as root: supplementary
 * groups, gid, uid, and no way back (PR_SET_NO_NEW_PRIVS); then no core
 * dumps (sandbox_no_core: not dumpable, so no process of the service
 * user can ptrace or read the caller's memory).  Returns 0/-1.
 */
int	 server_drop(const struct conf *cf);

/* Creates spool_dir (with its subdirectories), state_dir and the group
 * commit counters state_dir/commit.seq for the service user.  Returns 0
 * or -1 (logged). */
int	 server_prepare_dirs(const struct conf *cf);

#define SERVER_SYNC_FILE	"commit.seq"

/* Maps state_dir/commit.seq so this process's commits share queue/
 * fsyncs (spool_sync_open); on failure they fsync alone (logged). */
void	 server_sync_open(const struct conf *cf);

#endif
