/*
 * throttle_shm_ops: the shared-memory backend's operations (throttle.h,
 * throttle_backend.h) on the table of throttle_shm.c: keys as stored
 * (SipHash-2-4 digests and hashes), find and claim in a probe window,
 * GCRA check, once, forget and the sliced window.  The front has checked
 * every argument but the clock.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "throttle/throttle_backend.h"

/*
 * SipHash-2-4 (Aumasson, Bernstein), 64- or 128-bit output, after the
 * reference implementation.
 */
#define SIP_ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIP_ROUND do {							\
	v0 += v1; v1 = SIP_ROTL(v1, 13); v1 ^= v0; v0 = SIP_ROTL(v0, 32); \
	v2 += v3; v3 = SIP_ROTL(v3, 16); v3 ^= v2;			\
	v0 += v3; v3 = SIP_ROTL(v3, 21); v3 ^= v0;			\
	v2 += v1; v1 = SIP_ROTL(v1, 17); v1 ^= v2; v2 = SIP_ROTL(v2, 32); \
} while (0)

static uint64_t
sip_le64(const uint8_t *p)
{
	uint64_t	 v = 0;
	int		 i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void
sip_put64(uint8_t *p, uint64_t v)
{
	int	 i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
siphash(const uint8_t k[16], const unsigned char *in, size_t len,
    uint8_t *out, size_t outlen)
{
	uint64_t	 k0 = sip_le64(k), k1 = sip_le64(k + 8);
	uint64_t	 v0 = 0x736f6d6570736575ULL ^ k0;
	uint64_t	 v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t	 v2 = 0x6c7967656e657261ULL ^ k0;
	uint64_t	 v3 = 0x7465646279746573ULL ^ k1;
	uint64_t	 m, b = (uint64_t)len << 56;
	size_t		 i, left = len & 7;

	if (outlen == 16)
		v1 ^= 0xee;
	for (i = 0; i + 8 <= len; i += 8) {
		m = sip_le64(in + i);
		v3 ^= m;
		SIP_ROUND;
		SIP_ROUND;
		v0 ^= m;
	}
	while (left > 0) {
		left--;
		b |= (uint64_t)in[i + left] << (8 * left);
	}
	v3 ^= b;
	SIP_ROUND;
	SIP_ROUND;
	v0 ^= b;
	v2 ^= outlen == 16 ? 0xee : 0xff;
	SIP_ROUND;
	SIP_ROUND;
	SIP_ROUND;
	SIP_ROUND;
	sip_put64(out, v0 ^ v1 ^ v2 ^ v3);
	if (outlen != 16)
		return;
	v1 ^= 0xdd;
	SIP_ROUND;
	SIP_ROUND;
	SIP_ROUND;
	SIP_ROUND;
	sip_put64(out + 8, v0 ^ v1 ^ v2 ^ v3);
}


int
throttle_shm_prepare(struct throttle_shm *t, int kind, const char *key,
    struct throttle_pkey *pk)
{
	unsigned char	 in[3 + THROTTLE_KEY_MAX];
	uint8_t		 h[8];
	size_t		 len;

	if ((len = throttle_key_len(key)) == 0)
		return -1;
	memset(pk, 0, sizeof(*pk));
	pk->kind = (uint8_t)kind;
	if (len <= THROTTLE_KEY_MAX) {
		pk->len = (uint8_t)len;
		memcpy(pk->key, key, len);
	} else {
		pk->digest = 1;
		pk->len = THROTTLE_DIGEST_LEN;
		siphash(t->sipkey, (const unsigned char *)key, len,
		    pk->key, THROTTLE_DIGEST_LEN);
	}
	in[0] = pk->kind;
	in[1] = pk->digest;
	in[2] = pk->len;
	memcpy(in + 3, pk->key, pk->len);
	siphash(t->sipkey, in, 3 + (size_t)pk->len, h, sizeof(h));
	pk->hash = sip_le64(h);
	throttle_shm_prefault(t, pk->hash);
	return 0;
}

int
throttle_shm_pkey_eq(const struct throttle_pkey *a, const struct throttle_pkey *b)
{
	return a->kind == b->kind && a->digest == b->digest &&
	    a->len == b->len && memcmp(a->key, b->key, a->len) == 0;
}


int
throttle_shm_same(const struct throttle_slot *s, const struct throttle_pkey *pk)
{
	return s->hash == pk->hash && s->kind == pk->kind &&
	    s->digest == pk->digest && s->keylen == pk->len &&
	    throttle_shm_wellformed(s) && memcmp(s->key, pk->key, pk->len) == 0;
}

static int
match(const struct throttle_slot *s, const struct throttle_pkey *pk,
    int64_t now)
{
	return throttle_shm_same(s, pk) && throttle_shm_live(s, now);
}

static int
taken_by(size_t i, const size_t *taken, size_t ntaken)
{
	size_t	 j;

	for (j = 0; j < ntaken; j++)
		if (taken[j] == i)
			return 1;
	return 0;
}

/*
 * Looks at the THROTTLE_PROBE slots after the key's home slot.  Returns
 * 1 and the live entry's index, or 0 and the index of the slot to take:
 * the first one not live, else the live rate or once entry expiring
 * first, else SIZE_MAX (every candidate is a live window entry, which is
 * never evicted: evicting it would forget admissions and break the cap;
 * or the table keeps what it holds, throttle_open_store(), and no
 * candidate is free); slots in `taken` (used by this call already) are
 * never chosen.
 */
int
throttle_shm_find(const struct throttle_shm *t, const struct throttle_pkey *pk,
    int64_t now, const size_t *taken, size_t ntaken, size_t *idx)
{
	const struct throttle_slot	*s;
	size_t				 i, k, home, freei = SIZE_MAX;
	size_t				 oldi = SIZE_MAX;
	int64_t				 oldest = INT64_MAX;

	home = (size_t)(pk->hash % t->nslots);
	for (k = 0; k < THROTTLE_PROBE; k++) {
		i = (home + k) % t->nslots;
		s = &t->slots[i];
		if (match(s, pk, now)) {
			*idx = i;
			return 1;
		}
		if (taken_by(i, taken, ntaken))
			continue;
		if (!throttle_shm_live(s, now)) {
			if (freei == SIZE_MAX)
				freei = i;
		} else if (s->kind != KIND_WINDOW && !t->keep &&
		    (s->expires < oldest || oldi == SIZE_MAX)) {
			oldest = s->expires;
			oldi = i;
		}
	}
	*idx = freei != SIZE_MAX ? freei : oldi;
	return 0;
}

/* Writes a new entry's identity into slot i; the caller fills the rest
 * and then sets kind, so that a writer killed midway leaves a free slot. */
struct throttle_slot *
throttle_shm_claim(struct throttle_shm *t, size_t i, const struct throttle_pkey *pk,
    int64_t now)
{
	struct throttle_slot	*s = &t->slots[i];

	if (throttle_shm_live(s, now))
		t->hdr->evictions++;
	s->kind = KIND_FREE;
	atomic_signal_fence(memory_order_seq_cst);
	s->hash = pk->hash;
	s->digest = pk->digest;
	s->keylen = pk->len;
	s->vallen = 0;
	memcpy(s->key, pk->key, pk->len);
	return s;
}

/* Stored keys, intervals and burst bounds of the keys with a rate: their
 * number, or -1 for a bad or duplicate key. */
static int
check_prepare(struct throttle_shm *t, const struct throttle_key *keys,
    size_t nkeys, struct throttle_pkey *pk, int64_t *per, int64_t *iv)
{
	size_t	 i, j, n = 0;

	for (i = 0; i < nkeys; i++) {
		if (keys[i].rate.count == 0)
			continue;
		if (throttle_shm_prepare(t, KIND_RATE, keys[i].key,
		    &pk[n]) == -1)
			return -1;
		for (j = 0; j < n; j++)
			if (throttle_shm_pkey_eq(&pk[j], &pk[n]))
				return -1;
		/* The interval rounded up (never more than N per PERIOD),
		 * and the burst bound N * interval, not PERIOD, so that the
		 * rounding cannot cost the N-th request of a burst. */
		per[n] = (int64_t)keys[i].rate.period * THROTTLE_NS;
		iv[n] = (per[n] + keys[i].rate.count - 1) / keys[i].rate.count;
		per[n] = iv[n] * keys[i].rate.count;
		n++;
	}
	return (int)n;
}

/* A slot for every key not found.  A new key never takes a slot found or
 * placed by this call: idx[] lists those, SIZE_MAX for the keys still to
 * place.  Every key is placed before any is written, so a key that finds
 * no slot charges none.  0, or -1 (ENOSPC). */
static int
check_place(struct throttle_shm *t, const struct throttle_pkey *pk,
    size_t n, int64_t now, const int *found, size_t *idx)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (!found[i])
			idx[i] = SIZE_MAX;
	for (i = 0; i < n; i++) {
		if (found[i])
			continue;
		(void)throttle_shm_find(t, &pk[i], now, idx, n, &idx[i]);
		if (idx[i] == SIZE_MAX) {
			errno = ENOSPC;
			return -1;
		}
	}
	return 0;
}

enum throttle_result
throttle_shm_check(void *be, const struct throttle_key *keys, size_t nkeys,
    int64_t now_us, long *retry_after)
{
	struct throttle_shm	*t = be;
	struct throttle_pkey	 pk[THROTTLE_MAX_KEYS];
	int64_t			 per[THROTTLE_MAX_KEYS], iv[THROTTLE_MAX_KEYS];
	int64_t			 ntat[THROTTLE_MAX_KEYS], now, tat, wait = 0;
	size_t			 idx[THROTTLE_MAX_KEYS], i, n;
	int			 found[THROTTLE_MAX_KEYS], rc;
	struct throttle_slot	*s;
	enum throttle_result	 res = THROTTLE_OK;

	if (!throttle_now_ok(now_us) ||
	    (rc = check_prepare(t, keys, nkeys, pk, per, iv)) == -1) {
		errno = EINVAL;
		return THROTTLE_ERROR;
	}
	if ((n = (size_t)rc) == 0)
		return THROTTLE_OK;
	now = now_us * 1000;
	if (throttle_shm_lock(t) == -1)
		return THROTTLE_ERROR;
	for (i = 0; i < n; i++) {
		found[i] = throttle_shm_find(t, &pk[i], now, NULL, 0, &idx[i]);
		tat = found[i] ? t->slots[idx[i]].u.tat : now;
		if (tat < now)
			tat = now;
		if (tat - now > per[i])
			tat = now + per[i];
		ntat[i] = tat + iv[i];
		if (ntat[i] - now > per[i]) {
			res = THROTTLE_LIMITED;
			if (ntat[i] - now - per[i] > wait)
				wait = ntat[i] - now - per[i];
		}
	}
	if (res == THROTTLE_OK && check_place(t, pk, n, now, found, idx) == -1)
		res = THROTTLE_ERROR;
	for (i = 0; res == THROTTLE_OK && i < n; i++) {
		if (!found[i])
			s = throttle_shm_claim(t, idx[i], &pk[i], now);
		else
			s = &t->slots[idx[i]];
		s->u.tat = ntat[i];
		s->expires = ntat[i];
		atomic_signal_fence(memory_order_seq_cst);
		s->kind = KIND_RATE;
	}
	throttle_shm_unlock(t);
	if (res == THROTTLE_LIMITED && retry_after != NULL) {
		wait = (wait + THROTTLE_NS - 1) / THROTTLE_NS;
		*retry_after = wait < 1 ? 1 : (long)wait;
	}
	return res;
}

int
throttle_shm_once(void *be, const char *key, const char *value, size_t vlen,
    int64_t expires_us, int64_t now_us, char *value_out)
{
	struct throttle_shm	*t = be;
	struct throttle_pkey	 pk;
	struct throttle_slot	*s;
	size_t			 i;
	int			 rc;

	if (throttle_shm_prepare(t, KIND_ONCE, key, &pk) == -1) {
		errno = EINVAL;
		return -1;
	}
	if (throttle_shm_lock(t) == -1)
		return -1;
	if (throttle_shm_find(t, &pk, now_us * 1000, NULL, 0, &i)) {
		s = &t->slots[i];
		if (value_out != NULL) {
			memcpy(value_out, s->u.value, s->vallen);
			value_out[s->vallen] = '\0';
		}
		rc = 0;
	} else if (i == SIZE_MAX) {
		errno = ENOSPC;
		rc = -1;
	} else {
		s = throttle_shm_claim(t, i, &pk, now_us * 1000);
		memcpy(s->u.value, value, vlen);
		s->vallen = (uint8_t)vlen;
		s->expires = expires_us * 1000;
		atomic_signal_fence(memory_order_seq_cst);
		s->kind = KIND_ONCE;
		rc = 1;
	}
	throttle_shm_unlock(t);
	return rc;
}

int
throttle_shm_forget(void *be, const char *key)
{
	struct throttle_shm	*t = be;
	struct throttle_pkey	 pk;
	struct throttle_slot	*s;
	size_t			 home, k;
	int			 rc = 0;

	if (throttle_shm_prepare(t, KIND_ONCE, key, &pk) == -1) {
		errno = EINVAL;
		return -1;
	}
	if (throttle_shm_lock(t) == -1)
		return -1;
	home = (size_t)(pk.hash % t->nslots);
	for (k = 0; k < THROTTLE_PROBE; k++) {
		s = &t->slots[(home + k) % t->nslots];
		if (throttle_shm_same(s, &pk)) {
			s->kind = KIND_FREE;
			rc = 1;
		}
	}
	throttle_shm_unlock(t);
	return rc;
}

/*
 * Shared-memory window (throttle.h): one admission count per slice of
 * w = ceil(PERIOD / 15) ms; slice j covers [j w, (j + 1) w) of the
 * caller's clock, and counts while it overlaps the window (t - P, t], that
 * is while t < (j + 1) w + P.
 *
 * Why the cap holds.  At a call at t the sum S counts every admission in
 * a slice that overlaps (t - P, t]; every admission at s in (t - P, t]
 * lies in such a slice, so S >= the admissions in (t - P, t].  A call is
 * admitted only when S < limit, so after it (t - P, t] holds at most
 * limit.  Suppose a span [a, a + P) held limit + 1 admissions: at the
 * last of them, t < a + P, the other limit lay in [a, t] within (t - P, t]
 * (a > t - P), so that call saw S >= limit and was refused.  A clock
 * stepped back is taken as standing at the latest slice's start, which
 * only counts more.
 *
 * Why 16 counts suffice.  The oldest slice overlapping (t - P, t] is
 * floor((t - P) / w) >= floor(t / w) - 15, since P <= 15 w: slices
 * b - 15 .. b (b = floor(t / w)) are all that can count, kept in a ring
 * indexed j % 16.  The latest slice charged, L, is not stored: the
 * slot's expiry is (L + 1) w + P, when L stops counting, and L is
 * recovered from it; so the slot is live exactly while a count matters.
 * Moving from L to b clears ring entries L + 1 .. b, which held slices
 * <= b - 16.
 *
 * An admission in slice j counts until (j + 1) w + P, at most w after the
 * exact log would release it: that is the waiting this costs.
 */
static uint32_t
throttle_win_get(const uint8_t *c, size_t j)
{
	size_t		 bit = j * THROTTLE_WIN_BITS, o = bit / 8;
	uint32_t	 v;

	v = (uint32_t)c[o] | (uint32_t)c[o + 1] << 8 |
	    (uint32_t)c[o + 2] << 16;
	return (v >> (bit % 8)) & THROTTLE_WIN_CMAX;
}

static void
throttle_win_set(uint8_t *c, size_t j, uint32_t n)
{
	size_t		 bit = j * THROTTLE_WIN_BITS, o = bit / 8;
	uint32_t	 v;

	v = (uint32_t)c[o] | (uint32_t)c[o + 1] << 8 |
	    (uint32_t)c[o + 2] << 16;
	v &= ~(THROTTLE_WIN_CMAX << (bit % 8));
	v |= (n & THROTTLE_WIN_CMAX) << (bit % 8);
	c[o] = (uint8_t)v;
	c[o + 1] = (uint8_t)(v >> 8);
	c[o + 2] = (uint8_t)(v >> 16);
}

/* Writes a window entry (claiming slot i first when it is new).  The
 * counts go before the expiry that dates them. */
static void
throttle_win_store(struct throttle_shm *t, size_t i, int found,
    const struct throttle_pkey *pk, int64_t now, uint32_t wms,
    const uint32_t *cnt, int64_t expires)
{
	struct throttle_slot	*s;
	size_t			 j;

	s = found ? &t->slots[i] : throttle_shm_claim(t, i, pk, now);
	for (j = 0; j < THROTTLE_WIN_RING; j++)
		throttle_win_set(s->u.win, j, cnt[j]);
	s->aux = wms;
	atomic_signal_fence(memory_order_seq_cst);
	s->expires = expires;
	atomic_signal_fence(memory_order_seq_cst);
	s->kind = KIND_WINDOW;
}

/* The counts of a found entry into cnt, brought to slice *b (a clock
 * behind the latest slice counts as standing at its start, *tnow).
 * Returns 1 when they were counted with another period (or are not
 * ours): then all of them are held in slice *b, one new period from now. */
static int
window_load(const struct throttle_slot *s, uint32_t wms, int64_t wus,
    int64_t per, int64_t *b, int64_t *tnow, uint32_t *cnt)
{
	uint64_t	 sum;
	int64_t		 e, j, last;
	size_t		 k;

	for (k = 0; k < THROTTLE_WIN_RING; k++)
		cnt[k] = throttle_win_get(s->u.win, k);
	e = s->expires / 1000 - per;
	if (s->aux == wms && s->expires % 1000 == 0 && e >= wus &&
	    e % wus == 0) {
		last = e / wus - 1;
		if (*b < last) {
			*b = last;
			*tnow = last * wus;
		}
		for (j = last + 1; j <= *b && j <= last + THROTTLE_WIN_RING;
		    j++)
			cnt[j % THROTTLE_WIN_RING] = 0;
		return 0;
	}
	for (k = 0, sum = 0; k < THROTTLE_WIN_RING; k++) {
		sum += cnt[k];
		cnt[k] = 0;
	}
	cnt[*b % THROTTLE_WIN_RING] = sum > THROTTLE_WIN_CMAX ?
	    THROTTLE_WIN_CMAX : (uint32_t)sum;
	return 1;
}

/* The counts of the slices that still count at tnow; with `limit` set,
 * the wait (us) until the oldest of them leave enough to bring the sum
 * under it. */
static uint64_t
window_sum(const uint32_t *cnt, int64_t b, int64_t wus, int64_t per,
    int64_t tnow, uint64_t limit, int64_t *wait)
{
	uint64_t	 sum = 0;
	int64_t		 j;
	size_t		 k;

	for (k = 0; k < THROTTLE_WIN_RING; k++) {
		j = b - (THROTTLE_WIN_RING - 1) + (int64_t)k;
		if (j >= 0 && (j + 1) * wus + per > tnow)
			sum += cnt[j % THROTTLE_WIN_RING];
	}
	if (limit == 0 || sum < limit)
		return sum;
	for (k = 0; k < THROTTLE_WIN_RING; k++) {
		j = b - (THROTTLE_WIN_RING - 1) + (int64_t)k;
		if (j < 0 || (j + 1) * wus + per <= tnow)
			continue;
		sum -= cnt[j % THROTTLE_WIN_RING];
		if (sum < limit) {
			*wait = (j + 1) * wus + per - tnow;
			break;
		}
	}
	return limit;
}

int
throttle_shm_window(void *be, const char *key, long limit, long period_s,
    int64_t now_us, long *wait_s)
{
	struct throttle_shm	*t = be;
	struct throttle_pkey	 pk;
	uint32_t		 cnt[THROTTLE_WIN_RING], wms;
	int64_t			 wus, per, b, tnow, wait = 0;
	size_t			 i;
	int			 found, lump = 0, rc;

	if (!throttle_now_ok(now_us) ||
	    throttle_shm_prepare(t, KIND_WINDOW, key, &pk) == -1) {
		errno = EINVAL;
		return -1;
	}
	wms = (uint32_t)((period_s * 1000 + THROTTLE_WINDOW_SLICES - 1) /
	    THROTTLE_WINDOW_SLICES);
	wus = (int64_t)wms * 1000;
	per = (int64_t)period_s * THROTTLE_US;
	b = now_us / wus;
	tnow = now_us;
	memset(cnt, 0, sizeof(cnt));

	if (throttle_shm_lock(t) == -1)
		return -1;
	found = throttle_shm_find(t, &pk, now_us * 1000, NULL, 0, &i);
	if (!found && i == SIZE_MAX) {
		errno = ENOSPC;
		rc = -1;
		goto out;
	}
	if (found)
		lump = window_load(&t->slots[i], wms, wus, per, &b, &tnow, cnt);
	if (window_sum(cnt, b, wus, per, tnow, (uint64_t)limit, &wait) <
	    (uint64_t)limit) {
		cnt[b % THROTTLE_WIN_RING]++;
		lump = 1;
		rc = 1;
	} else
		rc = 0;
	if (lump)
		throttle_win_store(t, i, found, &pk, now_us * 1000, wms, cnt,
		    ((b + 1) * wus + per) * 1000);
out:
	throttle_shm_unlock(t);
	if (rc == 0 && wait_s != NULL) {
		wait = (wait + THROTTLE_US - 1) / THROTTLE_US;
		*wait_s = wait < 1 ? 1 : (long)wait;
	}
	return rc;
}
