"""Issue 16 F1: the FastCGI socket as a kill switch.

Real nginx in front of form2mail (2 workers).  A local process of the
web server's user (www-data, the group the socket is open to) holds
connections to the FastCGI socket idle, with half a record header,
trickling a request one byte a second, and loops FCGI_GET_VALUES with
FCGI_MAX_CONNS repeated (libfcgi's 64-byte stack buffer), while
legitimate HTTPS posts go through nginx; then opens idle connections as
fast as it can (more than the workers' pending sets hold: measured, not
judged, as it is a race for the CPU).  Printed: posts answered, p50,
p99, max.  Checked: every legitimate post answered 200 within 5 s, no
worker restarted, the refusals logged with the attacker's uid; and the
socket is 0660 with the web server's group (not 0666) while nginx still
connects.

Run against the old binary: F2M_BIN=/work/base/build/form2mail."""
import grp
import os
import pwd
import socket
import stat
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import FAILS, PASSED, check  # noqa: E402

WORKERS = 2
# idle, half-header and trickling connections; then the GET_VALUES loop
# idle, half-header and trickling connections; the GET_VALUES loop; idle
# connections opened as fast as they go (more than the pending sets hold)
PHASES = (("hold", 20), ("get_values", 12), ("flood", 12))
POSTS = 30
POST_TIMEOUT = 15.0
BOUND = 5.0


def rec(rtype, rid, content):
    pad = (8 - len(content) % 8) % 8
    return bytes([1, rtype, rid >> 8, rid & 255, len(content) >> 8,
                  len(content) & 255, pad, 0]) + content + b"\0" * pad


def nv(name, value=b""):
    return bytes([len(name), len(value)]) + name + value


def valid_request():
    p = b"".join(nv(k, v) for k, v in (
        (b"REQUEST_METHOD", b"POST"), (b"DOCUMENT_URI", b"/f2m/contact"),
        (b"HTTPS", b"on"), (b"REMOTE_ADDR", b"192.0.2.66"),
        (b"CONTENT_LENGTH", b"0")))
    return (rec(1, 1, bytes([0, 1, 0, 0, 0, 0, 0, 0])) + rec(4, 1, p) +
            rec(4, 1, b"") + rec(5, 1, b""))


# FCGI_GET_VALUES with FCGI_MAX_CONNS five times (8 + 5 * 17 bytes of
# answer into libfcgi's 64-byte stack buffer), inside the PARAMS stream:
# where libfcgi 2.4.2 answers it (a first record of type GET_VALUES, or
# one right after BEGIN_REQUEST, it does not)
GET_VALUES = (rec(1, 1, bytes([0, 1, 0, 0, 0, 0, 0, 0])) +
              rec(4, 1, nv(b"A", b"b")) +
              rec(9, 0, nv(b"FCGI_MAX_CONNS") * 5) +
              rec(4, 1, b"") + rec(5, 1, b""))


# ---- the attacker (a child process as www-data) ---------------------------

def attack(sock, seconds, mode):
    end = time.monotonic() + seconds
    stats = {"connects": 0, "closed_by_server": 0, "get_values": 0}
    lock = threading.Lock()

    def bump(k, n=1):
        with lock:
            stats[k] = stats.get(k, 0) + n

    def connect():
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        s.connect(sock)
        bump("connects")
        return s

    def hold(first):
        # idle (first b""), or half a header: held until the server closes
        while time.monotonic() < end:
            try:
                s = connect()
                if first:
                    s.sendall(first)
                s.settimeout(0.5)
                while time.monotonic() < end:
                    try:
                        if s.recv(4096) == b"":
                            bump("closed_by_server")
                            break
                    except socket.timeout:
                        continue
                s.close()
            except OSError:
                time.sleep(0.05)

    def trickle():
        msg = valid_request()
        while time.monotonic() < end:
            try:
                s = connect()
                for i in range(len(msg)):
                    if time.monotonic() >= end:
                        break
                    s.send(msg[i:i + 1])
                    time.sleep(1)
                s.close()
            except OSError:
                bump("closed_by_server")
                time.sleep(0.05)

    def get_values():
        while time.monotonic() < end:
            try:
                s = connect()
                s.sendall(GET_VALUES)
                bump("get_values")
                try:
                    s.recv(4096)
                except OSError:
                    pass
                s.close()
            except OSError:
                time.sleep(0.01)

    def flood():
        # connections opened as fast as they go, each held until the
        # server closes it: more than the pending sets hold
        held = []
        while time.monotonic() < end:
            try:
                held.append(connect())
            except OSError:
                time.sleep(0.01)
            if len(held) >= 200:
                for s in held:
                    s.close()
                held = []
        for s in held:
            s.close()

    if mode == "flood":
        ts = [threading.Thread(target=flood) for _ in range(4)]
    elif mode == "hold":
        ts = [threading.Thread(target=hold, args=(b"",)) for _ in range(3)]
        ts += [threading.Thread(target=hold, args=(b"\x01\x01\x00\x01",))
               for _ in range(3)]
        ts += [threading.Thread(target=trickle) for _ in range(2)]
    else:
        ts = [threading.Thread(target=get_values) for _ in range(2)]
    for t in ts:
        t.daemon = True
        t.start()
    for t in ts:
        t.join(seconds + 10)
    print("attacker (%s): %r" % (mode, stats), flush=True)


# ---- the test -------------------------------------------------------------

def socket_mode(sock):
    st = os.stat(sock)
    want_gid = grp.getgrnam(h.web_group()).gr_gid
    check(stat.S_IMODE(st.st_mode) == 0o660, "socket mode 0660 (not 0666)",
          "0660", oct(stat.S_IMODE(st.st_mode)))
    check(st.st_gid == want_gid, "socket group is the web server's (%s)"
          % h.web_group(), want_gid, st.st_gid)


def post_once(nginx, i):
    t0 = time.monotonic()
    try:
        s, hd, b = nginx.post("/f2m/contact", {
            "name": "Visitor %d" % i, "email": "v%d@example.org" % i,
            "message": "hello", "_gotcha": "x"},
            headers={"Accept": "application/json"}, timeout=POST_TIMEOUT)
    except OSError as e:
        s, b = None, str(e).encode()
    return s, time.monotonic() - t0, b


def legit_posts(nginx, seconds):
    out = []
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end and i < POSTS:
        out.append(post_once(nginx, i))
        i += 1
        time.sleep(0.3)
    return out


def under_attack(nginx, sock, www, mode, seconds):
    att = subprocess.Popen(
        ["/usr/bin/python3", os.path.abspath(__file__), "--attack", sock,
         str(seconds), mode], user=www.pw_uid, group=www.pw_gid,
        extra_groups=[], cwd="/")
    time.sleep(2)   # the attack in place before the first post
    res = legit_posts(nginx, seconds - 4)
    att.wait(seconds + 30)
    return res


def judge(mode, res, strict):
    lat = [dt for s, dt, _ in res if s == 200]
    print("%s: legitimate posts: %d sent, %d answered 200; p50 %.3f s, "
          "p99 %.3f s, max %.3f s; statuses %r"
          % (mode, len(res), len(lat), pct(lat, 50), pct(lat, 99),
             max(lat) if lat else 0.0, sorted({str(s) for s, _, _ in res})),
          flush=True)
    if not strict:
        # a race for the CPU and the listen backlog between the attacker
        # and the workers: measured and printed (SECURITY.md), not judged
        return
    check(len(res) > 0 and len(lat) == len(res),
          "%s: every legitimate post answered 200" % mode, len(res), len(lat))
    slow = [round(dt, 2) for s, dt, _ in res if s != 200 or dt > BOUND]
    check(not slow, "%s: each within %.0f s" % (mode, BOUND), [], slow)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))] if xs else 0.0


def main():
    with h.Workdir() as wd:
        cfg, pki, path = h.mailless_config(wd, workers=WORKERS,
                                           duplicate_window=0)
        f2m = h.Form2mail(path)
        f2m.start()
        nginx = h.Nginx(wd.sub("nginx"), pki, f2m.socket)
        nginx.start()
        try:
            socket_mode(f2m.socket)
            s, dt, b = post_once(nginx, 0)
            check(s == 200, "a post through nginx before the attack "
                  "(nginx connects to the 0660 socket)", 200, (s, b[:200]))
            www = pwd.getpwnam(h.web_user())
            res = {}
            for mode, secs in PHASES:
                res[mode] = under_attack(nginx, f2m.socket, www, mode, secs)
        finally:
            nginx.stop()
            rc = f2m.stop()
        for mode, _ in PHASES:
            judge(mode, res[mode], mode != "flood")
        log = f2m.log()
        restarts = [ln for ln in log.splitlines()
                    if "restarting" in ln or "killed by signal" in ln]
        print("worker restarts logged: %d" % len(restarts))
        check(not restarts, "no worker crashed or was restarted", [],
              restarts[:5])
        check("AddressSanitizer" not in log and "runtime error" not in log,
              "no sanitizer report", None, log[-1500:])
        uid = "uid %d:" % www.pw_uid
        for why in ("management record", "record not complete in time"):
            hits = [ln for ln in log.splitlines() if why in ln and uid in ln]
            check(hits, "refusal logged with the peer's uid: %s" % why,
                  "a line", log[-800:])
        check(rc == 0, "clean stop", 0, rc)
    print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--attack":
        attack(sys.argv[2], float(sys.argv[3]), sys.argv[4])
        sys.exit(0)
    sys.exit(main())
