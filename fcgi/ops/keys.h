/*
 * keys: DKIM key generation and the DNS records to publish (`form2mail
 * keygen`, `form2mail dns`; docs/DESIGN.md "Commands").
 */
#ifndef F2M_KEYS_H
#define F2M_KEYS_H

#include <stddef.h>

#include "lib/buf.h"

struct conf;

/* A TXT character-string holds at most 255 octets (RFC 1035 3.3). */
#define KEYS_TXT_CHUNK	255

/*
 * Generates a key for algorithm "rsa-sha256" (RSA 2048) or
 * "ed25519-sha256" and writes it as unencrypted PKCS#8 PEM to out_path,
 * created with O_EXCL and mode 0600 (an existing file or symbolic link is
 * never overwritten), then fsync()ed with its directory.  Returns 0, or -1
 * with a one-line reason in err and no file left behind.
 */
int	 keys_generate(const char *algorithm, const char *out_path, char *err,
	    size_t errsize) F2M_WUR;

/*
 * Appends the DKIM TXT value of the private key in key_path (RFC 6376
 * 3.6.1): "v=DKIM1; k=rsa; p=<base64 SubjectPublicKeyInfo DER>", or for
 * "ed25519-sha256" "v=DKIM1; k=ed25519; p=<base64 of the raw 32-octet
 * public key>" (RFC 8463 4).  The key file must be private (see
 * file_open_private()) and match algorithm.  Returns 0, or -1 with a reason
 * naming key_path in err (never key material) and out as it was.
 */
int	 keys_dkim_txt(const char *key_path, const char *algorithm,
	    struct buf *out, char *err, size_t errsize) F2M_WUR;

/*
 * Appends one line "NAME TYPE VALUE\n"; for TXT the value is written as
 * quoted character-strings of at most KEYS_TXT_CHUNK octets separated by a
 * space ("..." "..."), as zone files want.  A value holding '"', '\\' or
 * anything but printable ASCII and space is refused.  Returns 0 or -1.
 */
int	 keys_record(struct buf *out, const char *name, const char *type,
	    const char *value, char *err, size_t errsize) F2M_WUR;

/*
 * Appends the records to publish for cf, one keys_record() line each:
 * SPF TXT at the domain of sender.envelope_from (else of sender.from):
 * "v=spf1 <spf_hint> -all"; one DKIM TXT per key at
 * "<selector>._domainkey.<domain>."; DMARC TXT at "_dmarc.<From domain>.":
 * "v=DMARC1; p=quarantine; rua=mailto:<rua>" (no rua= when rua is NULL).
 * spf_hint is space-separated SPF terms ("include:_spf.example.net
 * ip4:192.0.2.1", checked by spf_terms_check()); NULL takes cf->sender_spf
 * (sender.spf).  When both are NULL, or spf_hint is empty, no SPF record
 * is made (one ending "-all" alone would fail all mail) and a ";" comment
 * line says so.
 * Returns 0, or -1 with a reason in err (out may hold the lines before).
 */
int	 keys_dns_records(const struct conf *cf, const char *spf_hint,
	    const char *rua, struct buf *out, char *err, size_t errsize)
	    F2M_WUR;

#endif
