/*
 * doctor: `form2mail doctor` (docs/DESIGN.md "Commands").  Asks DNS, through
 * libunbound and the resolver chosen, whether the records the config needs
 * are published and right (DKIM keys, SPF for the relay's addresses through
 * libspf2, DMARC and alignment), then logs in to the SMTP relay (TLS
 * verified, AUTH) and leaves without sending anything.
 *
 * Everything a DNS server or the SMTP server sends is untrusted: lengths
 * are bounded before use and none of it is printed unescaped.
 */
#ifndef F2M_DOCTOR_H
#define F2M_DOCTOR_H

#include <stddef.h>
#include <stdio.h>

#include "lib/buf.h"

struct conf;

/* The longest TXT value (one record's character-strings joined) read. */
#define DOCTOR_TXT_MAX	4096

/* The DNSSEC trust anchor used when none is given (Debian dns-root-data). */
#define DOCTOR_TRUST_ANCHOR	"/usr/share/dns/root.key"

/* Options of the command; all NULL or 0 for the defaults. */
struct doctor_opts {
	const char	*resolver;	/* "IP[:PORT]", "[IPv6]:PORT"; NULL:
					   /etc/resolv.conf */
	const char	*trust_anchor;	/* DS/DNSKEY lines (zone file) that
					   DNSSEC validation starts from;
					   NULL: DOCTOR_TRUST_ANCHOR; "none":
					   no validation (DANE unknown) */
	/* For tests only (each use prints a warn line): */
	const char	*sts_ca;	/* PEM CA file that verifies the MTA-STS
					   policy servers instead of the system
					   store */
	long		 sts_port;	/* fetch policies from this port, not
					   443; 0: 443 */
};

/*
 * The command.  argv holds what follows "doctor": "--resolver IP[:PORT]"
 * (or "--resolver=..."; an IPv6 address with a port is written
 * "[IP]:PORT"), "--trust-anchor FILE|none", and for tests "--sts-ca FILE"
 * and "--sts-port PORT" (each also as "--opt=value").  Loads the config at
 * path and runs doctor_run_opts() on stdout.  Returns the exit status: 0
 * every check passed, 1 one failed, 2 usage or config error (the reason on
 * stderr).
 */
int	 doctor_main(const char *path, int argc, char **argv);

/*
 * Runs every check of cf and writes one line per check to out, starting
 * "ok    ", "warn  ", "skip  " or "FAIL  "; a FAIL line, and a warn line
 * naming an rspamd trap, ends with " — fix: " and what to do, the record
 * to publish when a record is wrong.  After the site's own records come
 * the traps (SPOOF_REPLYTO, MID_RHS_WWW, FORGED_SENDER, an unaligned
 * envelope, a throttle.client_ip_header the per-client limits would
 * trust) and, per recipient domain, its next hop: MTA-STS, DANE,
 * TLS-RPT and a summary; whatever DNS or HTTPS cannot answer is reported
 * "unknown" (warn), never as secure.
 * resolver is "IP[:PORT]" or "[IPv6]:PORT", or NULL for the nameservers of
 * /etc/resolv.conf.  Run as root, it reads the DKIM keys and the SMTP
 * password first, then drops to the service user (privsep_drop()) before
 * any DNS answer is read.  Returns 0 (all ok, warnings allowed), 1 (a check
 * failed) or 2 (bad resolver, or privileges not dropped: on stderr).
 */
int	 doctor_run(const struct conf *cf, const char *resolver, FILE *out);

/* doctor_run() with every option. */
int	 doctor_run_opts(const struct conf *cf, const struct doctor_opts *,
	    FILE *out);

/* ---- pure helpers, for the unit test and the fuzz target ---------- */

/*
 * Joins the character-strings of one TXT RDATA (RFC 1035 3.3.14) with
 * nothing between them (RFC 7208 3.3, RFC 6376 3.6.2.2) into out, which
 * gets a terminating NUL (a NUL inside the data is kept: *outlen counts
 * every octet).  Returns 0, or -1 with out empty when rdata is empty, a
 * length octet runs past the end, or the value needs outsize octets or
 * more.
 */
int	 doctor_txt_join(const unsigned char *rdata, size_t len, char *out,
	    size_t outsize, size_t *outlen) F2M_WUR;

/*
 * Turns an uncompressed wire-format name (RFC 1035 3.1, as libunbound
 * hands out PTR and MX targets) into text without the final dot.  Only
 * LDH and '_' octets are taken.  Returns 0, or -1 (bad or compressed
 * label, other octets, root name, over 253 octets or outsize).
 */
int	 doctor_name_text(const unsigned char *wire, size_t len, char *out,
	    size_t outsize) F2M_WUR;

/*
 * Finds tag in a tag-list "t1=v1; t2=v2" (RFC 6376 3.2; tag names
 * compared case-sensitively) and writes its value, without surrounding
 * whitespace, to val; for tag "p" (a base64 key) whitespace inside is
 * dropped too.  Returns 1 found, 0 absent, -1 malformed (val empty): an
 * element without '=', a bad tag name, any tag twice (RFC 6376 3.2), over
 * 64 tags, a control octet or NUL, or a value that needs valsize octets
 * or more.
 */
int	 doctor_tag(const char *rec, size_t len, const char *tag, char *val,
	    size_t valsize);

enum doctor_dkim {
	DOCTOR_DKIM_MATCH,	/* same key type and public key */
	DOCTOR_DKIM_TESTING,	/* matches, but t=y (RFC 6376 3.6.1) */
	DOCTOR_DKIM_REVOKED,	/* p= empty */
	DOCTOR_DKIM_OTHER_KEY,	/* another p= */
	DOCTOR_DKIM_OTHER_TYPE,	/* another k= (default rsa) */
	DOCTOR_DKIM_INVALID	/* not a DKIM key record */
};

/*
 * Compares a published DKIM key record (len octets) with the expected one,
 * as keys_dkim_txt() makes it.  v=, when present, must come first and be
 * DKIM1.
 */
enum doctor_dkim doctor_dkim_compare(const char *published, size_t len,
	    const char *expected);

enum doctor_policy {
	DOCTOR_P_NONE,
	DOCTOR_P_QUARANTINE,
	DOCTOR_P_REJECT
};

struct doctor_dmarc {
	enum doctor_policy	 p;
	enum doctor_policy	 sp;		/* p when absent */
	int			 adkim_strict;
	int			 aspf_strict;
	int			 pct;		/* 100 when absent */
};

/*
 * Parses a DMARC record (RFC 7489 6.3, 6.4): "v=DMARC1" first, p=
 * required; sp=, adkim=, aspf=, pct= checked when present.  Returns 0, or
 * -1 with *why set to a static reason.
 */
int	 doctor_dmarc_parse(const char *rec, size_t len,
	    struct doctor_dmarc *out, const char **why);

/*
 * Identifier alignment of two domain names (RFC 7489 3.1), any case, a
 * final dot ignored: 2 identical (strict and relaxed); 1 one is below the
 * other (relaxed); 0 not aligned; -1 they share only a parent of two labels
 * or more, which aligns them in relaxed mode only when that parent is the
 * organizational domain (the public suffix list decides; not read here).
 */
int	 doctor_align(const char *a, const char *b);

#endif
