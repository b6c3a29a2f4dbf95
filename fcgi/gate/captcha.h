/*
 * captcha: server-side verification of third-party captcha tokens
 * (Cloudflare Turnstile, hCaptcha, reCAPTCHA v2 and v3) through libcurl.
 *
 * The widget puts its token into a form field (captcha_field()); the
 * worker hands that value, untrusted, to captcha_verify(), which POSTs it
 * with the site's secret to the provider's siteverify endpoint as
 * application/x-www-form-urlencoded and judges the JSON answer.  Anything
 * that keeps a verdict from being reached (timeout, network, TLS, an
 * answer that is not HTTP 200, not JSON, too large, or not shaped as the
 * provider documents it) is CAPTCHA_UNAVAILABLE: the post is refused with
 * 503, never let through (fail closed).
 *
 * One easy handle is kept per struct captcha so the connection to the
 * provider is reused between posts.  Peer and host verification are
 * always on; the verify URL must be https:// unless its host is a
 * loopback address literal (127.0.0.0/8, [::1]), which tests use.  No
 * proxy from the environment is used.  The secret never appears in err
 * or why, and is wiped from memory when the handle is closed.
 */
#ifndef F2M_CAPTCHA_H
#define F2M_CAPTCHA_H

#include <stddef.h>

#include "lib/buf.h"

/* Turnstile's are at most 2048 octets; hCaptcha's pass 4000. */
#define CAPTCHA_MAX_TOKEN	16384	/* octets of a widget token */
#define CAPTCHA_MAX_ANSWER	65536	/* octets of a siteverify answer */
#define CAPTCHA_MAX_SECRET	1024
#define CAPTCHA_MAX_HOSTNAMES	64
#define CAPTCHA_MAX_ACTION	100
#define CAPTCHA_DEFAULT_SCORE	0.5	/* reCAPTCHA v3 min_score */
#define CAPTCHA_DEFAULT_TIMEOUT	3000	/* ms */
#define CAPTCHA_MAX_TIMEOUT	60000	/* ms */

#define CAPTCHA_URL_TURNSTILE \
	"https://challenges.cloudflare.com/turnstile/v0/siteverify"
#define CAPTCHA_URL_HCAPTCHA	"https://api.hcaptcha.com/siteverify"
#define CAPTCHA_URL_RECAPTCHA	"https://www.google.com/recaptcha/api/siteverify"

enum captcha_kind {
	CAPTCHA_TURNSTILE,
	CAPTCHA_HCAPTCHA,
	CAPTCHA_RECAPTCHA_V2,
	CAPTCHA_RECAPTCHA_V3
};

/*
 * Read by captcha_open(), which copies what it keeps: the caller may free
 * it afterwards.
 *
 * secret	required; 1 to CAPTCHA_MAX_SECRET printable ASCII octets, no
 *		space.
 * verify_url	NULL: the provider's (CAPTCHA_URL_*).
 * ca_file	NULL: the system's CAs; else only this PEM file is trusted.
 * sitekey	hCaptcha only, optional: sent so that the provider refuses
 *		tokens issued for another site key.  Must be NULL for the
 *		other kinds.
 * hostnames	the values of "hostname" accepted in an answer, compared
 *		without regard to ASCII case; nhostnames 0: not checked.  At
 *		most CAPTCHA_MAX_HOSTNAMES host names (letters, digits, '-',
 *		'.').
 * action	required for reCAPTCHA v3, optional for Turnstile (checked
 *		when set), must be NULL for hCaptcha and reCAPTCHA v2.  1 to
 *		CAPTCHA_MAX_ACTION octets of letters, digits, '_', '-', '/';
 *		compared exactly.
 * min_score	reCAPTCHA v3: a score below it is refused; 0 means
 *		CAPTCHA_DEFAULT_SCORE, else it must lie in (0, 1].  Ignored
 *		for the other kinds.
 * timeout_ms	the deadline of one call: connect (name lookup, TCP and
 *		TLS) and the whole request; 0 means CAPTCHA_DEFAULT_TIMEOUT,
 *		else 1 to CAPTCHA_MAX_TIMEOUT.
 * slot_dir	NULL: no cap.  Else the directory (state_dir) of the slot
 *		files (lib/slots.h), one per provider: the scheme, host and
 *		port of the verify URL, so the forms of one provider share
 *		its cap, and every process that opens the same file too.
 * max_calls	with slot_dir: at most this many calls to the provider in
 *		flight at once (1 to SLOTS_MAX); a call beyond is
 *		CAPTCHA_BUSY at once, without a request.
 */
struct captcha_conf {
	enum captcha_kind	 kind;
	const char		*secret;
	const char		*verify_url;
	const char		*ca_file;
	const char		*sitekey;
	const char *const	*hostnames;
	size_t			 nhostnames;
	const char		*action;
	double			 min_score;
	long			 timeout_ms;
	const char		*slot_dir;
	unsigned		 max_calls;
};

enum captcha_result {
	CAPTCHA_OK,		/* the provider vouched for the token, and
				   hostname, action and score passed */
	CAPTCHA_MISSING,	/* no token in the post (empty field) */
	CAPTCHA_REJECTED,	/* refused: the provider said no, or the
				   hostname, action or score did not pass,
				   or the token was malformed (then no
				   request was made) */
	CAPTCHA_UNAVAILABLE,	/* no verdict: timeout, network or TLS
				   error, HTTP status other than 200, an
				   answer that is malformed or over
				   CAPTCHA_MAX_ANSWER, a v3 answer without a
				   score, or a provider error that is ours
				   or the provider's (bad secret, bad
				   request, internal error): answer 503 */
	CAPTCHA_BUSY		/* no verdict, no request made: max_calls
				   calls to this provider are in flight
				   already (a slow provider must not hold
				   every worker): answer 503 at once */
};

struct captcha;

/*
 * Checks conf (see struct captcha_conf) and prepares a handle, opening
 * the provider's slot file when conf has a slot_dir (call it in each
 * process, after fork()); no network traffic until captcha_verify().
 * Returns 0 with *out set, or -1 with *out NULL and a one-line, log-safe
 * reason in err (ENOMEM, libcurl trouble, the slot file, or the setting
 * at fault; never the secret).
 */
int	 captcha_open(const struct captcha_conf *conf, struct captcha **out,
	    char *err, size_t errsize) F2M_WUR;

/* Closes the connection, wipes the secret and frees; NULL is accepted. */
void	 captcha_close(struct captcha *);

/*
 * Verifies one token (untrusted data!): len octets, not NUL-terminated.
 * token NULL or len 0: CAPTCHA_MISSING.  More than CAPTCHA_MAX_TOKEN
 * octets, or any octet outside '!'..'~': CAPTCHA_REJECTED without a
 * request.  remote_ip (NUL-terminated, may be NULL) is sent as remoteip
 * when it is an IPv4 or IPv6 address literal, and left out otherwise.
 * With a cap (slot_dir), a call first takes a slot of the provider's
 * (CAPTCHA_BUSY when none is free, without waiting) and gives it back
 * before returning.  Blocks for at most the timeout: libcurl's connect
 * and total timeouts, which cover the name lookup (its threaded
 * resolver, no signals), TCP, TLS and the answer; about twice that when
 * a reused connection turns out dead and libcurl opens a new one.
 *
 * A one-line, log-safe description of the outcome is written to why
 * (may be NULL when whysize is 0): on CAPTCHA_OK the hostname (and score)
 * vouched for, otherwise the reason; untrusted text in it is escaped as
 * log_escape() does.  It never holds the secret.
 */
enum captcha_result captcha_verify(struct captcha *, const char *token,
	    size_t len, const char *remote_ip, char *why, size_t whysize);

/*
 * Judges len octets of a siteverify answer (untrusted data!) against the
 * kind, hostnames, action and min_score of conf (the rest of conf is not
 * read, and conf need not have passed captcha_open()).  Returns
 * CAPTCHA_OK, CAPTCHA_REJECTED or CAPTCHA_UNAVAILABLE as described above,
 * never CAPTCHA_MISSING; why as for captcha_verify().  The answer must be
 * one JSON object without duplicate keys; "success" must be a boolean;
 * "error-codes", when present, an array (its strings are shown in why);
 * "hostname", when present, a string; for Turnstile and reCAPTCHA v3
 * "action", when present, a string; for reCAPTCHA v3 "score" a number in
 * [0, 1], present whenever "success" is true.  For a given kind, the
 * answer alone decides whether it is CAPTCHA_UNAVAILABLE, whatever
 * hostnames, action and min_score say.
 * No network, no allocation kept: the fuzz target's entry point.
 */
enum captcha_result captcha_parse_answer(const struct captcha_conf *conf,
	    const char *answer, size_t len, char *why, size_t whysize);

/* The form field the widget fills: "cf-turnstile-response",
 * "h-captcha-response", "g-recaptcha-response" (both reCAPTCHA kinds). */
const char	*captcha_field(enum captcha_kind);

/* "turnstile", "hcaptcha", "recaptcha-v2", "recaptcha-v3". */
const char	*captcha_kind_name(enum captcha_kind);

/* "ok", "missing", "rejected", "unavailable", "busy". */
const char	*captcha_result_name(enum captcha_result);

#endif
