/*
 * fuzz_sts_txt: the next hop's DNS answers in `form2mail doctor`: the
 * input as an _mta-sts TXT value (sts_txt_parse), an _smtp._tls TXT
 * value (sts_tlsrpt_parse) and a TLSA RDATA (sts_tlsa_parse).
 * Invariants (abort() on violation):
 *  - sts_txt_parse is 1, 0 or -1; 1 only for input starting "v=STSv1"
 *    without a NUL, with an id of 1 to 32 letters and digits that occurs
 *    in the input as "id=<id>"; otherwise id is "" and -1 has a reason;
 *  - sts_tlsrpt_parse is 1, 0 or -1; 1 only for input starting
 *    "v=TLSRPTv1" without a NUL, rua non-empty printable ASCII; otherwise
 *    "", and -1 has a reason;
 *  - sts_tlsa_parse is 0 only with at least one data octet, 32 for
 *    SHA2-256 and 64 for SHA2-512, the fields equal to the first octets;
 *    usable only for usage 2 or 3.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ops/sts.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
fz_has(const uint8_t *d, size_t n, const char *s)
{
	size_t	 l = strlen(s), i;

	for (i = 0; i + l <= n; i++)
		if (memcmp(d + i, s, l) == 0)
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*txt = (const char *)data, *why = NULL;
	char		 id[STS_ID_MAX + 1], rua[STS_RUA_MAX], pat[STS_ID_MAX + 4];
	struct sts_tlsa	 tl;
	size_t		 i, n;
	int		 rc;

	rc = sts_txt_parse(txt, size, id, sizeof(id), &why);
	if (rc == 1) {
		n = strlen(id);
		if (size < 7 || memcmp(data, "v=STSv1", 7) != 0 ||
		    memchr(data, '\0', size) != NULL || n == 0 ||
		    n > STS_ID_MAX)
			abort();
		for (i = 0; i < n; i++)
			if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' &&
			    id[i] <= 'Z') || (id[i] >= '0' && id[i] <= '9')))
				abort();
		memcpy(pat, "id=", 3);
		memcpy(pat + 3, id, n + 1);
		if (!fz_has(data, size, pat))
			abort();
	} else if ((rc != 0 && rc != -1) || id[0] != '\0' ||
	    (rc == -1 && why == NULL))
		abort();

	why = NULL;
	rc = sts_tlsrpt_parse(txt, size, rua, sizeof(rua), &why);
	if (rc == 1) {
		if (size < 10 || memcmp(data, "v=TLSRPTv1", 10) != 0 ||
		    memchr(data, '\0', size) != NULL || rua[0] == '\0')
			abort();
		for (i = 0; rua[i] != '\0'; i++)
			if ((unsigned char)rua[i] < 0x20 ||
			    (unsigned char)rua[i] > 0x7e)
				abort();
	} else if ((rc != 0 && rc != -1) || rua[0] != '\0' ||
	    (rc == -1 && why == NULL))
		abort();

	if (sts_tlsa_parse(data, size, &tl) == 0) {
		if (size < 4 || tl.usage != data[0] || tl.selector != data[1] ||
		    tl.mtype != data[2] || tl.datalen != size - 3 ||
		    (tl.mtype == 1 && tl.datalen != 32) ||
		    (tl.mtype == 2 && tl.datalen != 64))
			abort();
		if (sts_tlsa_usable(&tl) && tl.usage != 2 && tl.usage != 3)
			abort();
	} else if (size >= 4 && data[2] != 1 && data[2] != 2)
		abort();
	return 0;
}
