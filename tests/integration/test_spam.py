"""rspamd in the submission path (a real rspamd on loopback): an ordinary
post is queued, GTUBE is answered as accepted and dropped, a post over
hold_score lands in held/ (listed, released, dropped by the admin), and
rspamd down follows the config (fail_open spools, otherwise 503)."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "unit"))
import harness as h  # noqa: E402
from harness import FAILS, PASSED, check  # noqa: E402
import rspamd_ctl  # noqa: E402

JSON = {"Accept": "application/json"}
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"


def ls(cfg, state):
    try:
        return sorted(os.listdir(os.path.join(cfg["spool_dir"], state)))
    except FileNotFoundError:
        return []


def main():
    if not os.path.exists("/usr/bin/rspamd"):
        print("SKIP: rspamd is not installed")
        return 77
    with h.Workdir() as wd:
        rs = rspamd_ctl.Rspamd(wd.sub("rs"))
        rs.start()
        try:
            run(wd, rs)
        finally:
            rs.stop()
    print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
    return 1 if FAILS else 0


def start(wd, name, rspamd_url, hold, fail_open):
    pki = h.make_pki(wd.sub("pki"), reuse=True)
    keys = h.make_dkim_keys(wd.sub("dkim"), "example.test", reuse=True)
    d = wd.sub(name)
    cfg = h.default_config(d, pki=pki, dkim=keys,
                           socket_path=os.path.join(str(wd), "f2m.sock"))
    h.write_secret(cfg["smtp"]["password_file"], "unused\n")
    cfg["smtp"]["url"] = "smtps://localhost:%d" % h.free_port()
    cfg["spam"] = {"rspamd_url": rspamd_url, "reject_score": 15,
                   "hold_score": hold, "fail_open": fail_open, "timeout": 5}
    path = os.path.join(d, "form2mail.json")
    h.write_config(path, cfg)
    f2m = h.Form2mail(path)
    f2m.start()
    return cfg, f2m


def post(ngx, msg):
    s, hd, b = ngx.post("/f2m/contact", {"name": "Ada", "email":
                        "ada@example.org", "message": msg}, JSON)
    return s, (json.loads(b) if b.startswith(b"{") else b)


def run(wd, rs):
    url = "http://127.0.0.1:%d" % rs.port
    pki = h.make_pki(wd.sub("pki"))
    ngx = h.Nginx(wd.sub("nginx"), pki, os.path.join(str(wd), "f2m.sock"))
    ngx.start()
    try:
        # 1. normal thresholds: ham is queued, GTUBE dropped
        cfg, f2m = start(wd, "normal", url, 6, False)
        try:
            s, j = post(ngx, "Bonjour, je voudrais un devis pour la "
                        "rénovation de ma cuisine. Merci !")
            check(s == 200 and j.get("id") in ls(cfg, "queue"),
                  "an ordinary post is queued", 200, (s, j, ls(cfg, "held")))
            s, j = post(ngx, GTUBE)
            check(s == 200 and j.get("ok") is True and
                  j.get("id") not in ls(cfg, "queue") + ls(cfg, "held"),
                  "GTUBE answered as accepted, nothing kept", 200, (s, j))
            check("rspamd reject" in f2m.log(), "the log says why",
                  None, f2m.log()[-800:])
        finally:
            f2m.stop()
        # 2. hold everything: held/, listed, released, dropped
        cfg, f2m = start(wd, "hold", url, -100, False)
        try:
            s, j = post(ngx, "first held message")
            s2, j2 = post(ngx, "second held message")
            held = ls(cfg, "held")
            check(s == s2 == 200 and sorted([j["id"], j2["id"]]) == held,
                  "posts over hold_score are held", None, (s, s2, held))
            q = json.loads(f2m.cli("queue", "list", "--json").stdout)
            check(sorted(e["id"] for e in q if e["state"] == "held") == held,
                  "queue list shows them held", held, q)
            r = f2m.cli("queue", "release", j["id"])
            check(r.returncode == 0 and j["id"] in ls(cfg, "queue") and
                  j["id"] not in ls(cfg, "held"), "release moves one to "
                  "the queue", None, (r.returncode, r.stderr))
            r = f2m.cli("queue", "drop", j2["id"])
            check(r.returncode == 0 and ls(cfg, "held") == [],
                  "drop removes a held one", None, (r.returncode, r.stderr))
        finally:
            f2m.stop()
        # 3. rspamd unreachable: fail closed, then fail open
        dead = "http://127.0.0.1:%d" % h.free_port()
        cfg, f2m = start(wd, "closed", dead, 6, False)
        try:
            s, j = post(ngx, "rspamd is down")
            check(s == 503 and ls(cfg, "queue") == [], "rspamd down, "
                  "fail_open false: 503, nothing kept", 503, (s, j))
        finally:
            f2m.stop()
        cfg, f2m = start(wd, "open", dead, 6, True)
        try:
            s, j = post(ngx, "rspamd is down again")
            check(s == 200 and ls(cfg, "queue") == [j.get("id")],
                  "rspamd down, fail_open true: spooled", 200, (s, j))
            check("rspamd unavailable" in f2m.log(), "and logged")
        finally:
            f2m.stop()
    finally:
        ngx.stop()


if __name__ == "__main__":
    sys.exit(main())
