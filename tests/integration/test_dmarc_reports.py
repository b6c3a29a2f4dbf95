"""form2mail doctor --dmarc-reports DIR: aggregate reports (RFC 7489
Appendix C) as receivers send them, plain .xml, .xml.gz and a .zip of two
members, summarised per receiver and UTC day for the config's From domain
(example.test). A duplicate report counts once, a truncated one is named
with its line:column and the others are still read; a file that is not a
report's kind (.txt) is not opened. No DNS and no relay are needed."""
import gzip
import io
import os
import shutil
import subprocess
import sys
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import check  # noqa: E402

SEEDS = os.path.join(h.REPO, "tests", "fuzz", "corpus", "dmarc_report")

EXPECTED = [
    "warn  dmarc: google.com, 2025-12-05: 17 messages from example.test; "
    "DKIM aligned and passed 15, SPF aligned and passed 12, DMARC passed 15, "
    "failed 2",
    "warn  dmarc: google.com, 2025-12-05: 2 messages from 198.51.100.7 with "
    "header_from example.test failed DMARC (dkim none, spf softfail)",
    "ok    dmarc: Outlook.com, 2025-12-06: 5 messages from example.test; "
    "DKIM aligned and passed 4, SPF aligned and passed 5, DMARC passed 5, "
    "failed 0",
    "warn  dmarc: Yahoo, 2025-12-05: 7 messages from example.test; "
    "DKIM aligned and passed 6, SPF aligned and passed 0, DMARC passed 6, "
    "failed 1",
    "warn  dmarc: Yahoo, 2025-12-05: 1 message from 198.51.100.7 with "
    "header_from example.test failed DMARC (dkim fail, spf fail)",
    "FAIL  dmarc: 6 files, 3 reports read, 2 unreadable, 1 duplicate; "
    "5 messages in 1 record skipped (header_from not example.test)",
]


def doctor(cfg, *args):
    p = subprocess.run([h.f2m_bin(), "doctor", "-c", cfg, *args],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=60, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def main():
    with h.Workdir() as wd:
        d = wd.sub("f2m")
        keys = h.make_dkim_keys(wd.sub("dkim"), "example.test")
        cfg = h.default_config(d, dkim=keys)
        h.write_secret(cfg["smtp"]["password_file"], "pw\n")
        conf = os.path.join(d, "form2mail.json")
        h.write_config(conf, cfg)
        rep = h.makedirs(wd.sub("reports"))

        def seed(name):
            with open(os.path.join(SEEDS, name), "rb") as f:
                return f.read()

        shutil.copy(os.path.join(SEEDS, "google.xml"),
                    os.path.join(rep, "a-google.xml"))
        shutil.copy(os.path.join(SEEDS, "google.xml"),
                    os.path.join(rep, "b-google-again.xml"))
        with open(os.path.join(rep, "c-outlook.xml.gz"), "wb") as f:
            f.write(gzip.compress(seed("outlook.xml")))
        b = io.BytesIO()
        with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("yahoo!example.test!1764892800!1764979199.xml",
                       seed("yahoo.xml"))
            z.writestr("README.txt", b"not a report\n")
        with open(os.path.join(rep, "d-yahoo.zip"), "wb") as f:
            f.write(b.getvalue())
        trunc = seed("yahoo.xml")[:200]
        with open(os.path.join(rep, "e-truncated.xml"), "wb") as f:
            f.write(trunc)
        with open(os.path.join(rep, "f-bomb.xml.gz"), "wb") as f:
            f.write(gzip.compress(b"<" * (17 << 20)))
        h.write_file(os.path.join(rep, "notes.txt"), "not read\n")

        rc, out, err = doctor(conf, "--dmarc-reports", rep)
        lines = out.splitlines()
        summary = [ln for ln in lines if not ln.startswith(("FAIL  dmarc: e-",
                   "FAIL  dmarc: f-", "skip  "))]
        check(summary == EXPECTED, "the summary per receiver and day",
              "\n".join(EXPECTED), out)
        check(rc == 1, "exit 1: a file could not be read", 1, (rc, err))
        tl = trunc.count(b"\n") + 1
        tc = len(trunc) - trunc.rfind(b"\n")
        want = "FAIL  dmarc: e-truncated.xml: %d:%d: unexpected end" % (tl, tc)
        check(any(ln.startswith(want) for ln in lines),
              "the truncated file named with line:column", want, out)
        check("FAIL  dmarc: f-bomb.xml.gz: decompressed over the size limit"
              in lines, "the gzip bomb refused", None, out)
        check("skip  dmarc: b-google-again.xml: report 17351946735483927761 "
              "of google.com already read" in lines, "the duplicate named",
              None, out)
        check("notes.txt" not in out and "README" not in out,
              "other files not read", None, out)

        for n in ("e-truncated.xml", "b-google-again.xml", "f-bomb.xml.gz"):
            os.unlink(os.path.join(rep, n))
        rc, out, err = doctor(conf, "--dmarc-reports", rep)
        check(rc == 0 and out.splitlines()[-1].startswith(
              "ok    dmarc: 3 files, 3 reports read, 0 unreadable"),
              "all readable: exit 0", 0, (rc, out, err))

        rc, out, err = doctor(conf, "--dmarc-reports",
                              os.path.join(rep, "missing"))
        check(rc == 2 and "FAIL  dmarc: cannot read" in out,
              "a missing directory: exit 2", 2, (rc, out, err))
        rc, out, err = doctor(conf, "--dmarc-report", rep)
        check(rc == 2 and "--dmarc-reports DIR" in err, "usage names the "
              "option", 2, (rc, err))
    return h.result()


if __name__ == "__main__":
    sys.exit(main())
