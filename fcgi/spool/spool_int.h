/*
 * spool/ private: what spool.c, commit.c and envelope.c share.  Nothing
 * outside spool/ includes it; the contract is spool.h.
 */
#ifndef F2M_SPOOL_INT_H
#define F2M_SPOOL_INT_H

#include <stddef.h>
#include <sys/types.h>

#include "lib/buf.h"
#include "spool/spool.h"

#define SPOOL_MAX_FILE		(256L * 1024 * 1024)

/*
 * spool.c: opens dir/sub/name for reading without following a link or
 * waiting (O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC); a regular file only.  An
 * entry of any other kind (FIFO, link, directory, socket, device) is not
 * opened but moved aside (spool_aside) and reported as absent.  Returns
 * the descriptor, or -1 with errno (ENOENT: absent or moved aside).
 */
int	 spool_open_file(const char *dir, const char *sub, const char *name);
/* spool.c: renames dir/sub/name (not a spool file, of the given mode)
 * into dir/bad/ as <sub>.<name>.<kind>.<8 hex digits>; logged. */
void	 spool_aside(const char *dir, const char *sub, const char *name,
	    mode_t mode);

/* commit.c: fsyncs dir/sub; 0, or -1 with errno. */
int	 commit_fsync_dir(const char *dir, const char *sub);
/*
 * commit.c: writes the envelope of m and msg into tmp/<id><suffix>,
 * fsyncs it and renames it to <to>/<id>, then fsyncs <to> (queue/
 * through the shared group commit).  suffix "" is a first commit
 * (O_EXCL, link: never replaces a file); else a rewrite under the lock.
 * 0, or -1 with errno (EINVAL: m fails envelope_ok()).
 */
int	 commit_write(const char *dir, const struct spool_meta *m,
	    const char *msg, size_t len, const char *suffix, const char *to);

/* commit.c: spool_commit() without the reserve (spool_reserve_set): the
 * release of a held message is not a new post. */
int	 spool_commit_free(const char *dir, const struct spool_meta *m,
	    const char *msg, size_t len);

/* envelope.c: appends the envelope of m (magic, keys, empty line) to b;
 * 0, or -1 out of memory. */
int	 envelope_write(const struct spool_meta *m, struct buf *b);
/* envelope.c: whether the values of m may go into SMTP commands and
 * paths (id, form, addresses). */
int	 envelope_ok(const struct spool_meta *m);
/*
 * envelope.c: parses the envelope at the start of data (NUL-terminated,
 * len octets; modified) into m, whose rcpt the caller frees with
 * spool_meta_clear(), and sets *body to the offset of the message.
 * Returns 0, or -1 (malformed, or not envelope_ok()).
 */
int	 envelope_parse(const char *id, char *data, size_t len,
	    struct spool_meta *m, size_t *body);
/*
 * envelope.c: reads at most max octets of fd (a file of at most
 * SPOOL_MAX_FILE, else EFBIG) into *out, NUL-terminated, freed by the
 * caller.  0, or -1 with errno.
 */
int	 envelope_read_fd(int fd, size_t max, char **out, size_t *outlen);

#endif
