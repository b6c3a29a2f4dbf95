/*
 * encrypt: the notification of an encrypted form, end to end
 * (docs/DESIGN.md "Encrypted notifications"): S/MIME enveloped data
 * (RFC 8551, AES-256-CBC: gpgsm 2.2 cannot read AES-GCM's
 * AuthEnvelopedData) or PGP/MIME (RFC 3156), to the keys of
 * mail/enc_key.h.  Public keys only: nothing here can decrypt.
 */
#ifndef F2M_ENCRYPT_H
#define F2M_ENCRYPT_H

#include "lib/buf.h"
#include "mail/enc_key.h"

/*
 * Replaces msg, a message as message_build() writes it, by its encrypted
 * form.  The inner entity is the whole message: its Content-Type (with
 * protected-headers="v1", RFC 9788) and Content-Transfer-Encoding, then
 * its other header fields (From, Reply-To, To, Cc, Subject, Date,
 * Message-ID, Auto-Submitted, X-Originating-IP) as protected headers,
 * then its body with every attachment.  The outer message has From, To,
 * Cc, Date, Message-ID, MIME-Version and Auto-Submitted as msg has them,
 * Subject: subject (the form's encrypted_subject), and the ciphertext:
 * application/pkcs7-mime; smime-type=enveloped-data (base64), or
 * multipart/encrypted with the application/pgp-encrypted "Version: 1"
 * part and the armoured message (boundary from id).  No Reply-To and no
 * other header field of msg is outside.
 * Returns 0 with msg replaced, or -1 (logged: a message it cannot
 * parse, a subject that is not header text, ENOMEM, a library failure)
 * with msg as it was.
 */
int	 encrypt_message(const struct enc_form *ef, const char *subject,
	    const char *id, struct buf *msg) F2M_WUR;

#endif
