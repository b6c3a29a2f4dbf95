"""The client keys of the throttle and the replay store, straight at the
FastCGI socket (issue 16, F4 F8 F9 F10); every check names its finding.

F4: a REMOTE_ADDR that is not an IP address ("unix:", as nginx sets behind
    a unix-socket listener; empty; garbage; absent) is refused 503 with a
    log line naming the cause, never let through unthrottled; with
    throttle.client_ip_header the header's address is the client (X-Forwarded-For:
    its rightmost entry), and a header value that is not an address is
    refused the same way.
F8: a flood of fresh IPv6 /64s (5,000 posts, a 1,024-slot table) does not
    make the throttle forget a used ALTCHA payload: its replay is refused.
F9: "Origin: null" (a sandboxed iframe, a data: page) is foreign: 403 with
    allowed_origins, even with allow_missing_origin.
F10: the /64s of one IPv6 /48 share a wider budget (throttle.per_net,
    by default 8 times per_ip's count per the same period); IPv4 /24s have
    none unless per_net_v4 is set."""
import json
import os
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import FAILS, PASSED, check  # noqa: E402

GOOD = {"name": "Ada", "email": "ada@example.org", "message": "Hello"}
# the honeypot: answered as accepted, nothing spooled (cheap to flood)
BOT = dict(GOOD, _gotcha="x")
SITE = "https://site.test"


def params(ip, form="contact", method="POST", extra=None, uri=None):
    p = {"REQUEST_METHOD": method, "DOCUMENT_URI": uri or "/f2m/" + form,
         "REQUEST_URI": uri or "/f2m/" + form, "HTTPS": "on",
         "CONTENT_TYPE": "application/x-www-form-urlencoded",
         "HTTP_ACCEPT": "application/json"}
    if ip is not None:
        p["REMOTE_ADDR"] = ip
    p.update(extra or {})
    return p


def post(f2m, ip, fields=BOT, form="contact", extra=None):
    body = urllib.parse.urlencode(fields).encode()
    return h.fcgi_request(f2m.socket, params(ip, form, extra=extra), body)


def config(d):
    pki = h.make_pki(d.sub("pki"))
    keys = h.make_dkim_keys(d.sub("dkim"), "example.test")
    f = d.sub("f2m")
    cfg = h.default_config(f, pki=pki, dkim=keys)
    h.write_secret(cfg["smtp"]["password_file"], "unused\n")
    cfg["smtp"]["url"] = "smtps://localhost:%d" % h.free_port()
    cfg["workers"] = 2
    cfg["duplicate_window"] = 0
    # 8/1h: a rate entry outlives the payloads of "pow" (60 s), so a flood
    # of them is what the shared table evicts first
    cfg["throttle"] = {"per_ip": "8/1h", "per_form": "1000000/1h",
                       "global": "1000000/1h", "entries": 1024}
    cfg["forms"]["strict"] = h.contact_form(allowed_origins=[SITE])
    cfg["forms"]["pow"] = h.contact_form(
        challenge={"type": "altcha", "max_number": 1000, "expires": "60s"})
    return cfg


def start(cfg, d, name):
    path = os.path.join(str(d), "f2m", name + ".json")
    h.write_config(path, cfg)
    f2m = h.Form2mail(path)
    try:
        f2m.start()
    except h.HarnessError as e:
        check(False, "form2mail starts with %s" % name, None, str(e)[-600:])
        return None
    return f2m


def main():
    with h.Workdir() as d:
        cfg = config(d)
        f2m = start(cfg, d, "form2mail")
        if f2m is not None:
            try:
                f4_not_an_ip(f2m)
                f9_origin_null(f2m)
                f10_net_budgets(f2m)
                f8_replay_after_flood(f2m)
            finally:
                check(f2m.stop() == 0, "clean stop")
            crashed(f2m)
        cfg["throttle"]["client_ip_header"] = "X-Forwarded-For"
        f2m = start(cfg, d, "forwarded")
        if f2m is not None:
            r = f2m.cli("check")
            print("F4: check with client_ip_header: rc %d, %s" % (
                r.returncode, (r.stdout + r.stderr).strip()[:300]),
                flush=True)
            check(r.returncode == 0 and "warning: \"client_ip_header\" "
                  "X-Forwarded-For is read only when REMOTE_ADDR is not an "
                  "IP address" in r.stderr, "F4: check warns about the "
                  "trusted header", 0, (r.returncode, r.stderr[-400:]))
        if f2m is not None:
            try:
                f4_header(f2m)
            finally:
                check(f2m.stop() == 0, "clean stop (client_ip_header)")
            crashed(f2m)
    print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
    return 1 if FAILS else 0


def crashed(f2m):
    log = f2m.log()
    check("killed by signal" not in log and "AddressSanitizer" not in log
          and "runtime error" not in log, "no crash, no sanitizer report",
          None, log[-1500:])


def f4_not_an_ip(f2m):
    for ip in ("unix:", "", "garbage", "192.0.2.1:80", None):
        got = [post(f2m, ip)[0] for _ in range(12)]
        print("F4: REMOTE_ADDR %r: 12 posts (per_ip 8/1h) -> %r" % (ip, got),
              flush=True)
        check(got == [503] * 12, "F4: REMOTE_ADDR %r is refused 503, not "
              "let through unthrottled" % (ip,), [503] * 12, got)
    s, hd, b = post(f2m, "unix:")
    check(s == 503 and hd.get("Retry-After", "").isdigit(),
          "F4: the 503 says when to try again", 503, (s, hd.get(
              "Retry-After")))
    log = f2m.log()
    check("not an IP address" in log and "client_ip_header" in log,
          "F4: the log names the cause (and the fix)", None, log[-800:])
    got = [post(f2m, "192.0.2.44")[0] for _ in range(9)]
    check(got == [200] * 8 + [429], "F4: an IP address is throttled as "
          "before (8 then 429)", [200] * 8 + [429], got)


def f4_header(f2m):
    xff = {"HTTP_X_FORWARDED_FOR": "203.0.113.9, 198.51.100.7"}
    got = [post(f2m, "unix:", extra=xff)[0] for _ in range(9)]
    print("F4: unix: + X-Forwarded-For %r: %r" % (
        xff["HTTP_X_FORWARDED_FOR"], got), flush=True)
    check(got == [200] * 8 + [429], "F4: client_ip_header: the rightmost "
          "X-Forwarded-For entry is throttled", [200] * 8 + [429], got)
    other = {"HTTP_X_FORWARDED_FOR": "198.51.100.7, 203.0.113.9"}
    s = post(f2m, "unix:", extra=other)[0]
    check(s == 200, "F4: another rightmost entry has its own budget", 200, s)
    for v in ("", "garbage", "203.0.113.9, unix:", "203.0.113.9,",
              "[2001:db8::1]:443"):
        s = post(f2m, "unix:", extra={"HTTP_X_FORWARDED_FOR": v})[0]
        check(s == 503, "F4: X-Forwarded-For %r is refused 503" % v, 503, s)
    s = post(f2m, "unix:")[0]
    check(s == 503, "F4: no header: 503", 503, s)
    # REMOTE_ADDR an IP address: the header is ignored (README)
    got = [post(f2m, "192.0.2.45", extra=xff)[0] for _ in range(9)]
    check(got == [200] * 8 + [429], "F4: with REMOTE_ADDR an address the "
          "header is ignored", [200] * 8 + [429], got)


def f9_origin_null(f2m):
    ip = "192.0.2.90"
    s = post(f2m, ip, form="strict", extra={"HTTP_ORIGIN": SITE})[0]
    check(s == 200, "F9: the allowed Origin passes", 200, s)
    s = post(f2m, ip, form="strict")[0]
    check(s == 200, "F9: no Origin, allow_missing_origin: passes", 200, s)
    s = post(f2m, ip, form="strict", extra={"HTTP_ORIGIN": "null"})[0]
    print("F9: Origin: null, allow_missing_origin -> %d" % s, flush=True)
    check(s == 403, "F9: Origin null is foreign (403), even with "
          "allow_missing_origin", 403, s)
    s = post(f2m, ip, form="strict", extra={
        "HTTP_ORIGIN": "null", "HTTP_REFERER": SITE + "/contact.html"})[0]
    check(s == 403, "F9: Origin null with an allowed Referer: 403", 403, s)
    s = post(f2m, ip, form="contact", extra={"HTTP_ORIGIN": "null"})[0]
    check(s == 200, "F9: a form without allowed_origins takes any", 200, s)


def f10_net_budgets(f2m):
    # per_ip 8/1h: the /48 gets 64/1h by default
    got = [post(f2m, "2001:db8:aaaa:%x::1" % i)[0] for i in range(70)]
    n = got.count(200)
    print("F10: 70 /64s of one /48, one post each: %d admitted, %d "
          "refused 429" % (n, got.count(429)), flush=True)
    check(got == [200] * 64 + [429] * 6, "F10: the /48 holds 64 posts (8x "
          "per_ip), then 429", "64 x 200, 6 x 429", got)
    s = post(f2m, "2001:db8:aaab::1")[0]
    check(s == 200, "F10: the next /48 has its own budget", 200, s)
    got = [post(f2m, "198.51.100.%d" % i)[0] for i in range(1, 71)]
    check(got == [200] * 70, "F10: IPv4 /24s have no budget by default",
          "70 x 200", got.count(200))


def challenge(f2m, ip):
    s, hd, b = h.fcgi_request(f2m.socket, params(
        ip, method="GET", uri="/f2m/pow/challenge"))
    if s != 200:
        return None
    return h.altcha_solve(json.loads(b))


def f8_replay_after_flood(f2m):
    payload = challenge(f2m, "192.0.2.80")
    if not check(payload is not None, "F8: a challenge to solve"):
        return
    s = post(f2m, "192.0.2.80", dict(GOOD, altcha=payload), "pow")[0]
    check(s == 200, "F8: the solved challenge is accepted", 200, s)
    s, hd, b = post(f2m, "192.0.2.81", dict(GOOD, altcha=payload), "pow")
    check(s == 422, "F8: its replay is refused before the flood", 422,
          (s, b))
    counts = {}
    lock = threading.Lock()

    def run(part):
        for i in part:
            # a fresh /64 in a fresh /48 each: no budget stops the flood
            ip = "2400:%x:%x::1" % (i >> 16 & 0xffff, i & 0xffff)
            s = post(f2m, ip)[0]
            with lock:
                counts[s] = counts.get(s, 0) + 1

    t0 = time.monotonic()
    threads = [threading.Thread(target=run, args=(range(i, 5000, 4),))
               for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    print("F8: flood of 5000 fresh /64s in %.1f s: %r" % (
        time.monotonic() - t0, counts), flush=True)
    s, hd, b = post(f2m, "192.0.2.82", dict(GOOD, altcha=payload), "pow")
    print("F8: the used payload after the flood -> %d %s" % (s, b[:80]),
          flush=True)
    check(s == 422, "F8: the replay after the flood is still refused",
          422, (s, b))
    fresh = challenge(f2m, "192.0.2.83")
    s = post(f2m, "192.0.2.83", dict(GOOD, altcha=fresh), "pow")[0]
    check(s == 200, "F8: a fresh payload is still accepted", 200, s)
    f8_store_full(f2m, [payload, fresh])


def f8_store_full(f2m, used):
    """Solved payloads (honeypot posts: recorded, then dropped) until the
    1,024-slot store refuses one: 503 + Retry-After, never a payload
    forgotten to make room."""
    got = {}
    refused = None
    for i in range(4000):
        ip = "10.%d.%d.1" % (i >> 8 & 255, i & 255)
        p = challenge(f2m, ip)
        s, hd, b = post(f2m, ip, dict(BOT, altcha=p), "pow")
        got[s] = got.get(s, 0) + 1
        if i < 64:
            used.append(p)
        if s != 200:
            refused = (s, hd.get("Retry-After"), b)
            break
    print("F8: store of 1024 slots: %r before the first refusal %r" % (
        got, refused), flush=True)
    check(refused is not None and refused[0] == 503 and
          (refused[1] or "").isdigit(), "F8: a full replay store refuses "
          "with 503 + Retry-After", 503, refused)
    check("replay store full" in f2m.log(), "F8: the log says the store "
          "is full")
    back = [post(f2m, "192.0.2.%d" % (100 + i % 100), dict(GOOD, altcha=p),
                 "pow")[0] for i, p in enumerate(used)]
    check(set(back) <= {422, 503} and 200 not in back, "F8: no used payload "
          "is accepted again with the store full", "422 or 503", back)


if __name__ == "__main__":
    sys.exit(main())
