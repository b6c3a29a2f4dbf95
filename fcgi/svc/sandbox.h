/*
 * sandbox: process hardening of the processes that face untrusted input
 * (SECURITY.md section 3): a seccomp allowlist, and no core dumps where
 * secrets live.
 *
 * The allowlist is loaded for the calling process and all its threads
 * (TSYNC); it cannot be removed, and every process forked afterwards
 * inherits it.  A system call outside it kills the whole process with
 * SIGSYS (SECCOMP_RET_KILL_PROCESS), so the master reaps the death and
 * logs "killed by signal 31".  The kernel also logs each kill to the audit
 * log / dmesg ("type=1326 ... syscall=N") unless kernel.seccomp.
 * actions_logged says otherwise; under strace the allowlist stays on.
 *
 * There is no switch to turn it off: a worker that needs a new system
 * call needs a new line in sandbox.c and a test.
 */
#ifndef F2M_SANDBOX_H
#define F2M_SANDBOX_H

#include <stddef.h>

#include "lib/buf.h"

/*
 * Loads the worker allowlist: what a FastCGI worker needs between two
 * requests and within one (descriptors it already holds, the spool,
 * libcurl to rspamd and captcha providers, hiredis, threads for libcurl's
 * resolver, the mmapped throttle and stats tables).  Call it last in the
 * worker's setup: after the privilege drop, FCGX_Init and
 * worker_env_open.  Sets PR_SET_NO_NEW_PRIVS.
 * Returns 0, or -1 with err set (nothing loaded; the caller must not go on).
 */
int	 sandbox_worker(char *err, size_t errsize) F2M_WUR;

/*
 * Loads the CGI allowlist: the worker's, plus what the one delivery try
 * after the answer needs (flock on queue files, rename, the pacing table,
 * reading the DKIM keys and password).  Call it once the config is loaded
 * and worker_env_open has run.  Returns 0 or -1 (err), as above.
 */
int	 sandbox_cgi(char *err, size_t errsize) F2M_WUR;

/*
 * Loads the deliverer's confinement (server_deliverer, `queue run`), last
 * in its setup: after deliver_open (the keys and the password are read)
 * and the privilege drop.  First Landlock, when the kernel has it: no
 * file may be executed, and files may be written, created, truncated,
 * renamed or removed only beneath spool_dir and state_dir (a kernel
 * without Landlock is logged, and only the uid and the file modes say
 * where it writes).  Then the deliverer's seccomp allowlist, which kills
 * the process as the worker's does: the spool, the pacing and stats
 * tables, libcurl's SMTP over TLS with its threaded resolver, hiredis,
 * syslog; no exec, no new process, no ptrace or process_vm_*, no bind,
 * listen or accept.  Sets PR_SET_NO_NEW_PRIVS.
 * Returns 0, or -1 with err set (the caller must not go on).
 */
int	 sandbox_deliver(const char *spool_dir, const char *state_dir,
	    char *err, size_t errsize) F2M_WUR;

/* The Landlock ABI version of the running kernel: >= 1, or 0 when it has
 * none (not built in, or off: lsm= on its command line). */
int	 sandbox_landlock_abi(void);

/*
 * Clears the environment of the calling process but for the systemd
 * socket variables (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES) when
 * LISTEN_PID names this process (else they go too), and
 * overwrites the values it drops with zeros where they lie, so that
 * /proc/PID/environ of the process and of every child forked afterwards
 * shows none of them.  For `serve` (before anything that may start a
 * library) and `queue run`, after the config is loaded; not for CGI,
 * whose request is its environment.  Pointers from getenv() taken
 * before are left pointing at zeros.
 */
void	 sandbox_env_clear(void);

/*
 * No core dumps for the calling process: RLIMIT_CORE 0 and
 * PR_SET_DUMPABLE 0.  Not dumpable also means that processes of the same
 * uid may neither ptrace it nor open its /proc/PID/mem.  A uid or gid
 * change resets the dumpable flag to fs.suid_dumpable: call this again
 * after one.  Returns 0 or -1 (err).
 */
int	 sandbox_no_core(char *err, size_t errsize) F2M_WUR;

#endif
