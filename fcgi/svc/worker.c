/*
 * worker: the worker's state and loop, for serve and CGI; see worker.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "conf/conf.h"
#include "gate/captcha.h"
#include "gate/challenge.h"
#include "gate/gate.h"
#include "gate/spam.h"
#include "http/request.h"
#include "mail/enc_key.h"
#include "lib/log.h"
#include "svc/fcgi_guard.h"
#include "svc/privsep.h"
#include "svc/sandbox.h"
#include "svc/worker.h"
#include "throttle/throttle.h"

/* Whether cf needs the table: a rate, the duplicate window, ALTCHA, an
 * autoresponder; *need_key: a form uses ALTCHA. */
static int
worker_needs(const struct conf *cf, int *need_key)
{
	size_t	 i;
	int	 need_table = cf->duplicate_window > 0;

	*need_key = 0;
	for (i = 0; i < cf->nforms; i++) {
		if (cf->forms[i].altcha)
			need_table = *need_key = 1;
		if (cf->forms[i].auto_text != NULL)
			need_table = 1;
	}
	if (cf->throttle.per_ip.count || cf->throttle.per_net.count ||
	    cf->throttle.per_net_v4.count || cf->throttle.per_form.count ||
	    cf->throttle.global.count)
		need_table = 1;
	return need_table;
}

/* The throttle of cf: Redis (connects lazily, in each worker) or the
 * shm table under state_dir.  Returns 0, or -1 with err set. */
static int
worker_throttle(const struct conf *cf, struct throttle **t, char *err,
    size_t errsize)
{
	char	 path[4096];

	if (cf->throttle.redis)
		return throttle_open_redis(cf->throttle.redis_url,
		    THROTTLE_REDIS_TIMEOUT_MS, t, err, errsize);
	snprintf(path, sizeof(path), "%s/throttle.shm", cf->state_dir);
	return throttle_open(path, cf->throttle.entries, t, err, errsize);
}

/* The same kind of key file as ALTCHA's: made 0600 on first start. */
_Static_assert(CONFIRM_KEY_LEN == CHALLENGE_KEY_LEN, "one key loader");

static int
worker_confirm_key(const struct conf *cf, unsigned char *key, char *err,
    size_t errsize)
{
	char	 path[4096];
	size_t	 i;

	for (i = 0; i < cf->nforms; i++)
		if (cf->forms[i].auto_confirm)
			break;
	if (i == cf->nforms)
		return 1;
	snprintf(path, sizeof(path), "%s/confirm.key", cf->state_dir);
	return challenge_key_load(path, key, err, errsize);
}

/* The ALTCHA replay store (docs/DESIGN.md "Challenge"): Redis keeps
 * every key to its expiry, so the throttle's own handle; shared memory,
 * a table of its own that never evicts (throttle_open_store()), so that
 * a flood of rate keys cannot make it forget a payload.  0 or -1. */
static int
worker_replay(const struct conf *cf, struct worker_shared *sh, char *err,
    size_t errsize)
{
	char	 path[4096];

	if (cf->throttle.redis) {
		sh->replay = sh->thr;
		return 0;
	}
	snprintf(path, sizeof(path), "%s/replay.shm", cf->state_dir);
	return throttle_open_store(path, cf->throttle.entries, &sh->replay,
	    err, errsize);
}

static int
worker_key(const struct conf *cf, unsigned char *key, char *err,
    size_t errsize)
{
	char	 path[4096];

	if (cf->altcha_key_file != NULL)
		snprintf(path, sizeof(path), "%s", cf->altcha_key_file);
	else
		snprintf(path, sizeof(path), "%s/altcha.key", cf->state_dir);
	return challenge_key_load(path, key, err, errsize);
}

int
worker_shared_open(struct worker_shared *sh, const struct conf *cf,
    enum worker_mode mode)
{
	char	 err[512];
	int	 need_table, need_key;

	memset(sh, 0, sizeof(*sh));
	sh->cgi = mode == WORKER_CGI;
	if (mode == WORKER_CGI) {
		if (worker_throttle(cf, &sh->thr, err, sizeof(err)) == -1) {
			log_err("throttle: %s", err);
			sh->thr = NULL;
		} else if (worker_replay(cf, sh, err, sizeof(err)) == -1) {
			log_err("replay store: %s", err);
			sh->replay = NULL;
		}
		sh->have_key = worker_key(cf, sh->altcha_key, err,
		    sizeof(err)) == 0;
		sh->have_confirm_key = worker_confirm_key(cf, sh->confirm_key,
		    err, sizeof(err)) == 0;
		if (enc_set_load(cf, time(NULL), 1, &sh->enc) == -1)
			log_err("encryption keys refused: encrypted forms "
			    "refuse posts");
		return 0;
	}
	if (enc_set_load(cf, time(NULL), 1, &sh->enc) == -1) {
		log_err("encryption keys refused (above)");
		goto fail;
	}
	need_table = worker_needs(cf, &need_key);
	if (need_key && worker_key(cf, sh->altcha_key, err,
	    sizeof(err)) == -1) {
		log_err("challenge key: %s", err);
		goto fail;
	}
	sh->have_key = need_key;
	switch (worker_confirm_key(cf, sh->confirm_key, err, sizeof(err))) {
	case -1:
		log_err("confirmation key: %s", err);
		goto fail;
	case 0:
		sh->have_confirm_key = 1;
		break;
	}
	if (!need_table)
		return 0;
	if (worker_throttle(cf, &sh->thr, err, sizeof(err)) == -1) {
		log_err("throttle: %s", err);
		goto fail;
	}
	if (need_key && worker_replay(cf, sh, err, sizeof(err)) == -1) {
		log_err("replay store: %s", err);
		goto fail;
	}
	/* A Redis that is down fails requests (or admits them, fail_open),
	 * not the start. */
	if (cf->throttle.redis && throttle_ping(sh->thr, err,
	    sizeof(err)) == -1)
		log_warn("throttle: redis not reachable yet: %s", err);
	return 0;
fail:
	worker_shared_close(sh);
	return -1;
}

void
worker_shared_close(struct worker_shared *sh)
{
	if (sh->replay != sh->thr)
		throttle_close(sh->replay);
	sh->replay = NULL;
	throttle_close(sh->thr);
	sh->thr = NULL;
	explicit_bzero(sh->altcha_key, sizeof(sh->altcha_key));
	sh->have_key = 0;
	explicit_bzero(sh->confirm_key, sizeof(sh->confirm_key));
	sh->have_confirm_key = 0;
	enc_set_free(sh->enc);
	sh->enc = NULL;
}

/*
 * The captcha client of form f.  A slow provider holds at most half the
 * workers (issue 16, F12): the cap's slot file is in state_dir.  Under
 * CGI (one process per request) a state_dir the CGI user cannot write
 * costs the cap, not the service: logged, then no cap.
 */
static int
worker_captcha(const struct conf_form *f, const struct conf *cf,
    const struct worker_shared *sh, struct captcha **out, char *err,
    size_t errsize)
{
	struct captcha_conf	 cc;

	memset(&cc, 0, sizeof(cc));
	cc.kind = gate_captcha_kind(f->captcha.kind);
	cc.secret = f->captcha.secret;
	cc.verify_url = f->captcha.verify_url;
	cc.hostnames = (const char *const *)f->captcha.hostnames;
	cc.nhostnames = f->captcha.nhostnames;
	cc.action = f->captcha.action;
	cc.min_score = f->captcha.min_score;
	cc.timeout_ms = f->captcha.timeout * 1000;
	cc.slot_dir = cf->state_dir;
	cc.max_calls = cf->workers > 1 ? (unsigned)cf->workers / 2 : 1;
	if (captcha_open(&cc, out, err, errsize) == 0)
		return 0;
	if (sh == NULL || !sh->cgi)
		return -1;
	log_warn("form %s: captcha: %s; no cap on calls in flight", f->id,
	    err);
	cc.slot_dir = NULL;
	return captcha_open(&cc, out, err, errsize);
}

int
worker_env_open(struct request_ctx *ctx, const struct conf *cf,
    const struct worker_shared *sh, char *err, size_t errsize)
{
	struct spam_conf	 sc;
	size_t			 i;

	memset(ctx, 0, sizeof(*ctx));
	ctx->cf = cf;
	if (sh != NULL) {
		ctx->throttle = sh->thr;
		ctx->replay = sh->replay;
		ctx->altcha_key = sh->have_key ? sh->altcha_key : NULL;
		ctx->confirm_key = sh->have_confirm_key ? sh->confirm_key :
		    NULL;
		ctx->stats = sh->stats;
		ctx->enc = sh->enc;
	}
	if ((ctx->captcha = calloc(cf->nforms + 1, sizeof(*ctx->captcha))) ==
	    NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	if (cf->spam.rspamd_url != NULL) {
		memset(&sc, 0, sizeof(sc));
		sc.url = cf->spam.rspamd_url;
		sc.reject_score = cf->spam.reject_score;
		sc.hold_score = cf->spam.hold_score;
		sc.timeout_ms = cf->spam.timeout * 1000;
		if ((ctx->spam = spam_open(&sc)) == NULL) {
			snprintf(err, errsize, "rspamd client for %s cannot be "
			    "set up", cf->spam.rspamd_url);
			worker_env_close(ctx);
			return -1;
		}
	}
	for (i = 0; i < cf->nforms; i++)
		if (cf->forms[i].captcha.kind != CONF_CAPTCHA_NONE &&
		    worker_captcha(&cf->forms[i], cf, sh, &ctx->captcha[i], err,
		    errsize) == -1) {
			worker_env_close(ctx);
			return -1;
		}
	return 0;
}

void
worker_env_close(struct request_ctx *ctx)
{
	size_t	 i;

	if (ctx->captcha != NULL)
		for (i = 0; i < ctx->cf->nforms; i++)
			captcha_close(ctx->captcha[i]);
	free(ctx->captcha);
	ctx->captcha = NULL;
	spam_close(ctx->spam);
	ctx->spam = NULL;
}

/*
 * SIGTERM and SIGINT are held back everywhere but in the guard's wait
 * for a complete request (svc/fcgi_guard.h, OS_Accept): a reload or stop
 * lets the request in hand finish, and a worker that waits wakes, stops
 * accepting, and ends once the connections it holds are served or past
 * their deadlines (FCGX_Accept_r returns -EINTR; fguard_stop).  The
 * listening socket is non-blocking (server_run): a worker that lost the
 * race for a connection gets EAGAIN and waits again.
 */
static void
worker_loop(const struct request_ctx *ctx, FCGX_Request *req, int lfd,
    volatile sig_atomic_t *stop)
{
	sigset_t	 term, waitmask;
	int		 rc;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	sigprocmask(SIG_BLOCK, &term, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	fguard_init(lfd, ctx->cf->max_body, &waitmask);
	for (;;) {
		if (*stop) {
			fguard_stop();
			if (fguard_pending() == 0)
				break;
		}
		if ((rc = FCGX_Accept_r(req)) < 0) {
			if (rc == -EAGAIN || rc == -EWOULDBLOCK || rc == -EINTR)
				continue;
			log_err("accept: %s", strerror(-rc));
			sleep(1);
			continue;
		}
		request_handle(ctx, req);
		FCGX_Finish_r(req);
	}
}

void
worker_run(const struct conf *cf, const struct worker_shared *sh, int lfd,
    volatile sig_atomic_t *stop)
{
	FCGX_Request		 req;
	struct request_ctx	 ctx;
	char			 err[256];

	log_role("worker");
	if (privsep_drop(cf) == -1)
		_exit(1);
	if (worker_env_open(&ctx, cf, sh, err, sizeof(err)) == -1) {
		log_err("worker: %s", err);
		_exit(1);
	}
	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, lfd,
	    FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		log_err("FastCGI initialisation failed");
		_exit(1);
	}
	privsep_sync_open(cf);
	/* Last: everything the worker opens for good is open now. */
	if (sandbox_worker(err, sizeof(err)) == -1) {
		log_err("worker: %s", err);
		_exit(1);
	}
	log_info("worker ready");
	worker_loop(&ctx, &req, lfd, stop);
	FCGX_Free(&req, 0);
	worker_env_close(&ctx);
	_exit(0);
}
