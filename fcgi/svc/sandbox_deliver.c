/*
 * sandbox_deliver: the deliverer's confinement (sandbox.h): Landlock for
 * where it may write, then its own seccomp allowlist.
 *
 * How the list was found: `strace -f` on the service under
 * it_test_delivery, it_test_inbox and it_test_faults (implicit TLS,
 * STARTTLS, refusals, the MTA down, retries, a 7 MB message, pacing,
 * `queue run`), keeping the calls a deliverer makes after its privilege
 * drop; then the paths those tests do not take on this machine but
 * production does, taken from the worker's list: libcurl's threaded
 * resolver (a thread per lookup of a name other than "localhost"),
 * getaddrinfo's DNS over UDP and its rtnetlink probe, glibc's syslog
 * reconnecting to /dev/log, hiredis for a Redis pacing table.
 * tests/unit/svc/test_sandbox_deliver.c runs those paths under the filter;
 * tests/integration/test_deliver_sandbox.py delivers through it.
 *
 * Left out, on purpose (the worker's list has some of them): execve and
 * execveat, fork/vfork and clone of processes, ptrace and
 * process_vm_readv/writev, bind, listen, accept (libcurl's SMTP never
 * listens: that is FTP's active mode), the setuid family, mount and
 * namespaces, bpf, perf_event_open, userfaultfd, io_uring, keyctl,
 * memfd_create, prctl, seccomp and landlock themselves, mkdir, mknod,
 * symlink, chmod and chown of any kind, kill of another process.
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/landlock.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif

#include "lib/log.h"
#include "svc/sandbox.h"
#include "svc/sandbox_int.h"

/* Rights of later ABIs than the headers of the build machine know. */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER	(1ULL << 13)	/* ABI 2 */
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE	(1ULL << 14)	/* ABI 3 */
#endif

#define D	SBX_DELIVER

const struct sandbox_rule sandbox_deliver_rules[] = {
	/* I/O on descriptors it holds: spool files, the SMTP connection,
	 * the inotify descriptor, libcurl's wake-up socketpair. */
	SBX_ANY("read", D), SBX_ANY("readv", D), SBX_ANY("pread64", D),
	SBX_ANY("write", D), SBX_ANY("writev", D), SBX_ANY("pwrite64", D),
	SBX_ANY("lseek", D), SBX_ANY("close", D), SBX_ANY("dup", D),
	SBX_ANY("dup2", D), SBX_ANY("dup3", D), SBX_ANY("fstat", D),
	SBX_ANY("fsync", D), SBX_ANY("fdatasync", D), SBX_ANY("poll", D),
	SBX_ANY("ppoll", D), SBX_ANY("select", D), SBX_ANY("pselect6", D),
	SBX_ANY("pipe2", D), SBX_ANY("eventfd2", D),
	/* As the worker's: no F_SETOWN/F_SETSIG, leases or notifications. */
	SBX_IF("fcntl", D, SBX_EQ(1, F_GETFD)),
	SBX_IF("fcntl", D, SBX_EQ(1, F_SETFD)),
	SBX_IF("fcntl", D, SBX_EQ(1, F_GETFL)),
	SBX_IF("fcntl", D, SBX_EQ(1, F_SETFL)),
	SBX_IF("fcntl", D, SBX_EQ(1, F_DUPFD)),
	SBX_IF("fcntl", D, SBX_EQ(1, F_DUPFD_CLOEXEC)),
	SBX_IF("fcntl", D, SBX_EQ(1, F_GETLK)),
	SBX_IF("fcntl", D, SBX_EQ(1, F_SETLK)),
	SBX_IF("fcntl", D, SBX_EQ(1, F_SETLKW)),
	SBX_IF("fcntl", D, SBX_EQ(1, F_OFD_GETLK)),
	SBX_IF("fcntl", D, SBX_EQ(1, F_OFD_SETLK)),
	SBX_IF("fcntl", D, SBX_EQ(1, F_OFD_SETLKW)),
	SBX_IF("ioctl", D, SBX_EQ(1, TCGETS)),
	SBX_IF("ioctl", D, SBX_EQ(1, FIONREAD)),
	SBX_IF("ioctl", D, SBX_EQ(1, FIONBIO)),
	SBX_IF("ioctl", D, SBX_EQ(1, FIOCLEX)),
	SBX_IF("ioctl", D, SBX_EQ(1, FIONCLEX)),
	/*
	 * Files by name: the spool (claim, defer, fail, done: flock,
	 * rewrite, rename between queue/ and failed/, unlink), the pacing
	 * and stats tables, CA files, /etc/hosts, resolv.conf, gai.conf.
	 * Where it may write is Landlock's to say (sandbox_landlock);
	 * seccomp cannot see a path.
	 */
	SBX_ANY("openat", D), SBX_ANY("newfstatat", D), SBX_ANY("statx", D),
	SBX_ANY("access", D), SBX_ANY("faccessat", D),
	SBX_ANY("faccessat2", D), SBX_ANY("readlink", D),
	SBX_ANY("readlinkat", D), SBX_ANY("getdents64", D),
	SBX_ANY("link", D), SBX_ANY("linkat", D), SBX_ANY("unlink", D),
	SBX_ANY("unlinkat", D), SBX_ANY("rename", D), SBX_ANY("renameat", D),
	SBX_ANY("renameat2", D), SBX_ANY("flock", D),
	/* A pacing table found broken is made anew (throttle_create). */
	SBX_ANY("ftruncate", D), SBX_ANY("fallocate", D),
	/* New files in queue/ (deliver_loop); a full scan is the fallback. */
	SBX_ANY("inotify_init1", D), SBX_ANY("inotify_add_watch", D),
	SBX_ANY("inotify_rm_watch", D),
	/* Memory, W^X as for the worker (sandbox.c says why). */
	SBX_ANY("brk", D), SBX_ANY("munmap", D), SBX_ANY("mremap", D),
	SBX_ANY("madvise", D),
	SBX_IF("mmap", D, SBX_MASKED(2, PROT_WRITE | PROT_EXEC, 0)),
	SBX_IF("mmap", D, SBX_MASKED(2, PROT_WRITE | PROT_EXEC, PROT_WRITE)),
	SBX_IF("mmap", D, SBX_MASKED(2, PROT_WRITE | PROT_EXEC, PROT_EXEC)),
	SBX_IF("mprotect", D, SBX_MASKED(2, PROT_EXEC, 0)),
	/* Time, pacing sleeps, its own signals. */
	SBX_ANY("clock_gettime", D), SBX_ANY("clock_getres", D),
	SBX_ANY("gettimeofday", D), SBX_ANY("time", D),
	SBX_ANY("nanosleep", D), SBX_ANY("clock_nanosleep", D),
	SBX_ANY("rt_sigaction", D), SBX_ANY("rt_sigprocmask", D),
	SBX_ANY("rt_sigreturn", D), SBX_ANY("restart_syscall", D),
	SBX_ANY("sigaltstack", D),
	/* Read-only facts; its own limits, read only. */
	SBX_ANY("getpid", D), SBX_ANY("gettid", D), SBX_ANY("getuid", D),
	SBX_ANY("geteuid", D), SBX_ANY("getgid", D), SBX_ANY("getegid", D),
	SBX_ANY("getresuid", D), SBX_ANY("getresgid", D),
	SBX_ANY("getgroups", D), SBX_ANY("uname", D), SBX_ANY("sysinfo", D),
	SBX_ANY("getrusage", D), SBX_ANY("getrlimit", D),
	SBX_ANY("sched_getaffinity", D), SBX_ANY("sched_yield", D),
	SBX_IF2("prlimit64", D, SBX_EQ(0, 0), SBX_EQ(2, 0)),
	/* OpenSSL: TLS, DKIM signatures. */
	SBX_ANY("getrandom", D),
	/* Threads for libcurl's resolver, never a process; as the worker. */
	SBX_IF("clone", D, SBX_MASKED(0, CLONE_THREAD | SBX_CLONE_NS,
	    CLONE_THREAD)),
	SBX_ERRNO("clone3", D, ENOSYS),
	SBX_ANY("set_robust_list", D), SBX_ANY("rseq", D),
	SBX_IF("futex", D, SBX_MASKED(1, SBX_FUTEX_CMD, FUTEX_WAIT)),
	SBX_IF("futex", D, SBX_MASKED(1, SBX_FUTEX_CMD, FUTEX_WAKE)),
	SBX_IF("futex", D, SBX_MASKED(1, SBX_FUTEX_CMD, FUTEX_REQUEUE)),
	SBX_IF("futex", D, SBX_MASKED(1, SBX_FUTEX_CMD, FUTEX_CMP_REQUEUE)),
	SBX_IF("futex", D, SBX_MASKED(1, SBX_FUTEX_CMD, FUTEX_WAKE_OP)),
	SBX_IF("futex", D, SBX_MASKED(1, SBX_FUTEX_CMD, FUTEX_WAIT_BITSET)),
	SBX_IF("futex", D, SBX_MASKED(1, SBX_FUTEX_CMD, FUTEX_WAKE_BITSET)),
	SBX_ANY("exit", D), SBX_ANY("exit_group", D),
	/*
	 * Sockets as libcurl, the resolver, hiredis and syslog use them:
	 * stream and datagram sockets of AF_UNIX, AF_INET and AF_INET6,
	 * connect, send, receive, options.  No bind, listen or accept;
	 * rtnetlink (getaddrinfo's AI_ADDRCONFIG) refused as for the worker.
	 */
	SBX_IF2("socket", D, SBX_EQ(0, AF_UNIX),
	    SBX_MASKED(1, SBX_SOCK_TYPE, SOCK_STREAM)),
	SBX_IF2("socket", D, SBX_EQ(0, AF_UNIX),
	    SBX_MASKED(1, SBX_SOCK_TYPE, SOCK_DGRAM)),
	SBX_IF2("socket", D, SBX_EQ(0, AF_INET),
	    SBX_MASKED(1, SBX_SOCK_TYPE, SOCK_STREAM)),
	SBX_IF2("socket", D, SBX_EQ(0, AF_INET),
	    SBX_MASKED(1, SBX_SOCK_TYPE, SOCK_DGRAM)),
	SBX_IF2("socket", D, SBX_EQ(0, AF_INET6),
	    SBX_MASKED(1, SBX_SOCK_TYPE, SOCK_STREAM)),
	SBX_IF2("socket", D, SBX_EQ(0, AF_INET6),
	    SBX_MASKED(1, SBX_SOCK_TYPE, SOCK_DGRAM)),
	SBX_ERRNO_IF("socket", D, EAFNOSUPPORT, SBX_EQ(0, AF_NETLINK)),
	SBX_IF("socketpair", D, SBX_EQ(0, AF_UNIX)),
	SBX_ANY("connect", D), SBX_ANY("sendto", D), SBX_ANY("sendmsg", D),
	SBX_ANY("sendmmsg", D), SBX_ANY("recvfrom", D), SBX_ANY("recvmsg", D),
	SBX_ANY("shutdown", D), SBX_ANY("getsockopt", D),
	SBX_ANY("setsockopt", D), SBX_ANY("getsockname", D),
	SBX_ANY("getpeername", D),
};
const size_t sandbox_deliver_nrules =
    sizeof(sandbox_deliver_rules) / sizeof(sandbox_deliver_rules[0]);

#undef D

int
sandbox_landlock_abi(void)
{
	long	 v;

	v = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	return v < 0 ? 0 : (int)v;
}

/* The write rights Landlock handles at ABI version abi (see below). */
static __u64
sandbox_ll_handled(int abi)
{
	__u64	 r = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
	    LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
	    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
	    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
	    LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
	    LANDLOCK_ACCESS_FS_MAKE_SYM;

	if (abi >= 2)
		r |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		r |= LANDLOCK_ACCESS_FS_TRUNCATE;
	return r;
}

/* Grants allowed beneath dir in ruleset rs.  Returns 0 or -1 (err). */
static int
sandbox_ll_dir(int rs, const char *dir, __u64 allowed, char *err,
    size_t errsize)
{
	struct landlock_path_beneath_attr	 pb;
	int					 fd, rc;

	if ((fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(err, errsize, "landlock: %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = allowed;
	pb.parent_fd = fd;
	rc = (int)syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH,
	    &pb, 0);
	if (rc == -1)
		snprintf(err, errsize, "landlock: rule for %s: %s", dir,
		    strerror(errno));
	close(fd);
	return rc == -1 ? -1 : 0;
}

/*
 * Landlock: nothing may be executed, and files may be written, created,
 * truncated, renamed or removed only beneath spool and state; reading
 * stays as the uid and the modes allow (CA files, resolver files, NSS
 * modules).  Returns 1 when confined, 0 when the kernel has no Landlock
 * (logged), -1 (err) when it has but the rules cannot be set.
 */
static int
sandbox_landlock(const char *spool, const char *state, char *err,
    size_t errsize)
{
	struct landlock_ruleset_attr	 ra;
	__u64				 dirs, aside;
	int				 abi, rs, ret = -1;

	if ((abi = sandbox_landlock_abi()) < 1) {
		log_warn("landlock: not in this kernel (%s); the deliverer's "
		    "writes are confined by its uid and the file modes only",
		    strerror(errno));
		return 0;
	}
	memset(&ra, 0, sizeof(ra));
	ra.handled_access_fs = sandbox_ll_handled(abi);
	dirs = ra.handled_access_fs & (LANDLOCK_ACCESS_FS_WRITE_FILE |
	    LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_REG |
	    LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE);
	if ((rs = (int)syscall(SYS_landlock_create_ruleset, &ra, sizeof(ra),
	    0)) == -1) {
		snprintf(err, errsize, "landlock: ruleset (ABI %d): %s", abi,
		    strerror(errno));
		return -1;
	}
	/*
	 * spool_aside() renames what is not a regular file (a FIFO, link,
	 * socket, device, directory) into bad/: Landlock asks for the right
	 * to make and remove that kind.  seccomp still refuses mknod,
	 * symlink, mkdir and rmdir, so only a rename or link within the
	 * spool uses these rights.
	 */
	aside = ra.handled_access_fs & (LANDLOCK_ACCESS_FS_MAKE_FIFO |
	    LANDLOCK_ACCESS_FS_MAKE_SYM | LANDLOCK_ACCESS_FS_MAKE_SOCK |
	    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
	    LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR);
	if (sandbox_ll_dir(rs, spool, dirs | aside, err, errsize) == -1 ||
	    sandbox_ll_dir(rs, state, dirs, err, errsize) == -1)
		goto out;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    syscall(SYS_landlock_restrict_self, rs, 0) == -1) {
		snprintf(err, errsize, "landlock: restrict: %s",
		    strerror(errno));
		goto out;
	}
	ret = 1;
out:
	close(rs);
	return ret;
}

int
sandbox_deliver(const char *spool_dir, const char *state_dir, char *err,
    size_t errsize)
{
#ifdef RUNNING_ON_VALGRIND
	/* As sandbox_load(): valgrind's own files (its log, vgdb's FIFOs)
	 * are written from this process. */
	if (RUNNING_ON_VALGRIND)
		return sandbox_load(SBX_DELIVER, err, errsize);
#endif
	if (sandbox_landlock(spool_dir, state_dir, err, errsize) == -1)
		return -1;
	return sandbox_load(SBX_DELIVER, err, errsize);
}
