/*
 * doctor_dane: DANE (RFC 7672) and TLS-RPT (RFC 8460) of one recipient
 * domain for the next hop of `form2mail doctor`: TLSA records through the
 * validating resolver, the _smtp._tls TXT record; see doctor_int.h.
 */
#include <sys/types.h>

#include <arpa/nameser.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <unbound.h>

#include "lib/buf.h"
#include "ops/doctor.h"
#include "ops/doctor_int.h"
#include "ops/sts.h"

/* Appends to a note shown on one line; out of memory only shortens it. */
static void
hop_note(struct buf *b, const char *fmt, ...) F2M_PRINTF(2, 3);

static void
hop_note(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	if (buf_vprintf(b, fmt, ap) == -1)
		buf_reset(b);
	va_end(ap);
}

/* DANE for one MX host: its address and TLSA answers through d->vub. */
static enum hop_v
hop_dane_host(struct hop *h, const char *mx, int mx_secure, struct buf *note)
{
	struct doctor		*d = h->d;
	struct ub_result	*res;
	struct sts_tlsa		 tl;
	struct buf		 name = BUF_INIT;
	char			 w[HOP_WHY];
	enum doctor_dns		 r;
	enum hop_v		 v = HOP_UNKNOWN;
	size_t			 usable = 0, total = 0;
	int			 i, sec = 0, asec = 0;

	if (buf_printf(&name, "_25._tcp.%s", mx) == -1)
		return HOP_UNKNOWN;
	/* RFC 7672 2.2.2: TLSA counts only for a host whose address
	 * records are secure too. */
	r = doctor_query_ub(d, d->vub, mx, ns_t_a, &res, &asec, w, sizeof(w));
	if (r == DNS_OK)
		ub_resolve_free(res);
	else if (r != DNS_FAIL) {
		r = doctor_query_ub(d, d->vub, mx, ns_t_aaaa, &res, &asec, w,
		    sizeof(w));
		if (r == DNS_OK)
			ub_resolve_free(res);
	}
	if (r == DNS_FAIL) {
		hop_note(note, "; %s: unknown (address: %s)", mx, w);
		goto out;
	}
	r = doctor_query_ub(d, d->vub, name.data, ns_t_tlsa, &res, &sec, w,
	    sizeof(w));
	if (r == DNS_FAIL) {
		hop_note(note, "; %s: unknown (TLSA: %s)", mx, w);
		goto out;
	}
	if (r != DNS_OK) {
		v = HOP_NO;
		hop_note(note, "; %s: no TLSA at %s", mx, name.data);
		goto out;
	}
	for (i = 0; res->data[i] != NULL && i < DOCTOR_MAX_RR; i++) {
		total++;
		if (res->len[i] > 0 && sts_tlsa_parse((unsigned char *)
		    res->data[i], (size_t)res->len[i], &tl) == 0 &&
		    sts_tlsa_usable(&tl))
			usable++;
	}
	ub_resolve_free(res);
	v = HOP_NO;
	if (!sec || !mx_secure || !asec)
		hop_note(note, "; %s: TLSA published but %s not "
		    "DNSSEC-signed, so senders ignore it (RFC 7672 2.2)", mx,
		    !sec ? "it is" : !mx_secure ? "the MX records are" :
		    "the host's address records are");
	else if (usable == 0)
		hop_note(note, "; %s: %zu signed TLSA, none usable "
		    "(only DANE-TA(2) and DANE-EE(3) count for SMTP, RFC 7672 "
		    "3.1.3): TLS without authentication", mx, total);
	else {
		v = HOP_YES;
		hop_note(note, "; %s: %zu usable TLSA, DNSSEC-signed",
		    mx, usable);
	}
out:
	buf_free(&name);
	return v;
}

void
doctor_hop_dane(struct hop *h)
{
	struct doctor	*d = h->d;
	struct buf	 note = BUF_INIT;
	char		 mx[HOP_MX][DOCTOR_NAME_MAX + 1], w[HOP_WHY];
	size_t		 i, nmx = 0, yes = 0, no = 0;
	enum doctor_dns	 r;
	enum hop_v	 v;
	int		 sec = 0;

	h->dane = HOP_UNKNOWN;
	if (d->vub == NULL) {
		doctor_say(d, D_WARN, NULL, "DANE %s: unknown: %s", h->dom,
		    d->vub_why);
		return;
	}
	r = doctor_hop_mx(h, d->vub, mx, &nmx, &sec, w, sizeof(w));
	if (r == DNS_FAIL) {
		doctor_say(d, D_WARN, NULL, "DANE %s: unknown (MX: %s): not "
		    "known to be protected", h->dom, w);
		return;
	}
	if (r != DNS_OK) {
		snprintf(mx[0], sizeof(mx[0]), "%s", h->dom);
		nmx = 1;
	}
	for (i = 0; i < nmx; i++) {
		v = hop_dane_host(h, mx[i], sec, &note);
		yes += v == HOP_YES;
		no += v == HOP_NO;
	}
	if (nmx > 0 && yes == nmx) {
		h->dane = HOP_YES;
		doctor_say(d, D_OK, NULL, "DANE %s: every MX has DNSSEC-signed "
		    "TLSA (%s): DANE senders require TLS with a certificate "
		    "that matches it", h->dom, note.data ? note.data + 2 : "");
	} else if (yes + no == nmx && nmx > 0) {
		h->dane = HOP_NO;
		doctor_say(d, D_WARN, NULL, "DANE %s: %s (%s): DANE senders "
		    "may deliver without a verified certificate", h->dom,
		    yes ? "not on every MX" : "no DANE", note.data ?
		    note.data + 2 : "");
	} else
		doctor_say(d, D_WARN, NULL, "DANE %s: unknown (%s): not known "
		    "to be protected", h->dom, note.data ? note.data + 2 :
		    "no MX");
	buf_free(&note);
}

void
doctor_hop_tlsrpt(struct hop *h)
{
	struct doctor		*d = h->d;
	struct doctor_txt	 t;
	struct buf		 name = BUF_INIT;
	const char		*why = NULL;
	char			 rua[STS_RUA_MAX], trua[STS_RUA_MAX];
	char			 w[HOP_WHY * 2], esc[DOCTOR_SHOW];
	size_t			 i, nrec = 0;
	enum doctor_dns		 r;
	int			 pr, valid = 0;

	if (buf_printf(&name, "_smtp._tls.%s", h->dom) == -1)
		return;
	r = doctor_txt(d, name.data, &t, w, sizeof(w));
	if (r == DNS_FAIL) {
		doctor_say(d, D_WARN, NULL, "TLS-RPT %s: unknown (%s: %s)",
		    h->dom, name.data, w);
		goto out;
	}
	for (i = 0; i < t.n; i++) {
		if ((pr = sts_tlsrpt_parse(t.v[i], t.len[i], trua,
		    sizeof(trua), &why)) == 0)
			continue;
		nrec++;
		valid = pr == 1;
		if (valid)
			memcpy(rua, trua, sizeof(rua));
		else
			snprintf(w, sizeof(w), "\"%s\": %s", doctor_esc(esc,
			    sizeof(esc), t.v[i], t.len[i]), why);
	}
	if (nrec == 0)
		doctor_say(d, D_WARN, NULL, "TLS-RPT %s: not published (no "
		    "v=TLSRPTv1 TXT at %s): %s hears nothing when senders fail "
		    "to reach it over TLS", h->dom, name.data, h->dom);
	else if (nrec > 1 || !valid) {
		if (nrec > 1)
			snprintf(w, sizeof(w), "%zu v=TLSRPTv1 records (RFC "
			    "8460 3: keep one)", nrec);
		doctor_say(d, D_WARN, NULL, "TLS-RPT %s: unusable record at %s: "
		    "%s: senders send no reports", h->dom, name.data, w);
	} else
		doctor_say(d, D_OK, NULL, "TLS-RPT %s: published (rua=%s): "
		    "senders report failed TLS deliveries there", h->dom,
		    doctor_esc(esc, sizeof(esc), rua, strlen(rua)));
out:
	doctor_txt_free(&t);
	buf_free(&name);
}
