/*
 * fuzz_client_ip: the client address of a request and its keys
 * (throttle.h: throttle_client_addr, throttle_client_key,
 * throttle_net_key) on arbitrary octets.  The input is FLAG REMOTE_ADDR
 * "\n" HEADER: FLAG's low bit is `last` (X-Forwarded-For), bit 1 set
 * means no header (NULL); both strings are cut at the first NUL, as C
 * strings are.  Invariants (abort() on violation):
 *  - throttle_client_addr returns -1, 0 or 1; on -1 out is "";
 *  - 0 exactly when REMOTE_ADDR is an address (addr_ip_ok), and then out
 *    is REMOTE_ADDR verbatim: the header is never read;
 *  - 1 only with a header, and out is an address taken from it: the
 *    header is out with spaces and tabs around it, after a ',' (or at
 *    the start) when last is set, the whole header otherwise;
 *  - every address out gives a client key and a net key of the same
 *    family (4: "net4:" a.b.c.0 "/24"; 6: "net6:" ... "/48"), the net
 *    key never equals the client key, and the net key of the client
 *    key's own address (the /64's, the /32's) is the same net key.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "lib/addr.h"
#include "throttle/throttle.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
fz_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* out is hdr's address: hdr = [..","] WSP* out WSP* (last), or WSP* out
 * WSP* (whole). */
static void
fz_from_header(const char *hdr, int last, const char *out)
{
	const char	*p = hdr, *c;
	size_t		 n = strlen(out);

	if (last && (c = strrchr(hdr, ',')) != NULL)
		p = c + 1;
	while (fz_wsp(*p))
		p++;
	if (strncmp(p, out, n) != 0)
		abort();
	for (p += n; fz_wsp(*p); p++)
		;
	if (*p != '\0')
		abort();
}

static void
fz_keys(const char *addr)
{
	char	 ip[THROTTLE_CLIENT_KEY_SIZE], net[THROTTLE_CLIENT_KEY_SIZE];
	char	 again[THROTTLE_CLIENT_KEY_SIZE], back[THROTTLE_CLIENT_KEY_SIZE];
	size_t	 len;
	int	 fam;

	if (throttle_client_key(addr, ip, sizeof(ip)) != 0)
		abort();
	fam = throttle_net_key(addr, net, sizeof(net));
	len = strlen(net);
	if (fam == 4) {
		if (strncmp(ip, "ip:", 3) != 0 || strncmp(net, "net4:", 5) != 0 ||
		    len < 13 || strcmp(net + len - 5, ".0/24") != 0)
			abort();
		snprintf(back, sizeof(back), "%s", ip + 3);
	} else if (fam == 6) {
		if (strncmp(ip, "ip6:", 4) != 0 || strncmp(net, "net6:", 5) !=
		    0 || len < 9 || strcmp(net + len - 3, "/48") != 0)
			abort();
		snprintf(back, sizeof(back), "%.*s", (int)(strlen(ip) - 7),
		    ip + 4);
	} else
		abort();
	if (strcmp(ip, net) == 0)
		abort();
	if (throttle_net_key(back, again, sizeof(again)) != fam ||
	    strcmp(again, net) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*s, *ra, *hdr, *nl;
	char		 out[INET6_ADDRSTRLEN + 8];
	int		 last, rc;

	if (size < 1 || size > 4096 || (s = malloc(size)) == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	last = data[0] & 1;
	ra = s;
	hdr = NULL;
	if ((nl = strchr(s, '\n')) != NULL) {
		*nl = '\0';
		hdr = nl + 1;
	}
	if (data[0] & 2)
		hdr = NULL;
	memset(out, 'Z', sizeof(out));
	rc = throttle_client_addr(ra, hdr, last, out, sizeof(out));
	if (rc == -1) {
		if (out[0] != '\0' || addr_ip_ok(ra))
			abort();
	} else if (rc == 0) {
		if (!addr_ip_ok(ra) || strcmp(out, ra) != 0)
			abort();
		fz_keys(out);
	} else if (rc == 1) {
		if (hdr == NULL || addr_ip_ok(ra) || !addr_ip_ok(out))
			abort();
		fz_from_header(hdr, last, out);
		fz_keys(out);
	} else
		abort();
	free(s);
	return 0;
}
