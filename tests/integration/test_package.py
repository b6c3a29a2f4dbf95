"""The .deb (CPack): built from the build tree, it holds the binary, the
man pages form2mail(8) and form2mail.json(5), the example config, the
templates and the systemd units, and a postinst that creates the service
user; unpacked into a scratch root, its form2mail checks the example
config (keys and password made for it)."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import FAILS, PASSED, check  # noqa: E402

WANT = ["./usr/sbin/form2mail", "./usr/share/man/man8/form2mail.8",
        "./usr/share/man/man5/form2mail.json.5",
        "./usr/share/doc/form2mail/form2mail.example.json",
        "./usr/share/form2mail/templates/default.txt",
        "./usr/share/form2mail/templates/default.html",
        "./usr/lib/systemd/system/form2mail.service",
        "./usr/lib/systemd/system/form2mail.socket"]


def main():
    if not shutil.which("cpack") or not shutil.which("dpkg-deb"):
        print("SKIP: cpack or dpkg-deb missing")
        return 77
    build = os.path.dirname(h.f2m_bin())
    with h.Workdir() as wd:
        out = wd.sub("pkg")
        p = subprocess.run(["cpack", "-G", "DEB", "-B", out], cwd=build,
                           capture_output=True, text=True, timeout=300)
        debs = [f for f in os.listdir(out) if f.endswith(".deb")]
        check(p.returncode == 0 and len(debs) == 1, "cpack builds one .deb",
              1, (p.returncode, p.stdout[-500:], p.stderr[-500:]))
        if not debs:
            return 1
        deb = os.path.join(out, debs[0])
        listing = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True,
                                 text=True).stdout
        names = [line.split()[-1] for line in listing.splitlines()]
        missing = [w for w in WANT if w not in names]
        check(not missing, "the package holds binary, man pages, example, "
              "templates, units", [], missing)
        info = subprocess.run(["dpkg-deb", "-I", deb], capture_output=True,
                              text=True).stdout
        check("postinst" in info and "Depends:" in info and "libfcgi" in info,
              "postinst and library dependencies", None, info[-800:])
        ctl = wd.sub("control")
        subprocess.run(["dpkg-deb", "-e", deb, ctl], check=True)
        with open(os.path.join(ctl, "postinst")) as f:
            check("adduser --system" in f.read(), "postinst creates the "
                  "service user")
        root = wd.sub("root")
        subprocess.run(["dpkg-deb", "-x", deb, root], check=True)
        binary = os.path.join(root, "usr/sbin/form2mail")
        r = subprocess.run([binary, "version"], capture_output=True, text=True)
        check(r.returncode == 0 and r.stdout.startswith("form2mail "),
              "the packaged binary runs", 0, (r.returncode, r.stderr))
        # the example, pointed at files made here and the unpacked templates
        with open(os.path.join(root, "usr/share/doc/form2mail/"
                                     "form2mail.example.json")) as f:
            ex = f.read()
        keys = h.make_dkim_keys(wd.sub("dkim"), "example.com",
                                rsa_selector="f2m2026r",
                                ed_selector="f2m2026e")
        sec = wd.sub("etc")
        h.write_secret(os.path.join(sec, "smtp-password"), "pw\n")
        h.write_secret(os.path.join(sec, "turnstile-secret"), "t\n")
        ex = (ex.replace("/etc/form2mail/dkim/f2m2026r.pem", keys.rsa_key)
              .replace("/etc/form2mail/dkim/f2m2026e.pem", keys.ed_key)
              .replace("/etc/form2mail", sec)
              .replace("/usr/share/form2mail/templates",
                       os.path.join(root, "usr/share/form2mail/templates"))
              .replace('"user": "form2mail"', '"user": "nobody"')
              .replace('"listen_group": "www-data",', ""))
        path = os.path.join(sec, "form2mail.json")
        h.write_file(path, ex)
        r = subprocess.run([binary, "check", "-c", path], capture_output=True,
                           text=True)
        check(r.returncode == 0 and "ok" in r.stdout, "form2mail check on the "
              "shipped example", 0, (r.returncode, r.stdout, r.stderr))
    print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
