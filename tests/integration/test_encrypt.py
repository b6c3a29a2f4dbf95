"""End-to-end encrypted notifications (docs/DESIGN.md "Encrypted
notifications"), through real nginx, the sandboxed workers and real
Postfix + Dovecot, with keys made here (tests/unit/mail/make_enc_keys.sh:
openssl certificates, gpg keys with a cv25519 encryption subkey):

1. with the relay unreachable the posts stay queued: no file under
   spool_dir (queue/, held/, failed/, tmp/) holds the nonce the visitor
   typed into the name, the message and the file;
2. delivered, S/MIME: `openssl cms -decrypt` and `gpgsm --decrypt`
   (GnuPG's own S/MIME, key imported from a p12) recover the same inner
   entity: the exact text, the attachment byte for byte, and the
   protected headers (Subject, Reply-To) that Python's email reads; two
   recipients with two certificates can each decrypt;
3. delivered, PGP/MIME: multipart/encrypted with the "Version: 1" part;
   `gpg --decrypt` recovers the same, each of two recipients with only
   their own secret key;
4. the outer message holds none of the visitor's words (Subject is
   encrypted_subject, no Reply-To) and both DKIM signatures verify;
   the autoresponder's reply to the visitor is not encrypted;
5. a key file replaced by garbage: `check` refuses it at its
   file:line:column, a SIGHUP reload is refused, and posts are still
   encrypted with the old key."""
import email
import email.policy
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import FAILS, PASSED, check  # noqa: E402

JSON = {"Accept": "application/json"}
NONCE = "q7Zr" + os.urandom(6).hex()
VISITOR = "visitor@example.net"
PDF = b"%PDF-1.4\n" + os.urandom(3000) + b"\n" + NONCE.encode() + b"\n%%EOF\n"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def sh(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=60, **kw)


def make_keys(d):
    r = sh(["sh", os.path.join(REPO, "tests/unit/mail/make_enc_keys.sh"), d])
    if r.returncode != 0:
        raise h.HarnessError("make_enc_keys.sh: %s" % r.stderr[-500:])
    # one gpg home per recipient, each with its own secret key only
    for n in ("pgpgood", "pgpgood2"):
        home = os.path.join(d, "home-" + n)
        os.makedirs(home, mode=0o700)
        sec = sh(["gpg", "--batch", "--homedir", os.path.join(d, "gpg"),
                  "--pinentry-mode", "loopback", "--passphrase", "",
                  "--export-secret-keys", n + "@example.org"]).stdout
        sh(["gpg", "--batch", "--homedir", home, "--import"], input=sec)
    sh(["gpgconf", "--homedir", os.path.join(d, "gpg"), "--kill",
        "gpg-agent"])


def form(keys, method, **kw):
    f = h.contact_form(
        recipients=["Sales <sales@example.test>"],
        subject="Contact: {{name}}",
        encrypt={"method": method, "keys": keys},
        uploads={"allowed_types": ["application/pdf"],
                 "max_file_size": 100000, "max_files": 1,
                 "max_total": 100000})
    f.update(kw)
    return f


def post(ngx, name, tag):
    body, ctype = h.multipart(
        {"name": "Ada %s %s" % (tag, NONCE), "email": VISITOR,
         "message": "Line one %s\nLine two: secret %s" % (tag, NONCE)},
        [("doc", "plan-%s.pdf" % NONCE, "application/pdf", PDF)])
    s, hd, b = ngx.post("/f2m/" + name, body,
                        dict(JSON, **{"Content-Type": ctype}))
    check(s == 200, "%s: post accepted" % name, 200, (s, b[:300]))
    return json.loads(b).get("id") if s == 200 else None


def spool_grep(spool_dir, needle):
    hits, n = [], 0
    for root, dirs, files in os.walk(spool_dir):
        for f in files:
            n += 1
            with open(os.path.join(root, f), "rb") as fh:
                if needle in fh.read():
                    hits.append(os.path.join(root, f))
    return hits, n


def outer_checks(tag, raw, keys, subject):
    head = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else \
        raw.split(b"\n\n", 1)[0]
    m = h.parse_message(raw)
    check(NONCE.encode() not in raw, "%s: the received message holds no "
          "visitor text in clear" % tag, None, head[:600])
    check(str(m["Subject"]) == subject, "%s: the outer Subject is "
          "encrypted_subject" % tag, subject, str(m["Subject"]))
    check(m["Reply-To"] is None, "%s: no outer Reply-To" % tag, None,
          m["Reply-To"])
    res = h.verify_dkim(raw, keys.txt)
    check(len(res) == 2 and all(r[4] for r in res), "%s: both DKIM "
          "signatures verify on the outer message" % tag, None, res)
    return m


def inner_checks(tag, inner, sid):
    """inner: the decrypted entity (bytes) of the post tagged tag's first
    word."""
    what, tag = tag, tag.split("/")[0]
    m = email.message_from_bytes(inner, policy=email.policy.default)
    check(m.get_param("protected-headers") == "v1", "%s: protected-headers"
          "=\"v1\" on the inner Content-Type" % what, "v1",
          m.get("Content-Type"))
    check(str(m["Subject"]) == "Contact: Ada %s %s" % (tag, NONCE),
          "%s: the inner protected Subject" % what, NONCE, str(m["Subject"]))
    check(m["Reply-To"] is not None and
          m["Reply-To"].addresses[0].addr_spec == VISITOR,
          "%s: the inner Reply-To is the visitor" % what, VISITOR,
          str(m["Reply-To"]))
    check(str(m["Message-ID"]) == "<%s@example.test>" % sid, "%s: inner "
          "Message-ID" % what, sid, str(m["Message-ID"]))
    body = m.get_body(("plain",))
    text = body.get_content() if body is not None else ""
    want = "Line one %s\nLine two: secret %s" % (tag, NONCE)
    check(want in text.replace("\r\n", "\n"), "%s: the exact text" % what,
          want, text[:400])
    atts = list(m.iter_attachments())
    check(len(atts) == 1 and atts[0].get_content() == PDF and
          atts[0].get_filename() == "plan-%s.pdf" % NONCE,
          "%s: the attachment, byte for byte" % what, len(PDF),
          [(a.get_filename(), len(a.get_content())) for a in atts])


def openssl_decrypt(raw_path, kd, n):
    return sh(["openssl", "cms", "-decrypt", "-in", raw_path, "-recip",
               os.path.join(kd, n + ".pem"), "-inkey",
               os.path.join(kd, n + ".key")])


def gpgsm_decrypt(raw_path, kd, wd, n):
    """gpgsm reads the CMS object, not the mail: the base64 body, decoded
    by Python's email, goes in as DER."""
    with open(raw_path, "rb") as f:
        der = h.parse_message(f.read()).get_payload(decode=True)
    p7m = raw_path[:-4] + ".p7m"
    with open(p7m, "wb") as f:
        f.write(der)
    home = wd.sub("gpgsm-" + n, mode=0o700)
    env = dict(os.environ, GNUPGHOME=home)
    imp = sh(["gpgsm", "--batch", "--pinentry-mode", "loopback",
              "--passphrase", "", "--import", os.path.join(kd, n + ".p12")],
             env=env)
    r = sh(["gpgsm", "--batch", "--pinentry-mode", "loopback",
            "--passphrase", "", "--disable-crl-checks", "--decrypt",
            p7m], env=env)
    sh(["gpgconf", "--kill", "gpg-agent"], env=env)
    return imp, r


def pgp_decrypt(raw, kd, n):
    m = h.parse_message(raw)
    parts = list(m.iter_parts()) if m.is_multipart() else []
    arm = parts[1].get_payload(decode=True) if len(parts) == 2 else b""
    home = os.path.join(kd, "home-" + n)
    r = sh(["gpg", "--batch", "--homedir", home, "--decrypt"], input=arm)
    sh(["gpgconf", "--homedir", home, "--kill", "gpg-agent"])
    return m, parts, r


def save(wd, name, raw):
    p = os.path.join(str(wd), name + ".eml")
    with open(p, "wb") as f:
        f.write(raw)
    return p


def phase_spool(ngx, cfg, f2m):
    ids = {n: post(ngx, n, n) for n in ("smime", "smime2", "pgp", "pgp2")}
    queued = os.path.join(cfg["spool_dir"], "queue")
    h.wait_until(lambda: all(i and os.path.exists(os.path.join(queued, i))
                             for i in ids.values()), timeout=10,
                 what="the posts queued")
    time.sleep(1)       # the deliverer has tried (closed port) and deferred
    hits, n = spool_grep(cfg["spool_dir"], NONCE.encode())
    print("spool: %d files, %d with the nonce" % (n, len(hits)))
    check(n >= 4 and not hits, "no file under spool_dir holds the nonce "
          "(queue/, held/, failed/, tmp/)", [], hits)
    with open(os.path.join(queued, ids["smime"]), "rb") as f:
        data = f.read()
    check(b"application/pkcs7-mime; smime-type=enveloped-data" in data,
          "the queued S/MIME job is enveloped data", None, data[:600])
    with open(os.path.join(queued, ids["pgp"]), "rb") as f:
        data = f.read()
    check(b"multipart/encrypted" in data and b"BEGIN PGP MESSAGE" in data,
          "the queued OpenPGP job is PGP/MIME", None, data[:600])
    return ids


def phase_smime(wd, mta, keys, kd, ids):
    raw = mta.copies("<%s@example.test>" % ids["smime"])
    raw = raw[0][1] if raw else b""
    m = outer_checks("smime", raw, keys, "Form submission")
    check(m.get_content_type() == "application/pkcs7-mime" and
          m.get_param("smime-type") == "enveloped-data", "smime: outer "
          "Content-Type", "application/pkcs7-mime", m.get("Content-Type"))
    p = save(wd, "smime", raw)
    r = openssl_decrypt(p, kd, "good")
    print("openssl cms -decrypt -in smime.eml -recip good.pem -inkey "
          "good.key: rc=%d, %d octets" % (r.returncode, len(r.stdout)))
    check(r.returncode == 0, "smime: openssl cms -decrypt", 0, r.stderr)
    inner_checks("smime", r.stdout, ids["smime"])
    imp, g = gpgsm_decrypt(p, kd, wd, "good")
    print("gpgsm --decrypt smime.p7m: rc=%d, %d octets (%s)" % (
        g.returncode, len(g.stdout), g.stderr.decode()[-200:].strip()))
    check(g.returncode == 0, "smime: gpgsm --decrypt", 0,
          (imp.stderr[-300:], g.stderr[-500:]))
    check(g.stdout.replace(b"\r\n", b"\n") == r.stdout.replace(b"\r\n",
          b"\n"), "smime: gpgsm and openssl recover the same entity",
          len(r.stdout), len(g.stdout))
    inner_checks("smime/gpgsm", g.stdout, ids["smime"])
    raw2 = mta.copies("<%s@example.test>" % ids["smime2"])
    raw2 = raw2[0][1] if raw2 else b""
    outer_checks("smime2", raw2, keys, "Form submission")
    p2 = save(wd, "smime2", raw2)
    for n in ("good", "good2"):
        r = openssl_decrypt(p2, kd, n)
        check(r.returncode == 0, "smime2: the holder of %s decrypts" % n,
              0, r.stderr)
        inner_checks("smime2/" + n, r.stdout, ids["smime2"])
    # FIELD-NOTES: gpgsm exits 2 for several recipients, even after
    # decrypting; the output is what counts.
    imp, g = gpgsm_decrypt(p2, kd, wd, "good2")
    print("gpgsm --decrypt smime2.p7m (key good2): rc=%d, %d octets" % (
        g.returncode, len(g.stdout)))
    inner_checks("smime2/gpgsm", g.stdout, ids["smime2"])


def phase_pgp(wd, mta, keys, kd, ids):
    for name, homes in (("pgp", ["pgpgood"]), ("pgp2",
                                               ["pgpgood", "pgpgood2"])):
        raw = mta.copies("<%s@example.test>" % ids[name])
        raw = raw[0][1] if raw else b""
        outer_checks(name, raw, keys, "Neue Anfrage \u2709")
        save(wd, name, raw)
        for n in homes:
            m, parts, r = pgp_decrypt(raw, kd, n)
            check(m.get_content_type() == "multipart/encrypted" and
                  m.get_param("protocol") == "application/pgp-encrypted",
                  "%s: multipart/encrypted, RFC 3156" % name, None,
                  m.get("Content-Type"))
            check(len(parts) == 2 and parts[0].get_content_type() ==
                  "application/pgp-encrypted" and b"Version: 1" in
                  parts[0].get_payload(decode=True), "%s: the version part"
                  % name, "Version: 1", [p.get_content_type() for p in parts])
            print("gpg --decrypt (%s, home of %s): rc=%d, %d octets" % (
                name, n, r.returncode, len(r.stdout)))
            check(r.returncode == 0, "%s: gpg --decrypt with %s's key" %
                  (name, n), 0, r.stderr[-500:])
            inner_checks("%s/%s" % (name, n), r.stdout, ids[name])


def doctor_encrypt_lines(f2m):
    """The doctor's first lines (the keys, read before anything asks the
    network); the rest (DNS, the relay) is not waited for."""
    p = subprocess.Popen([f2m.binary, "doctor", "-c", f2m.config,
                          "--resolver", "127.0.0.1:%d" % h.free_port()],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True, env=f2m._env())
    out = []
    try:
        for line in p.stdout:
            if "encrypt:" not in line:
                break
            out.append(line.rstrip("\n"))
    finally:
        p.kill()
        p.wait()
    return out


def phase_warn(f2m, kd, cfg, d):
    """A key that expires in 10 days: check passes with a warning at the
    key's place, the doctor warns."""
    c = h.merge(cfg, {"forms": None})
    c["forms"] = {"soon": form([os.path.join(kd, "soon.pem")], "smime"),
                  "soonpgp": form([os.path.join(kd, "pgpsoon.asc")],
                                  "openpgp")}
    path = os.path.join(d, "soon.json")
    h.write_config(path, c)
    other = h.Form2mail(path)
    r = other.cli("check")
    warns = [l for l in r.stderr.splitlines() if "expires in" in l]
    print("check with keys that expire soon: rc=%d: %s" % (r.returncode,
                                                          warns))
    check(r.returncode == 0 and len(warns) == 2 and
          all("soon.json:" in l and ": warning: key " in l for l in warns),
          "check warns of both keys that expire within 30 days, at their "
          "place", "2 warnings", r.stderr[-600:])
    lines = doctor_encrypt_lines(other)
    check(len(lines) == 2 and all(l.startswith("warn") and "expires in" in l
                                  for l in lines), "the doctor warns too",
          "2 warn lines", lines)


def phase_autoreply(ngx, mta, keys):
    """The autoresponder is never encrypted: the visitor's reply is plain
    text, the notification of the same post is enveloped data."""
    mta.clear()
    ch = json.loads(ngx.get("/f2m/auto/challenge")[2])
    s, hd, b = ngx.post("/f2m/auto", {
        "name": "Ada", "email": VISITOR, "message": "auto " + NONCE,
        "altcha": h.altcha_solve(ch)}, JSON)
    check(s == 200, "auto: post accepted", 200, (s, b[:300]))
    mta.wait_messages(3, timeout=20)   # sales@, info@ and the visitor
    msgs = [h.parse_message(r) for _, r in mta.messages()]
    reply = [m for m in msgs if m["Auto-Submitted"] == "auto-replied"]
    note = [m for m in msgs if m["Auto-Submitted"] == "auto-generated"]
    check(len(reply) == 1 and reply[0].get_content_type() == "text/plain"
          and str(reply[0]["To"]) == VISITOR, "the autoreply goes to the "
          "visitor in plain text", "text/plain", [
              (m.get_content_type(), str(m["To"])) for m in msgs])
    check(len(note) == 2 and all(m.get_content_type() ==
          "application/pkcs7-mime" for m in note), "the notification of "
          "the same post is encrypted (both copies)", "application/pkcs7-mime",
          [m.get_content_type() for m in note])


def phase_reload(ngx, mta, f2m, kd, cfg, wd):
    good = os.path.join(kd, "good.pem")
    with open(good, "rb") as f:
        saved = f.read()
    with open(good, "wb") as f:
        f.write(b"-----BEGIN CERTIFICATE-----\ngarbage\n")
    r = f2m.cli("check")
    print("check with a garbage key: rc=%d: %s" % (r.returncode,
                                                   r.stderr.strip()[-300:]))
    check(r.returncode != 0 and "form2mail.json:" in r.stderr and
          "good.pem refused" in r.stderr, "check refuses the garbage key at "
          "its place in the file", "FILE:LINE:COL: key ... refused",
          r.stderr[-500:])
    lines = doctor_encrypt_lines(f2m)
    check(any(l.startswith("FAIL") and "form smime: key %s refused" % good
              in l for l in lines), "doctor fails the garbage key",
          "FAIL ... refused", lines)
    mark = len(f2m.log())
    f2m.reload()
    h.wait_until(lambda: "keeping the running config" in f2m.log()[mark:],
                 timeout=10, what="the reload refused",
                 diag=lambda: f2m.log()[mark:])
    log = f2m.log()[mark:]
    check("refused" in log and "keeping the running config" in log,
          "the reload is refused, the old config stays", None, log[-800:])
    mta.clear()
    sid = post(ngx, "smime", "after")
    mta.wait_messages(1, timeout=20)
    raw = mta.copies("<%s@example.test>" % sid)
    raw = raw[0][1] if raw else b""
    with open(good, "wb") as f:
        f.write(saved)
    r = openssl_decrypt(save(wd, "after", raw), kd, "good")
    check(r.returncode == 0, "after the refused reload: still encrypted "
          "with the old key", 0, r.stderr)
    inner_checks("after", r.stdout, sid)


def main():
    for tool in ("openssl", "gpg", "gpgsm"):
        if sh(["sh", "-c", "command -v " + tool]).returncode != 0:
            print("SKIP: %s missing (scripts/deps)" % tool)
            return 77
    with h.Workdir() as wd:
        kd = wd.sub("keys")
        make_keys(kd)
        pki = h.make_pki(wd.sub("pki"))
        keys = h.make_dkim_keys(wd.sub("dkim"), "example.test")
        mta = h.Mta(wd.sub("mta"), pki)
        mta.start()
        d = wd.sub("f2m")
        cfg = h.default_config(d, mta=mta, pki=pki, dkim=keys)
        cfg["limits"]["max_body"] = 1048576
        k = lambda *n: [os.path.join(kd, x) for x in n]
        cfg["forms"] = {
            "smime": form(k("good.pem"), "smime"),
            "smime2": form(k("good.pem", "good2.pem"), "smime"),
            "pgp": form(k("pgpgood.asc"), "openpgp",
                        encrypted_subject="Neue Anfrage \u2709"),
            "pgp2": form(k("pgpgood.asc", "pgpgood2.asc"), "openpgp",
                         encrypted_subject="Neue Anfrage \u2709"),
            "auto": h.contact_form(
                encrypt={"method": "smime", "keys": k("good.pem")},
                challenge={"type": "altcha", "max_number": 1000},
                fields={"name": {"max_length": 60}},
                autoresponder={"field": "email", "subject": "Thanks",
                               "per_address": "1d"}),
        }
        url = cfg["smtp"]["url"]
        cfg["smtp"]["url"] = "smtps://localhost:%d" % h.free_port()
        path = os.path.join(d, "form2mail.json")
        h.write_config(path, cfg)
        f2m = h.Form2mail(path)
        r = f2m.cli("check")
        check(r.returncode == 0, "check accepts the keys", 0, r.stderr)
        phase_warn(f2m, kd, cfg, d)
        f2m.start()
        ngx = h.Nginx(wd.sub("nginx"), pki, f2m.socket)
        ngx.start()
        try:
            ids = phase_spool(ngx, cfg, f2m)
            f2m.stop()
            cfg["smtp"]["url"] = url
            h.write_config(path, cfg)
            f2m.start()
            f2m.cli("queue", "retry")
            mta.wait_messages(4, timeout=30)
            phase_smime(wd, mta, keys, kd, ids)
            phase_pgp(wd, mta, keys, kd, ids)
            phase_autoreply(ngx, mta, keys)
            phase_reload(ngx, mta, f2m, kd, cfg, wd)
        finally:
            ngx.stop()
            f2m.stop()
            mta.stop()
        log = f2m.log()
        check("AddressSanitizer" not in log and "runtime error" not in log
              and "SIGSYS" not in log and "bad system call" not in log,
              "no sanitizer report, no seccomp kill", None, log[-2000:])
    print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
