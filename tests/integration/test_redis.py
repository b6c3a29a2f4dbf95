"""The Redis throttle backend with a real redis-server: two `form2mail
serve` instances share one budget; Redis down answers 503 (or admits with
fail_open), and the service recovers when Redis is back."""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import FAILS, PASSED, check  # noqa: E402

BODY = "name=Ada&email=ada%40example.org&message=hi"


def params(ip):
    return {"REQUEST_METHOD": "POST", "DOCUMENT_URI": "/f2m/contact",
            "HTTPS": "on", "REMOTE_ADDR": ip, "HTTP_ACCEPT": "application/json",
            "CONTENT_TYPE": "application/x-www-form-urlencoded"}


def redis(port, d):
    return subprocess.Popen(["redis-server", "--port", str(port), "--bind",
                             "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", d], stdout=subprocess.DEVNULL,
                            start_new_session=True)


def main():
    if shutil.which("redis-server") is None:
        print("SKIP: redis-server is not installed")
        return 77
    with h.Workdir() as wd:
        port = h.free_port()
        r = redis(port, wd.sub("redis"))
        h.wait_until(lambda: h.tcp_listening(port), 10, what="redis")
        keys = h.make_dkim_keys(wd.sub("dkim"), "example.test")
        insts = []
        try:
            for name, fail_open in (("a", False), ("b", False), ("c", True)):
                d = wd.sub(name)
                cfg = h.default_config(d, dkim=keys)
                h.write_secret(cfg["smtp"]["password_file"], "unused\n")
                cfg["smtp"]["url"] = "smtps://localhost:%d" % h.free_port()
                cfg["duplicate_window"] = 0
                cfg["throttle"] = {"backend": "redis", "per_ip": "3/1m",
                                   "redis": "redis://127.0.0.1:%d/3" % port,
                                   "fail_open": fail_open}
                path = os.path.join(d, "form2mail.json")
                h.write_config(path, cfg)
                f = h.Form2mail(path)
                f.start()
                insts.append(f)
            a, b, c = insts
            got = [h.fcgi_request(f.socket, params("192.0.2.70"), BODY.encode())[0]
                   for f in (a, b, a, b, a)]
            check(got == [200, 200, 200, 429, 429], "two instances share one "
                  "budget in Redis", [200, 200, 200, 429, 429], got)
            s = h.fcgi_request(b.socket, params("192.0.2.71"), BODY.encode())[0]
            check(s == 200, "another address on the other instance", 200, s)
            h.stop_pid(r.pid, popen=r)
            t0 = time.monotonic()
            s = h.fcgi_request(a.socket, params("192.0.2.72"), BODY.encode())[0]
            dt = time.monotonic() - t0
            check(s == 503, "Redis down: 503 (fail closed)", 503, s)
            check(dt < 5, "answered quickly", "< 5 s", round(dt, 2))
            s = h.fcgi_request(c.socket, params("192.0.2.72"), BODY.encode())[0]
            check(s == 200, "Redis down with fail_open: admitted", 200, s)
            check("fail_open" in c.log() or "admitting" in c.log(),
                  "fail_open is logged", None, c.log()[-500:])
            r = redis(port, wd.sub("redis"))
            h.wait_until(lambda: h.tcp_listening(port), 10, what="redis again")
            ok = False
            for _ in range(40):
                if h.fcgi_request(a.socket, params("192.0.2.73"),
                                  BODY.encode())[0] == 200:
                    ok = True
                    break
                time.sleep(0.1)
            check(ok, "admitted again once Redis is back")
        finally:
            for f in insts:
                f.stop()
            h.stop_pid(r.pid, popen=r)
    print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
