#!/usr/bin/python3
"""Self-test of the integration harness (real Postfix, Dovecot, nginx, curl).

Run as root: /usr/bin/python3 tests/integration/test_harness.py
Exit 0 when every check passed, 1 otherwise (each failure says what it
expected and what it got). KEEP=1 keeps the work directory.
"""

import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the work tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

failures = []
T0 = time.monotonic()
passed = 0


def check(name, ok, expected="", got=""):
    global passed
    if ok:
        passed += 1
        print("ok   %s  [%.2f]" % (name, time.monotonic() - T0))
    else:
        failures.append(name)
        print("FAIL %s\n     expected: %s\n     got:      %s" % (name, expected, got))


def curl_send(mta, url, user, password, rcpts, msg_file, extra=(),
              mail_from="bounces@example.test"):
    cmd = ["curl", "-sS", "--max-time", "10", "--url", url, "--cacert", mta.pki.ca,
           "--user", "%s:%s" % (user, password),
           "--mail-from", mail_from, "--upload-file", msg_file, *extra]
    for r in rcpts:
        cmd += ["--mail-rcpt", r]
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=20)
    return p.returncode, (p.stdout + p.stderr).strip()


def message(mid, subject):
    return ("From: Example Forms <forms@example.test>\r\n"
            "To: sales@example.test\r\n"
            "Subject: %s\r\n"
            "Message-ID: %s\r\n"
            "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
            "\r\n"
            "hello\r\n" % (subject, mid))


def main():
    t0 = time.monotonic()
    wd = h.Workdir(prefix="f2m-harness-")
    mta = nginx = None
    try:
        pki = h.make_pki(wd.sub("pki"))
        check("make_pki gives 5 files", all(os.path.exists(p) for p in pki),
              "5 existing paths", repr(pki))
        check("make_pki keys mode 0600",
              all(os.stat(p).st_mode & 0o777 == 0o600 for p in (pki.key, pki.wrong_key)),
              "0600", [oct(os.stat(p).st_mode & 0o777) for p in (pki.key, pki.wrong_key)])
        keys = h.make_dkim_keys(wd.sub("dkim"), "example.test")
        check("dkim keys mode 0600",
              all(os.stat(p).st_mode & 0o777 == 0o600 for p in (keys.rsa_key, keys.ed_key)),
              "0600", "")
        names = sorted(k.decode() for k in keys.txt)
        check("dkim txt names", names == ["f2me._domainkey.example.test.",
                                          "f2mr._domainkey.example.test."],
              "f2me/f2mr._domainkey.example.test.", names)
        check_dkim_verify(keys)

        mta = h.Mta(wd.sub("mta"), pki, username="forms@example.test",
                    password="pw-Secret1")
        ts = time.monotonic()
        mta.start()
        print("     (Mta started in %.2fs, ports %s)" % (time.monotonic() - ts, mta.ports()))

        m1 = wd.file("m1.eml")
        h.write_file(m1, message("<m1@harness.test>", "over smtps"))
        rc, out = curl_send(mta, mta.url("smtps"), mta.username, mta.password,
                            ["a@x.test", "b@y.test"], m1)
        check("curl smtps + AUTH, two RCPTs", rc == 0, "exit 0", "exit %d: %s" % (rc, out))

        m2 = wd.file("m2.eml")
        h.write_file(m2, message("<m2@harness.test>", "over starttls"))
        rc, out = curl_send(mta, mta.url("submission"), mta.username, mta.password,
                            ["c@z.test"], m2, extra=["--ssl-reqd"])
        check("curl smtp + STARTTLS (--ssl-reqd)", rc == 0, "exit 0", "exit %d: %s" % (rc, out))

        try:
            msgs = mta.wait_messages(3, timeout=10)
        except h.HarnessError as e:
            msgs = mta.messages()
            check("3 copies delivered", False, "3 messages", str(e))
        byid = mta.by_message_id()
        check("by_message_id", byid == {"<m1@harness.test>": 2, "<m2@harness.test>": 1},
              "{m1: 2, m2: 1}", byid)
        xo = sorted(h.header(r, "X-Original-To") for _, r in mta.copies("<m1@harness.test>"))
        check("two copies with distinct X-Original-To", xo == ["a@x.test", "b@y.test"],
              ["a@x.test", "b@y.test"], xo)
        env = mta.envelope_recipients("<m1@harness.test>")
        check("envelope_recipients(m1)", env == ["a@x.test", "b@y.test"],
              ["a@x.test", "b@y.test"], env)
        env2 = mta.envelope_recipients("m2@harness.test")
        check("envelope_recipients(m2)", env2 == ["c@z.test"], ["c@z.test"], env2)
        logrc = mta.log_recipients("<m1@harness.test>", timeout=5)
        check("maillog orig_to for m1", logrc == ["a@x.test", "b@y.test"],
              ["a@x.test", "b@y.test"], logrc)
        dt = [h.header(r, "Delivered-To") for _, r in msgs]
        check("Delivered-To on every copy", all(d == h.SINK for d in dt), h.SINK, dt)

        m3 = wd.file("m3.eml")
        h.write_file(m3, message("<m3@harness.test>", "must not arrive"))
        rc, out = curl_send(mta, mta.url("nostarttls"), mta.username, mta.password,
                            ["a@x.test"], m3, extra=["--ssl-reqd"])
        check("nostarttls port refuses with --ssl-reqd", rc == 64,
              "curl exit 64 (CURLE_USE_SSL_FAILED)", "exit %d: %s" % (rc, out))
        rc, out = curl_send(mta, mta.url("wrongcert"), mta.username, mta.password,
                            ["a@x.test"], m3)
        check("wrongcert port fails verification", rc == 60,
              "curl exit 60 (peer certificate)", "exit %d: %s" % (rc, out))
        rc, out = curl_send(mta, mta.url("smtps"), mta.username, "wrong-password",
                            ["a@x.test"], m3)
        check("wrong password refused", rc == 67, "curl exit 67 (login denied)",
              "exit %d: %s" % (rc, out))
        rc, out = curl_send(mta, mta.url("smtps"), "", "", ["a@x.test"], m3,
                            extra=["--user", ""])
        check("no AUTH, no relay", rc != 0, "non-zero exit (relay denied)",
              "exit %d: %s" % (rc, out))

        # fault injection: 451 at RCPT, 452 after DATA
        mta.set_faults(rcpt={"temp@x.test": "451 4.3.0 try later"},
                       data={"faulty@example.test": "452 4.3.1 full"})
        mta.reload()
        rc, out = curl_send(mta, mta.url("smtps"), mta.username, mta.password,
                            ["temp@x.test"], m3)
        check("rcpt fault: 451 at RCPT", rc == 55 and "451" in out,
              "curl exit 55, RCPT failed: 451", "exit %d: %s" % (rc, out))
        rc, out = curl_send(mta, mta.url("smtps"), mta.username, mta.password,
                            ["a@x.test"], m3, mail_from="faulty@example.test")
        check("data fault: 452 after DATA", rc == 8, "curl exit 8 (reply after the dot)",
              "exit %d: %s" % (rc, out))
        time.sleep(0.2)
        check("nothing more delivered", len(mta.messages()) == 3, 3, len(mta.messages()))

        # restartable: stop, the port is closed, start again, mail still flows
        mta.stop()
        rc, out = curl_send(mta, mta.url("smtps"), mta.username, mta.password,
                            ["a@x.test"], m3)
        check("Mta stopped: connection refused", rc == 7, "curl exit 7",
              "exit %d: %s" % (rc, out))
        mta.start()
        m4 = wd.file("m4.eml")
        h.write_file(m4, message("<m4@harness.test>", "after restart"))
        rc, out = curl_send(mta, mta.url("smtps"), mta.username, mta.password,
                            ["d@w.test"], m4)
        check("Mta restarted: delivers", rc == 0, "exit 0", "exit %d: %s" % (rc, out))
        try:
            mta.wait_messages(4, timeout=10)
            check("4th message after restart", True)
        except h.HarnessError as e:
            check("4th message after restart", False, "4 messages", str(e))

        # nginx: static page over HTTPS, plain HTTP listener too
        docroot = wd.sub("www")
        h.write_file(os.path.join(docroot, "index.html"), "<h1>harness page</h1>\n")
        nginx = h.Nginx(wd.sub("nginx"), pki, socket_path=wd.file("no-such.sock"),
                        docroot=docroot)
        nginx.start()
        st, hd, body = nginx.get("/index.html")
        check("nginx HTTPS static page", st == 200 and b"harness page" in body,
              "200 + page", "%d %r" % (st, body[:80]))
        st, hd, body = nginx.get("/index.html", https=False)
        check("nginx plain HTTP listener", st == 200, 200, st)
        st, hd, body = nginx.post("/f2m/contact", {"name": "x"})
        check("nginx /f2m/ goes to the FastCGI socket (absent here: 502)",
              st == 502, 502, st)
        nginx.stop()
        nginx = None
    except Exception as e:  # a harness error is a failure, with its text
        import traceback
        traceback.print_exc()
        check("no exception", False, "no exception", "%s: %s" % (type(e).__name__, e))
    finally:
        if nginx is not None:
            nginx.stop()
        if mta is not None:
            mta.stop()
        wd.cleanup()
    dt = time.monotonic() - t0
    print("test_harness: %d passed, %d failed (%.1fs)" % (passed, len(failures), dt))
    print("%d passed, %d failed" % (passed, len(failures)))
    return 1 if failures else 0


def check_dkim_verify(keys):
    """Sign a message with dkimpy (both keys), verify_dkim must say ok;
    a changed body must fail."""
    import dkim
    msg = (b"From: Example Forms <forms@example.test>\r\nTo: a@x.test\r\n"
           b"Subject: dkim\r\nMessage-ID: <d@t>\r\n\r\nbody\r\n")
    with open(keys.rsa_key, "rb") as f:
        rsa = f.read()
    with open(keys.ed_key, "rb") as f:
        ed_pem = f.read()
    # dkimpy signs Ed25519 with the raw 32-byte seed (base64), not PEM
    import base64
    der = base64.b64decode(b"".join(l for l in ed_pem.splitlines() if not l.startswith(b"-----")))
    ed_seed = base64.b64encode(der[-32:])
    s1 = dkim.sign(msg, b"f2mr", b"example.test", rsa,
                   canonicalize=(b"relaxed", b"relaxed"), include_headers=[b"from", b"subject"])
    s2 = dkim.sign(msg, b"f2me", b"example.test", ed_seed,
                   canonicalize=(b"relaxed", b"relaxed"), include_headers=[b"from", b"subject"],
                   signature_algorithm=b"ed25519-sha256")
    signed = s2 + s1 + msg
    errs = []
    res = h.verify_dkim(signed, keys.txt, errs)
    exp = [(0, "example.test", "f2me", "ed25519-sha256", True),
           (1, "example.test", "f2mr", "rsa-sha256", True)]
    check("verify_dkim on dkimpy-signed message", res == exp, exp, (res, errs))
    bad = signed.replace(b"body", b"BODY")
    res = h.verify_dkim(bad, keys.txt)
    check("verify_dkim fails on a changed body", [r[4] for r in res] == [False, False],
          [False, False], res)


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("test_harness: must run as root (Postfix/Dovecot/nginx)", file=sys.stderr)
        sys.exit(1)
    sys.exit(main())
