"""The spool's free-space reserve, limits.min_free (issue 16, F11).
Before a new post is committed the worker looks at the spool's file
system (statvfs): under the reserve it answers 503 (Retry-After) and logs
why, keeping the rest for the deliverers, whose rewrites (defer, retry)
and removals are not held to it.

  1. min_free "99%" and min_free of 1000 TiB (above any free space here):
     a post gets 503 and the log names limits.min_free; a message queued
     before is still delivered, and `queue retry` still rewrites one;
  2. min_free 4096 octets, "0" (off) and the default (1 %): 200;
  3. where a tmpfs can be mounted (root, a kernel that allows it): a
     4 MiB spool with min_free "1M": posts of ~200 kB are taken until the
     reserve, then 503, with at least ~1 MiB still free; a deferral is
     still recorded.  Elsewhere skipped with the reason.

The figures (free octets and inodes of the spool's file system) are
printed.  An old build does not know the key: check fails (recorded).
"""
import json
import os
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import check  # noqa: E402


def params():
    return {"REQUEST_METHOD": "POST", "DOCUMENT_URI": "/f2m/contact",
            "REQUEST_URI": "/f2m/contact", "HTTPS": "on",
            "REMOTE_ADDR": "192.0.2.10",
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "HTTP_ACCEPT": "application/json"}


def post(sock, tag, size=0):
    text = "min_free " + tag + ("\n" + "x" * 70 + "\n") * (size // 72)
    body = urllib.parse.urlencode({"name": "Reserve " + tag,
                                   "email": "visitor@example.org",
                                   "message": text}).encode()
    try:
        s, hd, b = h.fcgi_request(sock, params(), body, 30)
    except (h.HarnessError, OSError) as e:
        return -1, str(e)
    return s, b[:200]


def fs(path):
    v = os.statvfs(path)
    return v.f_bavail * v.f_frsize, v.f_favail, v.f_blocks * v.f_frsize


def run_serve(path, cfg_path, tag, then=None):
    """Starts serve, posts once, calls then() while it runs, stops it:
    -> ((status, body), log, what then() returned)."""
    f2m = h.Form2mail(cfg_path)
    f2m.start()
    try:
        r = post(f2m.socket, tag)
        return r, f2m.log(), then() if then else None
    finally:
        f2m.stop()


def delivered(mta, n):
    try:
        mta.wait_messages(n, 60)
        return n
    except h.HarnessError as e:
        return str(e)[:200]


def can_mount_tmpfs(where):
    if os.geteuid() != 0:
        return "not root"
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0755",
                        "tmpfs", where], capture_output=True, text=True)
    if r.returncode != 0:
        return "mount -t tmpfs failed: " + r.stderr.strip()
    return None


def main():
    with h.Workdir() as wd:
        pki = h.make_pki(wd.sub("pki"))
        keys = h.make_dkim_keys(wd.sub("dkim"), "example.test")
        mta = h.Mta(wd.sub("mta"), pki)
        mta.start()
        d = wd.sub("f2m")
        base = h.default_config(d, mta=mta, pki=pki, dkim=keys)
        spool = base["spool_dir"]
        try:
            os.makedirs(spool, exist_ok=True)
            free, inodes, size = fs(spool)
            print("spool file system: %d of %d octets free (%.1f %%), %d "
                  "inodes free" % (free, size, 100.0 * free / size, inodes))

            def conf(name, min_free, url=None):
                cfg = h.merge(base, {})
                if min_free is not None:
                    cfg["limits"]["min_free"] = min_free
                if url:
                    cfg["smtp"]["url"] = url
                p = os.path.join(d, name + ".json")
                h.write_config(p, cfg)
                return p

            high = conf("high", "99%")
            r = subprocess.run([h.f2m_bin(), "check", "-c", high],
                               capture_output=True, text=True, timeout=60)
            print("check with limits.min_free \"99%%\": rc=%d %s" %
                  (r.returncode, (r.stdout + r.stderr).strip()[:200]))
            if not check(r.returncode == 0, "check knows limits.min_free",
                         0, (r.returncode, r.stderr)):
                return h.result()
            for v in ("1%", 0, "0", 65536, "64M", "1G", "99%"):
                r = subprocess.run([h.f2m_bin(), "check", "-c",
                                    conf("v", v)], capture_output=True,
                                   text=True, timeout=60)
                check(r.returncode == 0, "min_free %r accepted" % (v,), 0,
                      (r.returncode, r.stderr))
            for v in ("100%", "1.5%", "-1", -1, "12X", "", "1KB", True,
                      "2000T", "99999999999999999999"):
                p = conf("bad", v)
                r = subprocess.run([h.f2m_bin(), "check", "-c", p],
                                   capture_output=True, text=True,
                                   timeout=60)
                check(r.returncode != 0 and p + ":" in r.stderr and
                      "min_free" in r.stderr, "min_free %r refused with "
                      "file:line:column" % (v,), 1, (r.returncode, r.stderr))

            # a message queued before the reserve bites, for the deliverer
            f2m = h.Form2mail(conf("plain", 0))
            r = f2m.cli("send-test", "contact")
            check(r.returncode == 0, "send-test queued a message", 0,
                  r.stderr)

            for name, v in (("pct", "99%"), ("bytes", 1000 << 40)):
                (st, b), log, got = run_serve(
                    spool, conf(name, v), name,
                    then=(lambda: delivered(mta, 1)) if name == "pct"
                    else None)
                print("min_free %r: post answered %s" % (v, st))
                check(st == 503, "min_free %r above the free space: 503" %
                      (v,), 503, (st, b))
                check("limits.min_free" in log, "the refusal is logged",
                      None, log[-600:])
                check("AddressSanitizer" not in log and "runtime error" not
                      in log, "no sanitizer report", None, log[-800:])
                if name == "pct":
                    check(got == 1, "the deliverer delivered the queued "
                          "message while posts were refused", 1, got)

            # rewrites under the reserve: a deferral, then queue retry
            dead = "smtps://127.0.0.1:%d" % h.free_port()
            p = conf("dead", "99%", url=dead)
            f2m = h.Form2mail(conf("plainq", 0))
            r = f2m.cli("send-test", "contact")
            sid = r.stdout.split()[1] if r.returncode == 0 else "?"
            f2m = h.Form2mail(p)
            r = f2m.cli("queue", "run", "--once", timeout=90)
            q = {m["id"]: m for m in f2m.queue_list()}
            check(q.get(sid, {}).get("attempts") == 1, "a deferral is "
                  "recorded under the reserve", 1, q.get(sid))
            r = f2m.cli("queue", "retry", sid)
            check(r.returncode == 0, "queue retry rewrites under the "
                  "reserve", 0, (r.returncode, r.stdout, r.stderr))
            f2m.cli("queue", "delete", sid)

            for name, v in (("low", 4096), ("off", "0"), ("default", None)):
                (st, b), log, _ = run_serve(spool, conf(name, v), name)
                print("min_free %r: post answered %s" % (v, st))
                if v is None and free < size // 100:
                    h.skip("the default min_free", "this file system has "
                           "less than 1 % free")
                    continue
                check(st == 200, "min_free %r under the free space: 200" %
                      (v,), 200, (st, b))

            tmpfs_part(wd, base, d)
        finally:
            mta.stop()
    return h.result()


def tmpfs_part(wd, base, d):
    mnt = wd.sub("tmpfs")
    why = can_mount_tmpfs(mnt)
    if why is not None:
        h.skip("a 4 MiB tmpfs spool", why)
        return
    try:
        cfg = h.merge(base, {})
        cfg["spool_dir"] = os.path.join(mnt, "spool")
        cfg["limits"].update(min_free="1M", max_value=300000)
        cfg["forms"]["contact"]["fields"]["message"]["max_length"] = 300000
        cfg["smtp"]["url"] = "smtps://127.0.0.1:%d" % h.free_port()
        p = os.path.join(d, "tmpfs.json")
        h.write_config(p, cfg)
        f2m = h.Form2mail(p)
        f2m.start()
        try:
            codes = []
            for i in range(40):
                st, b = post(f2m.socket, "t%d" % i, 200000)
                codes.append(st)
                if st != 200:
                    break
            free, _, size = fs(cfg["spool_dir"])
            print("tmpfs of %d octets: %d posts taken, then %s; %d octets "
                  "free at the refusal" % (size, codes.count(200),
                                           codes[-1], free))
            check(codes[-1] == 503 and codes.count(200) >= 5, "posts taken "
                  "until the reserve, then 503", 503, codes)
            check(free >= 1024 * 1024, "at least 1 MiB left at the "
                  "refusal", 1024 * 1024, free)
        finally:
            f2m.stop()
        r = f2m.cli("queue", "run", "--once", timeout=120)
        q = f2m.queue_list()
        check(r.returncode == 0 and q and all(m["attempts"] == 1 for m in q),
              "every deferral recorded on the full tmpfs", len(q),
              [(m["id"], m["attempts"]) for m in q][:5])
    finally:
        subprocess.run(["umount", "-l", mnt])


if __name__ == "__main__":
    sys.exit(main())
