/*
 * fuzz_fcgi_records: svc/fcgi_rec.c (the record checker fcgi_guard runs
 * on every byte from the FastCGI socket) on arbitrary octets.  Octet 0
 * chooses how the rest is cut into pieces; the rest is the stream.
 * Invariants (abort() on violation):
 *  - the verdict (error, phase, bytes consumed) does not depend on how
 *    the stream is cut;
 *  - it equals an independent reading of the whole buffer at once
 *    (fz_ref below: the rules of fcgi_rec.h, record by record, the
 *    PARAMS pairs checked on the concatenated content);
 *  - PARAMS content never passes FREC_PARAMS_MAX, and a head that
 *    passed (phase STDIN or DONE) ends on a pair boundary.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc/fcgi_rec.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static unsigned char	 fz_params[FREC_PARAMS_MAX + 8];

/* The pairs of params[0..len) so far: EPARAMS when a complete pair
 * header asks for more than the limit leaves; *boundary when len ends
 * exactly after a pair. */
static enum frec_err
fz_pairs(size_t len, int *boundary)
{
	size_t		 q = 0, k;
	uint64_t	 l[2];

	*boundary = 1;
	while (q < len) {
		*boundary = 0;
		for (k = 0; k < 2; k++) {
			if (q >= len)
				return FREC_OK;
			if (fz_params[q] & 0x80) {
				if (len - q < 4)
					return FREC_OK;
				l[k] = (uint64_t)(fz_params[q] & 0x7f) << 24 |
				    (uint64_t)fz_params[q + 1] << 16 |
				    (uint64_t)fz_params[q + 2] << 8 |
				    fz_params[q + 3];
				q += 4;
			} else
				l[k] = fz_params[q++];
		}
		if (l[0] + l[1] > (uint64_t)FREC_PARAMS_MAX - q)
			return FREC_EPARAMS;
		if (l[0] + l[1] > len - q)
			return FREC_OK;
		q += l[0] + l[1];
		*boundary = 1;
	}
	return FREC_OK;
}

static enum frec_err
fz_header(const uint8_t *h, enum frec_phase ph, unsigned *rid, size_t plen,
    int boundary)
{
	unsigned	 type = h[1], id = (unsigned)h[2] << 8 | h[3];
	unsigned	 clen = (unsigned)h[4] << 8 | h[5], pad = h[6];

	if (h[0] != 1)
		return FREC_EVERSION;
	if (type == 0 || type > 11)
		return FREC_ETYPE;
	if (id == 0)
		return FREC_EMGMT;
	if (pad > 0 && (clen == 0 || type == 1))
		return FREC_EPAD;
	if (type == 1) {
		if (ph != FREC_PH_BEGIN || clen != 8)
			return FREC_EBEGIN;
		*rid = id;
		return FREC_OK;
	}
	if (ph == FREC_PH_BEGIN)
		return FREC_EBEGIN;
	if (id != *rid)
		return FREC_EID;
	if (type == 4 && ph == FREC_PH_PARAMS) {
		if (clen > FREC_PARAMS_MAX - plen)
			return FREC_EPARAMS;
		return clen == 0 && !boundary ? FREC_EPARAMS : FREC_OK;
	}
	if (type == 5 && ph == FREC_PH_STDIN)
		return FREC_OK;
	return FREC_EORDER;
}

/* The whole buffer at once. */
static enum frec_err
fz_ref(const uint8_t *p, size_t n, enum frec_phase *phase)
{
	enum frec_phase	 ph = FREC_PH_BEGIN;
	enum frec_err	 e;
	size_t		 off = 0, plen = 0, have, clen;
	unsigned	 rid = 0;
	int		 boundary = 1;

	for (;;) {
		*phase = ph;
		if (off == n)
			return FREC_OK;
		if (ph == FREC_PH_DONE)
			return FREC_ETRAIL;
		if (n - off < 8)
			return FREC_OK;
		if ((e = fz_header(p + off, ph, &rid, plen, boundary)) !=
		    FREC_OK)
			return e;
		clen = (size_t)p[off + 4] << 8 | p[off + 5];
		have = n - off - 8 < clen ? n - off - 8 : clen;
		if (p[off + 1] == 4 && clen == 0)
			ph = FREC_PH_STDIN;
		else if (p[off + 1] == 5 && clen == 0)
			ph = FREC_PH_DONE;
		else if (p[off + 1] == 4) {
			memcpy(fz_params + plen, p + off + 8, have);
			plen += have;
			if ((e = fz_pairs(plen, &boundary)) != FREC_OK)
				return e;
		} else if (p[off + 1] == 1 && have == 8) {
			if (((unsigned)p[off + 8] << 8 | p[off + 9]) != 1)
				return FREC_EROLE;
			ph = FREC_PH_PARAMS;
		}
		off += 8 + clen + p[off + 6];
		if (off > n) {
			*phase = ph;
			return FREC_OK;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frec	 a, b;
	enum frec_phase	 rph;
	enum frec_err	 re;
	size_t		 i, k, step;

	if (size < 1)
		return 0;
	step = data[0];
	data++;
	size--;
	frec_init(&a);
	(void)frec_feed(&a, data, size);
	frec_init(&b);
	for (i = 0; i < size && b.err == FREC_OK; i += k) {
		k = step == 0 ? 1 : (step + i) % 97 + 1;
		if (k > size - i)
			k = size - i;
		(void)frec_feed(&b, data + i, k);
	}
	if (a.err != b.err || a.phase != b.phase || a.offset != b.offset) {
		fprintf(stderr, "pieces: %s/%d/%llu whole: %s/%d/%llu\n",
		    frec_strerror(b.err), b.phase, (unsigned long long)b.offset,
		    frec_strerror(a.err), a.phase,
		    (unsigned long long)a.offset);
		abort();
	}
	re = fz_ref(data, size, &rph);
	if (re != a.err || (re == FREC_OK && rph != a.phase)) {
		fprintf(stderr, "reference: %s/%d checker: %s/%d\n",
		    frec_strerror(re), rph, frec_strerror(a.err), a.phase);
		abort();
	}
	if (a.params > FREC_PARAMS_MAX)
		abort();
	if (a.err == FREC_OK && a.phase >= FREC_PH_STDIN && a.pstate != 0)
		abort();
	return 0;
}
