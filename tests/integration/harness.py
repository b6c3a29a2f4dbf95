"""Integration-test harness for form2mail: real Postfix, Dovecot, nginx.

Run with /usr/bin/python3 (Debian's; it has python3-dkim and python3-dnspython).
Must run as root (Postfix and Dovecot are started with their own config dirs).

Everything lives in one Workdir under /tmp (mode 0755 so that `nobody` can
traverse it), removed at the end unless the environment has KEEP=1.

    with Workdir() as wd:
        pki = make_pki(wd.sub("pki"))
        keys = make_dkim_keys(wd.sub("dkim"), "example.test")
        mta = Mta(wd.sub("mta"), pki)
        mta.start()
        ...
        mta.stop()

Every wait is capped (default 10 s) and raises HarnessError with the
relevant log tail on timeout. Every server is stopped by its own pid.
"""

import base64
import email.parser
import email.policy
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

POSTFIX = "/usr/sbin/postfix"
POSTCONF = "/usr/sbin/postconf"
POSTFIX_MASTER = "/usr/lib/postfix/sbin/master"
DOVECOT = "/usr/sbin/dovecot"
DOVEADM = "/usr/bin/doveadm"
NGINX = "/usr/sbin/nginx"
OPENSSL = "/usr/bin/openssl"

DEFAULT_TIMEOUT = 10.0


class HarnessError(RuntimeError):
    pass


# --------------------------------------------------------------------------
# small helpers

def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port, host="127.0.0.1"):
    """True when `port` can be bound on `host` (nobody listens there)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def tcp_accepts(port, host="127.0.0.1", timeout=0.5):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def tcp_listening(port, host="127.0.0.1"):
    """True when a socket LISTENs on host:port (IPv4), read from
    /proc/net/tcp: no probe connection, so no "lost connection after
    CONNECT" noise in the servers' logs."""
    want_port = "%04X" % port
    a = socket.inet_aton(host)
    want_addrs = {"%08X" % int.from_bytes(a, "little"), "00000000"}
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                parts = line.split()
                addr, prt = parts[1].split(":")
                if prt == want_port and parts[3] == "0A" and addr in want_addrs:
                    return True
    except OSError:
        return tcp_accepts(port, host)
    return False


def unix_accepts(path, timeout=0.5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def wait_until(pred, timeout=DEFAULT_TIMEOUT, interval=0.02, what="condition",
               diag=None):
    """Poll pred() until true, at most `timeout` seconds; raise otherwise.

    `diag` is a callable giving extra text (a log tail) for the error."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            extra = ""
            if diag is not None:
                try:
                    extra = "\n" + diag()
                except Exception as e:  # diagnostics must not hide the error
                    extra = "\n(diagnostics failed: %r)" % e
            raise HarnessError("timed out after %.1fs waiting for %s%s"
                               % (timeout, what, extra))
        time.sleep(interval)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours still answers kill(0): look at its state
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except OSError:
        return False


def children_of(pid):
    """Pids of the direct children of `pid` (from /proc)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(rest[1]) == pid and rest[0] != "Z":
            out.append(int(d))
    return sorted(out)


def _group_alive(pgid):
    """True while a live (non-zombie) process is in process group pgid."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(rest[2]) == pgid and rest[0] != "Z":
            return True
    return False


def stop_pid(pid, sig=signal.SIGTERM, timeout=DEFAULT_TIMEOUT, popen=None,
             group=False):
    """Send `sig` to pid, wait (capped), SIGKILL on timeout. True if it
    stopped by itself. With group=True the process group `pid` is
    signalled (the process must lead its own session/group)."""
    def send(s):
        try:
            if group:
                os.killpg(pid, s)
            else:
                os.kill(pid, s)
        except ProcessLookupError:
            pass

    def gone():
        if popen is not None:
            return popen.poll() is not None
        return not pid_alive(pid)

    if gone():
        return True
    send(sig)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if gone():
            return True
        time.sleep(0.02)
    send(signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not gone():
        time.sleep(0.02)
    return False


def tail(path, n=40):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError as e:
        return "(%s: %s)" % (path, e.strerror)
    return "--- %s (last %d lines) ---\n%s" % (path, n, "\n".join(lines[-n:]))


def run(cmd, check=True, timeout=60, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise HarnessError("command failed (exit %d): %s\n%s%s" % (
            p.returncode, " ".join(map(str, cmd)),
            p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")))
    return p


def write_file(path, data, mode=0o644):
    """Write bytes/str to path (created with `mode`, then chmod'ed)."""
    if isinstance(data, str):
        data = data.encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    return path


def write_secret(path, data):
    """A secret file: mode 0600, owned by the caller (root in tests)."""
    return write_file(path, data, 0o600)


def makedirs(path, mode=0o755):
    os.makedirs(path, exist_ok=True)
    os.chmod(path, mode)
    return path


# --------------------------------------------------------------------------
# Workdir

class Workdir:
    """A temporary directory under /tmp, mode 0755.

    Removed by cleanup() (or leaving the `with`) unless KEEP=1 is set in the
    environment (or keep=True); then its path is printed to stderr."""

    def __init__(self, prefix="f2m-it-", keep=None, path=None):
        if path:
            os.makedirs(path, exist_ok=True)
            self.path = os.path.abspath(path)
        else:
            self.path = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
        os.chmod(self.path, 0o755)
        self.keep = (os.environ.get("KEEP") == "1") if keep is None else keep

    def sub(self, *names, mode=0o755):
        """A directory inside the workdir (created, mode 0755)."""
        p = os.path.join(self.path, *names)
        os.makedirs(p, exist_ok=True)
        os.chmod(p, mode)
        return p

    def file(self, *names):
        return os.path.join(self.path, *names)

    def cleanup(self):
        if self.keep:
            print("harness: kept workdir %s" % self.path, file=sys.stderr)
            return
        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()

    def __str__(self):
        return self.path

    def __fspath__(self):
        return self.path


# --------------------------------------------------------------------------
# PKI

class Pki:
    """Paths of the test PKI. Unpacks as (ca, cert, key, wrong_cert, wrong_key)."""

    def __init__(self, ca, cert, key, wrong_cert, wrong_key, ca_key):
        self.ca, self.cert, self.key = ca, cert, key
        self.wrong_cert, self.wrong_key = wrong_cert, wrong_key
        self.ca_key = ca_key

    def __iter__(self):
        return iter((self.ca, self.cert, self.key, self.wrong_cert, self.wrong_key))

    def __repr__(self):
        return "Pki(ca=%r, cert=%r, key=%r, wrong_cert=%r, wrong_key=%r)" % tuple(self)

    def client_context(self):
        """An ssl.SSLContext trusting only the test CA (hostname checked)."""
        ctx = ssl.create_default_context(cafile=self.ca)
        return ctx


def make_pki(directory, reuse=False):
    """Test CA; server cert for DNS:localhost + IP:127.0.0.1; a second cert by
    the same CA for `wrong.invalid` only. EC P-256 keys (fast to make).
    Keys are mode 0600. Returns a Pki (unpacks to 5 paths). With
    reuse=True, files already in `directory` are kept (demo restarts)."""
    d = makedirs(directory)
    p = lambda n: os.path.join(d, n)
    ca, ca_key = p("ca.pem"), p("ca.key")
    names = ["ca.pem", "ca.key", "server.pem", "server.key", "wrong.pem", "wrong.key"]
    if reuse and all(os.path.exists(p(n)) for n in names):
        return Pki(ca, p("server.pem"), p("server.key"), p("wrong.pem"),
                   p("wrong.key"), ca_key)
    ecparam = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    run([OPENSSL, "req", "-x509", "-nodes", *ecparam, "-keyout", ca_key,
         "-out", ca, "-days", "3650", "-subj", "/CN=form2mail test CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign",
         "-addext", "subjectKeyIdentifier=hash"])

    def leaf(name, cn, san):
        key, csr, crt, ext = p(name + ".key"), p(name + ".csr"), p(name + ".pem"), p(name + ".ext")
        write_file(ext, "basicConstraints=critical,CA:FALSE\n"
                        "keyUsage=critical,digitalSignature,keyEncipherment\n"
                        "extendedKeyUsage=serverAuth\n"
                        "subjectKeyIdentifier=hash\n"
                        "authorityKeyIdentifier=keyid\n"
                        "subjectAltName=%s\n" % san)
        run([OPENSSL, "req", "-new", "-nodes", *ecparam, "-keyout", key,
             "-out", csr, "-subj", "/CN=" + cn])
        run([OPENSSL, "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
             "-set_serial", str(int.from_bytes(os.urandom(8), "big")),
             "-out", crt, "-days", "3650", "-extfile", ext])
        os.chmod(key, 0o600)
        os.unlink(csr)
        return crt, key

    cert, key = leaf("server", "localhost", "DNS:localhost,IP:127.0.0.1")
    wrong_cert, wrong_key = leaf("wrong", "wrong.invalid", "DNS:wrong.invalid")
    os.chmod(ca_key, 0o600)
    return Pki(ca, cert, key, wrong_cert, wrong_key, ca_key)


# --------------------------------------------------------------------------
# DKIM

class DkimKeys:
    """DKIM keys of one domain. Attributes: domain, rsa_key, ed_key (paths,
    PKCS#8 PEM, mode 0600), rsa_selector, ed_selector, txt (dict
    {b"sel._domainkey.domain.": b"v=DKIM1; k=...; p=..."}), and
    config() -> the form2mail "dkim" list."""

    def __init__(self, domain, rsa_selector, rsa_key, ed_selector, ed_key, txt):
        self.domain = domain
        self.rsa_selector, self.rsa_key = rsa_selector, rsa_key
        self.ed_selector, self.ed_key = ed_selector, ed_key
        self.txt = txt

    def config(self):
        return [
            {"domain": self.domain, "selector": self.rsa_selector,
             "algorithm": "rsa-sha256", "key_file": self.rsa_key},
            {"domain": self.domain, "selector": self.ed_selector,
             "algorithm": "ed25519-sha256", "key_file": self.ed_key},
        ]

    def zone_lines(self):
        """The TXT records as zone-file lines (for printing)."""
        out = []
        for name, val in self.txt.items():
            v = val.decode()
            chunks = [v[i:i + 250] for i in range(0, len(v), 250)]
            out.append("%s IN TXT %s" % (name.decode(),
                                         " ".join('"%s"' % c for c in chunks)))
        return out


def make_dkim_keys(directory, domain, rsa_selector="f2mr", ed_selector="f2me",
                   reuse=False):
    """RSA-2048 and Ed25519 private keys (PKCS#8 PEM, 0600) and their TXT
    records. Returns DkimKeys (see .txt, .rsa_key, .ed_key, .config()).
    With reuse=True, keys already in `directory` are kept."""
    d = makedirs(directory)
    rsa_key = os.path.join(d, "%s.pem" % rsa_selector)
    ed_key = os.path.join(d, "%s.pem" % ed_selector)
    old = os.umask(0o077)
    try:
        if not (reuse and os.path.exists(rsa_key)):
            run([OPENSSL, "genpkey", "-algorithm", "RSA", "-pkeyopt",
                 "rsa_keygen_bits:2048", "-out", rsa_key])
        if not (reuse and os.path.exists(ed_key)):
            run([OPENSSL, "genpkey", "-algorithm", "ED25519", "-out", ed_key])
    finally:
        os.umask(old)
    os.chmod(rsa_key, 0o600)
    os.chmod(ed_key, 0o600)
    rsa_der = run([OPENSSL, "pkey", "-in", rsa_key, "-pubout", "-outform", "DER"]).stdout
    ed_der = run([OPENSSL, "pkey", "-in", ed_key, "-pubout", "-outform", "DER"]).stdout
    if len(ed_der) != 44:
        raise HarnessError("unexpected Ed25519 SPKI length %d" % len(ed_der))
    dom = domain.rstrip(".")
    txt = {
        ("%s._domainkey.%s." % (rsa_selector, dom)).encode():
            b"v=DKIM1; k=rsa; p=" + base64.b64encode(rsa_der),
        ("%s._domainkey.%s." % (ed_selector, dom)).encode():
            b"v=DKIM1; k=ed25519; p=" + base64.b64encode(ed_der[-32:]),
    }
    return DkimKeys(dom, rsa_selector, rsa_key, ed_selector, ed_key, txt)


def _txt_lookup(txt):
    norm = {}
    for k, v in txt.items():
        k = k.decode() if isinstance(k, bytes) else k
        v = v.encode() if isinstance(v, str) else v
        norm[k.lower().rstrip(".")] = v

    def dnsfunc(name, timeout=5):
        n = name.decode() if isinstance(name, bytes) else name
        return norm.get(n.lower().rstrip("."))
    return dnsfunc


def verify_dkim(raw, txt, errors=None):
    """Verify every DKIM-Signature of `raw` (bytes) against the TXT dict.

    Returns [(index, d, s, a, ok)], in header order (index 0 = topmost).
    Pass a list as `errors` to collect dkimpy's reasons for failures."""
    import dkim
    import logging

    if isinstance(raw, str):
        raw = raw.encode()
    headers, _ = dkim.rfc822_parse(raw)
    sigs = [v for (k, v) in headers if k.lower() == b"dkim-signature"]
    dnsfunc = _txt_lookup(txt)
    out = []
    for i, value in enumerate(sigs):
        try:
            tags = dkim.parse_tag_value(re.sub(rb"\s+", b"", value))
        except Exception:
            tags = {}
        log = logging.getLogger("harness.dkim.%d" % i)
        log.propagate = False
        rec = []

        class _H(logging.Handler):
            def emit(self, r):
                rec.append(r.getMessage())
        h = _H()
        log.handlers[:] = [h]
        try:
            ok = bool(dkim.DKIM(raw, logger=log).verify(idx=i, dnsfunc=dnsfunc))
        except Exception as e:
            ok = False
            rec.append("%s: %s" % (type(e).__name__, e))
        if not ok and errors is not None:
            errors.append("signature %d: %s" % (i, "; ".join(rec) or "failed"))
        dec = lambda b: b.decode("ascii", "replace") if b is not None else None
        out.append((i, dec(tags.get(b"d")), dec(tags.get(b"s")),
                    dec(tags.get(b"a")), ok))
    return out


# --------------------------------------------------------------------------
# Postfix + Dovecot

_MASTER_CF_BASE = """\
# service type  private unpriv  chroot  wakeup  maxproc command + args
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

SINK = "sink@sink.test"


class Mta:
    """Postfix (own config dir: `master -c DIR -w`, what `postfix -c DIR start`
    runs after its slow checks) + Dovecot SASL (own config, `dovecot -F`).

    Listeners on 127.0.0.1 (ports picked at construction, kept on restart):
      smtps_port       implicit TLS (wrappermode), AUTH
      submission_port  STARTTLS required before MAIL, AUTH only over TLS
      nostarttls_port  no STARTTLS offered at all; AUTH offered in clear text
                       (so a client that wrongly falls back to plaintext
                       would succeed, and a test can see it)
      wrongcert_port   implicit TLS presenting the cert for wrong.invalid
    Relay only for SASL-authenticated clients. Every recipient is rewritten
    (virtual_alias_maps static catch-all) to one virtual mailbox, one Maildir
    at .maildir; each envelope recipient gets its own copy with
    X-Original-To: <original RCPT> and Delivered-To: sink@sink.test.

    Fault injection (before start(), or set_faults() + reload()):
      rcpt_faults  {address: "451 4.3.0 try later"} answered at RCPT TO
      data_faults  {envelope sender: "452 4.3.1 full"} answered after DATA
    """

    def __init__(self, directory, pki, username="forms@example.test",
                 password="s3cret-pw", rcpt_faults=None, data_faults=None,
                 ports=None):
        self.dir = makedirs(os.path.abspath(str(directory)))
        self.pki = pki
        self.username = username
        self.password = password
        self.rcpt_faults = dict(rcpt_faults or {})
        self.data_faults = dict(data_faults or {})
        p = ports or {}
        self._fixed_ports = set(k for k, v in p.items() if v)
        self._started_once = False
        self.smtps_port = p.get("smtps") or free_port()
        self.submission_port = p.get("submission") or free_port()
        self.nostarttls_port = p.get("nostarttls") or free_port()
        self.wrongcert_port = p.get("wrongcert") or free_port()
        self.conf_dir = os.path.join(self.dir, "postfix")
        self.queue_dir = os.path.join(self.dir, "queue")
        self.data_dir = os.path.join(self.dir, "data")
        self.mail_base = os.path.join(self.dir, "mail")
        self.maildir = os.path.join(self.mail_base, "Maildir")
        self.maillog = os.path.join(self.dir, "maillog")
        self.dovecot_dir = os.path.join(self.dir, "dovecot")
        self.dovecot_conf = os.path.join(self.dovecot_dir, "dovecot.conf")
        self.dovecot_log = os.path.join(self.dovecot_dir, "dovecot.log")
        self.auth_socket = os.path.join(self.dovecot_dir, "auth-client")
        self.passwd_file = os.path.join(self.dovecot_dir, "passwd")
        self._dovecot = None
        self._dovecot_out = None
        self.master_pid = None
        self.running = False

    # ---- public helpers

    def ports(self):
        return {"smtps": self.smtps_port, "submission": self.submission_port,
                "nostarttls": self.nostarttls_port, "wrongcert": self.wrongcert_port}

    def url(self, kind="smtps", host="localhost"):
        """smtps://localhost:P, smtp://localhost:P (submission/nostarttls/wrongcert=smtps)."""
        port = self.ports()[kind]
        scheme = "smtps" if kind in ("smtps", "wrongcert") else "smtp"
        return "%s://%s:%d" % (scheme, host, port)

    def set_password(self, password):
        """Change the SMTP AUTH password (takes effect at once: Dovecot
        re-reads a changed passwd-file)."""
        self.password = password
        self._write_passwd()

    def write_password_file(self, path, password=None):
        """A form2mail password_file (0600) holding the password + newline."""
        return write_secret(path, (self.password if password is None else password) + "\n")

    def set_faults(self, rcpt=None, data=None):
        """Replace the fault maps; call reload() (or start()) to apply."""
        if rcpt is not None:
            self.rcpt_faults = dict(rcpt)
        if data is not None:
            self.data_faults = dict(data)
        self._write_fault_maps()

    def reload(self, settle=0.3):
        """What `postfix reload` does: SIGHUP to the master, which re-reads
        main.cf/master.cf and replaces its idle processes. Fault-map
        changes need this (smtpd reads texthash maps once)."""
        if not self.master_pid:
            raise HarnessError("Mta not running")
        self._backdate()
        os.kill(self.master_pid, signal.SIGHUP)
        time.sleep(settle)

    # ---- config

    def _write_passwd(self):
        for c in self.username + self.password:
            if c in ":\n\r":
                raise HarnessError("username/password may not hold ':' or newlines")
        tmp = self.passwd_file + ".tmp"
        write_file(tmp, "%s:{PLAIN}%s::::::\n" % (self.username, self.password), 0o640)
        try:
            import grp
            os.chown(tmp, 0, grp.getgrnam("dovecot").gr_gid)
        except KeyError:
            os.chmod(tmp, 0o644)
        os.rename(tmp, self.passwd_file)

    def _write_fault_maps(self):
        def fmt(d):
            return "".join("%s %s\n" % (k, v) for k, v in d.items())
        write_file(os.path.join(self.conf_dir, "rcpt_faults"), fmt(self.rcpt_faults))
        write_file(os.path.join(self.conf_dir, "data_faults"), fmt(self.data_faults))
        self._backdate()

    def _backdate(self):
        """Postfix re-reads a main.cf/map modified within the last second or
        so, sleeping 0.3 s each time (dict_load_file): ~1.5 s per start.
        Set the mtimes 10 s into the past."""
        t = time.time() - 10
        for n in ("main.cf", "master.cf", "rcpt_faults", "data_faults"):
            p = os.path.join(self.conf_dir, n)
            if os.path.exists(p):
                os.utime(p, (t, t))

    def _make_queue_dirs(self):
        """The queue layout of /etc/postfix/postfix-files (what
        `post-install create-missing` makes)."""
        import grp
        import pwd
        uid = pwd.getpwnam("postfix").pw_uid
        gid = grp.getgrnam("postdrop").gr_gid
        os.makedirs(self.queue_dir, exist_ok=True)
        os.chown(self.queue_dir, 0, 0)
        os.chmod(self.queue_dir, 0o755)
        for name in ("active", "bounce", "corrupt", "defer", "deferred", "flush",
                     "hold", "incoming", "private", "saved", "trace",
                     "maildrop", "public", "pid"):
            d = os.path.join(self.queue_dir, name)
            os.makedirs(d, exist_ok=True)
            if name == "pid":
                os.chown(d, 0, 0)
                os.chmod(d, 0o755)
            elif name == "maildrop":
                os.chown(d, uid, gid)
                os.chmod(d, 0o730)
            elif name == "public":
                os.chown(d, uid, gid)
                os.chmod(d, 0o710)
            else:
                os.chown(d, uid, 0)
                os.chmod(d, 0o700)

    def _configure(self):
        makedirs(self.conf_dir)
        makedirs(self.queue_dir)
        os.makedirs(self.data_dir, exist_ok=True)
        pf = subprocess.run(["id", "-u", "postfix"], stdout=subprocess.PIPE).stdout.strip()
        if pf:
            os.chown(self.data_dir, int(pf), -1)
        os.chmod(self.data_dir, 0o700)
        os.makedirs(self.mail_base, exist_ok=True)
        os.chown(self.mail_base, 65534, 65534)
        os.chmod(self.mail_base, 0o755)
        makedirs(self.dovecot_dir)
        self._write_passwd()
        self._write_fault_maps()
        c = self.conf_dir
        main_cf = f"""\
compatibility_level = 3.6
queue_directory = {self.queue_dir}
data_directory = {self.data_dir}
mail_owner = postfix
setgid_group = postdrop
myhostname = mta.test
mydomain = mta.test
myorigin = $myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
append_dot_mydomain = no
biff = no
alias_maps =
alias_database =
local_recipient_maps =
smtputf8_enable = no
enable_long_queue_ids = yes
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
maillog_file = {self.maillog}
maillog_file_prefixes = {self.dir}
delay_warning_time = 0
# catch-all: every recipient to one virtual mailbox, one copy per
# original recipient (X-Original-To). virtual_alias_domains must be empty.
virtual_alias_domains =
virtual_alias_maps = static:{SINK}
virtual_mailbox_domains = sink.test
virtual_mailbox_base = {self.mail_base}
virtual_mailbox_maps = static:Maildir/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_transport = virtual
virtual_destination_recipient_limit = 1
# TLS + SASL
smtpd_tls_cert_file = {self.pki.cert}
smtpd_tls_key_file = {self.pki.key}
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = {self.auth_socket}
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
broken_sasl_auth_clients = no
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = check_recipient_access texthash:{c}/rcpt_faults
smtpd_end_of_data_restrictions = check_sender_access texthash:{c}/data_faults
smtpd_client_connection_rate_limit = 0
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
anvil_rate_time_unit = 60s
"""
        h = "127.0.0.1"
        master_cf = _MASTER_CF_BASE + f"""\
{h}:{self.smtps_port} inet n - n - - smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
{h}:{self.submission_port} inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
{h}:{self.nostarttls_port} inet n - n - - smtpd
  -o syslog_name=postfix/nostarttls
  -o smtpd_tls_security_level=none
  -o smtpd_tls_auth_only=no
{h}:{self.wrongcert_port} inet n - n - - smtpd
  -o syslog_name=postfix/wrongcert
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_cert_file={self.pki.wrong_cert}
  -o smtpd_tls_key_file={self.pki.wrong_key}
"""
        write_file(os.path.join(c, "main.cf"), main_cf)
        write_file(os.path.join(c, "master.cf"), master_cf)
        self._backdate()
        dd = self.dovecot_dir
        write_file(self.dovecot_conf, f"""\
protocols =
base_dir = {dd}/run
state_dir = {dd}/state
log_path = {self.dovecot_log}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
auth_verbose = yes
auth_cache_size = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.passwd_file}
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home=/nonexistent
}}
service auth {{
  # Postfix's smtpd (mail_owner) only, not every local user
  unix_listener {self.auth_socket} {{
    mode = 0660
    user = postfix
    group = postfix
  }}
}}
# Dovecot delays repeated failures from one IP (anvil "auth penalty": 2 s,
# 4 s, ... on top of auth_failure_delay). The auth process cannot reach the
# penalty socket with mode 0, so it turns the penalty off.
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
""")

    # ---- start / stop

    def _diag(self):
        return "\n".join([tail(self.maillog), tail(self.dovecot_log),
                          tail(os.path.join(self.dovecot_dir, "stdout"))])

    def start(self, timeout=DEFAULT_TIMEOUT):
        """Write the config (first time), start Dovecot then Postfix, wait
        (capped) until the auth socket and all four ports accept."""
        if self.running:
            raise HarnessError("Mta already running")
        for name, port in self.ports().items():
            if port_is_free(port):
                continue
            if not self._started_once and name not in self._fixed_ports:
                # taken since free_port() picked it: pick another
                setattr(self, name + "_port", free_port())
                continue
            raise HarnessError("Mta: %s port %d on 127.0.0.1 is busy" % (name, port))
        self._started_once = True
        self._configure()
        # Dovecot in the foreground as our child.
        makedirs(os.path.join(self.dovecot_dir, "run"))
        makedirs(os.path.join(self.dovecot_dir, "state"))
        if os.path.exists(self.auth_socket):
            os.unlink(self.auth_socket)
        self._dovecot_out = open(os.path.join(self.dovecot_dir, "stdout"), "ab")
        self._dovecot = subprocess.Popen(
            [DOVECOT, "-F", "-c", self.dovecot_conf], stdin=subprocess.DEVNULL,
            stdout=self._dovecot_out, stderr=subprocess.STDOUT,
            start_new_session=True)
        try:
            wait_until(lambda: self._dovecot.poll() is not None
                       or unix_accepts(self.auth_socket), timeout,
                       what="dovecot auth socket", diag=self._diag)
            if self._dovecot.poll() is not None:
                raise HarnessError("dovecot exited with %s\n%s"
                                   % (self._dovecot.returncode, self._diag()))
            # Postfix: `master -w` is what `postfix start` ends with; the
            # postfix-script checks around it cost ~0.8 s, so the queue
            # directories are made here instead.
            self._make_queue_dirs()
            p = run([POSTFIX_MASTER, "-c", self.conf_dir, "-w"], check=False,
                    timeout=timeout + 5)
            if p.returncode != 0:
                raise HarnessError("postfix master failed to start (%d): %s%s\n%s" % (
                    p.returncode, p.stdout.decode(errors="replace"),
                    p.stderr.decode(errors="replace"), self._diag()))
            self.master_pid = wait_until(self._read_master_pid, timeout,
                                         what="postfix master.pid", diag=self._diag)
            self.running = True
            for name, port in self.ports().items():
                wait_until(lambda: tcp_listening(port) or not pid_alive(self.master_pid),
                           timeout, what="postfix %s port %d" % (name, port),
                           diag=self._diag)
                if not pid_alive(self.master_pid):
                    raise HarnessError("postfix master died\n" + self._diag())
        except BaseException:
            self.stop()
            raise
        return self

    def _read_master_pid(self):
        """The pid in our queue's pid/master.pid when that process is alive
        and is a Postfix master started with our config dir, else None."""
        try:
            with open(os.path.join(self.queue_dir, "pid", "master.pid")) as f:
                pid = int(f.read().split()[0])
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                cmd = f.read().split(b"\0")
        except (OSError, ValueError, IndexError):
            return None
        if self.conf_dir.encode() not in cmd or not pid_alive(pid):
            return None
        return pid

    def stop(self, timeout=DEFAULT_TIMEOUT):
        """postfix stop + dovecot stop, by pid; wait (capped) until the
        processes are gone and the ports are free."""
        errors = []
        if not self.master_pid:
            self.master_pid = self._read_master_pid()  # after a failed start
        if self.master_pid:
            # what `postfix stop` does: SIGTERM to the master, which passes
            # it on to its children (its process group)
            if not stop_pid(self.master_pid, signal.SIGTERM, timeout):
                errors.append("postfix master %d needed SIGKILL" % self.master_pid)
                try:
                    os.killpg(self.master_pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            self.master_pid = None
        if self._dovecot is not None:
            # Dovecot's master, on SIGTERM, sleeps a fixed 1 s for its log
            # process before it exits. It holds no state worth a clean
            # shutdown here (auth only), so its process group (our child's
            # own session) gets SIGKILL.
            try:
                os.killpg(self._dovecot.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self._dovecot.wait(timeout)
            except subprocess.TimeoutExpired:
                errors.append("dovecot %d did not die" % self._dovecot.pid)
            wait_until(lambda: not _group_alive(self._dovecot.pid), timeout,
                       what="dovecot processes to exit")
            self._dovecot = None
        if self._dovecot_out is not None:
            self._dovecot_out.close()
            self._dovecot_out = None
        self.running = False
        for name, port in self.ports().items():
            wait_until(lambda: not tcp_listening(port), timeout,
                       what="port %d (%s) to close" % (port, name))
        if errors:
            print("harness: Mta.stop: " + "; ".join(errors), file=sys.stderr)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---- mail

    def messages(self):
        """[(path, raw bytes)] of the Maildir new/ and cur/, oldest first."""
        out = []
        for sub in ("new", "cur"):
            d = os.path.join(self.maildir, sub)
            try:
                names = os.listdir(d)
            except FileNotFoundError:
                continue
            for n in names:
                p = os.path.join(d, n)
                try:
                    with open(p, "rb") as f:
                        out.append((p, f.read()))
                except FileNotFoundError:
                    continue
        out.sort(key=lambda pr: _maildir_sort_key(os.path.basename(pr[0])))
        return out

    def wait_messages(self, n, timeout=DEFAULT_TIMEOUT):
        """Wait (capped) until the Maildir holds at least n messages; return
        messages(). Raises HarnessError with the maillog tail on timeout."""
        box = []

        def enough():
            m = self.messages()
            box[:] = m
            return len(m) >= n
        wait_until(enough, timeout, interval=0.05,
                   what="%d message(s) in %s (have %d)" % (n, self.maildir, len(box)),
                   diag=self._diag)
        return box

    def by_message_id(self):
        """{Message-ID (with <>): number of copies in the Maildir}."""
        out = {}
        for _, raw in self.messages():
            mid = header(raw, "Message-ID")
            out[mid] = out.get(mid, 0) + 1
        return out

    def copies(self, message_id):
        """[(path, raw)] of the Maildir copies with this Message-ID."""
        mid = _norm_mid(message_id)
        return [(p, r) for p, r in self.messages()
                if _norm_mid(header(r, "Message-ID")) == mid]

    def envelope_recipients(self, message_id, timeout=DEFAULT_TIMEOUT):
        """Sorted list of the envelope recipients (original RCPT TO) that
        were delivered for this Message-ID: one X-Original-To per Maildir
        copy. If the maillog shows more deliveries than there are copies
        (Postfix de-duplication), the maillog's orig_to= values are used.
        A message delivered twice (client retry) lists recipients twice."""
        mid = _norm_mid(message_id)
        from_maildir = sorted(header(r, "X-Original-To") or ""
                              for _, r in self.copies(mid))
        from_log = self.log_recipients(mid, timeout=0.5 if from_maildir else timeout)
        if len(from_log) > len(from_maildir):
            return from_log
        return from_maildir

    def log_recipients(self, message_id, timeout=0.0):
        """Sorted orig_to= (or to=) of every status=sent delivery of the
        queue ids whose message-id= is `message_id`, from the maillog.
        Waits up to `timeout` for at least one (the log is asynchronous)."""
        mid = _norm_mid(message_id)
        box = []

        def get():
            text = self.log()
            qids = set(re.findall(r" ([0-9A-Za-z]+): message-id=%s" % re.escape(mid), text))
            res = []
            for line in text.splitlines():
                m = re.search(r" ([0-9A-Za-z]+): to=<([^>]*)>(?:, orig_to=<([^>]*)>)?.*status=sent", line)
                if m and m.group(1) in qids:
                    res.append(m.group(3) or m.group(2))
            box[:] = sorted(res)
            return bool(res)
        deadline = time.monotonic() + timeout
        while not get() and time.monotonic() < deadline:
            time.sleep(0.05)
        return box

    def log(self):
        """Text of the Postfix maillog."""
        try:
            with open(self.maillog, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def dovecot_log_text(self):
        try:
            with open(self.dovecot_log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def queue_count(self):
        """Messages still in Postfix's queue (incoming/active/deferred)."""
        n = 0
        for q in ("incoming", "active", "deferred", "hold", "maildrop"):
            for _, _, files in os.walk(os.path.join(self.queue_dir, q)):
                n += len(files)
        return n

    def clear(self):
        """Remove all delivered messages from the Maildir."""
        for p, _ in self.messages():
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass


def _maildir_sort_key(name):
    m = re.match(r"(\d+)\.(?:M(\d+))?", name)
    if m:
        return (int(m.group(1)), int(m.group(2) or 0), name)
    return (0, 0, name)


def _norm_mid(mid):
    if mid is None:
        return None
    mid = mid.strip()
    if not mid.startswith("<"):
        mid = "<%s>" % mid
    return mid


def parse_message(raw):
    """email.message.EmailMessage of raw bytes (policy=default)."""
    return email.parser.BytesParser(policy=email.policy.default).parsebytes(raw)


def header(raw, name):
    """The (unfolded, undecoded) value of the first `name` header of raw
    message bytes, or None."""
    msg = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(
        raw, headersonly=True)
    v = msg.get(name)
    if v is None:
        return None
    return re.sub(r"\r?\n[ \t]+", " ", str(v)).strip()


def headers_of(raw):
    """The raw header block of a message (bytes, up to the blank line)."""
    i = raw.find(b"\r\n\r\n")
    j = raw.find(b"\n\n")
    cut = [x for x in (i, j) if x >= 0]
    return raw[:min(cut)] if cut else raw


# --------------------------------------------------------------------------
# nginx

class CIDict(dict):
    """A dict with case-insensitive str keys (HTTP headers)."""

    def __init__(self, items=()):
        super().__init__()
        for k, v in items:
            k = k.lower()
            if k in self:
                super().__setitem__(k, super().__getitem__(k) + ", " + v)
            else:
                super().__setitem__(k, v)

    def __getitem__(self, k):
        return super().__getitem__(k.lower())

    def __contains__(self, k):
        return super().__contains__(k.lower())

    def get(self, k, default=None):
        return super().get(k.lower(), default)


SNIPPET = os.path.join(REPO, "config", "nginx", "form2mail.conf")
SNIPPET_SOCKET = "unix:/run/form2mail/form2mail.sock"


class Nginx:
    """nginx as root with its own prefix, conf, pid and logs.

    HTTPS on 127.0.0.1:port (test cert), plain HTTP on 127.0.0.1:http_port;
    both serve `docroot` at / and include the shipped snippet
    config/nginx/form2mail.conf with its socket path replaced by `socket`
    (so location /f2m/ goes to that FastCGI unix socket)."""

    def __init__(self, directory, pki, socket_path, docroot=None, port=None,
                 http_port=None, user=None, snippet=SNIPPET, extra_http="",
                 extra_server=""):
        self.dir = makedirs(os.path.abspath(str(directory)))
        self.pki = pki
        self.socket = socket_path
        self.docroot = os.path.abspath(docroot) if docroot else makedirs(
            os.path.join(self.dir, "html"))
        self._fixed_ports = {a for a, v in (("port", port), ("http_port", http_port)) if v}
        self._started_once = False
        self.port = port or free_port()
        self.http_port = http_port or free_port()
        self.user = user or web_user()
        self.snippet = snippet
        self.extra_http = extra_http
        self.extra_server = extra_server
        self.conf = os.path.join(self.dir, "conf", "nginx.conf")
        self.error_log = os.path.join(self.dir, "logs", "error.log")
        self.access_log = os.path.join(self.dir, "logs", "access.log")
        self.pid_file = os.path.join(self.dir, "logs", "nginx.pid")
        self.proc = None
        self._out = None

    @property
    def base_url(self):
        return "https://localhost:%d" % self.port

    @property
    def http_url(self):
        return "http://127.0.0.1:%d" % self.http_port

    def _configure(self):
        conf_dir = makedirs(os.path.join(self.dir, "conf"))
        makedirs(os.path.join(self.dir, "logs"))
        tmp = makedirs(os.path.join(self.dir, "tmp"))
        for f in ("fastcgi_params", "mime.types"):
            shutil.copy("/etc/nginx/" + f, os.path.join(conf_dir, f))
        with open(self.snippet) as f:
            snip = f.read()
        if SNIPPET_SOCKET not in snip:
            raise HarnessError("%s does not hold %s" % (self.snippet, SNIPPET_SOCKET))
        if re.search(r"^\s*fastcgi_keep_conn\s+on", snip, re.M):
            raise HarnessError("%s enables fastcgi_keep_conn" % self.snippet)
        snip = snip.replace(SNIPPET_SOCKET, "unix:" + self.socket)
        write_file(os.path.join(conf_dir, "form2mail.conf"), snip)
        body = f"""\
user {self.user};
worker_processes 1;
pid {self.pid_file};
error_log {self.error_log} info;
daemon off;
events {{ worker_connections 256; }}
http {{
    include mime.types;
    default_type application/octet-stream;
    access_log {self.access_log};
    client_body_temp_path {tmp}/body;
    fastcgi_temp_path {tmp}/fastcgi;
    proxy_temp_path {tmp}/proxy;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server_tokens off;
    {self.extra_http}
    server {{
        listen 127.0.0.1:{self.port} ssl;
        server_name localhost;
        ssl_certificate {self.pki.cert};
        ssl_certificate_key {self.pki.key};
        root {self.docroot};
        index index.html;
        {self.extra_server}
        include form2mail.conf;
    }}
    server {{
        listen 127.0.0.1:{self.http_port};
        server_name localhost;
        root {self.docroot};
        index index.html;
        {self.extra_server}
        include form2mail.conf;
    }}
}}
"""
        write_file(self.conf, body)

    def _diag(self):
        return "\n".join([tail(self.error_log), tail(os.path.join(self.dir, "logs", "stderr"))])

    def start(self, timeout=DEFAULT_TIMEOUT):
        if self.proc is not None:
            raise HarnessError("nginx already running")
        for attr in ("port", "http_port"):
            port = getattr(self, attr)
            if port_is_free(port):
                continue
            if attr not in self._fixed_ports and not self._started_once:
                setattr(self, attr, free_port())
                continue
            raise HarnessError("nginx: port %d on 127.0.0.1 is busy" % port)
        self._started_once = True
        self._configure()
        self._out = open(os.path.join(self.dir, "logs", "stderr"), "ab")
        self.proc = subprocess.Popen(
            [NGINX, "-p", self.dir + "/", "-c", self.conf, "-e", self.error_log],
            stdin=subprocess.DEVNULL, stdout=self._out, stderr=subprocess.STDOUT,
            start_new_session=True)
        try:
            for port in (self.port, self.http_port):
                wait_until(lambda: self.proc.poll() is not None or tcp_listening(port),
                           timeout, what="nginx port %d" % port, diag=self._diag)
                if self.proc.poll() is not None:
                    raise HarnessError("nginx exited with %d\n%s"
                                       % (self.proc.returncode, self._diag()))
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout=DEFAULT_TIMEOUT):
        if self.proc is None:
            return
        # SIGQUIT: graceful (workers finish requests), master removes pid file
        stop_pid(self.proc.pid, signal.SIGQUIT, timeout, popen=self.proc)
        self.proc.wait()
        self.proc = None
        if self._out:
            self._out.close()
            self._out = None
        for port in (self.port, self.http_port):
            wait_until(lambda: not tcp_listening(port), timeout,
                       what="nginx port %d to close" % port)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def pids(self):
        return [self.proc.pid] + children_of(self.proc.pid) if self.proc else []

    def _conn(self, https, timeout):
        if https:
            ctx = self.pki.client_context()
            return http.client.HTTPSConnection("localhost", self.port,
                                               context=ctx, timeout=timeout)
        return http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, https=True,
                timeout=DEFAULT_TIMEOUT):
        """One request, no redirects followed. -> (status, CIDict headers, body)."""
        conn = self._conn(https, timeout)
        hd = {k: v for k, v in dict(headers or {}).items() if v is not None}
        try:
            conn.request(method, path, body=body, headers=hd)
            r = conn.getresponse()
            data = r.read()
            return r.status, CIDict(r.getheaders()), data
        finally:
            conn.close()

    def post(self, path, fields=None, headers=None, https=True,
             timeout=DEFAULT_TIMEOUT):
        """POST to path. `fields`: a dict or a list of pairs (urlencoded),
        or a raw bytes/str body sent as is. Content-Type is
        application/x-www-form-urlencoded unless `headers` names one; a
        header whose value is None is left out (e.g. {"Content-Type": None}
        sends no Content-Type). -> (status, CIDict headers, body bytes)."""
        h = dict(headers or {})
        if not any(k.lower() == "content-type" for k in h):
            h["Content-Type"] = "application/x-www-form-urlencoded"
        h = {k: v for k, v in h.items() if v is not None}
        if fields is None:
            body = b""
        elif isinstance(fields, (bytes, bytearray)):
            body = bytes(fields)
        elif isinstance(fields, str):
            body = fields.encode()
        else:
            body = urllib.parse.urlencode(fields, doseq=True).encode()
        return self.request("POST", path, body=body, headers=h, https=https,
                            timeout=timeout)

    def get(self, path, headers=None, https=True, timeout=DEFAULT_TIMEOUT):
        return self.request("GET", path, headers=headers, https=https, timeout=timeout)

    def log(self):
        try:
            with open(self.error_log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""


def web_user():
    """The user the harness's nginx runs as: www-data, else nobody."""
    return "www-data" if _user_exists("www-data") else "nobody"


def web_group():
    """The primary group of web_user(): the FastCGI socket's group, so
    the socket can be 0660 (issue 16 F1: not 0666)."""
    import grp
    import pwd
    return grp.getgrgid(pwd.getpwnam(web_user()).pw_gid).gr_name


def _user_exists(name):
    import pwd
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def message_id_domain(cfg):
    """The right-hand side of the Message-IDs form2mail writes for cfg:
    sender.message_id_domain, by default the domain of sender.from."""
    snd = cfg["sender"]
    return snd.get("message_id_domain") or \
        snd["from"].rpartition("@")[2].rstrip(">").strip()


def altcha_solve(ch):
    """What the ALTCHA widget does with a challenge (the parsed JSON of GET
    /f2m/FORM/challenge): find n with sha256(salt + n) = challenge; ->
    the base64 payload for the `altcha` field, or None."""
    import hashlib
    for n in range(ch["maxnumber"] + 1):
        if hashlib.sha256((ch["salt"] + str(n)).encode()).hexdigest() == \
                ch["challenge"]:
            p = {"algorithm": ch["algorithm"], "challenge": ch["challenge"],
                 "number": n, "salt": ch["salt"], "signature": ch["signature"]}
            return base64.b64encode(json.dumps(p).encode()).decode()
    return None


def multipart(fields, files=None, boundary=None):
    """Build a multipart/form-data body. fields: dict or pairs; files: list
    of (field, filename, content_type, bytes). -> (body, content_type)."""
    boundary = boundary or "----f2mtest" + os.urandom(8).hex()
    out = []
    items = fields.items() if isinstance(fields, dict) else fields
    for k, v in items:
        out.append(b"--" + boundary.encode() + b"\r\n")
        out.append(b'Content-Disposition: form-data; name="%s"\r\n\r\n' % k.encode())
        out.append(v.encode() if isinstance(v, str) else v)
        out.append(b"\r\n")
    for field, filename, ctype, data in files or []:
        out.append(b"--" + boundary.encode() + b"\r\n")
        out.append(b'Content-Disposition: form-data; name="%s"; filename="%s"\r\n'
                   % (field.encode(), filename.encode()))
        out.append(b"Content-Type: %s\r\n\r\n" % ctype.encode())
        out.append(data)
        out.append(b"\r\n")
    out.append(b"--" + boundary.encode() + b"--\r\n")
    return b"".join(out), "multipart/form-data; boundary=" + boundary


# --------------------------------------------------------------------------
# form2mail config

def default_config(directory, socket_path=None, mta=None, pki=None, dkim=None,
                   smtp_kind="smtps", password_file=None):
    """A complete form2mail config dict for tests, with everything under
    `directory`: socket, spool, state, password file. With an Mta, Pki and
    DkimKeys the smtp and dkim sections point at them (the password file is
    written, 0600). Change it freely, then write_config(path, cfg)."""
    d = os.path.abspath(str(directory))
    sock = socket_path or os.path.join(d, "f2m.sock")
    cfg = {
        "listen": "unix:" + sock,
        # the web server's group only (issue 16 F1), never 0666
        "listen_mode": "0660",
        "listen_group": web_group(),
        "workers": 2,
        "spool_dir": os.path.join(d, "spool"),
        "state_dir": os.path.join(d, "state"),
        "templates_dir": os.path.join(REPO, "templates"),
        "user": "nobody",
        "require_https": True,
        "log": "stderr",
        "limits": {"max_body": 1048576, "max_fields": 50, "max_value": 65536},
        "max_age": "5d",
        "sender": {"from": "Example Forms <forms@example.test>",
                   "envelope_from": "bounces@example.test",
                   "hostname": "www.example.test"},
        "smtp": {"url": "smtps://localhost:465", "username": "forms@example.test",
                 "password_file": os.path.join(d, "smtp-password"),
                 "ca_file": "/etc/ssl/certs/ca-certificates.crt",
                 "timeout": 10, "max_per_hour": 0},
        "dkim": [],
        "forms": {"contact": contact_form()},
    }
    if mta is not None:
        cfg["smtp"]["url"] = mta.url(smtp_kind)
        cfg["smtp"]["username"] = mta.username
        pw = password_file or cfg["smtp"]["password_file"]
        mta.write_password_file(pw)
        cfg["smtp"]["password_file"] = pw
        pki = pki or mta.pki
    if pki is not None:
        cfg["smtp"]["ca_file"] = pki.ca
    if dkim is not None:
        cfg["dkim"] = dkim.config()
    return cfg


def mailless_config(wd, **overrides):
    """For tests of the worker side: a config under Workdir `wd` (f2m/)
    with a test PKI and DKIM keys, SMTP to a free port nobody listens on
    and an unused password, then `overrides` merged in. -> (cfg, pki,
    path of the config, written)."""
    pki = make_pki(wd.sub("pki"))
    keys = make_dkim_keys(wd.sub("dkim"), "example.test")
    d = wd.sub("f2m")
    cfg = default_config(d, pki=pki, dkim=keys)
    write_secret(cfg["smtp"]["password_file"], "unused\n")
    cfg["smtp"]["url"] = "smtps://localhost:%d" % free_port()
    cfg = merge(cfg, overrides)
    path = os.path.join(d, "form2mail.json")
    write_config(path, cfg)
    return cfg, pki, path


def contact_form(**overrides):
    """The standard test form `contact` (recipients sales@ and info@)."""
    f = {
        "recipients": ["Sales <sales@example.test>", "info@example.test"],
        "subject": "Contact: {{name}}",
        "fields": {
            "name": {"required": True, "max_length": 200},
            "email": {"required": True, "type": "email", "reply_to": True},
            "message": {"required": True, "max_length": 10000, "multiline": True},
        },
        "honeypot": "_gotcha",
        "allow_missing_origin": True,
    }
    return merge(f, overrides)


def merge(base, overrides):
    """Deep merge (a copy): dict values merge recursively; a None value
    deletes the key; anything else replaces."""
    out = json.loads(json.dumps(base))
    for k, v in (overrides or {}).items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = json.loads(json.dumps(v))
    return out


def write_config(path, base=None, **overrides):
    """Write a form2mail JSON config; returns the dict written.

    `base` defaults to default_config(dirname(path)); keyword overrides are
    deep-merged into it (nested dicts merge; None deletes a key), e.g.
    write_config(p, cfg, workers=1, smtp={"url": mta.url("submission")})."""
    if base is None:
        base = default_config(os.path.dirname(os.path.abspath(path)))
    cfg = merge(base, overrides)
    write_file(path, json.dumps(cfg, indent=2) + "\n", 0o644)
    return cfg


# --------------------------------------------------------------------------
# form2mail

def f2m_bin():
    b = os.environ.get("F2M_BIN") or os.path.join(REPO, "build", "form2mail")
    return os.path.abspath(b)


class Form2mail:
    """`form2mail serve -c CONFIG` as a child process (own session), stderr
    (and stdout) to `log_file`; start() waits (capped) until the unix
    socket accepts connections."""

    def __init__(self, config_path, log_file=None, binary=None, env=None):
        self.config = os.path.abspath(config_path)
        self.binary = binary or f2m_bin()
        self.log_file = log_file or os.path.join(os.path.dirname(self.config), "form2mail.log")
        self.env = env
        self.proc = None
        self._out = None

    def _cfg(self):
        with open(self.config) as f:
            return json.load(f)

    @property
    def socket(self):
        listen = self._cfg().get("listen", "")
        if not listen.startswith("unix:"):
            raise HarnessError("listen is not unix:PATH: %r" % listen)
        return listen[5:]

    def _env(self):
        e = dict(os.environ)
        e.pop("FORM2MAIL_CONFIG", None)
        if self.env:
            e.update(self.env)
        return e

    def start(self, timeout=DEFAULT_TIMEOUT, args=()):
        if self.proc is not None:
            raise HarnessError("form2mail already running")
        if not os.access(self.binary, os.X_OK):
            raise HarnessError("form2mail binary not found: %s (set F2M_BIN or build)"
                               % self.binary)
        sock = self.socket
        self._out = open(self.log_file, "ab")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "-c", self.config, *args],
            stdin=subprocess.DEVNULL, stdout=self._out, stderr=self._out,
            env=self._env(), start_new_session=True)
        try:
            wait_until(lambda: self.proc.poll() is not None or unix_accepts(sock),
                       timeout, what="form2mail socket %s" % sock,
                       diag=lambda: tail(self.log_file))
            if self.proc.poll() is not None:
                raise HarnessError("form2mail serve exited with %d\n%s"
                                   % (self.proc.returncode, tail(self.log_file)))
        except BaseException:
            self.stop()
            raise
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def pids(self):
        """Pids of the master's child processes (workers, deliverer)."""
        return children_of(self.proc.pid) if self.running() else []

    def signal(self, sig):
        os.kill(self.proc.pid, sig)

    def reload(self):
        """SIGHUP to the master."""
        self.signal(signal.SIGHUP)

    def stop(self, timeout=DEFAULT_TIMEOUT):
        """SIGTERM, wait (capped), then SIGKILL the whole process group.
        Returns the exit status (None if it had to be killed)."""
        if self.proc is None:
            return None
        rc = None
        clean = stop_pid(self.proc.pid, signal.SIGTERM, timeout, popen=self.proc)
        if clean:
            rc = self.proc.returncode
        else:
            print("harness: form2mail did not stop within %.0fs; killed" % timeout,
                  file=sys.stderr)
        # children that outlived the master (should not happen)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        self.proc = None
        if self._out:
            self._out.close()
            self._out = None
        return rc

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def log(self):
        try:
            with open(self.log_file, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def cli(self, *args, timeout=60, check=False, env=None):
        """Run `form2mail ARGS -c CONFIG` -> CompletedProcess (text)."""
        e = self._env()
        if env:
            e.update(env)
        return subprocess.run([self.binary, *args, "-c", self.config],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=e,
                              timeout=timeout, check=check)

    def queue_run_once(self, timeout=60):
        """`form2mail queue run --once -c CONFIG` -> CompletedProcess."""
        return self.cli("queue", "run", "--once", timeout=timeout)

    def queue_list(self):
        """`queue list --json` parsed (raises on a non-zero exit)."""
        p = self.cli("queue", "list", "--json")
        if p.returncode != 0:
            raise HarnessError("queue list failed (%d): %s" % (p.returncode, p.stderr))
        return json.loads(p.stdout)


# --------------------------------------------------------------------------
# A minimal FastCGI client (responder role), to talk to the socket directly

def _fcgi_record(rtype, req_id, content):
    out = b""
    # records carry at most 65535 octets of content
    chunks = [content[i:i + 65535] for i in range(0, len(content), 65535)] or [b""]
    for c in chunks:
        pad = (8 - len(c) % 8) % 8
        out += bytes([1, rtype, req_id >> 8, req_id & 255, len(c) >> 8,
                      len(c) & 255, pad, 0]) + c + b"\0" * pad
    return out


def _fcgi_nv(name, value):
    def ln(n):
        return bytes([n]) if n < 128 else (n | 0x80000000).to_bytes(4, "big")
    name, value = name.encode(), value.encode() if isinstance(value, str) else value
    return ln(len(name)) + ln(len(value)) + name + value


def fcgi_request(sock_path, params, body=b"", timeout=DEFAULT_TIMEOUT):
    """One FastCGI request over a unix socket. params: dict of CGI
    variables (CONTENT_LENGTH is set from body). -> (status, headers
    CIDict, body bytes)."""
    p = dict(params)
    p["CONTENT_LENGTH"] = str(len(body))
    pbytes = b"".join(_fcgi_nv(k, v) for k, v in p.items())
    msg = (_fcgi_record(1, 1, bytes([0, 1, 0, 0, 0, 0, 0, 0])) +
           _fcgi_record(4, 1, pbytes) + _fcgi_record(4, 1, b"") +
           (_fcgi_record(5, 1, body) if body else b"") + _fcgi_record(5, 1, b""))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock_path)
        s.sendall(msg)
        buf = b""
        out = b""
        while True:
            while len(buf) < 8:
                d = s.recv(65536)
                if not d:
                    raise HarnessError("FastCGI: connection closed early")
                buf += d
            _, rtype, _, _, clen_hi, clen_lo, pad, _ = buf[:8]
            clen = (clen_hi << 8) | clen_lo
            while len(buf) < 8 + clen + pad:
                d = s.recv(65536)
                if not d:
                    raise HarnessError("FastCGI: truncated record")
                buf += d
            content = buf[8:8 + clen]
            buf = buf[8 + clen + pad:]
            if rtype == 6:
                out += content
            elif rtype == 3:
                break
    finally:
        s.close()
    head, _, rbody = out.partition(b"\r\n\r\n")
    items = []
    status = 200
    for line in head.split(b"\r\n"):
        k, _, v = line.decode("latin-1").partition(":")
        items.append((k.strip(), v.strip()))
        if k.strip().lower() == "status":
            status = int(v.split()[0])
    return status, CIDict(items), rbody


def proc_rss_kb(pid, field="VmRSS"):
    """VmRSS (or another /proc status field: RssAnon, the private memory
    without shared file pages) of a process in KiB (None when gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except FileNotFoundError:
        return None
    return None


# --------------------------------------------------------------------------
# Checks: every test reports what it expected and what it got

FAILS = []
PASSED = [0]
SKIPPED = []


def check(cond, what, expected=None, got=None):
    """Count a check; on failure print what was expected and what came."""
    if cond:
        PASSED[0] += 1
        return True
    msg = "FAIL: " + what
    if expected is not None or got is not None:
        msg += "\n  expected: %r\n  got:      %r" % (expected, got)
    FAILS.append(msg)
    print(msg, flush=True)
    return False


def skip(what, why):
    """A check this machine cannot make (a kernel feature or a privilege it
    lacks): printed as "SKIP what: why" and counted apart, never as
    passed.  Decide it by probing the feature, never by a failed check."""
    SKIPPED.append("%s: %s" % (what, why))
    print("SKIP %s: %s" % (what, why), flush=True)


def result():
    """Prints the counts; the exit status: 1 when a check failed, 77 (ctest
    shows it skipped) when none was made, else 0."""
    print("%d passed, %d failed, %d skipped" % (PASSED[0], len(FAILS),
                                                 len(SKIPPED)))
    return 1 if FAILS else 77 if PASSED[0] == 0 else 0
