"""Counters shared by every process (stats.shm under state_dir):
`form2mail stats` and the metrics endpoint print Prometheus text; the
endpoint answers only the addresses config allows; the deliverer and a
`queue run` in another process count too."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import FAILS, PASSED, check  # noqa: E402

JSON = {"Accept": "application/json"}


def metric(text, name, label=None):
    pat = re.escape(name) + (r'\{[a-z]+="%s"\}' % re.escape(label)
                             if label else "") + r" (\d+)"
    m = re.search("^" + pat + "$", text, re.M)
    return int(m.group(1)) if m else None


def params(ip, uri, method="POST"):
    return {"REQUEST_METHOD": method, "DOCUMENT_URI": uri, "HTTPS": "on",
            "REMOTE_ADDR": ip, "HTTP_ACCEPT": "application/json",
            "CONTENT_TYPE": "application/x-www-form-urlencoded"}


def main():
    with h.Workdir() as wd:
        pki = h.make_pki(wd.sub("pki"))
        keys = h.make_dkim_keys(wd.sub("dkim"), "example.test")
        mta = h.Mta(wd.sub("mta"), pki)
        mta.start()
        d = wd.sub("f2m")
        cfg = h.default_config(d, mta=mta, pki=pki, dkim=keys)
        cfg["metrics"] = {"allow": ["127.0.0.1"]}
        cfg["throttle"] = {"per_ip": "2/1h"}
        cfg["duplicate_window"] = 0
        path = os.path.join(d, "form2mail.json")
        h.write_config(path, cfg)
        f2m = h.Form2mail(path)
        f2m.start()
        try:
            good = b"name=Ada&email=ada%40example.org&message=hi"
            s = [h.fcgi_request(f2m.socket, params("192.0.2.80",
                 "/f2m/contact"), good)[0] for _ in range(3)]
            s.append(h.fcgi_request(f2m.socket, params("192.0.2.81",
                     "/f2m/contact"), b"name=")[0])
            s.append(h.fcgi_request(f2m.socket, params("192.0.2.81",
                     "/f2m/nosuch"), good)[0])
            check(s == [200, 200, 429, 422, 404], "the posts", None, s)
            mta.wait_messages(4, timeout=15)
            h.wait_until(lambda: metric(f2m.cli("stats").stdout,
                         "form2mail_delivered_total") == 2, 10,
                         what="delivered counter")
            out = f2m.cli("stats").stdout
            want = {("form2mail_accepted_total", None): 2,
                    ("form2mail_throttled_total", None): 1,
                    ("form2mail_rejected_total", "invalid"): 1,
                    ("form2mail_rejected_total", "not_found"): 1,
                    ("form2mail_delivered_total", None): 2,
                    ("form2mail_spool_messages", "queued"): 0}
            got = {k: metric(out, *k) for k in want}
            check(got == want, "form2mail stats counts requests and "
                  "deliveries of every process", want, got)
            check("# TYPE form2mail_rejected_total counter" in out and
                  "form2mail_oldest_queued_seconds 0" in out,
                  "Prometheus text format", None, out[:400])
            st, hd, body = h.fcgi_request(f2m.socket, params(
                "127.0.0.1", "/f2m/_metrics", "GET"))
            check(st == 200 and hd.get("Content-Type", "").startswith(
                "text/plain; version=0.0.4") and metric(
                body.decode(), "form2mail_accepted_total") == 2,
                "metrics endpoint for an allowed address", 200, (st, body[:200]))
            st, hd, body = h.fcgi_request(f2m.socket, params(
                "192.0.2.90", "/f2m/_metrics", "GET"))
            check(st == 404, "metrics hidden from other addresses", 404, st)
        finally:
            f2m.stop()
            mta.stop()
    print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
