/*
 * test_sandbox_deliver: the deliverer's confinement (sandbox_deliver,
 * issue 16 F5).  Each case runs in a forked child that loads it, with a
 * scratch spool and state directory, and then makes its calls: a call
 * outside the seccomp allowlist must end the child with SIGSYS; a write
 * outside the two directories must fail with EACCES or EXDEV (Landlock)
 * and leave nothing behind; what a delivery does must run to the end.
 *
 * test_sandbox_deliver           every case (the Landlock ones reported
 *                                skipped, with the reason, on a kernel
 *                                without Landlock)
 * test_sandbox_deliver landlock  only the Landlock cases: their own ctest
 *                                test, skipped (77) on such a kernel
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
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
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <curl/curl.h>
#include <seccomp.h>

#include "svc/sandbox.h"
#include "t.h"
#include "svc/sandbox_t.h"

#define T_PATH	128

static char	 t_dir[64];		/* scratch: spool/, state/, outside/ */
static char	 t_spool[T_PATH], t_state[T_PATH], t_out[T_PATH];

enum t_expect { T_RUNS, T_KILLED };
enum t_needs { T_ANY, T_LANDLOCK };

static void
t_path(char *buf, const char *dir, const char *name)
{
	if (snprintf(buf, T_PATH, "%s/%s", dir, name) >= T_PATH)
		abort();
}

/* ---- forbidden by seccomp ----------------------------------------- */

static int
f_execveat(void)
{
	char *const argv[] = { (char *)(uintptr_t)"/bin/sh", NULL };

	return (int)syscall(SYS_execveat, AT_FDCWD, "/bin/sh", argv, NULL, 0);
}

#if !defined(__SANITIZE_ADDRESS__)
static int
f_ptrace(void)
{
	return (int)ptrace(PTRACE_ATTACH, getppid(), NULL, NULL);
}
#endif

static int
f_process_vm_writev(void)
{
	char		 a[8] = "x", b[8];
	struct iovec	 l = { a, sizeof(a) }, r = { b, sizeof(b) };

	return (int)process_vm_writev(getppid(), &l, 1, &r, 1, 0);
}

static int
f_accept(void)
{
	return accept(socket(AF_INET, SOCK_STREAM, 0), NULL, NULL);
}

static int
f_mkdir(void)
{
	char	 p[T_PATH];

	t_path(p, t_spool, "d");
	return mkdir(p, 0700);
}

static int
f_symlink(void)
{
	char	 p[T_PATH];

	t_path(p, t_spool, "l");
	return symlink("/etc/passwd", p);
}

static int
f_chmod(void)
{
	return chmod(t_spool, 0777);
}

static int
f_mknod(void)
{
	char	 p[T_PATH];

	t_path(p, t_spool, "fifo");
	return mkfifo(p, 0600);
}

#if !defined(__SANITIZE_ADDRESS__)
static int
f_prctl(void)
{
	return prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}
#endif

static int
f_landlock_again(void)
{
	return (int)syscall(SYS_landlock_create_ruleset, NULL, 0, 1U);
}

/* ---- allowed: what a delivery does -------------------------------- */

/* Claim, rewrite, fail, done: spool_claim .. spool_done in small. */
static int
a_spool(void)
{
	char	 tmp[T_PATH], q[T_PATH], failed[T_PATH];
	int	 fd, dfd, rc = 1;

	t_path(tmp, t_spool, "tmp.x");
	t_path(q, t_spool, "q.x");
	t_path(failed, t_spool, "failed.x");
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		return 1;
	if (write(fd, "x", 1) == 1 && fsync(fd) == 0 &&
	    flock(fd, LOCK_EX | LOCK_NB) == 0 && link(tmp, q) == 0 &&
	    unlink(tmp) == 0 && rename(q, failed) == 0 &&
	    unlink(failed) == 0)
		rc = 0;
	close(fd);
	if ((dfd = open(t_spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(dfd) == -1)
		rc = 1;
	if (dfd != -1)
		close(dfd);
	return rc;
}

/* The pacing and stats tables: create, size, map, lock. */
static int
a_state(void)
{
	char	 p[T_PATH];
	void	*m;
	int	 fd, rc = 1;

	t_path(p, t_state, "pacing.shm");
	if ((fd = open(p, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) == -1)
		return 1;
	if (ftruncate(fd, 0) == 0 && posix_fallocate(fd, 0, 8192) == 0 &&
	    (m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
	    0)) != MAP_FAILED) {
		memset(m, 1, 8192);
		rc = munmap(m, 8192) == 0 && lockf(fd, F_TLOCK, 0) == 0 ? 0 : 1;
	}
	close(fd);
	return rc;
}

static int
a_inotify(void)
{
	int	 fd;

	if ((fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1 ||
	    inotify_add_watch(fd, t_spool, IN_MOVED_TO | IN_CREATE) == -1)
		return 1;
	close(fd);
	return 0;
}

static volatile sig_atomic_t	 a_got;

static void
a_on_term(int sig)
{
	a_got = sig;
}

/* SIGTERM to itself (the stop), a pacing sleep, a second malloc arena. */
static void *
a_thread_main(void *arg)
{
	char	*p = malloc(200000);

	(void)arg;
	if (p != NULL)
		memset(p, 1, 200000);
	free(p);
	return p != NULL ? (void *)(uintptr_t)1 : NULL;
}

static int
a_misc(void)
{
	struct timespec	 ts = { 0, 1000000 };
	pthread_t	 t;
	void		*ret = NULL;

	signal(SIGTERM, a_on_term);
	if (raise(SIGTERM) != 0 || a_got != SIGTERM || nanosleep(&ts,
	    NULL) != 0 || pthread_create(&t, NULL, a_thread_main, NULL) != 0 ||
	    pthread_join(t, &ret) != 0)
		return 1;
	return ret == (void *)(uintptr_t)1 ? 0 : 1;
}

/* ---- Landlock: writes outside spool and state --------------------- */

/* 0 when the call failed with EACCES or EXDEV and what gone is gone. */
static int
t_denied(int rc, const char *gone)
{
	struct stat	 st;
	int		 e = errno;

	if (rc != -1) {
		fprintf(stderr, "the call succeeded\n");
		return 1;
	}
	if (e != EACCES && e != EXDEV) {
		fprintf(stderr, "errno %s\n", strerror(e));
		return 1;
	}
	return gone != NULL && lstat(gone, &st) == 0 ? 1 : 0;
}

static int
l_create_outside(void)
{
	char	 p[T_PATH];

	t_path(p, t_out, "new");
	return t_denied(open(p, O_WRONLY | O_CREAT | O_EXCL, 0600), p);
}

static int
l_create_tmp(void)
{
	return t_denied(open("/tmp", O_WRONLY | O_TMPFILE, 0600), NULL);
}

static int
l_write_outside(void)
{
	char	 p[T_PATH];

	t_path(p, t_out, "existing");
	return t_denied(open(p, O_WRONLY | O_APPEND), NULL);
}

static int
l_truncate_outside(void)
{
	char	 p[T_PATH];

	t_path(p, t_out, "existing");
	return t_denied(open(p, O_RDONLY | O_TRUNC), NULL);
}

static int
l_unlink_outside(void)
{
	char	 p[T_PATH];
	int	 rc;

	t_path(p, t_out, "existing");
	rc = unlink(p);
	if (t_denied(rc, NULL) != 0)
		return 1;
	return access(p, F_OK);		/* still there */
}

/* A spool file moved or linked out of the spool. */
static int
l_rename_out(void)
{
	char	 src[T_PATH], dst[T_PATH], dst2[T_PATH];
	int	 fd;

	t_path(src, t_spool, "m");
	t_path(dst, t_out, "m");
	t_path(dst2, t_out, "m2");
	if ((fd = open(src, O_WRONLY | O_CREAT, 0600)) == -1)
		return 1;
	close(fd);
	if (t_denied(rename(src, dst), dst) != 0 ||
	    t_denied(link(src, dst2), dst2) != 0)
		return 1;
	return unlink(src);
}

/* spool_aside(): a FIFO and a symlink in queue/ moved into bad/. */
static int
l_aside_in_spool(void)
{
	char	 q[T_PATH], bad[T_PATH], src[T_PATH], dst[T_PATH];

	t_path(q, t_spool, "queue");
	t_path(bad, t_spool, "bad");
	t_path(src, q, "fifo");
	t_path(dst, bad, "queue.fifo");
	if (rename(src, dst) == -1) {
		fprintf(stderr, "rename %s: %s\n", src, strerror(errno));
		return 1;
	}
	t_path(src, q, "link");
	t_path(dst, bad, "queue.link");
	if (rename(src, dst) == -1) {
		fprintf(stderr, "rename %s: %s\n", src, strerror(errno));
		return 1;
	}
	return 0;
}

/* ---- the table ---------------------------------------------------- */

static const struct {
	const char	*name;
	int		(*fn)(void);
	enum t_expect	 expect;
	enum t_needs	 needs;
} cases[] = {
	{ "execve", f_execve, T_KILLED, T_ANY },
	{ "execveat", f_execveat, T_KILLED, T_ANY },
	{ "clone of a process", f_clone_process, T_KILLED, T_ANY },
	{ "vfork", f_vfork, T_KILLED, T_ANY },
#if !defined(__SANITIZE_ADDRESS__)
	/* The ASan build lets LeakSanitizer's check at the end of `queue
	 * run` ptrace its threads and set the dumpable flag (sandbox.c). */
	{ "ptrace", f_ptrace, T_KILLED, T_ANY },
	{ "prctl", f_prctl, T_KILLED, T_ANY },
#endif
	{ "process_vm_readv", f_process_vm_readv, T_KILLED, T_ANY },
	{ "process_vm_writev", f_process_vm_writev, T_KILLED, T_ANY },
	{ "bind", f_bind, T_KILLED, T_ANY },
	{ "listen", f_listen, T_KILLED, T_ANY },
	{ "accept", f_accept, T_KILLED, T_ANY },
	{ "AF_PACKET socket", f_packet_socket, T_KILLED, T_ANY },
	{ "kill another process", f_kill_parent, T_KILLED, T_ANY },
	{ "setuid", f_setuid, T_KILLED, T_ANY },
	{ "mkdir in the spool", f_mkdir, T_KILLED, T_ANY },
	{ "symlink in the spool", f_symlink, T_KILLED, T_ANY },
	{ "chmod", f_chmod, T_KILLED, T_ANY },
	{ "mkfifo in the spool", f_mknod, T_KILLED, T_ANY },
	{ "mprotect executable", f_mprotect_exec, T_KILLED, T_ANY },
	{ "memfd_create", f_memfd, T_KILLED, T_ANY },
	{ "landlock again", f_landlock_again, T_KILLED, T_ANY },
	{ "spool: create, link, rename, unlink, flock", a_spool, T_RUNS,
	    T_ANY },
	{ "state: pacing table create, size, map, lock", a_state, T_RUNS,
	    T_ANY },
	{ "inotify on queue/", a_inotify, T_RUNS, T_ANY },
	{ "libcurl threaded resolver and connect", a_curl, T_RUNS, T_ANY },
	{ "getaddrinfo with AI_ADDRCONFIG", a_getaddrinfo, T_RUNS, T_ANY },
	{ "syslog", a_syslog, T_RUNS, T_ANY },
	{ "signal to itself, sleep, thread", a_misc, T_RUNS, T_ANY },
#if defined(__SANITIZE_ADDRESS__)
	{ "LeakSanitizer check", a_lsan, T_RUNS, T_ANY },
#endif
	{ "landlock: no new file outside", l_create_outside, T_RUNS,
	    T_LANDLOCK },
	{ "landlock: no O_TMPFILE in /tmp", l_create_tmp, T_RUNS, T_LANDLOCK },
	{ "landlock: no write to a file outside", l_write_outside, T_RUNS,
	    T_LANDLOCK },
	{ "landlock: no O_TRUNC outside", l_truncate_outside, T_RUNS,
	    T_LANDLOCK },
	{ "landlock: no unlink outside", l_unlink_outside, T_RUNS,
	    T_LANDLOCK },
	{ "landlock: no rename or link out of the spool", l_rename_out,
	    T_RUNS, T_LANDLOCK },
	{ "landlock: a FIFO and a symlink moved into bad/", l_aside_in_spool,
	    T_RUNS, T_LANDLOCK },
};

/* As server_deliverer(): not dumpable, then the confinement. */
static int
t_load(char *err, size_t errsize)
{
	return sandbox_no_core(err, errsize) == -1 ? -1 :
	    sandbox_deliver(t_spool, t_state, err, errsize);
}

static int
t_setup(void)
{
	char	 p[T_PATH], q[T_PATH];
	int	 fd;

	snprintf(t_dir, sizeof(t_dir), "/tmp/f2m-test-sbxd-XXXXXX");
	if (mkdtemp(t_dir) == NULL)
		return -1;
	t_path(t_spool, t_dir, "spool");
	t_path(t_state, t_dir, "state");
	t_path(t_out, t_dir, "outside");
	t_path(p, t_out, "existing");
	if (mkdir(t_spool, 0700) == -1 || mkdir(t_state, 0700) == -1 ||
	    mkdir(t_out, 0700) == -1 || (fd = open(p, O_WRONLY | O_CREAT,
	    0600)) == -1 || write(fd, "keep", 4) != 4 || close(fd) == -1)
		return -1;
	/* What a process of the service user could leave in queue/. */
	t_path(q, t_spool, "queue");
	t_path(p, t_spool, "bad");
	if (mkdir(q, 0700) == -1 || mkdir(p, 0700) == -1)
		return -1;
	t_path(p, q, "fifo");
	if (mkfifo(p, 0600) == -1)
		return -1;
	t_path(p, q, "link");
	if (symlink("/etc/passwd", p) == -1)
		return -1;
	return t_loopback();
}

/* The file the Landlock cases must leave as it was. */
static void
t_outside_intact(void)
{
	char	 p[T_PATH], buf[16];
	ssize_t	 n = -1;
	int	 fd;

	t_path(p, t_out, "existing");
	if ((fd = open(p, O_RDONLY)) != -1) {
		n = read(fd, buf, sizeof(buf));
		close(fd);
	}
	T_OK(n == 4 && memcmp(buf, "keep", 4) == 0, "outside/existing: "
	    "expected its 4 octets \"keep\", got %zd", n);
}

int
main(int argc, char **argv)
{
	char		 got[64], cmd[128], why[160];
	enum t_needs	 only = T_ANY;
	int		 abi, st;
	size_t		 i;

	if (argc > 2 || (argc == 2 && strcmp(argv[1], "landlock") != 0)) {
		fprintf(stderr, "usage: test_sandbox_deliver [landlock]\n");
		return 2;
	}
	if (argc == 2)
		only = T_LANDLOCK;
	if (t_setup() == -1) {
		fprintf(stderr, "test_sandbox_deliver: setup failed: %s\n",
		    strerror(errno));
		return 1;
	}
	if ((abi = sandbox_landlock_abi()) < 1)
		snprintf(why, sizeof(why), "the kernel has no Landlock "
		    "(landlock_create_ruleset: %s); seccomp is still checked",
		    strerror(errno));
	else
		printf("Landlock ABI %d\n", abi);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (only == T_LANDLOCK && cases[i].needs != T_LANDLOCK)
			continue;
		if (seccomp_api_get() < 3) {
			T_SKIP(cases[i].name, "seccomp API level %u < 3",
			    seccomp_api_get());
			continue;
		}
		if (cases[i].needs == T_LANDLOCK && abi < 1) {
			T_SKIP(cases[i].name, "%s", why);
			continue;
		}
		st = t_child(t_load, cases[i].fn);
		if (cases[i].expect == T_KILLED)
			T_OK(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) ==
			    SIGSYS, "%s: expected killed by signal %d, got %s",
			    cases[i].name, SIGSYS, t_status(st, got,
			    sizeof(got)));
		else
			T_OK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
			    "%s: expected exit 0, got %s", cases[i].name,
			    t_status(st, got, sizeof(got)));
	}
	if (abi >= 1)
		t_outside_intact();
	curl_global_cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", t_dir);
	if (system(cmd) != 0)
		return 1;
	T_DONE();
}
