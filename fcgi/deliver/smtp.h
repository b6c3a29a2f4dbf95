/*
 * smtp: message submission through libcurl (docs/DESIGN.md "SMTP").
 *
 * One easy handle is kept for the life of a struct smtp so that TLS and
 * AUTH happen once per connection, not once per message.  Peer and host
 * verification are always on.  Envelope addresses are checked with
 * addr_spec_ok() here again before libcurl sees them (libcurl passes
 * CR/LF through to the server).
 */
#ifndef F2M_SMTP_H
#define F2M_SMTP_H

#include <stddef.h>

#include "lib/buf.h"

struct conf_smtp;
struct smtp;

enum smtp_result {
	SMTP_SENT,	/* 2xx after the final dot: remove from the spool */
	SMTP_DEFER,	/* 4xx, timeout, connection or TLS trouble: retry */
	SMTP_FAIL,	/* 5xx to MAIL, RCPT, DATA or the final dot, or an
			   envelope refused here: move to failed/ */
	SMTP_CONFIG	/* 530/534/535/538 or login refused, certificate not
			   verified, STARTTLS missing, 5xx to the greeting,
			   EHLO or AUTH: keep queued, tell the admin */
};

/*
 * Prepares a handle for the server of cfg; password may be NULL when cfg
 * has no username (libcurl keeps its own copy: the caller may wipe its).
 * helo is the EHLO name (sender.hostname).  Connects lazily on the first
 * smtp_send().  Returns 0, or -1 (ENOMEM, curl init, or a helo, url or
 * TLS setting that does not hold together: logged) with *out NULL.
 */
int	 smtp_open(const struct conf_smtp *cfg, const char *password,
	    const char *helo, struct smtp **out) F2M_WUR;

/*
 * Sends len octets of data (a signed message, CRLF line ends, not
 * dot-stuffed) from mail_from to the nrcpt addresses (1 to 100; one
 * refused recipient fails the whole message).  Every address must pass
 * addr_spec_ok(), else SMTP_FAIL without contacting the server.  On
 * anything but SMTP_SENT a one-line, log-safe reason is written to err:
 * "curl: <error> (code N)[: <detail>], server reply NNN after <command>:
 * <reply line>" or "..., no server reply"; never credentials.
 *
 * A reused connection that the server closed while idle (silently or with
 * 421) is retried once at once on a new one: nothing was accepted on it.
 * After any result but SMTP_SENT the next message opens a new connection.
 */
enum smtp_result smtp_send(struct smtp *, const char *mail_from,
	    const char *const *rcpt, size_t nrcpt, const char *data,
	    size_t len, char *err, size_t errsize);

/* Name of a result: "sent", "deferred", "failed", "config". */
const char	*smtp_result_name(enum smtp_result);

/* Closes the connection (QUIT) and frees; NULL is accepted. */
void	 smtp_close(struct smtp *);

#endif
