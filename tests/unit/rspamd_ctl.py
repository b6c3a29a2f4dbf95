#!/usr/bin/python3
"""A real rspamd on loopback for tests (tests/unit/gate/test_spam.c and others).

usage: rspamd_ctl.py DIR

Starts, under DIR/rspamd (DIR must exist; it is made traversable):

  dnsmasq   on a free loopback port, answering NXDOMAIN to every name
            (--no-resolv, nothing leaves the machine); rspamd's only
            resolver
  rspamd    Debian's stock rules (/etc/rspamd) under a top-level config of
            our own: one "normal" worker on a free loopback port, no
            controller, proxy or fuzzy worker, no Redis; DBDIR, RUNDIR and
            the log (DIR/rspamd/log/rspamd.log) in DIR
  stall     a TCP listener that accepts and never answers
  fake      an HTTP server whose answer is chosen by the first path segment
            (POST /<case>/checkv2, see FAKE below); each request it gets is
            appended to DIR/fake.log as one JSON object per line
            {"path", "headers": [[name, value], ...], "body_len",
            "body_sha256"}

then prints one line to stdout:

    rspamd=P stall=P fake=P closed=P

(closed: a port nobody listens on), and serves commands, one per line, on
stdin: "stop-rspamd" stops rspamd and answers "stopped".  When stdin closes
(or on SIGTERM) everything is stopped by pid and the script exits.  Without
an rspamd binary ($F2M_RSPAMD, else rspamd on PATH, else /usr/bin/rspamd)
it prints "skip: ..." and exits 77; any other failure is
"error: ..." on stdout (details on stderr) and exit 1.

Hyperscan cache.  rspamd compiles its patterns on a first start (about 20 s
on two cores); with the compiled cache kept it starts in about 1 s.  The
cache (hs_cache_dir, nothing else) lives in $F2M_RSPAMD_CACHE, default
/tmp/form2mail-rspamd-cache-<uid>, kept between runs.  It is used only if it
is a real directory owned by us (or by the user rspamd runs as) that no one
else may write to; otherwise a fresh one in DIR is used (a cold start).
rspamd checks each cached database against its own rules and recompiles
what does not match, and it replaces files by rename, so a stale or shared
cache costs time, never a wrong result.  Every wait is capped
(RSPAMD_WAIT seconds for the cold start).

Python users: Rspamd(dir).start() / .stop(), attributes port, dns_port.
Rspamd(dir, txt={name: value}) has dnsmasq answer those TXT records
(DKIM keys; a value over 255 octets is split into strings by dnsmasq) and
NXDOMAIN to every other name.
"""
import ctypes
import grp
import hashlib
import http.server
import json
import os
import pwd
import shutil
import signal
import socket
import socketserver
import stat
import struct
import subprocess
import sys
import threading
import time

RSPAMD = os.environ.get("F2M_RSPAMD") or shutil.which("rspamd") or \
    "/usr/bin/rspamd"
DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
CONFDIR = "/etc/rspamd"
RSPAMD_WAIT = 180       # seconds for a cold start (≈20 s measured)
DNS_WAIT = 10
STOP_WAIT = 10
PORT_TRIES = 5
MAX_BODY = 48 * 1024 * 1024

TOP_CONF = """\
# form2mail test rspamd: stock rules, one normal worker, nothing else.
.include "$CONFDIR/common.conf"
options {
    pidfile = "$RUNDIR/rspamd.pid";
    .include "$CONFDIR/options.inc"
    .include(try=true; priority=1,duplicate=merge) "$LOCAL_CONFDIR/local.d/options.inc"
}
logging {
    type = "file";
    filename = "$LOGDIR/rspamd.log";
    .include "$CONFDIR/logging.inc"
}
worker "normal" {
    bind_socket = "127.0.0.1:%(port)d";
    count = 1;
    .include "$CONFDIR/worker-normal.inc"
}
"""

OPTIONS_INC = """\
dns {
    nameserver = ["127.0.0.1:%(dns)d"];
    timeout = 1s;
    retransmits = 1;
}
hs_cache_dir = "%(hs)s/";
"""


def log(*a):
    print("rspamd_ctl:", *a, file=sys.stderr, flush=True)


def free_port():
    """A loopback port free for TCP and UDP alike (dnsmasq takes both)."""
    for _ in range(50):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            t.close()
            u.close()
    raise RuntimeError("no free loopback port")


def die_with_parent():
    """preexec: the child gets SIGTERM if this script dies (prctl)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG


def stop_pid(proc, name):
    """SIGTERM, then SIGKILL after STOP_WAIT seconds; proc is a Popen."""
    if proc is None or proc.poll() is not None:
        return
    kids = children(proc.pid)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(STOP_WAIT)
    except subprocess.TimeoutExpired:
        log("%s (pid %d) ignored SIGTERM, killing" % (name, proc.pid))
        proc.kill()
        proc.wait(STOP_WAIT)
    # Workers of a killed main are orphans: end the ones we saw, by pid.
    for k in kids:
        try:
            with open("/proc/%d/cmdline" % k, "rb") as f:
                if b"rspamd" not in f.read():
                    continue
            os.kill(k, signal.SIGKILL)
        except (OSError, ProcessLookupError):
            pass


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                out.append(int(d))
        except (OSError, IndexError, ValueError):
            pass
    return out


def dns_query_ok(port):
    """True when a resolver on port answers an A query for example.com."""
    q = struct.pack(">HHHHHH", 0x4632, 0x0100, 1, 0, 0, 0)
    q += b"\x07example\x03com\x00" + struct.pack(">HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    try:
        s.sendto(q, ("127.0.0.1", port))
        a, _ = s.recvfrom(512)
        return len(a) >= 12 and a[:2] == q[:2]
    except OSError:
        return False
    finally:
        s.close()


def http_ping(port):
    try:
        with socket.create_connection(("127.0.0.1", port), 1) as s:
            s.settimeout(2)
            s.sendall(b"GET /ping HTTP/1.0\r\n\r\n")
            data = b""
            while len(data) < 4096:
                b = s.recv(4096)
                if not b:
                    break
                data += b
        return data.startswith(b"HTTP/1.") and b" 200 " in data[:20] and \
            data.rstrip().endswith(b"pong")
    except OSError:
        return False


class Rspamd:
    def __init__(self, d, txt=None, dns_args=()):
        """dns_args: more dnsmasq options (MX and host records, say);
        every other name stays NXDOMAIN."""
        for name, value in (txt or {}).items():
            # dnsmasq's --txt-record takes ',' as a string separator.
            if "," in name + value:
                raise ValueError("TXT record with ',': %s" % name)
        self.txt = dict(txt or {})
        self.dns_args = list(dns_args)
        self.top = os.path.abspath(d)
        self.dir = os.path.join(self.top, "rspamd")
        self.port = self.dns_port = None
        self.dns = self.proc = None
        self.uid = self.gid = None
        self.hs = None

    # -- directories --------------------------------------------------

    def run_user(self):
        """rspamd will not run workers as root: it gets -u/-g then."""
        if os.geteuid() != 0:
            return
        for name in ("_rspamd", "nobody"):
            try:
                pw = pwd.getpwnam(name)
            except KeyError:
                continue
            self.uid, self.gid = pw.pw_uid, pw.pw_gid
            return
        raise RuntimeError("no user to run rspamd as (_rspamd, nobody)")

    def mkdir(self, path):
        os.makedirs(path, mode=0o700, exist_ok=True)
        if self.uid is not None:
            os.chown(path, self.uid, self.gid)

    def cache_dir(self):
        default = "/tmp/form2mail-rspamd-cache-%d" % os.geteuid()
        path = os.environ.get("F2M_RSPAMD_CACHE") or default
        owners = {os.geteuid()}
        if self.uid is not None:
            owners.add(self.uid)
        try:
            try:
                os.mkdir(path, 0o700)
                if self.uid is not None:
                    os.chown(path, self.uid, self.gid)
            except FileExistsError:
                pass
            st = os.lstat(path)
            if stat.S_ISDIR(st.st_mode) and st.st_uid in owners and \
                    not st.st_mode & 0o022:
                if self.uid is not None and st.st_uid != self.uid:
                    os.chown(path, self.uid, self.gid)
                return path
            log("%s is not a private directory of ours: "
                "cold start with a fresh cache" % path)
        except OSError as e:
            log("cache %s: %s: cold start with a fresh cache" % (path, e))
        path = os.path.join(self.dir, "hs")
        self.mkdir(path)
        return path

    # -- processes ----------------------------------------------------

    def start_dns(self):
        for _ in range(PORT_TRIES):
            port = free_port()
            err = open(os.path.join(self.dir, "dnsmasq.log"), "ab")
            args = [DNSMASQ, "--keep-in-foreground", "--conf-file=/dev/null",
                    "--no-resolv", "--no-hosts", "--no-poll",
                    "--bind-interfaces", "--listen-address=127.0.0.1",
                    "--port=%d" % port, "--address=/#/", "--pid-file=",
                    "--log-facility=-"]
            args += ["--txt-record=%s,%s" % (n.rstrip("."), v)
                     for n, v in sorted(self.txt.items())]
            args += self.dns_args
            if os.geteuid() == 0:
                args.append("--user=nobody")
            self.dns = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                preexec_fn=die_with_parent)
            err.close()
            t0 = time.monotonic()
            while time.monotonic() - t0 < DNS_WAIT:
                if self.dns.poll() is not None:
                    break
                if dns_query_ok(port):
                    self.dns_port = port
                    return
                time.sleep(0.05)
            stop_pid(self.dns, "dnsmasq")
            self.dns = None
        raise RuntimeError("dnsmasq did not start, see %s/dnsmasq.log" %
                           self.dir)

    def start_rspamd(self):
        for d in ("conf", "conf/local.d", "db", "run", "log"):
            self.mkdir(os.path.join(self.dir, d))
        for _ in range(PORT_TRIES):
            self.port = free_port()
            conf = os.path.join(self.dir, "conf")
            with open(os.path.join(conf, "rspamd.conf"), "w") as f:
                f.write(TOP_CONF % {"port": self.port})
            with open(os.path.join(conf, "local.d", "options.inc"), "w") as f:
                f.write(OPTIONS_INC % {"dns": self.dns_port, "hs": self.hs})
            args = [RSPAMD, "-f", "-c", os.path.join(conf, "rspamd.conf"),
                    "--var", "CONFDIR=" + CONFDIR,
                    "--var", "LOCAL_CONFDIR=" + conf,
                    "--var", "DBDIR=" + os.path.join(self.dir, "db"),
                    "--var", "RUNDIR=" + os.path.join(self.dir, "run"),
                    "--var", "LOGDIR=" + os.path.join(self.dir, "log")]
            if self.uid is not None:
                args += ["-u", pwd.getpwuid(self.uid).pw_name,
                         "-g", grp.getgrgid(self.gid).gr_name]
            out = open(os.path.join(self.dir, "log", "stdout.log"), "ab")
            self.proc = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                preexec_fn=die_with_parent)
            out.close()
            t0 = time.monotonic()
            while time.monotonic() - t0 < RSPAMD_WAIT:
                if self.proc.poll() is not None:
                    break
                if http_ping(self.port):
                    log("rspamd up on port %d in %.1f s (cache %s)" %
                        (self.port, time.monotonic() - t0, self.hs))
                    return
                time.sleep(0.1)
            self.stop_rspamd()
            if time.monotonic() - t0 >= RSPAMD_WAIT:
                break
        self.tail()
        raise RuntimeError("rspamd did not start, see %s/log" % self.dir)

    def tail(self):
        for name in ("stdout.log", "rspamd.log"):
            try:
                with open(os.path.join(self.dir, "log", name), "rb") as f:
                    lines = f.read().decode("utf-8", "replace")
                    lines = lines.splitlines()[-15:]
                log("--- %s" % name)
                for line in lines:
                    log(line)
            except OSError:
                pass

    def start(self):
        if not os.access(RSPAMD, os.X_OK):
            raise FileNotFoundError(RSPAMD)
        if not os.access(DNSMASQ, os.X_OK):
            raise RuntimeError("%s missing (Debian package dnsmasq-base)" %
                               DNSMASQ)
        self.run_user()
        # rspamd's workers run as self.uid: they must reach DIR/rspamd.
        os.chmod(self.top, os.stat(self.top).st_mode | 0o111)
        self.mkdir(self.dir)
        self.hs = self.cache_dir()
        try:
            self.start_dns()
            self.start_rspamd()
        except BaseException:
            self.stop()
            raise
        return self

    def stop_rspamd(self):
        stop_pid(self.proc, "rspamd")
        self.proc = None

    def stop(self):
        self.stop_rspamd()
        stop_pid(self.dns, "dnsmasq")
        self.dns = None


# -- fault peers -------------------------------------------------------

class Stall:
    """Accepts connections and never reads or answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.held = []
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(c)


def symbols(n, name=lambda i: "SYM_%03d" % i):
    return {name(i): {"name": name(i), "score": float(i % 7) - 2.0}
            for i in range(n)}


EVIL_NAMES = ["CTRL\x01\x1b[31m\r\nX-Injected: yes", 'QUOTE"\\BS',
              "LONG_" + "A" * 500, "UTF8_\u00e9\u2028", "ZERO"]
EVIL = {"score": 1.0, "action": "no action",
        "symbols": {n: {"name": n, "score": 9.0 - i}
                    for i, n in enumerate(EVIL_NAMES)}}
EVIL["symbols"].update(symbols(300))


def js(o):
    return json.dumps(o).encode()


# case -> (status, body, extra headers); body None: special handling.
FAKE = {
    "ok": (200, js({"is_skipped": False, "score": 3.5,
                    "required_score": 15.0, "action": "no action",
                    "symbols": {"LOW": {"name": "LOW", "score": -1.0},
                                "HIGH": {"name": "HIGH", "score": 3.0},
                                "MID": {"name": "MID", "score": 1.5}}}),
           []),
    "reject": (200, js({"score": 2.0, "action": "reject",
                        "symbols": {"R": {"name": "R", "score": 2.0}}}), []),
    "nosymbols": (200, b'{"score": -0.5, "action": "no action"}', []),
    "evil": (200, js(EVIL), []),
    "notjson": (200, b"<html>oops</html>", []),
    "empty": (200, b"", []),
    "truncated": (200, b'{"score": 1.0, "action": "no ac', []),
    "array": (200, b"[1, 2, 3]", []),
    "strscore": (200, b'{"score": "20", "action": "no action"}', []),
    "noscore": (200, b'{"action": "no action"}', []),
    "noaction": (200, b'{"score": 1.0}', []),
    "numaction": (200, b'{"score": 1.0, "action": 7}', []),
    "dupkey": (200, b'{"score": 1.0, "score": 99, "action": "no action"}',
               []),
    "symsarray": (200, b'{"score": 1.0, "action": "x", "symbols": []}', []),
    "symstrscore": (200, b'{"score": 1.0, "action": "x", "symbols": '
                    b'{"A": {"name": "A", "score": "2"}}}', []),
    "symnotobj": (200, b'{"score": 1.0, "action": "x", "symbols": '
                  b'{"A": 2}}', []),
    "hugenum": (200, b'{"score": 1e999, "action": "no action"}', []),
    "nul": (200, b'{"score": 1.0, "action": "no\\u0000action"}', []),
    "badutf8": (200, b'{"score": 1.0, "action": "\xff\xfe"}', []),
    "deep": (200, b"[" * 200000, []),
    "big": (200, b'{"score": 1.0, "action": "no action", "pad": "' +
            b"x" * (300 * 1024) + b'"}', []),
    "bigchunked": (200, None, []),
    "status500": (500, b'{"error": "bad \\u0001 thing \\"x\\""}', []),
    "redirect": (302, b"", [("Location", "http://127.0.0.1:1/checkv2")]),
    "slow": (200, None, []),
    "close": (200, None, []),
}


class Fake(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    logfile = None
    lock = threading.Lock()

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        if n < 0 or n > MAX_BODY:
            self.send_error(413)
            return
        body = self.rfile.read(n)
        rec = {"path": self.path, "headers": list(self.headers.items()),
               "body_len": len(body),
               "body_sha256": hashlib.sha256(body).hexdigest()}
        with Fake.lock:
            Fake.logfile.write(json.dumps(rec) + "\n")
            Fake.logfile.flush()
        case = self.path.strip("/").split("/")[0]
        status, data, extra = FAKE.get(case, (404, b"no such case", []))
        if case == "close":
            self.close_connection = True
            return
        if case == "bigchunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"x" * 16384
            for _ in range(20):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
            return
        if case == "slow":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            try:
                for _ in range(100):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                pass
            self.close_connection = True
            return
        self.send_response(status)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class FakeServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client closing its kept-alive connection is no news.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


def main():
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        print(__doc__, file=sys.stderr)
        return 2
    d = sys.argv[1]
    if not os.access(RSPAMD, os.X_OK):
        print("skip: %s not installed (Debian package rspamd)" % RSPAMD,
              flush=True)
        return 77
    r = Rspamd(d)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    try:
        r.start()
        closed = free_port()
        stall = Stall()
        Fake.logfile = open(os.path.join(d, "fake.log"), "a")
        fake = FakeServer(("127.0.0.1", 0), Fake)
        threading.Thread(target=fake.serve_forever, daemon=True).start()
        print("rspamd=%d stall=%d fake=%d closed=%d" %
              (r.port, stall.port, fake.server_address[1], closed),
              flush=True)
        for line in sys.stdin:
            if line.strip() == "stop-rspamd":
                r.stop_rspamd()
                print("stopped", flush=True)
        return 0
    except Exception as e:
        log("%s: %s" % (type(e).__name__, e))
        print("error: %s" % e, flush=True)
        return 1
    finally:
        r.stop()


if __name__ == "__main__":
    sys.exit(main())
