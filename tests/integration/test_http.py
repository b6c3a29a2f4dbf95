"""HTTP answers of docs/DESIGN.md and a table of hostile posts, through real
nginx (HTTPS) in front of `form2mail serve`.

No MTA here: accepted posts are checked where they land, in the spool
(envelope + message exactly as the deliverer will sign and send them), so
the test sees every recipient and header a post could have added.
"""
import json
import os
import re
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

FAILS = []


def check(cond, what, expected=None, got=None):
    if cond:
        return
    msg = "FAIL: " + what
    if expected is not None or got is not None:
        msg += "\n  expected: %r\n  got:      %r" % (expected, got)
    FAILS.append(msg)
    print(msg, flush=True)


def spool_files(spool):
    q = os.path.join(spool, "queue")
    return {n: os.path.join(q, n) for n in os.listdir(q)}


def read_spool(path):
    """-> (envelope dict of lists, raw message bytes)."""
    with open(path, "rb") as f:
        data = f.read()
    head, _, msg = data.partition(b"\n\n")
    env = {}
    for line in head.split(b"\n")[1:]:
        k, _, v = line.decode().partition(" ")
        env.setdefault(k, []).append(v)
    return env, msg


def header_names(raw):
    head = raw.split(b"\r\n\r\n", 1)[0]
    names = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t"):
            continue
        names.append(line.split(b":", 1)[0].decode().lower())
    return names


EXPECTED_HEADERS = ["from", "reply-to", "to", "subject", "date", "message-id",
                    "mime-version", "auto-submitted", "x-originating-ip",
                    "content-type"]
RCPT = ["sales@example.test", "info@example.test"]


def new_spool_entry(spool, before):
    after = spool_files(spool)
    new = [p for n, p in after.items() if n not in before]
    return new


def main():
    with h.Workdir() as wd:
        pki = h.make_pki(wd.sub("pki"))
        keys = h.make_dkim_keys(wd.sub("dkim"), "example.test")
        cfg = h.default_config(wd.sub("f2m"), pki=pki, dkim=keys)
        h.write_secret(cfg["smtp"]["password_file"], "unused\n")
        # Nothing listens there: delivery is deferred, the spool keeps all.
        cfg["smtp"]["url"] = "smtps://localhost:%d" % h.free_port()
        cfg["limits"]["max_body"] = 8192
        cfg["limits"]["max_fields"] = 20
        cfg["forms"]["strict"] = h.contact_form(
            allowed_origins=["https://site.test"],
            allow_missing_origin=None,
            success_url="https://site.test/thanks.html",
            error_url="https://site.test/contact.html",
            redirect_allowlist=["https://site.test/done/"],
            max_links=1, blocked_phrases=["cheap pills"],
            fields={"name": {"letters": True}})
        path = os.path.join(wd.sub("f2m"), "form2mail.json")
        h.write_config(path, cfg)
        spool = cfg["spool_dir"]
        f2m = h.Form2mail(path)
        f2m.start()
        ngx = h.Nginx(wd.sub("nginx"), pki, f2m.socket)
        ngx.start()
        try:
            answers(ngx, spool)
            hostile(ngx, spool)
            unwritable(ngx, spool)
        finally:
            ngx.stop()
            f2m.stop()
            log = f2m.log()
        check("AddressSanitizer" not in log and "runtime error" not in log,
              "no sanitizer report in the service log", None, log[-3000:])
        if FAILS:
            print(log[-4000:])
    print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
    return 1 if FAILS else 0


PASSED = [0]


def expect(status, want, what, body=b""):
    if status == want:
        PASSED[0] += 1
    check(status == want, "%s: status" % what, want, (status, body[:300]))


GOOD = {"name": "Ada", "email": "ada@example.org", "message": "Hello"}
JSON = {"Accept": "application/json"}


def answers(ngx, spool):
    s, hd, b = ngx.post("/f2m/nosuch", GOOD, JSON)
    expect(s, 404, "unknown form")
    check(json.loads(b) == {"ok": False, "error": "unknown_form"},
          "404 JSON body", None, b)
    s, hd, b = ngx.get("/f2m/contact")
    expect(s, 405, "GET")
    check(hd.get("Allow") == "POST, OPTIONS", "405 Allow header",
          "POST, OPTIONS", hd.get("Allow"))
    s, hd, b = ngx.request("PUT", "/f2m/contact", b"x")
    expect(s, 405, "PUT")
    s, hd, b = ngx.post("/f2m/contact", GOOD, JSON, https=False)
    expect(s, 403, "plain HTTP")
    s, hd, b = ngx.post("/f2m/strict", GOOD,
                        dict(JSON, Origin="https://evil.test"))
    expect(s, 403, "foreign Origin")
    s, hd, b = ngx.post("/f2m/strict", GOOD,
                        dict(JSON, Referer="https://evil.test/x"))
    expect(s, 403, "foreign Referer, no Origin")
    s, hd, b = ngx.post("/f2m/strict", GOOD, JSON)
    expect(s, 403, "neither Origin nor Referer")
    s, hd, b = ngx.post("/f2m/strict", GOOD,
                        dict(JSON, Origin="https://site.test.evil.test"))
    expect(s, 403, "Origin with the allowed one as a prefix")
    s, hd, b = ngx.post("/f2m/strict", GOOD,
                        dict(JSON, Referer="https://site.test/contact.html"))
    expect(s, 200, "allowed Referer")
    s, hd, b = ngx.post("/f2m/contact", "name=a", dict(JSON, **{
        "Content-Type": "text/plain"}))
    expect(s, 415, "text/plain body")
    FORM = dict(JSON, **{"Content-Type": "application/x-www-form-urlencoded"})
    s, hd, b = ngx.post("/f2m/contact", "x=" + "a" * 9000, FORM)
    expect(s, 413, "body over max_body")
    s, hd, b = ngx.post("/f2m/contact", "&".join("f%d=1" % i for i in range(30)),
                        FORM)
    expect(s, 413, "more than max_fields")
    s, hd, b = ngx.post("/f2m/contact", {"name": "", "email": "nope"}, JSON)
    expect(s, 422, "invalid fields (JSON)")
    j = json.loads(b)
    check(j == {"ok": False, "errors": {"name": "required", "email": "email",
                                        "message": "required"}},
          "422 JSON errors", None, j)
    s, hd, b = ngx.post("/f2m/contact", {"name": "", "email": "nope"})
    expect(s, 422, "invalid fields (browser page)")
    check(b"is required" in b and b"<li>" in b, "error page lists fields",
          None, b[:400])
    s, hd, b = ngx.post("/f2m/strict", {"name": ""},
                        {"Origin": "https://site.test"})
    expect(s, 303, "invalid fields with error_url")
    check(hd.get("Location") == "https://site.test/contact.html",
          "303 to error_url", None, hd.get("Location"))

    before = spool_files(spool)
    s, hd, b = ngx.post("/f2m/contact", GOOD, JSON)
    expect(s, 200, "accepted (JSON)")
    j = json.loads(b)
    check(j.get("ok") is True and re.fullmatch(r"[a-z0-9]{26}", j.get("id", "")),
          "200 JSON body", None, j)
    check(j.get("id") in spool_files(spool), "accepted id is in the spool",
          j.get("id"), sorted(spool_files(spool)))
    s, hd, b = ngx.post("/f2m/contact", GOOD)
    expect(s, 200, "accepted (browser, built-in thank-you page)")
    check(b"Thank you" in b, "thank-you page", None, b[:200])
    s, hd, b = ngx.post("/f2m/strict", GOOD, {"Origin": "https://site.test"})
    expect(s, 303, "accepted with success_url")
    check(hd.get("Location") == "https://site.test/thanks.html",
          "303 to success_url", None, hd.get("Location"))
    s, hd, b = ngx.post("/f2m/strict", dict(GOOD, _next="https://site.test/done/x"),
                        {"Origin": "https://site.test"})
    check(hd.get("Location") == "https://site.test/done/x",
          "_next inside redirect_allowlist is followed", None, hd.get("Location"))
    for nxt in ("https://evil.test/", "https://site.test/donex",
                "https://site.test/done/\r\nSet-Cookie: x=1", "//evil.test/"):
        s, hd, b = ngx.post("/f2m/strict", dict(GOOD, _next=nxt),
                            {"Origin": "https://site.test"})
        check(s == 303 and hd.get("Location") == "https://site.test/thanks.html",
              "_next %r outside the allowlist is ignored" % nxt, None,
              (s, hd.get("Location")))
    n_before = len(spool_files(spool))
    s, hd, b = ngx.post("/f2m/contact", dict(GOOD, _gotcha="http://spam"), JSON)
    expect(s, 200, "honeypot answered as accepted")
    j = json.loads(b)
    check(j.get("ok") is True and re.fullmatch(r"[a-z0-9]{26}", j.get("id", "")),
          "honeypot answer has an id", None, j)
    check(len(spool_files(spool)) == n_before, "honeypot: nothing spooled",
          n_before, len(spool_files(spool)))
    # content rules: spam is answered like an accepted post, nothing kept
    site = dict(JSON, Origin="https://site.test")
    for what, extra in (("two links", {"message": "http://a.test www.b.test"}),
                        ("blocked phrase", {"message": "Buy CHEAP Pills"})):
        n_before = len(spool_files(spool))
        s, hd, b = ngx.post("/f2m/strict", dict(GOOD, **extra), site)
        expect(s, 200, "content rule %s: answered as accepted" % what, b)
        check(len(spool_files(spool)) == n_before, "content rule %s: "
              "nothing spooled" % what, n_before, len(spool_files(spool)))
    s, hd, b = ngx.post("/f2m/strict", dict(GOOD, name="1234"), site)
    expect(s, 422, "letters rule", b)
    check(json.loads(b).get("errors") == {"name": "letters"}, "letters code",
          {"name": "letters"}, b)
    s, hd, b = ngx.request("OPTIONS", "/f2m/contact")
    check(s in (200, 204), "OPTIONS answered", None, s)


def raw_post(ngx, body, headers=None):
    hd = {"Content-Type": "application/x-www-form-urlencoded",
          "Accept": "application/json"}
    hd.update(headers or {})
    return ngx.post("/f2m/contact", body if isinstance(body, bytes)
                    else body.encode(), hd)


def enc(d):
    return urllib.parse.urlencode(d, doseq=True).encode()


# (what, body bytes, expected status, field expected in errors or None)
def hostile_cases():
    g = dict(GOOD)
    c = []

    def field(name, value, status, err=None):
        d = dict(g)
        d[name] = value
        c.append(("%s=%r" % (name, value), enc(d), status, err))

    def raw(what, body, status, err=None):
        c.append((what, body, status, err))

    # header-bound fields: name (in the subject) and email (Reply-To)
    for f in ("name", "email"):
        e = f
        field(f, "x\r\nBcc: evil@evil.test", 422, e)
        field(f, "x\nBcc: evil@evil.test", 422, e)
        field(f, "x\rBcc: evil@evil.test", 422, e)
        field(f, "x\x00y", 422, e)
        field(f, "x\ty", 422, e)
        field(f, "x\x7fy", 422, e)
        field(f, "x\u0085y", 422, e)
        field(f, "x\u2028Bcc: evil@evil.test", 422, e)
        field(f, "x\u2029y", 422, e)
        raw("raw CRLF in %s" % f, b"name=Ada&email=ada@example.org&message=hi&"
            + f.encode() + b"=x\r\nBcc:%20evil@evil.test", 422, e)
        raw("raw LF in %s" % f, enc(dict((k, v) for k, v in g.items() if k != f))
            + b"&" + f.encode() + b"=x\nTo:evil@evil.test", 422, e)
        raw("invalid UTF-8 in %s" % f, enc(dict((k, v) for k, v in g.items() if k != f))
            + b"&" + f.encode() + b"=%FF%FE", 422, e)
        raw("overlong UTF-8 in %s" % f, enc(dict((k, v) for k, v in g.items() if k != f))
            + b"&" + f.encode() + b"=%C0%AFx", 422, e)
    field("email", "a@example.org, b@example.org", 422, "email")
    field("email", "a@example.org b@example.org", 422, "email")
    field("email", "Ada <ada@example.org>", 422, "email")
    field("email", "\"Ev\r\nil\" <ada@example.org>", 422, "email")
    field("email", "\"a\r\nb\"@example.org", 422, "email")
    field("email", "ada@example.org\r\n", 422, "email")
    field("email", "(comment)ada@example.org", 422, "email")
    field("email", "ada@[127.0.0.1]", 422, "email")
    field("email", "ada@exämple.org", 422, "email")
    raw("two email fields", enc([("name", "Ada"), ("email", "a@example.org"),
                                 ("email", "b@example.org"), ("message", "hi")]),
        422, "email")
    # fields that try to name recipients or headers: accepted, no effect
    for f in ("recipient", "recipients", "to", "cc", "bcc", "_cc", "_bcc",
              "_replyto", "reply_to", "subject", "_subject", "from", "sender"):
        field(f, "evil@evil.test", 200)
    field("department", "evil@evil.test", 200)
    field("name", "=?UTF-8?B?QmNjOiBldmlsQGV2aWwudGVzdA0K?=", 200)
    field("name", "%0d%0aBcc: evil@evil.test", 200)
    # body-only field: CR/LF are fine there, other controls are not
    field("message", "line 1\r\nBcc: evil@evil.test\r\n\r\nmore", 200)
    field("message", "nul \x00 here", 422, "message")
    field("message", "esc \x1b[31m", 422, "message")
    raw("field name with CRLF", enc(g) + b"&x%0D%0ABcc%3A%20evil%40evil.test=1",
        422, None)
    return c


def hostile(ngx, spool):
    cases = hostile_cases()
    check(len(cases) >= 30, "at least 30 hostile cases", ">=30", len(cases))
    for what, body, status, err in cases:
        before = spool_files(spool)
        s, hd, b = raw_post(ngx, body)
        expect(s, status, "hostile %s" % what, b)
        new = new_spool_entry(spool, before)
        if status == 422:
            check(new == [], "hostile %s: nothing spooled" % what, [], new)
            if err is not None:
                try:
                    errs = json.loads(b).get("errors", {})
                except ValueError:
                    errs = {}
                check(err in errs and errs[err] in ("invalid", "email"),
                      "hostile %s: error on %s" % (what, err), err, errs)
            continue
        if status != 200:
            continue
        check(len(new) == 1, "hostile %s: one spooled" % what, 1, len(new))
        if len(new) != 1:
            continue
        env, msg = read_spool(new[0])
        check(env.get("rcpt") == RCPT, "hostile %s: envelope recipients" % what,
              RCPT, env.get("rcpt"))
        check(env.get("from") == ["bounces@example.test"],
              "hostile %s: envelope sender" % what, None, env.get("from"))
        names = header_names(msg)
        check(names == EXPECTED_HEADERS + ["content-transfer-encoding"]
              or names == EXPECTED_HEADERS,
              "hostile %s: header names" % what, EXPECTED_HEADERS, names)
        m = h.parse_message(msg)
        check(m["To"] == "Sales <sales@example.test>, info@example.test",
              "hostile %s: To" % what, None, m["To"])
        check(m["Reply-To"] == "ada@example.org", "hostile %s: Reply-To" % what,
              "ada@example.org", m["Reply-To"])
        check(m["Bcc"] is None and m["Cc"] is None, "hostile %s: no Bcc/Cc" % what)
        for line in msg.split(b"\r\n"):
            check(len(line) <= 998 and b"\n" not in line and b"\r" not in line,
                  "hostile %s: CRLF lines <= 998" % what)


def unwritable(ngx, spool):
    tmp = os.path.join(spool, "tmp")
    st = os.stat(tmp)
    os.chmod(tmp, 0o500)    # the workers run as nobody: they cannot write
    try:
        before = spool_files(spool)
        s, hd, b = ngx.post("/f2m/contact", dict(GOOD, message="disk"), JSON)
        expect(s, 503, "spool not writable", b)
        check(json.loads(b).get("ok") is False, "503 says not ok", None, b)
        check(new_spool_entry(spool, before) == [], "503: nothing spooled")
    finally:
        os.chmod(tmp, st.st_mode & 0o7777)
    # the refused post is not remembered as a duplicate: a retry goes in
    before = spool_files(spool)
    s, hd, b = ngx.post("/f2m/contact", dict(GOOD, message="disk"), JSON)
    expect(s, 200, "retry after the 503", b)
    new = new_spool_entry(spool, before)
    check(len(new) == 1 and json.loads(b).get("id") in new[0],
          "retry after the 503 is spooled", None, new)


if __name__ == "__main__":
    sys.exit(main())
