"""A slow captcha provider must not take the service down (issue 16, F12).

Four workers; form `slow` verifies its captcha with a provider that
answers after 30 s (tests/unit/captcha_peer.py, token "slow30"), with
`timeout` 10; form `fast` has another provider (a second peer) that
answers at once; form `plain` has no captcha.  Six posts to `slow` go at
once; while they are in flight, posts to `plain` and `fast` are timed.

Wanted, and checked:
  - posts to `plain` and `fast` are answered promptly (200, each under
    half the captcha timeout: the old binary makes them wait for a
    worker, about 10 s);
  - at most half the workers (2) wait on the slow provider: the peer sees
    at most 2 calls, and the slow posts beyond the cap get 503 at once;
  - each slow call ends by its deadline: 503 after about 10 s, never 30.
Figures are printed (latencies per form) whatever the result.

Run against the old binary: F2M_BIN=/work/base/build/form2mail
/usr/bin/python3 tests/integration/test_captcha_slow.py (it fails).
"""
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import FAILS, PASSED, check  # noqa: E402

PEER = os.path.join(h.REPO, "tests", "unit", "captcha_peer.py")
JSON = {"Accept": "application/json"}
GOOD = {"name": "Ada", "email": "ada@example.org", "message": "Hello"}
WORKERS = 4
TIMEOUT = 10        # the slow form's captcha.timeout, seconds
NSLOW = 6


class Peer:
    """One tests/unit/captcha_peer.py: a provider of its own."""

    def __init__(self, d):
        self.dir = d
        self.p = subprocess.Popen(["/usr/bin/python3", "-W", "ignore", PEER,
                                   d], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE)
        line = self.p.stdout.readline().decode()
        self.port = int(line.split()[0].split("=")[1])

    def requests(self, token=None):
        try:
            with open(os.path.join(self.dir, "peer.log")) as f:
                rows = [json.loads(x) for x in f if x.strip()]
        except OSError:
            return 0
        return len([r for r in rows if token is None or
                    dict(r["fields"]).get("response") == token])

    def stop(self):
        self.p.stdin.close()
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def timed_post(ngx, form, fields, out):
    t0 = time.monotonic()
    try:
        s, hd, b = ngx.post("/f2m/" + form, fields, JSON, timeout=90)
    except Exception as e:  # noqa: BLE001 - reported as a failure
        s, b = None, repr(e).encode()
    out.append((time.monotonic() - t0, s, b[:200]))


def main():
    with h.Workdir() as wd:
        pki = h.make_pki(wd.sub("pki"))
        keys = h.make_dkim_keys(wd.sub("dkim"), "example.test")
        d = wd.sub("f2m")
        slow_peer = Peer(wd.sub("peer-slow"))
        fast_peer = Peer(wd.sub("peer-fast"))
        cfg = h.default_config(d, pki=pki, dkim=keys)
        cfg["workers"] = WORKERS
        h.write_secret(cfg["smtp"]["password_file"], "unused\n")
        cfg["smtp"]["url"] = "smtps://localhost:%d" % h.free_port()
        secret = os.path.join(d, "turnstile-secret")
        h.write_secret(secret, "s3cret\n")

        def cap(peer, timeout=None):
            c = {"provider": "turnstile", "secret_file": secret,
                 "verify_url": "http://127.0.0.1:%d/turnstile" % peer.port}
            if timeout is not None:
                c["timeout"] = timeout
            return c
        cfg["forms"]["slow"] = h.contact_form(captcha=cap(slow_peer, TIMEOUT))
        cfg["forms"]["fast"] = h.contact_form(captcha=cap(fast_peer))
        cfg["forms"]["plain"] = h.contact_form()
        path = os.path.join(d, "form2mail.json")
        h.write_config(path, cfg)
        f2m = h.Form2mail(path)
        f2m.start()
        ngx = h.Nginx(wd.sub("nginx"), pki, f2m.socket)
        ngx.start()
        try:
            scenario(ngx, slow_peer, fast_peer)
        finally:
            ngx.stop()
            f2m.stop()
            slow_peer.stop()
            fast_peer.stop()
        log = f2m.log()
        check("AddressSanitizer" not in log and "runtime error" not in log,
              "no sanitizer report", None, log[-2000:])
        print("outcomes in the log: captcha_busy=%d captcha_unavailable=%d"
              % (log.count("outcome=captcha_busy"),
                 log.count("outcome=captcha_unavailable")))
        if FAILS:
            print(log[-3000:])
    print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
    return 1 if FAILS else 0


def scenario(ngx, slow_peer, fast_peer):
    # warm up: every form answers
    for form, extra in (("plain", {}), ("fast",
                        {"cf-turnstile-response": "ok"})):
        out = []
        timed_post(ngx, form, dict(GOOD, **extra), out)
        check(out[0][1] == 200, "warm-up %s: 200" % form, 200, out[0])
    slow, threads = [], []
    t_start = time.monotonic()
    for i in range(NSLOW):
        t = threading.Thread(target=timed_post, args=(
            ngx, "slow", dict(GOOD, message="slow %d" % i,
                              **{"cf-turnstile-response": "slow30"}), slow))
        t.start()
        threads.append(t)
    time.sleep(1.5)         # the slow posts reach the workers
    in_flight = slow_peer.requests("slow30")
    others = []
    for i in range(4):
        timed_post(ngx, "plain", dict(GOOD, message="plain %d" % i), others)
        timed_post(ngx, "fast", dict(GOOD, message="fast %d" % i, **{
            "cf-turnstile-response": "ok"}), others)
    t_others = time.monotonic() - t_start
    for t in threads:
        t.join(120)
    forms = ["plain", "fast"] * 4
    print("workers %d, slow timeout %d s, %d slow posts; calls the slow "
          "provider saw while they were in flight: %d"
          % (WORKERS, TIMEOUT, NSLOW, in_flight))
    for form, (dt, s, b) in zip(forms, others):
        print("  %-5s status=%s %.2f s" % (form, s, dt))
    for dt, s, b in sorted(slow):
        print("  slow  status=%s %.2f s %s" % (s, dt, b[:80]))
    print("other forms done %.2f s after the slow posts began" % t_others)

    bound = TIMEOUT / 2.0
    for form, (dt, s, b) in zip(forms, others):
        check(s == 200 and dt < bound, "%s answered promptly (200, under "
              "%.0f s) while the slow posts are in flight" % (form, bound),
              "200 < %.0f s" % bound, (s, round(dt, 2), b))
    cap = max(1, WORKERS // 2)
    calls = slow_peer.requests("slow30")
    check(calls <= cap, "at most %d calls to the slow provider" % cap, cap,
          calls)
    check(len(slow) == NSLOW, "every slow post answered", NSLOW, len(slow))
    check(all(s == 503 for dt, s, b in slow), "slow posts: 503 (fail "
          "closed)", 503, [s for dt, s, b in slow])
    quick = [dt for dt, s, b in slow if dt < bound]
    check(len(quick) >= NSLOW - cap, "slow posts beyond the cap: 503 at "
          "once (under %.0f s)" % bound, NSLOW - cap,
          sorted(round(dt, 2) for dt, s, b in slow))
    check(all(dt < TIMEOUT + 8 for dt, s, b in slow), "each slow call ends "
          "by its deadline (%d s, with room for a loaded machine), never "
          "the provider's 30 s" % TIMEOUT, TIMEOUT,
          sorted(round(dt, 2) for dt, s, b in slow))
    check(fast_peer.requests("ok") >= 5, "the other provider was asked",
          ">= 5", fast_peer.requests("ok"))


if __name__ == "__main__":
    sys.exit(main())
