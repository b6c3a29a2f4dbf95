/*
 * fcgi_guard: the worker's side of the FastCGI socket, beneath libfcgi
 * (issue 16 F1; SECURITY.md "F1").
 *
 * libfcgi 2.4.2 calls OS_Accept, OS_Read, OS_Write and OS_IpcClose
 * through its PLT, so the definitions in this module, linked into the
 * executable, are the ones it uses (ELF interposition: `nm -D form2mail
 * | grep OS_` lists them).  They change what a worker does with a
 * connection:
 *
 *  - OS_Accept keeps up to FGUARD_PENDING connections per worker and
 *    reads them all at once (non-blocking, one ppoll), each bytes through
 *    fcgi_rec.h's checks into its own buffer, and gives libfcgi only a
 *    connection whose whole request (to the empty STDIN record) is in
 *    that buffer, or, for a body larger than the buffer (max_body and
 *    the head, at most FGUARD_BUF_MAX), whose head is in and whose
 *    buffer is full.  A connection that is idle, trickles, or breaks a
 *    rule of fcgi_rec.h never reaches libfcgi: it is closed with a log
 *    line naming the peer (pid and uid of a unix socket peer, the address
 *    of a TCP one) and the cause, when a record takes longer than
 *    FGUARD_RECORD_MS, when the request is not complete FGUARD_REQUEST_MS
 *    after the accept, and when the set is full and it is the oldest.
 *    The BEGIN_REQUEST's FCGI_KEEP_CONN flag is cleared: one request per
 *    connection, so a kept connection cannot hold a worker either.
 *    FCGI_WEB_SERVER_ADDRS is honoured for TCP peers as libfcgi does.
 *  - OS_Read serves the buffer; past it (the large-body case only) it
 *    waits at most FGUARD_RECORD_MS per read and until FGUARD_REQUEST_MS
 *    after the accept in all, still checking the records; on a timeout
 *    or a bad record it fails (errno ETIMEDOUT or EPROTO, logged) and
 *    libfcgi drops the request.
 *  - OS_Write waits at most FGUARD_WRITE_MS for the peer to take bytes.
 *  - OS_IpcClose closes without libfcgi's drain (which waits 2 s per
 *    read for as long as the peer keeps sending).
 *
 * Signals: OS_Accept waits in ppoll() with the mask given to
 * fguard_init, the only place SIGTERM/SIGINT get through
 * (svc/worker.c, worker_loop); it then fails with EINTR and libfcgi's
 * FCGX_Accept_r returns -EINTR.  The worker then calls fguard_stop()
 * and goes on accepting until fguard_pending() is 0.
 *
 * One worker process, one thread: the state is static.
 */
#ifndef F2M_FCGI_GUARD_H
#define F2M_FCGI_GUARD_H

#include <signal.h>
#include <stddef.h>

#define FGUARD_PENDING		8	/* connections read at once per worker */
#define FGUARD_RECORD_MS	5000	/* per record (the first: from accept) */
#define FGUARD_REQUEST_MS	30000	/* accept to the end of STDIN */
#define FGUARD_WRITE_MS		10000	/* per write that makes no progress */
#define FGUARD_BUF_MAX		(16u * 1024 * 1024)

/*
 * Makes the guard serve libfcgi's accepts on the listening socket lfd,
 * buffering requests of up to max_body body bytes; waitmask is the
 * signal mask for the wait (copied).  Before this call (CGI, the unit
 * tests) OS_Accept fails with EINVAL and the others pass through.
 */
void	 fguard_init(int lfd, size_t max_body, const sigset_t *waitmask);

/*
 * A stopping worker (a reload, a stop) accepts nothing more but still
 * serves the connections it holds: each becomes ready or meets its
 * deadline (at most FGUARD_REQUEST_MS), so a connection nginx handed
 * over is answered, not reset.  fguard_pending() counts them; OS_Accept
 * fails with EINTR once stopping with none left.
 */
void	 fguard_stop(void);
size_t	 fguard_pending(void);

#endif
