"""SIGHUP: a new config is checked first; a good one replaces the workers
(a new form answers, requests in between keep being served), a broken one
leaves the running config in place and the log says why."""
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import FAILS, PASSED, check  # noqa: E402

JSON = {"Accept": "application/json"}
GOOD = {"name": "Ada", "email": "ada@example.org", "message": "hi"}


def main():
    with h.Workdir() as wd:
        pki = h.make_pki(wd.sub("pki"))
        keys = h.make_dkim_keys(wd.sub("dkim"), "example.test")
        d = wd.sub("f2m")
        cfg = h.default_config(d, pki=pki, dkim=keys)
        h.write_secret(cfg["smtp"]["password_file"], "unused\n")
        cfg["smtp"]["url"] = "smtps://localhost:%d" % h.free_port()
        cfg["duplicate_window"] = 0
        path = os.path.join(d, "form2mail.json")
        h.write_config(path, cfg)
        f2m = h.Form2mail(path)
        f2m.start()
        ngx = h.Nginx(wd.sub("nginx"), pki, f2m.socket)
        ngx.start()
        statuses = []
        stop = threading.Event()

        def load():
            while not stop.is_set():
                try:
                    statuses.append(ngx.post("/f2m/contact", GOOD, JSON)[0])
                except Exception as e:
                    statuses.append(str(e))
        t = threading.Thread(target=load)
        t.start()
        try:
            s = ngx.post("/f2m/newform", GOOD, JSON)[0]
            check(s == 404, "new form unknown before the reload", 404, s)
            cfg["forms"]["newform"] = h.contact_form()
            h.write_config(path, cfg)
            for _ in range(5):
                f2m.reload()
                time.sleep(0.3)
            h.wait_until(lambda: ngx.post("/f2m/newform", GOOD, JSON)[0] == 200,
                         10, what="the new form after SIGHUP")
            check(True, "the new form answers after SIGHUP")
            h.write_file(path, '{"workers": 2,,}')
            f2m.reload()
            h.wait_until(lambda: "keeping the running config" in f2m.log(), 5,
                         what="the reload error in the log")
            check(True, "a broken config is refused and logged")
            s = ngx.post("/f2m/newform", GOOD, JSON)[0]
            check(s == 200, "the running config stays", 200, s)
            check(f2m.running(), "the master is still running")
        finally:
            stop.set()
            t.join(30)
            ngx.stop()
            rc = f2m.stop()
        bad = [s for s in statuses if s != 200]
        check(len(statuses) > 20 and not bad, "no failed request across 6 "
              "reloads", [], (len(statuses), bad[:5]))
        check(rc == 0, "clean stop", 0, rc)
    print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
