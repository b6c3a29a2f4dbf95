/*
 * text_diff.h: the UTF-8 decoders that lived in four files before
 * lib/text.c, each reached through a wrapper in a file that includes its
 * .c (text_diff_*.c), for tests/unit/lib/test_text_diff.c only.
 */
#ifndef F2M_TEXT_DIFF_H
#define F2M_TEXT_DIFF_H

#include <stddef.h>
#include <stdint.h>

size_t	 diff_validate_utf8(const unsigned char *, size_t, uint32_t *);
int	 diff_dmarc_utf8(const unsigned char *, size_t);

#endif
