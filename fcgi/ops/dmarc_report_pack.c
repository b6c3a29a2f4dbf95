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

/* The end of central directory record (APPNOTE 4.3.16): one volume, no
 * ZIP64, at most DMARC_REPORT_MEMBERS_MAX entries, the directory inside
 * the archive.  Returns 0 with *n, *cdoff, *cdlen set, or -1. */
static int
zip_eocd(const unsigned char *d, size_t len, size_t *n, size_t *cdoff,
    size_t *cdlen, struct dmarc_report_pos *pos)
{
	const unsigned char	*e = NULL;
	size_t			 i;

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
	*n = le16(e + 10);
	*cdlen = le32(e + 12);
	*cdoff = le32(e + 16);
	if (le16(e + 4) != 0 || le16(e + 6) != 0 || le16(e + 8) != *n)
		return why(pos, "zip: multi-volume archives are not read");
	if (*n == 0xffff || *cdoff == 0xffffffff)
		return why(pos, "zip: ZIP64 is not read");
	if (*n > DMARC_REPORT_MEMBERS_MAX)
		return why(pos, "zip: too many members");
	if (*cdoff > (size_t)(e - d) || *cdlen > (size_t)(e - d) - *cdoff)
		return why(pos, "zip: central directory out of bounds");
	return 0;
}

/* One central directory entry, as far as its member is read. */
struct zip_ent {
	uint32_t	 method, crc, csz, usz, nl, lo;
	char		 name[256];
};

/*
 * The central directory entry at *c (the directory ends at cend), *c moved
 * past it.  Returns 1 for a member that is skipped (a directory, not
 * .xml), 0 for one to read (checked against the limits, total octets read
 * so far), -1 when the archive is refused.
 */
static int
zip_entry(const unsigned char **c, const unsigned char *cend, size_t total,
    struct zip_ent *z, struct dmarc_report_pos *pos)
{
	const unsigned char	*p = *c;
	uint32_t		 flags, xl, cl;

	if ((size_t)(cend - p) < 46 || memcmp(p, "PK\1\2", 4) != 0)
		return why(pos, "zip: bad central directory entry");
	flags = le16(p + 8);
	z->method = le16(p + 10);
	z->crc = le32(p + 16);
	z->csz = le32(p + 20);
	z->usz = le32(p + 24);
	z->nl = le16(p + 28);
	xl = le16(p + 30);
	cl = le16(p + 32);
	z->lo = le32(p + 42);
	if ((size_t)(cend - p) < 46 + z->nl + xl + cl)
		return why(pos, "zip: bad central directory entry");
	if (!name_ok((const char *)p + 46, z->nl) || z->nl >= sizeof(z->name))
		return why(pos, "zip: unsafe member name (absolute, "
		    "'..', '\\\\', ':' or a control octet)");
	memcpy(z->name, p + 46, z->nl);
	z->name[z->nl] = '\0';
	*c = p + 46 + z->nl + xl + cl;
	if (z->name[z->nl - 1] == '/')
		return 1;
	if (z->nl < 4 || strcasecmp(z->name + z->nl - 4, ".xml") != 0)
		return 1;
	if (flags & 1)
		return why(pos, "zip: encrypted member");
	if (z->csz == 0xffffffff || z->usz == 0xffffffff || z->lo == 0xffffffff)
		return why(pos, "zip: ZIP64 is not read");
	if (z->method != 0 && z->method != 8)
		return why(pos, "zip: member neither stored nor deflated");
	if (z->usz > DMARC_REPORT_SIZE_MAX - total)
		return why(pos, "zip: decompressed over the size limit");
	if (z->csz == 0 ? z->usz != 0 :
	    z->usz / z->csz > DMARC_REPORT_RATIO_MAX)
		return why(pos, "zip: compression ratio over the limit "
		    "(a zip bomb?)");
	return 0;
}

/*
 * The member of z, its local header checked against the entry (before
 * cdoff, where the central directory starts): *xml (*xlen octets) is in
 * d when stored, in *buf (free() it) when deflated.  Returns 0 with the
 * CRC checked, or -1 (*buf freed).
 */
static int
zip_member(const unsigned char *d, size_t cdoff, const struct zip_ent *z,
    unsigned char **buf, const char **xml, size_t *xlen,
    struct dmarc_report_pos *pos)
{
	const unsigned char	*l, *data;

	if (z->lo > cdoff || cdoff - z->lo < 30 ||
	    memcmp(d + z->lo, "PK\3\4", 4) != 0)
		return why(pos, "zip: bad local header");
	l = d + z->lo;
	if (le16(l + 8) != z->method || le16(l + 26) != z->nl ||
	    memcmp(l + 30, z->name, z->nl) != 0)
		return why(pos, "zip: local header disagrees with the "
		    "central directory");
	if (cdoff - z->lo < 30 + (size_t)z->nl + le16(l + 28) ||
	    cdoff - z->lo - 30 - z->nl - le16(l + 28) < z->csz)
		return why(pos, "zip: member data out of bounds");
	data = l + 30 + z->nl + le16(l + 28);
	if (z->method == 0) {
		if (z->csz != z->usz)
			return why(pos, "zip: stored sizes differ");
		*xml = (const char *)data;
		*xlen = z->usz;
	} else {
		if (inflate_all(data, z->csz, -15, z->usz, buf, xlen,
		    pos) == -1)
			return -1;
		if (*xlen != z->usz) {
			free(*buf);
			*buf = NULL;
			return why(pos, "zip: member size differs");
		}
		*xml = (const char *)*buf;
	}
	if (crc32(0L, (const Bytef *)*xml, (uInt)*xlen) != z->crc) {
		free(*buf);
		*buf = NULL;
		return why(pos, "zip: CRC mismatch");
	}
	return 0;
}

static int
unzip(const unsigned char *d, size_t len,
    int (*fn)(const char *, size_t, const char *, void *), void *arg,
    struct dmarc_report_pos *pos)
{
	const unsigned char	*c;
	struct zip_ent		 z;
	unsigned char		*buf;
	const char		*xml;
	size_t			 i, n, cdoff, cdlen, xlen, total = 0, nxml = 0;
	int			 rc;

	if (zip_eocd(d, len, &n, &cdoff, &cdlen, pos) == -1)
		return -1;
	c = d + cdoff;
	for (i = 0; i < n; i++) {
		if ((rc = zip_entry(&c, d + cdoff + cdlen, total, &z,
		    pos)) == 1)
			continue;
		if (rc == -1)
			return -1;
		buf = NULL;
		if (zip_member(d, cdoff, &z, &buf, &xml, &xlen, pos) == -1)
			return -1;
		total += xlen;
		nxml++;
		rc = fn(xml, xlen, z.name, arg);
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
