/*
 * test_addr_diff: lib/addr against the copies it replaced (issue 15,
 * D3-D8).  The old functions are kept here verbatim as they stood at
 * e410096 (form/validate.c, mail/message.c, conf/conf.c, deliver/smtp.c,
 * ops/sts.c, ops/keys.c, ops/doctor.c, ops/doctor_hop.c, gate/captcha.c,
 * gate/spam.c, http/request.c), renamed old_<file>_<name>; each is run
 * beside its lib/addr replacement over the same inputs: every string of
 * up to 6 octets over an alphabet of the interesting octets, the
 * fuzz_address seed corpus, and a table of hostile cases.  A merge stands
 * only where the accept sets are equal; where they differ, the
 * difference is asserted here so that it stays a known caller policy.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/addr.h"
#include "t.h"

/* ---- the old copies ------------------------------------------------ */

/* form/validate.c */
static int
old_validate_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int
old_validate_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

static int
old_validate_local(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > 64 || s[0] == '.' || s[len - 1] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return 0;
		} else if (!old_validate_atext((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

static int
old_validate_domain(const char *s, size_t len)
{
	size_t	 i, start = 0, labels = 0;
	int	 digits = 1;

	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (i == start || i - start > 63 ||
			    s[start] == '-' || s[i - 1] == '-')
				return 0;
			labels++;
			if (i < len) {
				start = i + 1;
				digits = 1;
			}
		} else if (old_validate_ldh((unsigned char)s[i])) {
			if (s[i] < '0' || s[i] > '9')
				digits = 0;
		} else
			return 0;
	}
	return labels >= 2 && !digits;
}

static int
old_validate_addr_spec(const char *s, size_t len)
{
	const char	*at;

	if (s == NULL || len == 0 || len > 254 ||
	    (at = memchr(s, '@', len)) == NULL)
		return 0;
	return old_validate_local(s, (size_t)(at - s)) &&
	    old_validate_domain(at + 1, len - (size_t)(at - s) - 1);
}

static int
old_validate_loopback_host(const char *host, size_t len, int localhost)
{
	char		 h[64];
	struct in_addr	 a4;
	struct in6_addr	 a6;

	if (len == 0 || len >= sizeof(h))
		return 0;
	if (localhost && len == 9 && memcmp(host, "localhost", 9) == 0)
		return 1;
	if (host[0] == '[') {
		if (len < 3 || host[len - 1] != ']')
			return 0;
		host++;
		len -= 2;
	}
	memcpy(h, host, len);
	h[len] = '\0';
	if (inet_pton(AF_INET, h, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, h, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/* mail/message.c */
static int
old_message_is_atext(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int
old_message_host_ok(const char *s)
{
	size_t	 i, label = 0, len;

	len = strlen(s);
	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (label == 0 || label > 63 || s[i - 1] == '-' ||
			    s[i - label] == '-')
				return 0;
			label = 0;
		} else if ((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-')
			label++;
		else
			return 0;
	}
	return 1;
}

static int
old_message_addr_ok(const char *s)
{
	const char	*at;
	size_t		 i, len, local;

	len = strlen(s);
	if (len == 0 || len > 254 ||
	    (at = strchr(s, '@')) == NULL)
		return 0;
	local = (size_t)(at - s);
	if (local == 0 || local > 64 || s[0] == '.' || s[local - 1] == '.')
		return 0;
	for (i = 0; i < local; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return 0;
		} else if (!old_message_is_atext((unsigned char)s[i]))
			return 0;
	}
	return old_message_host_ok(at + 1);
}

/* conf/conf.c */
static int
old_conf_is_ldh_name(const char *s)
{
	size_t	 lab = 0, n = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 253)
		return 0;
	for (; *s; s++, n++) {
		if (*s == '.') {
			if (lab == 0 || s[-1] == '-')
				return 0;
			lab = 0;
			continue;
		}
		if (!isalnum((unsigned char)*s) && *s != '-')
			return 0;
		if (*s == '-' && lab == 0)
			return 0;
		if (++lab > 63)
			return 0;
	}
	return lab > 0 && s[-1] != '-';
}

static int
old_conf_url_loopback(const char *url)
{
	const char	*h = strstr(url, "://");
	size_t		 n;

	if (h == NULL)
		return 0;
	h += 3;
	n = h[0] == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":/?#");
	return old_validate_loopback_host(h, n, 0);
}

static int
old_conf_ok_ip(const char *s)
{
	unsigned char	 a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

static int
old_conf_related_domain(const char *a, const char *b)
{
	size_t	 al = strlen(a), bl = strlen(b);

	if (al < bl)
		return old_conf_related_domain(b, a);
	return strcasecmp(a, b) == 0 || (al > bl && a[al - bl - 1] == '.' &&
	    strcasecmp(a + al - bl, b) == 0);
}

/* conf_alignment's test of From's domain fd against a DKIM domain. */
static int
old_conf_aligned(const char *fd, const char *dkim)
{
	return strlen(fd) >= strlen(dkim) && old_conf_related_domain(fd, dkim);
}

/* deliver/smtp.c */
static int
old_smtp_helo_ok(const char *s)
{
	size_t	 i, len, label = 0;

	if (s == NULL || (len = strlen(s)) == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    (s[i] == '-' && label > 0)) || ++label > 63)
			return 0;
	}
	return label > 0 && s[len - 1] != '-';
}

/* ops/sts.c */
static int
old_sts_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static int
old_sts_label(const char *s, size_t n)
{
	size_t	 i;

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!old_sts_alnum(s[i]) && s[i] != '-')
			return 0;
	return 1;
}

/* ops/keys.c */
static int
old_keys_domain_ok(const char *d)
{
	size_t	 label = 0, total = 0;
	char	 prev = '.';

	for (; *d != '\0'; d++, total++) {
		if (*d == '.') {
			if (label == 0 || prev == '-')
				return 0;
			label = 0;
		} else if ((*d >= 'a' && *d <= 'z') || (*d >= 'A' &&
		    *d <= 'Z') || (*d >= '0' && *d <= '9') || *d == '_' ||
		    (*d == '-' && label > 0)) {
			if (++label > 63)
				return 0;
		} else
			return 0;
		prev = *d;
	}
	return total > 0 && total <= 253 && label > 0 &&
	    prev != '-';
}

static const char *
old_keys_domain_of(const char *addr)
{
	const char	*at;

	if (addr == NULL || (at = strrchr(addr, '@')) == NULL ||
	    !old_keys_domain_ok(at + 1))
		return NULL;
	return at + 1;
}

/* ops/doctor.c */
static const char *
old_doctor_domain_of(const char *addr)
{
	const char	*at;

	return addr != NULL && (at = strrchr(addr, '@')) != NULL ? at + 1 :
	    NULL;
}

/* ops/doctor_hop.c */
static int
old_hop_same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcasecmp(a, b) == 0;
}

/* gate/captcha.c */
static int
old_captcha_hostname_ok(const char *s)
{
	size_t	 i, len = strlen(s);

	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++)
		if (!old_sts_alnum(s[i]) && s[i] != '-' && s[i] != '.')
			return 0;
	return 1;
}

static int
old_captcha_ip_ok(const char *s)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;

	if (s == NULL || strnlen(s, 64) == 64)
		return 0;
	return inet_pton(AF_INET, s, &a4) == 1 ||
	    inet_pton(AF_INET6, s, &a6) == 1;
}

/* gate/spam.c */
static int
old_spam_ip_ok(const char *ip)
{
	unsigned char	 a[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, ip, a) == 1 ||
	    inet_pton(AF_INET6, ip, a) == 1;
}

/* http/request.c, request_handle's test of REMOTE_ADDR */
static int
old_request_ip(const char *addr)
{
	unsigned char	 sa[sizeof(struct in6_addr)];

	return addr != NULL && (inet_pton(AF_INET, addr, sa) == 1 ||
	    inet_pton(AF_INET6, addr, sa) == 1);
}

/* ---- the comparisons ----------------------------------------------- */

static long	 n_inputs, n_spec, n_ldh, n_loop, n_ip;
static int	 reported;

#define SAME(got, want, what, s, len) do {				\
	int t_gv = (got), t_wv = (want);				\
	t_checks++;							\
	if (t_gv != t_wv) {						\
		t_failed++;						\
		if (reported++ < 20)					\
			fprintf(stderr, "%s:%d: FAIL: %s [%s]: old %d, "	\
			    "addr %d\n", __FILE__, __LINE__, (what),	\
			    t_show((s), (len)), t_wv, t_gv);		\
	}								\
} while (0)

/* The message.c re-check and addr_spec_ok differ on purpose: addr_ok
 * takes any host name (one label, all-digit last label).  What it takes
 * beyond addr_spec_ok must be exactly that. */
static void
spec_vs_message(const char *s, size_t len)
{
	const char	*at = strchr(s, '@');
	int		 m = old_message_addr_ok(s), v = addr_spec_ok(s, len);

	if (v)
		SAME(m, 1, "addr_ok refuses an addr-spec", s, len);
	else if (m) {
		size_t	 dl = len - (size_t)(at - s) - 1;
		const char *d = at + 1, *last = strrchr(d, '.');

		SAME(last == NULL || strspn(last + 1, "0123456789") ==
		    strlen(last + 1), 1, "addr_ok beyond one label or "
		    "digits", s, len);
		SAME(addr_ldh_ok(d, dl, 253), 1, "addr_ok domain not LDH",
		    s, len);
	}
}

/* One input through every pair; s has a NUL at s[len]. */
static void
compare(const char *s, size_t len)
{
	int	 nul = memchr(s, '\0', len) != NULL;
	size_t	 i, start;

	n_inputs++;
	SAME(addr_spec_ok(s, len), old_validate_addr_spec(s, len),
	    "addr_spec_ok", s, len);
	n_spec += addr_spec_ok(s, len);
	SAME(addr_is_loopback(s, len, 0), old_validate_loopback_host(s, len,
	    0), "addr_is_loopback 0", s, len);
	SAME(addr_is_loopback(s, len, 1), old_validate_loopback_host(s, len,
	    1), "addr_is_loopback 1", s, len);
	n_loop += addr_is_loopback(s, len, 1);
	if (nul)
		return;
	/* The callers below see C strings. */
	spec_vs_message(s, len);
	/* message.c's re-check as it now reads, on lib/addr's pieces. */
	SAME(len <= ADDR_MAX && strchr(s, '@') != NULL &&
	    addr_local_ok(s, (size_t)(strchr(s, '@') - s)) &&
	    addr_ldh_ok(strchr(s, '@') + 1, strlen(strchr(s, '@') + 1), 253),
	    old_message_addr_ok(s), "message addr_ok", s, len);
	for (i = 0; i < len; i++)
		SAME(addr_atext((unsigned char)s[i]),
		    old_message_is_atext((unsigned char)s[i]),
		    "message is_atext", s + i, 1);
	SAME(addr_ldh_ok(s, len, 253), old_conf_is_ldh_name(s),
	    "conf_is_ldh_name", s, len);
	SAME(addr_ldh_ok(s, strlen(s), 253), old_smtp_helo_ok(s),
	    "smtp_helo_ok", s, len);
	SAME(addr_ldh_ok(s, strlen(s), 253), old_message_host_ok(s),
	    "message host_ok", s, len);
	n_ldh += addr_ldh_ok(s, len, 253);
	/* sts_mx_pattern cuts at dots before it asks sts_label. */
	for (start = i = 0; i <= len; i++)
		if (i == len || s[i] == '.') {
			SAME(addr_ldh_ok(s + start, i - start, 63),
			    old_sts_label(s + start, i - start),
			    "sts_label", s + start, i - start);
			start = i + 1;
		}
	/* keys_domain_ok also takes '_' (service names): the same set
	 * without it. */
	if (memchr(s, '_', len) == NULL)
		SAME(addr_ldh_ok(s, len, 253), old_keys_domain_ok(s),
		    "keys_domain_ok without '_'", s, len);
	/* captcha_hostname_ok is looser: [A-Za-z0-9.-], no label rule. */
	if (addr_ldh_ok(s, len, 253))
		SAME(old_captcha_hostname_ok(s), 1, "captcha_hostname_ok "
		    "refuses an LDH name", s, len);
	SAME(addr_ip_ok(s), old_conf_ok_ip(s), "conf_ok_ip", s, len);
	SAME(addr_ip_ok(s), old_captcha_ip_ok(s), "captcha_ip_ok", s, len);
	SAME(addr_ip_ok(s), old_spam_ip_ok(s), "spam_ip_ok", s, len);
	SAME(addr_ip_ok(s), old_request_ip(s), "request REMOTE_ADDR", s, len);
	n_ip += addr_ip_ok(s);
	SAME(addr_domain(s) == NULL ? -1 : (int)(addr_domain(s) - s),
	    old_doctor_domain_of(s) == NULL ? -1 :
	    (int)(old_doctor_domain_of(s) - s), "doctor_domain_of", s, len);
	SAME(old_keys_domain_of(s) == NULL ? -1 :
	    (int)(old_keys_domain_of(s) - s), addr_domain(s) != NULL &&
	    old_keys_domain_ok(addr_domain(s)) ?
	    (int)(addr_domain(s) - s) : -1, "keys_domain_of", s, len);
}

/* ---- inputs -------------------------------------------------------- */

/* Every string of 1..maxlen octets over alpha (NUL included when alpha
 * ends with one: give its length). */
static void
exhaust(const char *alpha, size_t na, size_t maxlen)
{
	char	 s[16];
	size_t	 idx[16], len, i;

	for (len = 1; len <= maxlen; len++) {
		memset(idx, 0, sizeof(idx));
		for (;;) {
			for (i = 0; i < len; i++)
				s[i] = alpha[idx[i]];
			s[len] = '\0';
			compare(s, len);
			for (i = 0; i < len && ++idx[i] == na; i++)
				idx[i] = 0;
			if (i == len)
				break;
		}
	}
}

static void
corpus(const char *dir)
{
	DIR		*d;
	struct dirent	*e;
	char		 path[1024], buf[4097];
	FILE		*f;
	size_t		 n, files = 0;

	if ((d = opendir(dir)) == NULL) {
		T_OK(0, "cannot open %s", dir);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if ((f = fopen(path, "rb")) == NULL)
			continue;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		compare(buf, n);
		files++;
	}
	closedir(d);
	T_OK(files > 50, "%s: only %zu seeds", dir, files);
}

#define B(s)	(s), sizeof(s) - 1

static const struct {
	const char	*s;
	size_t		 len;
} hostile[] = {
	{ B("") }, { B("@") }, { B("a@") }, { B("@b.c") }, { B("a@b") },
	{ B("a@b.c") }, { B("a@b.c.") }, { B("a@.b.c") }, { B("a@b..c") },
	{ B("a@b.c@d.e") }, { B("a@@b.c") }, { B("a@b.123") },
	{ B("a@1.2.3.4") }, { B("a@[1.2.3.4]") }, { B("a@[IPv6:::1]") },
	{ B("a@-b.c") }, { B("a@b-.c") }, { B("a@b.-c") }, { B("a@b.c-") },
	{ B("a@b_c.d") }, { B("a@b c.d") }, { B("a b@c.d") },
	{ B("\"a\"@b.c") }, { B("a.@b.c") }, { B(".a@b.c") },
	{ B("a..b@c.d") }, { B("a@b.c\r\nBcc: x@y.z") }, { B("a@b.c\n") },
	{ B("a@b.c\0x") }, { B("a\0@b.c") }, { B("a@b\0.c") },
	{ B("a@b.c>") }, { B("<a@b.c>") }, { B("a(b)@c.d") },
	{ B("a@b.c(x)") }, { B("a%b@c.d") }, { B("a!b@c.d") },
	{ B("a@xn--bcher-kva.example") }, { B("a@b\xc3\xa9.c") },
	{ B("\xc3\xa9@b.c") }, { B("a@B.C") }, { B("a@localhost") },
	{ B("localhost") }, { B("LOCALHOST") }, { B("localhost.") },
	{ B("127.0.0.1") }, { B("127.1") }, { B("127.255.255.255") },
	{ B("128.0.0.1") }, { B("126.255.255.255") }, { B("0x7f.0.0.1") },
	{ B("0177.0.0.1") }, { B("2130706433") }, { B("127.0.0.1.") },
	{ B("127.0.0.01") }, { B(" 127.0.0.1") }, { B("127.0.0.1 ") },
	{ B("::1") }, { B("[::1]") }, { B("[::1") }, { B("::1]") },
	{ B("[]") }, { B("[") }, { B("]") }, { B("[[::1]]") },
	{ B("0:0:0:0:0:0:0:1") }, { B("0000:0000:0000:0000:0000:0000:0000:0001") },
	{ B("::ffff:127.0.0.1") }, { B("[::ffff:127.0.0.1]") },
	{ B("::127.0.0.1") }, { B("::2") }, { B("::") }, { B("::1%lo") },
	{ B("fe80::1%eth0") }, { B("1.2.3.4") }, { B("1.2.3.256") },
	{ B("1.2.3") }, { B("1.2.3.4.5") }, { B("01.2.3.4") },
	{ B("2001:db8::1") }, { B("2001:db8::1::2") }, { B("2001:db8:::1") },
	{ B("1:2:3:4:5:6:7:8") }, { B("1:2:3:4:5:6:7:8:9") },
	{ B("1:2:3:4:5:6:1.2.3.4") }, { B("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255") },
	{ B("12345::1") }, { B("g::1") }, { B("::1/128") }, { B("1.2.3.4/32") },
	{ B("1.2.3.4:80") }, { B("[2001:db8::1]:443") },
	{ B("example.com") }, { B("a") }, { B("a.") }, { B(".a") },
	{ B("a..b") }, { B("-a") }, { B("a-") }, { B("a.-b") }, { B("a-.b") },
	{ B("a--b") }, { B("_dmarc.example.com") }, { B("s1._domainkey.x") },
	{ B("*.example.com") }, { B("ex ample.com") }, { B("exa\tmple.com") },
	{ B("EXAMPLE.COM") }, { B("123") }, { B("1-2.3-4") },
	{ B("xn--") }, { B("\xff") }, { B("\x80.com") },
	{ B("a.b@") }, { B("x@y@") }, { B("@@") },
};

/* Strings of a built length: n copies of c between head and tail. */
static void
built(const char *head, char c, size_t n, const char *tail)
{
	char	 s[1200];
	size_t	 hl = strlen(head), tl = strlen(tail);

	if (hl + n + tl >= sizeof(s))
		abort();
	memcpy(s, head, hl);
	memset(s + hl, c, n);
	memcpy(s + hl + n, tail, tl + 1);
	compare(s, hl + n + tl);
}

static void
lengths(void)
{
	size_t	 n;

	for (n = 0; n < 300; n++) {
		built("", 'l', n, "@example.com");
		built("a@", 'd', n, ".com");
		built("a@b.", 'd', n, "");
		built("", 'd', n, "");
		built("d.", 'd', n, ".d");
		built("", '1', n, "");
		built("::", '0', n, "1");
		built("[::", '0', n, "1]");
		built("127.0.0.", '0', n, "1");
		built("", ' ', n, "::1");
	}
	/* labels of 63 up to and past 253 octets */
	for (n = 240; n < 260; n++) {
		char	 s[300];
		size_t	 i;

		for (i = 0; i < n; i++)
			s[i] = i % 64 == 63 ? '.' : 'a';
		if (s[n - 1] == '.')
			s[n - 1] = 'b';
		s[n] = '\0';
		compare(s, n);
	}
}

/* ---- domain-of and same-or-below ----------------------------------- */

static void
domains(void)
{
	static const char *const d[] = { "example.com", "EXAMPLE.com",
	    "mail.example.com", "a.b.example.com", "xexample.com",
	    "example.com.", ".example.com", "com", "", "example.org",
	    "ample.com", "e.com", "mail.Example.COM", "example", "." };
	size_t	 i, j;

	/* conf_alignment: From's domain is the DKIM domain or below it. */
	for (i = 0; i < sizeof(d) / sizeof(d[0]); i++)
		for (j = 0; j < sizeof(d) / sizeof(d[0]); j++)
			SAME(addr_domain_below(d[i], d[j]),
			    old_conf_aligned(d[i], d[j]), "conf_alignment",
			    d[i], strlen(d[i]));
	/* conf_related_domain: either is the other or below it. */
	for (i = 0; i < sizeof(d) / sizeof(d[0]); i++)
		for (j = 0; j < sizeof(d) / sizeof(d[0]); j++)
			SAME(addr_domain_below(d[i], d[j]) ||
			    addr_domain_below(d[j], d[i]),
			    old_conf_related_domain(d[i], d[j]),
			    "conf_related_domain", d[i], strlen(d[i]));
	/* hop_same is equality only: "below" is a different question. */
	SAME(old_hop_same("mail.example.com", "example.com"), 0, "hop_same "
	    "is not below", "mail.example.com", 16);
	SAME(addr_domain_below("mail.example.com", "example.com"), 1,
	    "below", "mail.example.com", 16);
	SAME(addr_domain_below(NULL, "a"), 0, "NULL d", "", 0);
	SAME(addr_domain_below("a", NULL), 0, "NULL parent", "", 0);

	/* the call shapes of domain-of */
	T_OK(addr_domain(NULL) == NULL, "NULL");
	T_OK(old_doctor_domain_of(NULL) == NULL, "old NULL");
	T_OK(old_keys_domain_of(NULL) == NULL, "old keys NULL");
	T_OK(addr_domain("example.com") == NULL, "no '@'");
	T_STR(addr_domain("a@"), "", "trailing '@'");
	T_OK(old_keys_domain_of("a@") == NULL, "keys: trailing '@' refused");
	T_STR(addr_domain("a@b@c.d"), "c.d", "last '@'");
	T_STR(addr_domain("@c.d"), "c.d", "no local part");
	/* conf.c and send_test took strrchr(x, '@') + 1 on a checked
	 * address, with "example.com" when there is none (send_test). */
	T_STR(addr_domain("u@Example.ORG"), strrchr("u@Example.ORG", '@') + 1,
	    "conf inline");
}

/* ---- conf_url_loopback: the host cut out of a URL ------------------ */

static void
urls(void)
{
	static const char *const u[] = { "http://127.0.0.1/x",
	    "http://127.0.0.1:8080/x", "http://[::1]:8080/x", "http://[::1]",
	    "http://localhost/x", "http://localhost:80", "http://127.1/",
	    "http://example.com/", "http://127.0.0.1.example.com/",
	    "http://[::1/", "http://", "https://127.0.0.1", "127.0.0.1",
	    "http://[::ffff:127.0.0.1]/", "http://127.0.0.1?x", "http://::1/",
	    "http://127.0.0.1#f", "http://0.0.0.0/", "http://[::]/" };
	size_t	 i;

	for (i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		const char	*h = strstr(u[i], "://");
		size_t		 n = 0;
		int		 got = 0;

		if (h != NULL) {
			h += 3;
			n = h[0] == '[' ? strcspn(h, "]") + 1 :
			    strcspn(h, ":/?#");
			got = addr_is_loopback(h, n, 0);
		}
		SAME(got, old_conf_url_loopback(u[i]), "conf_url_loopback",
		    u[i], strlen(u[i]));
	}
}

int
main(void)
{
	static const char spec[] = "a1-.@_Z!";
	static const char host[] = "127.0:1[]f";
	size_t	 i;

	/* NUL last: sizeof counts it, so strings may hold one. */
	exhaust(spec, sizeof(spec), 6);
	exhaust(host, sizeof(host) - 1, 5);
	corpus("tests/fuzz/corpus/address");
	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
		compare(hostile[i].s, hostile[i].len);
	lengths();
	domains();
	urls();
	printf("%ld inputs: %ld addr-specs, %ld LDH names, %ld loopback, "
	    "%ld IP literals accepted\n", n_inputs, n_spec, n_ldh, n_loop,
	    n_ip);
	T_OK(n_spec > 100 && n_ldh > 1000 && n_loop > 10 && n_ip > 10,
	    "the inputs reach every accept set");
	T_DONE();
}
