/*
 * privsep: the service user (docs/DESIGN.md "Processes"): dropping to it
 * for good, the directories made for it, the shared group-commit
 * counters, no core dumps.  Used by serve, CGI, the queue commands and
 * the doctor.
 */
#ifndef F2M_PRIVSEP_H
#define F2M_PRIVSEP_H

#include <sys/types.h>

#include <stddef.h>

struct conf;

#define PRIVSEP_DEFAULT_USER	"form2mail"

/* The service user's uid/gid: the config's "user", else "form2mail".
 * Returns 0, or -1 when that account does not exist (never "nobody"
 * in its place). */
int	 privsep_user(const struct conf *cf, uid_t *uid, gid_t *gid);

/*
 * Whether cf names a service user fit to run as (check, serve): 0 yes;
 * 1 yes, with a warning in msg ("user": "nobody", which every other
 * nobody process shares); -1 no, the reason in msg (no "user" and no
 * form2mail account, or no such user).
 */
int	 privsep_user_check(const struct conf *cf, char *msg, size_t len);

/* No core dumps (sandbox_no_core); 0 or -1, logged. */
int	 privsep_no_core(void);

/*
 * Drops to the service user of cf when running as root: supplementary
 * groups, gid, uid, and no way back (PR_SET_NO_NEW_PRIVS); then no core
 * dumps (sandbox_no_core: not dumpable, so no process of the service
 * user can ptrace or read the caller's memory).  Returns 0/-1.
 */
int	 privsep_drop(const struct conf *cf);

/* Creates spool_dir (with its subdirectories), state_dir and the group
 * commit counters state_dir/commit.seq for the service user.  Returns 0
 * or -1 (logged). */
int	 privsep_prepare_dirs(const struct conf *cf);

#define PRIVSEP_SYNC_FILE	"commit.seq"

/* Sets up this process's commits: maps state_dir/commit.seq so they share
 * queue/ fsyncs (spool_sync_open; on failure they fsync alone, logged),
 * and the free-space reserve limits.min_free (spool_reserve_set). */
void	 privsep_sync_open(const struct conf *cf);

#endif
