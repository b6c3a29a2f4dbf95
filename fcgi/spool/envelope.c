/*
 * spool envelope: the head of a spool file (its format is in spool.h):
 * writing it, parsing it, and checking its values again when they are
 * read back, since they end up in SMTP commands and paths.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "spool/spool.h"
#include "spool/spool_int.h"

#define SPOOL_MAGIC		"form2mail-spool 1\n"

int
envelope_write(const struct spool_meta *m, struct buf *b)
{
	char	 esc[sizeof(m->error) * 4];
	size_t	 i;

	if (buf_printf(b, "%sform %s\ncreated %lld\nattempts %u\nnext_try "
	    "%lld\nfrom %s\n", SPOOL_MAGIC, m->form, (long long)m->created,
	    m->attempts, (long long)m->next_try, m->from) == -1)
		return -1;
	for (i = 0; i < m->nrcpt; i++)
		if (buf_printf(b, "rcpt %s\n", m->rcpt[i]) == -1)
			return -1;
	if (m->error[0] != '\0') {
		log_escape(esc, sizeof(esc), m->error, strlen(m->error));
		if (buf_printf(b, "error %s\n", esc) == -1)
			return -1;
	}
	return buf_addc(b, '\n');
}

/* Envelope values end up in SMTP commands and paths: check them again. */
int
envelope_ok(const struct spool_meta *m)
{
	size_t	 i;

	if (!spool_id_valid(m->id) || m->form[0] == '\0' ||
	    strpbrk(m->form, " \r\n/") != NULL || m->nrcpt == 0 ||
	    !addr_spec_ok(m->from, strlen(m->from)))
		return 0;
	for (i = 0; i < m->nrcpt; i++)
		if (m->rcpt[i] == NULL ||
		    !addr_spec_ok(m->rcpt[i], strlen(m->rcpt[i])))
			return 0;
	return 1;
}

static long long
spool_num(const char *s)
{
	char		*end;
	long long	 n;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || *end != '\0' || end == s || n < 0)
		return -1;
	return n;
}

static int
spool_copy(char *dst, size_t size, const char *src)
{
	if (strlen(src) >= size)
		return -1;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

/*
 * Parses the envelope at the start of data.  Sets *body to the offset of
 * the message.  Returns 0 or -1 (malformed).
 */
int
envelope_parse(const char *id, char *data, size_t len, struct spool_meta *m,
    size_t *body)
{
	char		*p = data, *end = data + len, *nl, *val;
	long long	 n;
	size_t		 ml = strlen(SPOOL_MAGIC);

	memset(m, 0, sizeof(*m));
	if (spool_copy(m->id, sizeof(m->id), id) == -1)
		return -1;
	if (len < ml || memcmp(data, SPOOL_MAGIC, ml) != 0)
		return -1;
	p += ml;
	for (;;) {
		if (p >= end || (nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return -1;
		if (nl == p)
			break;
		*nl = '\0';
		if (memchr(p, '\0', (size_t)(nl - p)) != NULL ||
		    (val = strchr(p, ' ')) == NULL)
			return -1;
		*val++ = '\0';
		if (strcmp(p, "form") == 0) {
			if (spool_copy(m->form, sizeof(m->form), val) == -1)
				return -1;
		} else if (strcmp(p, "from") == 0) {
			if (spool_copy(m->from, sizeof(m->from), val) == -1)
				return -1;
		} else if (strcmp(p, "error") == 0) {
			if (spool_copy(m->error, sizeof(m->error), val) == -1)
				m->error[0] = '\0';
		} else if (strcmp(p, "rcpt") == 0) {
			if (m->nrcpt == SPOOL_MAX_RCPT ||
			    (m->rcpt[m->nrcpt] = strdup(val)) == NULL)
				return -1;
			m->nrcpt++;
		} else {
			if ((n = spool_num(val)) < 0)
				return -1;
			if (strcmp(p, "created") == 0)
				m->created = (time_t)n;
			else if (strcmp(p, "attempts") == 0)
				m->attempts = (unsigned)(n > 100000 ? 100000 : n);
			else if (strcmp(p, "next_try") == 0)
				m->next_try = (time_t)n;
			else
				return -1;
		}
		p = nl + 1;
	}
	*body = (size_t)(p + 1 - data);
	return envelope_ok(m) ? 0 : -1;
}

int
envelope_read_fd(int fd, size_t max, char **out, size_t *outlen)
{
	struct stat	 st;
	char		*data;
	size_t		 want, got = 0;
	ssize_t		 n;

	if (fstat(fd, &st) == -1)
		return -1;
	if (st.st_size > SPOOL_MAX_FILE) {
		errno = EFBIG;
		return -1;
	}
	want = (size_t)st.st_size < max ? (size_t)st.st_size : max;
	if ((data = malloc(want + 1)) == NULL)
		return -1;
	while (got < want) {
		n = pread(fd, data + got, want - got, (off_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(data);
			errno = n == 0 ? EIO : errno;
			return -1;
		}
		got += (size_t)n;
	}
	data[got] = '\0';
	*out = data;
	*outlen = got;
	return 0;
}
