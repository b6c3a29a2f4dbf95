/*
 * message_sample: writes to stdout one message built by message_build(),
 * for tests/unit/mime_parsers.py to feed to real MIME readers.
 *
 *   message_sample SUBJECT FROM-DISPLAY TO-DISPLAY [FILENAME TYPE]...
 *
 * From is forms@example.com, To sales@example.com plus a second
 * recipient archive@example.com without a display name; the date, id
 * and text are fixed.  Attachment i (from 0) holds the octets
 * "form2mail attachment <i>\n".  Exit status 0, or 1 when message_build()
 * refuses the input (untrusted data!: that is the test's to judge) or
 * the arguments are wrong.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "mail/message.h"

#define SAMPLE_DATA_MAX	40

int
main(int argc, char *argv[])
{
	static const char		 text[] = "Bonjour,\n"
	    "une pi\xc3\xa8" "ce jointe par fichier.\n";
	struct message_attachment	 att[MESSAGE_MAX_ATTACHMENTS];
	char				 data[MESSAGE_MAX_ATTACHMENTS][SAMPLE_DATA_MAX];
	struct message_mailbox		 to[2];
	struct message			 m;
	struct buf			 out = BUF_INIT;
	size_t				 i, n;
	int				 rc = 1, k;

	if (argc < 4 || (argc - 4) % 2 != 0 ||
	    (size_t)(argc - 4) / 2 > MESSAGE_MAX_ATTACHMENTS) {
		fprintf(stderr, "usage: message_sample SUBJECT FROM-DISPLAY "
		    "TO-DISPLAY [FILENAME TYPE]...\n");
		return 1;
	}
	n = (size_t)(argc - 4) / 2;
	for (i = 0; i < n; i++) {
		k = snprintf(data[i], sizeof(data[i]),
		    "form2mail attachment %zu\n", i);
		if (k < 0 || (size_t)k >= sizeof(data[i]))
			return 1;
		att[i] = (struct message_attachment){ argv[4 + 2 * i],
		    argv[5 + 2 * i], data[i], (size_t)k };
	}
	to[0] = (struct message_mailbox){ argv[3], "sales@example.com" };
	to[1] = (struct message_mailbox){ NULL, "archive@example.com" };
	memset(&m, 0, sizeof(m));
	m.from = (struct message_mailbox){ argv[2], "forms@example.com" };
	m.to = to;
	m.nto = 2;
	m.subject = argv[1];
	m.id = "SampleForParsers2026";
	m.hostname = "forms.example.com";
	m.date = 1795825586;	/* Sat, 28 Nov 2026 00:26:26 +0000 */
	m.client_ip = "192.0.2.7";
	m.text = text;
	m.text_len = sizeof(text) - 1;
	m.attachments = n > 0 ? att : NULL;
	m.nattachments = n;
	if (message_build(&m, &out) == -1) {
		fprintf(stderr, "message_sample: message_build refused the "
		    "input\n");
		goto out;
	}
	if (fwrite(out.data, 1, out.len, stdout) != out.len ||
	    fflush(stdout) != 0) {
		perror("message_sample: stdout");
		goto out;
	}
	rc = 0;
out:
	buf_free(&out);
	return rc;
}
