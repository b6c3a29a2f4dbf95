/*
 * redis_conn: the connection of the Redis backend (throttle.h,
 * throttle_backend.h): the URL, resolving once at open, connecting
 * lazily in each process (a handle inherited across fork() is dropped,
 * never used), the set-up (SELECT, SCRIPT LOAD), noticing a connection
 * the server closed, and the backoff while Redis does not answer.
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
#include "lib/rate.h"
#include "throttle/throttle_backend.h"

#define THROTTLE_REDIS_PORT	6379
#define THROTTLE_REDIS_DB_MAX	65535
#define THROTTLE_REDIS_HOST_MAX	253	/* RFC 1035 name, in text */
#define THROTTLE_BACKOFF_MIN_MS	50
#define THROTTLE_BACKOFF_MAX_MS	1000

static void conn_seterr(struct redis_conn *, const char *, ...)
    F2M_PRINTF(2, 3);

static void
conn_seterr(struct redis_conn *r, const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vsnprintf(r->errstr, sizeof(r->errstr), fmt, ap);
	va_end(ap);
	errno = saved;
}

/* URLs (throttle.h, throttle_open_redis). */

/* 1*5DIGIT in 0..max, whole of [s, e). */
static int
conn_num(const char *s, const char *e, long max, long *v)
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
conn_hostname(const char *s, size_t len)
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
conn_resolve(struct redis_conn *r, const char *host,
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
		throttle_err(err, errsize, "redis: %s: %s", host,
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
		throttle_err(err, errsize, "redis: %s: no address",
		    host);
		return -1;
	}
	return 0;
}

/* unix:/PATH[?db=DB] (url is the whole of [url, end)); 0 or -1. */
static int
conn_parse_unix(struct redis_conn *r, const char *url, const char *end)
{
	const char	*p = url + 5, *q;
	long		 v;

	if (*p != '/')
		return -1;
	if ((q = strchr(p, '?')) == NULL)
		q = end;
	else if (strncmp(q, "?db=", 4) != 0 ||
	    conn_num(q + 4, end, THROTTLE_REDIS_DB_MAX, &v) == -1)
		return -1;
	else
		r->db = (int)v;
	if ((size_t)(q - p) >= sizeof(r->path))
		return -1;
	memcpy(r->path, p, (size_t)(q - p));
	r->path[q - p] = '\0';
	r->is_unix = 1;
	return 0;
}

/* The host of redis://HOST..., [p, q): into host (NUL-terminated); returns
 * where the host ends, or NULL when it is not an address in brackets or a
 * name. */
static const char *
conn_parse_host(const char *p, const char *q, char *host, size_t hostsize)
{
	struct in6_addr	 a6;
	const char	*h, *he;

	if (*p == '[') {
		h = p + 1;
		if ((he = memchr(h, ']', (size_t)(q - h))) == NULL ||
		    (size_t)(he - h) >= hostsize)
			return NULL;
		memcpy(host, h, (size_t)(he - h));
		host[he - h] = '\0';
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return NULL;
		return he + 1;
	}
	h = p;
	for (he = h; he < q && *he != ':'; he++)
		;
	if (conn_hostname(h, (size_t)(he - h)) == -1)
		return NULL;
	memcpy(host, h, (size_t)(he - h));
	host[he - h] = '\0';
	return he;
}

static int
conn_parse(struct redis_conn *r, const char *url, char *err, size_t errsize)
{
	const char	*p, *q, *end;
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
		if (conn_parse_unix(r, url, end) == -1)
			goto bad;
		return 0;
	}
	if (strncmp(url, "redis://", 8) != 0)
		goto bad;
	p = url + 8;
	if ((q = strchr(p, '/')) == NULL)
		q = end;
	if (memchr(p, '@', (size_t)(q - p)) != NULL) {
		errno = EINVAL;
		throttle_err(err, errsize, "redis: %s: no user or "
		    "password in the URL (protect Redis by a unix socket or "
		    "a private address)", url);
		return -1;
	}
	if ((p = conn_parse_host(p, q, host, sizeof(host))) == NULL)
		goto bad;
	if (p < q) {
		if (*p != ':' || conn_num(p + 1, q, 65535,
		    &v) == -1 || v == 0)
			goto bad;
		r->port = (int)v;
	}
	if (q < end && q + 1 < end) {
		if (conn_num(q + 1, end, THROTTLE_REDIS_DB_MAX,
		    &v) == -1)
			goto bad;
		r->db = (int)v;
	}
	return conn_resolve(r, host, err, errsize);
bad:
	errno = EINVAL;
	throttle_err(err, errsize, "redis: bad URL (want "
	    "redis://HOST[:PORT][/DB] or unix:/PATH[?db=DB])");
	return -1;
}

int
redis_conn_open(const char *url, long timeout_ms, struct redis_conn **out,
    char *err, size_t errsize)
{
	struct redis_conn	*r;
	int			 rc;

	*out = NULL;
	if (url == NULL || timeout_ms < 1 ||
	    timeout_ms > THROTTLE_REDIS_TIMEOUT_MAX_MS) {
		errno = EINVAL;
		throttle_err(err, errsize, "redis: %s",
		    url == NULL ? "no URL" : "timeout out of range");
		return -1;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		throttle_err(err, errsize, "redis: %s", strerror(errno));
		return -1;
	}
	r->timeout_ms = timeout_ms;
	if (conn_parse(r, url, err, errsize) == -1) {
		free(r);
		return -1;
	}
	/* url is printable ASCII now: fit for log lines. */
	snprintf(r->name, sizeof(r->name), "redis %s", url);
	if ((rc = pthread_mutex_init(&r->mu, NULL)) != 0) {
		free(r);
		errno = rc;
		throttle_err(err, errsize, "redis: %s", strerror(rc));
		return -1;
	}
	*out = r;
	return 0;
}

/* Connections. */

/* errno for a failed hiredis context; saved is errno right after it. */
static int
conn_errno(const redisContext *c, int saved)
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
conn_why(struct redis_conn *r, const redisContext *c, int e,
    const char *what)
{
	if (e == ETIMEDOUT)
		conn_seterr(r, "%s: no answer within %ld ms", what,
		    r->timeout_ms);
	else
		conn_seterr(r, "%s: %s", what,
		    c != NULL ? c->errstr : strerror(e));
}

int
redis_conn_lost(struct redis_conn *r, const char *what, int saved)
{
	int	 e = conn_errno(r->c, saved);

	conn_why(r, r->c, e, what);
	log_err("%s: %s", r->name, r->errstr);
	redis_conn_drop(r);
	return e;
}

/* Closes our connection (or, in a child, the descriptor it inherited:
 * hiredis writes nothing when it frees a context). */
void
redis_conn_drop(struct redis_conn *r)
{
	if (r->c != NULL)
		redisFree(r->c);
	r->c = NULL;
}

static struct timeval
conn_tv(long ms)
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
conn_setup(struct redis_conn *r, redisContext *c)
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
	for (i = 0; i < THROTTLE_REDIS_NSCRIPTS; i++) {
		argv[2] = throttle_redis_lua[i];
		len[2] = strlen(throttle_redis_lua[i]);
		if (redisAppendCommandArgv(c, 3, argv, len) != REDIS_OK)
			goto io;
	}
	for (i = -n; i < THROTTLE_REDIS_NSCRIPTS; i++) {
		errno = 0;
		if (redisGetReply(c, (void **)&rep) != REDIS_OK || rep == NULL)
			goto io;
		if (rep->type == REDIS_REPLY_ERROR) {
			log_escape(esc, sizeof(esc), rep->str, rep->len);
			conn_seterr(r, "%s", esc);
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
	conn_seterr(r, "unexpected reply while setting up");
	errno = EPROTO;
	goto out;
io:
	e = conn_errno(c, errno);
	conn_why(r, c, e, "setting up");
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
conn_connect(struct redis_conn *r)
{
	redisContext	*c = NULL;
	uint64_t	 rnd;
	int64_t		 deadline, left;
	size_t		 i, n = r->is_unix ? 1 : r->naddr;
	int		 e = EIO;

	deadline = rate_clock_ms() + r->timeout_ms;
	for (i = 0; i < n; i++) {
		left = deadline - rate_clock_ms();
		if (i > 0 && left <= 0)
			break;
		if (left < 1)
			left = 1;
		errno = 0;
		if (r->is_unix)
			c = redisConnectUnixWithTimeout(r->path,
			    conn_tv((long)left));
		else
			c = redisConnectWithTimeout(r->addr[i], r->port,
			    conn_tv((long)left));
		if (c != NULL && c->err == 0)
			break;
		e = conn_errno(c, errno);
		conn_why(r, c, e, "connect");
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
	    redisSetTimeout(c, conn_tv(r->timeout_ms)) != REDIS_OK) {
		e = errno != 0 ? errno : EIO;
		conn_seterr(r, "socket: %s", strerror(e));
		goto fail;
	}
	if (conn_setup(r, c) == -1) {
		e = errno;
		goto fail;
	}
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		rnd = (uint64_t)rate_clock_ms() ^ ((uint64_t)(uintptr_t)c
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
conn_alive(const struct redis_conn *r)
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

int
redis_conn_ready(struct redis_conn *r)
{
	if (r->c != NULL && r->pid != getpid()) {
		/* Inherited across fork(): the parent's, never ours. */
		redis_conn_drop(r);
		r->down = 0;
		r->backoff_ms = 0;
		r->retry_at_ms = 0;
	}
	if (r->c != NULL && !conn_alive(r)) {
		log_warn("%s: connection closed by the server; reconnecting",
		    r->name);
		redis_conn_drop(r);
	}
	if (r->c != NULL)
		return 0;
	if (r->retry_at_ms != 0 && rate_clock_ms() < r->retry_at_ms) {
		errno = r->last_errno;
		return -1;
	}
	if (conn_connect(r) == 0) {
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
	r->retry_at_ms = rate_clock_ms() + r->backoff_ms;
	if (!r->down)
		log_err("%s: %s; throttle operations fail until it answers",
		    r->name, r->errstr);
	r->down = 1;
	errno = r->last_errno;
	return -1;
}

void
redis_conn_close(struct redis_conn *r)
{
	if (r == NULL)
		return;
	redis_conn_drop(r);
	pthread_mutex_destroy(&r->mu);
	free(r);
}
