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
#include "throttle/throttle_backend.h"


#define THROTTLE_PREFIX_MAX	16
#define THROTTLE_RKEY_MAX	(THROTTLE_PREFIX_MAX + THROTTLE_KEY_INPUT_MAX)
#define THROTTLE_NUM_MAX	18	/* digits of a number in a reply */

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
_Static_assert(SC_COUNT == THROTTLE_REDIS_NSCRIPTS, "one text per script");

const char *const throttle_redis_lua[THROTTLE_REDIS_NSCRIPTS] = {
	throttle_lua_check, throttle_lua_once, throttle_lua_forget,
	throttle_lua_window
};

/*
 * Runs script sc: argv[3 ..] (argc in all) are its keys (nkeys) and
 * arguments; argv[0 .. 2] are filled here.  Returns the reply (release
 * with freeReplyObject) or NULL with errno set.  An error reply is
 * logged and gives EPROTO; the connection stays.  A failure once the
 * command may have been sent drops the connection and is not retried.
 */
static redisReply *
throttle_redis_eval(struct redis_conn *r, int sc, int nkeys, int argc,
    const char **argv, size_t *len)
{
	redisReply	*rep;
	char		 nk[16], esc[THROTTLE_ERRSTR_MAX];
	int		 pass;

	if (redis_conn_ready(r) == -1)
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
			argv[1] = throttle_redis_lua[sc];
			len[1] = strlen(throttle_redis_lua[sc]);
		}
		len[0] = strlen(argv[0]);
		errno = 0;
		rep = redisCommandArgv(r->c, argc, argv, len);
		if (rep == NULL) {
			errno = redis_conn_lost(r, argv[0], errno);
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

static enum throttle_result
redis_check(void *be, const struct throttle_key *keys, size_t nkeys,
    int64_t now_us, long *retry_after)
{
	struct redis_conn	*r = be;
	char			 kbuf[THROTTLE_MAX_KEYS][THROTTLE_RKEY_MAX];
	char			 nbuf[THROTTLE_MAX_KEYS][2][24];
	const char		*argv[3 + 3 * THROTTLE_MAX_KEYS];
	size_t			 len[3 + 3 * THROTTLE_MAX_KEYS];
	size_t			 i, n = 0;
	int64_t			 iv, wait;
	redisReply		*rep;
	enum throttle_result	 res = THROTTLE_ERROR;
	int			 flag, e;

	(void)now_us;	/* the server's clock */

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

static int
redis_once(void *be, const char *key, const char *value, size_t vlen,
    int64_t expires_us, int64_t now_us, char *value_out)
{
	struct redis_conn	*r = be;
	int64_t		 ttl_ms = (expires_us - now_us + 999) / 1000;
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
	len[4] = vlen;
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

static int
redis_forget(void *be, const char *key)
{
	struct redis_conn	*r = be;
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

static int
redis_window(void *be, const char *key, long limit, long period_s,
    int64_t now_us, long *wait_s)
{
	struct redis_conn	*r = be;
	char		 kbuf[THROTTLE_RKEY_MAX];
	const char	*argv[7];
	size_t		 len[7];
	char		 lim[24], per[24], tag[96];
	redisReply	*rep;
	int64_t		 wait;
	int		 rc = -1, e;

	(void)now_us;	/* the server's clock */

	if ((e = pthread_mutex_lock(&r->mu)) != 0) {
		errno = e;
		return -1;
	}
	/* Connect first: the tag belongs to this process's connection. */
	if (redis_conn_ready(r) == -1)
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

static int
redis_ping(void *be, char *err, size_t errsize)
{
	struct redis_conn	*r = be;
	const char	*argv[1] = { "PING" };
	size_t		 len[1] = { 4 };
	redisReply	*rep;
	int		 rc = -1, e;

	if ((e = pthread_mutex_lock(&r->mu)) != 0) {
		errno = e;
		return -1;
	}
	if (redis_conn_ready(r) == -1) {
		throttle_err(err, errsize, "%s: %s", r->name,
		    r->down ? r->errstr : strerror(errno));
		goto out;
	}
	errno = 0;
	if ((rep = redisCommandArgv(r->c, 1, argv, len)) == NULL) {
		e = redis_conn_lost(r, "PING", errno);
		throttle_err(err, errsize, "%s: %s", r->name,
		    r->errstr);
		errno = e;
		goto out;
	}
	if (rep->type == REDIS_REPLY_STATUS && rep->len == 4 &&
	    memcmp(rep->str, "PONG", 4) == 0)
		rc = 0;
	else {
		errno = EPROTO;
		throttle_err(err, errsize, "%s: unexpected reply to "
		    "PING", r->name);
	}
	freeReplyObject(rep);
out:
	e = errno;
	pthread_mutex_unlock(&r->mu);
	errno = e;
	return rc;
}

static void
redis_close(void *be)
{
	redis_conn_close(be);
}

const struct throttle_ops throttle_redis_ops = {
	.check = redis_check,
	.once = redis_once,
	.forget = redis_forget,
	.window = redis_window,
	.ping = redis_ping,
	.stats = NULL,		/* ENOTSUP: the server keeps no table */
	.hold = NULL,		/* no lock to hold */
	.close = redis_close,
};

int
throttle_redis_open(const char *url, long timeout_ms, void **be, char *err,
    size_t errsize)
{
	struct redis_conn	*r;

	if (redis_conn_open(url, timeout_ms, &r, err, errsize) == -1)
		return -1;
	*be = r;
	return 0;
}
