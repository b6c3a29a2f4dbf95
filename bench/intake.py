"""intake.py: bench/intake.c in Python (smtplib), to show whether a Python
client would itself be the bottleneck of the MTA intake figure.  Pushes one
pre-signed message N times over one SMTP_SSL connection (TLS and AUTH
once) and prints {"sent":N,"failed":F,"seconds":S}.

  intake.py HOST PORT USER PASSWORD_FILE CA_FILE FROM RCPT N MESSAGE_FILE
"""
import json
import smtplib
import ssl
import sys
import time


def main():
    if len(sys.argv) != 10:
        print(__doc__, file=sys.stderr)
        return 2
    host, port, user, pwf, ca, frm, rcpt, n, msgf = sys.argv[1:]
    with open(pwf) as f:
        pw = f.read()
    if pw.endswith("\n"):
        pw = pw[:-1]
    with open(msgf, "rb") as f:
        msg = f.read()
    ctx = ssl.create_default_context(cafile=ca)
    failed = 0
    t0 = time.monotonic()
    with smtplib.SMTP_SSL(host, int(port), context=ctx) as s:
        s.login(user, pw)
        for _ in range(int(n)):
            try:
                s.sendmail(frm, [rcpt], msg)
            except smtplib.SMTPException as e:
                print("intake.py: %s" % e, file=sys.stderr)
                failed += 1
    dt = time.monotonic() - t0
    print(json.dumps({"sent": int(n) - failed, "failed": failed,
                      "seconds": round(dt, 4)}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
