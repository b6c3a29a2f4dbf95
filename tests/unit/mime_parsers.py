#!/usr/bin/python3
"""Feeds messages built by form2mail's message_build() (through the
message_sample program, argv[1]) to four real MIME readers and checks that
each reads the header texts and every attachment's name and bytes back
without a defect:

  - Python's email (policy.default): no defect on any part or header;
    Subject, From and To display names equal to the inputs, and all three
    headers through email.header.decode_header(); get_filename() and the
    Content-Type name exact; the payload bytes;
  - MIME::Parser (Debian libmime-tools-perl): no error or warning;
    recommended_filename() exact; the body bytes;
  - reformime -i (maildrop): content-name and content-disposition-filename
    exact; reformime -e -s gives the bytes;
  - ripmime -i MSG -d DIR: exactly the expected files under their names,
    with the bytes, nothing on stderr.

What a reader does whatever the message says is expected as measured,
nothing else: ripmime cuts a name at a '?' that no '=' precedes and keeps
at most 128 octets of it (its filename-filters.c), and for an attachment
after the first whose name is longer it may write a second copy under the
whole name; Python 3.11's policy.default keeps a space between two
adjacent encoded words of a display name (CPython gh-128110, fixed by
python/cpython#130749; RFC 2047 section 6.2 drops it), so a display name
in several words reads back either exactly or with one space at each
word boundary.  A reader that is missing is a failure, not a skip:
scripts/deps installs them all.

Exit status 0 when every reader read every message right; run with
/usr/bin/python3 (Debian's, for its email package)."""
import base64
import email
import email.header
import email.policy
import email.utils
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_message import check_lines  # noqa: E402

PERL = r'''
use strict; use warnings;
use MIME::Parser; use Encode;
binmode STDOUT;
my $p = MIME::Parser->new;
$p->output_to_core(1); $p->tmp_to_core(1); $p->extract_nested_messages(0);
local $/; my $raw = <STDIN>;
my $e = eval { $p->parse_data($raw) };
if (!$e) { print "DEFECT parse: $@\n"; exit 0; }
for my $w ($p->results->errors, $p->results->warnings) {
	chomp $w; print "DEFECT $w\n";
}
for my $part ($e->parts_DFS) {
	next if $part->parts;
	my $n = $part->head->recommended_filename;
	next unless defined $n;
	$n = encode('UTF-8', $n) if utf8::is_utf8($n);
	print "FILE ", unpack("H*", $n), " ",
	    unpack("H*", $part->bodyhandle->as_string), "\n";
}
'''

PHOTO = ("Photographie du chantier — façade nord après la pose des "
         "échafaudages (vue depuis la rue Émile-Zola) ✓.jpg")
LONG_ASCII = ("Quarterly report of the regional office for the north-east "
              "district - final version 2026.pdf")
MIXED_255 = ("é€😀 x" * 23)[:-4] + "-end.pdf"

# label, subject, From display, To display, [(filename, type)]
CASES = [
    ("ascii", "Contact form: a message", "Example Forms", "Sales",
     [("report-2026.pdf", "application/pdf"),
      ("What! 100% 'sure' *now*; (1) [draft] & co=1 ~ $x.pdf",
       "application/pdf"),
      ("a" * 61 + ".pdf", "application/pdf"),
      ("b" * 62 + ".pdf", "application/pdf"),
      (LONG_ASCII, "application/pdf")]),
    ("quotes", 'Re: "quoted" =?UTF-8?B?SGk=?= text', 'Say "hi" \\o/',
     "Doe, Jane",
     [('notes "v2".txt', "text/plain"),
      ("=?UTF-8?B?SGk=?=.pdf", "application/pdf"),
      ("%41 it's 100%.txt", "text/plain")]),
    ("french", "Contact : « Écrire à l’équipe » — message de Zoë Durand, "
     "qui voudrait réserver deux places pour le spectacle du 12 décembre",
     "Zoë Durand-Lefèvre de la Fontaine-aux-Bois ✓ (équipe 2)",
     "Service Clientèle — Région Île-de-France, équipe « après-vente »",
     [("Préfecture résumé – 2026 ✓.pdf", "application/pdf"),
      (PHOTO, "image/jpeg")]),
    ("wide", "Merci 🙏 " * 12 + "日本語のテキスト",
     "😀" * 30, "日本語の名前" * 5,
     [("日本語のファイル名.pdf", "application/pdf"),
      ("😀" * 20 + ".png", "image/png"),
      (MIXED_255, "application/pdf")]),
    ("ripmime-limits", "Why? Because.", "A", "B",
     [("Why? Because.pdf", "application/pdf"),
      ("n" * 200 + ".pdf", "application/pdf")]),
]

TIMEOUT = 60


def data_of(i):
    return f"form2mail attachment {i}\n".encode()


def ripmime_name(name):
    """The name ripmime writes, by its filters (filename-filters.c)."""
    b = name.encode()[:128]
    q = b.find(b"?")
    if q == 0:
        b = b"-" + b[1:]
    elif q > 0 and b[q - 1:q] != b"=":
        b = b[:q]
    return b


def display_gh128110(raw, field):
    """The first display name of field as Python 3.11 reads it when it is
    in encoded words: the words decoded and joined by one space."""
    for line in raw.split(b"\r\n\r\n")[0].decode().replace(
            "\r\n ", " ").split("\r\n"):
        if line.startswith(field + ": "):
            phrase = line[len(field) + 2:].split(" <")[0]
            if not phrase.startswith("=?UTF-8?B?"):
                return None
            return " ".join(base64.b64decode(w[10:-2]).decode()
                            for w in phrase.split(" "))
    return None


def read_python(raw, subject, from_d, to_d, files):
    bad = []
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    for part in msg.walk():
        bad += [f"defect: {d!r}" for d in part.defects]
        for k, v in part.items():
            bad += [f"{k}: defect {d!r}" for d in getattr(v, "defects", ())]
    if str(msg["Subject"]) != subject:
        bad.append(f"Subject: expected {subject!r}, got "
                   f"{str(msg['Subject'])!r}")
    for field, want in (("From", from_d), ("To", to_d)):
        g = msg[field].addresses[0].display_name
        if g != want and g != display_gh128110(raw, field):
            bad.append(f"{field} display: expected {want!r}, got {g!r}")
    old = email.message_from_bytes(raw, policy=email.policy.compat32)
    for field, want in (
            ("Subject", subject),
            ("From", f"{from_d} <forms@example.com>"),
            ("To", f"{to_d} <sales@example.com>, archive@example.com")):
        g = str(email.header.make_header(email.header.decode_header(
            old[field])))
        if field != "Subject" and "=?" not in old[field]:
            # not encoded: decode_header gives the raw quoted phrase
            g = email.utils.getaddresses([g])[0][0]
            want = from_d if field == "From" else to_d
        if g != want:
            bad.append(f"{field} (decode_header): expected {want!r}, "
                       f"got {g!r}")
    atts = list(msg.iter_attachments())
    if len(atts) != len(files):
        return bad + [f"{len(atts)} attachments, expected {len(files)}"]
    for i, (part, (name, ctype)) in enumerate(zip(atts, files)):
        for what, g, w in (
                ("get_filename()", part.get_filename(), name),
                ("Content-Type name",
                 part.get_param("name", header="content-type"), name),
                ("type", part.get_content_type(), ctype),
                ("bytes", part.get_payload(decode=True), data_of(i))):
            if isinstance(g, tuple):    # an RFC 2231 value, undecoded
                g = email.utils.collapse_rfc2231_value(g)
            if g != w:
                bad.append(f"{name!r}: {what}: expected {w!r}, got {g!r}")
    return bad


def read_perl(raw, files):
    r = subprocess.run(["perl", "-e", PERL], input=raw, capture_output=True,
                       timeout=TIMEOUT)
    bad = [f"exit {r.returncode}"] if r.returncode else []
    if r.stderr:
        bad.append("stderr: " + r.stderr.decode(errors="replace").strip())
    got = []
    for line in r.stdout.decode().splitlines():
        if line.startswith("FILE "):
            n, body = line[5:].split(" ")
            got.append((bytes.fromhex(n), bytes.fromhex(body)))
        else:
            bad.append(line)
    want = [(n.encode(), data_of(i)) for i, (n, _) in enumerate(files)]
    if got != want:
        bad.append(f"files: expected {want!r}, got {got!r}")
    return bad


def read_reformime(raw, files):
    r = subprocess.run(["reformime", "-i"], input=raw, capture_output=True,
                       timeout=TIMEOUT)
    bad = [f"exit {r.returncode}"] if r.returncode else []
    if r.stderr:
        bad.append("stderr: " + r.stderr.decode(errors="replace").strip())
    sections, cur = [], {}
    for line in r.stdout.split(b"\n") + [b""]:
        if line == b"":
            if "content-disposition-filename" in cur:
                sections.append(cur)
            cur = {}
        elif b": " in line:
            k, v = line.split(b": ", 1)
            cur[k.decode()] = v
    if len(sections) != len(files):
        return bad + [f"{len(sections)} named sections, expected "
                      f"{len(files)}"]
    for i, (sec, (name, _)) in enumerate(zip(sections, files)):
        for k in ("content-name", "content-disposition-filename"):
            if sec.get(k) != name.encode():
                bad.append(f"{name!r}: {k}: {sec.get(k)!r}")
        e = subprocess.run(["reformime", "-e", "-s",
                            sec["section"].decode()], input=raw,
                           capture_output=True, timeout=TIMEOUT)
        if e.returncode or e.stdout != data_of(i):
            bad.append(f"{name!r}: reformime -e: exit {e.returncode}, "
                       f"{e.stdout!r}")
    return bad


def read_ripmime(raw, files):
    d = tempfile.mkdtemp(prefix="f2m-ripmime-")
    try:
        with open(os.path.join(d, "msg"), "wb") as f:
            f.write(raw)
        out = os.path.join(d, "out")
        r = subprocess.run(["ripmime", "-i", os.path.join(d, "msg"), "-d",
                            out], capture_output=True, timeout=TIMEOUT)
        bad = [f"exit {r.returncode}"] if r.returncode else []
        if r.stderr or r.stdout:
            bad.append("output: " + (r.stdout + r.stderr).decode(
                errors="replace").strip())
        got = {}
        for n in os.listdir(os.fsencode(out)):
            if n.startswith(b"textfile"):   # the text parts, unnamed
                continue
            with open(os.path.join(os.fsencode(out), n), "rb") as f:
                got[n] = f.read()
        want = {ripmime_name(n): data_of(i)
                for i, (n, _) in enumerate(files)}
        for i, (n, _) in enumerate(files):
            if i > 0 and len(n.encode()) > 128 and \
                    got.get(n.encode()) == data_of(i):
                want[n.encode()] = data_of(i)   # the second copy
        if got != want:
            bad.append(f"files: expected {sorted(want)!r}, got "
                       f"{sorted(got)!r}")
        return bad
    finally:
        shutil.rmtree(d)


def main():
    if len(sys.argv) != 2:
        print("usage: mime_parsers.py MESSAGE_SAMPLE", file=sys.stderr)
        return 2
    missing = [p for p in ("perl", "reformime", "ripmime")
               if shutil.which(p) is None]
    r = subprocess.run(["perl", "-MMIME::Parser", "-e", "1"],
                       capture_output=True) if "perl" not in missing else None
    if r is not None and r.returncode != 0:
        missing.append("MIME::Parser (libmime-tools-perl)")
    if missing:
        print("mime_parsers: missing", ", ".join(missing),
              "(scripts/deps installs them)")
        return 1
    failed = 0
    print(f"{'case':16} {'python':8} {'MIME::Parser':13} {'reformime':10} "
          f"ripmime")
    for label, subject, from_d, to_d, files in CASES:
        args = [sys.argv[1], subject, from_d, to_d]
        for name, ctype in files:
            args += [name, ctype]
        b = subprocess.run(args, capture_output=True, timeout=TIMEOUT)
        if b.returncode != 0:
            print(f"{label}: message_sample failed: {b.stderr!r}")
            failed += 1
            continue
        raw = b.stdout
        results = [
            read_python(raw, subject, from_d, to_d, files),
            read_perl(raw, files),
            read_reformime(raw, files),
            read_ripmime(raw, files),
        ]
        nlines = check_lines(label, raw)
        print(f"{label:16} " + " ".join(
            f"{'ok' if not r else 'FAIL':{w}}"
            for r, w in zip(results, (8, 13, 10, 7))))
        for reader, r in zip(("python", "MIME::Parser", "reformime",
                              "ripmime"), results):
            for why in r:
                print(f"  {label}: {reader}: {why}")
        if any(results) or nlines:
            failed += 1
    print("mime_parsers:", "ok" if not failed else f"{failed} cases failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
