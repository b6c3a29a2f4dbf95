/*
 * throttle_shm: the shared-memory backend's table file (throttle.h,
 * throttle_backend.h): create, map, the robust lock, keys, find, claim,
 * evict.  The operations on it are in throttle_shm_ops.c.
 *
 * File layout: a THROTTLE_HDR_SIZE header (magic, layout, SipHash key,
 * counters, the robust mutex), then the slots.  Times in the file are
 * nanoseconds, so the emission interval PERIOD/N is exact to 1 ns.
 *
 * Open protocol, with OFD record locks (they belong to the open file
 * description, so children forked after open share them, and two opens in
 * one process conflict like two processes):
 *  - byte 0, exclusive, held only while opening: serialises openers;
 *  - byte 1, shared while the table is in use.  An opener that gets it
 *    exclusively knows no one else maps the file, and may recreate it or
 *    re-initialise the mutex; it then converts the lock to shared, which
 *    fcntl does atomically.
 */
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "throttle/throttle_backend.h"

/* One OFD lock on one byte; wait: block until granted. */
static int
throttle_ofd(int fd, short type, off_t byte, int wait)
{
	struct flock	 fl;
	int		 rc;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = byte;
	fl.l_len = 1;
	do
		rc = fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl);
	while (rc == -1 && errno == EINTR);
	return rc;
}

static size_t
throttle_file_size(size_t entries)
{
	return THROTTLE_HDR_SIZE + entries * THROTTLE_SLOT_SIZE;
}

/* 1 when the file holds a complete table of this build's layout with
 * `entries` slots. */
static int
throttle_hdr_ok(int fd, off_t fsize, size_t entries)
{
	struct throttle_hdr	 h;
	size_t			 size = throttle_file_size(entries);

	if (fsize < 0 || (uint64_t)fsize != size)
		return 0;
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return 0;
	return memcmp(h.magic, THROTTLE_MAGIC, sizeof(h.magic)) == 0 &&
	    h.version == THROTTLE_VERSION &&
	    h.hdr_size == THROTTLE_HDR_SIZE &&
	    h.slot_size == THROTTLE_SLOT_SIZE &&
	    h.mutex_size == sizeof(pthread_mutex_t) &&
	    h.nslots == entries && h.file_size == size &&
	    h.ready == THROTTLE_READY;
}

static int
throttle_mutex_init(pthread_mutex_t *mu)
{
	pthread_mutexattr_t	 a;
	int			 rc;

	if ((rc = pthread_mutexattr_init(&a)) != 0)
		goto out;
	if ((rc = pthread_mutexattr_setpshared(&a,
	    PTHREAD_PROCESS_SHARED)) == 0 &&
	    (rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST)) == 0)
		rc = pthread_mutex_init(mu, &a);
	pthread_mutexattr_destroy(&a);
out:
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	return 0;
}

static int
throttle_map(struct throttle_shm *t, size_t entries)
{
	void	*p;

	t->size = throttle_file_size(entries);
	t->nslots = entries;
	p = mmap(NULL, t->size, PROT_READ | PROT_WRITE, MAP_SHARED, t->fd, 0);
	if (p == MAP_FAILED)
		return -1;
	t->hdr = p;
	t->slots = (struct throttle_slot *)((char *)p + THROTTLE_HDR_SIZE);
	t->pagesize = (size_t)sysconf(_SC_PAGESIZE);
	if (t->pagesize != 0 && t->pagesize <= t->size) {
		t->mapsize = (t->size / t->pagesize + 8) / 8;
		t->mapped = calloc(t->mapsize, 1);
	}
	if (t->mapped == NULL)
		t->pagesize = 0;	/* not tracked: plain faults */
	return 0;
}

/* Drops the table from this process's page tables, then maps the
 * header page (the lock, read by every operation) by a write, so that
 * reading it maps no neighbours. */
static void
throttle_unmap_pages(struct throttle_shm *t)
{
	if (t->nmapped > 0)
		(void)madvise(t->hdr, t->size, MADV_DONTNEED);
	memset(t->mapped, 0, t->mapsize);
	(void)madvise(t->hdr, t->pagesize, MADV_POPULATE_WRITE);
	t->mapped[0] |= 1;
	t->nmapped = 1;
}

/*
 * Faults the pages of a key's probe window into this process by a write
 * (MADV_POPULATE_WRITE), once per page and process.  A read fault on a
 * shared file mapping also maps up to 16 neighbouring pages (the kernel's
 * fault-around), so every worker soon mapped the whole table and counted
 * it in its RSS, for keys other workers had used: 14 MiB per worker after
 * 3000 distinct posts with the default 8 MiB table.  Past
 * THROTTLE_MAPPED_MAX pages the whole mapping is dropped from this
 * process's page tables first (MADV_DONTNEED: for a shared file mapping
 * the data stays in the page cache, dirty pages stay dirty), so what a
 * worker maps of the table stays bounded whatever the traffic.  The table
 * is shared memory either way (it counts once in PSS and in the cgroup);
 * only the per-process accounting changes.  Best effort: where the
 * kernel lacks MADV_POPULATE_WRITE (before 5.14), pages fault as before.
 */
void
throttle_shm_prefault(struct throttle_shm *t, uint64_t hash)
{
	size_t	 home, k, pg;

	if (t->mapped == NULL || t->pagesize == 0)
		return;
	/* A window spans at most 3 pages (2 and the wrapped part): drop
	 * the old ones before, not between the pages of one window. */
	if (t->nmapped == 0 || t->nmapped + 3 > THROTTLE_MAPPED_MAX)
		throttle_unmap_pages(t);
	/* The slots throttle_shm_find() reads; a slot never straddles pages
	 * (the header and the slots are 128-octet multiples). */
	home = (size_t)(hash % t->nslots);
	for (k = 0; k < THROTTLE_PROBE; k++) {
		pg = ((size_t)((char *)&t->slots[(home + k) % t->nslots] -
		    (char *)t->hdr)) / t->pagesize;
		if (t->mapped[pg / 8] & (1u << (pg % 8)))
			continue;
		t->nmapped++;
		t->mapped[pg / 8] |= (unsigned char)(1u << (pg % 8));
		(void)madvise((char *)t->hdr + pg * t->pagesize, t->pagesize,
		    MADV_POPULATE_WRITE);
	}
}

static void
shm_unmap(struct throttle_shm *t)
{
	if (t->hdr != NULL)
		munmap(t->hdr, t->size);
	t->hdr = NULL;
	t->slots = NULL;
	free(t->mapped);
	t->mapped = NULL;
	t->nmapped = 0;
}

/* Makes fd an empty table (fd locked so that no one else uses it) and
 * maps it. */
static int
throttle_create(struct throttle_shm *t, size_t entries)
{
	struct throttle_hdr	*h;
	size_t			 size = throttle_file_size(entries);
	int			 rc;

	if (ftruncate(t->fd, 0) == -1)
		return -1;
	/* Blocks now: a write into a hole on a full disk would SIGBUS. */
	if ((rc = posix_fallocate(t->fd, 0, (off_t)size)) != 0) {
		errno = rc;
		return -1;
	}
	if (throttle_map(t, entries) == -1)
		return -1;
	h = t->hdr;
	memset(h, 0, THROTTLE_HDR_SIZE);
	memcpy(h->magic, THROTTLE_MAGIC, sizeof(h->magic));
	h->version = THROTTLE_VERSION;
	h->hdr_size = THROTTLE_HDR_SIZE;
	h->slot_size = THROTTLE_SLOT_SIZE;
	h->mutex_size = sizeof(pthread_mutex_t);
	h->nslots = entries;
	h->file_size = size;
	if (getrandom(h->sipkey, sizeof(h->sipkey), 0) !=
	    (ssize_t)sizeof(h->sipkey)) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	if (throttle_mutex_init(&h->mu) == -1)
		return -1;
	atomic_thread_fence(memory_order_seq_cst);
	h->ready = THROTTLE_READY;
	return 0;
}

/* A fresh table at a temporary name beside path, renamed over it; the
 * processes still using the old file keep it. */
static int
throttle_replace(struct throttle_shm *t, const char *path, size_t entries,
    char *err, size_t errsize)
{
	char	 tmp[PATH_MAX];
	int	 fd, n, rc = -1;

	n = snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		throttle_err(err, errsize, "%s: path too long", path);
		return -1;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		throttle_err(err, errsize, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	close(t->fd);
	t->fd = fd;
	if (throttle_ofd(fd, F_RDLCK, 1, 0) == -1 ||
	    throttle_create(t, entries) == -1) {
		throttle_err(err, errsize, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (rename(tmp, path) == -1) {
		throttle_err(err, errsize, "rename %s: %s", tmp,
		    strerror(errno));
		goto out;
	}
	log_warn("throttle table %s in use with another layout: replaced",
	    path);
	rc = 0;
out:
	if (rc == -1) {
		n = errno;
		unlink(tmp);
		errno = n;
	}
	return rc;
}

/* The opened file (byte 0 held): 0 fit to use, 1 replaced or removed
 * since we opened it, -1 refused (errno and err set).  Fills *st. */
static int
shm_check_file(struct throttle_shm *t, const char *path, struct stat *st,
    char *err, size_t errsize)
{
	struct stat	 pst;

	if (fstat(t->fd, st) == -1) {
		throttle_err(err, errsize, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* Replaced or removed since we opened it: open the new one. */
	if (st->st_nlink == 0 || lstat(path, &pst) == -1 ||
	    pst.st_dev != st->st_dev || pst.st_ino != st->st_ino)
		return 1;
	if (!S_ISREG(st->st_mode) || st->st_nlink != 1) {
		errno = EPERM;
		throttle_err(err, errsize, "%s: not a regular file with one "
		    "link", path);
		return -1;
	}
	if (geteuid() != 0 && st->st_uid != geteuid()) {
		errno = EPERM;
		throttle_err(err, errsize, "%s: owned by uid %ld, not %ld",
		    path, (long)st->st_uid, (long)geteuid());
		return -1;
	}
	if ((st->st_mode & 07777) != 0600 && fchmod(t->fd, 0600) == -1) {
		throttle_err(err, errsize, "%s: chmod: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* No one else has the table open: recreate a mismatching file, or map a
 * good one and re-initialise its lock; then hold byte 1 shared. */
static int
shm_settle_alone(struct throttle_shm *t, const char *path, size_t entries,
    const struct stat *st, int ok, char *err, size_t errsize)
{
	if (!ok) {
		if (st->st_size != 0)
			log_warn("throttle table %s: other layout, "
			    "size or damaged: recreated", path);
		if (throttle_create(t, entries) == -1) {
			throttle_err(err, errsize, "%s: %s", path,
			    strerror(errno));
			return -1;
		}
	} else if (throttle_map(t, entries) == -1 ||
	    throttle_mutex_init(&t->hdr->mu) == -1) {
		/* Nobody else maps it: a lock word left by a crash
		 * must not outlive it. */
		throttle_err(err, errsize, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (throttle_ofd(t->fd, F_RDLCK, 1, 0) == -1) {
		throttle_err(err, errsize, "%s: lock: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Others use the table: hold byte 1 shared, then map it, or rename a
 * fresh one over a mismatching file. */
static int
shm_settle_shared(struct throttle_shm *t, const char *path, size_t entries,
    int ok, char *err, size_t errsize)
{
	if (throttle_ofd(t->fd, F_RDLCK, 1, 0) == -1) {
		throttle_err(err, errsize, "%s: lock: %s", path,
		    strerror(errno));
		return -1;
	}
	if (!ok)
		return throttle_replace(t, path, entries, err, errsize);
	if (throttle_map(t, entries) == -1) {
		throttle_err(err, errsize, "%s: mmap: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * One attempt at opening: 0 done (t mapped, byte 1 held shared), 1 the
 * path changed under us (try again), -1 error.  On 1 and -1 t->fd is
 * closed and nothing is mapped.
 */
static int
throttle_open_try(struct throttle_shm *t, const char *path, size_t entries,
    char *err, size_t errsize)
{
	struct stat	 st;
	int		 alone, ok, rc = -1;

	t->fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (t->fd == -1) {
		throttle_err(err, errsize, "%s: %s%s", path, strerror(errno),
		    errno == ELOOP ? " (symbolic link refused)" : "");
		return -1;
	}
	if (throttle_ofd(t->fd, F_WRLCK, 0, 1) == -1) {
		throttle_err(err, errsize, "%s: lock: %s", path,
		    strerror(errno));
		goto out;
	}
	if ((rc = shm_check_file(t, path, &st, err, errsize)) != 0)
		goto out;
	rc = -1;
	if (throttle_ofd(t->fd, F_WRLCK, 1, 0) == 0)
		alone = 1;
	else if (errno == EAGAIN || errno == EACCES)
		alone = 0;
	else {
		throttle_err(err, errsize, "%s: lock: %s", path,
		    strerror(errno));
		goto out;
	}
	ok = throttle_hdr_ok(t->fd, st.st_size, entries);
	if ((alone ? shm_settle_alone(t, path, entries, &st, ok, err,
	    errsize) : shm_settle_shared(t, path, entries, ok, err,
	    errsize)) == -1)
		goto out;
	/* Byte 0 of the file we keep: released (of a replaced one, by the
	 * close in throttle_replace). */
	if (throttle_ofd(t->fd, F_UNLCK, 0, 0) == -1) {
		throttle_err(err, errsize, "%s: unlock: %s", path,
		    strerror(errno));
		goto out;
	}
	memcpy(t->sipkey, t->hdr->sipkey, sizeof(t->sipkey));
	rc = 0;
out:
	if (rc != 0) {
		int	 saved = errno;

		shm_unmap(t);
		close(t->fd);
		t->fd = -1;
		errno = saved;
	}
	return rc;
}

int
throttle_shm_open(const char *path, size_t entries, int keep, void **be,
    char *err, size_t errsize)
{
	struct throttle_shm	*t;
	int			 i, rc = -1;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		throttle_err(err, errsize, "%s: %s", path, strerror(errno));
		return -1;
	}
	t->fd = -1;
	t->keep = keep;
	for (i = 0; i < THROTTLE_OPEN_TRIES; i++)
		if ((rc = throttle_open_try(t, path, entries, err,
		    errsize)) != 1)
			break;
	if (rc == 1) {
		errno = EAGAIN;
		throttle_err(err, errsize, "%s: keeps being replaced", path);
		rc = -1;
	}
	if (rc == 0)
		*be = t;
	else
		free(t);
	return rc;
}

static void
shm_close(void *be)
{
	struct throttle_shm	*t = be;

	shm_unmap(t);
	if (t->fd != -1)
		close(t->fd);
	free(t);
}

/* Locking. */

int
throttle_shm_lock(struct throttle_shm *t)
{
	struct timespec	 ts;
	int		 rc;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return -1;
	ts.tv_sec += THROTTLE_LOCK_TIMEOUT_MS / 1000;
	ts.tv_nsec += (THROTTLE_LOCK_TIMEOUT_MS % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	rc = pthread_mutex_clocklock(&t->hdr->mu, CLOCK_MONOTONIC, &ts);
	if (rc == EOWNERDEAD) {
		/* The holder died mid-update: at worst one slot is half
		 * written, and every slot is validated when read. */
		if ((rc = pthread_mutex_consistent(&t->hdr->mu)) == 0) {
			t->hdr->recoveries++;
			log_warn("throttle: lock recovered from a dead "
			    "process");
			return 0;
		}
		pthread_mutex_unlock(&t->hdr->mu);
	}
	if (rc != 0) {
		log_err("throttle: lock: %s", strerror(rc));
		errno = rc;
		return -1;
	}
	return 0;
}

void
throttle_shm_unlock(struct throttle_shm *t)
{
	pthread_mutex_unlock(&t->hdr->mu);
}

/* 1 when the slot holds a well-formed entry.  The file is shared with
 * other processes: nothing in it is trusted. */
int
throttle_shm_wellformed(const struct throttle_slot *s)
{
	if (s->kind != KIND_RATE && s->kind != KIND_ONCE &&
	    s->kind != KIND_WINDOW)
		return 0;
	if (s->kind == KIND_WINDOW && s->aux == 0)
		return 0;
	return s->keylen > 0 && s->keylen <= THROTTLE_KEY_MAX &&
	    s->digest <= 1 &&
	    (!s->digest || s->keylen == THROTTLE_DIGEST_LEN) &&
	    s->vallen <= THROTTLE_VALUE_MAX;
}

/* 1 when the slot holds a well-formed entry that has not expired. */
int
throttle_shm_live(const struct throttle_slot *s, int64_t now)
{
	return throttle_shm_wellformed(s) && s->expires > now &&
	    s->expires - now <= THROTTLE_SPAN_MAX_NS;
}


static int
shm_ping(void *be, char *err, size_t errsize)
{
	if (throttle_shm_lock(be) == -1) {
		throttle_err(err, errsize, "throttle table lock: %s",
		    strerror(errno));
		return -1;
	}
	throttle_shm_unlock(be);
	return 0;
}

static int
shm_stats(void *be, int64_t now_us, struct throttle_stats *st)
{
	struct throttle_shm	*t = be;
	size_t			 i;

	st->entries = t->nslots;
	if (throttle_shm_lock(t) == -1)
		return -1;
	for (i = 0; i < t->nslots; i++)
		if (throttle_shm_live(&t->slots[i], now_us * 1000))
			st->used++;
	st->evictions = t->hdr->evictions;
	st->recoveries = t->hdr->recoveries;
	throttle_shm_unlock(t);
	return 0;
}

static int
shm_hold(void *be)
{
	return throttle_shm_lock(be);
}

const struct throttle_ops throttle_shm_ops = {
	.check = throttle_shm_check,
	.once = throttle_shm_once,
	.forget = throttle_shm_forget,
	.window = throttle_shm_window,
	.ping = shm_ping,
	.stats = shm_stats,
	.hold = shm_hold,
	.close = shm_close,
};
