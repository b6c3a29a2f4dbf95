#!/usr/bin/python3
"""Verify every DKIM-Signature of one message offline with dkimpy.

usage: verify_dkim.py [--expect N] MESSAGE NAME=TXTFILE [NAME=TXTFILE ...]

NAME is the DNS name of a key record ("sel._domainkey.example.com"), TXTFILE
a file holding its TXT value ("v=DKIM1; k=rsa; p=...").  No real DNS is
asked: a name not given here fails the signature that needs it.

Exit status: 0 when the message has at least one signature (exactly N with
--expect) and every signature verifies; 1 otherwise; 2 on usage errors.
Run with Debian's /usr/bin/python3 (python3-dkim, python3-nacl).
"""
import sys

import dkim


def main(argv):
    expect = None
    args = argv[1:]
    if len(args) >= 2 and args[0] == "--expect":
        try:
            expect = int(args[1])
        except ValueError:
            return usage()
        args = args[2:]
    if len(args) < 2:
        return usage()
    records = {}
    for a in args[1:]:
        name, sep, path = a.partition("=")
        if not sep or not name or not path:
            return usage()
        with open(path, "rb") as f:
            records[name.lower().rstrip(".").encode()] = f.read().strip()
    with open(args[0], "rb") as f:
        msg = f.read()

    def dnsfunc(name, timeout=5):
        if isinstance(name, str):
            name = name.encode()
        return records.get(name.lower().rstrip(b"."))

    d = dkim.DKIM(msg)
    n = sum(1 for line in msg.split(b"\n")
            if line.lower().startswith(b"dkim-signature:"))
    if n == 0:
        print("verify_dkim: no DKIM-Signature header", file=sys.stderr)
        return 1
    if expect is not None and n != expect:
        print("verify_dkim: expected %d signatures, found %d" % (expect, n),
              file=sys.stderr)
        return 1
    bad = 0
    for i in range(n):
        try:
            ok = d.verify(idx=i, dnsfunc=dnsfunc)
        except dkim.DKIMException as e:
            print("verify_dkim: signature %d: %s" % (i, e), file=sys.stderr)
            ok = False
        tags = d.signature_fields or {}
        print("signature %d: %s a=%s d=%s s=%s" % (
            i, "pass" if ok else "FAIL",
            tags.get(b"a", b"?").decode(), tags.get(b"d", b"?").decode(),
            tags.get(b"s", b"?").decode()))
        if not ok:
            bad += 1
    return 1 if bad else 0


def usage():
    print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
