"""A contact-form post through nginx becomes a DKIM-signed mail in a real
Postfix Maildir (Dovecot SASL, TLS and AUTH), and is never lost.

Steps, each with its own form2mail config and spool behind one nginx:
  1. implicit TLS: French text arrives; both DKIM signatures verify; From,
     Reply-To, X-Originating-IP, subject, body, line ends, envelope.
  2. STARTTLS delivery.
  3. no STARTTLS offered / certificate for another name / wrong password:
     nothing arrives, the message stays queued, the log says why.
  4. MTA down when the form is posted: the visitor gets success; once the
     MTA is up the mail arrives exactly once (counted by Message-ID).
"""
import email.header
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import FAILS, PASSED, check  # noqa: E402


JSON = {"Accept": "application/json"}
NAME = "François Çédille « le Grand »"
MESSAGE = "« Bonjour » — l’équipe,\nje voudrais un devis.\n\nMerci, ça ira ?"
VISITOR = "francois@example.org"
RCPT = ["archive@example.test", "audit@example.test", "info@example.test",
        "sales@example.test"]


def form():
    return h.contact_form(cc=["Archive <archive@example.test>"],
                          bcc=["audit@example.test"])


class Step:
    """One form2mail instance with its own config and spool."""

    def __init__(self, wd, name, sock, mta, pki, keys, kind="smtps",
                 password=None, **smtp):
        d = wd.sub(name)
        self.cfg = h.default_config(d, socket_path=sock, mta=mta, pki=pki,
                                    dkim=keys, smtp_kind=kind)
        if password is not None:
            mta.write_password_file(self.cfg["smtp"]["password_file"], password)
        self.cfg["smtp"].update(smtp)
        self.cfg["forms"]["contact"] = form()
        self.path = os.path.join(d, "form2mail.json")
        h.write_config(self.path, self.cfg)
        self.f2m = h.Form2mail(self.path)

    def __enter__(self):
        self.f2m.start()
        return self

    def __exit__(self, *exc):
        self.f2m.stop()
        log = self.f2m.log()
        check("AddressSanitizer" not in log and "runtime error" not in log,
              "no sanitizer report in the service log", None, log[-2000:])

    def queue(self):
        p = self.f2m.cli("queue", "list", "--json")
        return json.loads(p.stdout) if p.returncode == 0 else p.stderr


def post(ngx, fields=None):
    f = fields or {"name": NAME, "email": VISITOR, "message": MESSAGE}
    s, hd, b = ngx.post("/f2m/contact", f, JSON)
    check(s == 200, "post accepted", 200, (s, b[:300]))
    return json.loads(b).get("id") if s == 200 else None


def wait_log(step, pattern, timeout=15):
    t = time.time() + timeout
    while time.time() < t:
        if re.search(pattern, step.f2m.log()):
            return True
        time.sleep(0.1)
    return False


def decode_header(v):
    return str(email.header.make_header(email.header.decode_header(v)))


def check_delivered(mta, keys, mid):
    copies = mta.copies(mid)
    check(len(copies) == len(RCPT), "one copy per envelope recipient",
          len(RCPT), len(copies))
    check(mta.envelope_recipients(mid) == RCPT, "envelope recipients are "
          "exactly the configured ones", RCPT, mta.envelope_recipients(mid))
    if not copies:
        return
    raw = copies[0][1]
    res = h.verify_dkim(raw, keys.txt)
    algs = sorted(a for (_, d, s, a, ok) in res if ok)
    check(algs == [b"ed25519-sha256", b"rsa-sha256"] or
          algs == ["ed25519-sha256", "rsa-sha256"],
          "both DKIM signatures verify", ["ed25519-sha256", "rsa-sha256"], res)
    for (_, d, s, a, ok) in res:
        dd = d.decode() if isinstance(d, bytes) else d
        check(dd == "example.test", "d= is the From domain", "example.test", dd)
    m = h.parse_message(raw)
    # sender.same_domain_from "recipient" (the default): the first To
    # shares From's domain, so it is From (rspamd's SPOOF_REPLYTO
    # exemption), under the configured display name; the envelope stays.
    check(m["From"].addresses[0].addr_spec == "sales@example.test" and
          m["From"].addresses[0].display_name == "Example Forms",
          "From is the first recipient, under the site's name",
          "Example Forms <sales@example.test>", str(m["From"]))
    check(h.header(raw, "Return-Path") == "<bounces@example.test>",
          "the envelope sender is the configured one",
          "<bounces@example.test>", h.header(raw, "Return-Path"))
    check(str(m["Reply-To"]) == VISITOR, "Reply-To is the visitor", VISITOR,
          str(m["Reply-To"]))
    check(h.header(raw, "X-Originating-IP") == "[127.0.0.1]",
          "X-Originating-IP", "[127.0.0.1]", h.header(raw, "X-Originating-IP"))
    check(decode_header(h.header(raw, "Subject")) == "Contact: " + NAME,
          "decoded subject", "Contact: " + NAME, h.header(raw, "Subject"))
    check(m["Bcc"] is None, "no Bcc header")
    check(str(m["Cc"]) == "Archive <archive@example.test>", "Cc", None,
          str(m["Cc"]))
    check(h.header(raw, "Auto-Submitted") == "auto-generated",
          "Auto-Submitted")
    text = m.get_body(("plain",)).get_content()
    check(MESSAGE.replace("\n", "\r\n") in text.replace("\r\n", "\n")
          .replace("\n", "\r\n"), "decoded body holds the message", MESSAGE,
          text)
    check(NAME in text, "decoded body holds the name", NAME, text)
    html = m.get_body(("html",))
    check(html is not None and "l’équipe" in html.get_content(),
          "HTML part holds the message")
    for line in raw.split(b"\n"):
        check(len(line.rstrip(b"\r")) <= 998, "line <= 998 octets")
    check(b"\r" not in raw.replace(b"\r\n", b""), "no bare CR")


def main():
    with h.Workdir() as wd:
        pki = h.make_pki(wd.sub("pki"))
        keys = h.make_dkim_keys(wd.sub("dkim"), "example.test")
        mta = h.Mta(wd.sub("mta"), pki)
        mta.start()
        sock = os.path.join(str(wd), "f2m.sock")
        ngx = h.Nginx(wd.sub("nginx"), pki, sock)
        ngx.start()
        try:
            run(wd, mta, ngx, pki, keys, sock)
        finally:
            ngx.stop()
            mta.stop()
    print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
    return 1 if FAILS else 0


def run(wd, mta, ngx, pki, keys, sock):
    # 1. implicit TLS, the French post
    with Step(wd, "smtps", sock, mta, pki, keys, "smtps") as st:
        sid = post(ngx)
        mid = "<%s@example.test>" % sid
        mta.wait_messages(len(RCPT), timeout=15)
        check_delivered(mta, keys, mid)
        check(wait_log(st, r"deliver id=%s form=contact outcome=sent" % sid),
              "deliverer logged the delivery")
    mta.clear()

    # 2. STARTTLS
    with Step(wd, "starttls", sock, mta, pki, keys, "submission") as st:
        sid = post(ngx)
        mta.wait_messages(len(RCPT), timeout=15)
        check(mta.by_message_id().get("<%s@example.test>" % sid) == len(RCPT),
              "STARTTLS delivery", len(RCPT), mta.by_message_id())
    mta.clear()

    # 3. refusals: nothing sent, stays queued, the log says why
    bad = [
        ("nostarttls", "nostarttls", None, r"STARTTLS|USE_SSL|SSL/TLS required"),
        ("wrongcert", "wrongcert", None, r"certificate|SSL peer|verif"),
        ("badpassword", "smtps", "wrong-password", r"[Ll]ogin denied|535|auth"),
    ]
    for name, kind, pw, why in bad:
        with Step(wd, name, sock, mta, pki, keys, kind, password=pw) as st:
            sid = post(ngx)
            ok = wait_log(st, r"deliver id=%s form=contact outcome=config_error"
                          % sid)
            check(ok, "%s: logged as a configuration error" % name, None,
                  st.f2m.log()[-1500:])
            line = [l for l in st.f2m.log().splitlines() if sid in l and
                    "deliver" in l]
            check(line and re.search(why, line[-1]), "%s: the log says why"
                  % name, why, line)
            q = st.queue()
            ids = [e["id"] for e in q if e["state"] == "queued"] \
                if isinstance(q, list) else q
            check(ids == [sid], "%s: message still queued" % name, [sid], q)
            check(isinstance(q, list) and q and q[0]["attempts"] >= 1 and
                  q[0]["last_error"], "%s: attempts and last_error recorded"
                  % name, None, q)
        check(mta.messages() == [], "%s: nothing delivered" % name, [],
              len(mta.messages()))

    # 4. MTA down when posted
    mta.stop()
    with Step(wd, "down", sock, mta, pki, keys, "smtps") as st:
        sid = post(ngx)
        spooled = os.path.join(st.cfg["spool_dir"], "queue", sid)
        check(os.path.exists(spooled), "accepted post is in the spool")
        with open(spooled, "rb") as f:
            msg = f.read().split(b"\n\n", 1)[1]
        lines = msg.split(b"\r\n")
        check(all(b"\n" not in l and b"\r" not in l for l in lines) and
              msg.endswith(b"\r\n"), "spooled message: CRLF line ends only")
        check(all(len(l) <= 998 for l in lines), "spooled message: lines "
              "<= 998 octets")
        check(wait_log(st, r"deliver id=%s form=contact outcome=deferred" % sid),
              "MTA down: delivery deferred", None, st.f2m.log()[-1000:])
        mta.start()
        r = st.f2m.cli("queue", "retry")
        check(r.returncode == 0, "queue retry", 0, (r.returncode, r.stderr))
        mid = "<%s@example.test>" % sid
        mta.wait_messages(len(RCPT), timeout=15)
        time.sleep(2)   # a duplicate would show up here
        check(mta.by_message_id() == {mid: len(RCPT)},
              "delivered exactly once after the MTA came back",
              {mid: len(RCPT)}, mta.by_message_id())
        check(st.queue() == [], "queue empty", [], st.queue())
    mta.clear()

    # 5. a 5 MB PDF arrives byte-identical
    big = (b"%PDF-1.4\n" + os.urandom(5 * 1024 * 1024) + b"\n%%EOF\n")
    with Step(wd, "upload", sock, mta, pki, keys, "smtps") as st:
        st.f2m.stop()
        st.cfg["limits"]["max_body"] = 8 * 1024 * 1024
        st.cfg["forms"]["contact"]["uploads"] = {
            "allowed_types": ["application/pdf"],
            "max_file_size": 6 * 1024 * 1024, "max_files": 1,
            "max_total": 6 * 1024 * 1024}
        h.write_config(st.path, st.cfg)
        st.f2m.start()
        body, ctype = h.multipart({"name": "Ada", "email": VISITOR,
                                   "message": "devis joint"},
                                  [("doc", "devis-5mo.pdf", "application/pdf",
                                    big)])
        s, hd, b = ngx.post("/f2m/contact", body, dict(JSON, **{
            "Content-Type": ctype}), timeout=60)
        check(s == 200, "5 MB upload accepted", 200, (s, b[:200]))
        sid = json.loads(b).get("id") if s == 200 else None
        mta.wait_messages(len(RCPT), timeout=30)
        raw = mta.copies("<%s@example.test>" % sid)[0][1] if sid else b""
        m = h.parse_message(raw) if raw else None
        atts = list(m.iter_attachments()) if m else []
        check(len(atts) == 1 and atts[0].get_filename() == "devis-5mo.pdf"
              and atts[0].get_content() == big, "the 5 MB PDF arrived "
              "byte-identical", len(big), [len(a.get_content()) for a in atts])
        res = h.verify_dkim(raw, keys.txt) if raw else []
        check(len(res) == 2 and all(r[4] for r in res), "both signatures "
              "verify over the 7 MB message", None, res)
    mta.clear()

    # 6. provider pacing, scaled down: at most 3 per 15 s, the rest later
    # (15 s: a loaded machine must not let the window slide before the
    # count is read)
    with Step(wd, "paced", sock, mta, pki, keys, "smtps", max_per_hour=3,
              pacing_period="15s") as st:
        t0 = time.time()
        ids = [post(ngx, {"name": "P%d" % i, "email": VISITOR,
                          "message": "paced %d" % i}) for i in range(5)]
        want = len(RCPT) * 3
        mta.wait_messages(want, timeout=10)
        time.sleep(2)
        check(len(mta.messages()) == want, "only 3 posts sent in the first "
              "window", want, len(mta.messages()))
        check(wait_log(st, r"max_per_hour reached"), "the log says the cap "
              "was reached")
        q = st.queue()
        check(isinstance(q, list) and len(q) == 2, "the other 2 wait in the "
              "queue", 2, q)
        mta.wait_messages(len(RCPT) * 5, timeout=30)
        dt = time.time() - t0
        check(dt >= 14, "the rest went out in the next window", ">= 14 s",
              round(dt, 1))
        got = mta.by_message_id()
        check(all(got.get("<%s@example.test>" % i) == len(RCPT)
                  for i in ids), "all 5 delivered once", None, got)


if __name__ == "__main__":
    sys.exit(main())
