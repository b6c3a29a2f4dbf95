/*
 * log: one line per event, to stderr (default) or syslog.
 *
 * Untrusted strings (anything a visitor or a peer sent) must pass through
 * log_escape() before they reach a format argument.
 */
#ifndef F2M_LOG_H
#define F2M_LOG_H

#include <stddef.h>
#include <syslog.h>

#include "lib/buf.h"

/* ident: program name shown on each line; use_syslog: 0 stderr, 1 syslog. */
void	 log_init(const char *ident, int use_syslog);
/* Sets the role shown after the ident ("master", "worker", "deliverer"). */
void	 log_role(const char *role);
/* prio is a syslog priority (LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG). */
void	 log_msg(int prio, const char *fmt, ...) F2M_PRINTF(2, 3);

#define log_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

/*
 * Makes len bytes of untrusted data safe for one log line: printable ASCII
 * except backslash and '"' passes, everything else becomes \xHH.  Writes at
 * most dstsize bytes including the NUL; a cut value ends in "...".
 * Returns dst.  src may be NULL (written as "-").
 */
const char *log_escape(char *dst, size_t dstsize, const char *src, size_t len);

#endif
