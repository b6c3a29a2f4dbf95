/*
 * request: one HTTP request arriving over FastCGI (untrusted data!): its
 * parameters and body, read within the limits of the config, the
 * submission pipeline (form -> validate -> tmpl -> message -> spool), and
 * the answer of DESIGN.md "HTTP answers".
 */
#ifndef F2M_REQUEST_H
#define F2M_REQUEST_H

#include <fcgiapp.h>

struct conf;

/* Longest request path considered; longer ones are answered 414. */
#define REQUEST_MAX_URI		4096

/*
 * Handles one request accepted by FCGX_Accept_r() and writes its answer.
 * Never exits and never answers "accepted" before the message is durable
 * in the spool.  Logs one line per request: id, form, outcome, status,
 * milliseconds.
 */
void	 request_handle(const struct conf *, FCGX_Request *);

#endif
