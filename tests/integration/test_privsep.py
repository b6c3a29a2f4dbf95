"""Privilege separation (SECURITY.md section 3), with real nginx and Postfix.

(a) /proc: workers run as the service user with NoNewPrivs and seccomp
    filter mode; master, workers and deliverer have no core limit and are
    not dumpable (their /proc files belong to root).
(b) As the service user the DKIM keys and the SMTP password file (0600,
    root) cannot be opened, nor the deliverer's memory; a worker asked by
    gdb to open a key gets EACCES.
(c) After real deliveries, no worker's (nor the master's) memory holds a
    fragment of either private key or the password; the same scan finds
    them in the deliverer (the scan works).
(d) gdb makes workers call execve, socket(AF_PACKET) and kill(deliverer):
    each dies by SIGSYS, the master logs it and starts a new worker, and
    posts are still answered and delivered.  After a reload (which reads
    the secrets in a child of the master) the scan of (c) is repeated.
(e) Under the filter: a post with an upload; a captcha provider reached by
    host name over TLS (libcurl's threaded resolver, the system CA bundle,
    a handshake that fails verification: 503, the worker lives); and no
    worker dies by SIGSYS except the ones (d) provoked.

Where gdb cannot attach or /proc/PID/mem of a process that is not
dumpable cannot be read (no gdb, root without CAP_SYS_PTRACE, Yama
ptrace_scope 3: trace_probe), the gdb calls of (b) and (d) and the scans
of (c) are reported skipped with the reason; the rest still runs."""
import base64
import http.server
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import check  # noqa: E402

JSON = {"Accept": "application/json"}
GOOD = {"name": "Ada", "email": "ada@example.org", "message": "privsep"}
SIGSYS = 31
NOBODY = 65534


def role_pids(f2m, role):
    """Live children of the master logged with this role."""
    kids = set(f2m.pids())
    pids = set(int(p) for p in re.findall(r"form2mail\[(\d+)\] %s " % role,
                                          f2m.log()))
    return sorted(kids & pids)


def status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def core_limit(pid):
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max core file size"):
                return line.split()[4:6]
    return None


def gdb(pid, *calls):
    """Attach gdb to pid, run each `call`, detach -> gdb's output."""
    cmd = ["gdb", "-nx", "-batch", "-p", str(pid)]
    for c in calls:
        cmd += ["-ex", c]
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=120)
    return r.stdout


def gdb_values(out):
    return [int(v) for v in re.findall(r"^\$\d+ = (-?\d+)$", out, re.M)]


def trace_probe():
    """None when this process may read the memory of a process that is not
    dumpable (as workers are) and gdb may attach to it and make it call a
    function; otherwise why not.  Root needs CAP_SYS_PTRACE for both (a
    container may withhold it) and Yama's ptrace_scope 3 forbids any
    attach."""
    if shutil.which("gdb") is None:
        return "gdb is not installed"
    code = ("import ctypes,sys,time\n"
            "ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)\n"  # PR_SET_DUMPABLE
            "print('ready', flush=True)\n"
            "time.sleep(120)\n")
    p = subprocess.Popen(["/usr/bin/python3", "-c", code],
                         stdout=subprocess.PIPE, text=True)
    try:
        if p.stdout.readline().strip() != "ready":
            return "the probe process did not start"
        try:
            with open("/proc/%d/maps" % p.pid) as f:
                lo = next(int(ln.split("-")[0], 16) for ln in f
                          if ln.split()[1][0] == "r" and "[v" not in ln)
            with open("/proc/%d/mem" % p.pid, "rb", 0) as mem:
                mem.seek(lo)
                mem.read(1)
        except OSError as e:
            return "/proc/PID/mem of a process that is not dumpable: %s" % (
                e.strerror)
        out = gdb(p.pid, "call (int)getpid()")
        if gdb_values(out) != [p.pid]:
            return "gdb cannot attach and call a function: %s" % " / ".join(
                ln for ln in out.splitlines()[-3:])
        return None
    finally:
        p.kill()
        p.wait()


def as_nobody(path):
    """errno of open(path) by a process of the service user (0: opened)."""
    code = ("import os,sys\n"
            "try:\n"
            "    os.close(os.open(sys.argv[1], os.O_RDONLY))\n"
            "    print(0)\n"
            "except OSError as e:\n"
            "    print(e.errno)\n")
    r = subprocess.run(["/usr/bin/python3", "-c", code, path], user=NOBODY,
                       group=NOBODY, extra_groups=[], capture_output=True,
                       text=True, timeout=30)
    return int(r.stdout.strip()) if r.stdout.strip() else None


def needles(keys, password):
    """Fragments of both private keys' base64 and the password."""
    out = {"smtp password": password.encode()}
    for name, path in (("rsa key", keys.rsa_key), ("ed25519 key",
                                                   keys.ed_key)):
        with open(path) as f:
            lines = [ln for ln in f.read().splitlines()
                     if ln and not ln.startswith("-----")]
        if name == "rsa key":
            for i in (3, len(lines) // 2, len(lines) - 3):
                out["%s line %d" % (name, i)] = lines[i][8:56].encode()
        else:
            # the first 22 characters are the PKCS#8 prefix every
            # Ed25519 key shares; the rest is this key's own
            out[name] = lines[0][24:].encode()
    return out


def scan(pid, wanted):
    """Names of the needles found in pid's readable memory."""
    found = set()
    longest = max(len(v) for v in wanted.values())
    with open("/proc/%d/maps" % pid) as f:
        maps = f.read().splitlines()
    with open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            parts = line.split()
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            name = parts[5] if len(parts) > 5 else ""
            # not readable, kernel pages, or a sanitizer's shadow
            if parts[1][0] != "r" or name.startswith("[v") or \
                    hi - lo > (1 << 30):
                continue
            tail = b""
            off = lo
            while off < hi:
                n = min(4 << 20, hi - off)
                try:
                    mem.seek(off)
                    chunk = mem.read(n)
                except OSError:
                    break
                data = tail + chunk
                for k, v in wanted.items():
                    if k not in found and v in data:
                        found.add(k)
                tail = data[-longest:]
                off += n
    return found


def host_name_on_loopback():
    """This host's name when /etc/hosts maps it to 127.0.0.1, else None
    (libcurl answers "localhost" itself, without its resolver)."""
    name = socket.gethostname()
    try:
        addrs = {a[4][0] for a in socket.getaddrinfo(name, None,
                                                     socket.AF_INET)}
    except OSError:
        return None
    return name if addrs == {"127.0.0.1"} else None


class Verify(http.server.BaseHTTPRequestHandler):
    seen = []

    def do_POST(self):
        Verify.seen.append(self.path)
        body = json.dumps({"success": True}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root (uid drop, /proc/PID/mem)")
        return 77
    untraceable = trace_probe()
    with h.Workdir() as wd:
        pki = h.make_pki(wd.sub("pki"))
        keys = h.make_dkim_keys(wd.sub("dkim"), "example.test")
        password = "pw-" + base64.b32encode(os.urandom(15)).decode().lower()
        mta = h.Mta(wd.sub("mta"), pki, password=password)
        mta.start()
        d = wd.sub("f2m")
        cfg = h.default_config(d, mta=mta, pki=pki, dkim=keys)
        cfg["workers"] = 2
        cfg["forms"]["contact"]["recipients"] = ["sales@example.test"]
        cfg["forms"]["files"] = {
            "recipients": ["owner@example.test"], "fields": {"name": {}},
            "uploads": {"allowed_types": ["application/pdf"],
                        "max_file_size": 100000, "max_files": 1,
                        "max_total": 100000},
            "allow_missing_origin": True}
        # A TLS endpoint whose certificate no system CA signed, reached
        # by a name: resolver thread, CA bundle and handshake, then 503.
        vhost = host_name_on_loopback()
        srv = None
        if vhost:
            vport = h.free_port()
            srv = http.server.ThreadingHTTPServer(("127.0.0.1", vport),
                                                  Verify)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(pki.cert, pki.key)
            srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
            threading.Thread(target=srv.serve_forever, daemon=True).start()
            secret = os.path.join(d, "captcha-secret")
            h.write_secret(secret, "s3cret\n")
            cfg["forms"]["human"] = h.contact_form(captcha={
                "provider": "turnstile", "secret_file": secret,
                "verify_url": "https://%s:%d/siteverify" % (vhost, vport),
                "timeout": 5})
        path = os.path.join(d, "form2mail.json")
        h.write_config(path, cfg)
        f2m = h.Form2mail(path)
        f2m.start()
        ngx = h.Nginx(wd.sub("nginx"), pki, f2m.socket)
        ngx.start()
        try:
            run(f2m, ngx, mta, cfg, keys, password, vhost, untraceable)
        finally:
            ngx.stop()
            rc = f2m.stop()
            mta.stop()
            if srv is not None:
                srv.shutdown()
        check(rc == 0, "SIGTERM: exit status 0", 0, rc)
        log = f2m.log()
        check("AddressSanitizer" not in log and "runtime error" not in log,
              "no sanitizer report", None, log[-2000:])
    return h.result()


def wait_workers(f2m, n, old=()):
    h.wait_until(lambda: len([p for p in role_pids(f2m, "worker")
                              if p not in old]) >= n, 20,
                 what="%d new workers" % n)


def post_ok(ngx, mta, what, n_before):
    s, _, b = ngx.post("/f2m/contact", dict(GOOD, message=what), JSON)
    ok = s == 200 and json.loads(b).get("ok")
    check(ok, "%s: post accepted" % what, 200, (s, b[:200]))
    if ok:
        mid = "<%s@example.test>" % json.loads(b)["id"]
        try:
            h.wait_until(lambda: mid in mta.by_message_id(), 30,
                         what="delivery of " + mid)
        except h.HarnessError:
            pass
        check(mid in mta.by_message_id(), "%s: delivered" % what, mid,
              sorted(mta.by_message_id())[-3:])


def run(f2m, ngx, mta, cfg, keys, password, vhost, untraceable):
    """untraceable: None, or why gdb and /proc/PID/mem cannot be used here
    (trace_probe); the parts that need them are then skipped."""
    wait_workers(f2m, 2)
    h.wait_until(lambda: role_pids(f2m, "deliverer"), 20, what="deliverer")
    workers = role_pids(f2m, "worker")
    dl = role_pids(f2m, "deliverer")[0]

    # (a) what /proc says
    for pid in workers:
        st = status(pid)
        check(st["Uid"].split() == [str(NOBODY)] * 4, "worker %d: Uid is "
              "the service user" % pid, [str(NOBODY)] * 4, st["Uid"])
        check(st["Gid"].split() == [str(NOBODY)] * 4 and
              st["Groups"].split() == [str(NOBODY)], "worker %d: gid and "
              "groups are the service user's" % pid, None,
              (st["Gid"], st["Groups"]))
        check(st["NoNewPrivs"] == "1", "worker %d: NoNewPrivs 1" % pid, "1",
              st["NoNewPrivs"])
        check(st["Seccomp"] == "2", "worker %d: Seccomp 2 (filter)" % pid,
              "2", st["Seccomp"])
        check(st["CapEff"] == "0000000000000000", "worker %d: no effective "
              "capabilities" % pid, "0" * 16, st["CapEff"])
    st = status(dl)
    check(st["Uid"].split() == [str(NOBODY)] * 4, "deliverer: Uid is the "
          "service user after reading the secrets", [str(NOBODY)] * 4,
          st["Uid"])
    check(st["NoNewPrivs"] == "1", "deliverer: NoNewPrivs 1", "1",
          st["NoNewPrivs"])
    for role, pid in [("master", f2m.pid), ("deliverer", dl)] + \
            [("worker", p) for p in workers]:
        check(core_limit(pid) == ["0", "0"], "%s %d: Max core file size 0"
              % (role, pid), ["0", "0"], core_limit(pid))
        # a process that is not dumpable has its /proc files owned by root
        owner = os.stat("/proc/%d/status" % pid).st_uid
        check(role == "master" or owner == 0, "%s %d: not dumpable (/proc "
              "files owned by root)" % (role, pid), 0, owner)

    # (b) the service user cannot read the secrets, nor the deliverer
    for what, p in (("RSA key", keys.rsa_key), ("Ed25519 key", keys.ed_key),
                    ("password file", cfg["smtp"]["password_file"]),
                    ("deliverer's memory", "/proc/%d/mem" % dl),
                    ("deliverer's environ", "/proc/%d/environ" % dl)):
        e = as_nobody(p)
        check(e == 13, "service user opening the %s: EACCES" % what, 13, e)
    # control: the same user opens the config beside them
    e = as_nobody(f2m.config)
    check(e == 0, "control: the service user opens the config", 0, e)
    # a worker itself, made to try by gdb: EACCES, and it lives on
    if untraceable:
        h.skip("a worker opening the key and the password file (gdb)",
               untraceable)
    else:
        out = gdb(workers[0], 'call (int)open("%s", 0)' % keys.rsa_key,
                  "call (int)*((int *(*)(void))__errno_location)()",
                  'call (int)open("%s", 0)' % cfg["smtp"]["password_file"],
                  "call (int)*((int *(*)(void))__errno_location)()")
        check(gdb_values(out) == [-1, 13, -1, 13], "a worker opening the "
              "key and the password file: -1 EACCES both", [-1, 13, -1, 13],
              gdb_values(out) or out[-600:])
        check(h.pid_alive(workers[0]), "the worker lives on after gdb")

    # (e) through the filter: a post, a post with an upload, captcha
    n0 = len(mta.messages())
    post_ok(ngx, mta, "plain post", n0)
    pdf = b"%PDF-1.4\n" + os.urandom(20000) + b"\n%%EOF\n"
    body, ctype = h.multipart({"name": "Ada"}, [("doc", "a.pdf",
                                                 "application/pdf", pdf)])
    s, _, b = ngx.post("/f2m/files", body, dict(JSON, **{
        "Content-Type": ctype}))
    check(s == 200, "post with an upload: 200", 200, (s, b[:200]))
    if vhost:
        before = set(role_pids(f2m, "worker"))
        s, _, b = ngx.post("/f2m/human", dict(GOOD, **{
            "cf-turnstile-response": "tok"}), JSON)
        check(s == 503, "captcha over TLS to %s (untrusted certificate): "
              "503, fail closed" % vhost, 503, (s, b[:200]))
        check(set(role_pids(f2m, "worker")) == before and
              "killed by signal" not in f2m.log(), "the worker survived "
              "name resolution and the TLS handshake", before,
              role_pids(f2m, "worker"))
    else:
        h.skip("captcha provider reached by host name", "this host's "
               "name is not on 127.0.0.1 in /etc/hosts")
    for i in range(4):
        post_ok(ngx, mta, "post %d" % i, 0)

    # (c) memory: workers and master hold no secret; the deliverer does
    if untraceable:
        h.skip("memory scan for key fragments and the password", untraceable)
    else:
        wanted = needles(keys, password)
        found = scan(dl, wanted)
        check("smtp password" in found and "ed25519 key" in found and
              any(k.startswith("rsa key") for k in found),
              "control: the scan finds the password and both keys in the "
              "deliverer", sorted(wanted), sorted(found))
        clean = []
        for role, pid in [("master", f2m.pid)] + \
                [("worker", p) for p in role_pids(f2m, "worker")]:
            found = scan(pid, wanted)
            check(not found, "%s %d: no key fragment and no password in "
                  "its memory" % (role, pid), [], sorted(found))
            if not found:
                clean.append("%s %d" % (role, pid))
        print("memory scan: deliverer %d holds %s; none in %s" % (
            dl, ", ".join(sorted(scan(dl, wanted))), ", ".join(clean)),
            flush=True)

    # (d) forbidden system calls: killed by SIGSYS, restarted, service on
    killed = []
    if untraceable:
        h.skip("execve, socket(AF_PACKET) and kill made by gdb: SIGSYS",
               untraceable)
        calls = ()
    else:
        calls = (
            ("execve", 'call (int)execve("/bin/sh", 0, 0)'),
            ("socket(AF_PACKET)", "call (int)socket(17, 3, 0)"),
            ("kill(deliverer)", "call (int)kill(%d, 0)" %
             role_pids(f2m, "deliverer")[0]))
    for what, call in calls:
        before = role_pids(f2m, "worker")
        victim = before[0]
        out = gdb(victim, call)
        print("gdb %s in worker %d: %s" % (call[5:], victim, " / ".join(
            ln for ln in out.splitlines() if "SIGSYS" in ln)), flush=True)
        check("SIGSYS" in out, "%s in worker %d: gdb sees SIGSYS" %
              (what, victim), "SIGSYS", out[-400:])
        try:
            h.wait_until(lambda: re.search(r"worker %d killed by signal %d;"
                                           % (victim, SIGSYS), f2m.log()),
                         10, what="the master's log line")
        except h.HarnessError:
            pass
        check(re.search(r"worker %d killed by signal %d; restarting" %
                        (victim, SIGSYS), f2m.log()), "%s: master logged "
              "worker %d killed by signal %d" % (what, victim, SIGSYS))
        killed.append(victim)
        try:
            wait_workers(f2m, 2, old=killed)
        except h.HarnessError:
            pass
        now = role_pids(f2m, "worker")
        check(len(now) == 2 and victim not in now, "%s: a new worker took "
              "its place" % what, "2 workers without %d" % victim, now)
        new = [p for p in now if p not in before]
        check(all(status(p)["Seccomp"] == "2" for p in new), "%s: the new "
              "worker is filtered too" % what)
        post_ok(ngx, mta, "after %s" % what, 0)
    # a reload checks the new config's secrets in a child of the master:
    # the master and the new workers still hold none of them
    before = role_pids(f2m, "worker")
    f2m.reload()
    try:
        h.wait_until(lambda: "reload: new config in use" in f2m.log(), 20,
                     what="the reload")
        wait_workers(f2m, 2, old=before + killed)
    except h.HarnessError:
        pass
    post_ok(ngx, mta, "after a reload", 0)
    if untraceable:
        h.skip("after a reload: memory scan of the master and the new "
               "workers", untraceable)
    else:
        for role, pid in [("master", f2m.pid)] + \
                [("new worker", p) for p in role_pids(f2m, "worker")
                 if p not in before]:
            found = scan(pid, wanted)
            check(not found, "after a reload, %s %d: no key fragment and "
                  "no password in its memory" % (role, pid), [],
                  sorted(found))
    log = f2m.log()
    sigsys = re.findall(r"worker (\d+) killed by signal %d" % SIGSYS, log)
    check(sorted(int(p) for p in sigsys) == sorted(killed), "no worker died "
          "by SIGSYS but the three made to", sorted(killed), sigsys)
    print("killed by the filter: %s" % ", ".join(
        re.findall(r"worker \d+ killed by signal %d; restarting" % SIGSYS,
                   log)), flush=True)


if __name__ == "__main__":
    sys.exit(main())
