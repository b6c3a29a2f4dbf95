/*
 * throttle: GCRA over a file-backed shared table; see throttle.h.  The
 * public functions check their arguments here and hand the calls on a
 * Redis handle to throttle_redis.c.
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

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "throttle/throttle.h"

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

struct throttle {
	int			 fd;
	size_t			 size;
	size_t			 nslots;
	struct throttle_hdr	*hdr;
	struct throttle_slot	*slots;
	uint8_t			 sipkey[16];
	struct throttle_redis	*redis;		/* set: the Redis backend */
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

/*
 * SipHash-2-4 (Aumasson, Bernstein), 64- or 128-bit output, after the
 * reference implementation.
 */
#define SIP_ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIP_ROUND do {							\
	v0 += v1; v1 = SIP_ROTL(v1, 13); v1 ^= v0; v0 = SIP_ROTL(v0, 32); \
	v2 += v3; v3 = SIP_ROTL(v3, 16); v3 ^= v2;			\
	v0 += v3; v3 = SIP_ROTL(v3, 21); v3 ^= v0;			\
	v2 += v1; v1 = SIP_ROTL(v1, 17); v1 ^= v2; v2 = SIP_ROTL(v2, 32); \
} while (0)

static uint64_t
sip_le64(const uint8_t *p)
{
	uint64_t	 v = 0;
	int		 i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void
sip_put64(uint8_t *p, uint64_t v)
{
	int	 i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
throttle_siphash(const uint8_t k[16], const unsigned char *in, size_t len,
    uint8_t *out, size_t outlen)
{
	uint64_t	 k0 = sip_le64(k), k1 = sip_le64(k + 8);
	uint64_t	 v0 = 0x736f6d6570736575ULL ^ k0;
	uint64_t	 v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t	 v2 = 0x6c7967656e657261ULL ^ k0;
	uint64_t	 v3 = 0x7465646279746573ULL ^ k1;
	uint64_t	 m, b = (uint64_t)len << 56;
	size_t		 i, left = len & 7;

	if (outlen == 16)
		v1 ^= 0xee;
	for (i = 0; i + 8 <= len; i += 8) {
		m = sip_le64(in + i);
		v3 ^= m;
		SIP_ROUND;
		SIP_ROUND;
		v0 ^= m;
	}
	while (left > 0) {
		left--;
		b |= (uint64_t)in[i + left] << (8 * left);
	}
	v3 ^= b;
	SIP_ROUND;
	SIP_ROUND;
	v0 ^= b;
	v2 ^= outlen == 16 ? 0xee : 0xff;
	SIP_ROUND;
	SIP_ROUND;
	SIP_ROUND;
	SIP_ROUND;
	sip_put64(out, v0 ^ v1 ^ v2 ^ v3);
	if (outlen != 16)
		return;
	v1 ^= 0xdd;
	SIP_ROUND;
	SIP_ROUND;
	SIP_ROUND;
	SIP_ROUND;
	sip_put64(out + 8, v0 ^ v1 ^ v2 ^ v3);
}

/* Rates. */

/* 1*DIGIT into *v, stopping before the first non-digit; -1 when there is
 * no digit or the value exceeds max (checked before it could overflow). */
static int
throttle_number(const char **sp, long max, long *v)
{
	const char	*s = *sp;
	long		 n = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		n = n * 10 + (*s - '0');
		if (n > max)
			return -1;
	}
	*sp = s;
	*v = n;
	return 0;
}

int
throttle_parse_rate(const char *s, struct throttle_rate *out)
{
	long	 count, period, mult = 1;

	if (s == NULL || out == NULL)
		return -1;
	if (throttle_number(&s, THROTTLE_COUNT_MAX, &count) == -1 ||
	    count < 1 || *s++ != '/')
		return -1;
	if (throttle_number(&s, THROTTLE_PERIOD_MAX, &period) == -1)
		return -1;
	switch (*s) {
	case 's':
		s++;
		break;
	case 'm':
		mult = 60;
		s++;
		break;
	case 'h':
		mult = 3600;
		s++;
		break;
	case 'd':
		mult = 86400;
		s++;
		break;
	default:
		break;
	}
	if (*s != '\0' || period < 1 || period > THROTTLE_PERIOD_MAX / mult)
		return -1;
	out->count = count;
	out->period = period * mult;
	return 0;
}

/* Client keys. */

int
throttle_client_key(const char *addr, char *out, size_t outsize)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;
	char		 txt[INET6_ADDRSTRLEN];
	size_t		 len;
	int		 n;

	if (out != NULL && outsize > 0)
		out[0] = '\0';
	if (addr == NULL || out == NULL || outsize < THROTTLE_CLIENT_KEY_SIZE)
		return -1;
	len = strnlen(addr, INET6_ADDRSTRLEN);
	if (len == 0 || len >= INET6_ADDRSTRLEN)
		return -1;
	if (inet_pton(AF_INET, addr, &a4) == 1) {
		if (inet_ntop(AF_INET, &a4, txt, sizeof(txt)) == NULL)
			return -1;
		n = snprintf(out, outsize, "ip:%s", txt);
	} else if (inet_pton(AF_INET6, addr, &a6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			memcpy(&a4, &a6.s6_addr[12], sizeof(a4));
			if (inet_ntop(AF_INET, &a4, txt, sizeof(txt)) == NULL)
				return -1;
			n = snprintf(out, outsize, "ip:%s", txt);
		} else {
			/* One subscriber gets a /64 (RFC 6177): count the
			 * prefix, not the address a client picks in it. */
			memset(&a6.s6_addr[8], 0, 8);
			if (inet_ntop(AF_INET6, &a6, txt, sizeof(txt)) == NULL)
				return -1;
			n = snprintf(out, outsize, "ip6:%s/64", txt);
		}
	} else
		return -1;
	if (n < 0 || (size_t)n >= outsize) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

/* The table. */

static void F2M_PRINTF(3, 4)
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
throttle_map(struct throttle *t, size_t entries)
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
throttle_unmap_pages(struct throttle *t)
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
static void
throttle_prefault(struct throttle *t, uint64_t hash)
{
	size_t	 home, k, pg;

	if (t->mapped == NULL || t->pagesize == 0)
		return;
	/* A window spans at most 3 pages (2 and the wrapped part): drop
	 * the old ones before, not between the pages of one window. */
	if (t->nmapped == 0 || t->nmapped + 3 > THROTTLE_MAPPED_MAX)
		throttle_unmap_pages(t);
	/* The slots throttle_find() reads; a slot never straddles pages
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
throttle_unmap(struct throttle *t)
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
throttle_create(struct throttle *t, size_t entries)
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
throttle_replace(struct throttle *t, const char *path, size_t entries,
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

/*
 * One attempt at opening: 0 done (t mapped, byte 1 held shared), 1 the
 * path changed under us (try again), -1 error.  On 1 and -1 t->fd is
 * closed and nothing is mapped.
 */
static int
throttle_open_try(struct throttle *t, const char *path, size_t entries,
    char *err, size_t errsize)
{
	struct stat	 st, pst;
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
	if (fstat(t->fd, &st) == -1) {
		throttle_err(err, errsize, "%s: %s", path, strerror(errno));
		goto out;
	}
	/* Replaced or removed since we opened it: open the new one. */
	if (st.st_nlink == 0 || lstat(path, &pst) == -1 ||
	    pst.st_dev != st.st_dev || pst.st_ino != st.st_ino) {
		rc = 1;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
		errno = EPERM;
		throttle_err(err, errsize, "%s: not a regular file with one "
		    "link", path);
		goto out;
	}
	if (geteuid() != 0 && st.st_uid != geteuid()) {
		errno = EPERM;
		throttle_err(err, errsize, "%s: owned by uid %ld, not %ld",
		    path, (long)st.st_uid, (long)geteuid());
		goto out;
	}
	if ((st.st_mode & 07777) != 0600 && fchmod(t->fd, 0600) == -1) {
		throttle_err(err, errsize, "%s: chmod: %s", path,
		    strerror(errno));
		goto out;
	}
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
	if (alone) {
		if (!ok) {
			if (st.st_size != 0)
				log_warn("throttle table %s: other layout, "
				    "size or damaged: recreated", path);
			if (throttle_create(t, entries) == -1) {
				throttle_err(err, errsize, "%s: %s", path,
				    strerror(errno));
				goto out;
			}
		} else if (throttle_map(t, entries) == -1 ||
		    throttle_mutex_init(&t->hdr->mu) == -1) {
			/* Nobody else maps it: a lock word left by a crash
			 * must not outlive it. */
			throttle_err(err, errsize, "%s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (throttle_ofd(t->fd, F_RDLCK, 1, 0) == -1) {
			throttle_err(err, errsize, "%s: lock: %s", path,
			    strerror(errno));
			goto out;
		}
	} else if (throttle_ofd(t->fd, F_RDLCK, 1, 0) == -1) {
		throttle_err(err, errsize, "%s: lock: %s", path,
		    strerror(errno));
		goto out;
	} else if (!ok) {
		if (throttle_replace(t, path, entries, err, errsize) == -1)
			goto out;
	} else if (throttle_map(t, entries) == -1) {
		throttle_err(err, errsize, "%s: mmap: %s", path,
		    strerror(errno));
		goto out;
	}
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

		throttle_unmap(t);
		close(t->fd);
		t->fd = -1;
		errno = saved;
	}
	return rc;
}

int
throttle_open(const char *path, size_t entries, struct throttle **out,
    char *err, size_t errsize)
{
	struct throttle	*t = NULL;
	int		 i, rc = -1;

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
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		throttle_err(err, errsize, "%s: %s", path, strerror(errno));
		return -1;
	}
	t->fd = -1;
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
		*out = t;
	else
		free(t);
	return rc;
inval:
	errno = EINVAL;
	throttle_err(err, errsize, "throttle_open: invalid arguments");
	return -1;
}

int
throttle_open_redis(const char *url, long timeout_ms, struct throttle **out,
    char *err, size_t errsize)
{
	struct throttle	*t;

	if (err != NULL && errsize > 0)
		err[0] = '\0';
	if (out == NULL) {
		errno = EINVAL;
		throttle_err(err, errsize, "throttle_open_redis: invalid "
		    "arguments");
		return -1;
	}
	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		throttle_err(err, errsize, "redis: %s", strerror(errno));
		return -1;
	}
	t->fd = -1;
	if (throttle_redis_open(url, timeout_ms, &t->redis, err,
	    errsize) == -1) {
		free(t);
		return -1;
	}
	*out = t;
	return 0;
}

void
throttle_close(struct throttle *t)
{
	if (t == NULL)
		return;
	throttle_redis_close(t->redis);
	throttle_unmap(t);
	if (t->fd != -1)
		close(t->fd);
	free(t);
}

/* Locking. */

static int
throttle_lock(struct throttle *t)
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

static void
throttle_unlock(struct throttle *t)
{
	pthread_mutex_unlock(&t->hdr->mu);
}

/* Keys and slots. */

/* The key's length, or 0 for NULL, "" or a key over
 * THROTTLE_KEY_INPUT_MAX octets. */
static size_t
throttle_key_len(const char *key)
{
	size_t	 len;

	if (key == NULL)
		return 0;
	len = strnlen(key, THROTTLE_KEY_INPUT_MAX + 1);
	return len > THROTTLE_KEY_INPUT_MAX ? 0 : len;
}

static int
throttle_rate_ok(const struct throttle_rate *r)
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

static int
throttle_prepare(struct throttle *t, int kind, const char *key,
    struct throttle_pkey *pk)
{
	unsigned char	 in[3 + THROTTLE_KEY_MAX];
	uint8_t		 h[8];
	size_t		 len;

	if ((len = throttle_key_len(key)) == 0)
		return -1;
	memset(pk, 0, sizeof(*pk));
	pk->kind = (uint8_t)kind;
	if (len <= THROTTLE_KEY_MAX) {
		pk->len = (uint8_t)len;
		memcpy(pk->key, key, len);
	} else {
		pk->digest = 1;
		pk->len = THROTTLE_DIGEST_LEN;
		throttle_siphash(t->sipkey, (const unsigned char *)key, len,
		    pk->key, THROTTLE_DIGEST_LEN);
	}
	in[0] = pk->kind;
	in[1] = pk->digest;
	in[2] = pk->len;
	memcpy(in + 3, pk->key, pk->len);
	throttle_siphash(t->sipkey, in, 3 + (size_t)pk->len, h, sizeof(h));
	pk->hash = sip_le64(h);
	throttle_prefault(t, pk->hash);
	return 0;
}

static int
throttle_pkey_eq(const struct throttle_pkey *a, const struct throttle_pkey *b)
{
	return a->kind == b->kind && a->digest == b->digest &&
	    a->len == b->len && memcmp(a->key, b->key, a->len) == 0;
}

/* 1 when the slot holds a well-formed entry.  The file is shared with
 * other processes: nothing in it is trusted. */
static int
throttle_wellformed(const struct throttle_slot *s)
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
static int
throttle_live(const struct throttle_slot *s, int64_t now)
{
	return throttle_wellformed(s) && s->expires > now &&
	    s->expires - now <= THROTTLE_SPAN_MAX_NS;
}

static int
throttle_same(const struct throttle_slot *s, const struct throttle_pkey *pk)
{
	return s->hash == pk->hash && s->kind == pk->kind &&
	    s->digest == pk->digest && s->keylen == pk->len &&
	    throttle_wellformed(s) && memcmp(s->key, pk->key, pk->len) == 0;
}

static int
throttle_match(const struct throttle_slot *s, const struct throttle_pkey *pk,
    int64_t now)
{
	return throttle_same(s, pk) && throttle_live(s, now);
}

static int
throttle_taken(size_t i, const size_t *taken, size_t ntaken)
{
	size_t	 j;

	for (j = 0; j < ntaken; j++)
		if (taken[j] == i)
			return 1;
	return 0;
}

/*
 * Looks at the THROTTLE_PROBE slots after the key's home slot.  Returns
 * 1 and the live entry's index, or 0 and the index of the slot to take:
 * the first one not live, else the live rate or once entry expiring
 * first, else SIZE_MAX (every candidate is a live window entry, which is
 * never evicted: evicting it would forget admissions and break the cap);
 * slots in `taken` (used by this call already) are never chosen.
 */
static int
throttle_find(const struct throttle *t, const struct throttle_pkey *pk,
    int64_t now, const size_t *taken, size_t ntaken, size_t *idx)
{
	const struct throttle_slot	*s;
	size_t				 i, k, home, freei = SIZE_MAX;
	size_t				 oldi = SIZE_MAX;
	int64_t				 oldest = INT64_MAX;

	home = (size_t)(pk->hash % t->nslots);
	for (k = 0; k < THROTTLE_PROBE; k++) {
		i = (home + k) % t->nslots;
		s = &t->slots[i];
		if (throttle_match(s, pk, now)) {
			*idx = i;
			return 1;
		}
		if (throttle_taken(i, taken, ntaken))
			continue;
		if (!throttle_live(s, now)) {
			if (freei == SIZE_MAX)
				freei = i;
		} else if (s->kind != KIND_WINDOW &&
		    (s->expires < oldest || oldi == SIZE_MAX)) {
			oldest = s->expires;
			oldi = i;
		}
	}
	*idx = freei != SIZE_MAX ? freei : oldi;
	return 0;
}

/* Writes a new entry's identity into slot i; the caller fills the rest
 * and then sets kind, so that a writer killed midway leaves a free slot. */
static struct throttle_slot *
throttle_claim(struct throttle *t, size_t i, const struct throttle_pkey *pk,
    int64_t now)
{
	struct throttle_slot	*s = &t->slots[i];

	if (throttle_live(s, now))
		t->hdr->evictions++;
	s->kind = KIND_FREE;
	atomic_signal_fence(memory_order_seq_cst);
	s->hash = pk->hash;
	s->digest = pk->digest;
	s->keylen = pk->len;
	s->vallen = 0;
	memcpy(s->key, pk->key, pk->len);
	return s;
}

static int
throttle_now_ok(int64_t now_us)
{
	return now_us >= 0 && now_us <= THROTTLE_NOW_MAX_US;
}

enum throttle_result
throttle_check(struct throttle *t, const struct throttle_key *keys,
    size_t nkeys, int64_t now_us, long *retry_after)
{
	struct throttle_pkey	 pk[THROTTLE_MAX_KEYS];
	int64_t			 per[THROTTLE_MAX_KEYS], iv[THROTTLE_MAX_KEYS];
	int64_t			 ntat[THROTTLE_MAX_KEYS], now, tat, wait = 0;
	size_t			 idx[THROTTLE_MAX_KEYS], i, j, n = 0;
	int			 found[THROTTLE_MAX_KEYS];
	struct throttle_slot	*s;
	enum throttle_result	 res = THROTTLE_OK;

	if (retry_after != NULL)
		*retry_after = 0;
	if (t == NULL || (keys == NULL && nkeys > 0) ||
	    nkeys > THROTTLE_MAX_KEYS)
		goto inval;
	if (t->redis != NULL) {
		if (throttle_keys_ok(keys, nkeys) == -1)
			goto inval;
		return throttle_redis_check(t->redis, keys, nkeys,
		    retry_after);
	}
	if (!throttle_now_ok(now_us))
		goto inval;
	now = now_us * 1000;
	for (i = 0; i < nkeys; i++) {
		if (keys[i].rate.count == 0)
			continue;
		if (!throttle_rate_ok(&keys[i].rate) ||
		    throttle_prepare(t, KIND_RATE, keys[i].key, &pk[n]) == -1)
			goto inval;
		for (j = 0; j < n; j++)
			if (throttle_pkey_eq(&pk[j], &pk[n]))
				goto inval;
		/* The interval rounded up (never more than N per PERIOD),
		 * and the burst bound N * interval, not PERIOD, so that the
		 * rounding cannot cost the N-th request of a burst. */
		per[n] = (int64_t)keys[i].rate.period * THROTTLE_NS;
		iv[n] = (per[n] + keys[i].rate.count - 1) / keys[i].rate.count;
		per[n] = iv[n] * keys[i].rate.count;
		n++;
	}
	if (n == 0)
		return THROTTLE_OK;

	if (throttle_lock(t) == -1)
		return THROTTLE_ERROR;
	for (i = 0; i < n; i++) {
		found[i] = throttle_find(t, &pk[i], now, NULL, 0, &idx[i]);
		tat = found[i] ? t->slots[idx[i]].u.tat : now;
		if (tat < now)
			tat = now;
		if (tat - now > per[i])
			tat = now + per[i];
		ntat[i] = tat + iv[i];
		if (ntat[i] - now > per[i]) {
			res = THROTTLE_LIMITED;
			if (ntat[i] - now - per[i] > wait)
				wait = ntat[i] - now - per[i];
		}
	}
	if (res == THROTTLE_OK) {
		/* A new key never takes a slot found or placed by this call:
		 * idx[] lists those, SIZE_MAX for the keys still to place.
		 * Every key is placed before any is written, so a key that
		 * finds no slot charges none. */
		for (i = 0; i < n; i++)
			if (!found[i])
				idx[i] = SIZE_MAX;
		for (i = 0; i < n && res == THROTTLE_OK; i++) {
			if (found[i])
				continue;
			(void)throttle_find(t, &pk[i], now, idx, n, &idx[i]);
			if (idx[i] == SIZE_MAX) {
				res = THROTTLE_ERROR;
				errno = ENOSPC;
			}
		}
	}
	if (res == THROTTLE_OK) {
		for (i = 0; i < n; i++) {
			if (!found[i])
				s = throttle_claim(t, idx[i], &pk[i], now);
			else
				s = &t->slots[idx[i]];
			s->u.tat = ntat[i];
			s->expires = ntat[i];
			atomic_signal_fence(memory_order_seq_cst);
			s->kind = KIND_RATE;
		}
	}
	throttle_unlock(t);
	if (res == THROTTLE_ERROR)
		return res;
	if (res == THROTTLE_LIMITED && retry_after != NULL) {
		wait = (wait + THROTTLE_NS - 1) / THROTTLE_NS;
		*retry_after = wait < 1 ? 1 : (long)wait;
	}
	return res;
inval:
	errno = EINVAL;
	return THROTTLE_ERROR;
}

int
throttle_once(struct throttle *t, const char *key, const char *value,
    int64_t expires_us, int64_t now_us, char *value_out,
    size_t value_outsize)
{
	struct throttle_pkey	 pk;
	struct throttle_slot	*s;
	size_t			 i, vlen;
	int			 rc;

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
	if (t->redis != NULL)
		return throttle_redis_once(t->redis, key, value,
		    (expires_us - now_us + 999) / 1000, value_out);
	if (throttle_prepare(t, KIND_ONCE, key, &pk) == -1) {
		errno = EINVAL;
		return -1;
	}
	if (throttle_lock(t) == -1)
		return -1;
	if (throttle_find(t, &pk, now_us * 1000, NULL, 0, &i)) {
		s = &t->slots[i];
		if (value_out != NULL) {
			memcpy(value_out, s->u.value, s->vallen);
			value_out[s->vallen] = '\0';
		}
		rc = 0;
	} else if (i == SIZE_MAX) {
		errno = ENOSPC;
		rc = -1;
	} else {
		s = throttle_claim(t, i, &pk, now_us * 1000);
		memcpy(s->u.value, value, vlen);
		s->vallen = (uint8_t)vlen;
		s->expires = expires_us * 1000;
		atomic_signal_fence(memory_order_seq_cst);
		s->kind = KIND_ONCE;
		rc = 1;
	}
	throttle_unlock(t);
	return rc;
}

int
throttle_forget(struct throttle *t, const char *key)
{
	struct throttle_pkey	 pk;
	struct throttle_slot	*s;
	size_t			 home, k;
	int			 rc = 0;

	if (t == NULL || throttle_key_len(key) == 0) {
		errno = EINVAL;
		return -1;
	}
	if (t->redis != NULL)
		return throttle_redis_forget(t->redis, key);
	if (throttle_prepare(t, KIND_ONCE, key, &pk) == -1) {
		errno = EINVAL;
		return -1;
	}
	if (throttle_lock(t) == -1)
		return -1;
	home = (size_t)(pk.hash % t->nslots);
	for (k = 0; k < THROTTLE_PROBE; k++) {
		s = &t->slots[(home + k) % t->nslots];
		if (throttle_same(s, &pk)) {
			s->kind = KIND_FREE;
			rc = 1;
		}
	}
	throttle_unlock(t);
	return rc;
}

/*
 * Shared-memory window (throttle.h): one admission count per slice of
 * w = ceil(PERIOD / 15) ms; slice j covers [j w, (j + 1) w) of the
 * caller's clock, and counts while it overlaps the window (t - P, t], that
 * is while t < (j + 1) w + P.
 *
 * Why the cap holds.  At a call at t the sum S counts every admission in
 * a slice that overlaps (t - P, t]; every admission at s in (t - P, t]
 * lies in such a slice, so S >= the admissions in (t - P, t].  A call is
 * admitted only when S < limit, so after it (t - P, t] holds at most
 * limit.  Suppose a span [a, a + P) held limit + 1 admissions: at the
 * last of them, t < a + P, the other limit lay in [a, t] within (t - P, t]
 * (a > t - P), so that call saw S >= limit and was refused.  A clock
 * stepped back is taken as standing at the latest slice's start, which
 * only counts more.
 *
 * Why 16 counts suffice.  The oldest slice overlapping (t - P, t] is
 * floor((t - P) / w) >= floor(t / w) - 15, since P <= 15 w: slices
 * b - 15 .. b (b = floor(t / w)) are all that can count, kept in a ring
 * indexed j % 16.  The latest slice charged, L, is not stored: the
 * slot's expiry is (L + 1) w + P, when L stops counting, and L is
 * recovered from it; so the slot is live exactly while a count matters.
 * Moving from L to b clears ring entries L + 1 .. b, which held slices
 * <= b - 16.
 *
 * An admission in slice j counts until (j + 1) w + P, at most w after the
 * exact log would release it: that is the waiting this costs.
 */
static uint32_t
throttle_win_get(const uint8_t *c, size_t j)
{
	size_t		 bit = j * THROTTLE_WIN_BITS, o = bit / 8;
	uint32_t	 v;

	v = (uint32_t)c[o] | (uint32_t)c[o + 1] << 8 |
	    (uint32_t)c[o + 2] << 16;
	return (v >> (bit % 8)) & THROTTLE_WIN_CMAX;
}

static void
throttle_win_set(uint8_t *c, size_t j, uint32_t n)
{
	size_t		 bit = j * THROTTLE_WIN_BITS, o = bit / 8;
	uint32_t	 v;

	v = (uint32_t)c[o] | (uint32_t)c[o + 1] << 8 |
	    (uint32_t)c[o + 2] << 16;
	v &= ~(THROTTLE_WIN_CMAX << (bit % 8));
	v |= (n & THROTTLE_WIN_CMAX) << (bit % 8);
	c[o] = (uint8_t)v;
	c[o + 1] = (uint8_t)(v >> 8);
	c[o + 2] = (uint8_t)(v >> 16);
}

/* Writes a window entry (claiming slot i first when it is new).  The
 * counts go before the expiry that dates them. */
static void
throttle_win_store(struct throttle *t, size_t i, int found,
    const struct throttle_pkey *pk, int64_t now, uint32_t wms,
    const uint32_t *cnt, int64_t expires)
{
	struct throttle_slot	*s;
	size_t			 j;

	s = found ? &t->slots[i] : throttle_claim(t, i, pk, now);
	for (j = 0; j < THROTTLE_WIN_RING; j++)
		throttle_win_set(s->u.win, j, cnt[j]);
	s->aux = wms;
	atomic_signal_fence(memory_order_seq_cst);
	s->expires = expires;
	atomic_signal_fence(memory_order_seq_cst);
	s->kind = KIND_WINDOW;
}

int
throttle_window(struct throttle *t, const char *key, long limit,
    long period_s, int64_t now_us, long *wait_s)
{
	struct throttle_pkey	 pk;
	struct throttle_slot	*s;
	uint32_t		 cnt[THROTTLE_WIN_RING], wms;
	uint64_t		 sum, left;
	int64_t			 wus, per, b, j, last, tnow, e, wait = 0;
	size_t			 i, k;
	int			 found, lump = 0, rc;

	if (wait_s != NULL)
		*wait_s = 0;
	if (t == NULL || limit < 1 || limit > THROTTLE_WINDOW_MAX ||
	    period_s < 1 || period_s > THROTTLE_PERIOD_MAX ||
	    throttle_key_len(key) == 0)
		goto inval;
	if (t->redis != NULL)
		return throttle_redis_window(t->redis, key, limit, period_s,
		    wait_s);
	if (!throttle_now_ok(now_us) ||
	    throttle_prepare(t, KIND_WINDOW, key, &pk) == -1)
		goto inval;
	wms = (uint32_t)((period_s * 1000 + THROTTLE_WINDOW_SLICES - 1) /
	    THROTTLE_WINDOW_SLICES);
	wus = (int64_t)wms * 1000;
	per = (int64_t)period_s * THROTTLE_US;
	b = now_us / wus;
	tnow = now_us;
	memset(cnt, 0, sizeof(cnt));

	if (throttle_lock(t) == -1)
		return -1;
	found = throttle_find(t, &pk, now_us * 1000, NULL, 0, &i);
	if (!found && i == SIZE_MAX) {
		errno = ENOSPC;
		rc = -1;
		goto out;
	}
	if (found) {
		s = &t->slots[i];
		for (k = 0; k < THROTTLE_WIN_RING; k++)
			cnt[k] = throttle_win_get(s->u.win, k);
		e = s->expires / 1000 - per;
		if (s->aux == wms && s->expires % 1000 == 0 && e >= wus &&
		    e % wus == 0) {
			last = e / wus - 1;
			if (b < last) {
				b = last;
				tnow = last * wus;
			}
			for (j = last + 1; j <= b && j <= last +
			    THROTTLE_WIN_RING; j++)
				cnt[j % THROTTLE_WIN_RING] = 0;
		} else {
			/* Counted with another period (or not ours): all
			 * of it is held one new period from now. */
			for (k = 0, sum = 0; k < THROTTLE_WIN_RING; k++) {
				sum += cnt[k];
				cnt[k] = 0;
			}
			cnt[b % THROTTLE_WIN_RING] = sum > THROTTLE_WIN_CMAX ?
			    THROTTLE_WIN_CMAX : (uint32_t)sum;
			lump = 1;
		}
	}
	for (k = 0, sum = 0; k < THROTTLE_WIN_RING; k++) {
		j = b - (THROTTLE_WIN_RING - 1) + (int64_t)k;
		if (j >= 0 && (j + 1) * wus + per > tnow)
			sum += cnt[j % THROTTLE_WIN_RING];
	}
	if (sum < (uint64_t)limit) {
		cnt[b % THROTTLE_WIN_RING]++;
		throttle_win_store(t, i, found, &pk, now_us * 1000, wms, cnt,
		    ((b + 1) * wus + per) * 1000);
		rc = 1;
		goto out;
	}
	/* The oldest counted slices leave first: wait for the one whose
	 * leaving brings the sum under the limit. */
	left = sum;
	for (k = 0; k < THROTTLE_WIN_RING; k++) {
		j = b - (THROTTLE_WIN_RING - 1) + (int64_t)k;
		if (j < 0 || (j + 1) * wus + per <= tnow)
			continue;
		left -= cnt[j % THROTTLE_WIN_RING];
		if (left < (uint64_t)limit) {
			wait = (j + 1) * wus + per - tnow;
			break;
		}
	}
	if (lump)
		throttle_win_store(t, i, found, &pk, now_us * 1000, wms, cnt,
		    ((b + 1) * wus + per) * 1000);
	rc = 0;
out:
	throttle_unlock(t);
	if (rc == 0 && wait_s != NULL) {
		wait = (wait + THROTTLE_US - 1) / THROTTLE_US;
		*wait_s = wait < 1 ? 1 : (long)wait;
	}
	return rc;
inval:
	errno = EINVAL;
	return -1;
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
	if (t->redis != NULL)
		return throttle_redis_ping(t->redis, err, errsize);
	if (throttle_lock(t) == -1) {
		throttle_err(err, errsize, "throttle table lock: %s",
		    strerror(errno));
		return -1;
	}
	throttle_unlock(t);
	return 0;
}

int
throttle_stats(struct throttle *t, int64_t now_us, struct throttle_stats *st)
{
	size_t	 i;

	if (t == NULL || st == NULL || !throttle_now_ok(now_us)) {
		errno = EINVAL;
		return -1;
	}
	if (t->redis != NULL) {
		errno = ENOTSUP;
		return -1;
	}
	memset(st, 0, sizeof(*st));
	st->entries = t->nslots;
	if (throttle_lock(t) == -1)
		return -1;
	for (i = 0; i < t->nslots; i++)
		if (throttle_live(&t->slots[i], now_us * 1000))
			st->used++;
	st->evictions = t->hdr->evictions;
	st->recoveries = t->hdr->recoveries;
	throttle_unlock(t);
	return 0;
}

void
throttle_test_lock_and_hang(struct throttle *t, int ready_fd)
{
	if (t == NULL || t->redis != NULL || throttle_lock(t) == -1 ||
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
