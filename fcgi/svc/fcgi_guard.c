/*
 * fcgi_guard: libfcgi's transport, with deadlines; see fcgi_guard.h.
 *
 * Why buffer rather than peek: a worker that hands libfcgi a connection
 * whose bytes are still to come is a worker the peer holds.  nginx and
 * Apache send the head at once and, with request buffering (nginx's
 * default), the body too, so a legitimate request is complete in the
 * socket when it is accepted, and reading it here costs one copy.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgios.h>

#include "lib/log.h"
#include "lib/rate.h"
#include "svc/fcgi_guard.h"
#include "svc/fcgi_rec.h"

#define FGUARD_BUF_FIRST	(16 * 1024)
#define FGUARD_READ_CHUNK	(64 * 1024)
#define FGUARD_DRAIN_MAX	(64 * 1024)
#define FGUARD_ACCEPT_BATCH	32
/* Log lines about refused connections: a burst, then one per second. */
#define FGUARD_LOG_BURST	10

struct fguard_conn {
	int		 fd;		/* -1: free slot */
	int64_t		 accepted;	/* ms, CLOCK_MONOTONIC */
	int64_t		 record;	/* when the current record began */
	uint64_t	 records;	/* rec.records when it began */
	unsigned char	*buf;
	size_t		 len, cap, pos;	/* bytes read, room, given to libfcgi */
	struct frec	 rec;
	char		 peer[64];
};

static struct {
	int			 on;
	int			 stopping;	/* fguard_stop: no more accepts */
	int			 lfd;
	size_t			 max;		/* buffer limit per connection */
	sigset_t		 mask;
	struct fguard_conn	 pend[FGUARD_PENDING];
	struct fguard_conn	 cur;		/* the one libfcgi holds */
	int64_t			 log_sec;
	unsigned		 log_n, log_lost;
} fg = { .lfd = -1, .cur = { .fd = -1 } };

/* A refused connection: logged, but an attacker does not fill the log. */
static void
fguard_log(const struct fguard_conn *c, const char *what)
{
	int64_t	 sec = rate_clock_ms() / 1000;

	if (sec != fg.log_sec) {
		if (fg.log_lost > 0)
			log_warn("fastcgi: %u more refused connections not "
			    "logged", fg.log_lost);
		fg.log_sec = sec;
		fg.log_n = 0;
		fg.log_lost = 0;
	}
	if (fg.log_n >= FGUARD_LOG_BURST) {
		fg.log_lost++;
		return;
	}
	fg.log_n++;
	log_warn("fastcgi: %s: %s after %llu bytes, connection closed",
	    c->peer, what, (unsigned long long)c->rec.offset);
}

/* "pid P uid U" for a unix socket peer, the address for TCP. */
static void
fguard_peer(struct fguard_conn *c, const struct sockaddr_storage *ss)
{
	struct ucred	 uc;
	socklen_t	 ul = sizeof(uc);
	char		 a[INET6_ADDRSTRLEN];

	snprintf(c->peer, sizeof(c->peer), "peer unknown");
	if (ss->ss_family == AF_UNIX) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &uc, &ul) == 0)
			snprintf(c->peer, sizeof(c->peer), "peer pid %ld uid %lu",
			    (long)uc.pid, (unsigned long)uc.uid);
	} else if (ss->ss_family == AF_INET) {
		if (inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
		    a, sizeof(a)) != NULL)
			snprintf(c->peer, sizeof(c->peer), "peer %s", a);
	} else if (ss->ss_family == AF_INET6) {
		if (inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)ss)->sin6_addr, a,
		    sizeof(a)) != NULL)
			snprintf(c->peer, sizeof(c->peer), "peer %s", a);
	}
}

/* FCGI_WEB_SERVER_ADDRS (comma-separated IPv4 addresses), as libfcgi's
 * ClientAddrOK: a TCP peer must be in it when it is set. */
static int
fguard_addr_ok(const struct sockaddr_storage *ss, const char *list)
{
	char		 a[INET_ADDRSTRLEN];
	const char	*p;
	size_t		 n;

	if (list == NULL || *list == '\0' || ss->ss_family == AF_UNIX)
		return 1;
	if (ss->ss_family != AF_INET || inet_ntop(AF_INET,
	    &((const struct sockaddr_in *)ss)->sin_addr, a, sizeof(a)) == NULL)
		return 0;
	n = strlen(a);
	for (p = list; *p != '\0'; p += strcspn(p, ",")) {
		p += *p == ',';
		if (strncmp(p, a, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
	}
	return 0;
}

static void
fguard_free(struct fguard_conn *c)
{
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void
fguard_drop(struct fguard_conn *c, const char *why)
{
	fguard_log(c, why);
	close(c->fd);
	fguard_free(c);
}

/* Room for the next read, up to fg.max; 0: the buffer is full. */
static size_t
fguard_room(struct fguard_conn *c)
{
	unsigned char	*nb;
	size_t		 ncap;

	if (c->cap - c->len > 0)
		return c->cap - c->len;
	if (c->cap >= fg.max)
		return 0;
	ncap = c->cap == 0 ? FGUARD_BUF_FIRST : c->cap * 2;
	if (ncap > fg.max)
		ncap = fg.max;
	if ((nb = realloc(c->buf, ncap)) == NULL)
		return 0;
	c->buf = nb;
	c->cap = ncap;
	return c->cap - c->len;
}

/* Whether libfcgi may have c: the request is in, or the head and a full
 * buffer (a body larger than the buffer, read on with deadlines). */
static int
fguard_is_ready(const struct fguard_conn *c)
{
	return c->rec.phase == FREC_PH_DONE ||
	    (c->rec.phase == FREC_PH_STDIN && c->len == fg.max);
}

/*
 * Reads what c's socket holds.  Returns 0 (c may be ready now), or -1
 * with c dropped (a bad record, EOF before the end, an error).
 */
static int
fguard_fill(struct fguard_conn *c, int64_t now)
{
	ssize_t	 n;
	size_t	 room;

	while (!fguard_is_ready(c) && (room = fguard_room(c)) > 0) {
		if (room > FGUARD_READ_CHUNK)
			room = FGUARD_READ_CHUNK;
		if ((n = read(c->fd, c->buf + c->len, room)) == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			fguard_drop(c, strerror(errno));
			return -1;
		}
		if (n == 0 && c->len == 0) {
			/* connected and closed: a probe, not worth a line */
			close(c->fd);
			fguard_free(c);
			return -1;
		}
		if (n == 0) {
			fguard_drop(c, "closed before the request was complete");
			return -1;
		}
		if (frec_feed(&c->rec, c->buf + c->len, (size_t)n) != FREC_OK) {
			fguard_drop(c, frec_strerror(c->rec.err));
			return -1;
		}
		c->len += (size_t)n;
		if (c->rec.records != c->records) {
			c->records = c->rec.records;
			c->record = now;
		}
	}
	if (!fguard_is_ready(c) && c->len == fg.max) {
		fguard_drop(c, "request head larger than the buffer");
		return -1;
	}
	return 0;
}

static int64_t
fguard_deadline(const struct fguard_conn *c)
{
	int64_t	 r = c->record + FGUARD_RECORD_MS;
	int64_t	 q = c->accepted + FGUARD_REQUEST_MS;

	return r < q ? r : q;
}

/*
 * Accepts one connection into a free slot (the oldest goes when none).
 * Returns -1 when there was none to accept, 1 when it is ready at once,
 * else 0.
 */
static int
fguard_accept(const char *addrs, int64_t now)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	struct fguard_conn	*c = NULL, *old = NULL;
	size_t			 i;
	int			 fd;

	if ((fd = accept4(fg.lfd, (struct sockaddr *)&ss, &sl,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOMEM ||
		    errno == ENOBUFS)
			log_err("fastcgi: accept: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < FGUARD_PENDING && c == NULL; i++) {
		if (fg.pend[i].fd == -1)
			c = &fg.pend[i];
		else if (old == NULL || fg.pend[i].accepted < old->accepted)
			old = &fg.pend[i];
	}
	if (c == NULL) {
		fguard_drop(old, "evicted (pending set full), incomplete");
		c = old;
	}
	c->fd = fd;
	c->accepted = c->record = now;
	frec_init(&c->rec);
	fguard_peer(c, &ss);
	if (!fguard_addr_ok(&ss, addrs)) {
		fguard_drop(c, "not in FCGI_WEB_SERVER_ADDRS");
		return 0;
	}
	return fguard_fill(c, now) == 0 && fguard_is_ready(c);
}

/* The oldest ready connection becomes libfcgi's; its fd, or -1. */
static int
fguard_take(void)
{
	struct fguard_conn	*c = NULL;
	size_t			 i;

	for (i = 0; i < FGUARD_PENDING; i++)
		if (fg.pend[i].fd != -1 && fguard_is_ready(&fg.pend[i]) &&
		    (c == NULL || fg.pend[i].accepted < c->accepted))
			c = &fg.pend[i];
	if (c == NULL)
		return -1;
	if (fg.cur.fd != -1) {
		close(fg.cur.fd);
		fguard_free(&fg.cur);
	}
	fg.cur = *c;
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	fg.cur.buf[FREC_FLAGS_OFFSET] &= ~FREC_KEEP_CONN;
	return fg.cur.fd;
}

/*
 * One wait on the listening socket and the pending set, then the work
 * it found: reads, expiries, an accept.  Returns 0, or -1 with errno
 * (EINTR: a signal of the wait mask arrived).
 */
static int
fguard_wait(const char *addrs)
{
	struct pollfd		 pfd[FGUARD_PENDING + 1];
	struct fguard_conn	*map[FGUARD_PENDING + 1];
	struct timespec		 ts, *tsp = NULL;
	int64_t			 now = rate_clock_ms(), first = INT64_MAX, d;
	nfds_t			 n = 1, i;
	int			 ready = 0;

	pfd[0].fd = fg.stopping ? -1 : fg.lfd;	/* poll skips -1 */
	pfd[0].events = POLLIN;
	for (i = 0; i < FGUARD_PENDING; i++) {
		if (fg.pend[i].fd == -1)
			continue;
		if ((d = fguard_deadline(&fg.pend[i])) < first)
			first = d;
		map[n] = &fg.pend[i];
		pfd[n].fd = fg.pend[i].fd;
		pfd[n++].events = POLLIN;
	}
	if (first != INT64_MAX) {
		d = first > now ? first - now : 0;
		ts.tv_sec = d / 1000;
		ts.tv_nsec = (d % 1000) * 1000000;
		tsp = &ts;
	}
	if (ppoll(pfd, n, tsp, &fg.mask) == -1)
		return -1;
	now = rate_clock_ms();
	for (i = 1; i < n; i++) {
		if (pfd[i].revents != 0 && fguard_fill(map[i], now) == -1)
			continue;
		if (fguard_is_ready(map[i]))
			ready = 1;
		else if (fguard_deadline(map[i]) <= now)
			fguard_drop(map[i], map[i]->accepted + FGUARD_REQUEST_MS <=
			    now ? "request not complete in time" :
			    "record not complete in time");
	}
	/* A batch: the backlog drains faster than a flood of connections
	 * fills it, and a ready connection ends the batch (none is accepted
	 * while one is ready: it could be the oldest, evicted). */
	if ((pfd[0].revents & POLLIN) && !ready)
		for (i = 0; i < FGUARD_ACCEPT_BATCH; i++)
			if (fguard_accept(addrs, now) != 0)
				break;
	return 0;
}

void
fguard_stop(void)
{
	fg.stopping = 1;
}

size_t
fguard_pending(void)
{
	size_t	 i, n = 0;

	for (i = 0; i < FGUARD_PENDING; i++)
		n += fg.pend[i].fd != -1;
	return n;
}

void
fguard_init(int lfd, size_t max_body, const sigset_t *waitmask)
{
	size_t	 i;
	size_t	 max = (size_t)FREC_PARAMS_MAX + 4096;

	max += max_body < FGUARD_BUF_MAX ? max_body + max_body / 16 :
	    FGUARD_BUF_MAX;
	fg.max = max < FGUARD_BUF_MAX ? max : FGUARD_BUF_MAX;
	fg.lfd = lfd;
	fg.mask = *waitmask;
	for (i = 0; i < FGUARD_PENDING; i++)
		fg.pend[i].fd = -1;
	fg.cur.fd = -1;
	fg.on = 1;
}

int
OS_Accept(int listen_sock, int fail_on_intr, const char *webServerAddrs)
{
	int	 fd;

	(void)fail_on_intr;	/* always: a signal ends the wait */
	if (!fg.on || listen_sock != fg.lfd) {
		errno = EINVAL;
		return -1;
	}
	for (;;) {
		if ((fd = fguard_take()) != -1)
			return fd;
		if (fg.stopping && fguard_pending() == 0) {
			errno = EINTR;
			return -1;
		}
		if (fguard_wait(webServerAddrs) == -1)
			return -1;
	}
}

/* Past the buffer: the socket, with both deadlines and the checks. */
static int
fguard_read_more(struct fguard_conn *c, char *buf, size_t len)
{
	struct pollfd	 pfd = { .fd = c->fd, .events = POLLIN };
	int64_t		 now, left, total;
	ssize_t		 n;
	int		 rc;

	for (;;) {
		now = rate_clock_ms();
		total = c->accepted + FGUARD_REQUEST_MS - now;
		left = total < FGUARD_RECORD_MS ? total : FGUARD_RECORD_MS;
		if (left <= 0 || (rc = poll(&pfd, 1, (int)left)) == 0) {
			fguard_log(c, left == total || left <= 0 ?
			    "request not complete in time" : "no data in time");
			errno = ETIMEDOUT;
			return -1;
		}
		if (rc == -1 || (n = read(c->fd, buf, len)) == -1) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				continue;
			return -1;
		}
		if (n > 0 && frec_feed(&c->rec, (unsigned char *)buf,
		    (size_t)n) != FREC_OK) {
			fguard_log(c, frec_strerror(c->rec.err));
			errno = EPROTO;
			return -1;
		}
		return (int)n;
	}
}

int
OS_Read(int fd, char *buf, size_t len)
{
	struct fguard_conn	*c = &fg.cur;
	size_t			 n;

	if (!fg.on || fd != c->fd || fd == -1)
		return (int)read(fd, buf, len);
	if (len > INT32_MAX)
		len = INT32_MAX;
	if (c->pos < c->len) {
		n = c->len - c->pos < len ? c->len - c->pos : len;
		memcpy(buf, c->buf + c->pos, n);
		c->pos += n;
		return (int)n;
	}
	if (c->rec.phase == FREC_PH_DONE)
		return 0;
	return fguard_read_more(c, buf, len);
}

int
OS_Write(int fd, char *buf, size_t len)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLOUT };
	ssize_t		 n;
	int		 rc;

	if (!fg.on || fd != fg.cur.fd || fd == -1)
		return (int)write(fd, buf, len);
	if (len > INT32_MAX)
		len = INT32_MAX;
	for (;;) {
		if ((n = send(fd, buf, len, MSG_NOSIGNAL)) >= 0)
			return (int)n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if ((rc = poll(&pfd, 1, FGUARD_WRITE_MS)) == 0) {
			fguard_log(&fg.cur, "answer not taken in time");
			errno = ETIMEDOUT;
			return -1;
		}
		if (rc == -1 && errno != EINTR)
			return -1;
	}
}

int
OS_IpcClose(int ipcFd, int shutdown_ok)
{
	char	 trash[4096];
	size_t	 got = 0;
	ssize_t	 n;

	if (!fg.on || ipcFd != fg.cur.fd || ipcFd == -1)
		return OS_Close(ipcFd, shutdown_ok);
	/* What the peer still has in flight is read, not waited for: an
	 * unread byte at close makes TCP send a reset. */
	if (shutdown_ok && shutdown(ipcFd, SHUT_WR) == 0)
		while (got < FGUARD_DRAIN_MAX &&
		    (n = read(ipcFd, trash, sizeof(trash))) > 0)
			got += (size_t)n;
	fguard_free(&fg.cur);
	return close(ipcFd);
}
