"""systemd: the shipped units pass `systemd-analyze verify`, and `serve`
takes a socket handed over by socket activation (LISTEN_FDS/LISTEN_PID,
fd 3) instead of its configured listen path."""
import json
import os
import shutil
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import check  # noqa: E402


def main():
    with h.Workdir() as wd:
        if shutil.which("systemd-analyze"):
            d = wd.sub("units")
            units = ("form2mail.service", "form2mail.socket",
                     "form2mail-queue.service", "form2mail-queue.timer")
            for u in units:
                with open(os.path.join(h.REPO, "config", "systemd", u)) as f:
                    text = f.read().replace("/usr/sbin/form2mail", h.f2m_bin())
                h.write_file(os.path.join(d, u), text)
            p = subprocess.run(["systemd-analyze", "verify", "--man=no"] +
                               [os.path.join(d, u) for u in units],
                               capture_output=True, text=True, timeout=60)
            check(p.returncode == 0 and "rror" not in p.stderr,
                  "systemd-analyze verify", 0, (p.returncode, p.stderr))
        else:
            h.skip("systemd-analyze verify", "systemd-analyze is not "
                   "installed")
        keys = h.make_dkim_keys(wd.sub("dkim"), "example.test")
        cfg = h.default_config(wd.sub("f2m"), dkim=keys)
        h.write_secret(cfg["smtp"]["password_file"], "unused\n")
        cfg["smtp"]["url"] = "smtps://localhost:%d" % h.free_port()
        cfg["listen"] = "unix:" + os.path.join(str(wd), "unused.sock")
        path = os.path.join(wd.sub("f2m"), "form2mail.json")
        h.write_config(path, cfg)
        sock = os.path.join(str(wd), "activated.sock")
        ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        ls.bind(sock)
        os.chmod(sock, 0o666)
        ls.listen(16)
        fd = ls.detach()
        if fd != 3:
            os.dup2(fd, 3, inheritable=True)
            os.close(fd)
        else:
            os.set_inheritable(3, True)
        log = open(os.path.join(str(wd), "f2m.log"), "wb")
        # the shell's pid is form2mail's after exec: LISTEN_PID=$$
        p = subprocess.Popen(["sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" '
                              'serve -c "$1"', h.f2m_bin(), path], pass_fds=(3,),
                             stdout=log, stderr=log, start_new_session=True)
        os.close(3)
        try:
            params = {"REQUEST_METHOD": "POST", "DOCUMENT_URI": "/f2m/contact",
                      "HTTPS": "on", "REMOTE_ADDR": "192.0.2.5",
                      "HTTP_ACCEPT": "application/json",
                      "CONTENT_TYPE": "application/x-www-form-urlencoded"}
            h.wait_until(lambda: h.unix_accepts(sock), 10, what="socket")
            s, hd, b = h.fcgi_request(sock, params, b"name=Ada&email=a%40"
                                      b"example.org&message=hi")
            check(s == 200 and json.loads(b).get("ok"), "a post through the "
                  "activated socket", 200, (s, b))
            check(not os.path.exists(cfg["listen"][5:]), "the configured "
                  "listen path is not used")
        finally:
            h.stop_pid(p.pid, popen=p)
            log.close()
        with open(os.path.join(str(wd), "f2m.log"), "rb") as f:
            text = f.read().decode(errors="replace")
        check("listening on fd 3 (systemd socket activation)" in text,
              "the log says so", None, text[-600:])
        foreign_listen(wd, path, cfg)
    return h.result()


def environ_of(pid):
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            return f.read()
    except OSError:
        return b""


def foreign_listen(wd, path, cfg):
    """LISTEN_* meant for another process (an admin's shell that was
    itself socket-activated): serve listens on its own path, and neither
    it nor its children keep the variables (sandbox_env_clear)."""
    log = open(os.path.join(str(wd), "f2m-foreign.log"), "wb")
    env = dict(os.environ, LISTEN_PID="1", LISTEN_FDS="1",
               LISTEN_FDNAMES="someone-else")
    p = subprocess.Popen([h.f2m_bin(), "serve", "-c", path], env=env,
                         stdout=log, stderr=log, start_new_session=True)
    try:
        sock = cfg["listen"][5:]
        h.wait_until(lambda: h.unix_accepts(sock), 10, what="own socket")
        h.wait_until(lambda: len(h.children_of(p.pid)) >= 2, 10,
                     what="workers")
        procs = [p.pid] + list(h.children_of(p.pid))
        kept = {q: [v for v in environ_of(q).split(b"\0")
                    if v.startswith(b"LISTEN_")] for q in procs}
        kept = {q: v for q, v in kept.items() if v}
        check(not kept, "LISTEN_* of another process dropped by master "
              "and children (%d processes)" % len(procs), {}, kept)
    finally:
        h.stop_pid(p.pid, popen=p)
        log.close()


if __name__ == "__main__":
    sys.exit(main())
