/*
 * deliver: the delivery runner.  Claims due messages from the spool, signs
 * them (sign.h), submits them (smtp.h) and records the outcome: sent ->
 * removed, deferred -> backoff, failed -> failed/.  Used by the deliverer
 * process of `serve` and by `form2mail queue run`.
 *
 * It alone holds secrets: deliver_open() reads the DKIM keys and the SMTP
 * password, so call it before dropping privileges, and only in a process
 * that never parses HTTP input.
 */
#ifndef F2M_DELIVER_H
#define F2M_DELIVER_H

#include <signal.h>
#include <stddef.h>
#include <time.h>

#include "lib/buf.h"

struct conf;
struct deliver;

/* Returns 0 with *out set, or -1 with a reason in err. */
int	 deliver_open(const struct conf *, struct deliver **out, char *err,
	    size_t errsize) F2M_WUR;

/*
 * Delivers every queued message due at the time of the call, one SMTP
 * connection for all of them, stopping early when *stop becomes non-zero.
 * Sets *next_due to the earliest next_try of what is left (0: nothing).
 * Returns the number of messages delivered, or -1 when the queue cannot be
 * read.  A message sent but not removable from queue/ (read-only or not
 * writable) is not sent again by the same struct deliver; its removal is
 * retried at each call.  Another runner (a new deliverer, `queue run`)
 * may send it once more: delivery is at least once.
 */
int	 deliver_due(struct deliver *, volatile sig_atomic_t *stop,
	    time_t *next_due);

/*
 * Runs until *stop: delivers what is due, then sleeps until a new file
 * appears in the queue (inotify), the next message is due, or a second
 * has passed, whichever is first.  Returns after DELIVER_RECYCLE messages
 * so a supervisor can start a fresh process: Debian's libopendkim 2.11
 * leaks the parsed key of every Ed25519 signature (about 0.5 KiB).
 */
#define DELIVER_RECYCLE	5000

void	 deliver_loop(struct deliver *, volatile sig_atomic_t *stop);

/* Wipes the secrets and frees; NULL is accepted. */
void	 deliver_close(struct deliver *);

#endif
