/*
 * test_sandbox: the seccomp allowlists.  Each case runs in a forked child
 * that loads a profile and then makes its calls: a forbidden call must
 * end the child with SIGSYS, an allowed path must run to the end.  The
 * allowed cases are the paths the integration tests do not take on this
 * machine (libcurl's threaded resolver, netlink from getaddrinfo, a
 * second malloc arena, syslog's reconnect).
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <seccomp.h>

#include "svc/sandbox.h"
#include "t.h"
#include "svc/sandbox_t.h"

#define T_DIR_MAX	64

static char	 t_dir[T_DIR_MAX];	/* scratch directory */

enum t_profile { T_WORKER, T_CGI };
enum t_expect { T_RUNS, T_KILLED };
enum t_needs { T_ANY, T_IA32, T_INET6, T_NEEDS_MAX };	/* of the kernel */

/* ---- forbidden ---------------------------------------------------- */

static int
f_thread_in_new_netns(void)
{
	return (int)syscall(SYS_clone, (long)(CLONE_VM | CLONE_SIGHAND |
	    CLONE_THREAD | CLONE_NEWNET), 0L, 0L, 0L, 0L);
}

static int
f_ptrace(void)
{
	return (int)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
}

static int
f_raw_socket(void)
{
	return socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
}

static int
f_kill_group(void)
{
	return kill(0, 0);
}

static int
f_mmap_wx(void)
{
	return mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? -1 : 0;
}

static int
f_prctl(void)
{
	return prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}

static int
f_unshare(void)
{
	return unshare(CLONE_NEWUSER);
}

static int
f_tiocsti(void)
{
	char	 c = 'x';

	return ioctl(0, TIOCSTI, &c);
}

static int
f_setown(void)
{
	return fcntl(0, F_SETOWN, getppid());
}

static int
f_mkdir(void)
{
	char	 p[T_DIR_MAX + 8];

	snprintf(p, sizeof(p), "%s/d", t_dir);
	return mkdir(p, 0700);
}

static int
f_chmod(void)
{
	return chmod(t_dir, 0777);
}

static int
f_seccomp(void)
{
	return prctl(PR_SET_SECCOMP, 2, NULL, 0, 0);
}

static int
f_io_uring(void)
{
	return (int)syscall(425 /* io_uring_setup */, 1L, NULL);
}

static int
f_fork(void)
{
	if (fork() == 0)
		_exit(0);
	return 0;
}

#if defined(__x86_64__)
/* getpid through the i386 entry (int 0x80): a foreign architecture. */
static int
f_int80(void)
{
	long	 r = 20;	/* i386 __NR_getpid */

	__asm__ volatile ("int $0x80" : "+a"(r) : : "memory");
	return (int)r;
}

/*
 * Whether this kernel runs i386 calls of a 64-bit process at all: a
 * kernel without IA32 emulation (CONFIG_IA32_EMULATION=n, or
 * ia32_emulation=false on its command line) has no int 0x80 gate and
 * raises SIGSEGV, whatever the filter says, so the filter's SIGSYS
 * cannot be seen there.  Probed in a child without the filter: 1 when
 * int 0x80 getpid answers the child's pid, 0 (why set) on SIGSEGV, -1
 * (why set) on anything else, where the check is made and fails.
 * F2M_TEST_FORCE_NO_IA32=1 forces 0, for the test of the skip path.
 */
static int
t_have_ia32(char *why, size_t size)
{
	const char	*force = getenv("F2M_TEST_FORCE_NO_IA32");
	char		 got[64];
	pid_t		 pid;
	int		 st;

	if (force != NULL && strcmp(force, "1") == 0) {
		snprintf(why, size, "kernel has no IA32 emulation (forced by "
		    "F2M_TEST_FORCE_NO_IA32=1)");
		return 0;
	}
	if ((pid = fork()) == -1) {
		snprintf(why, size, "probe: fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0)
		_exit(f_int80() == (int)getpid() ? 0 : 1);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR) {
			snprintf(why, size, "probe: waitpid: %s",
			    strerror(errno));
			return -1;
		}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 1;
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV) {
		snprintf(why, size, "kernel has no IA32 emulation (int 0x80 "
		    "in an unfiltered child raised SIGSEGV)");
		return 0;
	}
	snprintf(why, size, "probe: int 0x80 getpid in an unfiltered child: "
	    "%s", t_status(st, got, sizeof(got)));
	return -1;
}

/* getpid with the x32 bit set. */
static int
f_x32(void)
{
	return (int)syscall(0x40000000L | SYS_getpid);
}
#endif

/* ---- allowed ------------------------------------------------------ */

static void *
a_thread_main(void *arg)
{
	char	*p;

	(void)arg;
	/* malloc in a second thread makes a new arena (mmap, mprotect). */
	if ((p = malloc(200000)) == NULL)
		return NULL;
	memset(p, 1, 200000);
	free(p);
	return (void *)(uintptr_t)1;
}

static int
a_thread(void)
{
	pthread_t	 t;
	void		*ret = NULL;

	if (pthread_create(&t, NULL, a_thread_main, NULL) != 0 ||
	    pthread_join(t, &ret) != 0)
		return 1;
	return ret == (void *)(uintptr_t)1 ? 0 : 1;
}

static int
a_memory(void)
{
	char	*p, *q;

	if ((p = malloc(1 << 20)) == NULL)
		return 1;
	memset(p, 2, 1 << 20);
	/* A large realloc moves a mapping with mremap. */
	if ((q = realloc(p, 8 << 20)) == NULL) {
		free(p);
		return 1;
	}
	memset(q, 3, 8 << 20);
	free(q);
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || mprotect(p, 4096, PROT_READ | PROT_WRITE) ==
	    -1 || munmap(p, 4096) == -1)
		return 1;
	return 0;
}

static int
a_netlink_refused(void)
{
	int	 fd = socket(AF_NETLINK, SOCK_RAW, 0);

	return fd == -1 && errno == EAFNOSUPPORT ? 0 : 1;
}

static int
a_clone3_enosys(void)
{
	return syscall(SYS_clone3, NULL, 0L) == -1 && errno == ENOSYS ? 0 : 1;
}

/* What a worker does to commit a spool file. */
static int
a_spool(void)
{
	char	 tmp[T_DIR_MAX + 8], dst[T_DIR_MAX + 8], dst2[T_DIR_MAX + 8];
	int	 fd, dfd, rc = 1;

	snprintf(tmp, sizeof(tmp), "%s/t", t_dir);
	snprintf(dst, sizeof(dst), "%s/q", t_dir);
	snprintf(dst2, sizeof(dst2), "%s/r", t_dir);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) ==
	    -1)
		return 1;
	if (write(fd, "x", 1) == 1 && fsync(fd) == 0 &&
	    flock(fd, LOCK_EX | LOCK_NB) == 0 && link(tmp, dst) == 0 &&
	    unlink(tmp) == 0 && rename(dst, dst2) == 0 && unlink(dst2) == 0)
		rc = 0;
	close(fd);
	if ((dfd = open(t_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(dfd) == -1)
		rc = 1;
	if (dfd != -1)
		close(dfd);
	return rc;
}

static volatile sig_atomic_t	 a_got;

static void
a_on_usr1(int sig)
{
	a_got = sig;
}

static int
a_misc(void)
{
	struct timespec	 ts = { 0, 1000000 };
	struct rlimit	 rl;
	unsigned char	 r[16];

	signal(SIGUSR1, a_on_usr1);
	if (raise(SIGUSR1) != 0 || a_got != SIGUSR1)
		return 1;
	if (kill(getpid(), 0) != 0 || nanosleep(&ts, NULL) != 0 ||
	    clock_gettime(CLOCK_MONOTONIC, &ts) != 0 ||
	    getrlimit(RLIMIT_NOFILE, &rl) != 0 ||
	    getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r) ||
	    sysconf(_SC_NPROCESSORS_ONLN) < 1 || isatty(1) < 0)
		return 1;
	return 0;
}

static int
a_pipe_dup(void)
{
	int	 p[2], d;

	if (pipe2(p, O_CLOEXEC) == -1 || (d = dup(p[0])) == -1 ||
	    fcntl(d, F_SETFD, FD_CLOEXEC) == -1 || fcntl(p[1], F_SETFL,
	    O_NONBLOCK) == -1)
		return 1;
	close(d);
	close(p[0]);
	close(p[1]);
	return 0;
}

static int
a_unix_sockets(void)
{
	int	 sv[2], u;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1 ||
	    (u = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return 1;
	close(sv[0]);
	close(sv[1]);
	close(u);
	return 0;
}

static int
a_inet6_socket(void)
{
	int	 i6;

	if ((i6 = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0)) == -1)
		return 1;
	close(i6);
	return 0;
}

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>

/* A heap overflow: the sanitizer's report, not a SIGSYS, must end it. */
static int
s_overflow(void)
{
	volatile size_t	 n = 10;	/* unknown to UBSan's object-size */
	char		*q = malloc(n);
	volatile char	*p = q;
	volatile int	 i = 12;

	if (q == NULL)
		return 1;
	p[i] = 1;
	free(q);
	return 0;
}

/* A shift UBSan refuses. */
static int
s_shift(void)
{
	volatile int	 n = 40, one = 1;

	return one << n;
}

#endif

/* ---- the table ---------------------------------------------------- */

static const struct {
	const char	*name;
	int		(*fn)(void);
	enum t_profile	 profile;
	enum t_expect	 expect;
	enum t_needs	 needs;
} cases[] = {
	{ "execve", f_execve, T_WORKER, T_KILLED, T_ANY },
	{ "execve (CGI)", f_execve, T_CGI, T_KILLED, T_ANY },
	{ "clone of a process", f_clone_process, T_WORKER, T_KILLED, T_ANY },
	{ "clone of a process (CGI)", f_clone_process, T_CGI, T_KILLED, T_ANY },
	{ "vfork", f_vfork, T_WORKER, T_KILLED, T_ANY },
	{ "thread in a new netns", f_thread_in_new_netns,
	    T_WORKER, T_KILLED, T_ANY },
	{ "ptrace", f_ptrace, T_WORKER, T_KILLED, T_ANY },
	{ "process_vm_readv", f_process_vm_readv, T_WORKER, T_KILLED, T_ANY },
	{ "setuid", f_setuid, T_WORKER, T_KILLED, T_ANY },
	{ "AF_PACKET socket", f_packet_socket, T_WORKER, T_KILLED, T_ANY },
	{ "raw socket", f_raw_socket, T_WORKER, T_KILLED, T_ANY },
	{ "bind", f_bind, T_WORKER, T_KILLED, T_ANY },
	{ "listen", f_listen, T_WORKER, T_KILLED, T_ANY },
	{ "kill another process", f_kill_parent, T_WORKER, T_KILLED, T_ANY },
	{ "kill the process group", f_kill_group, T_WORKER, T_KILLED, T_ANY },
	{ "mprotect to executable", f_mprotect_exec,
	    T_WORKER, T_KILLED, T_ANY },
	{ "mmap writable+executable", f_mmap_wx, T_WORKER, T_KILLED, T_ANY },
	{ "prctl", f_prctl, T_WORKER, T_KILLED, T_ANY },
	{ "unshare", f_unshare, T_WORKER, T_KILLED, T_ANY },
	{ "memfd_create", f_memfd, T_WORKER, T_KILLED, T_ANY },
	{ "ioctl TIOCSTI", f_tiocsti, T_WORKER, T_KILLED, T_ANY },
	{ "fcntl F_SETOWN", f_setown, T_WORKER, T_KILLED, T_ANY },
	{ "mkdir", f_mkdir, T_WORKER, T_KILLED, T_ANY },
	{ "chmod", f_chmod, T_CGI, T_KILLED, T_ANY },
	{ "a second filter", f_seccomp, T_WORKER, T_KILLED, T_ANY },
	{ "io_uring_setup", f_io_uring, T_WORKER, T_KILLED, T_ANY },
	{ "fork", f_fork, T_WORKER, T_KILLED, T_ANY },
#if defined(__x86_64__)
	{ "i386 call (int 0x80)", f_int80, T_WORKER, T_KILLED, T_IA32 },
	{ "x32 call", f_x32, T_WORKER, T_KILLED, T_ANY },
#endif
	{ "threads and a second arena", a_thread, T_WORKER, T_RUNS, T_ANY },
	{ "malloc, realloc (mremap), mprotect", a_memory,
	    T_WORKER, T_RUNS, T_ANY },
	{ "getaddrinfo with AI_ADDRCONFIG", a_getaddrinfo,
	    T_WORKER, T_RUNS, T_ANY },
	{ "netlink refused with EAFNOSUPPORT", a_netlink_refused, T_WORKER,
	    T_RUNS, T_ANY },
	{ "clone3 refused with ENOSYS", a_clone3_enosys,
	    T_WORKER, T_RUNS, T_ANY },
	{ "libcurl threaded resolver and connect", a_curl,
	    T_WORKER, T_RUNS, T_ANY },
	{ "libcurl (CGI)", a_curl, T_CGI, T_RUNS, T_ANY },
	{ "syslog", a_syslog, T_WORKER, T_RUNS, T_ANY },
	{ "spool commit", a_spool, T_WORKER, T_RUNS, T_ANY },
	{ "spool commit (CGI)", a_spool, T_CGI, T_RUNS, T_ANY },
	{ "signals to itself, time, limits, random", a_misc, T_WORKER,
	    T_RUNS, T_ANY },
	{ "pipes, dup, fcntl", a_pipe_dup, T_WORKER, T_RUNS, T_ANY },
	{ "unix sockets", a_unix_sockets, T_WORKER, T_RUNS, T_ANY },
	{ "inet6 socket", a_inet6_socket, T_WORKER, T_RUNS, T_INET6 },
#if defined(__SANITIZE_ADDRESS__)
	{ "LeakSanitizer check (CGI)", a_lsan, T_CGI, T_RUNS, T_ANY },
#endif
};

/* As main_cgi(): not dumpable, then the filter. */
static int
t_load_cgi(char *err, size_t errsize)
{
	return sandbox_no_core(err, errsize) == -1 ? -1 :
	    sandbox_cgi(err, errsize);
}

/* Runs fn in a child under profile; returns its wait status (-1). */
static int
t_run(int (*fn)(void), enum t_profile profile)
{
	return t_child(profile == T_WORKER ? sandbox_worker : t_load_cgi, fn);
}

static int
t_setup(void)
{
	snprintf(t_dir, sizeof(t_dir), "/tmp/f2m-test-sandbox-XXXXXX");
	if (mkdtemp(t_dir) == NULL)
		return -1;
	return t_loopback();
}

#if defined(__SANITIZE_ADDRESS__)
/*
 * The sanitizer build: a report made under the worker filter is printed
 * whole (its symbolizer reads files and may try to fork) and ends the
 * process with the sanitizer's exit status 1.
 */
static void
t_report(const char *name, int (*fn)(void), const char *want, int stack)
{
	char	 path[T_DIR_MAX + 8], got[64], err[256], text[8192];
	ssize_t	 n = 0;
	pid_t	 pid;
	int	 fd, st = -1;

	snprintf(path, sizeof(path), "%s/report", t_dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) == -1)
		return;
	if ((pid = fork()) == 0) {
		if (dup2(fd, 2) == -1 || sandbox_worker(err, sizeof(err)) == -1)
			_exit(3);
		_exit(fn() == 0 ? 0 : 2);
	}
	if (pid > 0)
		waitpid(pid, &st, 0);
	if ((n = pread(fd, text, sizeof(text) - 1, 0)) < 0)
		n = 0;
	text[n] = '\0';
	close(fd);
	T_OK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 1, "%s: expected "
	    "the sanitizer's exit 1, got %s", name, t_status(st, got,
	    sizeof(got)));
	T_OK(strstr(text, want) != NULL && (!stack || strstr(text, "#1 ") !=
	    NULL), "%s: expected a report with \"%s\"%s, got:\n%s", name, want,
	    stack ? " and a stack" : "", text);
}
#endif

static void
t_no_core(void)
{
	struct rlimit	 rl;
	char		 err[256];
	pid_t		 pid;
	int		 st;

	if ((pid = fork()) == 0) {
		if (sandbox_no_core(err, sizeof(err)) == -1 ||
		    getrlimit(RLIMIT_CORE, &rl) == -1 || rl.rlim_cur != 0 ||
		    rl.rlim_max != 0 || prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
			_exit(1);
		_exit(0);
	}
	T_OK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0, "sandbox_no_core: RLIMIT_CORE 0 and not "
	    "dumpable: expected exit 0, got %s", t_status(st, err,
	    sizeof(err)));
}

/*
 * Whether this kernel has IPv6 sockets (not so with ipv6.disable=1):
 * 1, or 0 with why set.  Probed before any filter.
 */
static int
t_have_inet6(char *why, size_t size)
{
	int	 fd;

	if ((fd = socket(AF_INET6, SOCK_DGRAM, 0)) == -1) {
		snprintf(why, size, "kernel has no IPv6 sockets (socket("
		    "AF_INET6) unfiltered: %s)", strerror(errno));
		return 0;
	}
	close(fd);
	return 1;
}

/*
 * Where the kernel cannot kill a whole process (seccomp API level < 3,
 * no SECCOMP_RET_KILL_PROCESS), no filter is loaded and none of the
 * cases can be checked: the loaders must refuse rather than run the
 * process without one.
 */
static void
t_refused(void)
{
	char	 err[256];
	pid_t	 pid;
	int	 st, rc[2] = { 0, 0 };
	int	 p[2];

	if (pipe(p) == -1)
		return;
	if ((pid = fork()) == 0) {
		close(p[0]);
		rc[0] = sandbox_worker(err, sizeof(err));
		rc[1] = sandbox_cgi(err, sizeof(err));
		_exit(write(p[1], rc, sizeof(rc)) == (ssize_t)sizeof(rc) ?
		    0 : 1);
	}
	close(p[1]);
	T_OK(pid > 0 && read(p[0], rc, sizeof(rc)) == (ssize_t)sizeof(rc) &&
	    rc[0] == -1 && rc[1] == -1, "seccomp API level %u: expected both "
	    "loaders to refuse (-1), got %d and %d", seccomp_api_get(), rc[0],
	    rc[1]);
	close(p[0]);
	if (pid > 0)
		waitpid(pid, &st, 0);
}

/*
 * test_sandbox             every case any kernel can check, and the reports
 * test_sandbox ia32|inet6  only the cases that need that kernel feature:
 *                          their own ctest test, so where the kernel lacks
 *                          it ctest shows that test skipped (exit 77)
 */
int
main(int argc, char **argv)
{
	static const char *const need_names[T_NEEDS_MAX] = {
		"any", "ia32", "inet6" };
	char		 got[64], want[64], cmd[128], why[T_NEEDS_MAX][160];
	int		 have[T_NEEDS_MAX];
	enum t_needs	 only = T_ANY;
	unsigned int	 api;
	size_t		 i;
	int		 st;

	if (argc > 2) {
		fprintf(stderr, "usage: test_sandbox [ia32|inet6]\n");
		return 2;
	}
	if (argc == 2) {
		for (i = 1; i < T_NEEDS_MAX; i++)
			if (strcmp(argv[1], need_names[i]) == 0)
				only = (enum t_needs)i;
		if (only == T_ANY) {
			fprintf(stderr, "test_sandbox: unknown feature %s\n",
			    argv[1]);
			return 2;
		}
	}

	if (t_setup() == -1) {
		fprintf(stderr, "test_sandbox: setup failed: %s\n",
		    strerror(errno));
		return 1;
	}
	if (only == T_ANY)
		T_OK(curl_version_info(CURLVERSION_NOW)->features &
		    CURL_VERSION_ASYNCHDNS, "libcurl has the threaded resolver");
	have[T_ANY] = 1;
#if defined(__x86_64__)
	have[T_IA32] = t_have_ia32(why[T_IA32], sizeof(why[T_IA32]));
	if (have[T_IA32] == -1)
		fprintf(stderr, "test_sandbox: %s\n", why[T_IA32]);
#else
	have[T_IA32] = 1;	/* no case needs it */
#endif
	have[T_INET6] = t_have_inet6(why[T_INET6], sizeof(why[T_INET6]));
	if ((api = seccomp_api_get()) < 3) {
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			if (cases[i].needs == only)
				T_SKIP(cases[i].name, "seccomp API level %u < 3 (no "
			    "SECCOMP_RET_KILL_PROCESS): no filter loads",
			    api);
		if (only == T_ANY)
			t_refused();
	}
	for (i = 0; api >= 3 && i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].needs != only)
			continue;
		if (have[cases[i].needs] == 0) {
			T_SKIP(cases[i].name, "%s", why[cases[i].needs]);
			continue;
		}
		st = t_run(cases[i].fn, cases[i].profile);
		if (cases[i].expect == T_KILLED) {
			snprintf(want, sizeof(want), "killed by signal %d",
			    SIGSYS);
			T_OK(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) ==
			    SIGSYS, "%s: expected %s, got %s", cases[i].name,
			    want, t_status(st, got, sizeof(got)));
		} else
			T_OK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
			    "%s: expected exit 0, got %s", cases[i].name,
			    t_status(st, got, sizeof(got)));
	}
	if (only == T_ANY)
		t_no_core();
#if defined(__SANITIZE_ADDRESS__)
	if (only != T_ANY)
		;
	else if (api >= 3) {
		t_report("heap overflow under the filter", s_overflow,
		    "heap-buffer-overflow", 1);
		t_report("UBSan error under the filter", s_shift,
		    "runtime error", 0);
	} else {
		T_SKIP("heap overflow under the filter", "seccomp API level "
		    "%u < 3", api);
		T_SKIP("UBSan error under the filter", "seccomp API level "
		    "%u < 3", api);
	}
#endif
	curl_global_cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", t_dir);
	if (system(cmd) != 0)
		return 1;
	T_DONE();
}
