/*
 * test_throttle_redis: the Redis backend of throttle against real
 * redis-server processes started here (one on TCP, one on TCP and a unix
 * socket): URLs, GCRA exactness and all-or-nothing charging, once and
 * forget, window pacing, two handles sharing one budget, forked children
 * using an inherited handle, Redis killed and stopped (errors within the
 * timeout, then recovery), NOSCRIPT recovery, hostile keys, databases,
 * error replies.  Exits 77 when redis-server is not installed.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "throttle/throttle.h"
#include "t.h"

#define SEC		1000000LL
#define TIMEOUT_MS	300L	/* of the handles in the failure tests */
#define START_MS	5000	/* wait for a redis-server to answer */
#define STOP_MS		5000	/* wait for one to exit */

struct srv {
	pid_t	 pid;
	int	 port;
	int	 with_unix;
	char	 sock[108];
};

static char		 dir[] = "/tmp/f2m-test-redis-XXXXXX";
static struct srv	 s1, s2;
static pid_t		 owner;

static long
ms_since(const struct timespec *a)
{
	struct timespec	 b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (long)((b.tv_sec - a->tv_sec) * 1000 +
	    (b.tv_nsec - a->tv_nsec) / 1000000);
}

static void
sleep_ms(long ms)
{
	struct timespec	 ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int
have_redis(void)
{
	const char	*path = getenv("PATH");
	char		 buf[4096], *p, *save = NULL;
	char		 f[4200];

	if (path == NULL || strlen(path) >= sizeof(buf))
		return 0;
	strcpy(buf, path);
	for (p = strtok_r(buf, ":", &save); p != NULL;
	    p = strtok_r(NULL, ":", &save)) {
		snprintf(f, sizeof(f), "%s/redis-server", p);
		if (access(f, X_OK) == 0)
			return 1;
	}
	return 0;
}

/* A port nobody listens on now (the server may still lose a race for it:
 * srv_start then tries another). */
static int
free_port(void)
{
	struct sockaddr_in	 a;
	socklen_t		 len = sizeof(a);
	int			 fd, port = -1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static redisContext *
raw_connect(const struct srv *s)
{
	struct timeval	 tv = { 0, 500000 };
	redisContext	*c;

	c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
	if (c != NULL && c->err == 0 && redisSetTimeout(c, tv) == REDIS_OK)
		return c;
	if (c != NULL)
		redisFree(c);
	return NULL;
}

/* One command on a fresh connection to db; returns the reply. */
static redisReply *
raw(const struct srv *s, int db, int argc, const char **argv,
    const size_t *len)
{
	redisContext	*c;
	redisReply	*r = NULL, *sel;

	if ((c = raw_connect(s)) == NULL)
		return NULL;
	sel = redisCommand(c, "SELECT %d", db);
	if (sel != NULL) {
		freeReplyObject(sel);
		r = redisCommandArgv(c, argc, argv, len);
	}
	redisFree(c);
	return r;
}

/* INTEGER reply of a command of NUL-terminated words, or -1. */
static long long
raw_int(const struct srv *s, int db, const char *a0, const char *a1,
    const char *a2)
{
	const char	*argv[3] = { a0, a1, a2 };
	size_t		 len[3];
	redisReply	*r;
	long long	 v = -1;
	int		 n = a2 != NULL ? 3 : a1 != NULL ? 2 : 1;

	len[0] = strlen(a0);
	len[1] = a1 != NULL ? strlen(a1) : 0;
	len[2] = a2 != NULL ? strlen(a2) : 0;
	if ((r = raw(s, db, n, argv, len)) == NULL)
		return -1;
	if (r->type == REDIS_REPLY_INTEGER)
		v = r->integer;
	freeReplyObject(r);
	return v;
}

/* "name:value" of an INFO section, as a number, or -1. */
static long long
info_num(const struct srv *s, const char *section, const char *name)
{
	const char	*argv[2] = { "INFO", section };
	size_t		 len[2] = { 4, strlen(section) };
	redisReply	*r;
	const char	*p;
	long long	 v = -1;
	size_t		 nl = strlen(name);

	if ((r = raw(s, 0, 2, argv, len)) == NULL)
		return -1;
	if (r->type == REDIS_REPLY_STRING)
		for (p = r->str; p != NULL && *p != '\0';
		    p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
			if (strncmp(p, name, nl) == 0 && p[nl] == ':') {
				v = strtoll(p + nl + 1, NULL, 10);
				break;
			}
	freeReplyObject(r);
	return v;
}

/* calls= of cmdstat_<cmd>, 0 when never called. */
static long long
cmd_calls(const struct srv *s, const char *cmd)
{
	const char	*argv[2] = { "INFO", "commandstats" };
	size_t		 len[2] = { 4, 12 };
	redisReply	*r;
	char		 pat[64];
	const char	*p;
	long long	 v = 0;

	if ((r = raw(s, 0, 2, argv, len)) == NULL)
		return -1;
	snprintf(pat, sizeof(pat), "cmdstat_%s:calls=", cmd);
	if (r->type == REDIS_REPLY_STRING && (p = strstr(r->str, pat)) !=
	    NULL)
		v = strtoll(p + strlen(pat), NULL, 10);
	freeReplyObject(r);
	return v;
}

static int
srv_ping(const struct srv *s)
{
	redisContext	*c;
	redisReply	*r;
	int		 ok = 0;

	if ((c = raw_connect(s)) == NULL)
		return 0;
	if ((r = redisCommand(c, "PING")) != NULL) {
		ok = r->type == REDIS_REPLY_STATUS &&
		    strcmp(r->str, "PONG") == 0;
		freeReplyObject(r);
	}
	redisFree(c);
	return ok;
}

/* Starts redis-server on s->port (0: a free one, retried on a lost race)
 * and waits, START_MS at most, until it answers.  Exits on failure. */
static void
srv_start(struct srv *s)
{
	char		 port[16], logf[256];
	const char	*argv[24];
	struct timespec	 t0;
	int		 tries, fixed = s->port != 0, n, fd, status;

	for (tries = 0; tries < 3; tries++) {
		if (!fixed && (s->port = free_port()) <= 0) {
			fprintf(stderr, "no free port\n");
			exit(1);
		}
		snprintf(port, sizeof(port), "%d", s->port);
		snprintf(logf, sizeof(logf), "%s/redis-%d.log", dir, s->port);
		n = 0;
		argv[n++] = "redis-server";
		argv[n++] = "--port";
		argv[n++] = port;
		argv[n++] = "--bind";
		argv[n++] = "127.0.0.1";
		argv[n++] = "--save";
		argv[n++] = "";
		argv[n++] = "--appendonly";
		argv[n++] = "no";
		argv[n++] = "--daemonize";
		argv[n++] = "no";
		argv[n++] = "--dir";
		argv[n++] = dir;
		if (s->with_unix) {
			snprintf(s->sock, sizeof(s->sock), "%s/redis.sock",
			    dir);
			argv[n++] = "--unixsocket";
			argv[n++] = s->sock;
			argv[n++] = "--unixsocketperm";
			argv[n++] = "700";
		}
		argv[n] = NULL;
		if ((s->pid = fork()) == -1) {
			perror("fork");
			exit(1);
		}
		if (s->pid == 0) {
			fd = open(logf, O_WRONLY | O_CREAT | O_APPEND, 0600);
			if (fd != -1) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
			execvp("redis-server", (char *const *)(uintptr_t)argv);
			_exit(127);
		}
		clock_gettime(CLOCK_MONOTONIC, &t0);
		while (ms_since(&t0) < START_MS) {
			if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
				s->pid = 0;
				break;
			}
			if (srv_ping(s))
				return;
			sleep_ms(20);
		}
		if (s->pid != 0) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, NULL, 0);
			s->pid = 0;
		}
		fprintf(stderr, "redis-server on port %d did not start "
		    "(see %s)\n", s->port, logf);
		if (fixed)
			break;
	}
	exit(1);
}

/* Stops it by pid: SIGTERM, then SIGKILL after STOP_MS. */
static void
srv_stop(struct srv *s)
{
	struct timespec	 t0;

	if (s->pid <= 0)
		return;
	kill(s->pid, SIGCONT);
	kill(s->pid, SIGTERM);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (ms_since(&t0) < STOP_MS) {
		if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
			s->pid = 0;
			return;
		}
		sleep_ms(10);
	}
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	s->pid = 0;
}

static void
cleanup(void)
{
	char	 p[512];
	int	 port;

	if (getpid() != owner)
		return;
	srv_stop(&s1);
	srv_stop(&s2);
	for (port = 0; port < 2; port++) {
		snprintf(p, sizeof(p), "%s/redis-%d.log", dir,
		    port ? s2.port : s1.port);
		(void)unlink(p);
	}
	snprintf(p, sizeof(p), "%s/redis.sock", dir);
	(void)unlink(p);
	if (rmdir(dir) == -1)
		fprintf(stderr, "%s left behind: %s\n", dir, strerror(errno));
}

static struct throttle *
hopen(const char *url, long timeout_ms)
{
	struct throttle	*t = NULL;
	char		 err[256];

	if (throttle_open_redis(url, timeout_ms, &t, err, sizeof(err)) != 0) {
		fprintf(stderr, "throttle_open_redis %s: %s\n", url, err);
		exit(1);
	}
	return t;
}

static struct throttle *
hopen_srv(const struct srv *s, int db, long timeout_ms)
{
	char	 url[128];

	snprintf(url, sizeof(url), "redis://127.0.0.1:%d/%d", s->port, db);
	return hopen(url, timeout_ms);
}

static enum throttle_result
chk1(struct throttle *t, const char *key, long n, long per, long *ra)
{
	struct throttle_key	 k = { key, { n, per } };

	return throttle_check(t, &k, 1, 0, ra);
}

static void
test_urls(void)
{
	static const struct {
		const char	*url;
		int		 rc;
	} c[] = {
		{ "redis://127.0.0.1", 0 },
		{ "redis://127.0.0.1:6379", 0 },
		{ "redis://127.0.0.1:6379/0", 0 },
		{ "redis://127.0.0.1:6379/", 0 },
		{ "redis://127.0.0.1/15", 0 },
		{ "redis://127.0.0.1:1/65535", 0 },
		{ "redis://[::1]:6379/2", 0 },
		{ "redis://[::1]", 0 },
		{ "redis://localhost:6379/1", 0 },
		{ "unix:/run/redis/redis.sock", 0 },
		{ "unix:/run/redis/redis.sock?db=3", 0 },
		{ "", -1 },
		{ "redis://", -1 },
		{ "redis:///0", -1 },
		{ "redis://:6379", -1 },
		{ "redis://127.0.0.1:0", -1 },
		{ "redis://127.0.0.1:65536", -1 },
		{ "redis://127.0.0.1:", -1 },
		{ "redis://127.0.0.1:x", -1 },
		{ "redis://127.0.0.1:6379/abc", -1 },
		{ "redis://127.0.0.1:6379/65536", -1 },
		{ "redis://127.0.0.1:6379/0/", -1 },
		{ "redis://127.0.0.1:6379/-1", -1 },
		{ "redis://127.0.0.1:6379/0?x=1", -1 },
		{ "redis://127.0.0.1:6379/0#f", -1 },
		{ "redis://user:pw@127.0.0.1:6379", -1 },
		{ "redis://:pw@127.0.0.1", -1 },
		{ "redis://[::1", -1 },
		{ "redis://[zz::1]:6379", -1 },
		{ "redis://[::1]x", -1 },
		{ "redis://127.0.0.1 :6379", -1 },
		{ "redis://127.0.0.1\r\n:6379", -1 },
		{ "redis://ho_st:6379", -1 },
		{ "redis://h%41st", -1 },
		{ "rediss://127.0.0.1", -1 },
		{ "REDIS://127.0.0.1", -1 },
		{ "http://127.0.0.1:6379", -1 },
		{ "127.0.0.1:6379", -1 },
		{ "unix:", -1 },
		{ "unix:relative.sock", -1 },
		{ "unix:/p?db=", -1 },
		{ "unix:/p?db=x", -1 },
		{ "unix:/p?db=65536", -1 },
		{ "unix:/p?foo=1", -1 },
		{ "unix:/p?db=1&x=2", -1 },
		{ "unix://p", 0 },	/* "//p" is an absolute path too */
	};
	struct throttle	*t;
	char		 err[256], what[160], url[THROTTLE_REDIS_URL_MAX + 2];
	size_t		 i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		t = (struct throttle *)&t;
		err[0] = 'x';
		err[1] = '\0';
		snprintf(what, sizeof(what), "url \"%s\"", c[i].url);
		T_INT(throttle_open_redis(c[i].url, 1000, &t, err,
		    sizeof(err)), c[i].rc, what);
		if (c[i].rc == 0) {
			T_OK(t != NULL && err[0] == '\0', "%s: %s", what, err);
			throttle_close(t);
		} else {
			T_OK(t == NULL, "%s: out cleared", what);
			T_INT(errno, EINVAL, what);
			T_OK(err[0] != '\0' && strcmp(err, "x") != 0,
			    "%s: a message", what);
		}
	}
	/* A socket path that does not fit a sockaddr_un. */
	memset(url, 'a', sizeof(url));
	memcpy(url, "unix:/", 6);
	url[6 + 108] = '\0';
	T_INT(throttle_open_redis(url, 1000, &t, err, sizeof(err)), -1,
	    "unix path too long");
	url[6 + 106] = '\0';
	T_INT(throttle_open_redis(url, 1000, &t, err, sizeof(err)), 0,
	    "unix path of 107 octets");
	throttle_close(t);
	/* A URL over THROTTLE_REDIS_URL_MAX. */
	memset(url, 'a', sizeof(url));
	memcpy(url, "unix:/", 6);
	url[THROTTLE_REDIS_URL_MAX + 1] = '\0';
	T_INT(throttle_open_redis(url, 1000, &t, err, sizeof(err)), -1,
	    "url too long");
	T_INT(throttle_open_redis(NULL, 1000, &t, err, sizeof(err)), -1,
	    "NULL url");
	T_INT(throttle_open_redis("redis://127.0.0.1", 1000, NULL, err,
	    sizeof(err)), -1, "NULL out");
	T_INT(throttle_open_redis("redis://127.0.0.1", 0, &t, err,
	    sizeof(err)), -1, "timeout 0");
	T_INT(throttle_open_redis("redis://127.0.0.1", -5, &t, err,
	    sizeof(err)), -1, "timeout < 0");
	T_INT(throttle_open_redis("redis://127.0.0.1",
	    THROTTLE_REDIS_TIMEOUT_MAX_MS + 1, &t, err, sizeof(err)), -1,
	    "timeout too long");
	T_INT(throttle_open_redis("redis://127.0.0.1",
	    THROTTLE_REDIS_TIMEOUT_MAX_MS, &t, NULL, 0), 0,
	    "longest timeout, no err buffer");
	throttle_close(t);
	T_INT(throttle_open_redis("redis://user:pw@h", 1000, &t, err,
	    sizeof(err)), -1, "credentials");
	T_OK(strstr(err, "password") != NULL, "says why: %s", err);
}

static void
test_gcra(struct throttle *t)
{
	long		 ra, i, n;
	long long	 pttl;

	for (i = 0; i < 5; i++) {
		T_INT(chk1(t, "k5", 5, 3600, &ra), THROTTLE_OK, "5/1h burst");
		T_INT(ra, 0, "retry 0 when admitted");
	}
	T_INT(chk1(t, "k5", 5, 3600, &ra), THROTTLE_LIMITED, "6th refused");
	T_INT(ra, 720, "retry PERIOD/N");
	T_INT(chk1(t, "k5", 5, 3600, &ra), THROTTLE_LIMITED, "7th refused");
	T_INT(ra, 720, "refusals charge nothing");
	pttl = raw_int(&s1, 0, "PTTL", "f2m:rate:k5", NULL);
	T_OK(pttl > 3500000 && pttl <= 3600000, "TAT key expires with the "
	    "TAT: pttl %lld", pttl);

	for (i = 0; i < 3; i++)
		T_INT(chk1(t, "k3", 3, 10, &ra), THROTTLE_OK, "3/10s burst");
	T_INT(chk1(t, "k3", 3, 10, &ra), THROTTLE_LIMITED, "3/10s 4th");
	T_INT(ra, 4, "3.33 s rounds up to 4");
	T_INT(chk1(t, "day", 1, 86400, &ra), THROTTLE_OK, "1/1d");
	T_INT(chk1(t, "day", 1, 86400, &ra), THROTTLE_LIMITED, "1/1d again");
	T_INT(ra, 86400, "retry a day");

	/* Exact with a large burst. */
	for (i = n = 0; i < 1500; i++)
		n += chk1(t, "big", 1000, 3600, NULL) == THROTTLE_OK;
	T_INT(n, 1000, "1000/1h burst exact");

	/* Real time: 2/1s admits again after 0.5 s. */
	T_INT(chk1(t, "short", 2, 1, &ra), THROTTLE_OK, "2/1s 1");
	T_INT(chk1(t, "short", 2, 1, &ra), THROTTLE_OK, "2/1s 2");
	T_INT(chk1(t, "short", 2, 1, &ra), THROTTLE_LIMITED, "2/1s 3");
	T_INT(ra, 1, "sub-second retry is 1");
	sleep_ms(650);
	T_INT(chk1(t, "short", 2, 1, &ra), THROTTLE_OK, "after 0.65 s");
	T_INT(chk1(t, "short", 2, 1, &ra), THROTTLE_LIMITED, "and one only");

	/* A lowered rate: the old TAT is capped at now + PERIOD. */
	for (i = 0; i < 100; i++)
		(void)chk1(t, "lower", 100, 3600, NULL);
	T_INT(chk1(t, "lower", 1, 60, &ra), THROTTLE_LIMITED, "lowered");
	T_INT(ra, 60, "retry at most the new period");

	/* count 0: no limit, nothing written. */
	for (i = n = 0; i < 50; i++)
		n += chk1(t, "free", 0, 0, NULL) == THROTTLE_OK;
	T_INT(n, 50, "count 0 is no limit");
	T_INT(raw_int(&s1, 0, "EXISTS", "f2m:rate:free", NULL), 0,
	    "count 0 writes nothing");
}

static void
test_all_keys(struct throttle *t)
{
	struct throttle_key	 k[THROTTLE_MAX_KEYS + 1];
	char			 names[THROTTLE_MAX_KEYS + 1][16];
	long			 ra;
	int			 i, n;

	k[0] = (struct throttle_key){ "ip:192.0.2.7", { 5, 60 } };
	k[1] = (struct throttle_key){ "form:contact", { 0, 0 } };
	k[2] = (struct throttle_key){ "global", { 2, 60 } };
	T_INT(throttle_check(t, k, 3, 0, &ra), THROTTLE_OK, "1st");
	T_INT(throttle_check(t, k, 3, 0, &ra), THROTTLE_OK, "2nd");
	T_INT(throttle_check(t, k, 3, 0, &ra), THROTTLE_LIMITED,
	    "3rd refused by global");
	T_INT(ra, 30, "global's retry");
	for (i = n = 0; i < 10; i++)
		n += throttle_check(t, k, 1, 0, &ra) == THROTTLE_OK;
	T_INT(n, 3, "ip key left with 3 of 5: not charged by the refusal");
	k[2].key = "global2";
	T_INT(throttle_check(t, k, 3, 0, &ra), THROTTLE_LIMITED,
	    "refused by ip");
	T_INT(ra, 12, "ip's retry");
	T_INT(throttle_check(t, &k[2], 1, 0, &ra), THROTTLE_OK, "global2 1");
	T_INT(throttle_check(t, &k[2], 1, 0, &ra), THROTTLE_OK, "global2 2");
	T_INT(throttle_check(t, &k[2], 1, 0, &ra), THROTTLE_LIMITED,
	    "global2 untouched by the refusal");

	k[0] = (struct throttle_key){ "a", { 1, 3600 } };
	k[1] = (struct throttle_key){ "b", { 1, 60 } };
	T_INT(throttle_check(t, k, 2, 0, &ra), THROTTLE_OK, "a+b");
	T_INT(throttle_check(t, k, 2, 0, &ra), THROTTLE_LIMITED, "a+b 2");
	T_INT(ra, 3600, "max retry over the keys");

	/* The most keys one call takes, each charged. */
	for (i = 0; i <= THROTTLE_MAX_KEYS; i++) {
		snprintf(names[i], sizeof(names[i]), "many%d", i);
		k[i] = (struct throttle_key){ names[i], { 1, 60 } };
	}
	T_INT(throttle_check(t, k, THROTTLE_MAX_KEYS + 1, 0, &ra),
	    THROTTLE_ERROR, "too many keys");
	T_INT(throttle_check(t, k, THROTTLE_MAX_KEYS, 0, &ra), THROTTLE_OK,
	    "eight keys");
	for (i = n = 0; i < THROTTLE_MAX_KEYS; i++)
		n += throttle_check(t, &k[i], 1, 0, &ra) == THROTTLE_LIMITED;
	T_INT(n, THROTTLE_MAX_KEYS, "all eight charged");

	/* Bad calls charge nothing. */
	k[0] = (struct throttle_key){ "c", { 1, 60 } };
	k[1] = (struct throttle_key){ "d", { 1, 0 } };
	T_INT(throttle_check(t, k, 2, 0, &ra), THROTTLE_ERROR, "period 0");
	T_INT(errno, EINVAL, "EINVAL");
	k[1] = (struct throttle_key){ "d", { -1, 60 } };
	T_INT(throttle_check(t, k, 2, 0, &ra), THROTTLE_ERROR, "count -1");
	k[1] = (struct throttle_key){ "d", { 1000001, 60 } };
	T_INT(throttle_check(t, k, 2, 0, &ra), THROTTLE_ERROR, "count big");
	k[1] = (struct throttle_key){ "d", { 1, 30 * 86400 + 1 } };
	T_INT(throttle_check(t, k, 2, 0, &ra), THROTTLE_ERROR, "period big");
	k[1] = (struct throttle_key){ "", { 1, 60 } };
	T_INT(throttle_check(t, k, 2, 0, &ra), THROTTLE_ERROR, "empty key");
	k[1] = (struct throttle_key){ NULL, { 1, 60 } };
	T_INT(throttle_check(t, k, 2, 0, &ra), THROTTLE_ERROR, "NULL key");
	k[1] = (struct throttle_key){ "c", { 1, 60 } };
	T_INT(throttle_check(t, k, 2, 0, &ra), THROTTLE_ERROR,
	    "duplicate key");
	T_INT(throttle_check(NULL, k, 1, 0, &ra), THROTTLE_ERROR, "NULL t");
	T_INT(throttle_check(t, NULL, 1, 0, &ra), THROTTLE_ERROR,
	    "NULL keys");
	T_INT(throttle_check(t, NULL, 0, 0, &ra), THROTTLE_OK, "NULL, 0");
	T_INT(throttle_check(t, k, 1, -1, &ra), THROTTLE_OK,
	    "now_us ignored");
	T_INT(throttle_check(t, k, 1, 0, &ra), THROTTLE_LIMITED,
	    "c charged once only");
}

static void
test_once(struct throttle *t)
{
	char		 v[THROTTLE_VALUE_MAX + 1];
	char		 val40[THROTTLE_VALUE_MAX + 2];
	long long	 pttl;
	long		 ra;

	memset(val40, 'v', sizeof(val40));
	val40[THROTTLE_VALUE_MAX] = '\0';
	T_INT(throttle_once(t, "p1", "id-1", 61 * SEC, SEC, v, sizeof(v)), 1,
	    "first sight stores");
	strcpy(v, "junk");
	T_INT(throttle_once(t, "p1", "id-2", 61 * SEC, SEC, v, sizeof(v)), 0,
	    "second sight");
	T_STR(v, "id-1", "first value returned");
	pttl = raw_int(&s1, 0, "PTTL", "f2m:once:p1", NULL);
	T_OK(pttl > 55000 && pttl <= 60000, "lives expires - now: %lld",
	    pttl);
	T_INT(throttle_once(t, "p2", NULL, 61 * SEC, SEC, v, sizeof(v)), 1,
	    "NULL value");
	T_INT(throttle_once(t, "p2", "x", 61 * SEC, SEC, v, sizeof(v)), 0,
	    "NULL value present");
	T_STR(v, "", "NULL value reads back empty");
	T_INT(throttle_once(t, "p3", val40, 61 * SEC, SEC, v, sizeof(v)), 1,
	    "40-octet value");
	T_INT(throttle_once(t, "p3", "", 61 * SEC, SEC, v, sizeof(v)), 0,
	    "40-octet value present");
	T_STR(v, val40, "40-octet value read back");
	T_INT(throttle_once(t, "p3", "", 61 * SEC, SEC, NULL, 0), 0,
	    "present, no value_out");
	val40[THROTTLE_VALUE_MAX] = 'v';
	val40[THROTTLE_VALUE_MAX + 1] = '\0';
	T_INT(throttle_once(t, "p4", val40, 61 * SEC, SEC, NULL, 0), -1,
	    "41-octet value refused");
	T_INT(throttle_once(t, "p4", "", 61 * SEC, SEC, NULL, 0), 1,
	    "refused call stored nothing");
	T_INT(throttle_once(t, "p5", "", 61 * SEC, SEC, v, THROTTLE_VALUE_MAX),
	    -1, "short value_out");
	T_INT(throttle_once(t, "p5", "", SEC, SEC, NULL, 0), -1,
	    "expires == now");
	T_INT(throttle_once(t, "p5", "", SEC + THROTTLE_ONCE_MAX_US + 1, SEC,
	    NULL, 0), -1, "expires too far");
	T_INT(throttle_once(t, "", "", 2 * SEC, SEC, NULL, 0), -1, "empty key");
	T_INT(throttle_once(t, NULL, "", 2 * SEC, SEC, NULL, 0), -1,
	    "NULL key");
	T_INT(throttle_once(NULL, "k", "", 2 * SEC, SEC, NULL, 0), -1,
	    "NULL t");

	/* Expiry by the server's clock. */
	T_INT(throttle_once(t, "short", "a", SEC + 300000, SEC, NULL, 0), 1,
	    "300 ms entry");
	T_INT(throttle_once(t, "short", "b", SEC + 300000, SEC, v, sizeof(v)),
	    0, "300 ms entry present");
	sleep_ms(450);
	T_INT(throttle_once(t, "short", "c", SEC + 300000, SEC, v, sizeof(v)),
	    1, "gone after 450 ms");

	/* forget() drops a once entry, and only that. */
	T_INT(throttle_once(t, "dup:f", "sub-f", 61 * SEC, SEC, NULL, 0), 1,
	    "dup stored");
	T_INT(chk1(t, "dup:f", 1, 60, &ra), THROTTLE_OK, "rate dup:f");
	T_INT(throttle_forget(t, "dup:f"), 1, "forget");
	T_INT(throttle_forget(t, "dup:f"), 0, "forget again");
	T_INT(throttle_once(t, "dup:f", "sub-g", 61 * SEC, SEC, v, sizeof(v)),
	    1, "stored anew after forget");
	T_INT(chk1(t, "dup:f", 1, 60, &ra), THROTTLE_LIMITED,
	    "rate key of the same text kept");
	T_INT(throttle_forget(t, "never"), 0, "forget absent");
	T_INT(throttle_forget(t, ""), -1, "forget empty key");
	T_INT(throttle_forget(t, NULL), -1, "forget NULL key");
	T_INT(throttle_forget(NULL, "k"), -1, "forget NULL t");
}

static void
test_window(struct throttle *t)
{
	long		 w;
	long long	 pttl;
	int		 i, n;

	for (i = 0; i < 3; i++) {
		T_INT(throttle_window(t, "provider", 3, 3600, 0, &w), 1,
		    "3/1h admitted");
		T_INT(w, 0, "no wait when admitted");
	}
	T_INT(throttle_window(t, "provider", 3, 3600, 0, &w), 0, "4th waits");
	T_INT(w, 3600, "until the first leaves");
	T_INT(throttle_window(t, "provider", 3, 3600, 0, NULL), 0,
	    "NULL wait_s");
	T_INT(raw_int(&s1, 0, "ZCARD", "f2m:win:provider", NULL), 3,
	    "one member per admission, refusals not recorded");
	pttl = raw_int(&s1, 0, "PTTL", "f2m:win:provider", NULL);
	T_OK(pttl > 3500000 && pttl <= 3600000, "window key lives a period: "
	    "%lld", pttl);
	T_INT(throttle_window(t, "provider", 4, 3600, 0, &w), 1,
	    "a raised limit admits");
	T_INT(throttle_window(t, "provider", 2, 3600, 0, &w), 0,
	    "a lowered limit waits");
	T_INT(w, 3600, "for the oldest that keeps it at the limit");

	/* Real time: 2 per 1 s. */
	T_INT(throttle_window(t, "fast", 2, 1, 0, &w), 1, "2/1s 1");
	T_INT(throttle_window(t, "fast", 2, 1, 0, &w), 1, "2/1s 2");
	T_INT(throttle_window(t, "fast", 2, 1, 0, &w), 0, "2/1s 3");
	T_INT(w, 1, "wait 1");
	sleep_ms(1100);
	T_INT(throttle_window(t, "fast", 2, 1, 0, &w), 1, "after 1.1 s");
	T_INT(throttle_window(t, "fast", 2, 1, 0, &w), 1, "two again");
	T_INT(throttle_window(t, "fast", 2, 1, 0, &w), 0, "not three");

	/* Many admissions within one microsecond stay distinct. */
	for (i = n = 0; i < 700; i++)
		n += throttle_window(t, "many", 500, 3600, 0, NULL) == 1;
	T_INT(n, 500, "500/1h exact");
	T_INT(raw_int(&s1, 0, "ZCARD", "f2m:win:many", NULL), 500,
	    "500 members");

	/* Name spaces. */
	T_INT(chk1(t, "provider", 1, 60, &w), THROTTLE_OK,
	    "rate key of a window's name");
	T_INT(throttle_forget(t, "provider"), 0, "forget leaves windows");
	T_INT(throttle_window(t, "provider", 4, 3600, 0, &w), 0,
	    "window kept");

	T_INT(throttle_window(t, "x", 0, 60, 0, &w), -1, "limit 0");
	T_INT(errno, EINVAL, "EINVAL");
	T_INT(throttle_window(t, "x", THROTTLE_WINDOW_MAX + 1, 60, 0, &w), -1,
	    "limit too big");
	T_INT(throttle_window(t, "x", 1, 0, 0, &w), -1, "period 0");
	T_INT(throttle_window(t, "x", 1, THROTTLE_PERIOD_MAX + 1, 0, &w), -1,
	    "period too long");
	T_INT(throttle_window(t, "", 1, 60, 0, &w), -1, "empty key");
	T_INT(throttle_window(t, NULL, 1, 60, 0, &w), -1, "NULL key");
	T_INT(throttle_window(NULL, "x", 1, 60, 0, &w), -1, "NULL t");
	T_INT(raw_int(&s1, 0, "EXISTS", "f2m:win:x", NULL), 0,
	    "bad calls write nothing");
}

/* Two handles ("two web servers"): one budget. */
static void
test_shared(void)
{
	struct throttle	*a, *b, *u, *l;
	char		 url[160];
	long		 ra, w;
	int		 i, n, m;

	a = hopen_srv(&s2, 0, 1000);
	b = hopen_srv(&s2, 0, 1000);
	snprintf(url, sizeof(url), "unix:%s", s2.sock);
	u = hopen(url, 1000);
	for (i = n = 0; i < 30; i++) {
		struct throttle	*h = i % 3 == 0 ? a : i % 3 == 1 ? b : u;

		n += chk1(h, "global", 10, 3600, &ra) == THROTTLE_OK;
	}
	T_INT(n, 10, "10/1h over three handles (TCP, TCP, unix)");
	T_INT(chk1(u, "global", 10, 3600, &ra), THROTTLE_LIMITED,
	    "the unix one sees it spent");
	T_INT(ra, 360, "and the same retry");
	for (i = m = 0; i < 20; i++)
		m += throttle_window(i % 2 ? a : u, "provider", 7, 3600, 0,
		    &w) == 1;
	T_INT(m, 7, "one provider cap over two handles");
	/* A name (of one or several addresses, tried in turn). */
	snprintf(url, sizeof(url), "redis://localhost:%d", s2.port);
	l = hopen(url, 1000);
	T_INT(chk1(l, "global", 10, 3600, &ra), THROTTLE_LIMITED,
	    "through localhost: the same budget");
	throttle_close(l);
	T_INT(throttle_once(a, "replay", "first", 61 * SEC, SEC, NULL, 0), 1,
	    "once on a");
	T_INT(throttle_once(u, "replay", "x", 61 * SEC, SEC, url, sizeof(url)),
	    0, "seen on u");
	T_STR(url, "first", "with a's value");
	throttle_close(a);
	throttle_close(b);

	/* A database of its own: its own budgets. */
	snprintf(url, sizeof(url), "unix:%s?db=4", s2.sock);
	a = hopen(url, 1000);
	T_INT(chk1(a, "global", 10, 3600, &ra), THROTTLE_OK, "db 4 fresh");
	T_INT(raw_int(&s2, 4, "EXISTS", "f2m:rate:global", NULL), 1,
	    "key in db 4");
	throttle_close(a);
	a = hopen_srv(&s2, 15, 1000);
	T_INT(chk1(a, "db15", 1, 60, &ra), THROTTLE_OK, "db 15");
	T_INT(raw_int(&s2, 15, "EXISTS", "f2m:rate:db15", NULL), 1,
	    "key in db 15");
	T_INT(raw_int(&s2, 0, "EXISTS", "f2m:rate:db15", NULL), 0,
	    "not in db 0");
	throttle_close(a);
	/* A database the server does not have: an error, not a hang. */
	a = hopen_srv(&s2, 999, 1000);
	T_INT(chk1(a, "k", 1, 60, &ra), THROTTLE_ERROR, "db 999");
	T_INT(errno, EPROTO, "EPROTO");
	T_INT(throttle_ping(a, url, sizeof(url)), -1, "ping db 999");
	T_OK(strstr(url, "DB index") != NULL, "says why: %s", url);
	throttle_close(a);
	throttle_close(u);
}

/*
 * The parent connects, then forks: each child must use a connection of
 * its own (a shared socket would interleave replies under load).  All
 * hammer one budget at once; the sums are exact.
 */
static void
test_fork(void)
{
	enum { NPROC = 4, TRIES = 300, N = 500, L = 120 };
	struct throttle	*t = hopen_srv(&s1, 1, 1000);
	long		 got[4], sum[4] = { 0, 0, 0, 0 }, ra;
	long long	 conns;
	pid_t		 pid[NPROC];
	int		 p[2], i, j, status;

	T_INT(chk1(t, "warm", 1000, 60, &ra), THROTTLE_OK, "parent connected");
	conns = info_num(&s1, "stats", "total_connections_received");
	T_INT(pipe(p), 0, "pipe");
	for (i = 0; i <= NPROC; i++) {
		if (i < NPROC && (pid[i] = fork()) != 0)
			continue;
		/* Children, and the parent last, all alike. */
		if (i < NPROC)
			close(p[0]);
		got[0] = got[1] = got[2] = got[3] = 0;
		for (j = 0; j < TRIES; j++) {
			switch (chk1(t, "fglobal", N, 3600, NULL)) {
			case THROTTLE_OK:
				got[0]++;
				break;
			case THROTTLE_LIMITED:
				break;
			default:
				got[3]++;
			}
			switch (throttle_window(t, "fwin", L, 3600, 0, NULL)) {
			case 1:
				got[1]++;
				break;
			case 0:
				break;
			default:
				got[3]++;
			}
		}
		switch (throttle_once(t, "frace", "", 61 * SEC, SEC, NULL,
		    0)) {
		case 1:
			got[2]++;
			break;
		case 0:
			break;
		default:
			got[3]++;
		}
		if (i == NPROC)
			break;
		if (write(p[1], got, sizeof(got)) != sizeof(got))
			_exit(2);
		throttle_close(t);
		_exit(0);
	}
	close(p[1]);
	for (j = 0; j < 4; j++)
		sum[j] = got[j];
	for (i = 0; i < NPROC; i++) {
		T_INT(read(p[0], got, sizeof(got)), sizeof(got),
		    "child report");
		for (j = 0; j < 4; j++)
			sum[j] += got[j];
	}
	close(p[0]);
	for (i = 0; i < NPROC; i++) {
		T_INT(waitpid(pid[i], &status, 0), pid[i], "wait");
		T_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "child %d status %d", i, status);
	}
	T_INT(sum[3], 0, "no errors: no socket shared");
	T_INT(sum[0], N, "rate: exactly N admitted in all");
	T_INT(sum[1], L, "window: exactly L admitted in all");
	T_INT(sum[2], 1, "once: exactly one winner");
	T_OK(info_num(&s1, "stats", "total_connections_received") - conns >=
	    NPROC, "each child connected on its own");
	T_INT(chk1(t, "fglobal", N, 3600, NULL), THROTTLE_LIMITED,
	    "parent's connection still fine after the children closed "
	    "theirs");
	T_INT(chk1(t, "warm", 1000, 60, &ra), THROTTLE_OK,
	    "parent goes on");
	throttle_close(t);
}

/* Redis killed, then back; stopped (hung), then continued. */
static void
test_down(void)
{
	struct throttle	*t = hopen_srv(&s1, 0, TIMEOUT_MS);
	struct throttle	*never;
	struct timespec	 t0, t1;
	char		 url[96], err[256];
	long		 ra, ms, worst;
	int		 n, port;

	T_INT(chk1(t, "d", 1000, 60, &ra), THROTTLE_OK, "up");
	T_INT(throttle_ping(t, err, sizeof(err)), 0, "ping up");
	T_INT(throttle_stats(t, 0, &(struct throttle_stats){ 0 }), -1,
	    "stats not on redis");
	T_INT(errno, ENOTSUP, "ENOTSUP");

	/* Killed: every call fails, each within the timeout. */
	srv_stop(&s1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	worst = 0;
	for (n = 0; n < 20; n++) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		T_INT(chk1(t, "d", 1000, 60, &ra), THROTTLE_ERROR, "down");
		ms = ms_since(&t1);
		if (ms > worst)
			worst = ms;
		T_INT(throttle_once(t, "d", "", 2 * SEC, SEC, NULL, 0), -1,
		    "once down");
		T_INT(throttle_window(t, "d", 1, 60, 0, NULL), -1,
		    "window down");
		sleep_ms(10);
	}
	T_OK(worst <= TIMEOUT_MS + 100, "each failure within the timeout: "
	    "worst %ld ms", worst);
	T_INT(throttle_ping(t, err, sizeof(err)), -1, "ping down");
	T_OK(strstr(err, "redis://127.0.0.1") != NULL, "names it: %s", err);

	/* Back on the same port: a call succeeds within the backoff. */
	srv_start(&s1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (chk1(t, "d", 1000, 60, &ra) != THROTTLE_OK &&
	    ms_since(&t0) < 3000)
		sleep_ms(20);
	ms = ms_since(&t0);
	T_OK(ms < 1500, "recovered after %ld ms", ms);
	T_INT(chk1(t, "d", 1000, 60, &ra), THROTTLE_OK, "up again");

	/* Restarted while connected: noticed before sending, no error. */
	srv_stop(&s1);
	srv_start(&s1);
	T_INT(chk1(t, "d", 1000, 60, &ra), THROTTLE_OK,
	    "a restart between two calls is invisible");

	/* Stopped (SIGSTOP): the command times out, no hang. */
	T_INT(kill(s1.pid, SIGSTOP), 0, "SIGSTOP");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	T_INT(chk1(t, "d", 1000, 60, &ra), THROTTLE_ERROR, "stopped");
	T_INT(errno, ETIMEDOUT, "ETIMEDOUT");
	ms = ms_since(&t0);
	T_OK(ms >= TIMEOUT_MS - 20 && ms < 3 * TIMEOUT_MS,
	    "failed after %ld ms", ms);
	worst = 0;
	for (n = 0; n < 5; n++) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		T_INT(chk1(t, "d", 1000, 60, &ra), THROTTLE_ERROR,
		    "still stopped");
		ms = ms_since(&t1);
		if (ms > worst)
			worst = ms;
	}
	T_OK(worst < 2 * TIMEOUT_MS + 100, "each call bounded: worst %ld ms",
	    worst);
	T_INT(kill(s1.pid, SIGCONT), 0, "SIGCONT");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (chk1(t, "d", 1000, 60, &ra) != THROTTLE_OK &&
	    ms_since(&t0) < 5000)
		sleep_ms(20);
	ms = ms_since(&t0);
	T_OK(ms < 2500, "recovered after SIGCONT in %ld ms", ms);
	throttle_close(t);

	/* Nobody listening from the start: the open works, calls fail. */
	port = free_port();
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d", port);
	never = hopen(url, TIMEOUT_MS);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	T_INT(chk1(never, "k", 1, 60, &ra), THROTTLE_ERROR, "nobody there");
	T_INT(errno, ECONNREFUSED, "ECONNREFUSED");
	T_OK(ms_since(&t0) < TIMEOUT_MS, "at once");
	throttle_close(never);
	snprintf(url, sizeof(url), "unix:%s/nothing.sock", dir);
	never = hopen(url, TIMEOUT_MS);
	T_INT(throttle_forget(never, "k"), -1, "no socket file");
	throttle_close(never);
}

/* SCRIPT FLUSH between calls: EVALSHA answers NOSCRIPT, the text goes
 * once with EVAL, and EVALSHA works again. */
static void
test_noscript(void)
{
	struct throttle	*t = hopen_srv(&s1, 2, 1000);
	const char	*argv[2] = { "SCRIPT", "FLUSH" };
	size_t		 len[2] = { 6, 5 };
	redisReply	*r;
	char		 v[THROTTLE_VALUE_MAX + 1];
	long		 ra, w;
	long long	 e0, e1, s0;
	int		 round;

	T_INT(chk1(t, "ns", 100, 60, &ra), THROTTLE_OK, "loaded");
	for (round = 0; round < 2; round++) {
		r = raw(&s1, 0, 2, argv, len);
		T_OK(r != NULL && r->type == REDIS_REPLY_STATUS,
		    "SCRIPT FLUSH");
		if (r != NULL)
			freeReplyObject(r);
		e0 = cmd_calls(&s1, "eval");
		T_INT(chk1(t, "ns", 100, 60, &ra), THROTTLE_OK,
		    "check after flush");
		T_INT(throttle_once(t, "ns", "v", 61 * SEC, SEC, v, sizeof(v)),
		    round == 0 ? 1 : 0, "once after flush");
		T_INT(throttle_window(t, "ns", 100, 60, 0, &w), 1,
		    "window after flush");
		T_INT(throttle_forget(t, "ns-none"), 0, "forget after flush");
		e1 = cmd_calls(&s1, "eval");
		T_INT(e1 - e0, 4, "one EVAL per script");
		s0 = cmd_calls(&s1, "evalsha");
		T_INT(chk1(t, "ns", 100, 60, &ra), THROTTLE_OK, "check again");
		T_INT(throttle_once(t, "ns", "v", 61 * SEC, SEC, v, sizeof(v)),
		    0, "once again");
		T_INT(throttle_window(t, "ns", 100, 60, 0, &w), 1,
		    "window again");
		T_INT(throttle_forget(t, "ns-none"), 0, "forget again");
		T_INT(cmd_calls(&s1, "eval"), e1, "no EVAL once cached");
		T_INT(cmd_calls(&s1, "evalsha") - s0, 4, "EVALSHA again");
	}
	throttle_close(t);
}

/* Keys an attacker could shape: octets of the key, never protocol. */
static void
test_hostile(void)
{
	static const char *const keys[] = {
		"ip:1.2.3.4\r\nFLUSHALL\r\n",
		"*1\r\n$8\r\nFLUSHALL\r\n",
		"\r\n",
		"a key with spaces",
		"\"quoted\" 'keys'",
		"{tag}x",
		"%s%n%x%d",
		"\xff\xfe\x01\x7f",
		"form:\xc3\xa9t\xc3\xa9",
		"ip6:2001:db8::/64",
		"-ERR fake",
		"$-1",
		"f2m:rate:nested",
	};
	struct throttle	*t = hopen_srv(&s1, 3, 1000);
	char		 big[THROTTLE_KEY_INPUT_MAX + 2], rk[THROTTLE_KEY_INPUT_MAX
			    + 16], v[THROTTLE_VALUE_MAX + 1];
	const char	*argv[3];
	size_t		 len[3], i;
	redisReply	*r;
	long		 ra;
	long long	 n;

	argv[0] = "SET";
	argv[1] = "sentinel";
	argv[2] = "1";
	len[0] = 3;
	len[1] = 8;
	len[2] = 1;
	r = raw(&s1, 3, 3, argv, len);
	if (r != NULL)
		freeReplyObject(r);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		T_INT(chk1(t, keys[i], 1, 3600, &ra), THROTTLE_OK, keys[i]);
		T_INT(chk1(t, keys[i], 1, 3600, &ra), THROTTLE_LIMITED,
		    keys[i]);
		T_INT(throttle_once(t, keys[i], "k", 61 * SEC, SEC, NULL, 0),
		    1, keys[i]);
		T_INT(throttle_once(t, keys[i], "z", 61 * SEC, SEC, v,
		    sizeof(v)), 0, keys[i]);
		T_STR(v, "k", keys[i]);
		T_INT(throttle_window(t, keys[i], 1, 3600, 0, NULL), 1,
		    keys[i]);
		/* Stored under exactly prefix + key. */
		snprintf(rk, sizeof(rk), "f2m:rate:%s", keys[i]);
		argv[0] = "EXISTS";
		argv[1] = rk;
		len[0] = 6;
		len[1] = strlen(rk);
		r = raw(&s1, 3, 2, argv, len);
		T_OK(r != NULL && r->type == REDIS_REPLY_INTEGER &&
		    r->integer == 1, "stored verbatim: %s", keys[i]);
		if (r != NULL)
			freeReplyObject(r);
	}
	T_INT(raw_int(&s1, 3, "EXISTS", "sentinel", NULL), 1,
	    "nothing injected: the sentinel is still there");
	n = raw_int(&s1, 3, "DBSIZE", NULL, NULL);
	T_INT(n, 1 + 3 * (long long)(sizeof(keys) / sizeof(keys[0])),
	    "three keys per hostile key, nothing else");
	T_INT(chk1(t, "{tag}y", 1, 3600, &ra), THROTTLE_OK,
	    "keys differ by their octets only");

	memset(big, 'q', sizeof(big));
	big[THROTTLE_KEY_INPUT_MAX + 1] = '\0';
	T_INT(chk1(t, big, 1, 60, &ra), THROTTLE_ERROR, "key too long");
	T_INT(throttle_once(t, big, "", 2 * SEC, SEC, NULL, 0), -1,
	    "once key too long");
	T_INT(throttle_window(t, big, 1, 60, 0, NULL), -1,
	    "window key too long");
	big[THROTTLE_KEY_INPUT_MAX] = '\0';
	T_INT(chk1(t, big, 1, 60, &ra), THROTTLE_OK, "longest key");
	T_INT(chk1(t, big, 1, 60, &ra), THROTTLE_LIMITED, "longest again");
	big[THROTTLE_KEY_INPUT_MAX - 1] = 'r';
	T_INT(chk1(t, big, 1, 60, &ra), THROTTLE_OK,
	    "differing in its last octet");
	throttle_close(t);
}

/* Keys of the wrong type or foreign values: EPROTO, the connection
 * stays usable. */
static void
test_foreign(void)
{
	struct throttle	*t = hopen_srv(&s1, 5, 1000);
	const char	*argv[3];
	size_t		 len[3];
	redisReply	*r;
	char		 v[THROTTLE_VALUE_MAX + 1];
	long		 ra;
	int		 st;
	pid_t		 pid;

	argv[0] = "LPUSH";
	argv[1] = "f2m:rate:list";
	argv[2] = "x";
	len[0] = 5;
	len[1] = 13;
	len[2] = 1;
	if ((r = raw(&s1, 5, 3, argv, len)) != NULL)
		freeReplyObject(r);
	T_INT(chk1(t, "list", 1, 60, &ra), THROTTLE_ERROR, "WRONGTYPE");
	T_INT(errno, EPROTO, "EPROTO");
	T_INT(chk1(t, "fine", 1, 60, &ra), THROTTLE_OK, "connection kept");

	argv[0] = "SET";
	argv[1] = "f2m:once:long";
	argv[2] = "0123456789012345678901234567890123456789X";
	len[0] = 3;
	len[1] = 13;
	len[2] = 41;
	if ((r = raw(&s1, 5, 3, argv, len)) != NULL)
		freeReplyObject(r);
	T_INT(throttle_once(t, "long", "", 61 * SEC, SEC, v, sizeof(v)), -1,
	    "a stored value too long for ours");
	T_INT(errno, EPROTO, "EPROTO");
	argv[1] = "f2m:once:nul";
	argv[2] = "a\0b";
	len[1] = 12;
	len[2] = 3;
	if ((r = raw(&s1, 5, 3, argv, len)) != NULL)
		freeReplyObject(r);
	T_INT(throttle_once(t, "nul", "", 61 * SEC, SEC, v, sizeof(v)), -1,
	    "a stored value with NUL");
	argv[1] = "f2m:rate:junk";
	argv[2] = "not a number";
	len[1] = 13;
	len[2] = 12;
	if ((r = raw(&s1, 5, 3, argv, len)) != NULL)
		freeReplyObject(r);
	T_INT(chk1(t, "junk", 1, 60, &ra), THROTTLE_OK,
	    "a junk TAT counts as none");
	T_INT(chk1(t, "junk", 1, 60, &ra), THROTTLE_LIMITED,
	    "and is replaced");

	/* The shm-only test hook refuses a Redis handle. */
	if ((pid = fork()) == 0)
		throttle_test_lock_and_hang(t, -1);
	T_INT(waitpid(pid, &st, 0), pid, "hook child");
	T_OK(WIFEXITED(st) && WEXITSTATUS(st) == 1, "hook exits 1: %d", st);
	throttle_close(t);
	throttle_close(NULL);
}

int
main(void)
{
	struct throttle	*t;

	if (!have_redis()) {
		printf("SKIP: redis-server not found in PATH\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	owner = getpid();
	atexit(cleanup);
	srv_start(&s1);
	s2.with_unix = 1;
	srv_start(&s2);

	test_urls();
	t = hopen_srv(&s1, 0, 1000);
	test_gcra(t);
	test_all_keys(t);
	test_once(t);
	test_window(t);
	throttle_close(t);
	test_shared();
	test_fork();
	test_noscript();
	test_hostile();
	test_foreign();
	test_down();
	T_DONE();
}
