/*
 * dmarc_report_pack.c: gzip (RFC 1952) and zip (PKWARE APPNOTE 6.3:
 * 4.3.7 local header, 4.3.12 central directory, 4.3.16 end record)
 * unpacking for DMARC aggregate reports (RFC 7489 7.2.1.1 names the
 * gzip and zip forms receivers send), and the doctor's summary.
 *
 * The central directory is trusted for names and sizes only after each
 * is checked against the file and its local header; a member's stated
 * size bounds inflate's output before it is allocated, and the ratio cap
 * refuses a bomb before any work.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "ops/dmarc_report.h"

static int
why(struct dmarc_report_pos *pos, const char *s)
{
	pos->line = pos->col = 0;
	snprintf(pos->why, sizeof(pos->why), "%s", s);
	return -1;
}

static uint32_t
le16(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t
le32(const unsigned char *p)
{
	return le16(p) | le16(p + 2) << 16;
}

/* Inflates in (windowbits as zlib's inflateInit2) into a new buffer of at
 * most cap octets, grown by doubling so a small report costs little; for
 * gzip (wbits > 15) concatenated members join (RFC 1952 2.2). */
static int
inflate_all(const unsigned char *in, size_t inlen, int wbits, size_t cap,
    unsigned char **out, size_t *outlen, struct dmarc_report_pos *pos)
{
	z_stream	 z;
	unsigned char	*b, *nb;
	size_t		 alloc, used;
	int		 zr, rc = -1;

	*out = NULL;
	if (inlen > UINT32_MAX || cap >= UINT32_MAX)
		return why(pos, "compressed data too large");
	alloc = inlen < (cap + 1) / 4 ? inlen * 4 : cap + 1;
	if (alloc < 65536)
		alloc = cap + 1 < 65536 ? cap + 1 : 65536;
	if ((b = malloc(alloc)) == NULL)
		return why(pos, "out of memory");
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, wbits) != Z_OK) {
		free(b);
		return why(pos, "zlib init failed");
	}
	z.next_in = (unsigned char *)(uintptr_t)in;
	z.avail_in = (uInt)inlen;
	z.next_out = b;
	z.avail_out = (uInt)alloc;
	for (;;) {
		zr = inflate(&z, Z_FINISH);
		if (zr == Z_STREAM_END) {
			if (wbits > 15 && z.avail_in > 0) {
				if (inflateReset(&z) != Z_OK) {
					why(pos, "zlib reset failed");
					goto out;
				}
				continue;
			}
			if (z.avail_in > 0) {
				why(pos, "data after the deflate stream");
				goto out;
			}
			break;
		}
		if ((zr == Z_OK || zr == Z_BUF_ERROR) && z.avail_out == 0) {
			if (alloc > cap) {
				why(pos, "decompressed over the size limit");
				goto out;
			}
			used = alloc;
			alloc = alloc > (cap + 1) / 2 ? cap + 1 : alloc * 2;
			if ((nb = realloc(b, alloc)) == NULL) {
				why(pos, "out of memory");
				goto out;
			}
			b = nb;
			z.next_out = b + used;
			z.avail_out = (uInt)(alloc - used);
			continue;
		}
		why(pos, zr == Z_BUF_ERROR ? "truncated compressed data" :
		    "corrupt compressed data");
		goto out;
	}
	*outlen = (size_t)(z.next_out - b);
	if (*outlen > cap) {
		why(pos, "decompressed over the size limit");
		goto out;
	}
	if (inlen > 0 && *outlen / inlen > DMARC_REPORT_RATIO_MAX) {
		why(pos, "compression ratio over the limit (a zip bomb?)");
		goto out;
	}
	*out = b;
	b = NULL;
	rc = 0;
out:
	inflateEnd(&z);
	free(b);
	return rc;
}

static int
name_ok(const char *n, size_t len)
{
	size_t	i;

	if (len == 0 || n[0] == '/')
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)n[i] < 0x20 || n[i] == 0x7f ||
		    n[i] == '\\' || n[i] == ':')
			return 0;
	for (i = 0; i + 1 < len; i++)
		if (n[i] == '.' && n[i + 1] == '.' &&
		    (i == 0 || n[i - 1] == '/') &&
		    (i + 2 == len || n[i + 2] == '/'))
			return 0;
	return 1;
}

static int
unzip(const unsigned char *d, size_t len,
    int (*fn)(const char *, size_t, const char *, void *), void *arg,
    struct dmarc_report_pos *pos)
{
	const unsigned char	*e = NULL, *c;
	size_t			 i, n, cdoff, cdlen, total = 0, nxml = 0;
	int			 rc;

	if (len < 22)
		return why(pos, "zip: truncated");
	/* The end record: 22 octets plus a comment of up to 65535. */
	for (i = len - 22;; i--) {
		if (memcmp(d + i, "PK\5\6", 4) == 0 &&
		    i + 22 + le16(d + i + 20) == len) {
			e = d + i;
			break;
		}
		if (i == 0 || len - i > 22 + 65535)
			break;
	}
	if (e == NULL)
		return why(pos, "zip: no end of central directory");
	n = le16(e + 10);
	cdlen = le32(e + 12);
	cdoff = le32(e + 16);
	if (le16(e + 4) != 0 || le16(e + 6) != 0 || le16(e + 8) != n)
		return why(pos, "zip: multi-volume archives are not read");
	if (n == 0xffff || cdoff == 0xffffffff)
		return why(pos, "zip: ZIP64 is not read");
	if (n > DMARC_REPORT_MEMBERS_MAX)
		return why(pos, "zip: too many members");
	if (cdoff > (size_t)(e - d) || cdlen > (size_t)(e - d) - cdoff)
		return why(pos, "zip: central directory out of bounds");
	c = d + cdoff;
	for (i = 0; i < n; i++) {
		uint32_t	 flags, method, crc, csz, usz, nl, xl, cl, lo;
		const unsigned char *l, *data;
		char		 name[256];
		unsigned char	*buf = NULL;
		const char	*xml;
		size_t		 xlen;

		if ((size_t)(d + cdoff + cdlen - c) < 46 ||
		    memcmp(c, "PK\1\2", 4) != 0)
			return why(pos, "zip: bad central directory entry");
		flags = le16(c + 8);
		method = le16(c + 10);
		crc = le32(c + 16);
		csz = le32(c + 20);
		usz = le32(c + 24);
		nl = le16(c + 28);
		xl = le16(c + 30);
		cl = le16(c + 32);
		lo = le32(c + 42);
		if ((size_t)(d + cdoff + cdlen - c) < 46 + nl + xl + cl)
			return why(pos, "zip: bad central directory entry");
		if (!name_ok((const char *)c + 46, nl) || nl >= sizeof(name))
			return why(pos, "zip: unsafe member name (absolute, "
			    "'..', '\\\\', ':' or a control octet)");
		memcpy(name, c + 46, nl);
		name[nl] = '\0';
		c += 46 + nl + xl + cl;
		if (name[nl - 1] == '/')
			continue;
		if (nl < 4 || strcasecmp(name + nl - 4, ".xml") != 0)
			continue;
		if (flags & 1)
			return why(pos, "zip: encrypted member");
		if (csz == 0xffffffff || usz == 0xffffffff || lo == 0xffffffff)
			return why(pos, "zip: ZIP64 is not read");
		if (method != 0 && method != 8)
			return why(pos, "zip: member neither stored nor "
			    "deflated");
		if (usz > DMARC_REPORT_SIZE_MAX - total)
			return why(pos, "zip: decompressed over the size limit");
		if (csz == 0 ? usz != 0 :
		    usz / csz > DMARC_REPORT_RATIO_MAX)
			return why(pos, "zip: compression ratio over the limit "
			    "(a zip bomb?)");
		if (lo > cdoff || cdoff - lo < 30 ||
		    memcmp(d + lo, "PK\3\4", 4) != 0)
			return why(pos, "zip: bad local header");
		l = d + lo;
		if (le16(l + 8) != method || le16(l + 26) != nl ||
		    memcmp(l + 30, name, nl) != 0)
			return why(pos, "zip: local header disagrees with the "
			    "central directory");
		if (cdoff - lo < 30 + (size_t)nl + le16(l + 28) ||
		    cdoff - lo - 30 - nl - le16(l + 28) < csz)
			return why(pos, "zip: member data out of bounds");
		data = l + 30 + nl + le16(l + 28);
		if (method == 0) {
			if (csz != usz)
				return why(pos, "zip: stored sizes differ");
			xml = (const char *)data;
			xlen = usz;
		} else {
			if (inflate_all(data, csz, -15, usz, &buf, &xlen,
			    pos) == -1)
				return -1;
			if (xlen != usz) {
				free(buf);
				return why(pos, "zip: member size differs");
			}
			xml = (const char *)buf;
		}
		if (crc32(0L, (const Bytef *)xml, (uInt)xlen) != crc) {
			free(buf);
			return why(pos, "zip: CRC mismatch");
		}
		total += xlen;
		nxml++;
		rc = fn(xml, xlen, name, arg);
		free(buf);
		if (rc != 0)
			return rc;
	}
	if (nxml == 0)
		return why(pos, "zip: no .xml member");
	return 0;
}

int
dmarc_report_unpack(const unsigned char *data, size_t len,
    int (*fn)(const char *, size_t, const char *, void *), void *arg,
    struct dmarc_report_pos *pos)
{
	unsigned char	*b;
	size_t		 n;
	int		 rc;

	memset(pos, 0, sizeof(*pos));
	if (len > DMARC_REPORT_SIZE_MAX)
		return why(pos, "file over the size limit");
	if (len >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
		if (inflate_all(data, len, 15 + 16, DMARC_REPORT_SIZE_MAX, &b,
		    &n, pos) == -1)
			return -1;
		rc = fn((const char *)b, n, NULL, arg);
		free(b);
		return rc;
	}
	if (len >= 4 && memcmp(data, "PK", 2) == 0)
		return unzip(data, len, fn, arg, pos);
	return fn((const char *)data, len, NULL, arg);
}
