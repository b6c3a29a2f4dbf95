/*
 * dmarc_report: RFC 7489 aggregate reports (Appendix C) read for
 * `form2mail doctor --dmarc-reports DIR`.  Every octet of a report is
 * untrusted data: a strict, bounded parser for the XML subset reports use
 * (elements, attributes skipped, text, the five predefined entities,
 * character references, CDATA, comments, the XML declaration); DOCTYPE and
 * ENTITY declarations are refused (no XXE, no entity expansion), depth,
 * size, text length and record count are bounded, UTF-8 is checked.
 * gzip (RFC 1952) and zip (stored and deflate members) are unpacked with a
 * decompressed cap and a ratio cap before any XML is read.  Strings kept
 * are visible-safe: any octet outside 0x20..0x7e became '?'.
 */
#ifndef F2M_DMARC_REPORT_H
#define F2M_DMARC_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/buf.h"

#define DMARC_REPORT_SIZE_MAX	(16u << 20)	/* octets, decompressed, per file */
#define DMARC_REPORT_DEPTH_MAX	16		/* element nesting */
#define DMARC_REPORT_TEXT_MAX	1024		/* octets of one element's text */
#define DMARC_REPORT_RECORDS_MAX 100000		/* <record>s per report */
#define DMARC_REPORT_COUNT_MAX	1000000000ULL	/* one record's <count> */
#define DMARC_REPORT_RATIO_MAX	1000		/* decompressed / compressed */
#define DMARC_REPORT_MEMBERS_MAX 64		/* zip members */
#define DMARC_REPORT_FILES_MAX	10000		/* files of one directory */
#define DMARC_REPORT_FAILS_MAX	20		/* failing sources shown per day */

struct dmarc_report_record {
	char		 source_ip[64];
	uint64_t	 count;
	char		 disposition[16];	/* policy_evaluated */
	char		 dkim[16];		/* policy_evaluated: aligned */
	char		 spf[16];
	char		 header_from[256];
	char		 dkim_domain[256];	/* first auth_results/dkim */
	char		 dkim_result[16];
	char		 dkim_selector[64];
	char		 spf_domain[256];	/* first auth_results/spf */
	char		 spf_result[16];
};

struct dmarc_report {
	char				 org_name[256];
	char				 report_id[256];
	int64_t				 begin, end;	/* date_range, UTC */
	char				 domain[256];	/* policy_published */
	char				 p[16];
	struct dmarc_report_record	*rec;
	size_t				 nrec;
};

/* Where and why a file could not be read.  line is 0 when the fault is
 * not in XML text (gzip, zip); col counts octets from 1. */
struct dmarc_report_pos {
	unsigned long	 line, col;
	char		 why[192];
};

/*
 * Parses one XML report of len octets (need not be NUL-terminated).
 * Returns 0 with *out set (release with dmarc_report_free()), or -1 with
 * *out NULL and pos filled: not well-formed, a DOCTYPE or ENTITY
 * declaration, an unknown entity, bad UTF-8, over a limit above, root not
 * <feedback>, a missing org_name/report_id/date_range, a bad number or a
 * count over DMARC_REPORT_COUNT_MAX, or out of memory.
 */
int	 dmarc_report_parse_xml(const char *xml, size_t len,
	    struct dmarc_report **out, struct dmarc_report_pos *pos) F2M_WUR;

void	 dmarc_report_free(struct dmarc_report *);

/*
 * Calls fn(xml, xmllen, member, arg) for each XML document in data: data
 * itself when it is neither gzip nor zip, the inflated stream of a gzip
 * file (concatenated members joined), or each member of a zip archive
 * whose name ends in ".xml" (member is its name, else NULL).  Returns 0,
 * or -1 with pos->why set: bad or truncated gzip/zip, a CRC mismatch, a
 * zip member name that is absolute or holds "..", '\\' or a control
 * octet, encryption, ZIP64, a method other than stored or deflate, more
 * than DMARC_REPORT_MEMBERS_MAX members, no XML member, more than
 * DMARC_REPORT_SIZE_MAX octets decompressed in all, or a member or stream
 * expanding more than DMARC_REPORT_RATIO_MAX times.  A non-zero return of
 * fn stops the walk and is returned.
 */
int	 dmarc_report_unpack(const unsigned char *data, size_t len,
	    int (*fn)(const char *, size_t, const char *, void *), void *arg,
	    struct dmarc_report_pos *pos) F2M_WUR;

/*
 * The doctor's summary: reads every regular file of dir ending in ".xml",
 * ".gz" or ".zip" (sorted by name, at most DMARC_REPORT_FILES_MAX), counts
 * the records whose header_from is domain (any case) per receiver
 * (org_name) and UTC day (of date_range begin), and writes lines starting
 * "ok    ", "warn  ", "skip  " or "FAIL  " to out: per receiver and day
 * the messages, DKIM-aligned passes, SPF-aligned passes, DMARC passes
 * (either), then each failing source IP and header_from with its count;
 * the records for other domains skipped; a FAIL line with the file name
 * and the position for each file that could not be read (the others are
 * still read).  A report seen twice (same org_name and report_id) counts
 * once.  Returns 0, 1 when a file could not be read, 2 when dir cannot be
 * listed (on out).
 */
int	 dmarc_report_dir(const char *dir, const char *domain, FILE *out);

#endif
