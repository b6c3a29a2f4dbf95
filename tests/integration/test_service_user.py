"""The service user (issue 16, F6, second half).  With no "user" in the
config and no form2mail account, form2mail used to run as "nobody" and
`check` said ok: every other process running as nobody could then read
the submissions and change the spool.  Now:

  - no "user", no form2mail account: `check` exits 1 and says to create
    the account or set "user"; `serve` (as root) refuses to start;
  - "user": "nobody" stays allowed: `check` exits 0 with a warning that
    names the risk, and `serve` logs it.

The first case needs a machine without a form2mail account: where one
exists it is skipped with that reason (the lookup is not made injectable:
a name the binary would take from its environment is not worth having).
"""
import os
import pwd
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import check  # noqa: E402


def check_cmd(path):
    """`form2mail check -c path` -> (exit status, stdout, stderr)."""
    p = h.Form2mail(path).cli("check")
    return p.returncode, p.stdout, p.stderr


def serve(path, seconds=15):
    """Runs serve for at most `seconds`: -> (exit status or None when it
    was still running, its output, seconds)."""
    t0 = time.monotonic()
    p = subprocess.Popen([h.f2m_bin(), "serve", "-c", path],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True,
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=seconds)
        return p.returncode, out, time.monotonic() - t0
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            out, _ = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, _ = p.communicate()
        return None, out, time.monotonic() - t0


def account(name):
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def main():
    root = os.geteuid() == 0
    with h.Workdir() as wd:
        keys = h.make_dkim_keys(wd.sub("dkim"), "example.test")
        d = wd.sub("f2m")
        cfg = h.default_config(d, dkim=keys)
        h.write_secret(cfg["smtp"]["password_file"], "pw\n")

        nouser = dict(cfg)
        del nouser["user"]
        p_nouser = os.path.join(d, "nouser.json")
        h.write_config(p_nouser, nouser)
        if account("form2mail") is not None:
            h.skip("no user and no form2mail account", "this machine has a "
                   "form2mail account")
        else:
            rc, out, err = check_cmd(p_nouser)
            print("check, no user, no form2mail account: rc=%d %r" %
                  (rc, (out + err).strip()[:300]))
            check(rc == 1, "check refuses a config with no user when there "
                  "is no form2mail account", 1, (rc, out, err))
            check('"user"' in err and "form2mail" in err and "adduser" in
                  err, "check says to create the account or set user",
                  None, err)
            if not root:
                h.skip("serve with no user", "not root: serve changes to "
                       "no user")
            else:
                rc, out, sec = serve(p_nouser)
                print("serve, no user, no form2mail account: rc=%s in %.1f s"
                      % (rc, sec))
                check(rc is not None and rc != 0, "serve refuses to start "
                      "(no fallback to nobody)", "exit != 0", (rc, out[-400:]))
                check("form2mail" in out and '"user"' in out, "serve says "
                      "why", None, out[-400:])

        p_nobody = os.path.join(d, "nobody.json")
        h.write_config(p_nobody, cfg)     # default_config names nobody
        rc, out, err = check_cmd(p_nobody)
        print("check, \"user\": \"nobody\": rc=%d %r" % (rc, err.strip()[:300]))
        check(rc == 0 and "ok" in out, "check accepts an explicit nobody", 0,
              (rc, out, err))
        check("warning" in err and "nobody" in err and "read the submissions"
              in err, "check warns about nobody and names the risk", None, err)
        if root:
            cfg2 = h.merge(cfg, {})
            cfg2["listen"] = "unix:" + os.path.join(d, "nobody.sock")
            p2 = os.path.join(d, "nobody-serve.json")
            h.write_config(p2, cfg2)
            rc, out, sec = serve(p2, seconds=5)
            check(rc is None, "serve runs as an explicit nobody", None,
                  (rc, out[-400:]))
            check("read the submissions" in out, "serve logs the warning",
                  None, out[-600:])
    return h.result()


if __name__ == "__main__":
    sys.exit(main())
