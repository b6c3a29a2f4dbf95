/*
 * spool: the durable queue (docs/DESIGN.md "Spool").
 *
 * spool_dir/{tmp,queue,failed,held}/ hold one file per message, named by
 * its submission id; bad/ holds what was found there under an id's name
 * and was not a regular file (spool_open_file in spool_int.h), for the
 * admin: nothing reads it.  A file is a small text envelope followed by the
 * message:
 *
 *   form2mail-spool 1\n
 *   form <id>\n  created <unix>\n  attempts <n>\n  next_try <unix>\n
 *   from <addr>\n  rcpt <addr>\n ...  [error <escaped text>\n]
 *   \n
 *   <message octets, CRLF>
 *
 * Commit = create in tmp/ (O_EXCL), write, fsync, link into queue/,
 * fsync queue/ (shared by concurrent commits: spool_sync_open()).
 * Runners claim a file with flock(LOCK_EX|LOCK_NB); the kernel drops the
 * lock if the runner dies.  Updates (defer) write a new
 * file and rename it over the old one while the old is locked; a claimer
 * re-checks after locking that the path still names the inode it locked.
 */
#ifndef F2M_SPOOL_H
#define F2M_SPOOL_H

#include <stddef.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/stats.h"

#define SPOOL_ID_LEN	26	/* submission id: 26 [a-z0-9], 130 random bits */
#define SPOOL_MAX_RCPT	100

struct spool_meta {
	char		 id[SPOOL_ID_LEN + 1];
	char		 form[128];
	time_t		 created;
	unsigned	 attempts;
	time_t		 next_try;
	char		 from[256];
	char		*rcpt[SPOOL_MAX_RCPT];	/* owned by the meta */
	size_t		 nrcpt;
	char		 error[256];		/* last error, "" none */
};

enum spool_state { SPOOL_QUEUE, SPOOL_FAILED, SPOOL_HELD };

/* Fills id with a fresh random submission id (getrandom). Returns 0/-1. */
int	 spool_new_id(char id[SPOOL_ID_LEN + 1]) F2M_WUR;

/* Returns 1 when s is a well-formed submission id (used for paths). */
int	 spool_id_valid(const char *s);

/* Creates one directory (0700) for uid/gid (-1: as is) without following
 * a symbolic link at path.  Returns 0 or -1 with errno set. */
int	 spool_mkdir_owned(const char *path, long uid, long gid) F2M_WUR;

/* Creates dir and its subdirectories (mode 0700) when missing, owned by
 * uid/gid when uid != (uid_t)-1.  Returns 0 or -1 with errno set. */
int	 spool_init(const char *dir, long uid, long gid) F2M_WUR;

/*
 * Group commit: concurrent commits share one fsync of queue/.  The
 * counters live in a small file (state_dir/commit.seq), created or reset
 * when foreign by spool_sync_init(), owned by uid/gid when uid != -1, before
 * the committing processes start.  spool_sync_open() maps it in this
 * process for commits into the spool dir; without it (or for another
 * spool) each commit fsyncs queue/ itself.  Both return 0 or -1 with errno.
 */
int	 spool_sync_init(const char *path, long uid, long gid) F2M_WUR;
int	 spool_sync_open(const char *path, const char *dir) F2M_WUR;

/*
 * Durably commits one message: after 0 the message survives a crash and
 * the caller may tell the visitor it was accepted.  meta->id names the
 * file; next_try 0 means now.  Returns 0 or -1 with errno set (nothing is
 * left behind in queue/ on -1; ENOSPC, EACCES, EDQUOT...).
 */
int	 spool_commit(const char *dir, const struct spool_meta *,
	    const char *msg, size_t len) F2M_WUR;

/*
 * The free-space reserve (limits.min_free) of this process's commits into
 * dir: spool_commit() and spool_commit_held() fail with ENOSPC when the
 * message would leave fewer octets available to an unprivileged process
 * on dir's file system than `bytes`, or when bytes is 0 than pct per cent
 * of its size; or no more inodes than pct per cent (1 % with a byte
 * count) of its inodes.  The runners' rewrites (defer, fail, retry) and the release of
 * a held message are not held to it: the reserve is theirs.  bytes 0 and
 * pct 0: none (the default of a process that never calls this).
 */
void	 spool_reserve_set(const char *dir, unsigned long long bytes,
	    unsigned pct);

/* Whether a new message of len octets may be committed into dir now,
 * leaving the reserve free: 0 yes, 1 no (errno ENOSPC; logged at most
 * once a minute), -1 statvfs(2) failed (errno). */
int	 spool_room(const char *dir, size_t len) F2M_WUR;

/* As spool_commit(), into held/ (spam score over hold_score): the
 * deliverer never looks there; spool_release() moves it on. */
int	 spool_commit_held(const char *dir, const struct spool_meta *,
	    const char *msg, size_t len) F2M_WUR;

/* held/<id> -> queue/<id>, due now.  Returns 0, 1 when there is no such
 * held message, -1 on error (errno). */
int	 spool_release_held(const char *dir, const char *id, time_t now);

/* Removes <state>/<id> for good (queue: only when no runner holds it).
 * Returns 0, 1 when absent (or, in the queue, being delivered), -1. */
int	 spool_delete(const char *dir, enum spool_state, const char *id);

/* Reads <state>/<id> whole: envelope into *meta (clear it with
 * spool_meta_clear()), message into *msg (free() it).  0, 1 absent, -1. */
int	 spool_read(const char *dir, enum spool_state, const char *id,
	    struct spool_meta *meta, char **msg, size_t *len);

/* A claimed (locked) message. */
struct spool_item {
	struct spool_meta	 meta;
	char			*msg;	/* the message octets */
	size_t			 len;
	int			 fd;	/* locked */
	char			*path;
	const char		*dir;	/* spool_dir, borrowed */
};

/*
 * Locks queue/<id> without waiting and reads it.  Returns 0 with *out set,
 * 1 when another runner holds it or it is gone, -1 on an error (a corrupt
 * file is moved to failed/ and reported as -1).
 */
int	 spool_claim(const char *dir, const char *id, struct spool_item **out)
	    F2M_WUR;

/* Delivered: unlink (not fsynced: a crash may bring the file back, and it
 * is sent again, at least once), release.  Returns 0, or -1 with errno
 * set (the file may still be in queue/). */
int	 spool_done(struct spool_item *);

/*
 * Not delivered this time: attempts+1, next_try = now + backoff (60 s
 * doubling per attempt up to 3600 s, +/-20 % jitter), error recorded;
 * moved to failed/ instead when now - created >= max_age.  Releases the
 * item.  Returns 0 (deferred), 1 (moved to failed/), -1 on error.
 */
int	 spool_defer(struct spool_item *, time_t now, long max_age,
	    const char *error);

/* Permanent failure: error recorded, moved to failed/, released. */
int	 spool_fail(struct spool_item *, const char *error);

/* Unlocks and frees without changing anything; NULL is accepted. */
void	 spool_release(struct spool_item *);

/* Backoff before attempt number `attempts` + 1, without jitter. */
long	 spool_backoff(unsigned attempts);

/*
 * Reads the envelopes of a state's files (no locking).  Calls fn for each
 * readable one, in no particular order; returns the number seen (0 when
 * the directory does not exist yet) or -1.
 */
int	 spool_scan(const char *dir, enum spool_state,
	    int (*fn)(const struct spool_meta *, void *), void *arg);

/*
 * Counts queued, held and failed messages and finds the oldest queued one,
 * for the metrics (stats_render).  When a state cannot be read, all three
 * counts are -1.
 */
void	 spool_census(const char *dir, struct stats_queue *);

/* Sets next_try to now for one id (or all when id is NULL). */
int	 spool_retry(const char *dir, const char *id, time_t now);

void	 spool_meta_clear(struct spool_meta *);

#endif
