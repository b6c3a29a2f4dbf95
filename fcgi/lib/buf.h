/*
 * buf: a growable byte buffer.
 *
 * data is NULL until the first append, then always NUL-terminated (the NUL
 * is not counted in len).  Every function returns 0 on success and -1 when
 * memory runs out or the size would overflow; on -1 the buffer is unchanged
 * and still valid.  A zeroed struct buf (BUF_INIT) is an empty buffer.
 */
#ifndef F2M_BUF_H
#define F2M_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

#define BUF_INIT { NULL, 0, 0 }

#if defined(__GNUC__)
#define F2M_WUR __attribute__((warn_unused_result))
#define F2M_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define F2M_WUR
#define F2M_PRINTF(f, a)
#endif

int	buf_reserve(struct buf *, size_t extra) F2M_WUR;
int	buf_add(struct buf *, const void *, size_t) F2M_WUR;
int	buf_adds(struct buf *, const char *) F2M_WUR;
int	buf_addc(struct buf *, int) F2M_WUR;
int	buf_printf(struct buf *, const char *, ...) F2M_PRINTF(2, 3) F2M_WUR;
int	buf_vprintf(struct buf *, const char *, va_list) F2M_PRINTF(2, 0) F2M_WUR;
/* Shortens the buffer to its first len octets (len <= its length), keeping
 * the NUL; an empty buffer (data NULL) stays as it is. */
void	buf_truncate(struct buf *, size_t len);
/* Empties the buffer, keeping its memory. */
void	buf_reset(struct buf *);
/* Frees the memory and leaves an empty buffer; NULL is accepted. */
void	buf_free(struct buf *);
/* Hands the data to the caller (free() it) and leaves an empty buffer.
 * Returns an empty string, not NULL, for an empty buffer (NULL on ENOMEM). */
char	*buf_steal(struct buf *);

#endif
