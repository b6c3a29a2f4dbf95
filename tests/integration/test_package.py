"""The .deb, installed for real: built by cpack from the build tree, checked
by lintian (no error; warnings printed), its Depends those dpkg-shlibdeps
computes for the packaged binary plus adduser and ca-certificates only;
then `apt-get install ./form2mail_*.deb`: the form2mail system user and
group, the spool, state and config directories with their owners and
modes, the units in /usr/lib/systemd/system (not enabled) accepted by
`systemd-analyze verify`, the shipped example config checked by the
installed binary with keys made by its `keygen`, a message spooled by
`send-test`; a reinstall (the upgrade path of the scripts) keeps user and
spool; `apt-get remove` takes every packaged file and keeps the spool,
state and config; `apt-get purge` takes spool, state and the units'
enablement records, keeps /etc/form2mail while it holds the admin's files
(with a note), and keeps the user and group (Debian practice); a second
install and purge with an empty /etc/form2mail leaves nothing of ours.

The machine is left as it was found: a form2mail already installed is
repacked (dpkg-repack), its data archived, purged, and put back at the
end; what existed of our paths without the package is archived and put
back; a user or group the test made is deleted; the result is compared
with a snapshot taken at the start.  Needs root (exit 77 otherwise)."""
import glob
import gzip
import hashlib
import json
import os
import pwd
import grp
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import FAILS, PASSED, check  # noqa: E402

PKG = "form2mail"
USER = "form2mail"
SPOOL, STATE, ETC = "/var/spool/form2mail", "/var/lib/form2mail", "/etc/form2mail"
OUR_DIRS = [SPOOL, STATE, ETC]
# deb-systemd-helper's records, and where enabling puts symlinks
DSH_DIRS = ["/var/lib/systemd/deb-systemd-helper-enabled",
            "/var/lib/systemd/deb-systemd-helper-masked"]
SYSTEMD_ETC = "/etc/systemd/system"
UNITDIR = "/usr/lib/systemd/system"
UNITS = ["form2mail.service", "form2mail.socket", "form2mail-queue.service",
         "form2mail-queue.timer"]
# the only Depends not computed by dpkg-shlibdeps
NON_LIB_DEPENDS = {"adduser", "ca-certificates"}
WANT_LIBS = ["libcurl4", "libssl3", "libjansson4", "libfcgi0ldbl",
             "libopendkim11", "libc6"]
WANT = ["/usr/sbin/form2mail", "/usr/share/man/man8/form2mail.8.gz",
        "/usr/share/man/man5/form2mail.json.5.gz",
        "/usr/share/doc/form2mail/copyright",
        "/usr/share/doc/form2mail/changelog.Debian.gz",
        "/usr/share/doc/form2mail/form2mail.example.json",
        "/usr/share/form2mail/templates/default.txt",
        "/usr/share/form2mail/templates/default.html"] + \
    [UNITDIR + "/" + u for u in UNITS]
ENV = dict(os.environ, DEBIAN_FRONTEND="noninteractive",
           APT_LISTCHANGES_FRONTEND="none", LC_ALL="C")
APT = ["apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=120"]
BACKUP_ROOT = "/var/tmp"

SKIPS = []
PULLED = []     # packages apt installed as new dependencies
T0 = time.monotonic()


def phase(what):
    print("[%5.1f s] %s" % (time.monotonic() - T0, what), flush=True)


def skip_check(what, why):
    """A check this machine cannot make: said, counted apart, never passed."""
    SKIPS.append(what)
    print("SKIP %s: %s" % (what, why), flush=True)


def sh(cmd, timeout=120, **kw):
    """Runs cmd; stdout and stderr as text."""
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env=ENV, **kw)


def dpkg(*args):
    """dpkg ARGS, waiting (capped, 120 s) while another apt or dpkg holds
    the lock, as apt-get does with DPkg::Lock::Timeout."""
    deadline = time.monotonic() + 120
    while True:
        p = sh(["dpkg"] + list(args), timeout=300)
        if p.returncode == 0 or "lock" not in p.stderr or \
                time.monotonic() > deadline:
            return p
        time.sleep(1)


def dpkg_state():
    """'ii', 'rc', ... or '' when dpkg knows no form2mail."""
    p = sh(["dpkg-query", "-W", "-f", "${db:Status-Abbrev}", PKG])
    st = p.stdout.strip() if p.returncode == 0 else ""
    return "" if st in ("un", "pn") else st


def getpw(name):
    try:
        e = pwd.getpwnam(name)
        return (e.pw_uid, e.pw_gid, e.pw_dir, e.pw_shell)
    except KeyError:
        return None


def getgr(name):
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return None


def ours_in_systemd():
    """Paths with form2mail in their name under /etc/systemd/system and
    deb-systemd-helper's state."""
    found = []
    for top in [SYSTEMD_ETC] + DSH_DIRS:
        for d, dirs, files in os.walk(top):
            for n in dirs + files:
                if "form2mail" in n:
                    found.append(os.path.join(d, n))
    return sorted(found)


def stat_entry(p):
    st = os.lstat(p)
    e = [oct(st.st_mode), st.st_uid, st.st_gid]
    if os.path.islink(p):
        e.append("-> " + os.readlink(p))
    elif os.path.isfile(p):
        with open(p, "rb") as f:
            e.append(hashlib.sha256(f.read()).hexdigest()[:16])
    return tuple(e)


def tree(paths):
    """{path: (mode, uid, gid, content hash or link)} for paths and, for
    directories, everything under them."""
    out = {}
    for top in paths:
        if not os.path.lexists(top):
            continue
        out[top] = stat_entry(top)
        if os.path.isdir(top) and not os.path.islink(top):
            for d, dirs, files in os.walk(top):
                for n in dirs + files:
                    p = os.path.join(d, n)
                    out[p] = stat_entry(p)
    return out


def snapshot(pkg_files):
    sel = sh(["dpkg", "--get-selections", PKG]).stdout.split()
    return {"dpkg": dpkg_state(),
            "version": sh(["dpkg-query", "-W", "-f", "${Version}", PKG]).stdout
            if dpkg_state() else "",
            "selection": sel[1] if len(sel) == 2 else "",
            "user": getpw(USER), "group": getgr(USER),
            "files": tree(OUR_DIRS + ours_in_systemd() +
                          [p for p in pkg_files if not p.endswith("/")])}


def diff_snapshots(a, b):
    d = []
    for k in ("dpkg", "version", "selection", "user", "group"):
        if a[k] != b[k]:
            d.append("%s: %r -> %r" % (k, a[k], b[k]))
    for p in sorted(set(a["files"]) | set(b["files"])):
        if a["files"].get(p) != b["files"].get(p):
            d.append("%s: %r -> %r" % (p, a["files"].get(p), b["files"].get(p)))
    return d


def build_deb(wd):
    build = os.path.dirname(h.f2m_bin())
    out = wd.sub("pkg")
    p = sh(["cpack", "-G", "DEB", "-B", out], timeout=600, cwd=build)
    debs = sorted(glob.glob(os.path.join(out, "form2mail_*.deb")))
    check(p.returncode == 0 and len(debs) == 1, "cpack builds one .deb", 1,
          (p.returncode, debs, p.stdout[-600:], p.stderr[-600:]))
    return debs[0] if len(debs) == 1 else None


def run_lintian(deb):
    if not shutil.which("lintian"):
        skip_check("lintian", "lintian is not installed (scripts/deps installs it)")
        return
    # as nobody when possible: lintian unpacks the archive it checks
    cmd = ["lintian", "--display-info", deb]
    if shutil.which("runuser") and getpw("nobody"):
        cmd = ["runuser", "-u", "nobody", "--", "env", "HOME=/tmp",
               "TMPDIR=/tmp"] + cmd
    p = sh(cmd, timeout=300)
    lines = [ln for ln in (p.stdout + p.stderr).splitlines()
             if ln and "root privileges is not recommended" not in ln]
    errors = [ln for ln in lines if ln.startswith("E:")]
    other = [ln for ln in lines if not ln.startswith("E:")]
    for ln in other:
        print("lintian: " + ln)
    print("lintian: %d errors, %d warnings, %d info" % (
        len(errors), sum(ln.startswith("W:") for ln in lines),
        sum(ln.startswith("I:") for ln in lines)))
    check(p.returncode == 0 and not errors, "lintian reports no error", [],
          (p.returncode, errors or lines[-10:]))


def check_static(wd, deb):
    """What the archive holds, before anything is installed; returns
    (listing of absolute paths, dirs end with '/', control fields)."""
    listing = []
    for line in sh(["dpkg-deb", "-c", deb]).stdout.splitlines():
        name = line.split(None, 5)[5].split(" -> ")[0]
        listing.append(name[1:] if name.startswith("./") else name)
    missing = [w for w in WANT if w not in listing]
    check(not missing, "the package holds binary, man pages, copyright, "
          "changelog, example, templates, units", [], missing)
    fields = {}
    for k in ("Package", "Version", "Depends", "Maintainer", "Architecture"):
        fields[k] = sh(["dpkg-deb", "-f", deb, k]).stdout.strip()

    # Depends: exactly dpkg-shlibdeps' answer for the packaged binary,
    # plus the non-library ones
    root = wd.sub("root")
    subprocess.run(["dpkg-deb", "-x", deb, root], check=True)
    src = wd.sub("shlibdeps", "debian")
    h.write_file(os.path.join(src, "control"), "Source: form2mail\n\n"
                 "Package: form2mail\nArchitecture: any\n")
    p = sh(["dpkg-shlibdeps", "-O", "-e" + os.path.join(root, "usr/sbin/form2mail")],
           cwd=os.path.dirname(src))
    computed = set()
    for line in p.stdout.splitlines():
        if line.startswith("shlibs:Depends="):
            computed = {d.strip() for d in line.split("=", 1)[1].split(",")}
    deps = {d.strip() for d in fields["Depends"].split(",") if d.strip()}
    check(p.returncode == 0 and computed and deps == computed | NON_LIB_DEPENDS,
          "Depends = dpkg-shlibdeps of the binary + adduser, ca-certificates",
          sorted(computed | NON_LIB_DEPENDS), (sorted(deps), p.stderr[-300:]))
    names = {d.split()[0] for d in deps}
    check(all(n in names for n in WANT_LIBS), "Depends names the libraries",
          WANT_LIBS, sorted(names))
    print("Depends: " + fields["Depends"])

    # the control archive: maintainer scripts, md5sums, no stray conffiles
    ctl = wd.sub("control")
    subprocess.run(["dpkg-deb", "-e", deb, ctl], check=True)
    for s in ("postinst", "prerm", "postrm"):
        path = os.path.join(ctl, s)
        ok = os.path.isfile(path)
        text = open(path).read() if ok else ""
        check(ok and text.startswith("#!/bin/sh\n") and "\nset -e\n" in text
              and os.stat(path).st_mode & 0o777 == 0o755,
              "%s: /bin/sh, set -e, mode 0755" % s, True,
              (ok, text[:60], oct(os.stat(path).st_mode) if ok else None))
    with open(os.path.join(ctl, "postinst")) as f:
        check("adduser --system" in f.read(), "postinst creates a system user")
    regular = [p for p in listing if not p.endswith("/")]
    md5 = os.path.join(ctl, "md5sums")
    summed = set()
    if os.path.isfile(md5):
        summed = {"/" + ln.split(None, 1)[1].strip() for ln in open(md5)
                  if ln.strip()}
    check(summed == set(regular), "md5sums covers every file", sorted(regular),
          sorted(summed))
    conf = os.path.join(ctl, "conffiles")
    conffiles = set(open(conf).read().split()) if os.path.isfile(conf) else set()
    under_etc = {p for p in regular if p.startswith("/etc/")}
    check(under_etc == conffiles, "every file under /etc is a conffile",
          sorted(under_etc), sorted(conffiles))
    with gzip.open(os.path.join(root, "usr/share/doc/form2mail/"
                                      "changelog.Debian.gz"), "rt") as f:
        top = f.readline()
    check(top.startswith("form2mail (%s) " % fields["Version"]),
          "the changelog's top entry is this version", fields["Version"], top)
    return listing, fields


def restorable(before, listing, bdir):
    """Archives what exists of our paths (and a repacked form2mail when
    one is installed); returns the repacked .deb or None."""
    repacked = None
    if before["dpkg"] == "ii":
        p = sh(["dpkg-repack", PKG], cwd=bdir, timeout=300)
        found = glob.glob(os.path.join(bdir, PKG + "_*.deb"))
        if p.returncode != 0 or len(found) != 1:
            raise h.HarnessError("dpkg-repack form2mail failed: %s" % p.stderr)
        repacked = found[0]
    have = [p for p in OUR_DIRS + ours_in_systemd() +
            [q for q in listing if not q.endswith("/")] if os.path.lexists(p)]
    if have:
        subprocess.run(["tar", "-cpf", os.path.join(bdir, "data.tar"),
                        "--xattrs", "-C", "/"] + [p.lstrip("/") for p in have],
                       check=True, timeout=120)
    return repacked


def put_back(before, listing, bdir, repacked):
    """Cleanup in the finally block: our package gone, our paths as they
    were, the user and group as they were."""
    if dpkg_state():
        p = dpkg("--purge", PKG)
        if p.returncode != 0:
            print("cleanup: dpkg --purge: %s" % p.stderr, flush=True)
    for p in OUR_DIRS + ours_in_systemd():
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p, ignore_errors=True)
        elif os.path.lexists(p):
            os.unlink(p)
    if before["user"] is None and getpw(USER):
        sh(["userdel", USER])
    if before["group"] is None and getgr(USER) is not None:
        sh(["groupdel", USER])
    if repacked:
        p = sh(APT + ["install", repacked], timeout=300)
        if p.returncode != 0:
            print("cleanup: reinstalling %s: %s" % (repacked, p.stdout[-500:]
                                                    + p.stderr[-500:]))
        if before["selection"] and before["selection"] != "install":
            subprocess.run(["dpkg", "--set-selections"], input="%s %s\n" % (
                PKG, before["selection"]), text=True)
    data = os.path.join(bdir, "data.tar")
    if os.path.exists(data):
        subprocess.run(["tar", "-xpf", data, "--xattrs", "-C", "/"],
                       check=False, timeout=120)


def admin_setup(example):
    """As an admin would: the example config in /etc/form2mail, keys made
    with form2mail keygen, the secret files; returns what was written."""
    cfg = json.load(open(example))
    written = []
    for k in cfg["dkim"]:
        d = os.path.dirname(k["key_file"])
        if not os.path.isdir(d):
            os.makedirs(d, mode=0o700)
            written.append(d)
        p = sh(["/usr/sbin/form2mail", "keygen", "--domain", k["domain"],
                "--selector", k["selector"], "--algorithm", k["algorithm"],
                "--out", k["key_file"]])
        check(p.returncode == 0, "form2mail keygen %s" % k["algorithm"], 0,
              (p.returncode, p.stderr))
        written.append(k["key_file"])
    secrets = [cfg["smtp"]["password_file"]] + [
        f["captcha"]["secret_file"] for f in cfg["forms"].values()
        if "captcha" in f and "secret_file" in f["captcha"]]
    for s in secrets:
        h.write_secret(s, "secret\n")
        written.append(s)
    conf = os.path.join(ETC, "form2mail.json")
    shutil.copyfile(example, conf)
    os.chmod(conf, 0o640)
    written.append(conf)
    return conf, written


def verify_units(wd, units):
    if not shutil.which("systemd-analyze"):
        skip_check("systemd-analyze verify", "systemd-analyze is not installed")
        return
    # can it verify at all here?  a unit that is surely right
    probe = os.path.join(wd.sub("probe"), "f2m-probe.service")
    h.write_file(probe, "[Unit]\nDescription=probe\n\n[Service]\n"
                 "Type=oneshot\nExecStart=/bin/true\n")
    p = sh(["systemd-analyze", "verify", "--man=no", probe], timeout=60)
    if p.returncode != 0 or p.stdout.strip() or p.stderr.strip():
        skip_check("systemd-analyze verify", "it fails on a trivial unit here "
                   "(exit %d: %s)" % (p.returncode, (p.stdout + p.stderr).strip()))
        return
    # with the man pages: Documentation=man:... must resolve
    p = sh(["systemd-analyze", "verify"] + units, timeout=60)
    if check(p.returncode == 0 and not (p.stdout + p.stderr).strip(),
             "systemd-analyze verify accepts the installed units", (0, ""),
             (p.returncode, (p.stdout + p.stderr).strip())):
        print("systemd-analyze verify: %d units, no complaint (man pages "
              "found)" % len(units))


def owner_mode(d):
    """(mode, uid, gid) of a directory, None when there is none."""
    if not os.path.isdir(d):
        return None
    st = os.stat(d)
    return (st.st_mode & 0o7777, st.st_uid, st.st_gid)


def gone(listing, existed):
    """Packaged paths still present: every file, and every directory that
    did not exist before the package came."""
    return [p for p in listing
            if (not p.endswith("/") and os.path.lexists(p)) or
            (p.endswith("/") and p.rstrip("/") not in existed and
             os.path.isdir(p))]


def exercise(wd, deb, listing):
    existed = {p.rstrip("/") for p in listing if os.path.lexists(p.rstrip("/"))}
    # a form2mail the test purged on purpose left no user: note either way
    had_user = getpw(USER) is not None

    phase("apt-get install")
    p = sh(APT + ["install", deb], timeout=300)
    check(p.returncode == 0 and dpkg_state() == "ii",
          "apt-get install ./%s" % os.path.basename(deb), "ii",
          (p.returncode, dpkg_state(), p.stdout[-800:], p.stderr[-800:]))
    if dpkg_state() != "ii":
        return
    new = []
    lines = p.stdout.splitlines()
    for i, ln in enumerate(lines):
        if ln.startswith("The following NEW packages will be installed"):
            for more in lines[i + 1:]:
                if not more.startswith(" "):
                    break
                new += more.split()
    pulled = [n for n in new if n != PKG]
    print("apt pulled: %s" % (" ".join(pulled) or "nothing (every dependency "
                              "was installed already)"))
    PULLED.extend(pulled)

    u, g = getpw(USER), getgr(USER)
    check(u is not None and g is not None and u[0] < 1000 and u[1] == g and
          u[2] == STATE and u[3] == "/usr/sbin/nologin",
          "system user and group form2mail (uid < 1000, home %s, nologin)"
          % STATE, "uid<1000", (u, g))
    if u is None:
        return
    modes = {SPOOL: (0o700, u[0], g), STATE: (0o700, u[0], g), ETC: (0o750, 0, g)}
    for d, want in modes.items():
        check(owner_mode(d) == want, "%s: mode, owner, group" % d, want,
              owner_mode(d))
    installed = sh(["dpkg", "-L", PKG]).stdout.split()
    units = [UNITDIR + "/" + n for n in UNITS]
    check(all(x in installed and os.path.isfile(x) for x in units),
          "the units are in %s" % UNITDIR, units,
          [x for x in installed if "systemd" in x])
    links = [x for x in ours_in_systemd() if x.startswith(SYSTEMD_ETC)]
    check(not links, "the units are not enabled (no config, no keys yet)",
          [], links)
    v = sh(["dpkg", "--verify", PKG])
    check(v.returncode == 0 and not v.stdout.strip(), "dpkg --verify: the "
          "installed files match md5sums", "", v.stdout + v.stderr)
    verify_units(wd, units)

    phase("the admin's part")
    # the admin's part: the example config, its keys and secrets
    conf, admin = admin_setup("/usr/share/doc/form2mail/form2mail.example.json")
    p = sh(["/usr/sbin/form2mail", "check", "-c", conf])
    check(p.returncode == 0 and "ok" in p.stdout, "/usr/sbin/form2mail check "
          "on the shipped example", 0, (p.returncode, p.stdout, p.stderr))
    p = sh(["/usr/sbin/form2mail", "send-test", "-c", conf, "contact"])
    mid = p.stdout.split()[1] if p.stdout.startswith("queued ") else None
    msg = os.path.join(SPOOL, "queue", mid) if mid else None
    check(p.returncode == 0 and msg and os.path.isfile(msg) and
          os.stat(msg).st_uid == u[0], "send-test spools a message owned by "
          "form2mail", "queued ID", (p.returncode, p.stdout, p.stderr[-300:]))

    phase("reinstall")
    # the upgrade path of the scripts: same user, same spool
    p = sh(APT + ["install", "--reinstall", deb], timeout=300)
    check(p.returncode == 0 and getpw(USER) == u and msg and
          os.path.isfile(msg) and
          all(owner_mode(d) == w for d, w in modes.items()),
          "reinstall keeps user, directories and the spooled message", u,
          (p.returncode, getpw(USER), p.stdout[-400:], p.stderr[-400:]))

    phase("apt-get remove")
    # remove: our files go, spool, state and config stay
    p = sh(APT + ["remove", PKG], timeout=300)
    check(p.returncode == 0 and dpkg_state() == "rc", "apt-get remove",
          "rc", (p.returncode, dpkg_state(), p.stderr[-400:]))
    left = gone(listing, existed)
    check(not left, "remove takes every packaged file", [], left)
    check(msg and os.path.isfile(msg) and os.path.isdir(STATE),
          "remove keeps the spooled message and the state", msg,
          sorted(tree([SPOOL, STATE])))
    check(all(os.path.lexists(a) for a in admin), "remove keeps the admin's "
          "config and keys", admin, [a for a in admin if not os.path.lexists(a)])
    check(getpw(USER) == u, "remove keeps the user", u, getpw(USER))

    phase("apt-get purge")
    # purge with the admin's files still in /etc/form2mail
    p = sh(APT + ["purge", PKG], timeout=300)
    out = p.stdout + p.stderr
    check(p.returncode == 0 and dpkg_state() == "", "apt-get purge: dpkg "
          "knows no form2mail", "", (p.returncode, dpkg_state(), out[-400:]))
    check(not os.path.lexists(SPOOL) and not os.path.lexists(STATE),
          "purge removes the spool and the state", [],
          [d for d in (SPOOL, STATE) if os.path.lexists(d)])
    check(not ours_in_systemd(), "purge removes deb-systemd-helper's records",
          [], ours_in_systemd())
    etc_now = sorted(tree([ETC]))
    check(etc_now == sorted([ETC] + admin) and "/etc/form2mail kept" in out,
          "purge keeps /etc/form2mail with the admin's files only, and says so",
          sorted([ETC] + admin), (etc_now, out[-300:]))
    left = gone(listing, existed)
    check(not left, "purge leaves no packaged file", [], left)
    # Debian practice: a system user is not deleted on purge
    check(getpw(USER) == u, "purge keeps the system user and group (policy)",
          u, getpw(USER))
    print("user: form2mail kept after purge (Debian practice)%s" % (
        "" if had_user else "; the test deletes it in its cleanup"))

    phase("dpkg -i, dpkg --purge")
    # once more with dpkg, /etc/form2mail empty: nothing of ours stays
    for a in sorted(admin, reverse=True):
        if os.path.isdir(a):
            shutil.rmtree(a)
        elif os.path.lexists(a):
            os.unlink(a)
    p1 = dpkg("-i", deb)
    p2 = dpkg("--purge", PKG)
    left = gone(listing, existed) + [d for d in OUR_DIRS if os.path.lexists(d)] \
        + ours_in_systemd()
    check(p1.returncode == 0 and p2.returncode == 0 and not left and
          dpkg_state() == "", "dpkg -i, dpkg --purge: no file or directory of "
          "ours stays", [], (p1.returncode, p2.returncode, left,
                             p1.stderr[-300:], p2.stderr[-300:]))


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root (apt-get install, a system user)")
        return 77
    for tool in ("cpack", "dpkg-deb", "dpkg-shlibdeps", "apt-get", "tar"):
        if not shutil.which(tool):
            print("SKIP: %s missing" % tool)
            return 77
    state = dpkg_state()
    if state not in ("", "ii"):
        print("SKIP: form2mail is in dpkg state %r here; this test would "
              "purge it and could not put that state back" % state)
        return 77
    if state == "ii" and not shutil.which("dpkg-repack"):
        print("SKIP: form2mail is installed here and dpkg-repack (to put it "
              "back afterwards) is missing: scripts/deps installs it")
        return 77
    with h.Workdir() as wd:
        phase("cpack")
        deb = build_deb(wd)
        if not deb:
            return 1
        os.chmod(os.path.dirname(deb), 0o755)
        os.chmod(deb, 0o644)
        phase("lintian")
        run_lintian(deb)
        phase("archive checks")
        listing = check_static(wd, deb)[0]

        before = snapshot(listing)
        bdir = tempfile.mkdtemp(prefix="form2mail-test_package.",
                                dir=BACKUP_ROOT)
        repacked = None
        restored = False
        try:
            repacked = restorable(before, listing, bdir)
            if state == "ii":
                print("form2mail %s is installed: repacked to %s, purged for "
                      "the test, put back afterwards" % (before["version"],
                                                        repacked))
                p = dpkg("--purge", PKG)
                if p.returncode != 0:
                    raise h.HarnessError("purging the installed form2mail: "
                                         + p.stderr)
            exercise(wd, deb, listing)
        finally:
            phase("cleanup")
            put_back(before, listing, bdir, repacked)
            if PULLED:
                # new dependencies apt brought for the test; dpkg refuses
                # to purge one another package needs
                p = dpkg("--purge", *PULLED)
                print("cleanup: purged %s: exit %d %s" % (
                    " ".join(PULLED), p.returncode, p.stderr[-300:]))
            after = snapshot(listing)
            d = diff_snapshots(before, after)
            restored = check(not d, "the machine is as before the test", [],
                             d)
            if restored:
                shutil.rmtree(bdir, ignore_errors=True)
            else:
                print("backup kept in %s" % bdir)
    phase("done")
    print("%d passed, %d failed, %d skipped" % (PASSED[0], len(FAILS),
                                               len(SKIPS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
