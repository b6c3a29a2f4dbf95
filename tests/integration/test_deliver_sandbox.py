"""The deliverer confined, and no environment inherited (issue 16, F5 and
F13), with real nginx and Postfix.

`form2mail serve` is started with an environment an attacker or a careless
shell could give it: SECRET_TOKEN, https_proxy/HTTPS_PROXY/http_proxy/
ALL_PROXY pointing at a listener of the test, SSLKEYLOGFILE naming a file.

(a) F5: the deliverer runs in seccomp filter mode (/proc/PID/status
    Seccomp: 2) with NoNewPrivs; a post is delivered through the filter
    (implicit TLS, DKIM).
(b) F13: neither a worker's nor the deliverer's /proc/PID/environ holds any
    of those names or values; by behaviour: after the TLS delivery the
    SSLKEYLOGFILE was not written (libcurl would write the session's
    secrets there) and the proxy listener was never connected to.
(c) F5: gdb makes the deliverer do what the review did: open a new file
    outside the spool and state directories (Landlock: -1, no file; when
    the kernel has Landlock), then execve("/bin/sh"): it dies by SIGSYS,
    the master logs it and starts a new deliverer, which delivers.
(d) `queue run` with the same environment: Seccomp 2, a clean environ, and
    the message it was given delivered.

Where gdb cannot attach (test_privsep.trace_probe), (c) is reported
skipped with the reason; the rest still runs."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import check  # noqa: E402
from test_privsep import gdb, gdb_values, role_pids, status, trace_probe  # noqa: E402,E501

JSON = {"Accept": "application/json"}
GOOD = {"name": "Ada", "email": "ada@example.org", "message": "sandbox"}
SIGSYS = 31
SECRET = "f2m-secret-%d-do-not-inherit" % os.getpid()
POSTS = [0]
PROVOKED = []          # pids (c) made die
NAMES = ["SECRET_TOKEN", "https_proxy", "HTTPS_PROXY", "http_proxy",
         "ALL_PROXY", "SSLKEYLOGFILE"]


class Listener:
    """A TCP listener that counts the connections it gets (a would-be
    proxy)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.count = 0
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.count += 1
            c.close()


def hostile_env(keylog, port):
    proxy = "http://127.0.0.1:%d" % port
    return {"SECRET_TOKEN": SECRET, "https_proxy": proxy,
            "HTTPS_PROXY": proxy, "http_proxy": proxy, "ALL_PROXY": proxy,
            "SSLKEYLOGFILE": keylog}


def environ(pid):
    with open("/proc/%d/environ" % pid, "rb") as f:
        return f.read()


def check_environ(role, pid):
    env = environ(pid)
    found = [n for n in NAMES if n.encode() in env]
    if SECRET.encode() in env:
        found.append("the secret's value")
    entries = [e for e in env.split(b"\0") if e]
    print("%s %d: /proc/PID/environ %d octets, %d non-empty entries"
          % (role, pid, len(env), len(entries)))
    check(found == [], "%s %d: /proc/PID/environ holds none of %s"
          % (role, pid, NAMES), [], found)


def check_confined(role, pid):
    st = status(pid)
    print("%s %d: Seccomp %s, NoNewPrivs %s" % (role, pid, st.get("Seccomp"),
                                                 st.get("NoNewPrivs")))
    check(st.get("Seccomp") == "2", "%s: Seccomp 2 (filter mode)" % role,
          "2", st.get("Seccomp"))
    check(st.get("NoNewPrivs") == "1", "%s: NoNewPrivs 1" % role, "1",
          st.get("NoNewPrivs"))


def post(ngx):
    """A new post each time (the same one twice is a duplicate)."""
    POSTS[0] += 1
    f = dict(GOOD, message="sandbox, post %d" % POSTS[0])
    s, _, b = ngx.post("/f2m/contact", f, JSON)
    check(s == 200, "post accepted", 200, (s, b[:300]))
    return json.loads(b).get("id") if s == 200 else None


def delivered(mta, sid, timeout=30):
    mid = "<%s@example.test>" % sid
    try:
        h.wait_until(lambda: mta.by_message_id().get(mid, 0) >= 1, timeout,
                     what="message %s" % mid)
    except h.HarnessError:
        return False
    return True


def debugger(f2m, mta, ngx, outside):
    """(c): the review's attack, through gdb, on the live deliverer."""
    why = trace_probe()
    if why is not None:
        h.skip("gdb in the deliverer: open outside, execve", why)
        return
    dl = role_pids(f2m, "deliverer")[0]
    PROVOKED.append(dl)
    out = gdb(dl, 'call (int)open("%s", 65, 384)' % outside)
    vals = gdb_values(out)
    abi = landlock_abi()
    if abi:
        check(vals and vals[0] == -1 and not os.path.exists(outside),
              "deliverer: open(O_CREAT) outside spool and state fails "
              "(Landlock ABI %d), no file" % abi, -1,
              (vals, os.path.exists(outside), out[-400:]))
    else:
        h.skip("deliverer: no new file outside spool and state",
               "the kernel has no Landlock")
    out = gdb(dl, 'call (int)execve("/bin/sh", 0, 0)')
    pat = r"deliverer %d killed by signal %d" % (dl, SIGSYS)
    try:
        h.wait_until(lambda: re.search(pat, f2m.log()), 20, what=pat)
        died = True
    except h.HarnessError:
        died = False
    print("execve in the deliverer %d: %s" % (dl, [
        ln for ln in f2m.log().splitlines() if str(dl) in ln][-1:]))
    check(died, "deliverer: execve(/bin/sh) -> killed by SIGSYS, logged by "
          "the master", pat, f2m.log()[-800:] + out[-400:])
    h.wait_until(lambda: [p for p in role_pids(f2m, "deliverer") if p != dl],
                 20, what="a new deliverer")
    sid = post(ngx)
    check(sid and delivered(mta, sid), "the new deliverer delivers")


def landlock_abi():
    """The kernel's Landlock ABI version, 0 when it has none."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    v = libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint(1))
    return v if v > 0 else 0


def queue_run(wd, f2m, cfg_path, mta, ngx, env):
    """(d): a message left queued (MTA down) delivered by `queue run`."""
    mta.stop()
    sid = post(ngx)
    h.wait_until(lambda: re.search(r"deliver id=%s .*outcome=deferred" % sid,
                                   f2m.log()), 30, what="deferred",
                 diag=lambda: f2m.log()[-1500:])
    f2m.stop()
    mta.start()
    r = f2m.cli("queue", "retry")
    check(r.returncode == 0, "queue retry", 0, (r.returncode, r.stderr))
    log = open(os.path.join(str(wd), "queue-run.log"), "wb")
    e = f2m._env()
    e.update(env)
    p = subprocess.Popen([f2m.binary, "queue", "run", "-c", cfg_path],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                         env=e)
    try:
        ok = delivered(mta, sid)
        check(ok, "queue run delivers the queued message")
        check_confined("queue run", p.pid)
        check_environ("queue run", p.pid)
    finally:
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=30)
        log.close()
    size = os.path.getsize(env["SSLKEYLOGFILE"]) if os.path.exists(
        env["SSLKEYLOGFILE"]) else None
    check(not size, "SSLKEYLOGFILE not written by queue run", None, size)
    print("queue run: exit %s" % rc)
    check(rc == 0, "queue run stops on SIGTERM with exit 0", 0, rc)


def main():
    with h.Workdir() as wd:
        pki = h.make_pki(wd.sub("pki"))
        keys = h.make_dkim_keys(wd.sub("dkim"), "example.test")
        mta = h.Mta(wd.sub("mta"), pki)
        mta.start()
        sock = os.path.join(str(wd), "f2m.sock")
        ngx = h.Nginx(wd.sub("nginx"), pki, sock)
        ngx.start()
        try:
            run(wd, mta, ngx, pki, keys, sock)
        finally:
            ngx.stop()
            mta.stop()
    return h.result()


def run(wd, mta, ngx, pki, keys, sock):
    proxy = Listener()
    keylog = os.path.join(str(wd), "sslkeylog.txt")
    # Outside spool and state, where the service user may write (/tmp is
    # world-writable): only Landlock stands in the way.
    outside = "/tmp/f2m-written-by-the-deliverer-%d" % os.getpid()
    env = hostile_env(keylog, proxy.port)
    d = wd.sub("svc")
    cfg = h.default_config(d, socket_path=sock, mta=mta, pki=pki, dkim=keys,
                           smtp_kind="smtps")
    path = os.path.join(d, "form2mail.json")
    h.write_config(path, cfg)
    f2m = h.Form2mail(path, env=env)
    f2m.start()
    try:
        h.wait_until(lambda: role_pids(f2m, "deliverer") and
                     len(role_pids(f2m, "worker")) == cfg["workers"], 20,
                     what="deliverer and workers")
        dl = role_pids(f2m, "deliverer")[0]
        # (a)
        check_confined("deliverer", dl)
        # (b) /proc
        for pid in role_pids(f2m, "worker"):
            check_environ("worker", pid)
        check_environ("deliverer", dl)
        # (a), (b): a TLS delivery through the filter, then the behaviour
        sid = post(ngx)
        check(sid and delivered(mta, sid), "delivered under the filter "
              "(implicit TLS, DKIM)")
        check(re.search(r"deliver id=%s form=contact outcome=sent" % sid,
                        f2m.log()), "the deliverer logged outcome=sent")
        size = os.path.getsize(keylog) if os.path.exists(keylog) else None
        print("SSLKEYLOGFILE after a TLS delivery: %s" % (
            "absent" if size is None else "%d octets" % size))
        check(not size, "SSLKEYLOGFILE not written by the deliverer", None,
              size)
        print("connections to the proxy of the environment: %d"
              % proxy.count)
        check(proxy.count == 0, "no connection to the proxy of the "
              "environment", 0, proxy.count)
        # (c)
        debugger(f2m, mta, ngx, outside)
        # (d)
        queue_run(wd, f2m, path, mta, ngx, env)
    finally:
        f2m.stop()
        if os.path.exists(outside):
            os.unlink(outside)
        log = f2m.log()
        check("AddressSanitizer" not in log and "runtime error" not in log,
              "no sanitizer report in the service log", None, log[-2000:])
        other = [ln for ln in log.splitlines() if "killed by signal %d"
                 % SIGSYS in ln and not any(" %d killed" % p in ln
                                            for p in PROVOKED)]
        check(other == [], "no process died by SIGSYS but the one (c) "
              "provoked", [], other)


if __name__ == "__main__":
    sys.exit(main())
