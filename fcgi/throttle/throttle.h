/*
 * throttle: GCRA rate limiting (docs/DESIGN.md "Throttle"), a small shared
 * "seen once" set, and sliding-window pacing, over one of two backends
 * behind the same opaque handle:
 *
 *  - shared memory (throttle_open): a table file shared by the processes
 *    of one machine;
 *  - Redis (throttle_open_redis): one Redis server shared by several
 *    machines, so that every web server charges one budget.
 *
 * Callers (request, deliver) use throttle_check, throttle_once,
 * throttle_forget, throttle_window and throttle_close alike on both.
 *
 * Shared memory.  The table is a file (e.g. state_dir/throttle.shm) mapped
 * MAP_SHARED by every process that uses it: the workers forked after
 * throttle_open() share the parent's mapping, other processes open the
 * same path.  Its contents survive a restart.  Size is fixed at open: a
 * header plus `entries` slots of THROTTLE_SLOT_SIZE octets.  Each key
 * lives in one slot found by open addressing within a window of
 * THROTTLE_PROBE slots after a keyed hash (SipHash-2-4, its key random
 * per table file) of the key, so a visitor cannot aim keys at one window.
 * A slot is free once its entry expired; when a window has no free slot,
 * the rate or once entry with the earliest expiry in it is evicted (for a
 * rate key that is the one closest to being back at a full burst).
 * Window entries (throttle_window) are never evicted.  Every operation is
 * O(THROTTLE_PROBE) per key, never a scan of the table.
 *
 * Updates happen under one process-shared robust mutex in the file
 * header, held for a few slot reads and writes.  A process killed while it
 * holds it does not wedge the others: the next locker recovers it
 * (EOWNERDEAD) and goes on; the slot being written may be lost, nothing
 * else.  A lock not obtained within THROTTLE_LOCK_TIMEOUT_MS (a holder
 * stopped, not dead) gives THROTTLE_ERROR / -1 with errno ETIMEDOUT.
 *
 * Times, shared memory: the caller's clock.  now_us is CLOCK_REALTIME in
 * microseconds (0 .. THROTTLE_NOW_MAX_US), so tests can drive time.  All
 * processes sharing a table must use the same clock.
 *
 * Redis.  Every operation is one Lua script run atomically by the server
 * (EVALSHA; on NOSCRIPT, after a SCRIPT FLUSH or a restart of Redis, EVAL
 * of the same text, which also caches it again).  Times come from the
 * server's TIME inside the script, so all machines share one clock: the
 * now_us arguments of throttle_check and throttle_window are ignored
 * (they may be 0), and throttle_once uses only the difference
 * expires_us - now_us as the entry's lifetime.  Redis stores times in
 * microseconds (Lua numbers are doubles, exact to 2^53), so the emission
 * interval is PERIOD/N rounded up to a microsecond, not a nanosecond.
 * Every key written carries an expiry (a rate key: its TAT; a once key:
 * its lifetime; a window: PERIOD after its last admission), so Redis
 * memory stays bounded without an eviction policy.  Keys are sent as
 * length-counted arguments (never formatted into a command), prefixed by
 * namespace: "f2m:rate:", "f2m:once:", "f2m:win:" followed by the key's
 * octets verbatim.  One Redis server (not Cluster: a check's keys must
 * live on one node); separate installations sharing a server use
 * different databases.
 *
 * Redis connections are made lazily, at the first operation of each
 * process: a handle opened before fork() never shares a socket between
 * processes (a child sees the pid change, drops the inherited connection
 * without writing to it, and connects its own).  Connecting, and each
 * read or write of a command, is bounded by the open's timeout_ms.  A
 * connection the server closed (Redis restarted) is noticed before a
 * command is sent and replaced at once.  When connecting fails, further
 * operations fail at once (THROTTLE_ERROR / -1, errno the connect error)
 * until a backoff of 50 ms, doubling up to 1 s, has passed; then one
 * operation tries again.  A command that fails once sent (timeout, reset)
 * is not retried, since it may have been applied: THROTTLE_ERROR, errno
 * ETIMEDOUT, ECONNRESET or EIO; the next operation reconnects.  An error
 * reply from Redis gives errno EPROTO.  hiredis writes with write(2):
 * SIGPIPE must be ignored by the program (form2mail's main does).
 *
 * Keys are octet strings of 1..THROTTLE_KEY_INPUT_MAX octets (no NUL);
 * they are treated as untrusted.  In shared memory, keys up to
 * THROTTLE_KEY_MAX octets are stored and compared verbatim; longer ones
 * are stored as a 128-bit keyed digest.  Rate keys, once keys and window
 * keys are separate name spaces.
 *
 * A shared-memory handle may be used by several threads and, after
 * fork(), by the children: it holds only values fixed at open.  The
 * descriptor it owns must stay open for its life (its lock tells other
 * openers that the table is in use), so do not close descriptors you do
 * not own.  A Redis handle serialises its threads on a mutex (one command
 * at a time per process); fork() only while no thread is inside a throttle
 * call.
 */
#ifndef F2M_THROTTLE_H
#define F2M_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"	/* F2M_WUR */
#include "lib/rate.h"

#define THROTTLE_COUNT_MAX	RATE_COUNT_MAX	/* rate count 1..this */
#define THROTTLE_PERIOD_MAX	RATE_PERIOD_MAX	/* rate period 1 s..this */
#define THROTTLE_KEY_MAX	64	/* longer keys are stored as a digest */
#define THROTTLE_KEY_INPUT_MAX	1024	/* longer keys are refused */
#define THROTTLE_VALUE_MAX	40	/* once() value, octets, NUL excluded */
#define THROTTLE_ONCE_MAX_US	(30LL * 86400 * 1000000) /* once() span */
#define THROTTLE_MAX_KEYS	8	/* keys per throttle_check() */
#define THROTTLE_MIN_ENTRIES	64
#define THROTTLE_MAX_ENTRIES	(1UL << 20)
#define THROTTLE_SLOT_SIZE	128	/* file size = 256 + entries * this */
#define THROTTLE_PROBE		16	/* slots looked at per key */
#define THROTTLE_LOCK_TIMEOUT_MS 500
#define THROTTLE_NOW_MAX_US	(INT64_MAX / 1000 - 2 * THROTTLE_ONCE_MAX_US)
#define THROTTLE_CLIENT_KEY_SIZE 48	/* any client key and its NUL */
#define THROTTLE_WINDOW_MAX	THROTTLE_COUNT_MAX /* window limit 1..this */
#define THROTTLE_WINDOW_SLICES	15	/* shm window: PERIOD in 15 slices */
#define THROTTLE_REDIS_URL_MAX	1024
#define THROTTLE_REDIS_TIMEOUT_MAX_MS 60000L
#define THROTTLE_REDIS_TIMEOUT_MS 500L	/* a sensible timeout_ms */

/* Rates are lib/rate.h's struct rate (rate_parse reads "5/10m"). */

/* The clock every caller of this module uses: CLOCK_REALTIME in us. */
int64_t	throttle_now_us(void);

struct throttle;

/*
 * Opens the table file `path` with `entries` slots
 * (THROTTLE_MIN_ENTRIES..THROTTLE_MAX_ENTRIES), creating it (mode 0600,
 * owned by the caller, blocks allocated up front so a full disk cannot
 * fault a later write) when missing, and maps it shared.
 *
 * An existing file must be a regular file (the last path component is
 * not followed if it is a symbolic link) with one link, owned by the
 * effective uid unless that is root; group and other permission bits are
 * removed.  When no other process has the table open, a file of another
 * size, layout version or entry count, or a corrupted or short one, is
 * recreated empty, and the lock is re-initialised (a lock left by a
 * crash of the machine cannot wedge the next start).  When other
 * processes still use a mismatching file, a new one is renamed over
 * `path` (they keep the old one until they close it).
 *
 * Returns 0 and sets *out (release with throttle_close()), or -1 with
 * errno set and a message (path included) in err when errsize > 0.
 */
int	throttle_open(const char *path, size_t entries, struct throttle **out,
	    char *err, size_t errsize) F2M_WUR;

/*
 * The same for a table that never forgets (the ALTCHA replay store,
 * docs/DESIGN.md "Challenge"): no live entry is ever evicted, so a
 * throttle_once() key stays until its expiry, whatever else is stored.
 * When the key's probe window (THROTTLE_PROBE slots) holds only live
 * entries, throttle_once() and throttle_check() fail with ENOSPC and
 * store nothing: full, the store refuses instead of forgetting.  Keep it
 * apart from the rate table, whose keys visitors make at will, and give
 * it its own path; every process that opens the file must open it so.
 */
int	throttle_open_store(const char *path, size_t entries,
	    struct throttle **out, char *err, size_t errsize) F2M_WUR;

/*
 * Opens a handle on the Redis backend.  url (at most
 * THROTTLE_REDIS_URL_MAX octets) is one of
 *
 *	redis://HOST[:PORT][/DB]
 *	unix:/ABSOLUTE/PATH[?db=DB]
 *
 * HOST is an IPv4 address, an IPv6 address in brackets, or a name,
 * resolved here, once (up to 4 addresses, tried in order when
 * connecting; a later change of the name's addresses needs a new
 * handle).  PORT is 1..65535 (default 6379), DB 0..65535 (default 0;
 * "redis://h/" is DB 0).  No user or password (secrets never sit in the
 * config: protect Redis by a unix socket's permissions or by binding it
 * to a private address), no other query parameters, nothing else.  The
 * unix path must fit a sockaddr_un.  timeout_ms (1..
 * THROTTLE_REDIS_TIMEOUT_MAX_MS) bounds connecting and each read or
 * write of a command.
 *
 * Nothing is connected here (see the top of this file): a Redis that is
 * down at start makes the operations fail, not the open; throttle_ping()
 * tells whether it answers.  Returns 0 and sets *out (release with
 * throttle_close()), or -1 with errno set (EINVAL: a bad url or timeout;
 * ENOENT: a name that does not resolve; EAGAIN: the resolver failed for
 * now) and a message in err when errsize > 0.
 */
int	throttle_open_redis(const char *url, long timeout_ms,
	    struct throttle **out, char *err, size_t errsize) F2M_WUR;

/* Unmaps and closes, or closes the Redis connection of the calling
 * process (one inherited from a parent is closed without a word to the
 * server); NULL is accepted.  A table file stays. */
void	throttle_close(struct throttle *);

/*
 * Checks that the backend answers: shared memory, that the lock can be
 * taken; Redis, a PING (connecting first when needed, subject to the
 * backoff above).  Returns 0, or -1 with errno set and a message in err
 * when errsize > 0.
 */
int	throttle_ping(struct throttle *, char *err, size_t errsize) F2M_WUR;

/* One key to check: the key text (e.g. "ip:192.0.2.7",
 * "ip6:2001:db8:1:2::/64", "form:contact", "global") and its rate. */
struct throttle_key {
	const char		*key;
	struct rate		 rate;
};

enum throttle_result { THROTTLE_OK, THROTTLE_LIMITED, THROTTLE_ERROR };

/*
 * GCRA, one theoretical arrival time (TAT) per key: N/PERIOD admits a
 * burst of N, then one per I = PERIOD/N (the emission interval, rounded up
 * to a nanosecond in shared memory, a microsecond in Redis).  A request
 * at t is admitted by a key when max(TAT, t) + I - t <= N * I, and then
 * TAT becomes max(TAT, t) + I.
 *
 * Every key is checked first; all are charged (TAT advanced) only when all
 * admit (THROTTLE_OK).  Otherwise none is charged and the result is
 * THROTTLE_LIMITED with *retry_after the whole seconds, rounded up and at
 * least 1, until every refusing key would admit (the maximum over them).
 * A TAT beyond t + N * I (the clock stepped back, or the rate was
 * lowered) is taken as t + N * I, so Retry-After never exceeds PERIOD
 * (rounded up).  In Redis, check and charge are one script: atomic with
 * respect to every other client of the server.
 *
 * nkeys 0..THROTTLE_MAX_KEYS; a key may appear only once per call.
 * THROTTLE_ERROR (errno EINVAL: NULL, bad key, bad rate, duplicate key,
 * now_us out of range (shared memory); ETIMEDOUT or another errno: the
 * lock, or Redis as described at the top) charges nothing, except that a
 * Redis command that timed out once sent may have been applied.
 * retry_after may be NULL; it is set to 0 unless LIMITED.
 */
enum throttle_result throttle_check(struct throttle *,
	    const struct throttle_key *keys, size_t nkeys, int64_t now_us,
	    long *retry_after) F2M_WUR;

/*
 * Client key from REMOTE_ADDR text: IPv4 is "ip:a.b.c.d" (/32); IPv6 is
 * masked to its /64 and written "ip6:" + RFC 5952 text + "/64" (e.g.
 * "ip6:2001:db8:1:2::/64"); an IPv4-mapped IPv6 address (::ffff:a.b.c.d)
 * counts as its IPv4 address.  out needs outsize >=
 * THROTTLE_CLIENT_KEY_SIZE.  Returns 0, or -1 (out set to "" when
 * outsize > 0) for NULL, text that is not a plain address (zone ids,
 * brackets, ports, spaces refused) or a short buffer.
 */
int	throttle_client_key(const char *addr, char *out, size_t outsize)
	    F2M_WUR;

/*
 * The wider key of the client's network (docs/DESIGN.md "Throttle"):
 * IPv6 masked to its /48, written "net6:" + RFC 5952 text + "/48" (e.g.
 * "net6:2001:db8:1::/48"); IPv4 (and IPv4-mapped IPv6) masked to its
 * /24, written "net4:a.b.c.0/24".  The name spaces differ from
 * throttle_client_key()'s, so no key of one is a key of the other.  out
 * needs outsize >= THROTTLE_CLIENT_KEY_SIZE.  Returns 6 or 4, the family
 * of the key written, or -1 (out set to "" when outsize > 0) for what
 * throttle_client_key() refuses.
 */
int	throttle_net_key(const char *addr, char *out, size_t outsize)
	    F2M_WUR;

/*
 * The client address of a request (docs/DESIGN.md "Throttle"):
 * remote_addr (REMOTE_ADDR) when it is an IP address (lib/addr.h's
 * addr_ip_ok: no brackets, zone or port); otherwise, when header is not
 * NULL (the value of the configured throttle.client_ip_header), the
 * address in it: with last set its rightmost comma-separated element
 * (X-Forwarded-For: the entry the proxy next to us appended), else the
 * whole value (X-Real-IP), spaces and tabs around it dropped; it must be
 * an IP address too.  A header is never read when remote_addr is an
 * address: a visitor cannot choose its own.  Copies the address into out
 * (outsize >= INET6_ADDRSTRLEN) and returns 0 (from remote_addr) or 1
 * (from the header); -1 (out "" when outsize > 0) when neither holds one,
 * remote_addr and header NULL included.
 */
int	throttle_client_addr(const char *remote_addr, const char *header,
	    int last, char *out, size_t outsize) F2M_WUR;

/*
 * A shared "seen once" set (replay protection, duplicate suppression):
 * stores key -> value until expires_us.  value is NUL-terminated, at most
 * THROTTLE_VALUE_MAX octets (NULL is ""); expires_us must be after now_us
 * by at most THROTTLE_ONCE_MAX_US (both in 0..THROTTLE_NOW_MAX_US).  In
 * Redis the entry lives expires_us - now_us (rounded up to a
 * millisecond) by the server's clock: SET NX PX, in a script that returns
 * the stored value when the key is present.
 *
 * Returns 1 and stores when the key was absent (or its entry expired);
 * 0 when present and not expired, copying the stored value, NUL-
 * terminated, into value_out when it is not NULL (value_outsize must then
 * be > THROTTLE_VALUE_MAX); -1 with errno set on error (nothing stored;
 * EPROTO too for a stored Redis value that is not one of ours).
 * When a throttle_open() table is flooded an entry may be evicted
 * before it expires (earliest expiry first); a throttle_open_store()
 * table refuses instead (ENOSPC).  Redis never evicts a key before its
 * expiry unless the server runs with a maxmemory eviction policy (its
 * default, noeviction, fails the write: -1, EPROTO).
 */
int	throttle_once(struct throttle *, const char *key, const char *value,
	    int64_t expires_us, int64_t now_us, char *value_out,
	    size_t value_outsize) F2M_WUR;

/* Removes the once() entry of key (so that a post whose submission failed
 * is not answered as a duplicate when it is sent again).  Rate and window
 * keys are not touched.  Returns 1 when an entry was removed, 0 when
 * there was none, -1 with errno set on error (EINVAL: bad key; the lock;
 * Redis). */
int	throttle_forget(struct throttle *, const char *key) F2M_WUR;

/*
 * Sliding-window pacing (the provider's cap, smtp.max_per_hour): admits
 * at most `limit` (1..THROTTLE_WINDOW_MAX) calls in any span of period_s
 * (1..THROTTLE_PERIOD_MAX) seconds.  Returns 1 when this call is admitted
 * (and recorded), 0 when not, with *wait_s the whole seconds, at least 1,
 * after which a call would be admitted if no other is admitted meanwhile,
 * -1 with errno set on error (EINVAL: NULL, bad key, limit or period,
 * now_us out of range; ENOSPC: shared memory, the key's probe window is
 * full of window entries; the lock; Redis).  wait_s may be NULL; it is
 * set to 0 unless the result is 0.
 *
 * Redis: a log of admissions, exact.  A sorted set per key holds one
 * member per admission in the last period (score: the server's TIME in
 * microseconds; member: that time and a per-process random tag, so no two
 * admissions share one); one script drops the members older than the
 * period, counts, and adds when under the limit.  Memory: about 100
 * octets per admission of the last period.  *wait_s is when the oldest
 * admission that keeps the count at the limit leaves the window.
 *
 * Shared memory: one slot, so the log is kept per slice: PERIOD is cut
 * into THROTTLE_WINDOW_SLICES slices of w = ceil(PERIOD /
 * THROTTLE_WINDOW_SLICES) milliseconds (aligned on multiples of w of
 * now_us), with one admission count per slice.  A call at t counts every
 * slice that overlaps (t - PERIOD, t] in full.  The cap is exact: at
 * most `limit` admissions in any span of PERIOD, ever (proof in
 * throttle_shm_ops.c).  The price is that an admission is held up to one
 * slice (PERIOD/15, 4 min of an hour) longer than the exact log would
 * hold it.
 * The caller's clock, as everywhere in shared memory; a clock stepped
 * back counts as standing still.  A call with another period_s for the
 * same key carries all the counts still held into the current slice (the
 * cap stays safe; the budget frees one new period later).  Window
 * entries are never evicted: use a handful of fixed keys (e.g.
 * "provider"), never visitor input, and preferably a table of their own.
 */
int	throttle_window(struct throttle *, const char *key, long limit,
	    long period_s, int64_t now_us, long *wait_s) F2M_WUR;

struct throttle_stats {
	size_t		 entries;	/* slots in the table */
	size_t		 used;		/* slots holding an unexpired entry */
	uint64_t	 evictions;	/* unexpired entries evicted, ever */
	uint64_t	 recoveries;	/* locks recovered from a dead holder */
};

/* Fills *st.  O(entries) under the lock: for tests and an admin command,
 * not for the request path.  Returns 0 or -1 with errno set (ENOTSUP on
 * the Redis backend). */
int	throttle_stats(struct throttle *, int64_t now_us,
	    struct throttle_stats *st) F2M_WUR;

/*
 * TEST ONLY (compiled always, used by tests/unit/throttle/test_throttle.c): takes
 * the table lock, writes one octet to ready_fd, and sleeps until killed
 * (or _exit(1)s when it cannot, or on the Redis backend).  Never returns.
 * Lets a test SIGKILL (or SIGSTOP) a lock holder.
 */
_Noreturn void throttle_test_lock_and_hang(struct throttle *, int ready_fd);

#endif
