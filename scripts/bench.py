"""scripts/bench: form2mail against its peers and against the limits of
this machine, everything on loopback behind one nginx (HTTPS) and one MTA
(Postfix + Dovecot SASL, SMTPS with AUTH, delivering into a Maildir).

Systems (all behind the same nginx, same 1 KB form, same MTA, DKIM):
  hello            bare libfcgi hello-world responder: the ceiling
  form2mail        this project (FastCGI; spool, then smtp.connections deliverers)
  phpmailer        PHP-FPM (pm=static) + Debian's PHPMailer, SMTPS per post
  nodemailer       Node.js + nodemailer, a transport (connection) per post
  nodemailer-pool  the same with one pooled transport (pool: true)

Figures (interleaved rounds, the order rotated each round; medians):
  intake     the MTA's own intake rate: bench/intake.c pushes a message
             form2mail signed, N times over one reused TLS+AUTH libcurl
             connection; until the last one is in the Maildir
  accepted   posts/s and p50/p99 latency with wrk at 8, 32, 128 connections
  throttled  form2mail answering 429 (per-IP limit spent) vs the ceiling
  e2e        N posts (curl --parallel) until the last message is in the
             Maildir, as messages/s; a DKIM-verified sample; CPU time per
             message; RSS per process

Run through scripts/bench (installs and builds first).  Run as root."""
import argparse
import json
import os
import random
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import harness as h  # noqa: E402

BUILD = os.path.join(REPO, "build-bench")
PHP_FPM = "/usr/sbin/php-fpm8.2"
NODE_DIR = os.path.join(BUILD, "node")
CLK_TCK = os.sysconf("SC_CLK_TCK")

MAIL_SYSTEMS = ["form2mail", "phpmailer", "nodemailer", "nodemailer-pool"]
ALL_SYSTEMS = ["hello"] + MAIL_SYSTEMS
LABEL = {
    "hello": "libfcgi hello-world (ceiling)",
    "form2mail": "form2mail",
    "phpmailer": "PHP-FPM + PHPMailer",
    "nodemailer": "Node.js + nodemailer",
    "nodemailer-pool": "Node.js + nodemailer pool:true",
    "form2mail-throttled": "form2mail throttled (429)",
}
PATHS = {
    "hello": "/hello",
    "form2mail": "/f2m/contact",
    "form2mail-throttled": "/f2m/contact",
    "phpmailer": "/php/contact",
    "nodemailer": "/node/contact",
    "nodemailer-pool": "/nodepool/contact",
}

# The 1 KB form: name (carries a unique token: duplicate suppression must
# not answer from its table, and the token finds the run's messages),
# email, and a message of a few lines.
MESSAGE_TEXT = (
    "Hello,\r\n\r\nwe are planning a small conference for about 120 people "
    "in the autumn and would like to know whether your venue is free on "
    "the second weekend of October. We would need the main hall with a "
    "projector and sound, two smaller rooms for workshops, and catering "
    "for lunch and two coffee breaks on both days.\r\n\r\nCould you send us "
    "a quote, the floor plans, and tell us how early we could get in on "
    "the Friday evening to set up? Parking for about forty cars would "
    "help as well, and one room should be quiet enough for recordings."
    "\r\n\r\nMany thanks in advance and kind regards,\r\nAda Lovelace\r\n"
    "Analytical Engines Ltd.\r\n+44 20 7946 0000")


def quote_form(s):
    import urllib.parse
    return urllib.parse.quote_plus(s, safe="")


FORM_REST = ("&email=ada.lovelace%40example.org&message=" +
             quote_form(MESSAGE_TEXT))
NAME_PREFIX = "name=Ada+Lovelace+"


def form_body(token):
    return NAME_PREFIX + token + FORM_REST


# --------------------------------------------------------------------------
# /proc helpers


def proc_stat(pid):
    """{ppid, session, cpu (utime+stime+cutime+cstime, seconds)}, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            rest = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if rest[0] == "Z":
        return None
    own = (int(rest[11]) + int(rest[12])) / CLK_TCK
    reaped = (int(rest[13]) + int(rest[14])) / CLK_TCK
    return {"ppid": int(rest[1]), "session": int(rest[3]), "own": own,
            "cpu": own + reaped}


def session_pids(sid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(int(d))
            if st and st["session"] == sid:
                out.append(int(d))
    return sorted(out)


def session_cpu(sid):
    """CPU seconds of a session: every live process's own time plus what
    it reaped from its dead children (so each process counts once while
    the session leader lives)."""
    if not sid:
        return 0.0
    total = 0.0
    for pid in session_pids(sid):
        st = proc_stat(pid)
        if st:
            total += st["cpu"]
    return total


def mem_kib(pid):
    """{'rss', 'pss', 'uss'} in KiB from smaps_rollup (uss: the private
    pages, what the process alone costs), or None."""
    out = {"uss": 0}
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("Rss", "Pss"):
                    out[k.lower()] = int(v.split()[0])
                elif k in ("Private_Clean", "Private_Dirty"):
                    out["uss"] += int(v.split()[0])
    except OSError:
        return None
    return out if len(out) == 3 else None


def save_smaps(pids, path):
    """Keeps the smaps of the largest of pids (by RSS), mapping by
    mapping, for the notes on where a worker's memory goes."""
    best = max(pids, key=lambda p: (mem_kib(p) or {}).get("rss", 0),
               default=None)
    if best is None:
        return
    try:
        with open("/proc/%d/smaps" % best) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text)
    except OSError:
        pass


def mem_of(pids):
    rows = [m for m in (mem_kib(p) for p in pids) if m]
    return {"n": len(rows), "rss": sum(m["rss"] for m in rows),
            "pss": sum(m["pss"] for m in rows),
            "uss": sum(m["uss"] for m in rows),
            "rss_max": max((m["rss"] for m in rows), default=0),
            "uss_max": max((m["uss"] for m in rows), default=0),
            "pss_max": max((m["pss"] for m in rows), default=0)}


def socket_inodes(pid):
    out = set()
    d = "/proc/%d/fd" % pid
    try:
        for n in os.listdir(d):
            try:
                t = os.readlink(os.path.join(d, n))
            except OSError:
                continue
            if t.startswith("socket:["):
                out.add(t[8:-1])
    except OSError:
        pass
    return out


def unix_listen_inode(path):
    with open("/proc/net/unix") as f:
        next(f)
        for line in f:
            parts = line.split()
            if len(parts) >= 8 and parts[7] == path and parts[5] == "01":
                return parts[6]
    return None


def maildir_count(maildir):
    try:
        with os.scandir(os.path.join(maildir, "new")) as it:
            return sum(1 for _ in it)
    except FileNotFoundError:
        return 0


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def version_of(cmd, pattern=None):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    out = (p.stdout + p.stderr).strip()
    if pattern:
        m = re.search(pattern, out)
        return m.group(1) if m else None
    return out.splitlines()[0] if out else None


# --------------------------------------------------------------------------
# load generators


def to_ms(s):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", s)
    if not m:
        return None
    v = float(m.group(1))
    return v * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[m.group(2)]


def wrk_script(path, nonce):
    """A wrk script posting the 1 KB form, each request with its own token."""
    h.write_file(path, """\
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "application/json"
local rest = [==[%s]==]
local prefix = [==[%s]==]
local n = 0
local nthreads = 0
function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
end
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, prefix .. "%s-" .. tid .. "-" .. n .. rest)
end
""" % (FORM_REST, NAME_PREFIX, nonce))


def wrk(url, conns, secs, script):
    cmd = ["wrk", "-t", "2", "-c", str(conns), "-d", "%ds" % secs,
           "--timeout", "30s", "--latency", "-s", script, url]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=secs + 90)
    out = p.stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if p.returncode != 0 or not m:
        raise h.HarnessError("wrk failed (%d): %s%s" % (p.returncode, out,
                                                      p.stderr))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    total = re.search(r"(\d+) requests in", out)
    non = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                     r"timeout (\d+)", out)
    return {"rps": float(m.group(1)),
            "p50_ms": to_ms(lat.get("50", "")), "p99_ms": to_ms(lat.get("99", "")),
            "requests": int(total.group(1)) if total else None,
            "non2xx": int(non.group(1)) if non else 0,
            "socket_errors": sum(int(x) for x in errs.groups()) if errs else 0}


def curl_config(path, url, ca, nonce, n):
    with open(path, "w") as f:
        for i in range(n):
            # "next" only between transfers: a trailing one makes an empty
            # transfer, and its failure aborts the parallel ones
            f.write('%surl = "%s"\ncacert = "%s"\nheader = "Accept: '
                    'application/json"\ndata = "%s"\noutput = "/dev/null"\n'
                    'silent\nshow-error\nwrite-out = "%%{http_code}\\n"\n'
                    % ("next\n" if i else "", url, ca,
                       form_body("%s-%d" % (nonce, i))))


class Perf:
    """perf record on some processes while a run lasts (--perf); the
    report (the top symbols, children included) goes to
    build-bench/perf-NAME.txt."""

    def __init__(self, name, pids):
        self.name = name
        self.data = os.path.join(BUILD, "perf-%s.data" % name)
        cmd = ["perf", "record", "-q", "-F", "499", "--call-graph",
               "dwarf,16384", "-o", self.data, "-p",
               ",".join(str(p) for p in pids)]
        self.p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        time.sleep(1)

    def stop(self):
        self.p.send_signal(signal.SIGINT)
        try:
            self.p.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        out = os.path.join(BUILD, "perf-%s.txt" % self.name)
        with open(out, "w") as f:
            subprocess.run(["perf", "report", "-i", self.data, "--children",
                            "--sort", "dso,sym", "--stdio", "-g", "none",
                            "--percent-limit", "1.5"],
                           stdout=f, stderr=subprocess.DEVNULL, timeout=600)
        return out


# --------------------------------------------------------------------------
# the bench


class BenchNginx(h.Nginx):
    """The harness's nginx with bench settings: one worker per core, room
    for 128 client plus 128 upstream connections, no access log."""

    def _configure(self):
        super()._configure()
        with open(self.conf) as f:
            s = f.read()
        s = s.replace("worker_processes 1;", "worker_processes auto;")
        s = s.replace("worker_connections 256;", "worker_connections 4096;")
        s = s.replace("access_log %s;" % self.access_log, "access_log off;")
        s = s.replace("error_log %s info;" % self.error_log,
                      "error_log %s warn;" % self.error_log)
        h.write_file(self.conf, s)


class Bench:
    def __init__(self, a, wd):
        self.a = a
        self.wd = wd
        self.procs = {}       # name -> Popen (hello, php, node, node-pool)
        self.f2m = None
        self.f2m_mode = None
        self.nonce_n = 0
        self.run_id = os.urandom(3).hex()
        self.log = []

    # ---- setup

    def say(self, msg):
        print("bench: " + msg, file=sys.stderr, flush=True)

    def nonce(self, tag):
        self.nonce_n += 1
        return "%s%s%d" % (tag, self.run_id, self.nonce_n)

    def setup(self):
        wd, a = self.wd, self.a
        self.pki = h.make_pki(wd.sub("pki"))
        self.keys = h.make_dkim_keys(wd.sub("dkim"), "example.test")
        self.keyparse = {}
        for alg, key in (("rsa-sha256", self.keys.rsa_key),
                         ("ed25519-sha256", self.keys.ed_key)):
            p = h.run([os.path.join(BUILD, "keyparse"), key, "300"])
            self.keyparse[alg] = {
                k.strip().replace(",", "").replace(" ", "_"): float(v.split()[0])
                for k, v in (line.rsplit("  ", 1) for line in
                             p.stdout.decode().splitlines())}
        self.say("DKIM signature cost (ms): %r" % self.keyparse)
        self.mta = h.Mta(wd.sub("mta"), self.pki)
        self.mta.start(timeout=30)
        # form2mail
        d = wd.sub("f2m")
        self.f2m_dir = d
        self.f2m_conf = os.path.join(d, "form2mail.json")
        base = h.default_config(d, mta=self.mta, dkim=self.keys)
        base["workers"] = a.workers
        base["forms"]["contact"] = h.contact_form(
            recipients=["Sales <sales@example.test>"])
        base["smtp"]["max_per_hour"] = 0
        base = h.merge(base, json.loads(a.f2m_json))
        self.f2m_base = base
        self.f2m_sock = base["listen"][5:]
        # peers' private copies of the secrets, readable by www-data only
        pd = wd.sub("peers")
        import pwd
        www = pwd.getpwnam("www-data")
        key = os.path.join(pd, "dkim-rsa.pem")
        shutil.copy(self.keys.rsa_key, key)
        os.chown(key, www.pw_uid, www.pw_gid)
        os.chmod(key, 0o600)
        peer = {"host": "localhost", "port": self.mta.smtps_port,
                "username": self.mta.username, "password": self.mta.password,
                "ca_file": self.pki.ca, "hostname": "www.example.test",
                "from": "forms@example.test", "from_name": "Example Forms",
                "envelope_from": "bounces@example.test",
                "dkim_domain": "example.test",
                "dkim_selector": self.keys.rsa_selector,
                "dkim_key_file": key}
        # PHP-FPM
        phpq = lambda s: "'" + str(s).replace("\\", "\\\\").replace("'", "\\'") + "'"
        php_cfg = os.path.join(pd, "config.php")
        h.write_file(php_cfg, "<?php\nreturn [\n" + "".join(
            "    %s => %s,\n" % (phpq(k), v if isinstance(v, int) else phpq(v))
            for k, v in peer.items()) +
            "    'recipients' => ['sales@example.test' => 'Sales'],\n];\n",
            0o640)
        os.chown(php_cfg, 0, www.pw_gid)
        self.php_sock = os.path.join(pd, "php.sock")
        fpm_conf = os.path.join(pd, "php-fpm.conf")
        h.write_file(fpm_conf, """\
[global]
pid = {d}/php-fpm.pid
error_log = {d}/php-fpm.log
log_level = warning
daemonize = no

[bench]
user = www-data
group = www-data
listen = {sock}
listen.owner = www-data
listen.group = www-data
listen.mode = 0660
listen.backlog = 511
pm = static
pm.max_children = {n}
catch_workers_output = yes
php_admin_flag[log_errors] = on
php_admin_value[error_log] = {d}/php-error.log
""".format(d=pd, sock=self.php_sock, n=a.php_children))
        self.start_proc("php", [PHP_FPM, "-F", "-y", fpm_conf],
                        os.path.join(pd, "php-fpm.out"),
                        lambda: h.unix_accepts(self.php_sock))
        # Node.js, per-request transport and pooled
        self.node_ports = {}
        for name, pool in (("node", False), ("node-pool", True)):
            port = h.free_port()
            self.node_ports[name] = port
            cfg = dict(peer, listen_port=port, pool=pool,
                       recipients=[["sales@example.test", "Sales"]])
            path = os.path.join(pd, name + ".json")
            h.write_file(path, json.dumps(cfg), 0o640)
            os.chown(path, 0, www.pw_gid)
            env = dict(os.environ, NODE_PATH=os.path.join(NODE_DIR,
                                                          "node_modules"),
                       NODE_ENV="production")
            self.start_proc(name, ["node", os.path.join(REPO, "bench",
                                   "nodemailer", "server.js"), path],
                            os.path.join(pd, name + ".out"),
                            (lambda p=port: h.tcp_listening(p)),
                            env=env, user="www-data")
        # hello
        self.hello_sock = os.path.join(pd, "hello.sock")
        self.start_proc("hello", [os.path.join(BUILD, "bench_hello"),
                                  self.hello_sock, str(a.workers)],
                        os.path.join(pd, "hello.out"),
                        lambda: h.unix_accepts(self.hello_sock))
        # bench_hello makes its socket 0666: the web server's group only
        os.chown(self.hello_sock, -1, www.pw_gid)
        os.chmod(self.hello_sock, 0o660)
        # nginx in front of all of them
        form_php = os.path.join(REPO, "bench", "phpmailer", "form.php")
        extra_http = "".join(
            "upstream %s { server 127.0.0.1:%d; keepalive 32; }\n    "
            % (n.replace("-", "_"), p) for n, p in self.node_ports.items())
        proxy = ("proxy_http_version 1.1; proxy_set_header Connection \"\"; "
                 "proxy_set_header X-Real-IP $remote_addr; ")
        extra_server = (
            "location = /hello { include fastcgi_params; "
            "fastcgi_pass unix:%s; }\n"
            "        location = /php/contact { include fastcgi_params; "
            "fastcgi_param SCRIPT_FILENAME %s; "
            "fastcgi_param HTTPS $https if_not_empty; "
            "fastcgi_param BENCH_CONFIG %s; fastcgi_pass unix:%s; }\n"
            "        location = /node/contact { proxy_pass http://node; %s}\n"
            "        location = /nodepool/contact { proxy_pass "
            "http://node_pool; %s}\n"
            % (self.hello_sock, form_php, php_cfg, self.php_sock, proxy,
               proxy))
        self.ngx = BenchNginx(wd.sub("nginx"), self.pki, self.f2m_sock,
                              extra_http=extra_http, extra_server=extra_server)
        self.ngx.start()
        self.base = "https://localhost:%d" % self.ngx.port
        # every system answers one post before anything is measured; the
        # message form2mail delivers becomes the intake client's message
        self.f2m_start("accepted")
        self.intake_msg = self.make_intake_message()
        for s in ("phpmailer", "nodemailer", "nodemailer-pool", "hello"):
            st, _, body = self.ngx.post(PATHS[s], form_body(self.nonce("w")),
                                        {"Accept": "application/json"},
                                        timeout=30)
            if st != 200:
                raise h.HarnessError("%s: warm-up post got %d: %r\n%s" % (
                    s, st, body[:300], self.diag(s)))
        self.quiesce("phpmailer")

    def start_proc(self, name, cmd, out, ready, env=None, user=None):
        f = open(out, "ab")
        kw = {"user": user, "group": user} if user else {}
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=f,
                             stderr=subprocess.STDOUT, env=env,
                             start_new_session=True, **kw)
        f.close()
        self.procs[name] = p
        h.wait_until(lambda: p.poll() is not None or ready(), 15,
                     what="%s to start" % name, diag=lambda: h.tail(out))
        if p.poll() is not None:
            raise h.HarnessError("%s exited with %d\n%s" % (
                name, p.returncode, h.tail(out)))

    def diag(self, system):
        pd = os.path.join(str(self.wd), "peers")
        files = {"phpmailer": ["php-fpm.log", "php-error.log", "php-fpm.out"],
                 "nodemailer": ["node.out"], "nodemailer-pool": ["node-pool.out"],
                 "hello": ["hello.out"]}.get(system, [])
        parts = [h.tail(os.path.join(pd, n), 15) for n in files]
        if system.startswith("form2mail") and self.f2m:
            parts.append(h.tail(self.f2m.log_file, 15))
        parts.append(h.tail(self.ngx.error_log, 10))
        parts.append(h.tail(self.mta.maillog, 10))
        return "\n".join(parts)

    def stop(self):
        if getattr(self, "ngx", None):
            self.ngx.stop()
        if self.f2m:
            self.f2m.stop()
            self.f2m = None
        for name, p in self.procs.items():
            # php-fpm: SIGQUIT is graceful; the others stop on SIGTERM
            sig = signal.SIGQUIT if name == "php" else signal.SIGTERM
            h.stop_pid(p.pid, sig, popen=p, group=True)
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.procs = {}
        if getattr(self, "mta", None):
            self.mta.stop()

    # ---- form2mail, restarted with the config a run needs

    def f2m_start(self, mode):
        """(Re)start form2mail with an empty spool and state: "accepted"
        (rates far above anything measured) or "throttled" (one post per
        hour per IP, spent at once)."""
        if self.f2m:
            self.f2m.stop()
            self.f2m = None
        for sub in ("spool", "state"):
            self.trash(os.path.join(self.f2m_dir, sub))
        big = "1000000/1s"
        cfg = h.merge(self.f2m_base, {"throttle": {
            "backend": "shm", "per_ip": big if mode == "accepted" else "1/1h",
            "per_form": big, "global": big}})
        h.write_config(self.f2m_conf, cfg)
        self.f2m = h.Form2mail(self.f2m_conf,
                               binary=os.path.join(BUILD, "form2mail"))
        self.f2m.start(timeout=20)
        self.f2m_mode = mode
        if mode == "throttled":
            st, _, body = self.ngx.post(PATHS["form2mail"],
                                        form_body(self.nonce("t")),
                                        {"Accept": "application/json"})
            if st != 200:
                raise h.HarnessError("throttled mode: first post got %d %r"
                                     % (st, body[:200]))
            st, _, _ = self.ngx.post(PATHS["form2mail"],
                                     form_body(self.nonce("t")),
                                     {"Accept": "application/json"})
            if st != 429:
                raise h.HarnessError("throttled mode: second post got %d" % st)

    def make_intake_message(self):
        """The first message form2mail delivers, without the headers
        Postfix added, CRLF: a real, DKIM-signed form2mail message."""
        st, _, body = self.ngx.post(PATHS["form2mail"],
                                    form_body(self.nonce("w")),
                                    {"Accept": "application/json"})
        if st != 200:
            raise h.HarnessError("form2mail warm-up post got %d %r\n%s"
                                 % (st, body[:300], self.diag("form2mail")))
        msgs = self.mta.wait_messages(1, timeout=30)
        raw = msgs[0][1].replace(b"\r\n", b"\n")
        lines = raw.split(b"\n")
        i = 0
        added = (b"return-path:", b"x-original-to:", b"delivered-to:",
                 b"received:")
        while i < len(lines):
            low = lines[i].lower()
            if low.startswith(added):
                i += 1
                while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
                    i += 1
                continue
            break
        msg = b"\r\n".join(lines[i:])
        res = h.verify_dkim(msg, self.keys.txt)
        if not res or not all(r[4] for r in res):
            raise h.HarnessError("intake message does not verify: %r" % res)
        path = os.path.join(str(self.wd), "intake.eml")
        h.write_file(path, msg)
        self.intake_size = len(msg)
        return path

    # ---- between runs

    def sid(self, system):
        if system.startswith("form2mail"):
            return self.f2m.pid if self.f2m else None
        p = self.procs.get({"hello": "hello", "phpmailer": "php",
                            "nodemailer": "node",
                            "nodemailer-pool": "node-pool"}[system])
        return p.pid if p else None

    def postfix_sid(self):
        st = proc_stat(self.mta.master_pid)
        return st["session"] if st else None

    def quiesce(self, system=None):
        """Let the last run's stragglers finish (the system's CPU stops
        moving), let Postfix empty its queue, empty the Maildir."""
        sids = [self.postfix_sid()]
        if system and not system.startswith("form2mail"):
            sids.append(self.sid(system))
        deadline = time.monotonic() + 90
        last = sum(session_cpu(s) for s in sids)
        still = 0
        while time.monotonic() < deadline:
            time.sleep(0.25)
            now = sum(session_cpu(s) for s in sids)
            still = still + 1 if now - last <= 0.02 else 0
            last = now
            if still >= 2 and self.mta.queue_count() == 0:
                break
        else:
            self.say("quiesce: still busy after 90 s (queue %d); "
                     "postsuper -d ALL" % self.mta.queue_count())
            h.run(["/usr/sbin/postsuper", "-c", self.mta.conf_dir, "-d", "ALL"],
                  check=False)
        self.clear_maildir()

    def trash(self, path):
        """Move path out of the way; it is deleted with the workdir at the
        end.  Not deleted now: on an ext4 without a journal (this machine's
        root) every file created in the next 30 s or so pays for each
        recently deleted inode (ext4's find_inode_bit/recently_deleted),
        so mass deletions between runs would slow the next system down."""
        if not os.path.lexists(path):
            return
        t = self.wd.sub("trash")
        self.trash_n = getattr(self, "trash_n", 0) + 1
        os.rename(path, os.path.join(t, "%d" % self.trash_n))

    def clear_maildir(self):
        new = os.path.join(self.mta.maildir, "new")
        if not os.path.isdir(new) or not os.listdir(new):
            return
        self.trash(new)
        os.mkdir(new, 0o700)
        os.chown(new, 65534, 65534)

    def prepare(self, system):
        if system == "form2mail":
            self.f2m_start("accepted")
        elif system == "form2mail-throttled":
            self.f2m_start("throttled")
        self.quiesce(system)

    # ---- runs

    def run_wrk(self, system, conns, secs):
        self.prepare(system)
        script = os.path.join(str(self.wd), "post.lua")
        wrk_script(script, self.nonce("a"))
        perf = None
        if self.a.perf and system.startswith("form2mail") and conns == 32:
            perf = Perf("%s-c32" % system.replace("form2mail", "wrk"),
                        session_pids(self.f2m.pid))
        r = wrk(self.base + PATHS[system], conns, secs, script)
        if perf:
            self.say("perf report: %s" % perf.stop())
        ok = system == "form2mail-throttled" or r["non2xx"] == 0
        self.say("%-20s c=%-3d %9.1f req/s  p50 %8.2f ms  p99 %8.2f ms%s" % (
            system, conns, r["rps"], r["p50_ms"] or -1, r["p99_ms"] or -1,
            "" if ok else "  (%d not 2xx!)" % r["non2xx"]))
        if system != "form2mail-throttled" and r["non2xx"]:
            r["note"] = "%d responses were not 2xx" % r["non2xx"]
        return r

    def run_intake(self, client, n):
        """The MTA's own intake: client "c" (bench/intake.c, libcurl) or
        "py" (bench/intake.py, smtplib)."""
        self.quiesce()
        pw = os.path.join(str(self.wd), "intake-password")
        self.mta.write_password_file(pw)
        if client == "c":
            cmd = [os.path.join(BUILD, "bench_intake"), self.mta.url("smtps"),
                   self.mta.username, pw, self.pki.ca, "bounces@example.test",
                   "sales@example.test", str(n), self.intake_msg]
        else:
            cmd = ["/usr/bin/python3", os.path.join(REPO, "bench", "intake.py"),
                   "localhost", str(self.mta.smtps_port), self.mta.username, pw,
                   self.pki.ca, "bounces@example.test", "sales@example.test",
                   str(n), self.intake_msg]
        mta0 = self.mta_cpu()
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        p = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=max(120, n))
        t_sent = time.monotonic() - t0
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if p.returncode != 0:
            raise h.HarnessError("intake %s failed: %s%s" % (client, p.stdout,
                                                           p.stderr))
        res = json.loads(p.stdout.strip().splitlines()[-1])
        t_last, count = self.wait_maildir(n, t0, max(120, n / 10))
        mta1 = self.mta_cpu()
        r = {"n": n, "submit_rps": res["sent"] / res["seconds"],
             "rps": n / t_last if count >= n else None, "seconds": t_last,
             "delivered": count,
             "client_cpu_s": (ru1.ru_utime + ru1.ru_stime -
                              ru0.ru_utime - ru0.ru_stime),
             "mta_cpu_ms_per_msg": 1000 * (mta1 - mta0) / n,
             "sent_seconds": t_sent}
        r["dkim"] = self.verify_sample(None, n)
        self.say("intake %-3s %d msgs: submitted %.1f/s, in Maildir %s/s, "
                 "client CPU %.2f s" % (client, n, r["submit_rps"],
                                        "%.1f" % r["rps"] if r["rps"] else "-",
                                        r["client_cpu_s"]))
        return r

    def mta_cpu(self):
        return (session_cpu(self.postfix_sid()) +
                session_cpu(self.mta._dovecot.pid if self.mta._dovecot else None))

    def wait_maildir(self, n, t0, timeout):
        deadline = t0 + timeout
        count = 0
        while time.monotonic() < deadline:
            count = maildir_count(self.mta.maildir)
            if count >= n:
                return time.monotonic() - t0, count
            time.sleep(0.02)
        return time.monotonic() - t0, count

    def verify_sample(self, token, n):
        """DKIM on a random sample of the Maildir (at least --sample
        messages): every signature must verify, an rsa-sha256 one from
        example.test must be among them, and the message must be one of
        this run's (its Subject holds the run's token)."""
        d = os.path.join(self.mta.maildir, "new")
        names = os.listdir(d)
        sample = random.sample(names, min(len(names), self.a.sample))
        fails = []
        for name in sample:
            with open(os.path.join(d, name), "rb") as f:
                raw = f.read()
            if token and token not in (h.header(raw, "Subject") or ""):
                fails.append("%s: not a message of this run" % name)
                continue
            errs = []
            res = h.verify_dkim(raw, self.keys.txt, errs)
            if not res or not all(r[4] for r in res):
                fails.append("%s: %s" % (name, "; ".join(errs) or "unsigned"))
            elif not any(r[3] == "rsa-sha256" and r[1] == "example.test"
                         for r in res):
                fails.append("%s: no rsa-sha256 signature" % name)
        algs = sorted({r[3] for r in res}) if sample and not fails else []
        return {"checked": len(sample), "failed": len(fails),
                "errors": fails[:3], "algorithms": algs,
                "ok": len(sample) >= min(self.a.sample, n) and not fails}

    def run_e2e(self, system, n, conns):
        self.prepare(system)
        token = self.nonce("e")
        cfgp = os.path.join(str(self.wd), "e2e.curl")
        curl_config(cfgp, self.base + PATHS[system], self.pki.ca, token, n)
        sid = self.sid(system)
        ngx_sid = self.ngx.proc.pid
        roles0 = self.f2m_roles_cpu() if system == "form2mail" else None
        perf = []
        if self.a.perf and system == "form2mail":
            ws = list(roles0["workers"])
            perf = [Perf("e2e-workers", ws), Perf("e2e-deliverer", [
                p for p in session_pids(sid) if p != sid and p not in ws])]
        cpu0 = (session_cpu(sid), session_cpu(ngx_sid), self.mta_cpu())
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        out = open(os.path.join(str(self.wd), "e2e.codes"), "w+")
        p = subprocess.Popen(["curl", "-sS", "--http1.1", "--parallel",
                              "--parallel-max", str(conns), "-K", cfgp],
                             stdout=out, stderr=subprocess.PIPE)
        timeout = max(120, n / 10)
        t_accepted = None
        at_accept = None    # in the Maildir when the last answer came
        count = last_count = 0
        t_progress = t0
        deadline = t0 + timeout
        while time.monotonic() < deadline:
            answered = t_accepted is None and p.poll() is not None
            if answered:
                t_accepted = time.monotonic() - t0
            count = maildir_count(self.mta.maildir)
            if answered:
                at_accept = count
            if count >= n:
                break
            if count != last_count:
                last_count, t_progress = count, time.monotonic()
            elif t_accepted is not None and \
                    time.monotonic() - t_progress > 20:
                break       # all answered, nothing delivered for 20 s
            time.sleep(0.02)
        t_last = time.monotonic() - t0
        cpu1 = (session_cpu(sid), session_cpu(ngx_sid), self.mta_cpu())
        roles1 = self.f2m_roles_cpu() if system == "form2mail" else None
        for pr in perf:
            self.say("perf report: %s" % pr.stop())
        mem = self.memory(system)
        if p.poll() is None:
            p.wait(timeout=60)
        if t_accepted is None:
            t_accepted = t_last
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        err = p.stderr.read().decode(errors="replace")
        out.seek(0)
        codes = {}
        for line in out.read().split():
            codes[line] = codes.get(line, 0) + 1
        out.close()
        r = {"n": n, "connections": conns, "delivered": count,
             "seconds": t_last, "accept_seconds": t_accepted,
             "rps": n / t_last if count >= n else None,
             "accept_rps": codes.get("200", 0) / t_accepted,
             "http_codes": codes,
             "delivered_at_accept": at_accept,
             # the rate once every post is answered: delivery alone
             "after_accept_rps": (n - at_accept) / (t_last - t_accepted)
             if at_accept is not None and count >= n and
             t_last > t_accepted and n > at_accept else None,
             "cpu_ms_per_msg": 1000 * (cpu1[0] - cpu0[0]) / n,
             "nginx_cpu_ms_per_msg": 1000 * (cpu1[1] - cpu0[1]) / n,
             "mta_cpu_ms_per_msg": 1000 * (cpu1[2] - cpu0[2]) / n,
             "client_cpu_ms_per_msg": 1000 * (ru1.ru_utime + ru1.ru_stime -
                                              ru0.ru_utime - ru0.ru_stime) / n,
             "memory": mem}
        if roles0:
            w = sum(roles1["workers"].get(p, roles0["workers"][p]) -
                    roles0["workers"][p] for p in roles0["workers"])
            m = roles1["master"] - roles0["master"]
            r["cpu_roles_ms_per_msg"] = {
                "workers": 1000 * w / n, "master": 1000 * m / n,
                # the rest: the deliverer, also after a recycle (its
                # time is then in the master's reaped-children count)
                "deliverer": 1000 * ((cpu1[0] - cpu0[0]) - w - m) / n}
        if codes.get("200", 0) != n:
            r["note"] = "HTTP answers %r %s" % (codes, err[-300:])
        time.sleep(0.3)
        r["delivered_final"] = maildir_count(self.mta.maildir)
        r["dkim"] = self.verify_sample(token, n)
        r["failed"] = (count < n or not r["dkim"]["ok"] or
                       codes.get("200", 0) != n)
        if r["failed"]:
            r["rps"] = None
        self.say("e2e %-16s %d posts: accepted in %.2f s, last in Maildir "
                 "after %.2f s = %s msgs/s; %s; DKIM %d/%d ok; CPU %.2f ms/msg "
                 "(+nginx %.2f, MTA %.2f)" % (
                     system, n, t_accepted, t_last,
                     "%.1f" % r["rps"] if r["rps"] else "FAILED",
                     " ".join("%s:%d" % kv for kv in sorted(codes.items())),
                     r["dkim"]["checked"] - r["dkim"]["failed"],
                     r["dkim"]["checked"], r["cpu_ms_per_msg"],
                     r["nginx_cpu_ms_per_msg"], r["mta_cpu_ms_per_msg"]))
        if r["after_accept_rps"]:
            self.say("e2e %-16s %d in the Maildir when the last post was "
                     "answered; then %.1f msgs/s" % (
                         system, r["delivered_at_accept"],
                         r["after_accept_rps"]))
        if r["failed"]:
            self.say("e2e %s FAILED: %s\n%s" % (system, r.get("note", ""),
                                                r["dkim"]["errors"]))
        return r

    def f2m_roles_cpu(self):
        """Own CPU seconds of form2mail's workers (by pid) and master."""
        ino = unix_listen_inode(self.f2m_sock)
        out = {"workers": {}, "master": proc_stat(self.f2m.pid)["own"]}
        for p in session_pids(self.f2m.pid):
            if p != self.f2m.pid and ino and ino in socket_inodes(p):
                st = proc_stat(p)
                if st:
                    out["workers"][p] = st["own"]
        return out

    def memory(self, system):
        """RSS and PSS (KiB) of the system's processes, by role."""
        sid = self.sid(system)
        pids = session_pids(sid) if sid else []
        out = {"total": mem_of(pids)}
        if system.startswith("form2mail") and self.f2m:
            ino = unix_listen_inode(self.f2m_sock)
            kids = [p for p in pids if p != self.f2m.pid]
            workers = [p for p in kids if ino and ino in socket_inodes(p)]
            out["master"] = mem_of([self.f2m.pid])
            out["workers"] = mem_of(workers)
            out["deliverer"] = mem_of([p for p in kids if p not in workers])
            save_smaps(workers, os.path.join(BUILD, "smaps-worker.txt"))
        elif system == "phpmailer":
            master = self.procs["php"].pid
            out["master"] = mem_of([master])
            out["children"] = mem_of([p for p in pids if p != master])
        return out

    def memory_common(self):
        return {"nginx": mem_of(session_pids(self.ngx.proc.pid)),
                "postfix": mem_of(session_pids(self.postfix_sid())),
                "dovecot": mem_of(session_pids(self.mta._dovecot.pid))}


# --------------------------------------------------------------------------
# the whole run


def rotate(xs, r):
    k = r % len(xs)
    return xs[k:] + xs[:k]


def run_rounds(a, b, systems):
    mail = [s for s in systems if s in MAIL_SYSTEMS]
    rounds = []
    for r in range(a.rounds):
        b.say("round %d of %d" % (r + 1, a.rounds))
        rd = {"accepted": {}, "throttled": {}, "e2e": {}, "memory": {}}
        rd["intake"] = b.run_intake("c", a.n)
        if r == 0 and not a.no_py_intake:
            rd["intake_py"] = b.run_intake("py", a.n)
        for c in a.connections:
            for s in rotate(systems, r):
                rd["accepted"].setdefault(s, {})[str(c)] = b.run_wrk(
                    s, c, a.duration)
        if "form2mail" in systems:
            for c in a.connections:
                for s in rotate(["hello", "form2mail-throttled"], r):
                    key = "hello" if s == "hello" else "form2mail"
                    rd["throttled"].setdefault(key, {})[str(c)] = b.run_wrk(
                        s, c, a.duration)
        for s in rotate(mail, r):
            rd["e2e"][s] = b.run_e2e(s, a.n, a.e2e_connections)
            rd["memory"][s] = rd["e2e"][s]["memory"]
        if "hello" in systems:
            rd["memory"]["hello"] = b.memory("hello")
        rd["memory"]["common"] = b.memory_common()
        rounds.append(rd)
    return rounds


def summarize(a, rounds, systems):
    def med(get):
        vals = []
        for rd in rounds:
            try:
                vals.append(get(rd))
            except (KeyError, TypeError):
                pass
        return median(vals)

    s = {"intake": {k: med(lambda rd, k=k: rd["intake"][k])
                    for k in ("rps", "submit_rps", "mta_cpu_ms_per_msg")}}
    if any("intake_py" in rd for rd in rounds):
        s["intake_py"] = {k: med(lambda rd, k=k: rd["intake_py"][k])
                          for k in ("rps", "submit_rps", "client_cpu_s")}
    s["accepted"] = {}
    for sy in systems:
        s["accepted"][sy] = {
            str(c): {k: med(lambda rd, c=c, k=k: rd["accepted"][sy][str(c)][k])
                     for k in ("rps", "p50_ms", "p99_ms")}
            for c in a.connections}
    s["throttled"] = {}
    for sy in ("hello", "form2mail"):
        if all(sy in rd["throttled"] for rd in rounds):
            s["throttled"][sy] = {
                str(c): {k: med(lambda rd, c=c, k=k:
                                rd["throttled"][sy][str(c)][k])
                         for k in ("rps", "p50_ms", "p99_ms")}
                for c in a.connections}
    s["e2e"] = {}
    for sy in systems:
        if sy not in MAIL_SYSTEMS:
            continue
        runs = [rd["e2e"][sy] for rd in rounds if sy in rd["e2e"]]
        failed = any(r["failed"] for r in runs)
        e = {k: med(lambda rd, k=k: rd["e2e"][sy][k])
             for k in ("rps", "accept_rps", "cpu_ms_per_msg",
                       "nginx_cpu_ms_per_msg", "mta_cpu_ms_per_msg",
                       "client_cpu_ms_per_msg")}
        if any("cpu_roles_ms_per_msg" in r for r in runs):
            e["cpu_roles_ms_per_msg"] = {
                k: med(lambda rd, k=k: rd["e2e"][sy]["cpu_roles_ms_per_msg"][k])
                for k in ("workers", "deliverer", "master")}
        e["failed"] = failed
        e["dkim_checked"] = sum(r["dkim"]["checked"] for r in runs)
        e["dkim_failed"] = sum(r["dkim"]["failed"] for r in runs)
        e["dkim_algorithms"] = sorted({x for r in runs
                                       for x in r["dkim"]["algorithms"]})
        if failed:
            e["rps"] = None
        s["e2e"][sy] = e
    s["memory"] = rounds[-1]["memory"]
    return s


def ratios_and_goals(a, s):
    def ratio(x, y):
        return x / y if x and y else None
    e2e = s["e2e"]
    f = (e2e.get("form2mail") or {}).get("rps")
    intake = s["intake"]["rps"]
    rat = {"e2e": {}, "accepted": {}, "throttled": {}}
    for sy, e in e2e.items():
        rat["e2e"]["form2mail/" + sy] = ratio(f, e["rps"])
        rat["e2e"][sy + "/intake"] = ratio(e["rps"], intake)
    for sy, byc in s["accepted"].items():
        for c, v in byc.items():
            rat["accepted"].setdefault(sy, {})[c] = ratio(
                v["rps"], s["accepted"].get("hello", {}).get(c, {}).get("rps"))
    for c in map(str, a.connections):
        fa = s["accepted"].get("form2mail", {}).get(c, {}).get("rps")
        for sy in s["accepted"]:
            if sy not in ("form2mail", "hello"):
                rat["accepted"].setdefault("form2mail/" + sy, {})[c] = ratio(
                    fa, s["accepted"][sy][c]["rps"])
    for c in map(str, a.connections):
        t = s["throttled"]
        if "form2mail" in t and "hello" in t:
            rat["throttled"][c] = ratio(t["form2mail"][c]["rps"],
                                        t["hello"][c]["rps"])
    goals = []

    def goal(name, got, want, ge=True, scale=None):
        met = None if got is None else (got >= want if ge else got <= want)
        goals.append({"goal": name, "want": want, "got": got, "met": met,
                      "ge": ge, "scale": scale})

    def over_intake(sy):
        # what the MTA intake client itself reaches against a peer: the
        # ratio of a sender as fast as one reused connection allows
        e = e2e.get(sy) or {}
        return ratio(intake, e.get("rps"))
    goal("e2e vs PHPMailer", rat["e2e"].get("form2mail/phpmailer"), 8,
         scale=over_intake("phpmailer"))
    goal("e2e vs nodemailer", rat["e2e"].get("form2mail/nodemailer"), 4,
         scale=over_intake("nodemailer"))
    goal("e2e vs MTA intake", rat["e2e"].get("form2mail/intake"), 0.8)
    for c in map(str, a.connections):
        goal("accepted vs ceiling, %s conns" % c,
             rat["accepted"].get("form2mail", {}).get(c), 0.3)
    for c in map(str, a.connections):
        goal("throttled vs ceiling, %s conns" % c, rat["throttled"].get(c), 0.8)
    w = (s["memory"].get("form2mail") or {}).get("workers") or {}
    goal("worker RSS (MiB, largest worker)",
         w.get("rss_max") / 1024 if w.get("rss_max") else None, 8, ge=False)
    return rat, goals


# --------------------------------------------------------------------------
# report: table, JSON, plots, docs/BENCHMARKS.md


def fnum(x, fmt="%.1f"):
    return "—" if x is None else fmt % x


def ftimes(x):
    return "—" if x is None else ("%.2f×" % x if x < 10 else "%.1f×" % x)


def machine_info():
    model = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = None
    try:
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) // 1024
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "mem_mib": mem,
            "kernel": os.uname().release, "fs": fs_info("/tmp")}


def fs_info(path):
    """"ext4 without a journal" and the like, for the workdir's file
    system (fsync and inode allocation costs depend on it)."""
    best, fstype, dev = "", None, None
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                left, _, right = line.partition(" - ")
                mnt = left.split()[4]
                if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) \
                        and len(mnt) >= len(best):
                    best = mnt
                    fstype, dev = right.split()[0], right.split()[1]
    except OSError:
        return None
    if fstype == "ext4":
        try:
            jbd = os.listdir("/proc/fs/jbd2")
        except OSError:
            jbd = []
        name = os.path.basename(dev or "")
        return "ext4 %s a journal" % (
            "with" if any(j.startswith(name + "-") for j in jbd)
            else "without")
    return fstype


def versions():
    v = {}
    v["form2mail"] = version_of([os.path.join(BUILD, "form2mail"), "version"],
                                r"(\d+\.\d\S*)")
    v["git"] = version_of(["git", "-C", REPO, "describe", "--always",
                           "--dirty"])
    v["nginx"] = version_of(["nginx", "-v"], r"nginx/(\S+)")
    v["postfix"] = version_of(["postconf", "-d", "-h", "mail_version"])
    v["dovecot"] = version_of(["dovecot", "--version"], r"^(\S+)")
    v["php"] = version_of([PHP_FPM, "-v"], r"PHP (\S+)")
    try:
        with open("/usr/share/php/libphp-phpmailer/src/PHPMailer.php") as f:
            m = re.search(r"const VERSION = '([^']+)'", f.read())
            v["phpmailer"] = m.group(1) if m else None
    except OSError:
        v["phpmailer"] = None
    v["node"] = version_of(["node", "--version"])
    try:
        with open(os.path.join(NODE_DIR, "node_modules", "nodemailer",
                               "package.json")) as f:
            v["nodemailer"] = json.load(f)["version"]
    except (OSError, ValueError, KeyError):
        v["nodemailer"] = None
    v["libfcgi"] = version_of(["dpkg-query", "-W", "-f", "${Version}",
                               "libfcgi-bin"]) or version_of(
        ["dpkg-query", "-W", "-f", "${Version}", "libfcgi0ldbl"])
    v["curl"] = version_of(["curl", "--version"], r"^curl (\S+)")
    v["openssl"] = version_of(["openssl", "version"], r"OpenSSL (\S+)")
    v["wrk"] = version_of(["wrk", "-v"], r"wrk (\S+)")
    return v


def table(a, s, rat, goals, keyparse=None):
    L = []
    sy_acc = [x for x in ALL_SYSTEMS if x in s["accepted"]]
    L.append("## End to end: %d posts until the last message is in the "
             "Maildir (%d connections)" % (a.n, a.e2e_connections))
    L.append("")
    L.append("| system | messages/s | × MTA intake | form2mail ÷ this | "
             "posts accepted/s | CPU ms/msg (system) | nginx | MTA | "
             "DKIM sample |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    L.append("| MTA intake (bench/intake.c, 1 TLS+AUTH connection) | %s | "
             "1.00× | %s | %s (SMTP) | — | — | %s | ok |" % (
                 fnum(s["intake"]["rps"]),
                 ftimes(rat["e2e"].get("form2mail/intake")),
                 fnum(s["intake"]["submit_rps"]),
                 fnum(s["intake"]["mta_cpu_ms_per_msg"], "%.2f")))
    if "intake_py" in s:
        L.append("| MTA intake (bench/intake.py, smtplib) | %s | %s | — | "
                 "%s (SMTP) | — | — | — | — |" % (
                     fnum(s["intake_py"]["rps"]),
                     ftimes((s["intake_py"]["rps"] or 0) /
                            s["intake"]["rps"] if s["intake"]["rps"] and
                            s["intake_py"]["rps"] else None),
                     fnum(s["intake_py"]["submit_rps"])))
    for sy, e in s["e2e"].items():
        dk = "%d/%d ok (%s)" % (e["dkim_checked"] - e["dkim_failed"],
                                e["dkim_checked"],
                                ", ".join(e["dkim_algorithms"]) or "-")
        L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            LABEL[sy], "FAILED" if e["failed"] else fnum(e["rps"]),
            ftimes(rat["e2e"].get(sy + "/intake")),
            "—" if sy == "form2mail" else ftimes(
                rat["e2e"].get("form2mail/" + sy)),
            fnum(e["accept_rps"]), fnum(e["cpu_ms_per_msg"], "%.2f"),
            fnum(e["nginx_cpu_ms_per_msg"], "%.2f"),
            fnum(e["mta_cpu_ms_per_msg"], "%.2f"), dk))
    roles = (s["e2e"].get("form2mail") or {}).get("cpu_roles_ms_per_msg")
    if roles:
        L.append("")
        L.append("form2mail's CPU per message by process: workers %.2f ms, "
                 "deliverer %.2f ms, master %.2f ms." % (
                     roles["workers"], roles["deliverer"], roles["master"]))
    L.append("")
    L.append("## Accepted posts (wrk, %d s per run)" % a.duration)
    L.append("")
    hdr = "| system |"
    for c in a.connections:
        hdr += " %d conns: posts/s | p50 ms | p99 ms | × ceiling |" % c
    L.append(hdr)
    L.append("| --- |" + " ---: | ---: | ---: | ---: |" * len(a.connections))
    for sy in sy_acc:
        row = "| %s |" % LABEL[sy]
        for c in map(str, a.connections):
            v = s["accepted"][sy][c]
            row += " %s | %s | %s | %s |" % (
                fnum(v["rps"], "%.0f" if (v["rps"] or 0) > 100 else "%.1f"),
                fnum(v["p50_ms"], "%.2f"), fnum(v["p99_ms"], "%.2f"),
                ftimes(rat["accepted"].get(sy, {}).get(c)))
        L.append(row)
    if s["throttled"]:
        L.append("")
        L.append("## Throttled posts (429, per-IP limit spent; wrk, %d s)"
                 % a.duration)
        L.append("")
        L.append(hdr)
        L.append("| --- |" + " ---: | ---: | ---: | ---: |" *
                 len(a.connections))
        for sy in ("hello", "form2mail"):
            if sy not in s["throttled"]:
                continue
            row = "| %s |" % LABEL["hello" if sy == "hello" else
                                  "form2mail-throttled"]
            for c in map(str, a.connections):
                v = s["throttled"][sy][c]
                row += " %s | %s | %s | %s |" % (
                    fnum(v["rps"], "%.0f"), fnum(v["p50_ms"], "%.2f"),
                    fnum(v["p99_ms"], "%.2f"),
                    "1.00×" if sy == "hello" else ftimes(
                        rat["throttled"].get(c)))
            L.append(row)
    L.append("")
    L.append("## Memory after the end-to-end run (KiB)")
    L.append("")
    L.append("RSS counts shared library pages in every process; PSS splits "
             "them among the processes sharing them; USS is the private "
             "pages only (what one more process costs).")
    L.append("")
    L.append("| system | processes | RSS total | PSS total | USS total | "
             "largest RSS | largest USS |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    mem = s["memory"]
    for sy in ALL_SYSTEMS:
        if sy not in mem:
            continue
        m = mem[sy]
        parts = [("", m["total"])]
        for role in ("master", "workers", "deliverer", "children"):
            if role in m:
                parts.append((" — " + role, m[role]))
        for role, v in parts:
            L.append("| %s%s | %d | %d | %d | %d | %d | %d |" % (
                LABEL[sy], role, v["n"], v["rss"], v["pss"], v["uss"],
                v["rss_max"], v["uss_max"]))
    for k in ("nginx", "postfix", "dovecot"):
        v = mem["common"][k]
        L.append("| %s (shared by all) | %d | %d | %d | %d | %d | %d |" % (
            k, v["n"], v["rss"], v["pss"], v["uss"], v["rss_max"],
            v["uss_max"]))
    L.append("")
    if keyparse:
        L.append("## One DKIM signature (bench/keyparse.c, ms of CPU)")
        L.append("")
        L.append("| algorithm | key parsed per message, as libopendkim "
                 "does | of which the parse | key parsed once, kept |")
        L.append("| --- | ---: | ---: | ---: |")
        for alg, v in keyparse.items():
            L.append("| %s | %.3f | %.3f | %.3f |" % (
                alg, v.get("parse_+_sign", 0), v.get("parse_only", 0),
                v.get("sign_key_kept", 0)))
        L.append("")
    L.append("## Goals")
    L.append("")
    L.append("| goal | want | got | | MTA intake ÷ the peer, same run |")
    L.append("| --- | ---: | ---: | --- | ---: |")
    for g in goals:
        want = ("≥ %g×" % g["want"]) if g["ge"] else ("≤ %g" % g["want"])
        got = ("%.2f×" % g["got"] if g["ge"] else "%.2f" % g["got"]) \
            if g["got"] is not None else "—"
        L.append("| %s | %s | %s | %s | %s |" % (
            g["goal"], want, got,
            {True: "met", False: "**missed**", None: "no figure"}[g["met"]],
            ftimes(g.get("scale")) if g.get("scale") else ""))
    L.append("")
    L.append("The last column is the ratio the MTA intake client itself "
             "reaches against that peer: a sender that only pushed "
             "pre-signed messages down one reused connection would score "
             "that, so a goal above it asks for more than Postfix takes "
             "from one connection here.")
    return "\n".join(L)


def plots(a, s, outdir, tmp):
    """docs/bench-e2e.png (bars, MTA intake line) and docs/bench-accepted.png
    (posts/s by connections, log scale)."""
    if not shutil.which("gnuplot"):
        return []
    made = []
    dat = os.path.join(tmp, "e2e.dat")
    with open(dat, "w") as f:
        for sy, e in s["e2e"].items():
            f.write('"%s" %s\n' % (LABEL[sy].replace(" + ", "\\n+ ")
                                   .replace(" pool", "\\npool"),
                                   e["rps"] if e["rps"] else 0))
    intake = s["intake"]["rps"] or 0
    png = os.path.join(outdir, "bench-e2e.png")
    gp = """\
set terminal pngcairo size 900,500 font "DejaVu Sans,10"
set output "{png}"
set title "End to end: {n} form posts until the last message is in the Maildir"
set ylabel "messages/s"
set style fill solid 0.8 border -1
set boxwidth 0.6
set yrange [0:{ymax}]
set grid ytics
set key below
set bmargin 6
set xtics nomirror
plot "{dat}" using 0:2:xtic(1) with boxes lc rgb "#4477aa" title "messages/s", \\
     "" using 0:2:(sprintf("%.0f", $2)) with labels offset 0,0.8 notitle, \\
     {intake} with lines lw 2 lc rgb "#cc3311" title "MTA intake {intake_s}/s (limit)", \\
     {intake80} with lines lw 1 dt 2 lc rgb "#cc3311" title "0.8 × MTA intake (goal)"
""".format(png=png, n=a.n, dat=dat, intake=intake,
           ymax=1.15 * max([intake] + [e["rps"] or 0
                                       for e in s["e2e"].values()] + [1]),
           intake_s="%.0f" % intake, intake80=0.8 * intake)
    gpf = os.path.join(tmp, "e2e.gp")
    h.write_file(gpf, gp)
    if subprocess.run(["gnuplot", gpf]).returncode == 0:
        made.append(png)
    dat = os.path.join(tmp, "accepted.dat")
    sys_ = [x for x in ALL_SYSTEMS if x in s["accepted"]]
    with open(dat, "w") as f:
        f.write("conns " + " ".join('"%s"' % LABEL[x] for x in sys_) + "\n")
        for c in map(str, a.connections):
            f.write(c + " " + " ".join(
                str(s["accepted"][x][c]["rps"] or 0) for x in sys_) + "\n")
    png = os.path.join(outdir, "bench-accepted.png")
    gp = """\
set terminal pngcairo size 900,500 font "DejaVu Sans,10"
set output "{png}"
set title "Accepted form posts per second (wrk, nginx HTTPS, 1 KB form)"
set ylabel "posts/s (log scale)"
set xlabel "concurrent connections"
set logscale y
set yrange [1:*]
set grid ytics
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.8 border -1
set key outside right top
plot for [i=2:{last}] "{dat}" using i:xtic(1) title columnheader(i)
""".format(png=png, dat=dat, last=len(sys_) + 1)
    gpf = os.path.join(tmp, "accepted.gp")
    h.write_file(gpf, gp)
    if subprocess.run(["gnuplot", gpf]).returncode == 0:
        made.append(png)
    return made


def write_docs(a, res, tbl, argv):
    m, v = res["machine"], res["versions"]
    quick = a.quick
    doc = []
    doc.append("# Benchmarks\n")
    doc.append("Generated by `scripts/bench` on %s: %s, %d round%s."
               % (res["finished"], "a **quick** run (short, noisy: it checks "
                  "the harness; these are not the figures to quote)" if quick
                  else "a full run", a.rounds, "" if a.rounds == 1 else "s"))
    doc.append("Load average before / after: %s / %s (other work on the "
               "machine makes every figure noisier; rounds are interleaved "
               "so that drift hits all systems alike).\n"
               % (res["loadavg_before"], res["loadavg_after"]))
    doc.append("## Reproduce\n")
    doc.append("```\nscripts/bench %s\n```\n" % " ".join(argv) if argv
               else "```\nscripts/bench\n```\n")
    doc.append("As root on Debian 12. It installs what is missing (scripts/deps, "
               "then php-fpm, php-cli, libphp-phpmailer, gnuplot-nox), builds "
               "form2mail in `build-bench` (RelWithDebInfo, no sanitizers), "
               "installs nodemailer at the version pinned in "
               "`bench/nodemailer/package-lock.json` into `build-bench/node`, "
               "starts everything on loopback, runs, stops everything, and "
               "writes `build-bench/results.json`, this page and "
               "`docs/bench-*.png`. `scripts/bench --quick` checks the "
               "harness in a few minutes; `--help` lists the options.\n")
    doc.append("## Machine and versions\n")
    doc.append("- %d cores, %s, %s MiB RAM, Linux %s; the workdir (spool, "
               "Postfix queue, Maildir) on %s, fsync reaching the disk"
               % (m["nproc"], m["cpu"], m["mem_mib"], m["kernel"],
                  m.get("fs") or fs_info("/tmp")))
    doc.append("- " + ", ".join("%s %s" % (k, v[k]) for k in (
        "form2mail", "git", "nginx", "postfix", "dovecot", "php", "phpmailer",
        "node", "nodemailer", "curl", "openssl", "wrk") if v.get(k)) + "\n")
    doc.append("## Setup\n")
    doc.append("""\
Everything behind one nginx (`worker_processes auto`, HTTPS on loopback, no
access log) and one MTA: Postfix with Dovecot SASL, SMTPS (465, implicit
TLS) with AUTH, peer verified against a test CA, every recipient delivered
into one Maildir. Every post is the same 1 KB urlencoded form (name, email,
a 10-line message), each with its own token in the name (so form2mail's
duplicate suppression never answers from its table, and each run finds its
own messages by Subject). One recipient per message.

- **hello** — `bench/hello.c`, the bare libfcgi responder (%(workers)d
  processes): reads the body, answers 200. The ceiling for any FastCGI
  application behind this nginx.
- **form2mail** — %(workers)d workers and `smtp.connections` deliverers
  (2, the default: one SMTP connection each), the shipped defaults
  otherwise (RSA and Ed25519 DKIM signatures with keys parsed once,
  duplicate window on, a fsync of each spool file and a group-committed
  fsync of `queue/` per post). Throttle rates far above anything measured for the
  accepted and end-to-end runs; `per_ip` 1/1h (spent before the run) for
  the throttled run. Restarted with an empty spool before each run: a wrk
  run leaves a backlog that would otherwise be delivered during the next
  system's run.
- **PHP-FPM + PHPMailer** — `bench/phpmailer/form.php`, PHP-FPM
  `pm = static` with %(php)d children (more children than cores: each
  spends most of a post waiting on the TLS handshake and Postfix),
  Debian's php.ini (opcache on). Validates the fields, builds the same
  text+HTML mail, DKIM-signs it (PHPMailer's DKIM_*: rsa-sha256 with the
  same RSA key as form2mail) and sends it synchronously over SMTPS + AUTH:
  a new connection and login per post, as such scripts do.
- **Node.js + nodemailer** — `bench/nodemailer/server.js`, one Node process
  behind nginx `proxy_pass` (upstream keepalive), the same mail,
  nodemailer's DKIM (rsa-sha256, same key); `createTransport` per request
  (a connection and login per post), as typical handlers do. The
  **pool:true** variant shares one pooled transport (nodemailer's default
  5 connections).
- **MTA intake** — `bench/intake.c` pushes a message form2mail signed (taken
  from the Maildir, Postfix's headers removed), N times, over one reused
  libcurl TLS+AUTH connection, the way form2mail's deliverer talks to the
  MTA; timed until the last copy is in the Maildir. This is what Postfix on
  this machine can take: the limit of every end-to-end figure.
  `bench/intake.py` (smtplib) shows whether a Python client would have been
  the bottleneck.

Accepted and throttled runs: `wrk -t 2 -c C -d %(dur)ds --latency` with a
Lua script giving each post its own token; figures are medians over rounds.
End to end: `curl --parallel --parallel-max %(e2ec)d` posting %(n)d forms
(each answer must be 200), timed from the first post until the %(n)d-th
message is in `Maildir/new`; then at least %(sample)d random messages are
checked with dkimpy (every signature must verify, an rsa-sha256 one among
them, and the message must be one of this run's), else the system is
reported FAILED and gets no figure. Before each run Postfix's queue is
empty and the Maildir emptied. CPU: utime+stime (with reaped children) of
every process of the system's session before and after the end-to-end run,
divided by N; nginx and the MTA (Postfix + Dovecot) separately. Memory:
`/proc/PID/smaps_rollup` right after the end-to-end run.
""" % {"workers": a.workers, "php": a.php_children, "dur": a.duration,
       "e2ec": a.e2e_connections, "n": a.n, "sample": a.sample})
    doc.append(tbl + "\n")
    doc.append("## Plots\n")
    doc.append("![end to end](bench-e2e.png)\n")
    doc.append("![accepted posts](bench-accepted.png)\n")
    notes = os.path.join(REPO, "bench", "NOTES.md")
    if os.path.exists(notes):
        with open(notes) as f:
            doc.append(f.read())
    h.write_file(os.path.join(REPO, "docs", "BENCHMARKS.md"),
                 "\n".join(doc).rstrip() + "\n")


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return None


def main():
    ap = argparse.ArgumentParser(
        prog="scripts/bench", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="check the harness: --duration 3 --n 300 --rounds 1")
    ap.add_argument("--n", type=int, help="end-to-end posts (default 5000)")
    ap.add_argument("--duration", type=int, help="seconds per wrk run "
                    "(default 10)")
    ap.add_argument("--rounds", type=int, help="interleaved rounds "
                    "(default 3)")
    ap.add_argument("--connections", default="8,32,128",
                    help="wrk connection counts (default 8,32,128)")
    ap.add_argument("--e2e-connections", type=int, default=32)
    ap.add_argument("--workers", type=int, default=8,
                    help="form2mail workers and hello processes (default 8)")
    ap.add_argument("--php-children", type=int, default=8)
    ap.add_argument("--sample", type=int, default=20,
                    help="DKIM-verified messages per end-to-end run")
    ap.add_argument("--systems", default=",".join(ALL_SYSTEMS),
                    help="subset of " + ",".join(ALL_SYSTEMS))
    ap.add_argument("--f2m-json", default="{}",
                    help="JSON merged into form2mail's config, e.g. "
                    "'{\"smtp\":{\"connections\":4}}'")
    ap.add_argument("--no-py-intake", action="store_true",
                    help="skip the smtplib intake run")
    ap.add_argument("--perf", action="store_true",
                    help="perf record form2mail's processes during its "
                    "wrk runs at 32 connections and its end-to-end run; "
                    "reports in build-bench/perf-*.txt")
    ap.add_argument("--no-docs", action="store_true",
                    help="do not write docs/BENCHMARKS.md and docs/*.png")
    ap.add_argument("--out", default=os.path.join(BUILD, "results.json"))
    ap.add_argument("--report", metavar="JSON",
                    help="run nothing: print the table and write the docs "
                    "again from an earlier results.json (e.g. after editing "
                    "bench/NOTES.md)")
    argv = sys.argv[1:]
    a = ap.parse_args()
    if a.report:
        with open(a.report) as f:
            res = json.load(f)
        for k, v in res["options"].items():
            setattr(a, k, v)
        a.no_docs = "--no-docs" in argv
        return report(a, res, res["argv"])
    q = a.quick
    a.n = a.n or (300 if q else 5000)
    a.duration = a.duration or (3 if q else 10)
    a.rounds = a.rounds or (1 if q else 3)
    a.connections = [int(x) for x in a.connections.split(",")]
    systems = [x for x in a.systems.split(",") if x]
    for x in systems:
        if x not in ALL_SYSTEMS:
            ap.error("unknown system %r" % x)
    if os.geteuid() != 0:
        ap.error("must run as root (Postfix, Dovecot, nginx)")

    def on_term(signum, frame):
        raise KeyboardInterrupt
    # SIGINT too: a shell starts background jobs with SIGINT ignored
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    res = {"started": time.strftime("%Y-%m-%d %H:%M:%S %z"),
           "loadavg_before": loadavg(), "argv": argv,
           "options": {k: v for k, v in vars(a).items()}}
    res["machine"] = machine_info()
    res["versions"] = versions()
    with h.Workdir(prefix="f2m-bench-") as wd:
        b = Bench(a, wd)
        try:
            b.setup()
            res["intake_message_bytes"] = b.intake_size
            res["dkim_sign_ms"] = b.keyparse
            rounds = run_rounds(a, b, systems)
        finally:
            b.stop()
    res["rounds"] = rounds
    res["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %z")
    res["loadavg_after"] = loadavg()
    s = summarize(a, rounds, systems)
    rat, goals = ratios_and_goals(a, s)
    res["summary"], res["ratios"], res["goals"] = s, rat, goals
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    h.write_file(a.out, json.dumps(res, indent=1) + "\n")
    print("results: %s" % a.out)
    return report(a, res, argv)


def report(a, res, argv):
    s, rat, goals = res["summary"], res["ratios"], res["goals"]
    tbl = table(a, s, rat, goals, res.get("dkim_sign_ms"))
    print(tbl)
    if not a.no_docs:
        os.makedirs(os.path.join(REPO, "docs"), exist_ok=True)
        tmp = os.path.join(BUILD, "plot")
        os.makedirs(tmp, exist_ok=True)
        made = plots(a, s, os.path.join(REPO, "docs"), tmp)
        write_docs(a, res, tbl, argv)
        print("wrote docs/BENCHMARKS.md%s" % "".join(
            ", " + os.path.relpath(p, REPO) for p in made))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("bench: interrupted; everything stopped", file=sys.stderr)
        sys.exit(130)
