"""The autoresponder is not a spam cannon (issue 16, F2), through nginx
with ALTCHA solved as a script would:

1. no visitor-typed text reaches a stranger's inbox: a name that fails the
   name rule ("Hello WIN $5000 at http://spam.example/x,") is left out of
   the autoreply, a real name ("Zoé") is not;
2. one budget per mailbox: v.ictim@, vi.ctim@, victim-1@, victim=1@ and
   Victim+x@ share it, so at most one autoreply goes out;
3. double opt-in (autoresponder.confirm): the first post gets only a
   signed link; a GET of it changes nothing; the POST from its page sends
   the reply; a later post from the same address is answered directly,
   another spelling of its mailbox (c.arol@ confirmed, carol-news@) gets
   only a link;
   forged, expired and other-form tokens are refused with 4xx.

The mails are read from the spool (the SMTP URL goes nowhere, so they
stay queued): what is there is what would reach the inbox."""
import hashlib
import hmac
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import FAILS, PASSED, check  # noqa: E402

JSON = {"Accept": "application/json"}
SPAM = "Hello WIN $5000 at http://spam.example/x,"
SPAM_BITS = ("WIN", "5000", "spam.example", "http://")
VARIANTS = ["v.ictim@example.org", "vi.ctim@example.org",
            "victim-1@example.org", "victim=1@example.org",
            "Victim+x@example.org"]
IPS = iter("192.0.2.%d" % i for i in range(10, 250))


def spool(cfg):
    out = {}
    q = os.path.join(cfg["spool_dir"], "queue")
    for n in os.listdir(q):
        with open(os.path.join(q, n), "rb") as f:
            head, _, msg = f.read().partition(b"\n\n")
        out[n] = (head.decode(), h.parse_message(msg), msg)
    return out


def rcpts(env):
    return [ln[5:] for ln in env.splitlines() if ln.startswith("rcpt ")]


def text_of(m):
    part = m.get_body(("plain",))
    return part.get_content() if part is not None else ""


def post(ngx, form, fields):
    ip = next(IPS)
    ch = json.loads(ngx.get("/f2m/%s/challenge" % form,
                            {"X-Forwarded-For": ip})[2])
    fields = dict(fields, altcha=h.altcha_solve(ch))
    return ngx.post("/f2m/" + form, fields,
                    dict(JSON, **{"X-Forwarded-For": ip}))


def new_mail(cfg, before):
    return {k: v for k, v in spool(cfg).items() if k not in before}


def to_visitor(new, cfg):
    """The mails of `new` that go to a visitor, not to the site."""
    site = set(a.split("<")[-1].rstrip(">") for a in
               cfg["forms"]["auto"]["recipients"])
    return [(e, m, raw) for e, m, raw in new.values()
            if not set(rcpts(e)) & site]


def phase_cannon(ngx, cfg):
    """The review's attack: the spam text as the name, five spellings of
    one mailbox."""
    before = set(spool(cfg))
    for a in VARIANTS:
        s, hd, b = post(ngx, "auto", {"name": SPAM, "email": a,
                                      "message": "hi"})
        check(s == 200, "post as %s accepted" % a, 200, (s, b[:200]))
    replies = to_visitor(new_mail(cfg, before), cfg)
    spammy = [raw for e, m, raw in replies if carries(m, raw, SPAM_BITS)]
    print("cannon: %d autoreplies to %d spellings of one mailbox, %d of "
          "them carry the visitor's text" % (len(replies), len(VARIANTS),
                                             len(spammy)))
    for e, m, raw in replies[:1]:
        print("  e.g. to %s: %r" % (rcpts(e), text_of(m)[:120]))
    check(len(replies) <= 1, "one mailbox, one budget: at most one "
          "autoreply", "<= 1", len(replies))
    check(not spammy, "no autoreply carries the visitor's text", 0,
          len(spammy))
    before = set(spool(cfg))
    s, hd, b = post(ngx, "auto", {"name": "Zoé O'Brien-Ha", "email":
                                  "zoe@example.org", "message": "hi"})
    replies = to_visitor(new_mail(cfg, before), cfg)
    body = text_of(replies[0][1]) if replies else ""
    check(len(replies) == 1 and "Zoé O'Brien-Ha" in body, "a real name "
          "still greets the visitor", "Zoé O'Brien-Ha", body[:200])
    # a URL spelled in letters: Lisu tone letters drawn like "." and ":"
    # (U+A4F8, U+A4FD), a Hangul filler (U+3164) as an invisible space
    for name, to in (("WIN CASH AT spam\ua4f8example", "lisu@example.org"),
                     ("VISIT\u3164spam\ua4fdexample", "fill@example.org")):
        before = set(spool(cfg))
        post(ngx, "auto", {"name": name, "email": to, "message": "hi"})
        replies = to_visitor(new_mail(cfg, before), cfg)
        body = text_of(replies[0][1]) if replies else ""
        check(len(replies) == 1 and "spam" not in body, "a look-alike URL "
              "in letters is left out (%s)" % to, "no spam", body[:200])


def confirm_link(m, port, form):
    t = re.search(r"https://localhost:%d/f2m/%s/confirm\?t=([0-9a-z.]+)" %
                  (port, form), text_of(m))
    return t.group(1) if t else None


def carries(m, raw, bits):
    """Whether the mail (raw, and its decoded text) holds any of bits."""
    return any(x.encode() in raw or x in text_of(m) for x in bits)


def forged(cfg, token, exp=None, form="conf"):
    """The token re-signed with the real key, its expiry changed."""
    with open(os.path.join(cfg["state_dir"], "confirm.key"), "rb") as f:
        key = f.read()
    _, sid, hexaddr, _ = token.split(".")
    addr = bytes.fromhex(hexaddr).decode()
    canon = canonical(addr)
    msg = "f2m-confirm-1\n%s\n%s\n%s\n%s\n%d" % (form, canon, addr, sid, exp)
    mac = hmac.new(key, msg.encode(), hashlib.sha256).hexdigest()
    return "%d.%s.%s.%s" % (exp, sid, hexaddr, mac)


def canonical(addr):
    local, _, dom = addr.lower().rpartition("@")
    local = re.split(r"[+=-]", local.replace(".", ""), 1)[0]
    if dom == "googlemail.com":
        dom = "gmail.com"
    return local + "@" + dom


def phase_confirm(ngx, cfg):
    port = ngx.port
    before = set(spool(cfg))
    s, hd, b = post(ngx, "conf", {"name": SPAM, "email": "c.arol@example.org",
                                  "message": "hi"})
    check(s == 200, "post to a confirm form accepted", 200, (s, b[:200]))
    mails = to_visitor(new_mail(cfg, before), cfg)
    check(len(mails) == 1, "first post: one mail to the visitor", 1,
          len(mails))
    if not mails:
        return
    env, m, raw = mails[0]
    token = confirm_link(m, port, "conf")
    check(token is not None, "it carries the signed link", None, raw[-600:])
    check(not carries(m, raw, SPAM_BITS + ("Thank you for writing",)),
          "it is only the confirmation: no visitor "
          "text, not the reply", None, text_of(m)[:400])
    if token is None:
        return
    st = os.stat(os.path.join(cfg["state_dir"], "confirm.key"))
    check(st.st_mode & 0o777 == 0o600 and st.st_size == 32, "the key: 32 "
          "octets under state_dir, 0600", "0o600", oct(st.st_mode & 0o777))
    before = set(spool(cfg))
    s, hd, b = post(ngx, "conf", {"name": "Carol", "email":
                                  "ca.rol=2@example.org", "message": "x"})
    check(s == 200 and not to_visitor(new_mail(cfg, before), cfg),
          "the confirmation obeys the per-address budget: no second one",
          0, len(to_visitor(new_mail(cfg, before), cfg)))
    link = "/f2m/conf/confirm?t=" + token
    before = set(spool(cfg))
    s, hd, b = ngx.get(link)
    check(s == 200 and b"<form" in b and b'method="post"' in b,
          "GET the link: a page with a button", 200, (s, b[:300]))
    check(not new_mail(cfg, before), "GET changes nothing (mail scanners "
          "fetch links)", 0, len(new_mail(cfg, before)))
    for bad, what in ((token[:-1] + ("0" if token[-1] != "0" else "1"),
                       "a forged MAC"),
                      (forged(cfg, token, int(time.time()) - 10), "expired"),
                      ("", "empty"), ("x" * 5000, "oversized"),
                      ("1.2.3.4", "garbage")):
        s1 = ngx.get("/f2m/conf/confirm?t=" + bad)[0]
        s2 = ngx.post("/f2m/conf/confirm?t=" + bad, {})[0]
        check(400 <= s1 < 500 and 400 <= s2 < 500, "%s token refused "
              "(GET, POST)" % what, "4xx", (s1, s2))
    s = ngx.post("/f2m/conf2/confirm?t=" + token, {})[0]
    check(400 <= s < 500, "a token of another form refused", "4xx", s)
    s = ngx.post("/f2m/auto/confirm?t=" + token, {})[0]
    check(s == 404, "a form without confirm has no link", 404, s)
    s = ngx.request("PUT", link)[0]
    check(s == 405, "PUT on the link: 405", 405, s)
    check(not new_mail(cfg, before), "the refused tokens sent nothing", 0,
          len(new_mail(cfg, before)))
    s, hd, b = ngx.post(link, {})
    new = to_visitor(new_mail(cfg, before), cfg)
    body = text_of(new[0][1]) if new else ""
    check(s == 200 and len(new) == 1 and "Thank you for writing" in body,
          "POST from the page: the reply arrives", 1, (s, len(new), body))
    check(not any(x in body for x in SPAM_BITS), "the reply carries no "
          "visitor text", None, body)
    before = set(spool(cfg))
    s = ngx.post(link, {})[0]
    check(s < 500 and not new_mail(cfg, before), "the link is single use: a "
          "second POST sends nothing", 0, (s, len(new_mail(cfg, before))))
    # per_address is 3s.  The confirmation proved one exact address:
    # another spelling of its mailbox key (a dot, a tag) may be another
    # person at a domain that does not fold them, so it is asked again.
    time.sleep(3.5)
    before = set(spool(cfg))
    s, hd, b = post(ngx, "conf", {"name": "Carol", "email":
                                  "carol-news@example.org", "message": "2"})
    new = to_visitor(new_mail(cfg, before), cfg)
    check(len(new) == 1 and confirm_link(new[0][1], port, "conf") and
          "Thank you for writing" not in text_of(new[0][1]),
          "another spelling of a confirmed mailbox gets only the link",
          "the link", new and text_of(new[0][1])[:300])
    # once per_address has passed, the confirmed address gets the reply
    # straight away
    time.sleep(3.5)
    before = set(spool(cfg))
    s, hd, b = post(ngx, "conf", {"name": "Carol", "email":
                                  "c.arol@example.org", "message": "3"})
    new = to_visitor(new_mail(cfg, before), cfg)
    body = text_of(new[0][1]) if new else ""
    check(len(new) == 1 and "Thank you for writing" in body and
          "Carol" in body and confirm_link(new[0][1], port, "conf") is None,
          "a confirmed address gets the reply directly", 1, (len(new), body))
    before = set(spool(cfg))
    s, hd, b = post(ngx, "conf", {"name": "Carol", "email": "carol@example.org",
                                  "message": "4"})
    check(not to_visitor(new_mail(cfg, before), cfg), "within per_address: "
          "nothing more", 0, len(to_visitor(new_mail(cfg, before), cfg)))


def main():
    with h.Workdir() as wd:
        pki = h.make_pki(wd.sub("pki"))
        keys = h.make_dkim_keys(wd.sub("dkim"), "example.test")
        d = wd.sub("f2m")
        cfg = h.default_config(d, pki=pki, dkim=keys)
        h.write_secret(cfg["smtp"]["password_file"], "unused\n")
        cfg["smtp"]["url"] = "smtps://localhost:%d" % h.free_port()
        auto = {"field": "email", "subject": "Thanks", "per_address": "1d"}
        cfg["forms"]["auto"] = h.contact_form(
            challenge={"type": "altcha", "max_number": 1000},
            fields={"name": {"max_length": 60}}, autoresponder=auto)
        path = os.path.join(d, "form2mail.json")
        h.write_config(path, cfg)
        f2m = h.Form2mail(path)
        f2m.start()
        ngx = h.Nginx(wd.sub("nginx"), pki, f2m.socket)
        ngx.extra_server = ("set_real_ip_from 127.0.0.1; "
                            "real_ip_header X-Forwarded-For;")
        ngx.start()
        try:
            phase_cannon(ngx, cfg)
            f2m.stop()
            for form in ("conf", "conf2"):
                cfg["forms"][form] = h.contact_form(
                    challenge={"type": "altcha", "max_number": 1000},
                    fields={"name": {"max_length": 60}},
                    autoresponder=dict(auto, per_address="3s", confirm=True,
                                       confirm_url="https://localhost:%d/f2m/"
                                       "%s/confirm" % (ngx.port, form)))
            h.write_config(path, cfg)
            try:
                f2m.start()
                started = True
            except Exception as e:  # the old binary refuses the new keys
                started = False
                print("confirm config: %s" % str(e)[-300:])
            check(started, "autoresponder.confirm is understood", True,
                  started)
            if started:
                phase_confirm(ngx, cfg)
        finally:
            ngx.stop()
            f2m.stop()
        log = f2m.log()
        check("AddressSanitizer" not in log and "runtime error" not in log,
              "no sanitizer report", None, log[-2000:])
    print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
