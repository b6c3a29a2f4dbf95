/*
 * enc_key: the recipients' public keys of encrypted notifications
 * (docs/DESIGN.md "Encrypted notifications"): X.509 certificates for
 * S/MIME, ASCII-armoured OpenPGP public keys (through librnp).
 *
 * Keys are read and checked when the config is loaded (check, doctor,
 * the master at start and at reload, a CGI process), never by a
 * sandboxed worker: the worker only uses what was loaded before it
 * forked.  Only public keys are accepted; a file that holds a private or
 * secret key is refused.
 */
#ifndef F2M_ENC_KEY_H
#define F2M_ENC_KEY_H

#include <stddef.h>
#include <time.h>

#include "conf/conf.h"
#include "lib/buf.h"

#define ENC_MAX_KEY_FILE	(256 * 1024)	/* octets of one key file */
#define ENC_WARN_DAYS		30	/* warn when a key expires sooner */
#define ENC_MIN_RSA_BITS	2048

/* One recipient key, as loaded. */
struct enc_key;

/* The keys of one encrypted form. */
struct enc_form {
	char			*form;		/* its id */
	enum conf_enc_method	 method;
	struct enc_key		**keys;
	size_t			 nkeys;
};

/* The keys of every encrypted form of one config. */
struct enc_set {
	struct enc_form		*forms;
	size_t			 nforms;
};

/*
 * Reads and checks the key file path for method at time now.
 * S/MIME: one PEM certificate (a file that holds a private key is
 * refused), RSA of ENC_MIN_RSA_BITS or more or EC, valid at now, whose
 * key usage (when the extension is there) allows keyEncipherment (RSA)
 * or keyAgreement (EC) and whose extended key usage (when there) allows
 * emailProtection.  OpenPGP: one ASCII-armoured public key (no secret
 * key), valid (self-signatures, not revoked, not expired) at now, with a
 * valid subkey (or primary) whose flags allow encryption; the one that
 * stays valid longest is chosen.
 * Returns 0 with *out set (free with enc_key_free()) and *expires set to
 * the time the key (the chosen subkey) stops being valid ((time_t)-1:
 * never), or -1 with the reason in err.
 */
int	 enc_key_load(const char *path, enum conf_enc_method method,
	    time_t now, struct enc_key **out, time_t *expires, char *err,
	    size_t errsize) F2M_WUR;
/* The identity shown in messages: the certificate's subject, the
 * OpenPGP subkey's fingerprint. */
const char	*enc_key_name(const struct enc_key *);
void	 enc_key_free(struct enc_key *);

/*
 * Loads every key of every form of cf whose enc_method is set.  Each
 * problem is reported on stderr (and through log_err when log is set)
 * as "FILE:LINE:COLUMN: key PATH: reason" at the key's place in the
 * config; a key that expires within ENC_WARN_DAYS days is a warning.
 * Returns 0 with *out set (free with enc_set_free(); a config without
 * encrypted forms gives an empty set), or -1 when any key is refused
 * (*out NULL).
 */
int	 enc_set_load(const struct conf *cf, time_t now, int log,
	    struct enc_set **out) F2M_WUR;
/* The keys of form id, or NULL (also for a NULL set). */
const struct enc_form *enc_set_find(const struct enc_set *, const char *id);
void	 enc_set_free(struct enc_set *);

#endif
