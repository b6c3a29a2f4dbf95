/*
 * throttle_redis: the Redis backend of throttle.h, through hiredis.
 *
 * Each operation is one Lua script, so that its reads and writes are one
 * atomic step for the server whatever the other web servers do, and its
 * time is the server's (TIME), so that they all share one clock.  The
 * scripts are loaded once per connection (SCRIPT LOAD, pipelined with
 * SELECT) and run by SHA; a NOSCRIPT answer (SCRIPT FLUSH, a restarted
 * server) makes us send the text once with EVAL, which caches it again.
 *
 * Scripts that call TIME and then write need effects replication: the
 * default since Redis 5, asked for explicitly for older servers.  Numbers
 * in the scripts are doubles: times in microseconds stay below 2^53, and
 * they are written with string.format('%d') because tostring() keeps only
 * 14 digits.
 *
 * Every key and value goes as a length-counted argument of
 * redisCommandArgv(): no untrusted octet is ever formatted into a
 * command, so CR, LF, spaces or quotes in a key are just octets of it.
 */
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "lib/log.h"
#include "throttle/throttle.h"

#define THROTTLE_REDIS_PORT	6379
#define THROTTLE_REDIS_DB_MAX	65535
#define THROTTLE_REDIS_ADDRS	4	/* addresses kept of a name */
#define THROTTLE_REDIS_HOST_MAX	253	/* RFC 1035 name, in text */
#define THROTTLE_BACKOFF_MIN_MS	50
#define THROTTLE_BACKOFF_MAX_MS	1000
#define THROTTLE_PREFIX_MAX	16
#define THROTTLE_RKEY_MAX	(THROTTLE_PREFIX_MAX + THROTTLE_KEY_INPUT_MAX)
#define THROTTLE_SHA_LEN	40
#define THROTTLE_NUM_MAX	18	/* digits of a number in a reply */
#define THROTTLE_ERRSTR_MAX	160

#define THROTTLE_PFX_RATE	"f2m:rate:"
#define THROTTLE_PFX_ONCE	"f2m:once:"
#define THROTTLE_PFX_WIN	"f2m:win:"

/* Effects replication (Redis 3.2..4 need it asked for; a no-op later). */
#define THROTTLE_LUA_HEAD						\
	"if redis.replicate_commands then redis.replicate_commands() end\n" \
	"local t = redis.call('TIME')\n"				\
	"local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"

/*
 * GCRA over KEYS (throttle.h).  ARGV[2i-1] is key i's emission interval,
 * ARGV[2i] its burst bound N * interval, both microseconds.  All keys are
 * checked, then all are charged or none.  Returns {1, '0'} when admitted,
 * {0, wait} (microseconds until every key admits) when not.  A TAT lives
 * until it is reached: then the key is at a full burst, as if absent.
 */
static const char throttle_lua_check[] =
	THROTTLE_LUA_HEAD
	"local tat = {}\n"
	"local wait = 0\n"
	"for i = 1, #KEYS do\n"
	"  local iv = tonumber(ARGV[2 * i - 1])\n"
	"  local burst = tonumber(ARGV[2 * i])\n"
	"  local x = now\n"
	"  local v = redis.call('GET', KEYS[i])\n"
	"  if v then x = tonumber(v) or now end\n"
	"  if x < now then x = now end\n"
	"  if x - now > burst then x = now + burst end\n"
	"  x = x + iv\n"
	"  tat[i] = x\n"
	"  if x - now - burst > wait then wait = x - now - burst end\n"
	"end\n"
	"if wait > 0 then return {0, string.format('%d', wait)} end\n"
	"for i = 1, #KEYS do\n"
	"  redis.call('SET', KEYS[i], string.format('%d', tat[i]), 'PX',\n"
	"    string.format('%d', math.ceil((tat[i] - now) / 1000)))\n"
	"end\n"
	"return {1, '0'}\n";

/* SET NX PX that tells what was there: {1, ''} stored, {0, value}. */
static const char throttle_lua_once[] =
	"local v = redis.call('GET', KEYS[1])\n"
	"if v then return {0, v} end\n"
	"redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n"
	"return {1, ''}\n";

static const char throttle_lua_forget[] =
	"return redis.call('DEL', KEYS[1])\n";

/*
 * Sliding-window log: one member per admission, scored by its time.
 * ARGV: limit, period (microseconds), a tag unique to this client.  The
 * window at now is (now - period, now]: members at or before now -
 * period are dropped.  When count < limit the call is admitted and
 * recorded ({1, '0'}); else {0, wait} with wait the time until the
 * member whose leaving brings the count under the limit leaves.  The key
 * lives a period after its last admission.
 */
static const char throttle_lua_window[] =
	THROTTLE_LUA_HEAD
	"local limit = tonumber(ARGV[1])\n"
	"local per = tonumber(ARGV[2])\n"
	"redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf',\n"
	"  string.format('%d', now - per))\n"
	"local n = redis.call('ZCARD', KEYS[1])\n"
	"if n < limit then\n"
	"  local s = string.format('%d', now)\n"
	"  redis.call('ZADD', KEYS[1], s, s .. ':' .. ARGV[3])\n"
	"  redis.call('PEXPIRE', KEYS[1],\n"
	"    string.format('%d', math.ceil(per / 1000)))\n"
	"  return {1, '0'}\n"
	"end\n"
	"local e = redis.call('ZRANGE', KEYS[1], n - limit, n - limit,\n"
	"  'WITHSCORES')\n"
	"return {0, string.format('%d', tonumber(e[2]) + per - now)}\n";

enum { SC_CHECK, SC_ONCE, SC_FORGET, SC_WINDOW, SC_COUNT };

static const char *const throttle_lua[SC_COUNT] = {
	throttle_lua_check, throttle_lua_once, throttle_lua_forget,
	throttle_lua_window
};

struct throttle_redis {
	pthread_mutex_t	 mu;
	/* Fixed at open. */
	int		 is_unix;
	char		 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char		 addr[THROTTLE_REDIS_ADDRS][INET6_ADDRSTRLEN];
	size_t		 naddr;
	int		 port;
	int		 db;
	long		 timeout_ms;
	char		 name[THROTTLE_REDIS_URL_MAX + 1];
	/* The connection of process `pid`, and what came with it. */
	redisContext	*c;
	pid_t		 pid;
	char		 sha[SC_COUNT][THROTTLE_SHA_LEN + 1];
	char		 tag[64];	/* window members: pid.random */
	uint64_t	 seq;
	/* Reconnecting. */
	int		 down;
	int		 last_errno;
	long		 backoff_ms;
	int64_t		 retry_at_ms;
	char		 errstr[THROTTLE_ERRSTR_MAX];
};

static void throttle_redis_seterr(struct throttle_redis *, const char *, ...)
    F2M_PRINTF(2, 3);

static void
throttle_redis_seterr(struct throttle_redis *r, const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vsnprintf(r->errstr, sizeof(r->errstr), fmt, ap);
	va_end(ap);
	errno = saved;
}

static void throttle_redis_msg(char *, size_t, const char *, ...)
    F2M_PRINTF(3, 4);

static void
throttle_redis_msg(char *err, size_t errsize, const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	if (err != NULL && errsize > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errsize, fmt, ap);
		va_end(ap);
	}
	errno = saved;
}

static int64_t
throttle_mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* URLs (throttle.h, throttle_open_redis). */

/* 1*5DIGIT in 0..max, whole of [s, e). */
static int
throttle_redis_num(const char *s, const char *e, long max, long *v)
{
	long	 n = 0;

	if (s == e || e - s > 5)
		return -1;
	for (; s < e; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		n = n * 10 + (*s - '0');
	}
	if (n > max)
		return -1;
	*v = n;
	return 0;
}

/* A name: letters, digits, '-' and '.' only (an allowlist: what reaches
 * the resolver is never more than a host name). */
static int
throttle_redis_hostname(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > THROTTLE_REDIS_HOST_MAX)
		return -1;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		    s[i] == '.'))
			return -1;
	return 0;
}

/* Resolves host (text, NUL-terminated) into r->addr. */
static int
throttle_redis_resolve(struct throttle_redis *r, const char *host,
    char *err, size_t errsize)
{
	struct addrinfo		 hints, *res = NULL, *ai;
	const void		*a;
	char			 txt[INET6_ADDRSTRLEN];
	size_t			 i;
	int			 rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, NULL, &hints, &res)) != 0) {
		errno = rc == EAI_SYSTEM ? errno : rc == EAI_AGAIN ? EAGAIN :
		    ENOENT;
		throttle_redis_msg(err, errsize, "redis: %s: %s", host,
		    gai_strerror(rc));
		return -1;
	}
	r->naddr = 0;
	for (ai = res; ai != NULL && r->naddr < THROTTLE_REDIS_ADDRS;
	    ai = ai->ai_next) {
		if (ai->ai_family == AF_INET)
			a = &((struct sockaddr_in *)(void *)ai->ai_addr)->
			    sin_addr;
		else if (ai->ai_family == AF_INET6)
			a = &((struct sockaddr_in6 *)(void *)ai->ai_addr)->
			    sin6_addr;
		else
			continue;
		if (inet_ntop(ai->ai_family, a, txt, sizeof(txt)) == NULL)
			continue;
		for (i = 0; i < r->naddr; i++)
			if (strcmp(r->addr[i], txt) == 0)
				break;
		if (i == r->naddr)
			memcpy(r->addr[r->naddr++], txt, sizeof(txt));
	}
	freeaddrinfo(res);
	if (r->naddr == 0) {
		errno = ENOENT;
		throttle_redis_msg(err, errsize, "redis: %s: no address",
		    host);
		return -1;
	}
	return 0;
}

static int
throttle_redis_parse(struct throttle_redis *r, const char *url, char *err,
    size_t errsize)
{
	struct in6_addr	 a6;
	const char	*p, *q, *h, *he, *end;
	char		 host[THROTTLE_REDIS_HOST_MAX + 1];
	size_t		 len, i;
	long		 v;

	len = strnlen(url, THROTTLE_REDIS_URL_MAX + 1);
	if (len == 0 || len > THROTTLE_REDIS_URL_MAX)
		goto bad;
	for (i = 0; i < len; i++)
		if (url[i] <= ' ' || url[i] >= 0x7f)
			goto bad;
	end = url + len;
	r->port = THROTTLE_REDIS_PORT;
	r->db = 0;
	if (strncmp(url, "unix:", 5) == 0) {
		p = url + 5;
		if (*p != '/')
			goto bad;
		if ((q = strchr(p, '?')) == NULL)
			q = end;
		else if (strncmp(q, "?db=", 4) != 0 ||
		    throttle_redis_num(q + 4, end, THROTTLE_REDIS_DB_MAX,
		    &v) == -1)
			goto bad;
		else
			r->db = (int)v;
		if ((size_t)(q - p) >= sizeof(r->path))
			goto bad;
		memcpy(r->path, p, (size_t)(q - p));
		r->path[q - p] = '\0';
		r->is_unix = 1;
		return 0;
	}
	if (strncmp(url, "redis://", 8) != 0)
		goto bad;
	p = url + 8;
	if ((q = strchr(p, '/')) == NULL)
		q = end;
	if (memchr(p, '@', (size_t)(q - p)) != NULL) {
		errno = EINVAL;
		throttle_redis_msg(err, errsize, "redis: %s: no user or "
		    "password in the URL (protect Redis by a unix socket or "
		    "a private address)", url);
		return -1;
	}
	if (*p == '[') {
		h = p + 1;
		if ((he = memchr(h, ']', (size_t)(q - h))) == NULL ||
		    (size_t)(he - h) >= sizeof(host))
			goto bad;
		memcpy(host, h, (size_t)(he - h));
		host[he - h] = '\0';
		if (inet_pton(AF_INET6, host, &a6) != 1)
			goto bad;
		p = he + 1;
	} else {
		h = p;
		for (he = h; he < q && *he != ':'; he++)
			;
		if (throttle_redis_hostname(h, (size_t)(he - h)) == -1)
			goto bad;
		memcpy(host, h, (size_t)(he - h));
		host[he - h] = '\0';
		p = he;
	}
	if (p < q) {
		if (*p != ':' || throttle_redis_num(p + 1, q, 65535,
		    &v) == -1 || v == 0)
			goto bad;
		r->port = (int)v;
	}
	if (q < end && q + 1 < end) {
		if (throttle_redis_num(q + 1, end, THROTTLE_REDIS_DB_MAX,
		    &v) == -1)
			goto bad;
		r->db = (int)v;
	}
	return throttle_redis_resolve(r, host, err, errsize);
bad:
	errno = EINVAL;
	throttle_redis_msg(err, errsize, "redis: bad URL (want "
	    "redis://HOST[:PORT][/DB] or unix:/PATH[?db=DB])");
	return -1;
}

int
throttle_redis_open(const char *url, long timeout_ms,
    struct throttle_redis **out, char *err, size_t errsize)
{
	struct throttle_redis	*r;
	int			 rc;

	*out = NULL;
	if (url == NULL || timeout_ms < 1 ||
	    timeout_ms > THROTTLE_REDIS_TIMEOUT_MAX_MS) {
		errno = EINVAL;
		throttle_redis_msg(err, errsize, "redis: %s",
		    url == NULL ? "no URL" : "timeout out of range");
		return -1;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		throttle_redis_msg(err, errsize, "redis: %s", strerror(errno));
		return -1;
	}
	r->timeout_ms = timeout_ms;
	if (throttle_redis_parse(r, url, err, errsize) == -1) {
		free(r);
		return -1;
	}
	/* url is printable ASCII now: fit for log lines. */
	snprintf(r->name, sizeof(r->name), "redis %s", url);
	if ((rc = pthread_mutex_init(&r->mu, NULL)) != 0) {
		free(r);
		errno = rc;
		throttle_redis_msg(err, errsize, "redis: %s", strerror(rc));
		return -1;
	}
	*out = r;
	return 0;
}

/* Connections. */

/* errno for a failed hiredis context; saved is errno right after it. */
static int
throttle_redis_errno(const redisContext *c, int saved)
{
	if (c == NULL)
		return ENOMEM;
	switch (c->err) {
	case REDIS_ERR_IO:
		if (saved == EAGAIN || saved == EWOULDBLOCK ||
		    saved == EINPROGRESS || saved == ETIMEDOUT)
			return ETIMEDOUT;	/* SO_RCVTIMEO, SO_SNDTIMEO */
		return saved != 0 ? saved : EIO;
	case REDIS_ERR_EOF:
		return ECONNRESET;
	case REDIS_ERR_PROTOCOL:
		return EPROTO;
	case REDIS_ERR_OOM:
		return ENOMEM;
	default:
		return EIO;
	}
}

/* Why a context failed, for a log line or r->errstr. */
static void
throttle_redis_why(struct throttle_redis *r, const redisContext *c, int e,
    const char *what)
{
	if (e == ETIMEDOUT)
		throttle_redis_seterr(r, "%s: no answer within %ld ms", what,
		    r->timeout_ms);
	else
		throttle_redis_seterr(r, "%s: %s", what,
		    c != NULL ? c->errstr : strerror(e));
}

/* Closes our connection (or, in a child, the descriptor it inherited:
 * hiredis writes nothing when it frees a context). */
static void
throttle_redis_drop(struct throttle_redis *r)
{
	if (r->c != NULL)
		redisFree(r->c);
	r->c = NULL;
}

static struct timeval
throttle_tv(long ms)
{
	struct timeval	 tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return tv;
}

/*
 * The replies of the connection set-up: SELECT when db is not 0, then one
 * SCRIPT LOAD per script (pipelined: one round trip).  Returns 0 or -1
 * with errno set and r->errstr filled.
 */
static int
throttle_redis_setup(struct throttle_redis *r, redisContext *c)
{
	const char	*argv[3];
	size_t		 len[3];
	char		 db[16], esc[THROTTLE_ERRSTR_MAX];
	redisReply	*rep = NULL;
	int		 i, n = 0, e, rc = -1;

	if (r->db != 0) {
		snprintf(db, sizeof(db), "%d", r->db);
		argv[0] = "SELECT";
		argv[1] = db;
		len[0] = 6;
		len[1] = strlen(db);
		if (redisAppendCommandArgv(c, 2, argv, len) != REDIS_OK)
			goto io;
		n++;
	}
	argv[0] = "SCRIPT";
	argv[1] = "LOAD";
	len[0] = 6;
	len[1] = 4;
	for (i = 0; i < SC_COUNT; i++) {
		argv[2] = throttle_lua[i];
		len[2] = strlen(throttle_lua[i]);
		if (redisAppendCommandArgv(c, 3, argv, len) != REDIS_OK)
			goto io;
	}
	for (i = -n; i < SC_COUNT; i++) {
		errno = 0;
		if (redisGetReply(c, (void **)&rep) != REDIS_OK || rep == NULL)
			goto io;
		if (rep->type == REDIS_REPLY_ERROR) {
			log_escape(esc, sizeof(esc), rep->str, rep->len);
			throttle_redis_seterr(r, "%s", esc);
			errno = EPROTO;
			goto out;
		}
		if (i < 0) {
			if (rep->type != REDIS_REPLY_STATUS)
				goto proto;
		} else {
			if (rep->type != REDIS_REPLY_STRING ||
			    rep->len != THROTTLE_SHA_LEN ||
			    strspn(rep->str, "0123456789abcdef") !=
			    THROTTLE_SHA_LEN)
				goto proto;
			memcpy(r->sha[i], rep->str, THROTTLE_SHA_LEN + 1);
		}
		freeReplyObject(rep);
		rep = NULL;
	}
	rc = 0;
	goto out;
proto:
	throttle_redis_seterr(r, "unexpected reply while setting up");
	errno = EPROTO;
	goto out;
io:
	e = throttle_redis_errno(c, errno);
	throttle_redis_why(r, c, e, "setting up");
	errno = e;
out:
	if (rep != NULL)
		freeReplyObject(rep);
	return rc;
}

/* Connects (each address in turn, within one timeout in all), sets the
 * command timeout and loads the scripts.  Returns 0 or -1 with errno set
 * and r->errstr filled. */
static int
throttle_redis_connect(struct throttle_redis *r)
{
	redisContext	*c = NULL;
	uint64_t	 rnd;
	int64_t		 deadline, left;
	size_t		 i, n = r->is_unix ? 1 : r->naddr;
	int		 e = EIO;

	deadline = throttle_mono_ms() + r->timeout_ms;
	for (i = 0; i < n; i++) {
		left = deadline - throttle_mono_ms();
		if (i > 0 && left <= 0)
			break;
		if (left < 1)
			left = 1;
		errno = 0;
		if (r->is_unix)
			c = redisConnectUnixWithTimeout(r->path,
			    throttle_tv((long)left));
		else
			c = redisConnectWithTimeout(r->addr[i], r->port,
			    throttle_tv((long)left));
		if (c != NULL && c->err == 0)
			break;
		e = throttle_redis_errno(c, errno);
		throttle_redis_why(r, c, e, "connect");
		if (c != NULL)
			redisFree(c);
		c = NULL;
	}
	if (c == NULL) {
		errno = e;
		return -1;
	}
	/* Our descriptor only: not for a program a child may execute. */
	if (fcntl(c->fd, F_SETFD, FD_CLOEXEC) == -1 ||
	    redisSetTimeout(c, throttle_tv(r->timeout_ms)) != REDIS_OK) {
		e = errno != 0 ? errno : EIO;
		throttle_redis_seterr(r, "socket: %s", strerror(e));
		goto fail;
	}
	if (throttle_redis_setup(r, c) == -1) {
		e = errno;
		goto fail;
	}
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		rnd = (uint64_t)throttle_mono_ms() ^ ((uint64_t)(uintptr_t)c
		    << 16);
	r->pid = getpid();
	snprintf(r->tag, sizeof(r->tag), "%lx.%016llx", (unsigned long)r->pid,
	    (unsigned long long)rnd);
	r->seq = 0;
	r->c = c;
	return 0;
fail:
	redisFree(c);
	errno = e;
	return -1;
}

/* 1 while the connection can carry a command: Redis sends nothing
 * unasked, so a readable socket means it was closed (or is broken). */
static int
throttle_redis_alive(const struct throttle_redis *r)
{
	struct pollfd	 pfd;
	int		 n;

	if (r->c->err != 0)
		return 0;
	pfd.fd = r->c->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	do
		n = poll(&pfd, 1, 0);
	while (n == -1 && errno == EINTR);
	return n == 0;
}

/* Makes sure this process has a connection (see throttle.h for the
 * backoff).  Returns 0 or -1 with errno set. */
static int
throttle_redis_ready(struct throttle_redis *r)
{
	if (r->c != NULL && r->pid != getpid()) {
		/* Inherited across fork(): the parent's, never ours. */
		throttle_redis_drop(r);
		r->down = 0;
		r->backoff_ms = 0;
		r->retry_at_ms = 0;
	}
	if (r->c != NULL && !throttle_redis_alive(r)) {
		log_warn("%s: connection closed by the server; reconnecting",
		    r->name);
		throttle_redis_drop(r);
	}
	if (r->c != NULL)
		return 0;
	if (r->retry_at_ms != 0 && throttle_mono_ms() < r->retry_at_ms) {
		errno = r->last_errno;
		return -1;
	}
	if (throttle_redis_connect(r) == 0) {
		if (r->down)
			log_info("%s: connected again", r->name);
		r->down = 0;
		r->backoff_ms = 0;
		r->retry_at_ms = 0;
		return 0;
	}
	r->last_errno = errno;
	r->backoff_ms = r->backoff_ms == 0 ? THROTTLE_BACKOFF_MIN_MS :
	    r->backoff_ms * 2;
	if (r->backoff_ms > THROTTLE_BACKOFF_MAX_MS)
		r->backoff_ms = THROTTLE_BACKOFF_MAX_MS;
	r->retry_at_ms = throttle_mono_ms() + r->backoff_ms;
	if (!r->down)
		log_err("%s: %s; throttle operations fail until it answers",
		    r->name, r->errstr);
	r->down = 1;
	errno = r->last_errno;
	return -1;
}

/*
 * Runs script sc: argv[3 ..] (argc in all) are its keys (nkeys) and
 * arguments; argv[0 .. 2] are filled here.  Returns the reply (release
 * with freeReplyObject) or NULL with errno set.  An error reply is
 * logged and gives EPROTO; the connection stays.  A failure once the
 * command may have been sent drops the connection and is not retried.
 */
static redisReply *
throttle_redis_eval(struct throttle_redis *r, int sc, int nkeys, int argc,
    const char **argv, size_t *len)
{
	redisReply	*rep;
	char		 nk[16], esc[THROTTLE_ERRSTR_MAX];
	int		 pass, e;

	if (throttle_redis_ready(r) == -1)
		return NULL;
	snprintf(nk, sizeof(nk), "%d", nkeys);
	argv[2] = nk;
	len[2] = strlen(nk);
	for (pass = 0; pass < 2; pass++) {
		if (pass == 0) {
			argv[0] = "EVALSHA";
			argv[1] = r->sha[sc];
			len[1] = THROTTLE_SHA_LEN;
		} else {
			argv[0] = "EVAL";
			argv[1] = throttle_lua[sc];
			len[1] = strlen(throttle_lua[sc]);
		}
		len[0] = strlen(argv[0]);
		errno = 0;
		rep = redisCommandArgv(r->c, argc, argv, len);
		if (rep == NULL) {
			e = throttle_redis_errno(r->c, errno);
			throttle_redis_why(r, r->c, e, argv[0]);
			log_err("%s: %s", r->name, r->errstr);
			throttle_redis_drop(r);
			errno = e;
			return NULL;
		}
		if (rep->type != REDIS_REPLY_ERROR)
			return rep;
		if (pass == 0 && rep->len >= 8 &&
		    strncmp(rep->str, "NOSCRIPT", 8) == 0) {
			freeReplyObject(rep);
			continue;
		}
		log_escape(esc, sizeof(esc), rep->str, rep->len);
		log_err("%s: %s", r->name, esc);
		freeReplyObject(rep);
		break;
	}
	errno = EPROTO;
	return NULL;
}

/* prefix + key into buf (THROTTLE_RKEY_MAX); returns the length. */
static size_t
throttle_redis_key(char *buf, const char *prefix, const char *key)
{
	size_t	 pl = strlen(prefix), kl = strlen(key);

	memcpy(buf, prefix, pl);
	memcpy(buf + pl, key, kl);
	return pl + kl;
}

/* A non-negative decimal in a reply (string or integer); -1 if not one. */
static int64_t
throttle_redis_int(const redisReply *rep)
{
	int64_t	 v = 0;
	size_t	 i;

	if (rep->type == REDIS_REPLY_INTEGER)
		return rep->integer >= 0 ? (int64_t)rep->integer : -1;
	if (rep->type != REDIS_REPLY_STRING || rep->len == 0 ||
	    rep->len > THROTTLE_NUM_MAX)
		return -1;
	for (i = 0; i < rep->len; i++) {
		if (rep->str[i] < '0' || rep->str[i] > '9')
			return -1;
		v = v * 10 + (rep->str[i] - '0');
	}
	return v;
}

/* Our scripts answer {flag 0|1, second}: flag, or -1 for another shape. */
static int
throttle_redis_pair(const redisReply *rep)
{
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
	    rep->element[0]->type != REDIS_REPLY_INTEGER ||
	    (rep->element[0]->integer != 0 &&
	    rep->element[0]->integer != 1))
		return -1;
	return (int)rep->element[0]->integer;
}

static long
throttle_secs_up(int64_t us)
{
	int64_t	 s = (us + 999999) / 1000000;

	return s < 1 ? 1 : (long)s;
}

/* Operations. */

enum throttle_result
throttle_redis_check(struct throttle_redis *r, const struct throttle_key *keys,
    size_t nkeys, long *retry_after)
{
	char			 kbuf[THROTTLE_MAX_KEYS][THROTTLE_RKEY_MAX];
	char			 nbuf[THROTTLE_MAX_KEYS][2][24];
	const char		*argv[3 + 3 * THROTTLE_MAX_KEYS];
	size_t			 len[3 + 3 * THROTTLE_MAX_KEYS];
	size_t			 i, n = 0;
	int64_t			 iv, wait;
	redisReply		*rep;
	enum throttle_result	 res = THROTTLE_ERROR;
	int			 flag, e;

	if ((e = pthread_mutex_lock(&r->mu)) != 0) {
		errno = e;
		return THROTTLE_ERROR;
	}
	for (i = 0; i < nkeys; i++) {
		if (keys[i].rate.count == 0)
			continue;
		/* The interval rounded up to a microsecond: never more than
		 * N per PERIOD. */
		iv = ((int64_t)keys[i].rate.period * 1000000 +
		    keys[i].rate.count - 1) / keys[i].rate.count;
		len[3 + n] = throttle_redis_key(kbuf[n], THROTTLE_PFX_RATE,
		    keys[i].key);
		argv[3 + n] = kbuf[n];
		snprintf(nbuf[n][0], sizeof(nbuf[n][0]), "%lld",
		    (long long)iv);
		snprintf(nbuf[n][1], sizeof(nbuf[n][1]), "%lld",
		    (long long)(iv * keys[i].rate.count));
		n++;
	}
	if (n == 0) {
		res = THROTTLE_OK;
		goto out;
	}
	for (i = 0; i < n; i++) {
		argv[3 + n + 2 * i] = nbuf[i][0];
		len[3 + n + 2 * i] = strlen(nbuf[i][0]);
		argv[3 + n + 2 * i + 1] = nbuf[i][1];
		len[3 + n + 2 * i + 1] = strlen(nbuf[i][1]);
	}
	if ((rep = throttle_redis_eval(r, SC_CHECK, (int)n, (int)(3 + 3 * n),
	    argv, len)) == NULL)
		goto out;
	if ((flag = throttle_redis_pair(rep)) == -1 ||
	    (wait = throttle_redis_int(rep->element[1])) == -1) {
		log_err("%s: unexpected reply to the rate check", r->name);
		errno = EPROTO;
	} else if (flag == 1)
		res = THROTTLE_OK;
	else {
		res = THROTTLE_LIMITED;
		if (retry_after != NULL)
			*retry_after = throttle_secs_up(wait);
	}
	freeReplyObject(rep);
out:
	e = errno;
	pthread_mutex_unlock(&r->mu);
	errno = e;
	return res;
}

int
throttle_redis_once(struct throttle_redis *r, const char *key,
    const char *value, int64_t ttl_ms, char *value_out)
{
	char		 kbuf[THROTTLE_RKEY_MAX];
	const char	*argv[6];
	size_t		 len[6];
	char		 ttl[24];
	redisReply	*rep, *v;
	int		 rc = -1, e;

	if ((e = pthread_mutex_lock(&r->mu)) != 0) {
		errno = e;
		return -1;
	}
	len[3] = throttle_redis_key(kbuf, THROTTLE_PFX_ONCE, key);
	argv[3] = kbuf;
	argv[4] = value;
	len[4] = strlen(value);
	snprintf(ttl, sizeof(ttl), "%lld", (long long)(ttl_ms < 1 ? 1 :
	    ttl_ms));
	argv[5] = ttl;
	len[5] = strlen(ttl);
	if ((rep = throttle_redis_eval(r, SC_ONCE, 1, 6, argv, len)) == NULL)
		goto out;
	v = rep->elements == 2 ? rep->element[1] : NULL;
	switch (throttle_redis_pair(rep)) {
	case 1:
		rc = 1;
		break;
	case 0:
		/* Ours hold at most THROTTLE_VALUE_MAX octets, no NUL. */
		if (v->type != REDIS_REPLY_STRING ||
		    v->len > THROTTLE_VALUE_MAX ||
		    memchr(v->str, '\0', v->len) != NULL) {
			log_err("%s: a once entry that is not ours",
			    r->name);
			errno = EPROTO;
			break;
		}
		if (value_out != NULL) {
			memcpy(value_out, v->str, v->len);
			value_out[v->len] = '\0';
		}
		rc = 0;
		break;
	default:
		log_err("%s: unexpected reply to once", r->name);
		errno = EPROTO;
		break;
	}
	freeReplyObject(rep);
out:
	e = errno;
	pthread_mutex_unlock(&r->mu);
	errno = e;
	return rc;
}

int
throttle_redis_forget(struct throttle_redis *r, const char *key)
{
	char		 kbuf[THROTTLE_RKEY_MAX];
	const char	*argv[4];
	size_t		 len[4];
	redisReply	*rep;
	int		 rc = -1, e;

	if ((e = pthread_mutex_lock(&r->mu)) != 0) {
		errno = e;
		return -1;
	}
	len[3] = throttle_redis_key(kbuf, THROTTLE_PFX_ONCE, key);
	argv[3] = kbuf;
	if ((rep = throttle_redis_eval(r, SC_FORGET, 1, 4, argv, len)) == NULL)
		goto out;
	if (rep->type == REDIS_REPLY_INTEGER && rep->integer >= 0)
		rc = rep->integer > 0;
	else {
		log_err("%s: unexpected reply to forget", r->name);
		errno = EPROTO;
	}
	freeReplyObject(rep);
out:
	e = errno;
	pthread_mutex_unlock(&r->mu);
	errno = e;
	return rc;
}

int
throttle_redis_window(struct throttle_redis *r, const char *key, long limit,
    long period_s, long *wait_s)
{
	char		 kbuf[THROTTLE_RKEY_MAX];
	const char	*argv[7];
	size_t		 len[7];
	char		 lim[24], per[24], tag[96];
	redisReply	*rep;
	int64_t		 wait;
	int		 rc = -1, e;

	if ((e = pthread_mutex_lock(&r->mu)) != 0) {
		errno = e;
		return -1;
	}
	/* Connect first: the tag belongs to this process's connection. */
	if (throttle_redis_ready(r) == -1)
		goto out;
	len[3] = throttle_redis_key(kbuf, THROTTLE_PFX_WIN, key);
	argv[3] = kbuf;
	snprintf(lim, sizeof(lim), "%ld", limit);
	snprintf(per, sizeof(per), "%lld", (long long)period_s * 1000000);
	snprintf(tag, sizeof(tag), "%s.%llu", r->tag,
	    (unsigned long long)r->seq++);
	argv[4] = lim;
	len[4] = strlen(lim);
	argv[5] = per;
	len[5] = strlen(per);
	argv[6] = tag;
	len[6] = strlen(tag);
	if ((rep = throttle_redis_eval(r, SC_WINDOW, 1, 7, argv, len)) == NULL)
		goto out;
	switch (throttle_redis_pair(rep)) {
	case 1:
		rc = 1;
		break;
	case 0:
		if ((wait = throttle_redis_int(rep->element[1])) == -1) {
			errno = EPROTO;
			break;
		}
		if (wait_s != NULL)
			*wait_s = throttle_secs_up(wait);
		rc = 0;
		break;
	default:
		errno = EPROTO;
		break;
	}
	if (rc == -1)
		log_err("%s: unexpected reply to window", r->name);
	freeReplyObject(rep);
out:
	e = errno;
	pthread_mutex_unlock(&r->mu);
	errno = e;
	return rc;
}

int
throttle_redis_ping(struct throttle_redis *r, char *err, size_t errsize)
{
	const char	*argv[1] = { "PING" };
	size_t		 len[1] = { 4 };
	redisReply	*rep;
	int		 rc = -1, e;

	if ((e = pthread_mutex_lock(&r->mu)) != 0) {
		errno = e;
		return -1;
	}
	if (throttle_redis_ready(r) == -1) {
		throttle_redis_msg(err, errsize, "%s: %s", r->name,
		    r->down ? r->errstr : strerror(errno));
		goto out;
	}
	errno = 0;
	if ((rep = redisCommandArgv(r->c, 1, argv, len)) == NULL) {
		e = throttle_redis_errno(r->c, errno);
		throttle_redis_why(r, r->c, e, "PING");
		throttle_redis_msg(err, errsize, "%s: %s", r->name,
		    r->errstr);
		throttle_redis_drop(r);
		errno = e;
		goto out;
	}
	if (rep->type == REDIS_REPLY_STATUS && rep->len == 4 &&
	    memcmp(rep->str, "PONG", 4) == 0)
		rc = 0;
	else {
		errno = EPROTO;
		throttle_redis_msg(err, errsize, "%s: unexpected reply to "
		    "PING", r->name);
	}
	freeReplyObject(rep);
out:
	e = errno;
	pthread_mutex_unlock(&r->mu);
	errno = e;
	return rc;
}

void
throttle_redis_close(struct throttle_redis *r)
{
	if (r == NULL)
		return;
	throttle_redis_drop(r);
	pthread_mutex_destroy(&r->mu);
	free(r);
}
