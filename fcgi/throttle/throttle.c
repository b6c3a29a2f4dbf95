/*
 * throttle: the front of throttle.h.  Rates, client keys, the checks of
 * every argument, then one call through the backend's operations
 * (throttle_backend.h): shared memory (throttle_shm.c) or Redis
 * (throttle_redis.c).
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/addr.h"
#include "throttle/throttle_backend.h"

/* Client keys. */

/* The checks of a key's buffer (out set to "" when outsize > 0), then
 * addr as an address: 4 (a4 set; IPv4-mapped IPv6 included), 6 (a6 set)
 * or -1 (a short buffer; NULL, empty, too long, not a plain address). */
static int
client_parse(const char *addr, char *out, size_t outsize,
    struct in_addr *a4, struct in6_addr *a6)
{
	size_t	 len;

	if (out != NULL && outsize > 0)
		out[0] = '\0';
	if (addr == NULL || out == NULL || outsize < THROTTLE_CLIENT_KEY_SIZE)
		return -1;
	len = strnlen(addr, INET6_ADDRSTRLEN);
	if (len == 0 || len >= INET6_ADDRSTRLEN)
		return -1;
	if (inet_pton(AF_INET, addr, a4) == 1)
		return 4;
	if (inet_pton(AF_INET6, addr, a6) != 1)
		return -1;
	if (!IN6_IS_ADDR_V4MAPPED(a6))
		return 6;
	memcpy(a4, &a6->s6_addr[12], sizeof(*a4));
	return 4;
}

/* "<prefix><address text><suffix>" into out; 0 or -1 (out ""). */
static int
client_write(int fam, const void *a, const char *prefix, const char *suffix,
    char *out, size_t outsize)
{
	char	 txt[INET6_ADDRSTRLEN];
	int	 n;

	if (inet_ntop(fam == 4 ? AF_INET : AF_INET6, a, txt,
	    sizeof(txt)) == NULL)
		return -1;
	n = snprintf(out, outsize, "%s%s%s", prefix, txt, suffix);
	if (n < 0 || (size_t)n >= outsize) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

int
throttle_client_key(const char *addr, char *out, size_t outsize)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;
	int		 fam;

	if ((fam = client_parse(addr, out, outsize, &a4, &a6)) == -1)
		return -1;
	if (fam == 4)
		return client_write(4, &a4, "ip:", "", out, outsize);
	/* One subscriber gets a /64 (RFC 6177): count the prefix, not the
	 * address a client picks in it. */
	memset(&a6.s6_addr[8], 0, 8);
	return client_write(6, &a6, "ip6:", "/64", out, outsize);
}

int
throttle_net_key(const char *addr, char *out, size_t outsize)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;
	int		 fam;

	if ((fam = client_parse(addr, out, outsize, &a4, &a6)) == -1)
		return -1;
	if (fam == 4) {
		a4.s_addr &= htonl(0xffffff00u);
		return client_write(4, &a4, "net4:", "/24", out, outsize) ==
		    -1 ? -1 : 4;
	}
	/* A site's prefix (RFC 6177: /48 to /56): all its /64s. */
	memset(&a6.s6_addr[6], 0, 10);
	return client_write(6, &a6, "net6:", "/48", out, outsize) == -1 ? -1 :
	    6;
}

int
throttle_client_addr(const char *remote_addr, const char *header, int last,
    char *out, size_t outsize)
{
	const char	*p, *e;
	size_t		 len;

	if (out == NULL || outsize < INET6_ADDRSTRLEN)
		return -1;
	out[0] = '\0';
	if (addr_ip_ok(remote_addr)) {
		snprintf(out, outsize, "%s", remote_addr);
		return 0;
	}
	if (header == NULL)
		return -1;
	p = header;
	if (last && (e = strrchr(header, ',')) != NULL)
		p = e + 1;
	while (*p == ' ' || *p == '\t')
		p++;
	len = strcspn(p, " \t");
	for (e = p + len; *e == ' ' || *e == '\t'; e++)
		;
	/* One token, nothing after it, short enough to be an address. */
	if (*e != '\0' || len == 0 || len >= INET6_ADDRSTRLEN)
		return -1;
	memcpy(out, p, len);
	out[len] = '\0';
	if (!addr_ip_ok(out)) {
		out[0] = '\0';
		return -1;
	}
	return 1;
}
static int
throttle_rate_ok(const struct rate *r)
{
	return r->count >= 1 && r->count <= THROTTLE_COUNT_MAX &&
	    r->period >= 1 && r->period <= THROTTLE_PERIOD_MAX;
}

/* The checks throttle_check() makes before it asks Redis: rates in range,
 * keys well formed, none twice.  Returns 0 or -1. */
static int
throttle_keys_ok(const struct throttle_key *keys, size_t nkeys)
{
	size_t	 i, j;

	for (i = 0; i < nkeys; i++) {
		if (keys[i].rate.count == 0)
			continue;
		if (!throttle_rate_ok(&keys[i].rate) ||
		    throttle_key_len(keys[i].key) == 0)
			return -1;
		for (j = 0; j < i; j++)
			if (keys[j].rate.count != 0 &&
			    strcmp(keys[j].key, keys[i].key) == 0)
				return -1;
	}
	return 0;
}
/* A handle on backend ops, once be is open; -1 (be closed) on ENOMEM. */
static int
throttle_wrap(const struct throttle_ops *ops, void *be, struct throttle **out,
    const char *what, char *err, size_t errsize)
{
	struct throttle	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		throttle_err(err, errsize, "%s: %s", what, strerror(errno));
		ops->close(be);
		return -1;
	}
	t->ops = ops;
	t->be = be;
	*out = t;
	return 0;
}

static int
throttle_open_shm(const char *path, size_t entries, int keep,
    struct throttle **out, char *err, size_t errsize)
{
	void	*be = NULL;

	if (err != NULL && errsize > 0)
		err[0] = '\0';
	if (out == NULL)
		goto inval;
	*out = NULL;
	if (path == NULL || path[0] == '\0')
		goto inval;
	if (entries < THROTTLE_MIN_ENTRIES || entries > THROTTLE_MAX_ENTRIES) {
		errno = EINVAL;
		throttle_err(err, errsize, "%s: %zu entries, not in %d..%lu",
		    path, entries, THROTTLE_MIN_ENTRIES,
		    (unsigned long)THROTTLE_MAX_ENTRIES);
		return -1;
	}
	if (throttle_shm_open(path, entries, keep, &be, err, errsize) == -1)
		return -1;
	return throttle_wrap(&throttle_shm_ops, be, out, path, err, errsize);
inval:
	errno = EINVAL;
	throttle_err(err, errsize, "throttle_open: invalid arguments");
	return -1;
}

int
throttle_open(const char *path, size_t entries, struct throttle **out,
    char *err, size_t errsize)
{
	return throttle_open_shm(path, entries, 0, out, err, errsize);
}

int
throttle_open_store(const char *path, size_t entries, struct throttle **out,
    char *err, size_t errsize)
{
	return throttle_open_shm(path, entries, 1, out, err, errsize);
}

int
throttle_open_redis(const char *url, long timeout_ms, struct throttle **out,
    char *err, size_t errsize)
{
	void	*be = NULL;

	if (err != NULL && errsize > 0)
		err[0] = '\0';
	if (out == NULL) {
		errno = EINVAL;
		throttle_err(err, errsize, "throttle_open_redis: invalid "
		    "arguments");
		return -1;
	}
	*out = NULL;
	if (throttle_redis_open(url, timeout_ms, &be, err, errsize) == -1)
		return -1;
	return throttle_wrap(&throttle_redis_ops, be, out, "redis", err,
	    errsize);
}

void
throttle_close(struct throttle *t)
{
	if (t == NULL)
		return;
	t->ops->close(t->be);
	free(t);
}

enum throttle_result
throttle_check(struct throttle *t, const struct throttle_key *keys,
    size_t nkeys, int64_t now_us, long *retry_after)
{
	if (retry_after != NULL)
		*retry_after = 0;
	if (t == NULL || (keys == NULL && nkeys > 0) ||
	    nkeys > THROTTLE_MAX_KEYS || throttle_keys_ok(keys, nkeys) == -1) {
		errno = EINVAL;
		return THROTTLE_ERROR;
	}
	return t->ops->check(t->be, keys, nkeys, now_us, retry_after);
}

int
throttle_once(struct throttle *t, const char *key, const char *value,
    int64_t expires_us, int64_t now_us, char *value_out,
    size_t value_outsize)
{
	size_t	 vlen;

	if (value == NULL)
		value = "";
	if (t == NULL || !throttle_now_ok(now_us) ||
	    !throttle_now_ok(expires_us) || expires_us <= now_us ||
	    expires_us - now_us > THROTTLE_ONCE_MAX_US ||
	    (value_out != NULL && value_outsize <= THROTTLE_VALUE_MAX) ||
	    (vlen = strnlen(value, THROTTLE_VALUE_MAX + 1)) >
	    THROTTLE_VALUE_MAX ||
	    throttle_key_len(key) == 0) {
		errno = EINVAL;
		return -1;
	}
	return t->ops->once(t->be, key, value, vlen, expires_us, now_us,
	    value_out);
}

int
throttle_forget(struct throttle *t, const char *key)
{
	if (t == NULL || throttle_key_len(key) == 0) {
		errno = EINVAL;
		return -1;
	}
	return t->ops->forget(t->be, key);
}

int
throttle_window(struct throttle *t, const char *key, long limit,
    long period_s, int64_t now_us, long *wait_s)
{
	if (wait_s != NULL)
		*wait_s = 0;
	if (t == NULL || limit < 1 || limit > THROTTLE_WINDOW_MAX ||
	    period_s < 1 || period_s > THROTTLE_PERIOD_MAX ||
	    throttle_key_len(key) == 0) {
		errno = EINVAL;
		return -1;
	}
	return t->ops->window(t->be, key, limit, period_s, now_us, wait_s);
}

int
throttle_ping(struct throttle *t, char *err, size_t errsize)
{
	if (err != NULL && errsize > 0)
		err[0] = '\0';
	if (t == NULL) {
		errno = EINVAL;
		throttle_err(err, errsize, "throttle_ping: no handle");
		return -1;
	}
	return t->ops->ping(t->be, err, errsize);
}

int
throttle_stats(struct throttle *t, int64_t now_us, struct throttle_stats *st)
{
	if (t == NULL || st == NULL || !throttle_now_ok(now_us)) {
		errno = EINVAL;
		return -1;
	}
	if (t->ops->stats == NULL) {
		errno = ENOTSUP;
		return -1;
	}
	memset(st, 0, sizeof(*st));
	return t->ops->stats(t->be, now_us, st);
}

void
throttle_test_lock_and_hang(struct throttle *t, int ready_fd)
{
	if (t == NULL || t->ops->hold == NULL || t->ops->hold(t->be) == -1 ||
	    write(ready_fd, "L", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

int64_t
throttle_now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
