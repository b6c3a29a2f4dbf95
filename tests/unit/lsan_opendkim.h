/*
 * lsan_opendkim.h: the LeakSanitizer set-up of every test program that
 * signs with libopendkim.  Include it once, in the file with main().
 *
 * Debian's libopendkim 2.11 never frees the Ed25519 private key it parses
 * in dkim_privkey_load() (about 0.5 KiB per Ed25519 signature; RSA is
 * freed).  Suppress exactly that under LeakSanitizer; the full unwinder is
 * needed to see the frame through libcrypto (a long fuzzing run may set
 * ASAN_OPTIONS=fast_unwind_on_malloc=1:detect_leaks=0 for speed).
 * Without a sanitizer the two functions are never called.
 */
#ifndef F2M_LSAN_OPENDKIM_H
#define F2M_LSAN_OPENDKIM_H

const char	*__asan_default_options(void);
const char	*__lsan_default_suppressions(void);

const char *
__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

const char *
__lsan_default_suppressions(void)
{
	return "leak:dkim_privkey_load\n";
}

#endif
