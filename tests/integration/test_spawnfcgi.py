"""spawn-fcgi hands `form2mail serve` a listening socket on fd 0: the
service takes it instead of its configured `listen`, and answers nginx."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


def main():
    fails = []
    with h.Workdir() as wd:
        pki = h.make_pki(wd.sub("pki"))
        keys = h.make_dkim_keys(wd.sub("dkim"), "example.test")
        cfg = h.default_config(wd.sub("f2m"), pki=pki, dkim=keys)
        h.write_secret(cfg["smtp"]["password_file"], "unused\n")
        cfg["smtp"]["url"] = "smtps://localhost:%d" % h.free_port()
        # a listen path that must stay unused
        cfg["listen"] = "unix:" + os.path.join(str(wd), "unused.sock")
        path = os.path.join(wd.sub("f2m"), "form2mail.json")
        h.write_config(path, cfg)
        sock = os.path.join(str(wd), "spawn.sock")
        log = open(os.path.join(str(wd), "f2m.log"), "wb")
        p = subprocess.Popen(["spawn-fcgi", "-n", "-s", sock, "-M", "0666",
                              "--", h.f2m_bin(), "serve", "-c", path],
                             stdout=log, stderr=log, start_new_session=True)
        ngx = None
        try:
            h.wait_until(lambda: h.unix_accepts(sock), 10, what="spawn-fcgi socket")
            ngx = h.Nginx(wd.sub("nginx"), pki, sock)
            ngx.start()
            s, hd, b = ngx.post("/f2m/contact", {"name": "Ada", "email":
                                "ada@example.org", "message": "hi"},
                                {"Accept": "application/json"})
            j = json.loads(b) if s == 200 else {}
            if s != 200 or not j.get("ok"):
                fails.append("post through spawn-fcgi's socket: %r %r" % (s, b))
            elif not os.path.exists(os.path.join(cfg["spool_dir"], "queue",
                                                 j["id"])):
                fails.append("accepted post not in the spool")
            if os.path.exists(cfg["listen"][5:]):
                fails.append("the configured listen socket was created")
        finally:
            if ngx:
                ngx.stop()
            h.stop_pid(p.pid, popen=p)
            log.close()
        with open(os.path.join(str(wd), "f2m.log"), "rb") as f:
            text = f.read().decode(errors="replace")
        if "listening on fd 0 (spawn-fcgi)" not in text:
            fails.append("log does not say fd 0 was used:\n" + text[-1000:])
    for f in fails:
        print("FAIL:", f)
    print("%d passed, %d failed" % (4 - len(fails), len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
