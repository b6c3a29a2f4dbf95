#!/usr/bin/python3
"""Reads the message golden files with Python's email package (strict
policy: any defect raises) and checks that headers and bodies decode back to
the inputs of tests/unit/test_message.c.  Run from the repo root with
/usr/bin/python3; exit status 0 when all match."""
import email
import email.policy
import sys

DIR = "tests/data/message/"

TEXT = (
    "Name: Zoë Durand\n"
    "Email: zoe.durand@example.org\n"
    "\n"
    "Message:\n"
    "Bonjour,\n"
    "\n"
    "Je voudrais réserver deux places pour le spectacle du 12 décembre — "
    "est-ce encore possible ? Nous serons à Paris toute la semaine et "
    "pouvons venir n’importe quel soir.\n"
    ".\n"
    "From now on, 2+2=4 and 100% is 100 %.\n"
    "Trailing blanks here   \n"
    "\tTabbed line\t\n"
    "Emoji: 🎭\n"
    "-- \n"
    "Zoë\n"
)
HTML_TEXT = "New signup from the website.\r\nName: Ada\r\nPlan: pro €49/month"
HTML = (
    "<!DOCTYPE html>\n"
    '<html><head><meta charset="utf-8"><title>Signup</title></head>\n'
    '<body style="font-family: sans-serif; margin: 0; padding: 1em; '
    'color: #222; background-color: #fff;">\n'
    "<p>New signup from the website.</p>\n"
    "<table><tr><th>Name</th><td>Ada</td></tr>"
    "<tr><th>Plan</th><td>pro €49/month</td></tr></table>\n"
    "--=_f2mSpoofedBoundary0123456789\n"
    "</body></html>\n"
)

CASES = {
    "text.eml": {
        "headers": {
            "From": "Example Forms <forms@example.com>",
            "Reply-To": "Zoë Durand <zoe.durand@example.org>",
            "To": 'Sales <sales@example.com>, "Support Team (EU)" '
                  "<support-eu@example.com>, archive@example.com",
            "Cc": "Jürgen Groß <juergen@example.net>",
            "Subject": "Contact : « Écrire à l’équipe » — message de Zoë Durand",
            "Date": "Sat, 28 Nov 2026 00:26:26 +0000",
            "Message-ID": "<01hzx3k9q4w7m2n8p5r6t0v1yb@www.example.com>",
            "X-Originating-IP": "[192.0.2.7]",
            "Auto-Submitted": "auto-generated",
        },
        "parts": {"text/plain": TEXT},
    },
    "alternative.eml": {
        "headers": {
            "From": "Example Forms <forms@example.com>",
            "To": "Signups <signups@example.com>",
            "Subject": "New signup 🎉 from the website",
            "Message-ID": "<SpoofedBoundary0123456789@forms.example.com>",
            "X-Originating-IP": "[2001:db8::7]",
        },
        "parts": {"text/plain": HTML_TEXT, "text/html": HTML},
    },
}


def crlf(s):
    return s.replace("\r\n", "\n").replace("\n", "\r\n")


def main():
    bad = 0
    for name, want in CASES.items():
        with open(DIR + name, "rb") as f:
            msg = email.message_from_bytes(f.read(), policy=email.policy.strict)
        for part in msg.walk():
            if part.defects:
                print(f"{name}: {part.get_content_type()}: {part.defects}")
                bad += 1
        for h, v in want["headers"].items():
            if str(msg[h]) != v:
                print(f"{name}: {h}: expected {v!r}, got {str(msg[h])!r}")
                bad += 1
        for ctype, body in want["parts"].items():
            part = msg.get_body((ctype.split("/")[1],))
            got = part.get_content() if part is not None else None
            if got != crlf(body):
                print(f"{name}: {ctype}: expected {crlf(body)!r}, got {got!r}")
                bad += 1
    print("check_message:", "ok" if bad == 0 else f"{bad} mismatches")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
