/*
 * sandbox: seccomp allowlists and core-dump settings; see sandbox.h.
 *
 * How the list was found: `strace -f` on the service under every
 * integration test (forms with uploads, Redis, rspamd, captcha, flood,
 * reload, kill -9, spawn-fcgi, systemd, Apache CGI), keeping the calls a
 * worker makes after its setup; then the paths the tests do not take on
 * this machine but production does: libcurl's threaded resolver (names
 * other than "localhost"), getaddrinfo with both address families, TLS to
 * a captcha provider, glibc's syslog reconnecting to /dev/log, malloc in
 * a second thread.  tests/unit/svc/test_sandbox.c runs those paths under the
 * filter; tests/integration/test_privsep.py runs the service with it and
 * makes a worker resolve a name and shake hands over TLS.
 *
 * What is left out, on purpose: execve/execveat, fork/vfork and clone of
 * processes, ptrace, process_vm_readv/writev, the setuid/setgid family,
 * bind/listen (a worker only accepts on the socket the master gave it),
 * socket families other than AF_UNIX/AF_INET/AF_INET6, mount, namespaces
 * (unshare, setns, clone flags), bpf, perf_event_open, userfaultfd,
 * io_uring, keyctl, memfd_create, kill of another process, prctl,
 * seccomp itself, and every call that changes file ownership, modes or
 * directories.
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <seccomp.h>
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif

#include "lib/log.h"
#include "svc/sandbox.h"
#include "svc/sandbox_int.h"

/*
 * The allowlist.  Names, not numbers: libseccomp resolves them for the
 * native architecture, and a name the architecture lacks (open, dup2,
 * poll on aarch64) is skipped.  kill and tgkill are added in code: their
 * rule holds the pid.
 */
static const struct sandbox_rule sandbox_rules[] = {
	/* I/O on descriptors the process already holds. */
	SBX_ANY("read", SBX_BOTH), SBX_ANY("readv", SBX_BOTH),
	SBX_ANY("pread64", SBX_BOTH), SBX_ANY("write", SBX_BOTH),
	SBX_ANY("writev", SBX_BOTH), SBX_ANY("pwrite64", SBX_BOTH),
	SBX_ANY("lseek", SBX_BOTH), SBX_ANY("close", SBX_BOTH),
	SBX_ANY("dup", SBX_BOTH), SBX_ANY("dup2", SBX_BOTH),
	SBX_ANY("dup3", SBX_BOTH), SBX_ANY("fstat", SBX_BOTH),
	SBX_ANY("fsync", SBX_BOTH), SBX_ANY("fdatasync", SBX_BOTH),
	SBX_ANY("poll", SBX_BOTH), SBX_ANY("ppoll", SBX_BOTH),
	SBX_ANY("select", SBX_BOTH), SBX_ANY("pselect6", SBX_BOTH),
	/* libcurl wakes its multi handle through a socketpair (below), a
	 * pipe or an eventfd, depending on its version: private objects. */
	SBX_ANY("pipe2", SBX_BOTH), SBX_ANY("eventfd2", SBX_BOTH),
	/* Descriptor flags and record locks (the throttle and stats
	 * tables); not F_SETOWN/F_SETSIG, which aim signals at another
	 * process, nor leases or directory notifications. */
	SBX_IF("fcntl", SBX_BOTH, SBX_EQ(1, F_GETFD)),
	SBX_IF("fcntl", SBX_BOTH, SBX_EQ(1, F_SETFD)),
	SBX_IF("fcntl", SBX_BOTH, SBX_EQ(1, F_GETFL)),
	SBX_IF("fcntl", SBX_BOTH, SBX_EQ(1, F_SETFL)),
	SBX_IF("fcntl", SBX_BOTH, SBX_EQ(1, F_DUPFD)),
	SBX_IF("fcntl", SBX_BOTH, SBX_EQ(1, F_DUPFD_CLOEXEC)),
	SBX_IF("fcntl", SBX_BOTH, SBX_EQ(1, F_GETLK)),
	SBX_IF("fcntl", SBX_BOTH, SBX_EQ(1, F_SETLK)),
	SBX_IF("fcntl", SBX_BOTH, SBX_EQ(1, F_SETLKW)),
	SBX_IF("fcntl", SBX_BOTH, SBX_EQ(1, F_OFD_GETLK)),
	SBX_IF("fcntl", SBX_BOTH, SBX_EQ(1, F_OFD_SETLK)),
	SBX_IF("fcntl", SBX_BOTH, SBX_EQ(1, F_OFD_SETLKW)),
	/* isatty(), bytes pending, non-blocking, close-on-exec; no
	 * terminal control (TIOCSTI) and no device ioctls. */
	SBX_IF("ioctl", SBX_BOTH, SBX_EQ(1, TCGETS)),
	SBX_IF("ioctl", SBX_BOTH, SBX_EQ(1, FIONREAD)),
	SBX_IF("ioctl", SBX_BOTH, SBX_EQ(1, FIONBIO)),
	SBX_IF("ioctl", SBX_BOTH, SBX_EQ(1, FIOCLEX)),
	SBX_IF("ioctl", SBX_BOTH, SBX_EQ(1, FIONCLEX)),
	/*
	 * Files by name: the spool (create in tmp/, link into queue/,
	 * unlink, rename, flock), the spool scan of the metrics endpoint,
	 * CA files for TLS, /etc/hosts, resolv.conf and gai.conf for the
	 * resolver, /etc/localtime.  What a compromised worker may open is
	 * decided by the uid drop and the file modes, not here.  The stat
	 * family, access() and readlink() tell nothing openat() does not.
	 * Nothing that creates directories or changes modes or owners.
	 */
	SBX_ANY("openat", SBX_BOTH), SBX_ANY("newfstatat", SBX_BOTH),
	SBX_ANY("statx", SBX_BOTH), SBX_ANY("access", SBX_BOTH),
	SBX_ANY("faccessat", SBX_BOTH), SBX_ANY("faccessat2", SBX_BOTH),
	SBX_ANY("readlink", SBX_BOTH), SBX_ANY("readlinkat", SBX_BOTH),
	SBX_ANY("getdents64", SBX_BOTH), SBX_ANY("link", SBX_BOTH),
	SBX_ANY("linkat", SBX_BOTH), SBX_ANY("unlink", SBX_BOTH),
	SBX_ANY("unlinkat", SBX_BOTH), SBX_ANY("rename", SBX_BOTH),
	SBX_ANY("renameat", SBX_BOTH), SBX_ANY("renameat2", SBX_BOTH),
	SBX_ANY("flock", SBX_BOTH),
	/* statvfs(3) of the spool before a commit (limits.min_free). */
	SBX_ANY("statfs", SBX_BOTH), SBX_ANY("fstatfs", SBX_BOTH),
	/* CGI's delivery try: deliver_open() sizes the pacing and stats
	 * tables and sets them to 0600 after the request. */
	SBX_ANY("ftruncate", SBX_CGI), SBX_ANY("fallocate", SBX_CGI),
	SBX_ANY("fchmod", SBX_CGI),
	/*
	 * Memory.  W^X: no mapping both writable and executable, and no
	 * making memory executable later.  dlopen() (NSS, OpenSSL) maps
	 * code from files with PROT_EXEC, which stays allowed, and so does
	 * mapping a file the worker wrote: this only takes away the short
	 * path from injected bytes to running them.
	 */
	SBX_ANY("brk", SBX_BOTH), SBX_ANY("munmap", SBX_BOTH),
	SBX_ANY("mremap", SBX_BOTH), SBX_ANY("madvise", SBX_BOTH),
	SBX_IF("mmap", SBX_BOTH, SBX_MASKED(2, PROT_WRITE | PROT_EXEC, 0)),
	SBX_IF("mmap", SBX_BOTH, SBX_MASKED(2, PROT_WRITE | PROT_EXEC,
	    PROT_WRITE)),
	SBX_IF("mmap", SBX_BOTH, SBX_MASKED(2, PROT_WRITE | PROT_EXEC,
	    PROT_EXEC)),
	SBX_IF("mprotect", SBX_BOTH, SBX_MASKED(2, PROT_EXEC, 0)),
	/* Time; the vDSO answers most of these without a system call. */
	SBX_ANY("clock_gettime", SBX_BOTH), SBX_ANY("clock_getres", SBX_BOTH),
	SBX_ANY("gettimeofday", SBX_BOTH), SBX_ANY("time", SBX_BOTH),
	SBX_ANY("nanosleep", SBX_BOTH), SBX_ANY("clock_nanosleep", SBX_BOTH),
	/* The process's own signals; restart_syscall resumes a sleep that
	 * a signal interrupted. */
	SBX_ANY("rt_sigaction", SBX_BOTH), SBX_ANY("rt_sigprocmask", SBX_BOTH),
	SBX_ANY("rt_sigreturn", SBX_BOTH), SBX_ANY("restart_syscall", SBX_BOTH),
	SBX_ANY("sigaltstack", SBX_BOTH),
	/* Read-only facts about the process and the system; its own
	 * resource limits, read only (prlimit64 on pid 0, no new limit). */
	SBX_ANY("getpid", SBX_BOTH), SBX_ANY("gettid", SBX_BOTH),
	SBX_ANY("getuid", SBX_BOTH), SBX_ANY("geteuid", SBX_BOTH),
	SBX_ANY("getgid", SBX_BOTH), SBX_ANY("getegid", SBX_BOTH),
	SBX_ANY("getresuid", SBX_BOTH), SBX_ANY("getresgid", SBX_BOTH),
	SBX_ANY("getgroups", SBX_BOTH), SBX_ANY("uname", SBX_BOTH),
	SBX_ANY("sysinfo", SBX_BOTH), SBX_ANY("getrusage", SBX_BOTH),
	SBX_ANY("getrlimit", SBX_BOTH), SBX_ANY("sched_getaffinity", SBX_BOTH),
	SBX_ANY("sched_yield", SBX_BOTH),
	SBX_IF2("prlimit64", SBX_BOTH, SBX_EQ(0, 0), SBX_EQ(2, 0)),
	/* OpenSSL, submission ids, ALTCHA salts. */
	SBX_ANY("getrandom", SBX_BOTH),
	/*
	 * Threads, for libcurl's resolver, and no new processes: one could
	 * exec nothing, but could outlive the worker unseen by the master.
	 * glibc 2.34+ tries clone3 first, whose flags lie in memory out of
	 * a filter's sight; ENOSYS makes it fall back to clone, whose flags
	 * are checked here.  A new thread registers its robust list and
	 * rseq area (glibc 2.35+).  futex: the throttle table's robust
	 * process-shared mutex, condition variables, joins; none of the
	 * priority-inheritance operations.
	 */
	SBX_IF("clone", SBX_BOTH, SBX_MASKED(0, CLONE_THREAD | SBX_CLONE_NS,
	    CLONE_THREAD)),
	SBX_ERRNO("clone3", SBX_BOTH, ENOSYS),
	SBX_ANY("set_robust_list", SBX_BOTH), SBX_ANY("rseq", SBX_BOTH),
	SBX_IF("futex", SBX_BOTH, SBX_MASKED(1, SBX_FUTEX_CMD, FUTEX_WAIT)),
	SBX_IF("futex", SBX_BOTH, SBX_MASKED(1, SBX_FUTEX_CMD, FUTEX_WAKE)),
	SBX_IF("futex", SBX_BOTH, SBX_MASKED(1, SBX_FUTEX_CMD,
	    FUTEX_REQUEUE)),
	SBX_IF("futex", SBX_BOTH, SBX_MASKED(1, SBX_FUTEX_CMD,
	    FUTEX_CMP_REQUEUE)),
	SBX_IF("futex", SBX_BOTH, SBX_MASKED(1, SBX_FUTEX_CMD,
	    FUTEX_WAKE_OP)),
	SBX_IF("futex", SBX_BOTH, SBX_MASKED(1, SBX_FUTEX_CMD,
	    FUTEX_WAIT_BITSET)),
	SBX_IF("futex", SBX_BOTH, SBX_MASKED(1, SBX_FUTEX_CMD,
	    FUTEX_WAKE_BITSET)),
	SBX_ANY("exit", SBX_BOTH), SBX_ANY("exit_group", SBX_BOTH),
	/*
	 * Sockets: connect to Redis, rspamd, a captcha provider, a DNS
	 * server, /dev/log (glibc's syslog reconnects when a send fails);
	 * accept on the FastCGI socket the master passed.  Stream and
	 * datagram sockets of the local and internet families only: no raw,
	 * packet or netlink sockets.  getaddrinfo asks rtnetlink which
	 * families have addresses when it sorts several answers (RFC 6724);
	 * refused with EAFNOSUPPORT it assumes both, as without netlink.
	 * No bind, no listen.
	 */
	SBX_IF2("socket", SBX_BOTH, SBX_EQ(0, AF_UNIX),
	    SBX_MASKED(1, SBX_SOCK_TYPE, SOCK_STREAM)),
	SBX_IF2("socket", SBX_BOTH, SBX_EQ(0, AF_UNIX),
	    SBX_MASKED(1, SBX_SOCK_TYPE, SOCK_DGRAM)),
	SBX_IF2("socket", SBX_BOTH, SBX_EQ(0, AF_INET),
	    SBX_MASKED(1, SBX_SOCK_TYPE, SOCK_STREAM)),
	SBX_IF2("socket", SBX_BOTH, SBX_EQ(0, AF_INET),
	    SBX_MASKED(1, SBX_SOCK_TYPE, SOCK_DGRAM)),
	SBX_IF2("socket", SBX_BOTH, SBX_EQ(0, AF_INET6),
	    SBX_MASKED(1, SBX_SOCK_TYPE, SOCK_STREAM)),
	SBX_IF2("socket", SBX_BOTH, SBX_EQ(0, AF_INET6),
	    SBX_MASKED(1, SBX_SOCK_TYPE, SOCK_DGRAM)),
	SBX_ERRNO_IF("socket", SBX_BOTH, EAFNOSUPPORT, SBX_EQ(0, AF_NETLINK)),
	SBX_IF("socketpair", SBX_BOTH, SBX_EQ(0, AF_UNIX)),
	SBX_ANY("connect", SBX_BOTH), SBX_ANY("accept", SBX_BOTH),
	SBX_ANY("accept4", SBX_BOTH), SBX_ANY("sendto", SBX_BOTH),
	SBX_ANY("sendmsg", SBX_BOTH), SBX_ANY("sendmmsg", SBX_BOTH),
	SBX_ANY("recvfrom", SBX_BOTH), SBX_ANY("recvmsg", SBX_BOTH),
	SBX_ANY("shutdown", SBX_BOTH), SBX_ANY("getsockopt", SBX_BOTH),
	SBX_ANY("setsockopt", SBX_BOTH), SBX_ANY("getsockname", SBX_BOTH),
	SBX_ANY("getpeername", SBX_BOTH),
#if defined(__SANITIZE_ADDRESS__)
	/*
	 * The AddressSanitizer build (F2M_SANITIZE) only.  A report that
	 * cannot symbolize a frame in process starts llvm-symbolizer with
	 * fork(): EPERM rather than a kill keeps the report (module+offset
	 * frames).  LeakSanitizer's check at exit stops the world from a
	 * helper task (clone with exactly the flags below) that ptraces each
	 * thread and waits for it, after making the process dumpable and
	 * naming the helper as its tracer.  Workers never run that check:
	 * they end with _exit().  CGI and `queue run` (SBX_DELIVER) do, at
	 * the end of main().  The runtime opens files and reads directories
	 * (/proc/self/maps, /proc/self/task) with the legacy open and
	 * getdents.
	 */
#define SBX_ASAN	(SBX_BOTH | SBX_DELIVER)
#define SBX_LSAN	(SBX_CGI | SBX_DELIVER)
	SBX_ANY("open", SBX_ASAN), SBX_ANY("getdents", SBX_ASAN),
	SBX_ERRNO("fork", SBX_ASAN, EPERM),
	SBX_IF("clone", SBX_LSAN, SBX_EQ(0, CLONE_VM | CLONE_FS | CLONE_FILES |
	    CLONE_UNTRACED)),
	SBX_ANY("ptrace", SBX_LSAN), SBX_ANY("wait4", SBX_LSAN),
	SBX_ANY("getppid", SBX_LSAN),
	SBX_IF("prctl", SBX_LSAN, SBX_EQ(0, PR_SET_PTRACER)),
	SBX_IF("prctl", SBX_LSAN, SBX_EQ(0, PR_SET_PDEATHSIG)),
	SBX_IF("prctl", SBX_LSAN, SBX_EQ(0, PR_GET_DUMPABLE)),
	SBX_IF("prctl", SBX_LSAN, SBX_EQ(0, PR_SET_DUMPABLE)),
#endif
};

static void
sandbox_errf(char *err, size_t errsize, const char *what, int rc)
{
	snprintf(err, errsize, "seccomp: %s: %s", what, strerror(rc < 0 ?
	    -rc : rc));
}

/*
 * Adds one rule.  A name this architecture does not have is skipped (0);
 * a name libseccomp does not know is an error: a typo in the table.
 */
static int
sandbox_add(scmp_filter_ctx ctx, const struct sandbox_rule *r, char *err,
    size_t errsize)
{
	const struct scmp_arg_cmp	 cmp[2] = { r->a, r->b };
	int				 nr, rc;

	if ((nr = seccomp_syscall_resolve_name(r->name)) == __NR_SCMP_ERROR) {
		snprintf(err, errsize, "seccomp: unknown system call %s",
		    r->name);
		return -1;
	}
	if (nr < 0)
		return 0;
	if ((rc = seccomp_rule_add_array(ctx, r->action, nr, r->nargs,
	    cmp)) != 0) {
		sandbox_errf(err, errsize, r->name, rc);
		return -1;
	}
	return 0;
}

/* sandbox_int.h: the rows of both tables, and signals only to itself. */
int
sandbox_load(unsigned profile, char *err, size_t errsize)
{
	const struct sandbox_rule self[] = {
		SBX_IF("kill", SBX_BOTH, SBX_EQ(0, getpid())),
		SBX_IF("tgkill", SBX_BOTH, SBX_EQ(0, getpid())),
	};
	scmp_filter_ctx	 ctx = NULL;
	uint32_t	 arch = seccomp_arch_native();
	size_t		 i;
	int		 rc, ret = -1;

#ifdef RUNNING_ON_VALGRIND
	/*
	 * Under valgrind (scripts/soak --valgrind) the tool's own system
	 * calls run in this process: no filter.  The client request is an
	 * instruction sequence only valgrind answers; natively it is 0, so
	 * nothing a visitor sends can reach this branch.
	 */
	if (RUNNING_ON_VALGRIND) {
		log_warn("running under valgrind: no seccomp filter");
		return 0;
	}
#endif

	/*
	 * x32 shares the x86_64 audit arch and differs only by a bit in the
	 * call number; i386 multiplexes socket() through socketcall(),
	 * whose arguments a filter cannot read.  Neither is built or tested
	 * for: refuse rather than load a filter that says less than it
	 * seems to.  An x86_64 filter (libseccomp) kills x32 and i386
	 * (int 0x80) calls as a foreign architecture.
	 */
	if (arch == SCMP_ARCH_X32 || arch == SCMP_ARCH_X86) {
		snprintf(err, errsize, "seccomp: no allowlist for the %s ABI",
		    arch == SCMP_ARCH_X32 ? "x32" : "i386");
		return -1;
	}
	/* API level 3: the kernel knows SECCOMP_RET_KILL_PROCESS. */
	if (seccomp_api_get() < 3) {
		snprintf(err, errsize, "seccomp: the kernel or libseccomp "
		    "cannot kill a whole process (API level %u < 3)",
		    seccomp_api_get());
		return -1;
	}
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		snprintf(err, errsize, "seccomp: cannot initialise a filter");
		return -1;
	}
	/* Every thread, should a library have started one already. */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) != 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1)) != 0) {
		sandbox_errf(err, errsize, "attributes", rc);
		goto out;
	}
	for (i = 0; i < sizeof(sandbox_rules) / sizeof(sandbox_rules[0]); i++)
		if ((sandbox_rules[i].profiles & profile) != 0 &&
		    sandbox_add(ctx, &sandbox_rules[i], err, errsize) == -1)
			goto out;
	for (i = 0; i < sandbox_deliver_nrules; i++)
		if ((sandbox_deliver_rules[i].profiles & profile) != 0 &&
		    sandbox_add(ctx, &sandbox_deliver_rules[i], err,
		    errsize) == -1)
			goto out;
	/* Signals only to itself: raise() and abort() use tgkill on their
	 * own thread group.  The deliverer runs as the same uid and must
	 * not be signalled by a worker. */
	for (i = 0; i < sizeof(self) / sizeof(self[0]); i++)
		if (sandbox_add(ctx, &self[i], err, errsize) == -1)
			goto out;
	if ((rc = seccomp_load(ctx)) != 0) {
		sandbox_errf(err, errsize, "load", rc);
		goto out;
	}
	ret = 0;
out:
	seccomp_release(ctx);
	return ret;
}

int
sandbox_worker(char *err, size_t errsize)
{
	return sandbox_load(SBX_WORKER, err, errsize);
}

int
sandbox_cgi(char *err, size_t errsize)
{
	return sandbox_load(SBX_CGI, err, errsize);
}

int
sandbox_no_core(char *err, size_t errsize)
{
	const struct rlimit	 rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) == -1) {
		snprintf(err, errsize, "RLIMIT_CORE: %s", strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1) {
		snprintf(err, errsize, "PR_SET_DUMPABLE: %s", strerror(errno));
		return -1;
	}
	return 0;
}
