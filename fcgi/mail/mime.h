/*
 * mime.h: what message.c and mime.c share (private to mail/): the header
 * writer of message.c, which mime.c uses for the parameters of an
 * attachment, and the body parts mime.c writes for message_build().
 */
#ifndef F2M_MIME_H
#define F2M_MIME_H

#include <stddef.h>

#include "lib/buf.h"
#include "mail/message.h"

#define MESSAGE_HDR_SOFT	78	/* RFC 5322 section 2.1.1 SHOULD */
#define MESSAGE_HDR_HARD	998	/* RFC 5322 section 2.1.1 MUST */

/* The header being written: the buffer and where the current line stands. */
struct message_hdr {
	struct buf	*b;
	size_t		 col;	/* octets on the current line */
	size_t		 max;	/* longest line written so far */
	int		 ew;	/* an encoded word is on the current line */
	int		 ew1;	/* one is on the first line */
	int		 folded;	/* the current line is not the first */
};

/* ---- message.c: the header writer ---------------------------------- */

/* A header field starting at column col of a line of b. */
void	 message_hdr_start(struct message_hdr *, struct buf *b, size_t col);
/* Appends s[0..len), which holds no CR or LF, to the current line; 0 or
 * -1 (ENOMEM). */
int	 message_hdr_put(struct message_hdr *, const char *s, size_t len)
	    F2M_WUR;
int	 message_hdr_puts(struct message_hdr *, const char *s) F2M_WUR;
/* Ends the current line with a fold (CRLF SP); 0 or -1 (ENOMEM). */
int	 message_hdr_fold(struct message_hdr *) F2M_WUR;
/*
 * 1 when s[0..len) is printable ASCII that no RFC 2047 decoder would take
 * for an encoded word (no "=?"), so it may stand as it is.
 */
int	 message_plain_ascii(const char *s, size_t len);

/* ---- mime.c: the body ----------------------------------------------- */

/*
 * 1 when the attachments of m can be written: at most
 * MESSAGE_MAX_ATTACHMENTS, each with a checked filename (UTF-8, no
 * controls, bidi formatting, '/' or '\', not "." or "..") and a
 * type/subtype that is not multipart or message.
 */
int	 mime_attachments_ok(const struct message *m);
/*
 * Appends the body of m to b: its Content-Type and Content-Transfer-
 * Encoding fields, an empty line and the parts (text/plain, with html a
 * multipart/alternative, with attachments a multipart/mixed around them).
 * 0 or -1 (ENOMEM).
 */
int	 mime_body_put(struct buf *b, const struct message *m) F2M_WUR;
/*
 * 1 when s[0..len) may go on the wire as it is: 7-bit, CRLF line ends
 * only, no NUL, no line over MESSAGE_HDR_HARD octets (RFC 5322 section
 * 2.1.1, RFC 2045 section 2.7).
 */
int	 mime_wire_ok(const char *s, size_t len);

#endif
