"""Abuse controls through nginx: the shared throttle (429 + Retry-After,
every post charged, state kept across a restart), duplicate suppression,
the ALTCHA proof-of-work challenge (solved here like the widget does,
replays refused), and a captcha verified against a local endpoint (fail
closed when it is down)."""
import base64
import hashlib
import http.server
import json
import os
import re
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import FAILS, PASSED, check  # noqa: E402

JSON = {"Accept": "application/json"}
GOOD = {"name": "Ada", "email": "ada@example.org", "message": "Hello"}


def queued(cfg):
    return sorted(os.listdir(os.path.join(cfg["spool_dir"], "queue")))


class Verify(http.server.BaseHTTPRequestHandler):
    """A captcha provider: the token decides the answer."""
    seen = []

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(n).decode())
        Verify.seen.append(form)
        tok = form.get("response", [""])[0]
        ans = {"success": tok == "good-token", "hostname": "localhost"}
        body = json.dumps(ans).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


solve = h.altcha_solve


def main():
    vport = h.free_port()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", vport), Verify)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    with h.Workdir() as wd:
        pki = h.make_pki(wd.sub("pki"))
        keys = h.make_dkim_keys(wd.sub("dkim"), "example.test")
        d = wd.sub("f2m")
        cfg = h.default_config(d, pki=pki, dkim=keys)
        h.write_secret(cfg["smtp"]["password_file"], "unused\n")
        cfg["smtp"]["url"] = "smtps://localhost:%d" % h.free_port()
        cfg["throttle"] = {"per_ip": "4/1h", "per_form": "1000/1h",
                           "global": "1000/1h"}
        secret = os.path.join(d, "turnstile-secret")
        h.write_secret(secret, "s3cret&key\n")
        cfg["forms"]["pow"] = h.contact_form(
            challenge={"type": "altcha", "max_number": 20000,
                       "min_seconds": 0})
        cfg["forms"]["slow"] = h.contact_form(
            challenge={"type": "altcha", "max_number": 2000,
                       "min_seconds": 30})
        cfg["forms"]["quick"] = h.contact_form(
            challenge={"type": "altcha", "max_number": 2000,
                       "expires": "2s"})
        cfg["forms"]["auto"] = h.contact_form(
            challenge={"type": "altcha", "max_number": 2000},
            fields={"name": {"max_length": 60}},
            autoresponder={"field": "email", "subject": "Thanks"})
        cfg["forms"]["human"] = h.contact_form(captcha={
            "provider": "turnstile", "secret_file": secret,
            "verify_url": "http://127.0.0.1:%d/siteverify" % vport,
            "timeout": 3})
        path = os.path.join(d, "form2mail.json")
        h.write_config(path, cfg)
        f2m = h.Form2mail(path)
        f2m.start()
        ngx = h.Nginx(wd.sub("nginx"), pki, f2m.socket)
        # every test client comes from 127.0.0.1: give each part its own
        # address through X-Forwarded-For -> REMOTE_ADDR
        ngx.extra_server = ("set_real_ip_from 127.0.0.1; "
                            "real_ip_header X-Forwarded-For;")
        ngx.start()
        try:
            throttle(ngx, f2m, cfg)
            duplicates(ngx, cfg)
            altcha(ngx)
            autoresponder(ngx, cfg)
            captcha(ngx, srv)
        finally:
            ngx.stop()
            f2m.stop()
            srv.shutdown()
        log = f2m.log()
        check("AddressSanitizer" not in log and "runtime error" not in log,
              "no sanitizer report", None, log[-2000:])
    print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
    return 1 if FAILS else 0


def post(ngx, form, fields, ip, headers=None):
    hd = dict(JSON, **{"X-Forwarded-For": ip})
    hd.update(headers or {})
    return ngx.post("/f2m/" + form, fields, hd)


def throttle(ngx, f2m, cfg):
    ip = "192.0.2.10"
    s1 = [post(ngx, "contact", dict(GOOD, message="m%d" % i), ip)[0]
          for i in range(2)]
    s2 = [post(ngx, "contact", {"name": ""}, ip)[0] for i in range(2)]
    check(s1 == [200, 200] and s2 == [422, 422], "4 posts within 4/1h",
          [200, 200, 422, 422], s1 + s2)
    s, hd, b = post(ngx, "contact", GOOD, ip)
    check(s == 429, "5th post from one address: 429 (invalid posts count "
          "too)", 429, (s, b))
    ra = hd.get("Retry-After", "")
    check(ra.isdigit() and 1 <= int(ra) <= 900, "Retry-After in whole "
          "seconds (one per 15 min)", "1..900", ra)
    check(json.loads(b).get("error") == "rate_limited", "429 JSON body",
          None, b)
    s, hd, b = post(ngx, "contact", GOOD, "192.0.2.11")
    check(s == 200, "another address is not limited", 200, s)
    s, hd, b = post(ngx, "contact", GOOD, "2001:db8:1:2::5")
    s2, hd2, b2 = post(ngx, "contact", dict(GOOD, message="v6b"),
                       "2001:db8:1:2:ffff::9")
    check(s == 200 and s2 == 200, "IPv6 /64 posts", 200, (s, s2))
    s, hd, b = ngx.post("/f2m/contact", GOOD, dict(JSON, **{
        "X-Forwarded-For": ip}), https=False)
    check(s == 429, "refused before the HTTPS check (flood stops early)",
          429, s)
    # the table is a file: a restart keeps the budget
    f2m.stop()
    f2m.start()
    s, hd, b = post(ngx, "contact", GOOD, ip)
    check(s == 429, "still limited after a restart", 429, s)


def duplicates(ngx, cfg):
    ip = "192.0.2.20"
    before = queued(cfg)
    s1, _, b1 = post(ngx, "contact", dict(GOOD, message="same"), ip)
    s2, _, b2 = post(ngx, "contact", dict(GOOD, message="same"), ip)
    i1, i2 = json.loads(b1).get("id"), json.loads(b2).get("id")
    check(s1 == s2 == 200 and i1 == i2 and i1, "a repeat gets the first "
          "answer, id included", (200, i1), (s2, i2))
    new = [x for x in queued(cfg) if x not in before]
    check(new == [i1], "one message for the two posts", [i1], new)
    s3, _, b3 = post(ngx, "contact", dict(GOOD, message="other"), ip)
    check(s3 == 200 and json.loads(b3).get("id") != i1, "other content is "
          "a new message")
    s4, _, b4 = post(ngx, "contact", dict(GOOD, message="same"), "192.0.2.21")
    check(s4 == 200 and json.loads(b4).get("id") != i1, "same content from "
          "another client is a new message")


def altcha(ngx):
    ip = "192.0.2.30"
    s, hd, b = ngx.get("/f2m/pow/challenge", {"X-Forwarded-For": ip})
    check(s == 200 and hd.get("Content-Type", "").startswith(
        "application/json"), "GET challenge", 200, (s, b[:200]))
    ch = json.loads(b)
    check(set(ch) >= {"algorithm", "challenge", "maxnumber", "salt",
                      "signature"} and ch["algorithm"] == "SHA-256",
          "challenge fields", None, ch)
    s, hd, b = ngx.get("/f2m/contact/challenge")
    check(s == 404, "no challenge for a form without one", 404, s)
    payload = solve(ch)
    check(payload is not None, "challenge solvable within maxnumber")
    s, hd, b = post(ngx, "pow", dict(GOOD, altcha=payload), ip)
    check(s == 200, "post with a solved challenge", 200, (s, b))
    s, hd, b = post(ngx, "pow", dict(GOOD, altcha=payload, message="again"),
                    "192.0.2.31")
    check(s == 422 and json.loads(b).get("errors") == {"altcha": "challenge"},
          "a replayed payload is refused", 422, (s, b))
    s, hd, b = post(ngx, "pow", GOOD, "192.0.2.32")
    check(s == 422 and json.loads(b).get("errors") == {"altcha": "challenge"},
          "no payload: 422 challenge on altcha", 422, (s, b))
    bad = json.loads(base64.b64decode(solve(json.loads(ngx.get(
        "/f2m/pow/challenge", {"X-Forwarded-For": "192.0.2.33"})[2]))))
    bad["number"] = (bad["number"] + 1) % 20000
    s, hd, b = post(ngx, "pow", dict(GOOD, altcha=base64.b64encode(
        json.dumps(bad).encode()).decode()), "192.0.2.33")
    check(s == 422, "a wrong number is refused", 422, s)
    forged = json.loads(base64.b64decode(solve(json.loads(ngx.get(
        "/f2m/pow/challenge", {"X-Forwarded-For": "192.0.2.35"})[2]))))
    forged["signature"] = "%064x" % (int(forged["signature"], 16) ^ 1)
    s, hd, b = post(ngx, "pow", dict(GOOD, altcha=base64.b64encode(
        json.dumps(forged).encode()).decode()), "192.0.2.35")
    check(s == 422, "a forged HMAC is refused", 422, s)
    ch = json.loads(ngx.get("/f2m/quick/challenge",
                            {"X-Forwarded-For": "192.0.2.36"})[2])
    payload = solve(ch)
    time.sleep(3)
    s, hd, b = post(ngx, "quick", dict(GOOD, altcha=payload), "192.0.2.36")
    check(s == 422, "an expired challenge is refused", 422, s)
    ch = json.loads(ngx.get("/f2m/slow/challenge",
                            {"X-Forwarded-For": "192.0.2.34"})[2])
    s, hd, b = post(ngx, "slow", dict(GOOD, altcha=solve(ch)), "192.0.2.34")
    check(s == 422, "posted sooner than min_seconds: refused", 422, s)


def spool_msgs(cfg):
    out = {}
    q = os.path.join(cfg["spool_dir"], "queue")
    for n in os.listdir(q):
        with open(os.path.join(q, n), "rb") as f:
            head, _, msg = f.read().partition(b"\n\n")
        out[n] = (head.decode(), h.parse_message(msg))
    return out


def autoresponder(ngx, cfg):
    def solved(ip):
        return solve(json.loads(ngx.get("/f2m/auto/challenge",
                                        {"X-Forwarded-For": ip})[2]))
    before = set(spool_msgs(cfg))
    s, hd, b = post(ngx, "auto", dict(GOOD, name="Zoé", message="SECRET "
                    "TEXT", altcha=solved("192.0.2.60")), "192.0.2.60")
    check(s == 200, "post with an autoresponder", 200, (s, b))
    new = {k: v for k, v in spool_msgs(cfg).items() if k not in before}
    autos = [(e, m) for e, m in new.values()
             if m["Auto-Submitted"] == "auto-replied"]
    check(len(new) == 2 and len(autos) == 1, "the notification and one "
          "autoreply are queued", 2, len(new))
    if autos:
        env, m = autos[0]
        check("rcpt ada@example.org" in env and env.count("rcpt ") == 1,
              "the autoreply goes to the visitor only", None, env)
        check(str(m["Subject"]) == "Thanks", "its subject holds no visitor "
              "text", "Thanks", str(m["Subject"]))
        body = m.get_body(("plain",)).get_content()
        check("Zoé" in body and "SECRET" not in body, "it may use the name, "
              "never the message", None, body)
        check(str(m["From"]).endswith("<forms@example.test>") and
              m["Reply-To"] is None, "from the site, no Reply-To", None,
              (str(m["From"]), m["Reply-To"]))
    before = set(spool_msgs(cfg))
    s, hd, b = post(ngx, "auto", dict(GOOD, message="second", altcha=solved(
        "192.0.2.61")), "192.0.2.61")
    new = {k: v for k, v in spool_msgs(cfg).items() if k not in before}
    check(s == 200 and len(new) == 1, "a second post from the same address "
          "gets no second autoreply", 1, (s, len(new)))
    before = set(spool_msgs(cfg))
    s, hd, b = post(ngx, "auto", dict(GOOD, email="ADA+x@Example.ORG",
                    message="third", altcha=solved("192.0.2.62")), "192.0.2.62")
    new = {k: v for k, v in spool_msgs(cfg).items() if k not in before}
    check(s == 200 and len(new) == 1, "nor to another spelling of it (case, "
          "+tag)", 1, (s, len(new)))


def captcha(ngx, srv):
    field = "cf-turnstile-response"
    s, hd, b = post(ngx, "human", dict(GOOD, **{field: "good-token"}),
                    "192.0.2.40")
    check(s == 200, "captcha passed", 200, (s, b))
    seen = Verify.seen[-1] if Verify.seen else {}
    check(seen.get("secret") == ["s3cret&key"] and seen.get("remoteip") ==
          ["192.0.2.40"], "the provider got the secret and the client "
          "address", None, seen)
    s, hd, b = post(ngx, "human", dict(GOOD, **{field: "bad-token"}),
                    "192.0.2.41")
    check(s == 422 and json.loads(b).get("errors") == {field: "captcha"},
          "captcha refused: 422", 422, (s, b))
    s, hd, b = post(ngx, "human", GOOD, "192.0.2.42")
    check(s == 422, "no captcha token: 422", 422, s)
    srv.shutdown()
    srv.server_close()
    s, hd, b = post(ngx, "human", dict(GOOD, **{field: "good-token"}),
                    "192.0.2.43")
    check(s == 503, "provider down: fail closed with 503", 503, (s, b))


if __name__ == "__main__":
    sys.exit(main())
