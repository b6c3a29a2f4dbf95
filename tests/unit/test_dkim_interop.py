#!/usr/bin/python3
"""DKIM interoperability: form2mail's signatures checked by four verifiers.

usage: test_dkim_interop.py DKIM_INTEROP FORM2MAIL

DKIM_INTEROP is the build's dkim_interop (tests/unit/dkim_interop.c),
FORM2MAIL the form2mail binary.  Keys come from `form2mail keygen` (RSA
2048 and Ed25519), their TXT records from its output.  Three messages are
built by message_build() and signed by sign_message(), form2mail's own
signer: rsa-sha256 only, ed25519-sha256 only, and both (the way form2mail
sends them).  Each also gets three tampered copies: one body byte
changed, the Subject changed, a second From header added.

Every copy goes to each verifier, and each verifier's own verdict is
printed per signature:

  dkimpy      python3-dkim 1.1.4, dkim.DKIM.verify(idx=i), keys from DNS
  opendkim    libopendkim 2.11's verify API (dkim_interop opendkim), keys
              from a DKIM_QUERY_FILE holding the same TXT values
              (opendkim-testmsg, its command-line verifier, cannot be
              used: it asks the system resolver, port 53, and takes no
              key file)
  rspamd      rspamd 3.4's dkim module (POST /checkv2 from 192.0.2.7):
              R_DKIM_ALLOW / R_DKIM_REJECT and DKIM_TRACE per signature
  Mail::DKIM  libmail-dkim-perl 1.20230212 (tests/unit/mail_dkim_verify.pl)

dkimpy, rspamd and Mail::DKIM ask the DNS: a dnsmasq of this test on a
free loopback port (tests/unit/rspamd_ctl.py starts it and rspamd, and
stops both by pid on exit) that answers the two TXT records and NXDOMAIN
to everything else.

Expected: every signature of a good copy passes in every verifier, and
every signature of a tampered copy fails in every verifier.  One
exception, checked as such: Debian 12's Mail::DKIM 1.20230212 does not
implement Ed25519 (RFC 8463).  It must report each ed25519-sha256
signature "invalid" with "unsupported algorithm ed25519-sha256" (never
pass), while the rsa-sha256 signature of the same message passes (good
copies) or fails (tampered copies).

Exit status 0 when all is as expected, 1 otherwise, 77 (skipped) when a
verifier is not installed.  Run with Debian's /usr/bin/python3.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import rspamd_ctl  # noqa: E402

DOMAIN = "example.test"
RSA_SEL, ED_SEL = "f2mr", "f2me"
PERL = "/usr/bin/perl"
MAIL_DKIM = os.path.join(HERE, "mail_dkim_verify.pl")
UNSUPPORTED = "unsupported algorithm ed25519-sha256"
CLIENT_IP = "192.0.2.7"     # not loopback: rspamd skips DKIM for local mail
TIMEOUT = 60


def skip_reason():
    try:
        import dkim  # noqa: F401
        import dns.resolver  # noqa: F401
    except ImportError as e:
        return "python3-dkim / python3-dnspython: %s" % e
    if not os.access(rspamd_ctl.RSPAMD, os.X_OK):
        return "%s not installed (Debian package rspamd)" % rspamd_ctl.RSPAMD
    if not os.access(rspamd_ctl.DNSMASQ, os.X_OK):
        return "%s not installed (dnsmasq-base)" % rspamd_ctl.DNSMASQ
    if subprocess.run([PERL, "-MMail::DKIM::Verifier", "-MNet::DNS", "-e",
                       "1"], capture_output=True).returncode != 0:
        return "Mail::DKIM or Net::DNS missing (libmail-dkim-perl)"
    return None


def run(args, **kw):
    return subprocess.run(args, capture_output=True, timeout=TIMEOUT, **kw)


def keygen(form2mail, d, selector, alg):
    """form2mail keygen; returns (key path, record name, TXT value)."""
    key = os.path.join(d, selector + ".pem")
    p = run([form2mail, "keygen", "--domain", DOMAIN, "--selector", selector,
             "--algorithm", alg, "--out", key])
    out = p.stdout.decode()
    m = re.fullmatch(r'(\S+)\.\s+TXT\s+((?:"[^"]*"\s*)+)\n', out)
    if p.returncode != 0 or m is None:
        raise RuntimeError("keygen %s: exit %d, stdout %r, stderr %r" %
                           (alg, p.returncode, out, p.stderr.decode()))
    return key, m.group(1), "".join(re.findall(r'"([^"]*)"', m.group(2)))


# -- the copies ---------------------------------------------------------

def tamper_body(msg):
    head, sep, body = msg.partition(b"\r\n\r\n")
    i = body.index(b"New signup")
    return head + sep + body[:i] + b"M" + body[i + 1:]


def tamper_subject(msg):
    out, n = re.subn(rb"(?m)^Subject: [^\r]*\r\n", b"Subject: Pay now\r\n",
                     msg, count=1)
    assert n == 1
    return out


def tamper_from(msg):
    return b"From: Mallory <mallory@example.test>\r\n" + msg


TAMPER = [("body byte", tamper_body), ("Subject", tamper_subject),
          ("added From", tamper_from)]


# -- the verifiers: each returns ([(alg, ok, verdict)], message note) --------

def v_dkimpy(path, dns_port):
    import dkim
    import dns.resolver

    res = dns.resolver.Resolver(configure=False)
    res.nameservers = ["127.0.0.1"]
    res.port = dns_port
    res.lifetime = 5

    def dnsfunc(name, timeout=5):
        try:
            a = res.resolve(name.decode() if isinstance(name, bytes)
                            else name, "TXT")
        except dns.exception.DNSException:
            return None
        return b"".join(b"".join(r.strings) for r in a)

    with open(path, "rb") as f:
        msg = f.read()
    n = len(re.findall(rb"(?mi)^dkim-signature:", msg))
    out = []
    for i in range(n):
        d = dkim.DKIM(msg)
        try:
            ok = bool(d.verify(idx=i, dnsfunc=dnsfunc))
            why = "pass" if ok else "fail"
        except dkim.DKIMException as e:
            ok, why = False, "fail (%s)" % e
        alg = (d.signature_fields or {}).get(b"a", b"?").decode()
        out.append((alg, ok, why))
    return out, None


def parse_lines(text):
    """'signature N: VERDICT a=ALG ... [(why)]' lines; 'message: ...'."""
    sigs, note = [], None
    for line in text.splitlines():
        m = re.match(r"signature \d+: (\S+) a=(\S+) .*?(?: \((.*)\))?$",
                     line)
        if m:
            sigs.append((m.group(2), m.group(1),
                         m.group(1) + (" (%s)" % m.group(3)
                                       if m.group(3) else "")))
        elif line.startswith("message: "):
            note = line[len("message: "):]
    return sigs, note


def v_opendkim(path, tool, queryfile):
    p = run([tool, "opendkim", queryfile, path])
    if p.returncode not in (0, 1):
        raise RuntimeError("dkim_interop opendkim: exit %d: %s" %
                           (p.returncode, p.stderr.decode()[-2000:]))
    sigs, note = parse_lines(p.stdout.decode())
    return [(a, v == "pass", w) for a, v, w in sigs], note


def v_mail_dkim(path, dns_port):
    p = run([PERL, MAIL_DKIM, str(dns_port), path])
    if p.returncode != 0:
        raise RuntimeError("mail_dkim_verify.pl: exit %d: %s" %
                           (p.returncode, p.stderr.decode()[-2000:]))
    sigs, note = parse_lines(p.stdout.decode())
    # ok: pass; None: the documented "unsupported" of Ed25519.
    out = []
    for a, v, w in sigs:
        ok = v == "pass"
        if a == "ed25519-sha256" and v == "invalid" and UNSUPPORTED in w:
            ok = None
        out.append((a, ok, w))
    return out, note


def rspamd_check(port, msg):
    req = (b"POST /checkv2 HTTP/1.0\r\nIP: " + CLIENT_IP.encode() +
           b"\r\nHelo: www." + DOMAIN.encode() +
           b"\r\nFrom: forms@" + DOMAIN.encode() +
           b"\r\nRcpt: signups@example.net\r\nContent-Length: " +
           str(len(msg)).encode() + b"\r\n\r\n" + msg)
    with socket.create_connection(("127.0.0.1", port), 10) as s:
        s.settimeout(TIMEOUT)
        s.sendall(req)
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    head, _, body = data.partition(b"\r\n\r\n")
    if b" 200 " not in head.split(b"\r\n")[0]:
        raise RuntimeError("rspamd: %r" % data[:500])
    return json.loads(body)


def only_signature(msg, i):
    """msg with its DKIM-Signature fields other than the i-th removed."""
    head, sep, body = msg.partition(b"\r\n\r\n")
    fields = re.split(rb"\r\n(?![ \t])", head)
    sig = [j for j, f in enumerate(fields)
           if f.lower().startswith(b"dkim-signature:")]
    keep = [f for j, f in enumerate(fields) if j not in sig or j == sig[i]]
    return b"\r\n".join(keep) + sep + body


def rspamd_verdict(port, msg):
    """True: R_DKIM_ALLOW, no R_DKIM_REJECT, DKIM_TRACE all "+"; False:
    the reverse; "mixed" otherwise.  With the symbols for the record."""
    syms = rspamd_check(port, msg).get("symbols", {})
    trace = syms.get("DKIM_TRACE", {}).get("options", [])
    allow, reject = "R_DKIM_ALLOW" in syms, "R_DKIM_REJECT" in syms
    if allow and not reject and trace and \
            all(o.endswith(":+") for o in trace):
        v = True
    elif reject and not allow and trace and \
            all(o.endswith(":-") for o in trace):
        v = False
    else:
        v = "mixed"
    dkim_syms = sorted(k for k in syms if "DKIM" in k)
    return v, "%s %s" % (" ".join(dkim_syms) or "no DKIM symbol", trace)


def v_rspamd(path, port, algs):
    """rspamd's symbols are per message and its DKIM_TRACE options per
    domain (two signatures of one domain show as one option), so a
    message with two signatures is judged whole and then once per
    signature, with the other DKIM-Signature field removed; each verdict
    must agree with the whole message's."""
    with open(path, "rb") as f:
        msg = f.read()
    whole, note = rspamd_verdict(port, msg)
    if len(algs) == 1:
        return [(algs[0], whole, note)], None
    out = []
    for i, a in enumerate(algs):
        v, why = rspamd_verdict(port, only_signature(msg, i))
        if v != whole:
            v, why = "mixed", "%s alone, %s whole" % (why, note)
        out.append((a, v, "alone: " + why))
    return out, note


# -- the run ----------------------------------------------------------------

def judge(verifier, good, sigs, want_algs):
    """Prints the verdicts; returns the number of unexpected ones."""
    bad = 0
    got_algs = [a for a, _, _ in sigs]
    if got_algs != want_algs:
        print("  %-10s FAIL: signatures %s, expected %s" %
              (verifier, got_algs, want_algs))
        return 1
    for a, ok, why in sigs:
        if ok is None:
            # Mail::DKIM and Ed25519: unsupported, never a pass.
            verdict = "expected (Mail::DKIM 1.20230212 has no Ed25519)"
        elif ok is True and good or ok is False and not good:
            verdict = "expected"
        else:
            verdict = "UNEXPECTED (want %s)" % ("pass" if good else "fail")
            bad += 1
        print("  %-10s %-14s %-40s %s" % (verifier, a, why, verdict))
    return bad


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    tool, form2mail = (os.path.abspath(a) for a in argv[1:])
    why = skip_reason()
    if why:
        print("skip: %s" % why)
        return 77
    top = tempfile.mkdtemp(prefix="test_dkim_interop.")
    os.chmod(top, 0o711)    # rspamd's workers run as _rspamd
    rs = None
    bad = 0
    try:
        rsa_key, rsa_name, rsa_txt = keygen(form2mail, top, RSA_SEL,
                                            "rsa-sha256")
        ed_key, ed_name, ed_txt = keygen(form2mail, top, ED_SEL,
                                         "ed25519-sha256")
        txt = {rsa_name: rsa_txt, ed_name: ed_txt}
        queryfile = os.path.join(top, "keys.query")
        with open(queryfile, "w") as f:
            for n, v in sorted(txt.items()):
                f.write("%s %s\n" % (n, v))
        rsa_spec = "%s:rsa-sha256:%s" % (RSA_SEL, rsa_key)
        ed_spec = "%s:ed25519-sha256:%s" % (ED_SEL, ed_key)
        messages = [("rsa-sha256", [rsa_spec], ["rsa-sha256"]),
                    ("ed25519-sha256", [ed_spec], ["ed25519-sha256"]),
                    ("dual", [ed_spec, rsa_spec],
                     ["rsa-sha256", "ed25519-sha256"])]
        copies = []
        for name, specs, algs in messages:
            p = run([tool, "sign", DOMAIN] + specs)
            if p.returncode != 0:
                raise RuntimeError("dkim_interop sign %s: exit %d: %s" %
                                   (name, p.returncode,
                                    p.stderr.decode()[-2000:]))
            copies.append((name, "good", True, p.stdout, algs))
            for tname, f in TAMPER:
                copies.append((name, tname, False, f(p.stdout), algs))

        rs = rspamd_ctl.Rspamd(os.path.join(top, "rs-top"), txt=txt)
        os.makedirs(rs.top, exist_ok=True)
        rs.start()
        print("dnsmasq on 127.0.0.1:%d, rspamd on 127.0.0.1:%d" %
              (rs.dns_port, rs.port))

        for i, (name, tname, good, msg, algs) in enumerate(copies):
            path = os.path.join(top, "copy-%d.eml" % i)
            with open(path, "wb") as f:
                f.write(msg)
            print("%s message, %s copy:" % (name, tname if good else
                                            "tampered (%s)" % tname))
            results = [
                ("dkimpy", v_dkimpy(path, rs.dns_port)),
                ("opendkim", v_opendkim(path, tool, queryfile)),
                ("rspamd", v_rspamd(path, rs.port, algs)),
                ("Mail::DKIM", v_mail_dkim(path, rs.dns_port)),
            ]
            for verifier, (sigs, note) in results:
                bad += judge(verifier, good, sigs, algs)
                if note:
                    print("  %-10s message: %s" % (verifier, note))
            # Mail::DKIM's verdict on the message follows its RSA signature.
            note = results[3][1][1] or ""
            if "rsa-sha256" in algs:
                want = "pass" if good else "fail"
                if not note.startswith(want):
                    print("  Mail::DKIM message verdict %r, expected %s" %
                          (note, want))
                    bad += 1
            elif note.startswith("pass"):
                print("  Mail::DKIM passed an Ed25519-only message")
                bad += 1
    except Exception as e:
        print("error: %s: %s" % (type(e).__name__, e))
        if rs is not None:
            rs.tail()
        bad += 1
    finally:
        if rs is not None:
            rs.stop()
        if os.environ.get("KEEP") != "1":
            shutil.rmtree(top, ignore_errors=True)
        else:
            print("kept %s" % top)
    print("%s: %d unexpected verdict%s" % ("FAIL" if bad else "ok", bad,
                                            "" if bad == 1 else "s"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
