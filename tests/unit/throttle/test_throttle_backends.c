/*
 * test_throttle_backends: one script of calls (check, once, forget,
 * window) run against the shared-memory backend and against a real
 * redis-server started here, with the same expected results from both.
 * Shared memory runs on a fixed clock; Redis on the server's, so the
 * script's one step of time is a real sleep there, and every answer is
 * chosen to hold whatever the few milliseconds between calls.  The one
 * documented difference (throttle.h): a shared-memory window holds an
 * admission up to one slice (PERIOD/15) longer, so its wait has a
 * column of its own.  Exits 77 when redis-server is not installed.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "throttle/throttle.h"
#include "t.h"

#define SEC	1000000LL
#define SLICE	(3600 / THROTTLE_WINDOW_SLICES * SEC)	/* of "prov" */

enum op { CHECK, CHECK2, ONCE, FORGET, WINDOW, SLEEP };

struct step {
	enum op		 op;
	const char	*key;
	long		 n, per;	/* rate / window; ONCE: ttl s */
	const char	*value;		/* ONCE */
	int		 want;		/* rc, or enum throttle_result */
	long		 wait;		/* retry_after / wait_s */
	long		 wait_shm;	/* WINDOW: shared memory's, if not 0 */
	const char	*seen;		/* ONCE 0: the value stored */
};

static const struct step script[] = {
	{ CHECK, "ip:a", 2, 10, NULL, THROTTLE_OK, 0, 0, NULL },
	{ CHECK, "ip:a", 2, 10, NULL, THROTTLE_OK, 0, 0, NULL },
	{ CHECK, "ip:a", 2, 10, NULL, THROTTLE_LIMITED, 5, 0, NULL },
	/* ip:b (5/1h) and ip:a: refused by ip:a, ip:b not charged. */
	{ CHECK2, "ip:b", 5, 3600, NULL, THROTTLE_LIMITED, 5, 0, NULL },
	{ CHECK, "ip:b", 1, 3600, NULL, THROTTLE_OK, 0, 0, NULL },
	{ CHECK, "ip:b", 1, 3600, NULL, THROTTLE_LIMITED, 3600, 0, NULL },
	{ ONCE, "seen", 60, 0, "v1", 1, 0, 0, NULL },
	{ ONCE, "seen", 60, 0, "v2", 0, 0, 0, "v1" },
	{ FORGET, "seen", 0, 0, NULL, 1, 0, 0, NULL },
	{ FORGET, "seen", 0, 0, NULL, 0, 0, 0, NULL },
	{ ONCE, "seen", 60, 0, "v3", 1, 0, 0, NULL },
	{ FORGET, "ip:a", 0, 0, NULL, 0, 0, 0, NULL },	/* rate key: apart */
	{ CHECK, "ip:a", 2, 10, NULL, THROTTLE_LIMITED, 5, 0, NULL },
	{ WINDOW, "prov", 2, 3600, NULL, 1, 0, 0, NULL },
	{ WINDOW, "prov", 2, 3600, NULL, 1, 0, 0, NULL },
	{ WINDOW, "prov", 2, 3600, NULL, 0, 3600, 3601, NULL },
	{ WINDOW, "seen", 1, 60, NULL, 1, 0, 0, NULL },	/* window: apart */
	{ CHECK, "ip:c", 1, 1, NULL, THROTTLE_OK, 0, 0, NULL },
	{ CHECK, "ip:c", 1, 1, NULL, THROTTLE_LIMITED, 1, 0, NULL },
	{ ONCE, "short", 1, 0, "s1", 1, 0, 0, NULL },
	{ ONCE, "short", 1, 0, "s2", 0, 0, 0, "s1" },
	{ SLEEP, NULL, 1500, 0, NULL, 0, 0, 0, NULL },	/* ms */
	{ CHECK, "ip:c", 1, 1, NULL, THROTTLE_OK, 0, 0, NULL },
	{ ONCE, "short", 1, 0, "s3", 1, 0, 0, NULL },	/* expired */
	{ ONCE, "seen", 60, 0, "v4", 0, 0, 0, "v3" },
	{ WINDOW, "prov", 2, 3600, NULL, 0, 3599, 3599, NULL },
	{ CHECK, "ip:b", 1, 3600, NULL, THROTTLE_LIMITED, 3599, 0, NULL },
};
#define NSTEPS	(sizeof(script) / sizeof(script[0]))

struct got {
	int	 rc;
	long	 wait;
	char	 seen[THROTTLE_VALUE_MAX + 1];
};

static void
sleep_ms(long ms)
{
	struct timespec	 ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* One step at now (the shared memory's clock; Redis ignores it). */
static void
run_step(struct throttle *t, const struct step *s, int64_t now,
    struct got *g)
{
	struct throttle_key	 k[2] = {
		{ s->key, { s->n, s->per } }, { "ip:a", { 2, 10 } }
	};

	memset(g, 0, sizeof(*g));
	switch (s->op) {
	case CHECK:
	case CHECK2:
		g->rc = (int)throttle_check(t, k, s->op == CHECK2 ? 2 : 1, now,
		    &g->wait);
		break;
	case ONCE:
		g->rc = throttle_once(t, s->key, s->value, now + s->n * SEC,
		    now, g->seen, sizeof(g->seen));
		break;
	case FORGET:
		g->rc = throttle_forget(t, s->key);
		break;
	case WINDOW:
		g->rc = throttle_window(t, s->key, s->n, s->per, now,
		    &g->wait);
		break;
	case SLEEP:
		break;
	}
}

/* The script on t; redis: sleep for real at SLEEP, else move now. */
static void
run_script(struct throttle *t, int redis, int64_t now, struct got *g)
{
	size_t	 i;

	for (i = 0; i < NSTEPS; i++) {
		if (script[i].op == SLEEP) {
			if (redis)
				sleep_ms(script[i].n);
			now += script[i].n * 1000;
		}
		run_step(t, &script[i], now, &g[i]);
	}
}

static void
check_script(const char *name, const struct got *g, int shm)
{
	const struct step	*s;
	char			 what[96];
	long			 want;
	size_t			 i;

	for (i = 0; i < NSTEPS; i++) {
		s = &script[i];
		if (s->op == SLEEP)
			continue;
		snprintf(what, sizeof(what), "%s step %zu (%s)", name, i + 1,
		    s->key);
		T_INT(g[i].rc, s->want, what);
		want = shm && s->wait_shm != 0 ? s->wait_shm : s->wait;
		T_INT(g[i].wait, want, what);
		if (s->seen != NULL)
			T_STR(g[i].seen, s->seen, what);
	}
}

static pid_t
redis_start(const char *dir, const char *sock)
{
	char	 logf[256];
	pid_t	 pid;
	int	 fd;

	snprintf(logf, sizeof(logf), "%s/redis.log", dir);
	if ((pid = fork()) == -1) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		if ((fd = open(logf, O_WRONLY | O_CREAT | O_APPEND,
		    0600)) != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("redis-server", "redis-server", "--port", "0",
		    "--unixsocket", sock, "--unixsocketperm", "700",
		    "--save", "", "--appendonly", "no", "--dir", dir,
		    (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* A Redis handle once the server answers (5 s at most), else exits. */
static struct throttle *
redis_handle(const char *sock, pid_t pid)
{
	struct throttle	*t = NULL;
	char		 url[160], err[256];
	int		 i;

	snprintf(url, sizeof(url), "unix:%s?db=2", sock);
	if (throttle_open_redis(url, 1000, &t, err, sizeof(err)) != 0) {
		fprintf(stderr, "throttle_open_redis %s: %s\n", url, err);
		kill(pid, SIGKILL);
		exit(1);
	}
	for (i = 0; i < 250; i++) {
		if (throttle_ping(t, err, sizeof(err)) == 0)
			return t;
		sleep_ms(20);
	}
	fprintf(stderr, "redis-server did not answer: %s\n", err);
	kill(pid, SIGKILL);
	exit(1);
}

/*
 * The rate gate's keys of one client (issue 16, F10): its /64 at 2/1h and
 * its /48 at 3/1h, checked together as gate/head_gates.c does.  Four /64s
 * of one /48: three admitted, the fourth refused by the /48 and charged
 * nowhere (its /64 still admits alone); another /48 admits.  The same on
 * both backends (throttle_client_key and throttle_net_key make the keys).
 */
static void
net_budget(struct throttle *t, const char *name, int64_t now)
{
	static const char *const ips[] = { "2001:db8:7:1::1",
	    "2001:db8:7:2::1", "2001:db8:7:3::1", "2001:db8:7:4::1",
	    "2001:db8:8:1::1" };
	static const enum throttle_result want[] = { THROTTLE_OK, THROTTLE_OK,
	    THROTTLE_OK, THROTTLE_LIMITED, THROTTLE_OK };
	char			 ip[THROTTLE_CLIENT_KEY_SIZE];
	char			 net[THROTTLE_CLIENT_KEY_SIZE], what[96];
	struct throttle_key	 k[2] = { { ip, { 2, 3600 } },
	    { net, { 3, 3600 } } };
	long			 ra = 0;
	size_t			 i;

	for (i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
		snprintf(what, sizeof(what), "%s: %s with its /48", name,
		    ips[i]);
		T_INT(throttle_client_key(ips[i], ip, sizeof(ip)), 0, what);
		T_INT(throttle_net_key(ips[i], net, sizeof(net)), 6, what);
		T_INT(throttle_check(t, k, 2, now, &ra), want[i], what);
		if (want[i] == THROTTLE_LIMITED)
			T_INT(ra, 1200, what);
	}
	T_INT(throttle_client_key(ips[3], ip, sizeof(ip)), 0, "key");
	T_INT(throttle_check(t, k, 1, now, &ra), THROTTLE_OK, "the refused "
	    "/64 was not charged");
}

int
main(void)
{
	char		 dir[] = "/tmp/f2m-test-backends-XXXXXX";
	char		 path[128], sock[128];
	struct got	 gs[NSTEPS], gr[NSTEPS];
	struct throttle	*t;
	char		 err[256];
	pid_t		 pid;
	int64_t		 t0;
	size_t		 i;

	if (system("command -v redis-server >/dev/null 2>&1") != 0) {
		printf("SKIP: redis-server not found in PATH\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/t.shm", dir);
	snprintf(sock, sizeof(sock), "%s/redis.sock", dir);

	/* 0.5 s before a slice of "prov" ends: see the window rows. */
	t0 = (1700000000LL * SEC / SLICE + 1) * SLICE - SEC / 2;
	if (throttle_open(path, 1024, &t, err, sizeof(err)) != 0) {
		fprintf(stderr, "throttle_open: %s\n", err);
		return 1;
	}
	run_script(t, 0, t0, gs);
	net_budget(t, "shm", t0);
	throttle_close(t);
	check_script("shm", gs, 1);

	pid = redis_start(dir, sock);
	t = redis_handle(sock, pid);
	run_script(t, 1, 0, gr);
	net_budget(t, "redis", 0);
	throttle_close(t);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	check_script("redis", gr, 0);

	/* And the two alike, step by step, but the window's slice. */
	for (i = 0; i < NSTEPS; i++) {
		T_INT(gs[i].rc, gr[i].rc, "same result");
		if (script[i].wait_shm == 0)
			T_INT(gs[i].wait, gr[i].wait, "same wait");
		T_STR(gs[i].seen, gr[i].seen, "same stored value");
	}
	unlink(path);
	snprintf(path, sizeof(path), "%s/redis.log", dir);
	unlink(path);
	unlink(sock);
	rmdir(dir);
	T_DONE();
}
