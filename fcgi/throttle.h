/*
 * throttle: GCRA rate limiting over a shared-memory table (DESIGN.md
 * "Throttle"), plus a small shared "seen once" set in the same table.
 *
 * The table is a file (e.g. state_dir/throttle.shm) mapped MAP_SHARED by
 * every process that uses it: the workers forked after throttle_open()
 * share the parent's mapping, other processes open the same path.  Its
 * contents survive a restart.  Size is fixed at open: a header plus
 * `entries` slots of THROTTLE_SLOT_SIZE octets.  Each key lives in one
 * slot found by open addressing within a window of THROTTLE_PROBE slots
 * after a keyed hash (SipHash-2-4, its key random per table file) of the
 * key, so a visitor cannot aim keys at one window.  A slot is free once
 * its entry expired; when a window has no free slot, the entry with the
 * earliest expiry in it is evicted (for a rate key that is the one closest
 * to being back at a full burst).  Every operation is O(THROTTLE_PROBE)
 * per key, never a scan of the table.
 *
 * Updates happen under one process-shared robust mutex in the file
 * header, held for a few slot reads and writes.  A process killed while it
 * holds it does not wedge the others: the next locker recovers it
 * (EOWNERDEAD) and goes on; the slot being written may be lost, nothing
 * else.  A lock not obtained within THROTTLE_LOCK_TIMEOUT_MS (a holder
 * stopped, not dead) gives THROTTLE_ERROR / -1 with errno ETIMEDOUT.
 *
 * Keys are octet strings of 1..THROTTLE_KEY_INPUT_MAX octets (no NUL);
 * they are treated as untrusted.  Keys up to THROTTLE_KEY_MAX octets are
 * stored and compared verbatim; longer ones are stored as a 128-bit keyed
 * digest.  Rate keys and once keys are separate name spaces.
 *
 * Times are the caller's clock: now_us is CLOCK_REALTIME in microseconds
 * (0 .. THROTTLE_NOW_MAX_US), so tests can drive time.  All processes
 * sharing a table must use the same clock.
 *
 * A handle may be used by several threads and, after fork(), by the
 * children: it holds only values fixed at open.  The descriptor it owns
 * must stay open for its life (its lock tells other openers that the
 * table is in use), so do not close descriptors you do not own.
 */
#ifndef F2M_THROTTLE_H
#define F2M_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"	/* F2M_WUR */

#define THROTTLE_COUNT_MAX	1000000L	/* rate count 1..this */
#define THROTTLE_PERIOD_MAX	(30L * 86400)	/* rate period 1 s..this */
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

/* N per PERIOD seconds.  count 0 means no limit (a key with such a rate
 * is neither checked nor charged). */
struct throttle_rate {
	long	 count;
	long	 period;
};

/*
 * Parses a rate "COUNT/PERIOD": COUNT is 1*DIGIT in 1..THROTTLE_COUNT_MAX,
 * PERIOD is 1*DIGIT optionally followed by one unit letter, s (seconds,
 * the default), m, h or d (lower case), in 1 s..THROTTLE_PERIOD_MAX.
 * Examples: "5/10m", "250/1h", "1000/1d", "10/30s", "3/90".  No signs, no
 * spaces, nothing else.  Returns 0 and fills *out, or -1 (and leaves *out
 * unchanged) when s is NULL or malformed or out of range.
 */
int	throttle_parse_rate(const char *s, struct throttle_rate *out) F2M_WUR;

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

/* Unmaps and closes; NULL is accepted.  The file stays. */
void	throttle_close(struct throttle *);

/* One key to check: the key text (e.g. "ip:192.0.2.7",
 * "ip6:2001:db8:1:2::/64", "form:contact", "global") and its rate. */
struct throttle_key {
	const char		*key;
	struct throttle_rate	 rate;
};

enum throttle_result { THROTTLE_OK, THROTTLE_LIMITED, THROTTLE_ERROR };

/*
 * GCRA, one theoretical arrival time (TAT) per key: N/PERIOD admits a
 * burst of N, then one per I = PERIOD/N (the emission interval, rounded up
 * to a nanosecond).  A request at t is admitted by a key when
 * max(TAT, t) + I - t <= N * I, and then TAT becomes max(TAT, t) + I.
 *
 * Every key is checked first; all are charged (TAT advanced) only when all
 * admit (THROTTLE_OK).  Otherwise none is charged and the result is
 * THROTTLE_LIMITED with *retry_after the whole seconds, rounded up and at
 * least 1, until every refusing key would admit (the maximum over them).
 * A TAT beyond t + N * I (the clock stepped back, or the rate was
 * lowered) is taken as t + N * I, so Retry-After never exceeds PERIOD
 * (rounded up).
 *
 * nkeys 0..THROTTLE_MAX_KEYS; a key may appear only once per call.
 * THROTTLE_ERROR (errno EINVAL: NULL, bad key, bad rate, duplicate key,
 * now_us out of range; ETIMEDOUT or another errno: the lock) charges
 * nothing.  retry_after may be NULL; it is set to 0 unless LIMITED.
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
 * A shared "seen once" set (replay protection, duplicate suppression):
 * stores key -> value until expires_us.  value is NUL-terminated, at most
 * THROTTLE_VALUE_MAX octets (NULL is ""); expires_us must be after now_us
 * by at most THROTTLE_ONCE_MAX_US.
 *
 * Returns 1 and stores when the key was absent (or its entry expired);
 * 0 when present and not expired, copying the stored value, NUL-
 * terminated, into value_out when it is not NULL (value_outsize must then
 * be > THROTTLE_VALUE_MAX); -1 with errno set on error (nothing stored).
 * When the table is flooded an entry may be evicted before it expires
 * (earliest expiry first); size the table for the traffic.
 */
int	throttle_once(struct throttle *, const char *key, const char *value,
	    int64_t expires_us, int64_t now_us, char *value_out,
	    size_t value_outsize) F2M_WUR;

/* Removes the once() entry of key (so that a post whose submission failed
 * is not answered as a duplicate when it is sent again).  Rate keys are
 * not touched.  Returns 1 when an entry was removed, 0 when there was
 * none, -1 with errno set on error (EINVAL: bad key; the lock). */
int	throttle_forget(struct throttle *, const char *key) F2M_WUR;

struct throttle_stats {
	size_t		 entries;	/* slots in the table */
	size_t		 used;		/* slots holding an unexpired entry */
	uint64_t	 evictions;	/* unexpired entries evicted, ever */
	uint64_t	 recoveries;	/* locks recovered from a dead holder */
};

/* Fills *st.  O(entries) under the lock: for tests and an admin command,
 * not for the request path.  Returns 0 or -1 with errno set. */
int	throttle_stats(struct throttle *, int64_t now_us,
	    struct throttle_stats *st) F2M_WUR;

/*
 * TEST ONLY (compiled always, used by tests/unit/test_throttle.c): takes
 * the table lock, writes one octet to ready_fd, and sleeps until killed
 * (or _exit(1)s when it cannot).  Never returns.  Lets a test SIGKILL (or
 * SIGSTOP) a lock holder.
 */
_Noreturn void throttle_test_lock_and_hang(struct throttle *, int ready_fd);

#endif
