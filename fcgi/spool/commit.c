/*
 * spool commit: a message into the spool, durably, the discipline of dma
 * and nullmailer: write a temporary file in tmp/, fsync it, link (first
 * commit) or rename (rewrite) it into place, fsync the directory.  Only
 * then does the message exist.  The fsyncs of queue/ are shared by the
 * committers through the group commit below.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/file.h"
#include "lib/log.h"
#include "spool/spool.h"
#include "spool/spool_int.h"

#define SPOOL_SYNC_MAGIC	0x66326d73796e6331ULL	/* "f2msync1" */

int
commit_fsync_dir(const char *dir, const char *sub)
{
	char	 p[PATH_MAX];

	if (snprintf(p, sizeof(p), "%s/%s", dir, sub) >= (int)sizeof(p)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return file_fsync_dir(p);
}

/*
 * Group commit of the queue/ directory fsync.  Every process that commits
 * into the spool (workers, CGI runs) maps a small counters file (in
 * state_dir, so that it never keeps the spool's file system busy):
 * "linked" counts links made into queue/, "synced" the highest count a
 * finished fsync of queue/ covered.  After its link a committer takes a
 * ticket; if a fsync that began after its link has finished, its entry
 * is durable and it is done.  Otherwise it takes the flock (one fsync at
 * a time: the kernel drops the lock of a process that dies), checks
 * again, reads how many links exist now, fsyncs, and publishes that
 * count: one fsync covers every link made before it began.  Any doubt (no
 * mapping, a foreign file, another spool) falls back to a fsync of its
 * own.  A process that can write the file can only make others skip a
 * fsync: that risks durability, not integrity, and that process can
 * delete the spool anyway.
 */
struct spool_sync {
	uint64_t		 magic;
	_Atomic uint64_t	 linked;
	_Atomic uint64_t	 synced;
};

static struct {
	char			 dir[PATH_MAX];	/* the spool it serves */
	int			 fd;
	struct spool_sync	*s;
} spool_gc = { "", -1, NULL };

int
spool_sync_open(const char *path, const char *dir)
{
	struct stat	 st;
	void		*m;
	int		 fd;

	if (spool_gc.s != NULL) {
		munmap(spool_gc.s, sizeof(*spool_gc.s));
		close(spool_gc.fd);
		spool_gc.s = NULL;
		spool_gc.fd = -1;
	}
	if (strlen(dir) >= sizeof(spool_gc.dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size != (off_t)sizeof(struct spool_sync)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	m = mmap(NULL, sizeof(struct spool_sync), PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		close(fd);
		return -1;
	}
	if (((struct spool_sync *)m)->magic != SPOOL_SYNC_MAGIC) {
		munmap(m, sizeof(struct spool_sync));
		close(fd);
		errno = EINVAL;
		return -1;
	}
	snprintf(spool_gc.dir, sizeof(spool_gc.dir), "%s", dir);
	spool_gc.fd = fd;
	spool_gc.s = m;
	return 0;
}

int
spool_sync_init(const char *path, long uid, long gid)
{
	struct spool_sync	 z;
	struct stat		 st;
	int			 fd, rc = -1;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))
		goto out;
	if (st.st_size != (off_t)sizeof(z)) {
		/* New, or not ours: start from zero. */
		memset(&z, 0, sizeof(z));
		z.magic = SPOOL_SYNC_MAGIC;
		if (ftruncate(fd, 0) == -1 ||
		    pwrite(fd, &z, sizeof(z), 0) != (ssize_t)sizeof(z) ||
		    fsync(fd) == -1)
			goto out;
	}
	if (uid != -1 && fchown(fd, (uid_t)uid, (gid_t)gid) == -1)
		goto out;
	rc = 0;
out:
	close(fd);
	return rc;
}

/* Makes the links into queue/ made so far durable (see above). */
static int
spool_sync_queue(const char *dir)
{
	struct spool_sync	*s;
	uint64_t		 ticket, target, cur;
	int			 rc;

	if ((s = spool_gc.s) == NULL || strcmp(spool_gc.dir, dir) != 0)
		return commit_fsync_dir(dir, "queue");
	ticket = atomic_fetch_add(&s->linked, 1) + 1;
	if (atomic_load(&s->synced) >= ticket)
		return 0;
	while (flock(spool_gc.fd, LOCK_EX) == -1)
		if (errno != EINTR)
			return commit_fsync_dir(dir, "queue");
	if (atomic_load(&s->synced) >= ticket) {
		flock(spool_gc.fd, LOCK_UN);
		return 0;
	}
	target = atomic_load(&s->linked);
	if ((rc = commit_fsync_dir(dir, "queue")) == 0) {
		cur = atomic_load(&s->synced);
		while (cur < target &&
		    !atomic_compare_exchange_weak(&s->synced, &cur, target))
			;
	}
	flock(spool_gc.fd, LOCK_UN);
	return rc;
}

static int
spool_write_all(int fd, const char *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Before a rewrite (under the lock) tmp/<id><suffix> may hold a leftover
 * of a crash: removed, or, when it is not a regular file (a FIFO there
 * would hang an open for writing), moved aside.  0, or -1 with errno.
 */
static int
commit_tmp_clear(const char *dir, const char *id, const char *suffix,
    const char *tmp)
{
	struct stat	 st;
	char		 name[SPOOL_ID_LEN + 16];

	if (lstat(tmp, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (S_ISREG(st.st_mode))
		return unlink(tmp) == -1 && errno != ENOENT ? -1 : 0;
	snprintf(name, sizeof(name), "%s%s", id, suffix);
	spool_aside(dir, "tmp", name, st.st_mode);
	return 0;
}

/*
 * Writes meta + msg into tmp/<id><suffix> and renames it to <to>/<id>.
 * Always O_EXCL (and O_NONBLOCK, O_NOFOLLOW): a name someone made in
 * tmp/ in between makes the commit fail, never hang or follow a link.
 */
int
commit_write(const char *dir, const struct spool_meta *m, const char *msg,
    size_t len, const char *suffix, const char *to)
{
	struct buf	 env = BUF_INIT;
	char		 tmp[PATH_MAX], dst[PATH_MAX];
	int		 fd = -1, rc = -1, saved;
	int		 flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
			    O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;

	if (!envelope_ok(m)) {
		errno = EINVAL;
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s/tmp/%s%s", dir, m->id, suffix);
	snprintf(dst, sizeof(dst), "%s/%s/%s", dir, to, m->id);
	if (envelope_write(m, &env) == -1) {
		errno = ENOMEM;
		goto out;
	}
	if (suffix[0] != '\0' && commit_tmp_clear(dir, m->id, suffix,
	    tmp) == -1)
		goto out;
	if ((fd = open(tmp, flags, 0600)) == -1)
		goto out;
	if (spool_write_all(fd, env.data, env.len) == -1 ||
	    spool_write_all(fd, msg, len) == -1 || fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	/* A first commit must not replace anything: link() refuses an
	 * existing name where rename() would not. */
	if (suffix[0] == '\0') {
		if (link(tmp, dst) == -1)
			goto fail;
		unlink(tmp);
	} else if (rename(tmp, dst) == -1)
		goto fail;
	if ((suffix[0] == '\0' && strcmp(to, "queue") == 0 ?
	    spool_sync_queue(dir) : commit_fsync_dir(dir, to)) == -1)
		goto out;	/* renamed; the caller must not claim success */
	rc = 0;
	goto out;
fail:
	saved = errno;
	unlink(tmp);
	errno = saved;
out:
	saved = errno;
	if (fd != -1)
		close(fd);
	buf_free(&env);
	errno = saved;
	return rc;
}

/*
 * The reserve (limits.min_free) of this process's new messages.  One
 * statvfs(2) per commit, not cached: it costs about 1 us (measured) next
 * to the commit's fsyncs.
 */
static struct {
	char			 dir[PATH_MAX];
	unsigned long long	 bytes;
	unsigned		 pct;
	time_t			 logged;
} spool_rsv = { "", 0, 0, 0 };

void
spool_reserve_set(const char *dir, unsigned long long bytes, unsigned pct)
{
	snprintf(spool_rsv.dir, sizeof(spool_rsv.dir), "%s", dir);
	spool_rsv.bytes = bytes;
	spool_rsv.pct = pct < 100 ? pct : 99;
}

int
spool_room(const char *dir, size_t len)
{
	struct statvfs		 v;
	unsigned long long	 avail, want, inodes, iwant;
	time_t			 now;

	if (strcmp(spool_rsv.dir, dir) != 0 ||
	    (spool_rsv.bytes == 0 && spool_rsv.pct == 0))
		return 0;
	if (statvfs(dir, &v) == -1)
		return -1;
	/* What an unprivileged process may use: bavail, favail. */
	avail = (unsigned long long)v.f_bavail * v.f_frsize;
	want = spool_rsv.bytes != 0 ? spool_rsv.bytes :
	    (unsigned long long)v.f_blocks / 100 * spool_rsv.pct * v.f_frsize;
	inodes = (unsigned long long)v.f_favail;
	/* f_files 0: the file system counts no inodes (btrfs). */
	iwant = (unsigned long long)v.f_files / 100 *
	    (spool_rsv.pct != 0 ? spool_rsv.pct : 1);
	/* The message itself must fit above the reserve, with its envelope. */
	if (avail >= want && avail - want >= len + 64 * 1024 &&
	    (v.f_files == 0 || inodes > iwant))
		return 0;
	now = time(NULL);
	if (now - spool_rsv.logged >= 60) {
		spool_rsv.logged = now;
		log_err("spool: %s: %llu octets and %llu inodes left, under "
		    "limits.min_free (%llu octets, %llu inodes): refusing new "
		    "posts (503) to keep room for the deliverers", dir, avail,
		    inodes, want, iwant);
	}
	errno = ENOSPC;
	return 1;
}

static int
spool_commit_to(const char *dir, const struct spool_meta *m, const char *msg,
    size_t len, const char *to, int reserve)
{
	char	 dst[PATH_MAX];
	int	 saved;

	/* A statvfs(2) that fails decides nothing: the commit will tell. */
	if (reserve && spool_room(dir, len) == 1)
		return -1;
	if (commit_write(dir, m, msg, len, "", to) == 0)
		return 0;
	if (errno == EEXIST)
		return -1;	/* someone else's message: leave it */
	/*
	 * The link may have happened before the directory fsync failed:
	 * take the file back so the visitor's "failed" answer is true.
	 */
	saved = errno;
	snprintf(dst, sizeof(dst), "%s/%s/%s", dir, to, m->id);
	if (spool_id_valid(m->id))
		unlink(dst);
	errno = saved;
	return -1;
}

int
spool_commit(const char *dir, const struct spool_meta *m, const char *msg,
    size_t len)
{
	return spool_commit_to(dir, m, msg, len, "queue", 1);
}

int
spool_commit_held(const char *dir, const struct spool_meta *m,
    const char *msg, size_t len)
{
	return spool_commit_to(dir, m, msg, len, "held", 1);
}

int
spool_commit_free(const char *dir, const struct spool_meta *m,
    const char *msg, size_t len)
{
	return spool_commit_to(dir, m, msg, len, "queue", 0);
}
