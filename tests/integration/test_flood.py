"""A flood straight at the FastCGI socket: 20,000 posts from 5,000
addresses, four each, with per_ip 3/1m.  Exactly 3 of each address's
posts are admitted and the 4th gets 429 + Retry-After; the throttle
table file keeps its size; no worker crashes; the workers' RSS stays flat.
Then the per-address budget rules of issue 3: 10 posts from one address
(3 accepted, 7 refused), another address still accepted, two IPv6
addresses in one /64 share a budget."""
import os
import re
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import FAILS, PASSED, check  # noqa: E402


def params(ip, form="contact"):
    return {"REQUEST_METHOD": "POST", "DOCUMENT_URI": "/f2m/" + form,
            "REQUEST_URI": "/f2m/" + form, "HTTPS": "on", "REMOTE_ADDR": ip,
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "HTTP_ACCEPT": "application/json"}


# the honeypot makes every admitted post cheap: answered as accepted, not
# spooled, so the flood measures the throttle and the request path
BODY = urllib.parse.urlencode({"name": "Bot", "email": "b@example.org",
                               "message": "spam", "_gotcha": "x"}).encode()


def worker_pids(f2m):
    kids = set(f2m.pids())
    return sorted(kids & set(int(p) for p in re.findall(
        r"form2mail\[(\d+)\] worker ", f2m.log())))


def main():
    with h.Workdir() as wd:
        pki = h.make_pki(wd.sub("pki"))
        keys = h.make_dkim_keys(wd.sub("dkim"), "example.test")
        d = wd.sub("f2m")
        cfg = h.default_config(d, pki=pki, dkim=keys)
        h.write_secret(cfg["smtp"]["password_file"], "unused\n")
        cfg["smtp"]["url"] = "smtps://localhost:%d" % h.free_port()
        cfg["workers"] = 2
        cfg["throttle"] = {"per_ip": "3/1m", "per_form": "1000000/1h",
                           "global": "1000000/1h", "entries": 16384}
        cfg["duplicate_window"] = 0
        path = os.path.join(d, "form2mail.json")
        h.write_config(path, cfg)
        f2m = h.Form2mail(path)
        f2m.start()
        try:
            flood(f2m, cfg)
            budgets(f2m)
        finally:
            rc = f2m.stop()
        check(rc == 0, "clean stop after the flood", 0, rc)
        log = f2m.log()
        check("killed by signal" not in log and "AddressSanitizer" not in log
              and "runtime error" not in log, "no crash, no sanitizer "
              "report", None, log[-1500:])
    print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
    return 1 if FAILS else 0


def flood(f2m, cfg):
    table = os.path.join(cfg["state_dir"], "throttle.shm")
    h.wait_until(lambda: os.path.exists(table), 5, what="throttle table")
    size0 = os.path.getsize(table)
    addrs = ["10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255)
             for i in range(1, 5001)]
    counts = {}
    retry_ok = [True]
    lock = threading.Lock()
    rss = []

    def run(part):
        for ip in part:
            for k in range(4):
                s, hd, b = h.fcgi_request(f2m.socket, params(ip), BODY)
                with lock:
                    counts[s] = counts.get(s, 0) + 1
                    if s == 429 and not hd.get("Retry-After", "").isdigit():
                        retry_ok[0] = False
                    if k < 3 and s != 200 or k == 3 and s != 429:
                        counts.setdefault("wrong", []).append((ip, k, s))

    h.wait_until(lambda: len(worker_pids(f2m)) == 2, 5, what="workers")
    pids = worker_pids(f2m)
    # warm up, then measure RSS before and after
    for ip in ("10.255.0.1", "10.255.0.2"):
        h.fcgi_request(f2m.socket, params(ip), BODY)
    # RssAnon: private memory; the shared table's pages (VmRSS) are not ours
    rss.append(sum(h.proc_rss_kb(p, "RssAnon") or 0 for p in pids))
    t0 = time.monotonic()
    n = 8
    threads = [threading.Thread(target=run, args=(addrs[i::n],))
               for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    dt = time.monotonic() - t0
    rss.append(sum(h.proc_rss_kb(p, "RssAnon") or 0 for p in pids))
    print("flood: 20000 posts in %.1f s (%.0f/s), %r; workers RssAnon %d -> %d "
          "KiB" % (dt, 20000 / dt, {k: v for k, v in counts.items()
                                     if k != "wrong"}, rss[0], rss[1]),
          flush=True)
    check(counts.get(200) == 15000 and counts.get(429) == 5000,
          "exactly 3 admitted and 1 refused per address", {200: 15000,
                                                          429: 5000}, counts)
    check("wrong" not in counts, "the refused post is each address's 4th",
          [], counts.get("wrong", [])[:5])
    check(retry_ok[0], "every 429 has Retry-After in seconds")
    check(os.path.getsize(table) == size0, "table file size unchanged",
          size0, os.path.getsize(table))
    check(worker_pids(f2m) == pids, "no worker died or was replaced", pids,
          worker_pids(f2m))
    if os.environ.get("F2M_SANITIZED") in ("1", "ON", "TRUE"):
        # ASan keeps freed memory in quarantine: RSS says nothing there
        print("flood: sanitizer build, RSS check left to the release build")
    else:
        check(rss[1] - rss[0] < 1024, "workers' private memory flat (< 1 "
              "MiB growth over 20,000 requests)", "< 1024 KiB",
              rss[1] - rss[0])


def budgets(f2m):
    got = [h.fcgi_request(f2m.socket, params("192.0.2.50"), BODY)[0]
           for _ in range(10)]
    check(got.count(200) == 3 and got.count(429) == 7,
          "10 posts from one address: 3 accepted, 7 refused", None, got)
    check(h.fcgi_request(f2m.socket, params("192.0.2.51"), BODY)[0] == 200,
          "another address is still accepted")
    a = [h.fcgi_request(f2m.socket, params("2001:db8:5:6::1"), BODY)[0]
         for _ in range(2)]
    b = [h.fcgi_request(f2m.socket, params("2001:db8:5:6:abcd::2"), BODY)[0]
         for _ in range(2)]
    check(a + b == [200, 200, 200, 429], "two addresses in one /64 share a "
          "budget", [200, 200, 200, 429], a + b)
    c = h.fcgi_request(f2m.socket, params("2001:db8:5:7::1"), BODY)[0]
    check(c == 200, "the next /64 has its own", 200, c)


if __name__ == "__main__":
    sys.exit(main())
