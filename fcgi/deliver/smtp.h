/*
 * smtp: message submission through libcurl (docs/DESIGN.md "SMTP").
 *
 * One easy handle is kept for the life of a struct smtp so that TLS and
 * AUTH happen once per connection, not once per message.  The handle is
 * lib/curlx's (peer and host verification always on); smtp_probe() logs
 * in with the same options for the doctor.  Envelope addresses are checked
 * with addr_spec_ok() here again before libcurl sees them (libcurl passes
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

#define SMTP_PROBE_REPLY	120	/* octets of a reply line kept */
#define SMTP_PROBE_VERB		10
#define SMTP_PROBE_ERR		1024

/*
 * What smtp_probe() saw, phase by phase (the doctor reports from it).
 * Untrusted text from the server is escaped as log_escape() does.
 */
struct smtp_probe {
	/* Set by the caller: */
	long		 total;		/* seconds for the whole probe, > 0 */
	const char	*resolve;	/* a CURLOPT_RESOLVE entry
					   "HOST:PORT:ADDR[,ADDR]": connect to
					   these addresses only; NULL: look
					   the host up */
	/* Set by smtp_probe(), from here on: */
	char		 cmd[SMTP_PROBE_VERB];	/* last verb sent */
	int		 rc;		/* libcurl's result (a CURLcode) */
	int		 greeting;	/* the greeting's code, 0: none */
	int		 auth;		/* the last reply to AUTH, 0: none */
	int		 noop;		/* the reply to NOOP, 0: none */
	int		 tls;		/* TLS records went both ways */
	int		 forbidden;	/* MAIL, RCPT or DATA went out (a bug) */
	char		 tlsver[24];	/* "TLSv1.3" as libcurl noted it, or "" */
	char		 greet_text[SMTP_PROBE_REPLY];
	char		 auth_text[SMTP_PROBE_REPLY];
	char		 ip[64];	/* the address connected to, or "" */
	char		 err[SMTP_PROBE_ERR];	/* libcurl's error text, or its
						   name for rc */
};

/*
 * Logs in to the server of cfg with the very options smtp_open() uses
 * (TLS, verification, AUTH when cfg has a username and password is set,
 * the connect and stall timeouts of cfg), but for the whole transfer
 * p->total seconds: connect, TLS, EHLO, AUTH, NOOP, QUIT.  No MAIL, RCPT
 * or DATA is sent (no upload, no recipient: libcurl sends the custom
 * command only), so no message can leave.  Returns 0 with p filled
 * (whatever the server did), or -1 when libcurl could not be set up.
 */
int	 smtp_probe(const struct conf_smtp *cfg, const char *password,
	    const char *helo, struct smtp_probe *p) F2M_WUR;

/* Name of a result: "sent", "deferred", "failed", "config". */
const char	*smtp_result_name(enum smtp_result);

/* Closes the connection (QUIT) and frees; NULL is accepted. */
void	 smtp_close(struct smtp *);

#endif
