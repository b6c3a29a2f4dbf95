/*
 * spam: scoring a rendered message with rspamd before it is spooled
 * (issue 3 item 8), over rspamd's HTTP protocol: POST <url>/checkv2.
 *
 * One libcurl easy handle lives in a struct spam, so the connection to
 * rspamd is kept alive between messages.  Everything rspamd answers is
 * untrusted: the answer is capped in size while it arrives, parsed by
 * jansson with strict types, and every string taken from it is escaped
 * before it reaches the caller's reason text.
 */
#ifndef F2M_SPAM_H
#define F2M_SPAM_H

#include <stddef.h>

#include "lib/buf.h"

#define SPAM_MAX_MESSAGE	(32UL * 1024 * 1024)	/* octets sent */
#define SPAM_MAX_ANSWER		(256UL * 1024)	/* octets accepted back */
#define SPAM_MAX_RCPT		100
#define SPAM_MAX_VALUE		320	/* octets of one envelope value */
#define SPAM_TOP_SYMBOLS	5	/* symbols named in the reason */

struct spam;

struct spam_conf {
	/* "http://127.0.0.1:11333": http:// only towards loopback (an IPv4
	   127.0.0.0/8 literal, [::1] or localhost), otherwise https:// with
	   the peer and host verified against the system CAs.  A path is
	   allowed (a proxy in front of rspamd); user info, query and
	   fragment are not.  Copied by spam_open(). */
	const char	*url;
	double		 reject_score;	/* score >= this: SPAM_REJECT */
	double		 hold_score;	/* score >= this: SPAM_HOLD; must not be
					   above reject_score (equal: no hold) */
	long		 timeout_ms;	/* whole exchange, 1 to 600000 */
};

enum spam_verdict {
	SPAM_HAM,		/* spool as usual */
	SPAM_HOLD,		/* spool into held/ for the admin */
	SPAM_REJECT,		/* spam: answer as accepted, send nothing */
	SPAM_UNAVAILABLE	/* no verdict: what to do is a config choice */
};

/*
 * Checks the configuration and prepares the handle; connects lazily on
 * the first spam_check().  Returns NULL on a bad url or threshold, a
 * timeout out of range (logged), or when memory or libcurl init fails.
 * Thresholds may be HUGE_VAL (never), not NaN.
 */
struct spam	*spam_open(const struct spam_conf *) F2M_WUR;

/*
 * Scores len octets of msg (the message as it will be spooled, CRLF line
 * ends, at most SPAM_MAX_MESSAGE octets).  Sent to rspamd as headers:
 * IP client_ip, From mail_from, one Rcpt per recipient (nrcpt at most
 * SPAM_MAX_RCPT), Helo helo, Hostname hostname, Queue-Id queue_id and
 * User-Agent form2mail.  Any of the strings may be NULL (that header is
 * then left out; rcpt only when nrcpt is 0); each must be 1 to
 * SPAM_MAX_VALUE printable ASCII octets without spaces, and client_ip
 * an IPv4 or IPv6 address, else SPAM_UNAVAILABLE without contacting
 * rspamd.  client_ip should be the
 * visitor's address: rspamd treats 127.0.0.1 as local and skips SPF and
 * DKIM.  hostname is the client's verified reverse DNS name, when known.
 *
 * Verdict: SPAM_REJECT when the score is >= reject_score or rspamd's own
 * action is "reject", else SPAM_HOLD when the score is >= hold_score,
 * else SPAM_HAM.  SPAM_UNAVAILABLE on a timeout, a connection or TLS
 * error, an HTTP status other than 200, an answer over
 * SPAM_MAX_ANSWER octets, or an answer that is not a JSON object with a
 * number "score" and a string "action" (and, when present, an object
 * "symbols" of objects whose "score" is a number).
 *
 * *score (score may be NULL) is set to rspamd's score when one was
 * parsed, else left alone.  why (whysize > 0) always receives one
 * log-safe line: the score against the thresholds, the action and the
 * SPAM_TOP_SYMBOLS highest-scoring symbols, or what went wrong; rspamd's
 * strings escaped as log_escape() does, the whole cut to whysize.
 */
enum spam_verdict spam_check(struct spam *, const char *msg, size_t len,
	    const char *client_ip, const char *mail_from,
	    const char *const *rcpt, size_t nrcpt, const char *helo,
	    const char *hostname, const char *queue_id, double *score,
	    char *why, size_t whysize);

/* "ham", "hold", "reject", "unavailable". */
const char	*spam_verdict_name(enum spam_verdict);

/* Closes the connection and frees; NULL is accepted. */
void		 spam_close(struct spam *);

#endif
