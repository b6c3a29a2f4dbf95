/*
 * fcgi_rec: the FastCGI records of one connection from the web server,
 * checked as they arrive (FastCGI 1.0, section 3: an 8-byte header of
 * version, type, request id, content and padding length, then content
 * and padding).  Untrusted data: fcgi_guard feeds every byte it takes
 * from the socket through here before libfcgi sees it.
 *
 * What passes is the one shape nginx and Apache send: BEGIN_REQUEST
 * (responder role), PARAMS records ending in an empty one, STDIN
 * records ending in an empty one, all with the request id of the
 * BEGIN_REQUEST; nothing after.  Refused, with the first error kept:
 * a version other than 1, a management record (request id 0: libfcgi's
 * FCGI_GET_VALUES answer overflows a stack buffer), a second
 * BEGIN_REQUEST, another request id, a record type out of order or
 * unknown, padding on BEGIN_REQUEST or on an empty record (libfcgi
 * skips none there: it reads the padding as the next header, so what
 * it saw would not be what was checked), a role other than responder, PARAMS content over
 * FREC_PARAMS_MAX in all, a name-value pair whose lengths run past
 * that limit or past the end of the PARAMS stream (libfcgi allocates a
 * pair's length before it reads it), any byte after the end.
 *
 * The state is a plain struct, no allocation; the input may come in
 * pieces of any size, split anywhere.
 */
#ifndef F2M_FCGI_REC_H
#define F2M_FCGI_REC_H

#include <stddef.h>
#include <stdint.h>

/* PARAMS content in all: nginx's default header limits (4 x 8 KiB) and
 * its fastcgi_params fit four times over. */
#define FREC_PARAMS_MAX		(128 * 1024)
/* Where the BEGIN_REQUEST flags byte (FCGI_KEEP_CONN) of a connection
 * that passes lies: the first record's header, role (2 bytes), flags. */
#define FREC_FLAGS_OFFSET	10
#define FREC_KEEP_CONN		1

enum frec_err {
	FREC_OK,
	FREC_EVERSION,		/* version is not 1 */
	FREC_EMGMT,		/* request id 0: a management record */
	FREC_EBEGIN,		/* BEGIN_REQUEST not first, not 8 bytes, a second one */
	FREC_EROLE,		/* a role other than responder */
	FREC_EID,		/* a request id other than the BEGIN_REQUEST's */
	FREC_EORDER,		/* a known type out of place (ABORT, DATA, STDIN early...) */
	FREC_ETYPE,		/* an unknown record type */
	FREC_EPARAMS,		/* PARAMS too large, or a pair cut or too long */
	FREC_EPAD,		/* padding on BEGIN_REQUEST or an empty record */
	FREC_ETRAIL		/* bytes after the empty STDIN record */
};

enum frec_phase {
	FREC_PH_BEGIN,		/* waiting for BEGIN_REQUEST */
	FREC_PH_PARAMS,		/* in the PARAMS stream */
	FREC_PH_STDIN,		/* PARAMS ended: the head is complete */
	FREC_PH_DONE		/* STDIN ended: the request is complete */
};

struct frec {
	enum frec_phase	 phase;
	enum frec_err	 err;		/* sticky: the first error */
	uint64_t	 offset;	/* bytes consumed */
	uint64_t	 records;	/* headers accepted */
	unsigned char	 hdr[8];	/* the header being read */
	unsigned	 hlen;
	unsigned	 type;		/* of the current record */
	unsigned	 id;		/* the BEGIN_REQUEST's request id */
	uint32_t	 content;	/* of the current record, still to come */
	uint32_t	 padding;
	unsigned char	 body[8];	/* the BEGIN_REQUEST body */
	unsigned	 blen;
	size_t		 params;	/* PARAMS content bytes so far */
	/* The name-value pair reader (section 3.4). */
	unsigned	 pstate;
	unsigned char	 plen[4];
	unsigned	 pn;
	uint32_t	 namelen;
	uint64_t	 pskip;		/* name and value bytes still to come */
};

void		 frec_init(struct frec *);
/*
 * Consumes n bytes of p.  Returns FREC_OK, or the first error (then and
 * from then on: the bytes after the offending header are not looked at).
 */
enum frec_err	 frec_feed(struct frec *, const unsigned char *p, size_t n);
/* A short English reason for the log ("management record (request id 0)"). */
const char	*frec_strerror(enum frec_err);

#endif
