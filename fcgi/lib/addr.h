/*
 * addr: the syntax of mail addresses and host names (untrusted data!):
 * addr-spec, "Name <addr>" mailboxes, LDH host names, loopback hosts, IP
 * address literals, the domain of an address.  One grammar for the whole
 * service: the form's email fields, the config, the spool's envelope, the
 * SMTP envelope and the doctor all ask here.
 *
 * Every check is an allowlist: it says yes only to what it knows.  None
 * allocates but addr_mailbox_parse(); none looks a name up.
 */
#ifndef F2M_ADDR_H
#define F2M_ADDR_H

#include <stddef.h>

/* RFC 5321 section 4.5.3.1 limits. */
#define ADDR_MAX_LOCAL	64
#define ADDR_MAX_DOMAIN	253
#define ADDR_MAX	254
#define ADDR_MAX_LABEL	63	/* RFC 1035 section 2.3.4 */
/* addr_ip_ok() refuses a text this long or longer (IPv6's longest is 45). */
#define ADDR_MAX_IP	64

/*
 * Returns 1 when s[0..len) is one addr-spec "local@domain" and nothing
 * else: local part a dot-atom (RFC 5322 section 3.2.3 atext, no leading,
 * trailing or double dot; quoted local parts are refused); domain of at
 * least two LDH labels (addr_ldh_ok()), the last not all digits; no
 * address literals, no comments, no spaces, ASCII only; lengths within
 * the limits above.  Returns 0 otherwise (s NULL included).  Safe for an
 * SMTP envelope when it returns 1.  All of atext stays allowed, '%' and
 * '!' included: none of it can end a command or header.
 */
int	 addr_spec_ok(const char *s, size_t len);

/*
 * The mailbox an address reaches, as one key for a per-address budget:
 * s[0..len) must pass addr_spec_ok().  The whole is lower-cased (ASCII);
 * in the local part every '.' is dropped and the text from the first
 * '+', '-' or '=' on (a sub-address tag) is cut, whatever the domain;
 * googlemail.com becomes gmail.com.  So v.ictim@, vi.ctim@, victim-1@,
 * victim=1@ and Victim+x@ give one key.  Folding for every domain
 * over-folds where a provider keeps dots or tags apart: two mailboxes
 * then share a budget, which only makes it stricter; the key is never
 * an address to send to.  A local part left empty ("+a@d") is kept
 * empty ("@d").  Writes the NUL-terminated key to out (outsize >
 * ADDR_MAX is always enough) and returns its length, or -1 (out set to
 * "" when outsize > 0) for an address addr_spec_ok() refuses or a
 * short buffer.
 */
int	 addr_canonical(const char *s, size_t len, char *out, size_t outsize);

/*
 * Splits a mailbox written by the admin, "Display Name <local@domain>" or
 * a bare addr-spec (spaces around the whole are ignored).  The display
 * name may be a plain phrase without RFC 5322 specials other than '.', or
 * a quoted string whose only escapes are \" and \\; UTF-8 allowed, nothing
 * text_header_ok() refuses.  On success returns 0 and sets *display
 * (malloc'd, unquoted, "" when absent) and *addr (malloc'd, passed by
 * addr_spec_ok()); on failure (ENOMEM included) returns -1 and sets both
 * to NULL.
 */
int	 addr_mailbox_parse(const char *s, char **display, char **addr);

/* Returns 1 for an RFC 5322 section 3.2.3 atext octet, 0 otherwise. */
int	 addr_atext(unsigned char c);

/*
 * Returns 1 when s[0..len) is the local part addr_spec_ok() takes: a
 * dot-atom (atext and single dots, none first or last) of 1..ADDR_MAX_LOCAL
 * octets.  s[len] must be readable (the '@' that ends it, or a NUL).
 */
int	 addr_local_ok(const char *s, size_t len);

/*
 * Returns 1 when s[0..len) is a host name of LDH labels split by dots
 * (RFC 1123 section 2.1): 1..max octets, each label 1..63 letters, digits
 * and '-', not starting or ending with '-'; no empty label (so no leading,
 * trailing or double dot).  One label is enough.  ASCII only.
 */
int	 addr_ldh_ok(const char *s, size_t len, size_t max);

/*
 * Returns 1 when host (len octets, as a URL parser leaves it: IPv6 in
 * brackets or bare) is a loopback address literal: 127.0.0.0/8 or ::1.
 * With localhost_ok, the name "localhost" counts too.  Other names never
 * do ("127.example.com" is not loopback): no name lookup decides.
 */
int	 addr_is_loopback(const char *host, size_t len, int localhost_ok);

/*
 * Returns 1 when s is an IPv4 dotted quad or an IPv6 address as
 * inet_pton(3) reads them (no brackets, no zone, no port), shorter than
 * ADDR_MAX_IP; 0 otherwise, s NULL included.
 */
int	 addr_ip_ok(const char *s);

/*
 * The domain of an address: what follows its last '@' (possibly ""), or
 * NULL when addr is NULL or holds no '@'.  Points into addr; checks
 * nothing else.
 */
const char *addr_domain(const char *addr);

/*
 * Returns 1 when domain d is parent or below it (RFC 7489 section 3.1.1
 * relaxed alignment without a public suffix list): equal, or d ends in
 * "." followed by parent, ASCII case-insensitive.  0 when either is NULL.
 */
int	 addr_domain_below(const char *d, const char *parent);

#endif
