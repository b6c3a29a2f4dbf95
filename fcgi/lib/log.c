/* log: stderr or syslog lines; see log.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

static const char	*log_ident = "form2mail";
static const char	*log_rolename = "main";
static int		 log_syslog;

void
log_init(const char *ident, int use_syslog)
{
	log_ident = ident;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_role(const char *role)
{
	log_rolename = role;
}

static const char *
log_level(int prio)
{
	switch (prio) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_DEBUG:
		return "debug";
	default:
		return "info";
	}
}

void
log_msg(int prio, const char *fmt, ...)
{
	char		 line[2048], ts[32];
	va_list		 ap;
	struct timespec	 now;
	struct tm	 tm;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_syslog) {
		syslog(prio, "%s: %s", log_rolename, line);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	/* One fprintf per line keeps lines of several processes whole. */
	fprintf(stderr, "%s.%03ldZ %s[%ld] %s %s: %s\n", ts,
	    now.tv_nsec / 1000000, log_ident, (long)getpid(), log_rolename,
	    log_level(prio), line);
}

static int
log_plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '\\' && c != '"';
}

const char *
log_escape(char *dst, size_t dstsize, const char *src, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i, o = 0, need = 0, room;
	unsigned char		 c;

	if (dstsize == 0)
		return dst;
	if (src == NULL) {
		snprintf(dst, dstsize, "-");
		return dst;
	}
	for (i = 0; i < len; i++)
		need += log_plain((unsigned char)src[i]) ? 1 : 4;
	/* Cut only between whole units, and say so with "...". */
	room = need < dstsize ? need : (dstsize >= 4 ? dstsize - 4 : 0);
	for (i = 0; i < len; i++) {
		c = (unsigned char)src[i];
		if (log_plain(c)) {
			if (o + 1 > room)
				break;
			dst[o++] = (char)c;
		} else {
			if (o + 4 > room)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	if (need >= dstsize && dstsize >= 4) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
	return dst;
}
