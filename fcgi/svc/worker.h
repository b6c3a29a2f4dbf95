/*
 * worker: what serves requests, under `form2mail serve` and as CGI
 * (docs/DESIGN.md "Processes").
 *
 * The shared part (struct worker_shared: the throttle table or Redis
 * handle, the ALTCHA key, the counters) is opened once: by the master
 * before it forks the workers, or by the CGI process for its one request.
 * The per-process part (struct request_ctx: captcha and rspamd clients,
 * one libcurl handle each) is opened by each worker after it has dropped
 * its privileges.  Nothing here is a DKIM key or the SMTP password.
 */
#ifndef F2M_WORKER_H
#define F2M_WORKER_H

#include <signal.h>
#include <stddef.h>

#include "gate/challenge.h"
#include "mail/confirm.h"

struct conf;
struct enc_set;
struct request_ctx;
struct stats;
struct throttle;

struct worker_shared {
	struct throttle	*thr;		/* NULL: no limits, no dedupe */
	struct throttle	*replay;	/* ALTCHA replays: shm, its own
					   table; Redis, thr; NULL: none */
	struct stats	*stats;		/* NULL: no counters (set by the owner) */
	unsigned char	 altcha_key[CHALLENGE_KEY_LEN];
	int		 have_key;
	int		 cgi;		/* opened for WORKER_CGI */
	/* state_dir/confirm.key: the autoresponder's confirmation links */
	unsigned char	 confirm_key[CONFIRM_KEY_LEN];
	int		 have_confirm_key;
	/* The recipients' public keys of encrypted forms (mail/enc_key.h),
	 * loaded here so that no worker opens a key file. */
	struct enc_set	*enc;
};

enum worker_mode {
	/*
	 * serve: the table only when a rate, the duplicate window, ALTCHA or
	 * an autoresponder needs it, the ALTCHA key only when a form uses
	 * ALTCHA, the confirmation key only when a form's autoresponder has
	 * "confirm", the keys of every encrypted form;
	 * any failure is an error (the master does not start, or keeps the
	 * running config on reload).
	 */
	WORKER_SERVE,
	/*
	 * CGI: the table always (shm or Redis) and the key when it can be
	 * read; encryption keys that fail leave the encrypted forms
	 * refusing posts (500), never sending plaintext; what else fails is left out (logged for the table), the request
	 * is still served.
	 */
	WORKER_CGI
};

/*
 * Opens sh's throttle and key for cf (stats stays NULL: the owner opens
 * the counters).  Returns 0, or -1 (logged) with nothing left open.
 */
int	 worker_shared_open(struct worker_shared *sh, const struct conf *cf,
	    enum worker_mode);
/* Closes the throttle handle and wipes the key; NULL-safe fields. */
void	 worker_shared_close(struct worker_shared *sh);

/*
 * Fills ctx for cf: borrows sh's throttle, key and stats (sh may be NULL:
 * none of them; it must outlive ctx) and creates the captcha and rspamd
 * clients the config asks for.  Returns 0, or -1 with a reason in err.
 */
int	 worker_env_open(struct request_ctx *ctx, const struct conf *cf,
	    const struct worker_shared *sh, char *err, size_t errsize);
void	 worker_env_close(struct request_ctx *ctx);

/*
 * A FastCGI worker on the listening socket lfd: drops privileges, opens
 * its env, enters the seccomp sandbox, then serves requests until *stop.
 * Never returns (exits 0 when stopped, 1 when it cannot start).
 */
_Noreturn void	 worker_run(const struct conf *cf,
	    const struct worker_shared *sh, int lfd, volatile sig_atomic_t *stop);

#endif
