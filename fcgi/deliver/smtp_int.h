/*
 * smtp_int.h: what deliver/smtp.c shares with deliver/smtp_probe.c, so
 * that the doctor's probe builds its handle exactly as the deliverer does.
 * Private to deliver/.
 */
#ifndef F2M_SMTP_INT_H
#define F2M_SMTP_INT_H

#include <stddef.h>

#include <curl/curl.h>

struct conf_smtp;

/* cfg's timeout in seconds, or the default. */
long	 smtp_timeout(const struct conf_smtp *cfg);

/*
 * cfg->url with the EHLO name as its path; the scheme must agree with
 * cfg->tls, clear text is for loopback only.  Returns a curl_free()'d
 * string, or NULL (logged).
 */
char	*smtp_url(const struct conf_smtp *cfg, const char *helo);

/*
 * A lib/curlx handle with the SMTP options of cfg (protocol, TLS mode,
 * AUTH when cfg has a username and password is set, a stall of t seconds
 * in any phase given up, total seconds for the transfer); errbuf
 * CURL_ERROR_SIZE octets.  curlx_close() it.  NULL when libcurl refuses.
 */
CURL	*smtp_handle(const struct conf_smtp *cfg, const char *password,
	    const char *url, long t, long total, char *errbuf);

/*
 * Copies the verb a command line (len octets) starts with into verb
 * (SMTP_PROBE_VERB octets) when it is one the module records, followed
 * by a space or the line's end; returns 1, else 0 with verb untouched.
 */
int	 smtp_verb(const char *p, size_t len, char *verb);

#endif
