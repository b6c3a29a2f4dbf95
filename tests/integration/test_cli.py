"""The command line: check (exit 0/1/2, file:line:column), queue list /
show / retry / delete, version, -c before or after the subcommand."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import FAILS, PASSED, check  # noqa: E402


def f2m(*args):
    p = subprocess.run([h.f2m_bin(), *args], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def main():
    with h.Workdir() as wd:
        keys = h.make_dkim_keys(wd.sub("dkim"), "example.test")
        d = wd.sub("f2m")
        cfg = h.default_config(d, dkim=keys)
        h.write_secret(cfg["smtp"]["password_file"], "pw\n")
        cfg["smtp"]["ca_file"] = "/etc/ssl/certs/ca-certificates.crt"
        good = os.path.join(d, "good.json")
        h.write_config(good, cfg)

        rc, out, err = f2m("check", "-c", good)
        check(rc == 0 and "ok" in out, "check of a good config", 0, (rc, out, err))
        rc, out, err = f2m("-c", good, "check")
        check(rc == 0, "-c before the subcommand", 0, (rc, err))
        env_rc = subprocess.run([h.f2m_bin(), "check"], env=dict(
            os.environ, FORM2MAIL_CONFIG=good), capture_output=True).returncode
        check(env_rc == 0, "FORM2MAIL_CONFIG", 0, env_rc)

        bad = os.path.join(d, "syntax.json")
        h.write_file(bad, '{\n  "workers": 2,\n  "forms": {,}\n}\n')
        rc, out, err = f2m("check", "-c", bad)
        check(rc == 2 and err.startswith(bad + ":3:"), "syntax error: exit 2 "
              "and file:line:column", (2, bad + ":3:"), (rc, err))

        rc, out, err = f2m("check", "-c", os.path.join(d, "missing.json"))
        check(rc == 2, "missing file: exit 2", 2, (rc, err))

        typo = dict(cfg, wrokers=3)
        p = os.path.join(d, "typo.json")
        h.write_config(p, typo)
        rc, out, err = f2m("check", "-c", p)
        check(rc == 1 and 'unknown key "wrokers" (did you mean "workers"?)'
              in err and err.startswith(p + ":"), "unknown key: exit 1 with "
              "did you mean", 1, (rc, err))

        os.chmod(keys.rsa_key, 0o644)
        rc, out, err = f2m("check", "-c", good)
        check(rc == 1 and keys.rsa_key in err and "group or others" in err,
              "key readable by others: exit 1, named", 1, (rc, err))
        os.chmod(keys.rsa_key, 0o600)

        # a key of the wrong algorithm: the Ed25519 key under rsa-sha256
        wrong = h.merge(cfg, {})
        wrong["dkim"][0]["key_file"] = keys.ed_key
        p = os.path.join(d, "wrongkey.json")
        h.write_config(p, wrong)
        rc, out, err = f2m("check", "-c", p)
        check(rc == 1 and keys.ed_key in err, "key of the wrong algorithm: "
              "exit 1", 1, (rc, err))

        tdir = wd.sub("templates")
        for n in os.listdir(os.path.join(h.REPO, "templates")):
            with open(os.path.join(h.REPO, "templates", n), "rb") as f:
                h.write_file(os.path.join(tdir, n), f.read())
        h.write_file(os.path.join(tdir, "mine.txt"), "{{name}} {{nosuch}}\n")
        tw = h.merge(cfg, {"templates_dir": tdir})
        tw["forms"]["contact"]["template"] = "mine"
        p = os.path.join(d, "tmplwarn.json")
        h.write_config(p, tw)
        rc, out, err = f2m("check", "-c", p)
        check(rc == 0 and 'warning: template mine.txt uses "nosuch", which '
              'is not a field of form "contact"' in err, "check warns about "
              "a template field that does not exist", 0, (rc, err))
        h.write_file(os.path.join(tdir, "mine.txt"), "{{#fields}}\n")
        rc, out, err = f2m("check", "-c", p)
        check(rc == 1 and "mine.txt:1:" in err, "a template that does not "
              "parse: exit 1, file:line:column", 1, (rc, err))

        # keygen + dns: the keys it makes sign mail that verifies against
        # the records dns prints (checked in unit test_keys); here the CLI
        kd = wd.sub("newkeys")
        rc, out, err = f2m("keygen", "--domain", "example.test", "--selector",
                           "k1", "--algorithm", "ed25519-sha256", "--out",
                           os.path.join(kd, "k1.pem"))
        check(rc == 0 and out.startswith('k1._domainkey.example.test. TXT '
              '"v=DKIM1; k=ed25519; p=') and os.stat(os.path.join(
                  kd, "k1.pem")).st_mode & 0o777 == 0o600,
              "keygen writes a 0600 key and prints its TXT record", 0,
              (rc, out, err))
        rc, out, err = f2m("keygen", "--domain", "example.test", "--selector",
                           "k1", "--out", os.path.join(kd, "k1.pem"))
        check(rc == 2, "keygen refuses to overwrite", 2, (rc, err))
        rc, out, err = f2m("dns", "-c", good, "--spf",
                           "include:_spf.example.net", "--rua",
                           "dmarc@example.test")
        check(rc == 0 and 'example.test. TXT "v=spf1 include:_spf.example.net'
              ' -all"' in out and "f2mr._domainkey.example.test. TXT" in out
              and '_dmarc.example.test. TXT "v=DMARC1; p=quarantine; '
              'rua=mailto:dmarc@example.test"' in out, "dns prints SPF, "
              "DKIM and DMARC records", None, (rc, out, err))

        rc, out, err = f2m("version")
        check(rc == 0 and out.startswith("form2mail "), "version", 0, out)
        rc, out, err = f2m("frobnicate")
        check(rc == 2 and "usage" in err, "unknown command: usage, exit 2",
              2, (rc, err))

        rc, out, err = f2m("queue", "list", "--json", "-c", good)
        check(rc == 0 and json.loads(out) == [], "queue list --json, empty",
              [], (rc, out, err))
        rc, out, err = f2m("queue", "-c", good, "show", "a" * 26)
        check(rc == 1 and "no such message" in err, "queue show of an absent "
              "id", 1, (rc, err))
        rc, out, err = f2m("queue", "-c", good, "show", "../../etc/passwd")
        check(rc == 2, "queue show refuses a path as id", 2, (rc, err))
        rc, out, err = f2m("queue", "-c", good, "retry")
        check(rc == 0, "queue retry with an empty queue", 0, (rc, err))

        # send-test: a sample through the workers' path into the queue.
        form = next(iter(cfg["forms"]))
        rc, out, err = f2m("send-test", "-c", good, form)
        check(rc == 0 and out.startswith("queued "), "send-test queues a "
              "sample", 0, (rc, out, err))
        sid = out.split()[1] if rc == 0 else ""
        rc, out, err = f2m("queue", "list", "--json", "-c", good)
        q = json.loads(out) if rc == 0 else []
        check([m.get("id") for m in q] == [sid], "send-test's message is "
              "the one queued", [sid], q)
        rc, out, err = f2m("queue", "-c", good, "show", sid)
        check(rc == 0 and "form2mail send-test" in out and
              "Message-ID: <%s@" % sid in out, "send-test message holds "
              "the sample and its id", None, (rc, out[:400], err))
        rc, out, err = f2m("send-test", "-c", good, "no-such-form")
        check(rc == 2 and "no-such-form" in err, "send-test of an unknown "
              "form: exit 2, named", 2, (rc, err))
        rc, out, err = f2m("queue", "-c", good, "delete", sid)
        check(rc == 0, "queue delete of the sample", 0, (rc, err))
    print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
