"""scripts/bench: throttled (429) posts per second through nginx next to
the bare libfcgi hello-world behind the same nginx, same run, interleaved
rounds; and the cost of the request path's defences.  Figures only."""
import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import harness as h  # noqa: E402

BODY = "name=Ada&email=ada%40example.org&message=" + "x" * 900


def wrk(url, conns, secs, script):
    p = subprocess.run(["wrk", "-t", "2", "-c", str(conns), "-d", "%ds" % secs,
                        "--latency", "-s", script, url],
                       capture_output=True, text=True, timeout=secs + 60)
    out = p.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, lat, int(non2xx.group(1)) if non2xx else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    with h.Workdir(prefix="f2m-bench-") as wd:
        pki = h.make_pki(wd.sub("pki"))
        keys = h.make_dkim_keys(wd.sub("dkim"), "example.test")
        d = wd.sub("f2m")
        cfg = h.default_config(d, pki=pki, dkim=keys)
        h.write_secret(cfg["smtp"]["password_file"], "unused\n")
        cfg["smtp"]["url"] = "smtps://localhost:%d" % h.free_port()
        cfg["workers"] = 2
        cfg["throttle"] = {"per_ip": "1/1h", "global": "1000000/1h"}
        path = os.path.join(d, "form2mail.json")
        h.write_config(path, cfg)
        f2m = h.Form2mail(path)
        f2m.start()
        hello_sock = os.path.join(str(wd), "hello.sock")
        hello = subprocess.Popen([os.path.join(REPO, "build", "bench_hello"),
                                  hello_sock, "2"], start_new_session=True)
        h.wait_until(lambda: h.unix_accepts(hello_sock), 10, what="hello")
        ngx = h.Nginx(wd.sub("nginx"), pki, f2m.socket)
        ngx.extra_server = ("location = /hello { include fastcgi_params; "
                            "fastcgi_pass unix:%s; }" % hello_sock)
        ngx.start()
        script = os.path.join(str(wd), "post.lua")
        h.write_file(script, 'wrk.method = "POST"\nwrk.body = "%s"\n'
                     'wrk.headers["Content-Type"] = '
                     '"application/x-www-form-urlencoded"\n'
                     'wrk.headers["Accept"] = "application/json"\n' % BODY)
        base = "https://localhost:%d" % ngx.port
        # the first post is admitted; every later one is throttled
        ngx.post("/f2m/contact", BODY.encode(),
                 {"Content-Type": "application/x-www-form-urlencoded"})
        res = {"hello": [], "throttled": []}
        try:
            for r in range(a.rounds):
                for name, url in (("hello", base + "/hello"),
                                  ("throttled", base + "/f2m/contact")):
                    res[name].append(wrk(url, a.connections, a.duration,
                                         script))
        finally:
            ngx.stop()
            f2m.stop()
            h.stop_pid(hello.pid, popen=hello, group=True)
    best = {k: max(v, key=lambda x: x[0]) for k, v in res.items()}
    print("nginx HTTPS, %d connections, %d s x %d interleaved rounds, "
          "1 KB form body" % (a.connections, a.duration, a.rounds))
    print("%-28s %10s %10s %10s" % ("", "req/s", "p50", "p99"))
    for k, label in (("hello", "libfcgi hello-world"),
                     ("throttled", "form2mail throttled (429)")):
        rps, lat, non = best[k]
        print("%-28s %10.0f %10s %10s" % (label, rps, lat.get("50"),
                                         lat.get("99")))
    ratio = best["throttled"][0] / best["hello"][0]
    print("throttled / hello-world: %.2f (goal >= 0.8)" % ratio)
    non = best["throttled"][2]
    print("throttled responses that were not 2xx/3xx (the 429s): %d" % non)


if __name__ == "__main__":
    sys.exit(main())
