/*
 * server: master, workers and deliverer; see server.h.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#include "conf/conf.h"
#include "deliver/deliver.h"
#include "lib/log.h"
#include "svc/sandbox.h"
#include "svc/privsep.h"
#include "svc/server.h"
#include "svc/worker.h"
#include "spool/spool.h"
#include "lib/stats.h"
#include "throttle/throttle.h"

#define SERVER_BACKLOG		1024
#define SERVER_STOP_GRACE	10	/* seconds before SIGKILL */

enum child_kind { CHILD_WORKER, CHILD_DELIVERER };

struct child {
	pid_t		 pid;
	enum child_kind	 kind;
	time_t		 started;
	int		 generation;
};

static volatile sig_atomic_t	 server_stop;

/* Opened by the master, inherited by the workers it forks. */
static struct worker_shared	 server_sh;

static void
server_on_term(int sig)
{
	(void)sig;
	server_stop = 1;
}

/*
 * The state the workers share (worker_shared_open): opened by the master
 * as the user it starts as, before the workers are forked.  Only once all
 * of it is open is what the workers get replaced.  Returns 0 or -1.
 */
static int
server_shared(const struct conf *cf)
{
	struct worker_shared	 sh;

	if (worker_shared_open(&sh, cf, WORKER_SERVE) == -1)
		return -1;
	sh.stats = server_sh.stats;
	worker_shared_close(&server_sh);
	server_sh = sh;
	explicit_bzero(&sh, sizeof(sh));
	return 0;
}

/*
 * Checks, in a short-lived child (the master never holds them), that the
 * deliverer of cf will be able to load its DKIM keys and SMTP password:
 * a reload must not swap in a config whose deliverer cannot start.
 */
static int
server_check_secrets(const struct conf *cf)
{
	struct deliver	*d;
	char		 err[512];
	pid_t		 pid;
	int		 status;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if (privsep_no_core() == -1)
			_exit(1);
		if (deliver_open(cf, &d, err, sizeof(err)) == -1) {
			log_err("reload: %s", err);
			_exit(1);
		}
		deliver_close(d);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* ---- listening socket --------------------------------------------- */

/*
 * systemd socket activation (sd_listen_fds(3)): LISTEN_PID names us and
 * LISTEN_FDS >= 1: the first passed descriptor, fd 3, is the socket.
 * The variables are removed so children do not take them for theirs.
 */
static int
server_listen_fds(void)
{
	const char	*pid = getenv("LISTEN_PID"), *n = getenv("LISTEN_FDS");
	int		 v = 0;
	socklen_t	 len = sizeof(v);

	if (pid == NULL || n == NULL || atol(pid) != (long)getpid() ||
	    atoi(n) < 1)
		return -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == -1 || !v) {
		log_err("LISTEN_FDS: fd 3 is not a listening socket");
		return -1;
	}
	if (atoi(n) > 1)
		log_warn("LISTEN_FDS=%s: only fd 3 is used", n);
	return 3;
}

/* Is fd 0 a listening socket (spawn-fcgi, inetd-style)? */
static int
server_fd0_listening(void)
{
	int		 v = 0;
	socklen_t	 len = sizeof(v);

	return getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 && v;
}

static int
server_listen(const struct conf *cf)
{
	struct sockaddr_un	 sa;
	const char		*path = cf->listen + 5;
	struct group		*gr;
	uid_t			 uid = (uid_t)-1;
	gid_t			 gid = (gid_t)-1;
	mode_t			 old;
	int			 fd, probe;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	/* A socket file nobody listens on is stale; one in use is not. */
	if ((probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) != -1) {
		if (connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			log_err("%s: another process listens there", path);
			return -1;
		}
		close(probe);
		if (errno == ECONNREFUSED)
			unlink(path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	/* The mode comes from the umask at bind(): no chmod by path later. */
	old = umask(~cf->listen_mode & 0777);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		umask(old);
		log_err("bind %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (geteuid() == 0 && privsep_user(cf, &uid, &gid) == 0) {
		if (cf->listen_group != NULL &&
		    (gr = getgrnam(cf->listen_group)) != NULL)
			gid = gr->gr_gid;
		if (fchownat(AT_FDCWD, path, uid, gid,
		    AT_SYMLINK_NOFOLLOW) == -1)
			log_warn("chown %s: %s", path, strerror(errno));
	}
	if (listen(fd, SERVER_BACKLOG) == -1) {
		log_err("listen %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

/* ---- children ----------------------------------------------------- */

static void
server_child_signals(void)
{
	struct sigaction	 sa;
	sigset_t		 all;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = server_on_term;	/* no SA_RESTART: accept fails */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	/* A stray `pkill -HUP form2mail` reloads the master, not children. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

static void
server_deliverer(const struct conf *cf, int lfd)
{
	struct deliver	*d;
	char		 err[512];

	log_role("deliverer");
	close(lfd);
	/* Before the secrets are read; privsep_drop() says it again. */
	if (privsep_no_core() == -1)
		_exit(1);
	if (deliver_open(cf, &d, err, sizeof(err)) == -1) {
		log_err("cannot start delivering: %s", err);
		_exit(1);
	}
	if (privsep_drop(cf) == -1)
		_exit(1);
	/* Last: the secrets are read, libcurl is set up, root is gone. */
	if (sandbox_deliver(cf->spool_dir, cf->state_dir, err,
	    sizeof(err)) == -1) {
		log_err("deliverer: %s", err);
		_exit(1);
	}
	log_info("deliverer ready");
	deliver_loop(d, &server_stop);
	deliver_close(d);
	_exit(0);
}

static pid_t
server_spawn(const struct conf *cf, int lfd, enum child_kind kind)
{
	pid_t	 pid;

	if ((pid = fork()) == -1) {
		log_err("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		server_child_signals();
		if (kind == CHILD_WORKER)
			worker_run(cf, &server_sh, lfd, &server_stop);
		else
			server_deliverer(cf, lfd);
	}
	return pid;
}

/* ---- master ------------------------------------------------------- */

struct master {
	struct conf	*cf;
	int		 lfd;
	char		*sockpath;	/* to unlink at the end, or NULL */
	struct child	*kids;
	size_t		 nkids, capkids;
	int		 generation;
};

static int
master_add(struct master *m, enum child_kind kind)
{
	struct child	*k;
	pid_t		 pid;

	if (m->nkids == m->capkids) {
		size_t n = m->capkids ? m->capkids * 2 : 16;
		if ((k = reallocarray(m->kids, n, sizeof(*k))) == NULL)
			return -1;
		m->kids = k;
		m->capkids = n;
	}
	if ((pid = server_spawn(m->cf, m->lfd, kind)) == -1)
		return -1;
	m->kids[m->nkids++] = (struct child){ pid, kind, time(NULL),
	    m->generation };
	return 0;
}

static void
master_start_generation(struct master *m)
{
	int	 i;

	for (i = 0; i < m->cf->workers; i++)
		master_add(m, CHILD_WORKER);
	/* One SMTP connection each; spool_claim() hands a message to one. */
	for (i = 0; i < m->cf->smtp.connections; i++)
		master_add(m, CHILD_DELIVERER);
}

static void
master_signal(struct master *m, int gen, int sig)
{
	size_t	 i;

	for (i = 0; i < m->nkids; i++)
		if (gen == -1 || m->kids[i].generation == gen)
			kill(m->kids[i].pid, sig);
}

static void
master_signal_old(struct master *m)
{
	size_t	 i;

	for (i = 0; i < m->nkids; i++)
		if (m->kids[i].generation != m->generation)
			kill(m->kids[i].pid, SIGTERM);
}

/* Reaps children; restarts those of the current generation. */
static void
master_reap(struct master *m, int restart)
{
	struct child	 k;
	pid_t		 pid;
	size_t		 i;
	int		 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < m->nkids; i++)
			if (m->kids[i].pid == pid)
				break;
		if (i == m->nkids)
			continue;
		k = m->kids[i];
		m->kids[i] = m->kids[--m->nkids];
		if (k.generation != m->generation || !restart)
			continue;
		if (k.kind == CHILD_DELIVERER && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0)
			log_info("deliverer %ld recycled; starting a new one",
			    (long)pid);
		else if (WIFSIGNALED(status))
			log_err("%s %ld killed by signal %d; restarting",
			    k.kind == CHILD_WORKER ? "worker" : "deliverer",
			    (long)pid, WTERMSIG(status));
		else
			log_err("%s %ld exited with status %d; restarting",
			    k.kind == CHILD_WORKER ? "worker" : "deliverer",
			    (long)pid, WEXITSTATUS(status));
		/* A child that dies at once would spin: slow down. */
		if (time(NULL) - k.started < 1)
			sleep(1);
		master_add(m, k.kind);
	}
}

static void
master_reload(struct master *m)
{
	struct conf	*ncf;
	int		 old;

	log_info("SIGHUP: reloading %s", m->cf->path);
	if (conf_load(m->cf->path, &ncf) != 0) {
		log_err("reload: %s has errors (above); keeping the running "
		    "config", m->cf->path);
		return;
	}
	if (strcmp(ncf->listen, m->cf->listen) != 0)
		log_warn("reload: a new \"listen\" takes effect at restart");
	if (privsep_prepare_dirs(ncf) == -1 || server_check_secrets(ncf) == -1 ||
	    server_shared(ncf) == -1) {
		conf_free(ncf);
		log_err("reload: keeping the running config");
		return;
	}
	/* Old children finish what they hold with their own copy of the old
	 * config; new ones start at once on the same socket. */
	old = m->generation++;
	conf_free(m->cf);
	m->cf = ncf;
	master_start_generation(m);
	master_signal(m, old, SIGTERM);
	log_info("reload: new config in use");
}

static void
master_stop(struct master *m)
{
	time_t	 t0 = time(NULL), last = t0;

	log_info("stopping: waiting for %zu children", m->nkids);
	master_signal(m, -1, SIGTERM);
	while (m->nkids > 0) {
		usleep(50 * 1000);
		master_reap(m, 0);
		/* SIGTERM again, once a second: a worker between its stop
		 * check and accept() would otherwise sleep in accept(). */
		if (m->nkids > 0 && time(NULL) > last) {
			last = time(NULL);
			master_signal(m, -1, SIGTERM);
		}
		if (time(NULL) - t0 >= SERVER_STOP_GRACE) {
			log_warn("children still running after %d s: killing",
			    SERVER_STOP_GRACE);
			master_signal(m, -1, SIGKILL);
			while (m->nkids > 0) {
				usleep(50 * 1000);
				master_reap(m, 0);
			}
		}
	}
}

int
server_run(struct conf *cf)
{
	struct master	 m;
	sigset_t	 set;
	siginfo_t	 si;
	struct timespec	 ts = { 1, 0 };
	char		 errbuf[512];
	int		 sig, fl;

	memset(&m, 0, sizeof(m));
	m.cf = cf;
	log_role("master");
	/* Before any library reads it, and before the first fork. */
	sandbox_env_clear();
	if (geteuid() == 0 && privsep_user_check(cf, errbuf,
	    sizeof(errbuf)) == 1)
		log_warn("%s", errbuf);
	/* The master holds the captcha secrets and the ALTCHA key. */
	if (privsep_no_core() == -1 || privsep_prepare_dirs(cf) == -1 ||
	    server_shared(cf) == -1)
		goto fail;
	if (stats_open(cf->state_dir, &server_sh.stats, errbuf,
	    sizeof(errbuf)) == -1)
		log_warn("stats: %s; counting nothing", errbuf);
	if ((m.lfd = server_listen_fds()) != -1) {
		log_info("listening on fd %d (systemd socket activation)", m.lfd);
	} else if (server_fd0_listening()) {
		m.lfd = 0;
		log_info("listening on fd 0 (spawn-fcgi)");
	} else {
		if ((m.lfd = server_listen(cf)) == -1)
			goto fail;
		m.sockpath = strdup(cf->listen + 5);
		log_info("listening on %s (mode %04o)", cf->listen + 5,
		    (unsigned)cf->listen_mode);
	}
	/* Workers poll, then accept: see worker_loop(). */
	if ((fl = fcntl(m.lfd, F_GETFL)) == -1 ||
	    fcntl(m.lfd, F_SETFL, fl | O_NONBLOCK) == -1) {
		log_err("listening socket: %s", strerror(errno));
		goto fail;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	master_start_generation(&m);
	log_info("form2mail %s: %d workers and %d deliverer(s) started",
	    F2M_VERSION, cf->workers, cf->smtp.connections);
	for (;;) {
		sig = sigtimedwait(&set, &si, &ts);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP)
			master_reload(&m);
		master_reap(&m, 1);
		/* Children of an older config: remind them to stop (one in
		 * the gap between its stop check and accept() missed it). */
		if (sig == -1)
			master_signal_old(&m);
	}
	master_stop(&m);
	if (m.sockpath != NULL)
		unlink(m.sockpath);
	log_info("stopped");
	free(m.sockpath);
	free(m.kids);
	conf_free(m.cf);
	worker_shared_close(&server_sh);
	return 0;
fail:
	conf_free(m.cf);
	return 1;
}
