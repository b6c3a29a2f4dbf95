/*
 * throttle_backend.h: private to fcgi/throttle/.  The front (throttle.c)
 * checks every argument as throttle.h describes (keys 1..
 * THROTTLE_KEY_INPUT_MAX octets, rates and limits in range, no duplicate
 * key, once() times and value) and then calls one backend through its
 * table of operations, chosen once at open (OpenSMTPD's queue_backend).
 * A backend never calls the front.
 *
 *  - shared memory: throttle_shm.c (the table file: create, map, robust
 *    lock, find, claim, evict) and throttle_shm_ops.c (GCRA, once,
 *    forget, window on the table);
 *  - Redis: redis_conn.c (URL, resolve, connect, lazy reconnect after
 *    fork, backoff) and throttle_redis.c (Lua scripts, EVALSHA/EVAL,
 *    replies).
 *
 * Every operation returns what the throttle.h function of its name
 * returns, with errno set on error; `be` is the backend's own handle.
 */
#ifndef F2M_THROTTLE_BACKEND_H
#define F2M_THROTTLE_BACKEND_H

#include <sys/types.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>

#include "throttle/throttle.h"

struct throttle_ops {
	/* now_us: the shared-memory backend checks it is in range; Redis
	 * ignores it (the server's clock). */
	enum throttle_result (*check)(void *be, const struct throttle_key *,
	    size_t nkeys, int64_t now_us, long *retry_after);
	/* value is checked (at most THROTTLE_VALUE_MAX octets, vlen). */
	int	(*once)(void *be, const char *key, const char *value,
		    size_t vlen, int64_t expires_us, int64_t now_us,
		    char *value_out);
	int	(*forget)(void *be, const char *key);
	int	(*window)(void *be, const char *key, long limit,
		    long period_s, int64_t now_us, long *wait_s);
	int	(*ping)(void *be, char *err, size_t errsize);
	/* now_us checked; *st zeroed by the front. */
	int	(*stats)(void *be, int64_t now_us, struct throttle_stats *st);
	/* Takes the lock and keeps it (the test hook); NULL: no lock. */
	int	(*hold)(void *be);
	void	(*close)(void *be);
};

struct throttle {
	const struct throttle_ops	*ops;
	void				*be;
};

/* The shared-memory backend: opens the table (arguments as
 * throttle_open(), checked; keep: throttle_open_store()'s table), sets
 * *be.  0, or -1 with errno and err. */
extern const struct throttle_ops throttle_shm_ops;
int	throttle_shm_open(const char *path, size_t entries, int keep,
	    void **be, char *err, size_t errsize) F2M_WUR;

/* The Redis backend: parses url, resolves, connects nothing yet.  0, or
 * -1 with errno and err (see throttle_open_redis()). */
extern const struct throttle_ops throttle_redis_ops;
int	throttle_redis_open(const char *url, long timeout_ms, void **be,
	    char *err, size_t errsize) F2M_WUR;

/* The key's length, or 0 for NULL, "" or a key over
 * THROTTLE_KEY_INPUT_MAX octets. */
static inline size_t
throttle_key_len(const char *key)
{
	size_t	 len;

	if (key == NULL)
		return 0;
	len = strnlen(key, THROTTLE_KEY_INPUT_MAX + 1);
	return len > THROTTLE_KEY_INPUT_MAX ? 0 : len;
}

/* An error message into err (when errsize > 0); errno is kept. */
static inline void F2M_PRINTF(3, 4)
throttle_err(char *err, size_t errsize, const char *fmt, ...)
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

/* 1 when now_us is in 0..THROTTLE_NOW_MAX_US. */
static inline int
throttle_now_ok(int64_t now_us)
{
	return now_us >= 0 && now_us <= THROTTLE_NOW_MAX_US;
}

/* Shared memory: the table (throttle_shm.c, throttle_shm_ops.c). */

#define THROTTLE_MAGIC		"F2MTHRT\n"
#define THROTTLE_VERSION	1
#define THROTTLE_HDR_SIZE	256
#define THROTTLE_READY		0x52454459u
#define THROTTLE_OPEN_TRIES	8
#define THROTTLE_DIGEST_LEN	16
#define THROTTLE_NS		1000000000LL
/* An expiry further ahead than this is corrupt (both kinds stay within
 * 30 days; the margin tolerates a clock stepped back). */
#define THROTTLE_SPAN_MAX_NS	(2 * THROTTLE_ONCE_MAX_US * 1000)

enum { KIND_FREE, KIND_RATE, KIND_ONCE, KIND_WINDOW };

/* A window entry's counts: one per slice, 20 bits each (up to 1048575 >=
 * THROTTLE_WINDOW_MAX), in a ring of THROTTLE_WIN_RING slices. */
#define THROTTLE_WIN_RING	(THROTTLE_WINDOW_SLICES + 1)
#define THROTTLE_WIN_BITS	20
#define THROTTLE_WIN_CMAX	((1u << THROTTLE_WIN_BITS) - 1)
#define THROTTLE_US		1000000LL

struct throttle_hdr {
	char		 magic[8];
	uint32_t	 version;
	uint32_t	 hdr_size;
	uint32_t	 slot_size;
	uint32_t	 mutex_size;
	uint64_t	 nslots;
	uint64_t	 file_size;
	uint8_t		 sipkey[16];
	uint64_t	 evictions;
	uint64_t	 recoveries;
	uint32_t	 ready;		/* THROTTLE_READY, written last */
	uint32_t	 pad;
	pthread_mutex_t	 mu;
};

struct throttle_slot {
	uint64_t	 hash;
	int64_t		 expires;	/* ns; free when <= now */
	uint8_t		 kind;
	uint8_t		 keylen;
	uint8_t		 digest;	/* key holds a digest of a long key */
	uint8_t		 vallen;
	uint32_t	 aux;		/* KIND_WINDOW: slice width, ms */
	union {
		int64_t	 tat;		/* KIND_RATE, ns */
		char	 value[THROTTLE_VALUE_MAX];	/* KIND_ONCE */
		uint8_t	 win[THROTTLE_VALUE_MAX];	/* KIND_WINDOW */
	} u;
	unsigned char	 key[THROTTLE_KEY_MAX];
};

_Static_assert(sizeof(struct throttle_hdr) <= THROTTLE_HDR_SIZE,
    "throttle header too big");
_Static_assert(sizeof(struct throttle_slot) == THROTTLE_SLOT_SIZE,
    "throttle slot size");
_Static_assert(THROTTLE_MAX_KEYS < THROTTLE_PROBE,
    "a probe window must keep a slot for every key of one check");
_Static_assert(THROTTLE_WIN_RING * THROTTLE_WIN_BITS <=
    8 * THROTTLE_VALUE_MAX, "window counts fit a slot");
_Static_assert(THROTTLE_WINDOW_MAX <= THROTTLE_WIN_CMAX,
    "a slice count holds any limit");

struct throttle_shm {
	int			 fd;
	size_t			 size;
	size_t			 nslots;
	int			 keep;		/* no live entry is evicted */
	struct throttle_hdr	*hdr;
	struct throttle_slot	*slots;
	uint8_t			 sipkey[16];
	/* Pages of the mapping this process has faulted in by writing
	 * (throttle_prefault), a bit each; NULL: not tracked. */
	unsigned char		*mapped;
	size_t			 mapsize;	/* octets of mapped */
	size_t			 nmapped;	/* bits set in mapped */
	size_t			 pagesize;
};

/* Table pages a process keeps mapped (throttle_prefault): 1 MiB. */
_Static_assert(THROTTLE_HDR_SIZE % THROTTLE_SLOT_SIZE == 0 &&
    4096 % THROTTLE_SLOT_SIZE == 0, "a slot never straddles pages");
#define THROTTLE_MAPPED_MAX	256

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23	/* Linux 5.14 */
#endif

/* A key as stored: verbatim or digest, with its hash. */
struct throttle_pkey {
	uint64_t	 hash;
	uint8_t		 kind;
	uint8_t		 len;
	uint8_t		 digest;
	unsigned char	 key[THROTTLE_KEY_MAX];
};

/* Faults the pages of a key's probe window into this process (see
 * throttle_shm.c). */
void	throttle_shm_prefault(struct throttle_shm *, uint64_t hash);
/* The calls throttle_shm_ops.c makes on the table (throttle_shm.c).
 * Lock: 0, or -1 with errno (ETIMEDOUT after THROTTLE_LOCK_TIMEOUT_MS). */
int	throttle_shm_lock(struct throttle_shm *) F2M_WUR;
void	throttle_shm_unlock(struct throttle_shm *);
/* The stored form of key in *pk (kind KIND_*), its probe window faulted
 * in; -1 for a bad key. */
int	throttle_shm_prepare(struct throttle_shm *, int kind, const char *key,
	    struct throttle_pkey *pk) F2M_WUR;
int	throttle_shm_pkey_eq(const struct throttle_pkey *,
	    const struct throttle_pkey *);
/* 1 when the slot holds a well-formed entry (the file is shared: nothing
 * in it is trusted); throttle_shm_live: one that has not expired at now
 * (ns); throttle_shm_same: a well-formed entry of key pk, live or not. */
int	throttle_shm_wellformed(const struct throttle_slot *);
int	throttle_shm_live(const struct throttle_slot *, int64_t now);
int	throttle_shm_same(const struct throttle_slot *,
	    const struct throttle_pkey *);
/* The key's probe window: 1 and the live entry's index, or 0 and the slot
 * to take (SIZE_MAX: none; window entries are never evicted); slots in
 * taken[] are never chosen. */
int	throttle_shm_find(const struct throttle_shm *,
	    const struct throttle_pkey *, int64_t now, const size_t *taken,
	    size_t ntaken, size_t *idx);
/* Slot i with pk's identity, kind still KIND_FREE (an eviction counted). */
struct throttle_slot *throttle_shm_claim(struct throttle_shm *, size_t i,
	    const struct throttle_pkey *, int64_t now);
/* The GCRA, once, forget and window operations (throttle_shm_ops.c). */
enum throttle_result throttle_shm_check(void *, const struct throttle_key *,
	    size_t, int64_t, long *) F2M_WUR;
int	throttle_shm_once(void *, const char *, const char *, size_t, int64_t,
	    int64_t, char *) F2M_WUR;
int	throttle_shm_forget(void *, const char *) F2M_WUR;
int	throttle_shm_window(void *, const char *, long, long, int64_t,
	    long *) F2M_WUR;

/* Redis: the connection (redis_conn.c) and the scripts (throttle_redis.c). */
#define THROTTLE_REDIS_NSCRIPTS	4	/* check, once, forget, window */
#define THROTTLE_SHA_LEN	40
#define THROTTLE_ERRSTR_MAX	160

#define THROTTLE_REDIS_ADDRS	4	/* addresses kept of a name */

struct redisContext;
struct redis_conn {
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
	struct redisContext *c;
	pid_t		 pid;
	char		 sha[THROTTLE_REDIS_NSCRIPTS][THROTTLE_SHA_LEN + 1];
	char		 tag[64];	/* window members: pid.random */
	uint64_t	 seq;
	/* Reconnecting. */
	int		 down;
	int		 last_errno;
	long		 backoff_ms;
	int64_t		 retry_at_ms;
	char		 errstr[THROTTLE_ERRSTR_MAX];
};

/* The scripts' texts, loaded by every new connection. */
extern const char *const throttle_redis_lua[THROTTLE_REDIS_NSCRIPTS];
/* Parses url (printable ASCII checked), resolves; 0 or -1 (errno, err). */
int	redis_conn_open(const char *url, long timeout_ms, struct redis_conn **,
	    char *err, size_t errsize) F2M_WUR;
/* Makes sure this process has a connection (see throttle.h for the
 * lazy connect after fork and the backoff).  0, or -1 with errno set. */
int	redis_conn_ready(struct redis_conn *) F2M_WUR;
/* A command failed on r->c: logs why (what: the command), fills
 * r->errstr, drops the connection and returns the errno to give (saved:
 * errno right after the failure). */
int	redis_conn_lost(struct redis_conn *, const char *what, int saved);
void	redis_conn_drop(struct redis_conn *);
void	redis_conn_close(struct redis_conn *);

#endif
