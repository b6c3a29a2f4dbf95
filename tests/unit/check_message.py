#!/usr/bin/python3
"""Reads the message golden files with Python's email package (strict
policy: any defect raises) and checks that headers, bodies and attachments
(filename and bytes) decode back to the inputs of tests/unit/mail/test_message.c.
Run from the repo root with /usr/bin/python3; exit status 0 when all match
(ctest runs it as unit_message_python).

An attachment name is in one form only, filename="..." or filename*=
(RFC 2231, in sections when long), never both: both parsers, the new one
(policy.default, no defect allowed) and the legacy compat32 one, read the
exact name."""
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

ATT_TEXT = "Devis en pièce jointe.\n--=_f2m_AttachGolden2026\n"
ATT_HTML = (
    "<!DOCTYPE html>\n"
    "<html><body><p>Devis en pièce jointe.</p>\n"
    "--=_f2m_AttachGolden2026\n"
    "--=_f2m_AttachGolden2026--\n"
    "--=_f2mAttachGolden2026\n"
    "</body></html>\n"
)
PDF = (
    b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"\r\n--=_f2m_AttachGolden2026--\r\n\0\1\2\376\377\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)
NOTES = "Merci !\nRéunion le 3 mars.\n".encode()
JPEG = b"\xff\xd8\xff\xe0\0\20JFIF\0\1\1\0\0\1\0\1\0\0\xff\xd9"
PHOTO = ("Photographie du chantier — façade nord après la pose des "
         "échafaudages (vue depuis la rue Émile-Zola).jpg")

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
    "attachments.eml": {
        "headers": {
            "From": "Example Forms <forms@example.com>",
            "To": "Signups <signups@example.com>",
            "Subject": "Demande de devis — 3 pièces jointes",
            "Message-ID": "<AttachGolden2026@forms.example.com>",
        },
        "parts": {"text/plain": ATT_TEXT, "text/html": ATT_HTML},
        # name, type, bytes
        "attachments": [
            ("Devis été 2026 – n°1.pdf", "application/pdf", PDF),
            ('notes "v2".txt', "text/plain", NOTES),
            (PHOTO, "image/jpeg", JPEG),
        ],
    },
}


def check_attachments(name, raw, msg, want):
    bad = 0
    got = list(msg.iter_attachments())
    if len(got) != len(want):
        print(f"{name}: {len(got)} attachments, expected {len(want)}")
        return 1
    old = [p for p in email.message_from_bytes(
        raw, policy=email.policy.compat32).walk()
        if p.get_content_disposition() == "attachment"]
    for part, legacy, (fname, ctype, data) in zip(got, old, want):
        for h in ("content-type", "content-disposition"):
            for d in part[h].defects:
                print(f"{name}: {fname}: {h}: {d!r}")
                bad += 1
        checks = [
            ("get_filename()", part.get_filename(), fname),
            ("content type", part.get_content_type(), ctype),
            ("bytes", part.get_payload(decode=True), data),
            ("legacy get_filename()", legacy.get_filename(), fname),
            ("name", part.get_param("name", header="content-type"), fname),
        ]
        if part.get_content_maintype() != "text":
            checks.append(("get_content()", part.get_content(), data))
        for what, g, w in checks:
            if g != w:
                print(f"{name}: {fname}: {what}: expected {w!r}, got {g!r}")
                bad += 1
    return bad


def check_lines(name, raw):
    """Every line within 78 octets, one holding "=?" within 76 (RFC 2047
    section 2; QP and base64 bodies never hold "=?")."""
    bad = 0
    for n, line in enumerate(raw.split(b"\r\n"), 1):
        limit = 76 if b"=?" in line else 78
        if len(line) > limit:
            print(f"{name}: line {n} of {len(line)} octets (max {limit}): "
                  f"{line[:80]!r}")
            bad += 1
    return bad


def crlf(s):
    return s.replace("\r\n", "\n").replace("\n", "\r\n")


def main():
    bad = 0
    for name, want in CASES.items():
        with open(DIR + name, "rb") as f:
            raw = f.read()
        msg = email.message_from_bytes(raw, policy=email.policy.strict)
        bad += check_lines(name, raw)
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
        if "attachments" in want:
            bad += check_attachments(name, raw, msg, want["attachments"])
    print("check_message:", "ok" if bad == 0 else f"{bad} mismatches")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
