/*
 * stats: counters shared by every process of form2mail (workers, the
 * deliverer, `queue run` started by cron), in a small file-backed mapping
 * state_dir/stats.shm, updated with atomic adds; printed in the Prometheus
 * text format by `form2mail stats` and the optional metrics endpoint.
 */
#ifndef F2M_STATS_H
#define F2M_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/buf.h"

enum stats_counter {
	STATS_ACCEPTED,		/* committed to the spool (queue or held) */
	STATS_HELD,		/* of which held by rspamd */
	STATS_SPAM,		/* honeypot, content rules, rspamd reject */
	STATS_DUPLICATE,	/* answered with an earlier post's id */
	STATS_THROTTLED,	/* 429 */
	STATS_INVALID,		/* 422 fields */
	STATS_CHALLENGE,	/* 422 challenge or captcha */
	STATS_FORBIDDEN,	/* 403 not HTTPS or origin */
	STATS_TOO_LARGE,	/* 413 */
	STATS_BAD_TYPE,		/* 415 */
	STATS_NOT_FOUND,	/* 404 */
	STATS_BAD_METHOD,	/* 405 */
	STATS_BAD_REQUEST,	/* 400, 414 */
	STATS_UNAVAILABLE,	/* 503, 500 */
	STATS_DELIVERED,
	STATS_DEFERRED,
	STATS_FAILED,
	STATS_NCOUNTERS
};

struct stats;

/* Opens (creating, 0600) state_dir/stats.shm.  Returns 0 or -1 (err). */
int	 stats_open(const char *state_dir, struct stats **out, char *err,
	    size_t errsize) F2M_WUR;
/* Adds one; NULL is accepted (no stats). */
void	 stats_inc(struct stats *, enum stats_counter);
uint64_t stats_get(const struct stats *, enum stats_counter);
/*
 * The spool's gauges, counted by the caller (spool_census): messages
 * queued, held and failed (-1 each when the spool could not be read), and
 * the creation time of the oldest queued one (0: none).
 */
struct stats_queue {
	long	 queued;
	long	 held;
	long	 failed;
	time_t	 oldest;
};

/*
 * Appends the Prometheus text exposition (version 0.0.4): the counters,
 * then the gauges of sq (the age in seconds of the oldest queued one).
 */
int	 stats_render(const struct stats *, const struct stats_queue *sq,
	    struct buf *out) F2M_WUR;
void	 stats_close(struct stats *);

#endif
