/*
 * fcgi_rec: the FastCGI record checker; see fcgi_rec.h.
 */
#include <string.h>

#include "svc/fcgi_rec.h"

/* FastCGI 1.0, section 8. */
#define FREC_T_BEGIN		1
#define FREC_T_PARAMS		4
#define FREC_T_STDIN		5
#define FREC_T_MAX		11	/* FCGI_UNKNOWN_TYPE */
#define FREC_ROLE_RESPONDER	1

/* The pair reader's states. */
enum { FREC_P_NAME, FREC_P_NAME4, FREC_P_VALUE, FREC_P_VALUE4, FREC_P_SKIP };

void
frec_init(struct frec *st)
{
	memset(st, 0, sizeof(*st));
	st->phase = FREC_PH_BEGIN;
	st->err = FREC_OK;
	st->pstate = FREC_P_NAME;
}

const char *
frec_strerror(enum frec_err e)
{
	switch (e) {
	case FREC_OK:
		return "ok";
	case FREC_EVERSION:
		return "FastCGI version is not 1";
	case FREC_EMGMT:
		return "management record (request id 0, e.g. FCGI_GET_VALUES)";
	case FREC_EBEGIN:
		return "BEGIN_REQUEST missing, malformed or repeated";
	case FREC_EROLE:
		return "role is not responder";
	case FREC_EID:
		return "record for another request id";
	case FREC_EORDER:
		return "record type out of order";
	case FREC_ETYPE:
		return "unknown record type";
	case FREC_EPARAMS:
		return "PARAMS too large or a name-value pair malformed";
	case FREC_EPAD:
		return "padding on BEGIN_REQUEST or an empty record";
	case FREC_ETRAIL:
		return "bytes after the end of the request";
	}
	return "unknown error";
}

/* A pair length byte (or the 4th byte of a long one) is in: where next. */
static enum frec_err
frec_pair_len(struct frec *st, uint32_t len, int value)
{
	uint64_t	 room = FREC_PARAMS_MAX - st->params;

	if (!value) {
		st->namelen = len;
		st->pstate = FREC_P_VALUE;
		return FREC_OK;
	}
	st->pskip = (uint64_t)st->namelen + len;
	if (st->pskip > room)
		return FREC_EPARAMS;
	st->pstate = st->pskip > 0 ? FREC_P_SKIP : FREC_P_NAME;
	return FREC_OK;
}

/* One byte of PARAMS content through the pair reader (section 3.4). */
static enum frec_err
frec_pair_byte(struct frec *st, unsigned char c)
{
	uint32_t	 len;

	switch (st->pstate) {
	case FREC_P_NAME:
	case FREC_P_VALUE:
		if (c & 0x80) {
			st->plen[0] = c & 0x7f;
			st->pn = 1;
			st->pstate++;
			return FREC_OK;
		}
		return frec_pair_len(st, c, st->pstate == FREC_P_VALUE);
	case FREC_P_NAME4:
	case FREC_P_VALUE4:
		st->plen[st->pn++] = c;
		if (st->pn < 4)
			return FREC_OK;
		len = (uint32_t)st->plen[0] << 24 | (uint32_t)st->plen[1] << 16 |
		    (uint32_t)st->plen[2] << 8 | st->plen[3];
		return frec_pair_len(st, len, st->pstate == FREC_P_VALUE4);
	default:
		if (--st->pskip == 0)
			st->pstate = FREC_P_NAME;
		return FREC_OK;
	}
}

/* The 8 header bytes are in: check the record against the phase. */
static enum frec_err
frec_header(struct frec *st)
{
	const unsigned char	*h = st->hdr;
	unsigned		 id = (unsigned)h[2] << 8 | h[3];

	st->type = h[1];
	st->content = (uint32_t)h[4] << 8 | h[5];
	st->padding = h[6];
	if (h[0] != 1)
		return FREC_EVERSION;
	if (st->type == 0 || st->type > FREC_T_MAX)
		return FREC_ETYPE;
	if (id == 0)
		return FREC_EMGMT;
	if (st->padding > 0 && (st->content == 0 || st->type == FREC_T_BEGIN))
		return FREC_EPAD;
	if (st->type == FREC_T_BEGIN) {
		if (st->phase != FREC_PH_BEGIN || st->content != 8)
			return FREC_EBEGIN;
		st->id = id;
		return FREC_OK;
	}
	if (st->phase == FREC_PH_BEGIN)
		return FREC_EBEGIN;
	if (id != st->id)
		return FREC_EID;
	if (st->type == FREC_T_PARAMS && st->phase == FREC_PH_PARAMS) {
		if (st->content > FREC_PARAMS_MAX - st->params)
			return FREC_EPARAMS;
		if (st->content == 0) {
			if (st->pstate != FREC_P_NAME)
				return FREC_EPARAMS;
			st->phase = FREC_PH_STDIN;
		}
		return FREC_OK;
	}
	if (st->type == FREC_T_STDIN && st->phase == FREC_PH_STDIN) {
		if (st->content == 0)
			st->phase = FREC_PH_DONE;
		return FREC_OK;
	}
	return FREC_EORDER;
}

/* One content byte of the current record. */
static enum frec_err
frec_content(struct frec *st, unsigned char c)
{
	if (st->type == FREC_T_BEGIN) {
		st->body[st->blen++] = c;
		if (st->blen < sizeof(st->body))
			return FREC_OK;
		if (((unsigned)st->body[0] << 8 | st->body[1]) !=
		    FREC_ROLE_RESPONDER)
			return FREC_EROLE;
		st->phase = FREC_PH_PARAMS;
		return FREC_OK;
	}
	if (st->type == FREC_T_PARAMS) {
		st->params++;
		return frec_pair_byte(st, c);
	}
	return FREC_OK;
}

enum frec_err
frec_feed(struct frec *st, const unsigned char *p, size_t n)
{
	size_t	 i, k;

	for (i = 0; i < n && st->err == FREC_OK; ) {
		if (st->content > 0) {
			if (st->type == FREC_T_STDIN) {
				/* The body: skipped in one step. */
				k = n - i < st->content ? n - i : st->content;
				st->content -= (uint32_t)k;
				i += k;
				continue;
			}
			st->content--;
			st->err = frec_content(st, p[i++]);
		} else if (st->padding > 0) {
			k = n - i < st->padding ? n - i : st->padding;
			st->padding -= (uint32_t)k;
			i += k;
		} else if (st->phase == FREC_PH_DONE) {
			st->err = FREC_ETRAIL;
		} else {
			st->hdr[st->hlen++] = p[i++];
			if (st->hlen == sizeof(st->hdr)) {
				st->hlen = 0;
				if ((st->err = frec_header(st)) == FREC_OK)
					st->records++;
			}
		}
	}
	st->offset += i;
	return st->err;
}
