"""Spool entries that are not regular files (issue 16, F6).  Any process
of the service user can put a FIFO, a symbolic link or a directory under
an id's name in queue/, held/, failed/ or tmp/.  A FIFO used to hang the
open(2) of every reader: both deliverers stopped and `queue list` hung.

Now every spool file is opened O_NOFOLLOW|O_NONBLOCK and checked to be a
regular file; anything else is moved to spool_dir/bad/ (named
<state>.<id>.<kind>.<random>) and logged once.  Checked here, each command
under a timeout (an old binary hangs: the timeout is reported as a
failure, with the time it took):

  - `queue list` returns, lists the two genuine messages, moves the
    planted entries of queue/, held/ and failed/ aside, logs each once;
  - `queue show` of a FIFO in held/ returns;
  - `queue retry ID` with a FIFO at tmp/ID.defer (the rewrite's
    temporary name) returns and makes the message due;
  - `queue run --once` delivers the genuine messages past a FIFO;
  - `serve`: its deliverer delivers a message queued beside a new FIFO,
    moves the FIFO aside and logs it.
"""
import os
import pwd
import random
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import check  # noqa: E402

ALPHA = "abcdefghijklmnopqrstuvwxyz0123456789"
TIMEOUT = 20    # generous: the new build answers in well under a second


def new_id():
    return "".join(random.choice(ALPHA) for _ in range(26))


def timed_cli(f2m, *args, timeout=TIMEOUT):
    """-> (returncode or None on a timeout, stdout, stderr, seconds)."""
    t0 = time.monotonic()
    try:
        r = f2m.cli(*args, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "", "", time.monotonic() - t0
    return r.returncode, r.stdout, r.stderr, time.monotonic() - t0


def plant(path, kind, owner):
    if kind == "fifo":
        os.mkfifo(path, 0o600)
    elif kind == "symlink":
        os.symlink("/etc/passwd", path)
    else:
        os.mkdir(path, 0o700)
    os.chown(path, owner.pw_uid, owner.pw_gid, follow_symlinks=False)


def bad_entries(spool):
    try:
        return sorted(os.listdir(os.path.join(spool, "bad")))
    except FileNotFoundError:
        return []


def main():
    with h.Workdir() as wd:
        pki = h.make_pki(wd.sub("pki"))
        keys = h.make_dkim_keys(wd.sub("dkim"), "example.test")
        mta = h.Mta(wd.sub("mta"), pki)
        mta.start()
        d = wd.sub("f2m")
        cfg = h.default_config(d, mta=mta, pki=pki, dkim=keys)
        path = os.path.join(d, "form2mail.json")
        h.write_config(path, cfg)
        spool = cfg["spool_dir"]
        owner = pwd.getpwnam(cfg["user"])
        f2m = h.Form2mail(path)
        try:
            genuine = []
            for _ in range(2):
                r = f2m.cli("send-test", "contact")
                check(r.returncode == 0, "send-test queued a message", 0,
                      (r.returncode, r.stderr))
                genuine.append(r.stdout.split()[1])
            planted = {}
            for state, kind in (("queue", "fifo"), ("queue", "symlink"),
                                ("queue", "dir"), ("held", "fifo"),
                                ("failed", "fifo")):
                i = new_id()
                plant(os.path.join(spool, state, i), kind, owner)
                planted[i] = (state, kind)
            held_fifo = [i for i, v in planted.items() if v[0] == "held"][0]

            rc, out, err, sec = timed_cli(f2m, "queue", "list")
            print("queue list with %d planted entries: rc=%s in %.2f s" %
                  (len(planted), rc, sec))
            check(rc == 0, "queue list returns (no hang on a FIFO)", 0,
                  (rc, "%.1f s" % sec, err[-600:]))
            check(all(g in out for g in genuine), "queue list shows the "
                  "genuine messages", genuine, out[-600:])
            for i, (state, kind) in planted.items():
                check(not os.path.lexists(os.path.join(spool, state, i)),
                      "%s %s in %s/ moved away" % (kind, i, state))
                check(err.count(i) == 1 and "bad/" in err, "%s in %s/: "
                      "logged once" % (kind, state), 1, err[-800:])
            moved = bad_entries(spool)
            check(len(moved) == len(planted) and all(
                any(i in m for m in moved) for i in planted),
                "the planted entries are in bad/", sorted(planted), moved)
            rc, out, err, sec = timed_cli(f2m, "queue", "list")
            check(rc == 0 and not any(i in err for i in planted),
                  "a second queue list logs nothing more", "", (rc, err))

            # what a build that hangs left behind would hang every later
            # step: removed, so that each step is judged on its own
            for i, (state, kind) in planted.items():
                p = os.path.join(spool, state, i)
                if os.path.lexists(p):
                    print("removing the %s left in %s/" % (kind, state))
                    (os.rmdir if kind == "dir" else os.unlink)(p)

            # held/: queue show of a FIFO
            plant(os.path.join(spool, "held", held_fifo), "fifo", owner)
            rc, out, err, sec = timed_cli(f2m, "queue", "show", held_fifo)
            print("queue show of a FIFO in held/: rc=%s in %.2f s" % (rc, sec))
            check(rc == 1, "queue show of a FIFO returns (no such message)",
                  1, (rc, "%.1f s" % sec, err[-400:]))
            check(not os.path.lexists(os.path.join(spool, "held", held_fifo)),
                  "queue show moved the FIFO in held/ aside")

            # tmp/: the rewrite of `queue retry` goes through tmp/ID.defer
            tfifo = os.path.join(spool, "tmp", genuine[0] + ".defer")
            plant(tfifo, "fifo", owner)
            rc, out, err, sec = timed_cli(f2m, "queue", "retry", genuine[0])
            print("queue retry with a FIFO at tmp/ID.defer: rc=%s in %.2f s"
                  % (rc, sec))
            check(rc == 0, "queue retry returns past a FIFO in tmp/", 0,
                  (rc, "%.1f s" % sec, err[-400:]))
            check(not (os.path.lexists(tfifo) and
                       stat.S_ISFIFO(os.lstat(tfifo).st_mode)),
                  "tmp/ID.defer is no longer a FIFO")
            check(err.count(genuine[0] + ".defer") == 1 and "bad/" in err,
                  "the FIFO in tmp/ was moved aside and logged once", 1,
                  err[-400:])

            # queue run --once delivers past a FIFO in queue/
            qfifo = new_id()
            plant(os.path.join(spool, "queue", qfifo), "fifo", owner)
            rc, out, err, sec = timed_cli(f2m, "queue", "run", "--once",
                                          timeout=90)
            print("queue run --once past a FIFO: rc=%s in %.2f s" % (rc, sec))
            check(rc == 0, "queue run --once returns", 0,
                  (rc, "%.1f s" % sec, err[-600:]))
            got = 0
            try:
                mta.wait_messages(2, 30)
                got = 2
            except h.HarnessError as e:
                got = str(e)
            check(got == 2, "queue run --once delivered both genuine "
                  "messages", 2, got)
            check(err.count(qfifo) == 1, "queue run logged the FIFO once",
                  1, err[-600:])

            # serve: the deliverer does the same
            r = f2m.cli("send-test", "contact")
            third = r.stdout.split()[1] if r.returncode == 0 else None
            sfifo = new_id()
            plant(os.path.join(spool, "queue", sfifo), "fifo", owner)
            f2m.start()
            ok = True
            try:
                mta.wait_messages(3, 60)
            except h.HarnessError:
                ok = False
            check(ok and third is not None, "serve's deliverer delivered a "
                  "message queued beside a FIFO", 3, mta.by_message_id())
            try:
                h.wait_until(lambda: sfifo in f2m.log(), 30,
                             what="the FIFO logged by serve")
            except h.HarnessError:
                pass
            check(not os.path.lexists(os.path.join(spool, "queue", sfifo)),
                  "serve moved the FIFO aside")
            check(f2m.log().count(sfifo) == 1, "serve logged it once", 1,
                  f2m.log()[-800:])
            rc, out, err, sec = timed_cli(f2m, "queue", "list")
            check(rc == 0, "queue list still returns while serve runs", 0,
                  (rc, "%.1f s" % sec))
            log = f2m.log()
            check("AddressSanitizer" not in log and "runtime error" not in
                  log, "no sanitizer report in serve's log", None, log[-800:])
        finally:
            f2m.stop()
            mta.stop()
    return h.result()


if __name__ == "__main__":
    sys.exit(main())
