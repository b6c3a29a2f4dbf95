/*
 * sign_native: the built-in signer.  Relaxed/relaxed canonicalisation
 * (RFC 6376 section 3.4), the body hash, RSA and Ed25519 (RFC 8463) with
 * the EVP_PKEYs sign_key.c keeps parsed, and the tags folded exactly as
 * libopendkim folds them: its output, octet for octet.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "deliver/sign_int.h"

#define SIGN_MAX_SIG		(SIGN_MAX_RSA_BITS / 8)
/* dkim_getsighdr_d(): the margin it folds at (DKIM_HDRMARGIN). */
#define SIGN_MARGIN		75

static int
sign_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/*
 * Relaxed header canonicalisation (RFC 6376 section 3.4.2) of one field
 * that sign_parse() accepted (or that we made): the name in lower case
 * (it holds no WSP), the colon, the value unfolded with its WSP runs made
 * one SP and none at either end; CRLF after it when crlf is set.  The
 * value's CRs and LFs are only folding, so they count as WSP, as they do
 * in libopendkim's dkim_canon_header_string().
 */
static int
sign_canon_field(struct buf *out, const char *f, size_t len,
    size_t namelen, int crlf)
{
	char	*d;
	size_t	 i;
	int	 space = 0;

	if (buf_reserve(out, len + 3) == -1)
		return -1;
	d = out->data + out->len;
	for (i = 0; i < namelen; i++)
		*d++ = (char)sign_lower((unsigned char)f[i]);
	*d++ = ':';
	for (i = namelen + 1; i < len && (sign_iswsp(f[i]) || f[i] == '\r' ||
	    f[i] == '\n'); i++)
		;
	for (; i < len; i++) {
		if (sign_iswsp(f[i]) || f[i] == '\r' || f[i] == '\n') {
			space = 1;
			continue;
		}
		if (space)
			*d++ = ' ';
		space = 0;
		*d++ = f[i];
	}
	if (crlf) {
		*d++ = '\r';
		*d++ = '\n';
	}
	*d = '\0';
	out->len = (size_t)(d - out->data);
	return 0;
}

/*
 * SHA-256 of the relaxed canonical body (RFC 6376 section 3.4.4): WSP at
 * line ends removed, other WSP runs made one SP, empty lines at the end
 * removed; an empty result hashes as empty.  body was checked by
 * sign_parse(): CRLF line ends only, the last line ended.
 */
static int
sign_body_hash(const char *b, size_t len, unsigned char md[32])
{
	EVP_MD_CTX	*c;
	char		 o[SIGN_CHUNK];
	const char	*cr;
	size_t		 pos = 0, e, i, n = 0, blanks = 0;
	unsigned int	 mdlen;
	int		 rc = -1, wsp;

	if ((c = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1)
		goto out;
	while (pos < len) {
		if ((cr = memchr(b + pos, '\r', len - pos)) == NULL)
			goto out;
		e = (size_t)(cr - b);
		while (e > pos && sign_iswsp(b[e - 1]))
			e--;
		if (e == pos) {
			blanks++;
			pos = (size_t)(cr - b) + 2;
			continue;
		}
		for (; blanks > 0; blanks--) {
			if (n + 2 > sizeof(o)) {
				if (EVP_DigestUpdate(c, o, n) != 1)
					goto out;
				n = 0;
			}
			o[n++] = '\r';
			o[n++] = '\n';
		}
		/* A line is at most SIGN_MAX_LINE octets, plus CRLF. */
		if (n + SIGN_MAX_LINE + 2 > sizeof(o)) {
			if (EVP_DigestUpdate(c, o, n) != 1)
				goto out;
			n = 0;
		}
		for (i = pos, wsp = 0; i < e; i++) {
			if (sign_iswsp(b[i])) {
				if (!wsp)
					o[n++] = ' ';
				wsp = 1;
				continue;
			}
			wsp = 0;
			o[n++] = b[i];
		}
		o[n++] = '\r';
		o[n++] = '\n';
		pos = (size_t)(cr - b) + 2;
	}
	if (EVP_DigestUpdate(c, o, n) != 1 ||
	    EVP_DigestFinal_ex(c, md, &mdlen) != 1 || mdlen != 32)
		goto out;
	rc = 0;
out:
	EVP_MD_CTX_free(c);
	return rc;
}

static int
sign_b64(struct buf *out, const unsigned char *p, size_t len)
{
	if (buf_reserve(out, 4 * ((len + 2) / 3) + 1) == -1)
		return -1;
	out->len += (size_t)EVP_EncodeBlock((unsigned char *)out->data +
	    out->len, p, (int)len);
	out->data[out->len] = '\0';
	return 0;
}

/*
 * sign_fold()'s h=: the names, broken at their colons (":\r\n\t ") when
 * the next one would pass the margin.  *len is the width of the line.
 */
static int
sign_fold_list(struct buf *out, const char *pv, size_t *len)
{
	const char	*x, *c;
	size_t		 tl;
	int		 ifirst;

	for (x = pv, ifirst = 1; *x != '\0'; x = c) {
		if ((c = strchr(x, ':')) == NULL)
			c = x + strlen(x);
		tl = (size_t)(c - x);
		if (*c == ':')
			c++;
		if (tl == 0)
			continue;
		if (!ifirst && *len + tl + 1 > SIGN_MARGIN) {
			if (buf_add(out, ":\r\n\t ", 5) == -1)
				return -1;
			*len = 9;
		} else if (!ifirst) {
			if (buf_addc(out, ':') == -1)
				return -1;
			(*len)++;
		}
		if (buf_add(out, x, tl) == -1)
			return -1;
		*len += tl;
		ifirst = 0;
	}
	return 0;
}

/*
 * sign_fold()'s bh= and b=: the tag name, "=" and the first octet of the
 * value, then the value cut at the margin ("\r\n\t ").  wl is the length
 * of the name, pvlen of the whole tag; *len is the width of the line.
 */
static int
sign_fold_wrap(struct buf *out, const char *pv, size_t pvlen, size_t wl,
    size_t *len)
{
	const char	*x, *y;
	size_t		 n;

	if (buf_add(out, pv, wl + 1) == -1)
		return -1;
	*len += wl + 1;
	x = pv + wl + 1;
	y = pv + pvlen;
	if (x < y) {
		if (buf_addc(out, *x++) == -1)
			return -1;
		(*len)++;
	}
	while (x < y) {
		if (*len == SIGN_MARGIN) {
			if (buf_add(out, "\r\n\t ", 4) == -1)
				return -1;
			*len = 9;
		}
		n = SIGN_MARGIN - *len < (size_t)(y - x) ?
		    SIGN_MARGIN - *len : (size_t)(y - x);
		if (buf_add(out, x, n) == -1)
			return -1;
		x += n;
		*len += n;
	}
	return 0;
}

/*
 * Appends the tags to out folded exactly as libopendkim's
 * dkim_getsighdr_d() folds them (its margin, initial width and rules:
 * relaxed canonicalisation keeps a fold inside h= as a space, so the
 * folding is part of what is signed).  tok holds the tags, each with its
 * ';' but the last.  A tag goes on the line after a space, or on a new
 * line ("\r\n\t") when it would pass the margin; h= then breaks at its
 * colons ("\r\n\t "), bh= and b= at the margin.  libopendkim always wraps
 * an RSA b= (its forcewrap: the value of a 1024-bit key or more never
 * fits), and writes nothing after an empty b= here (it writes a NUL that
 * its canonicalisation stops at).
 */
static int
sign_fold(struct buf *out, const char *const *tok, size_t ntok, int rsa)
{
	const char	*pv, *eq;
	size_t		 i, len = SIGN_INITIAL, pvlen, wl;
	int		 first = 1, isb;

	for (i = 0; i < ntok; i++) {
		pv = tok[i];
		pvlen = strlen(pv);
		if ((eq = strchr(pv, '=')) == NULL)
			return -1;
		wl = (size_t)(eq - pv);
		isb = wl == 1 && pv[0] == 'b';
		if (first) {
			if (buf_add(out, pv, pvlen) == -1)
				return -1;
			len += pvlen;
			first = 0;
			continue;
		}
		if (!(rsa && isb) && len + pvlen <= SIGN_MARGIN) {
			if (buf_addc(out, ' ') == -1 ||
			    buf_add(out, pv, pvlen) == -1)
				return -1;
			len += 1 + pvlen;
			continue;
		}
		if (buf_add(out, "\r\n\t", 3) == -1)
			return -1;
		len = 8;
		if (wl == 1 && pv[0] == 'h') {
			if (sign_fold_list(out, pv, &len) == -1)
				return -1;
		} else if (isb || (wl == 2 && pv[0] == 'b' && pv[1] == 'h')) {
			if (sign_fold_wrap(out, pv, pvlen, wl, &len) == -1)
				return -1;
		} else {
			if (buf_add(out, pv, pvlen) == -1)
				return -1;
			len += pvlen;
		}
	}
	return 0;
}

/*
 * The tags of one signature in dkim_gensighdr()'s order, with b= empty
 * (b64 NULL) or set: v a c d s t bh h b.
 */
static int
sign_tags(struct buf *out, const struct sign_key *k, uint64_t t,
    const char *bh, const char *hlist, const char *b64)
{
	const char	*tok[9];
	struct buf	 tb = BUF_INIT;
	size_t		 off[9], i, n = 0;
	int		 rc = -1;

#define SIGN_TAG(...) do {						\
	off[n++] = tb.len;						\
	if (buf_printf(&tb, __VA_ARGS__) == -1 || buf_addc(&tb, 0) == -1) \
		goto out;						\
} while (0)
	SIGN_TAG("v=1;");
	SIGN_TAG("a=%s;", sign_alg_name(k->alg));
	SIGN_TAG("c=relaxed/relaxed;");
	SIGN_TAG("d=%s;", k->domain);
	SIGN_TAG("s=%s;", k->selector);
	SIGN_TAG("t=%llu;", (unsigned long long)t);
	SIGN_TAG("bh=%s;", bh);
	SIGN_TAG("h=%s;", hlist);
	SIGN_TAG("b=%s", b64 != NULL ? b64 : "");
#undef SIGN_TAG
	for (i = 0; i < n; i++)
		tok[i] = tb.data + off[i];
	if (sign_fold(out, tok, n, k->alg == CONF_DKIM_RSA_SHA256) == -1)
		goto out;
	rc = 0;
out:
	buf_free(&tb);
	return rc;
}

/*
 * Signs the 32-octet SHA-256 digest of the canonical header data: RSA
 * with PKCS#1 v1.5 and the DigestInfo of SHA-256 (RFC 6376 section 3.3.1,
 * what libopendkim's RSA_sign(NID_sha256) makes); Ed25519 as PureEdDSA
 * over the digest itself, not over the data (RFC 8463 section 3).
 */
static int
sign_native_sig(const struct sign_key *k, const unsigned char md[32],
    unsigned char *sig, size_t *siglen)
{
	EVP_MD_CTX	*c;
	int		 ok;

	if (k->alg == CONF_DKIM_RSA_SHA256)
		return EVP_PKEY_sign(k->rsa, sig, siglen, md, 32) == 1 ? 0 : -1;
	if ((c = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestSignInit(c, NULL, NULL, NULL, k->pkey) == 1 &&
	    EVP_DigestSign(c, sig, siglen, md, 32) == 1;
	EVP_MD_CTX_free(c);
	return ok ? 0 : -1;
}

/*
 * The header hash takes the fields to sign in the order h= names them:
 * h= lists them in message order (with their names as written), and each
 * name picks the last instance not yet used (RFC 6376 section 5.4.2), so
 * the instances of one name go in bottom-up.  The oversigned "from" at
 * the end of h= finds no unused instance and contributes nothing.
 */
static int
sign_hash_fields(const struct sign_msg *m, EVP_MD_CTX *c, struct buf *tmp,
    struct buf *hlist)
{
	const struct sign_field	*f, *g;
	size_t			 i, j;
	unsigned char		 used[SIGN_MAX_HEADERS];

	memset(used, 0, sizeof(used));
	for (i = 0; i < m->nf; i++) {
		f = &m->f[i];
		if (!f->sign)
			continue;
		if ((hlist->len > 0 && buf_addc(hlist, ':') == -1) ||
		    buf_add(hlist, m->msg + f->off, f->namelen) == -1)
			return -1;
		for (j = m->nf, g = NULL; g == NULL && j-- > 0; ) {
			g = &m->f[j];
			if (used[j] || !g->sign || g->namelen != f->namelen ||
			    strncasecmp(m->msg + g->off, m->msg + f->off,
			    f->namelen) != 0)
				g = NULL;
		}
		if (g == NULL)
			return -1;	/* not reached: f itself is one */
		used[j] = 1;
		buf_reset(tmp);
		if (sign_canon_field(tmp, m->msg + g->off, g->len, g->namelen,
		    1) == -1 || EVP_DigestUpdate(c, tmp->data, tmp->len) != 1)
			return -1;
	}
	for (i = 0; sign_oversign[i] != NULL; i++)
		if (buf_addc(hlist, ':') == -1 ||
		    buf_adds(hlist, sign_oversign[i]) == -1)
			return -1;
	return 0;
}

int
sign_native(struct sign *s, const struct sign_msg *m, uint64_t t,
    struct buf *out, char *err, size_t errsize)
{
	EVP_MD_CTX	*hc = NULL, *kc = NULL;
	struct sign_key	*k;
	struct buf	 tmp = BUF_INIT, hlist = BUF_INIT, bh = BUF_INIT;
	struct buf	 v = BUF_INIT, b64 = BUF_INIT;
	unsigned char	 md[32], sig[SIGN_MAX_SIG];
	unsigned int	 mdlen;
	size_t		 i, siglen;
	int		 rc = -1;

	if (sign_body_hash(m->msg + m->body, m->len - m->body, md) == -1 ||
	    sign_b64(&bh, md, sizeof(md)) == -1 ||
	    (hc = EVP_MD_CTX_new()) == NULL ||
	    (kc = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(hc, EVP_sha256(), NULL) != 1 ||
	    sign_hash_fields(m, hc, &tmp, &hlist) == -1) {
		snprintf(err, errsize, "DKIM: cannot hash the message");
		goto out;
	}
	for (i = 0; i < s->nkeys; i++) {
		k = &s->keys[i];
		/* RFC 6376 section 3.7: the DKIM-Signature field itself, with
		 * an empty b=, canonicalised, no CRLF after it. */
		buf_reset(&v);
		buf_reset(&tmp);
		if (buf_adds(&v, SIGN_HDR ": ") == -1 ||
		    sign_tags(&v, k, t, bh.data, hlist.data, NULL) == -1 ||
		    sign_canon_field(&tmp, v.data, v.len, SIGN_HDR_LEN,
		    0) == -1 ||
		    EVP_MD_CTX_copy_ex(kc, hc) != 1 ||
		    EVP_DigestUpdate(kc, tmp.data, tmp.len) != 1 ||
		    EVP_DigestFinal_ex(kc, md, &mdlen) != 1 || mdlen != 32) {
			snprintf(err, errsize, "DKIM: cannot hash the header "
			    "for s=%s d=%s", k->selector, k->domain);
			goto out;
		}
		siglen = sizeof(sig);
		if (sign_native_sig(k, md, sig, &siglen) == -1) {
			snprintf(err, errsize, "DKIM: %s s=%s d=%s: signing "
			    "failed", sign_alg_name(k->alg), k->selector,
			    k->domain);
			goto out;
		}
		if (s->broken)
			sig[siglen / 2] ^= 0x01;
		buf_reset(&b64);
		buf_reset(&v);
		if (sign_b64(&b64, sig, siglen) == -1 ||
		    sign_tags(&v, k, t, bh.data, hlist.data, b64.data) == -1) {
			snprintf(err, errsize, "DKIM: out of memory");
			goto out;
		}
		if (sign_append(out, (unsigned char *)v.data, v.len, err,
		    errsize) == -1)
			goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(hc);
	EVP_MD_CTX_free(kc);
	buf_free(&tmp);
	buf_free(&hlist);
	buf_free(&bh);
	buf_free(&v);
	buf_free(&b64);
	return rc;
}
