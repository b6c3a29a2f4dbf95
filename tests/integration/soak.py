"""Soak: N posts through nginx (wrk, HTTPS, keep-alive), mixed valid,
invalid (422) and throttled (429) ones, into form2mail with a real
Postfix + Dovecot behind it.  Checks that every accepted post (its id is
recorded from the answer) is delivered exactly once by Message-ID, and
that the resident memory and the open descriptors of every long-lived
process (master, workers, nginx) stay flat from the warm-up to the end.
The deliverer is sampled too; it hands over to a fresh process every 5000
messages by design (deliver.h), so its figures are reported per process.

Used by scripts/soak (100,000 posts) and tests/integration/test_soak.py (a
short run in the suite).  run() returns the figures; checks go through
harness.check."""
import glob
import os
import re
import signal
import subprocess
import threading
import time

import harness as h
from harness import check

# Thread-local request rotation: 3 valid posts, 1 invalid (no email).  The
# throttle charges every post before validation, so once the per_form rate
# is exceeded part of both kinds is 429.
WRK_LUA = r"""
local n = 0
function setup(thread)
  n = n + 1
  thread:set("idx", n)
end
local bodies = {
  "name=Ada+Soak&email=ada%40example.org&message=" .. string.rep("v", 900),
  "name=Zo%C3%A9+Soak&email=zoe%40example.org&message=Bonjour+%C3%A0+tous%0D%0A" .. string.rep("w", 880),
  "name=Bob+Soak&email=bob%40example.net&message=" .. string.rep("x", 900),
  "name=Eve+Soak&message=no+address+given"
}
local k = 0
local limit = 0
local sent = 0
local got = 0
function init(args)
  out = io.open(args[1] .. "." .. idx, "w")
  limit = tonumber(args[2])
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Accept"] = "application/json"
end
function request()
  k = k % #bodies + 1
  sent = sent + 1
  return wrk.format("POST", nil, nil, bodies[k])
end
function response(status, headers, body)
  if status == 200 then
    local id = string.match(body, '"id": *"([a-z0-9]+)"')
    out:write((id or "?") .. "\n")
  else
    out:write("#" .. status .. "\n")
  end
  out:flush()
  got = got + 1
  if limit > 0 and got >= limit then
    wrk.thread:stop()
  end
end
"""


def _fds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except (FileNotFoundError, PermissionError):
        return None


def _roles(f2m):
    """{pid: role} of the master and its live children, from the log."""
    kids = set(f2m.pids())
    out = {f2m.pid: "master"}
    for pid, role in re.findall(r"form2mail\[(\d+)\] (worker|deliverer) ",
                                f2m.log()):
        if int(pid) in kids:
            out[int(pid)] = role
    return out


def _sample(f2m, ngx):
    s = {}
    for pid, role in _roles(f2m).items():
        s[pid] = (role, h.proc_rss_kb(pid), h.proc_rss_kb(pid, "RssAnon"),
                  _fds(pid))
    for pid in ngx.pids():
        s[pid] = ("nginx", h.proc_rss_kb(pid), h.proc_rss_kb(pid, "RssAnon"),
                  _fds(pid))
    return s


def run(wd, n_posts, conns=16, rate="300/1s", valgrind=False, report=print):
    """One soak of n_posts; returns a dict of figures.  With valgrind,
    form2mail runs under memcheck (children traced) and the figures
    include each process's error summary.

    `rate` is the contact form's per_form throttle (GCRA: a burst of N,
    then one per PERIOD/N).  A per-second rate is throttled only while
    the machine offers more than that, which a busy one may not: a rate
    whose burst is a fraction of n_posts over a long period throttles the
    rest whatever the speed.  The warm-up posts to a form of its own
    (`warmup`, the same fields), so it charges nothing to `contact`."""
    sanitized = os.environ.get("F2M_SANITIZED", "").upper() in ("1", "ON",
                                                                "TRUE")
    pki = h.make_pki(wd.sub("pki"))
    keys = h.make_dkim_keys(wd.sub("dkim"), "example.test")
    mta = h.Mta(wd.sub("mta"), pki)
    mta.start()
    d = wd.sub("f2m")
    cfg = h.default_config(d, mta=mta, pki=pki, dkim=keys)
    cfg["duplicate_window"] = 0
    cfg["workers"] = 2
    cfg["throttle"] = {"per_form": rate}
    cfg["forms"]["contact"]["recipients"] = ["sales@example.test"]
    cfg["forms"]["warmup"] = cfg["forms"]["contact"]
    path = os.path.join(d, "form2mail.json")
    h.write_config(path, cfg)
    binary = h.f2m_bin()
    vg_log = os.path.join(d, "valgrind.%p.log")
    env = None
    if valgrind:
        supp = os.path.join(h.REPO, "tests", "valgrind.supp")
        wrapper = os.path.join(d, "f2m-valgrind")
        h.write_file(wrapper, "#!/bin/sh\nexec valgrind --tool=memcheck "
                     "--trace-children=yes --child-silent-after-fork=no --num-callers=40 "
                     "--leak-check=full --show-leak-kinds=definite "
                     "--errors-for-leak-kinds=definite --error-exitcode=99 "
                     "--suppressions=%s --log-file=%s %s \"$@\"\n" %
                     (supp, vg_log, binary), 0o755)
        binary = wrapper
    f2m = h.Form2mail(path, binary=binary, env=env)
    f2m.start(timeout=120 if valgrind else h.DEFAULT_TIMEOUT)
    ngx = h.Nginx(wd.sub("nginx"), pki, f2m.socket)
    ngx.start()
    script = os.path.join(d, "soak.lua")
    h.write_file(script, WRK_LUA)
    ids_base = os.path.join(d, "answers")
    fig = {"posts": n_posts}
    samples = []
    stop = threading.Event()

    def sampler():
        while not stop.wait(2.0):
            samples.append((time.monotonic(), _sample(f2m, ngx)))
    try:
        # Warm-up with the same load: the processes map what they need
        # once, nginx sets up its buffers for every connection (its own
        # posts are not counted below, nor charged to contact's rate).
        subprocess.run(
            ["wrk", "-t", "2", "-c", str(conns), "-d", "3s", "-s", script,
             ngx.base_url + "/f2m/warmup", "--", ids_base + "-warm", "0"],
            capture_output=True, timeout=120)
        time.sleep(1.0)
        first = _sample(f2m, ngx)
        th = threading.Thread(target=sampler, daemon=True)
        th.start()
        t0 = time.monotonic()
        threads = 2
        per_thread = (n_posts + threads - 1) // threads
        wrk = subprocess.Popen(
            ["wrk", "-t", str(threads), "-c", str(conns), "-d", "3600s",
             "--timeout", "30s", "-s", script, ngx.base_url + "/f2m/contact",
             "--", ids_base, str(per_thread)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

        def lines(path):
            try:
                with open(path, "rb") as fh:
                    return fh.read().count(b"\n")
            except FileNotFoundError:
                return 0
        # A wrk thread stops itself after its share (thread:stop()), but
        # wrk's main thread waits out -d: stop it with SIGINT once both
        # shares are in.
        while wrk.poll() is None and sum(
                lines("%s.%d" % (ids_base, i + 1)) >= per_thread
                for i in range(threads)) < threads:
            time.sleep(0.5)
        wrk.send_signal(signal.SIGINT)
        out = wrk.communicate(timeout=60)[0]
        fig["post_seconds"] = round(time.monotonic() - t0, 1)
        answers = []
        for f in glob.glob(ids_base + ".*"):
            with open(f) as fh:
                answers += fh.read().split()
        ids = [a for a in answers if not a.startswith("#") and a != "?"]
        status = {}
        for a in answers:
            k = a[1:] if a.startswith("#") else ("200" if a != "?" else "?")
            status[k] = status.get(k, 0) + 1
        fig["answers"] = status
        fig["accepted"] = len(ids)
        check("Socket errors" not in out, "wrk: no socket errors",
              None, out[-600:])
        check(set(status) <= {"200", "422", "429"}, "only 200, 422 and 429 "
              "answers", ["200", "422", "429"], status)
        check(len(answers) >= n_posts, "wrk sent the posts asked for",
              n_posts, len(answers))
        check(len(set(ids)) == len(ids), "one id per accepted post",
              len(ids), len(set(ids)))
        host = h.message_id_domain(cfg)
        want = set("<%s@%s>" % (i, host) for i in ids)
        seen = {}      # Maildir file name -> Message-ID, read once each
        mid_re = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]*>)", re.M | re.I)

        def scan():
            d = os.path.join(mta.maildir, "new")
            try:
                names = os.listdir(d)
            except FileNotFoundError:
                return
            for name in names:
                if name in seen:
                    continue
                try:
                    with open(os.path.join(d, name), "rb") as fh:
                        m = mid_re.search(fh.read(16384))
                except FileNotFoundError:
                    continue
                seen[name] = m.group(1).decode() if m else None

        def delivered():
            scan()
            return want <= set(seen.values())
        t1 = time.monotonic()
        try:
            h.wait_until(delivered, max(120, len(want) / 20), interval=1.0,
                         what="%d messages in the Maildir" % len(want))
        except h.HarnessError:
            pass
        fig["drain_seconds"] = round(time.monotonic() - t1, 1)
        fig["end_to_end_seconds"] = round(time.monotonic() - t0, 1)
        time.sleep(2.0)
        last = _sample(f2m, ngx)
        scan()
        got = {}
        for mid in seen.values():
            got[mid] = got.get(mid, 0) + 1
        missing = [m for m in want if not got.get(m)]
        twice = [m for m in want if got.get(m, 0) > 1]
        fig["delivered"] = sum(1 for m in want if got.get(m))
        fig["duplicates"] = len(twice)
        check(not missing, "every accepted post delivered (%d)" % len(want),
              0, (len(missing), missing[:3]))
        check(not twice, "each delivered exactly once", 0, twice[:3])
        # Flat: the same long-lived pids at the end, within a small slack.
        rows = []
        for pid, (role, rss0, anon0, fd0) in sorted(first.items(),
                                                    key=lambda kv: kv[1][0]):
            if role == "deliverer":
                continue
            role1, rss1, anon1, fd1 = last.get(pid, (role, None, None, None))
            rows.append((role, pid, rss0, rss1, anon0, anon1, fd0, fd1))
            check(rss1 is not None, "%s %d still alive at the end" %
                  (role, pid))
            if rss1 is None:
                continue
            # Under memcheck the figures are valgrind's own (its
            # translation cache grows with each new code path), under ASan
            # its quarantine of freed memory (up to 256 MiB): report only.
            slack = 256
            check(valgrind or sanitized or anon1 - anon0 <= slack, "%s %d private memory flat "
                  "(RssAnon KiB, slack %d)" % (role, pid, slack),
                  anon0, anon1)
            check(fd1 == fd0, "%s %d open descriptors flat" % (role, pid),
                  fd0, fd1)
        dl = sorted({pid: v for s in [first] + [x[1] for x in samples] +
                     [last] for pid, v in s.items()
                     if v[0] == "deliverer"}.items())
        for pid, (role, rss, anon, fds) in dl:
            rows.append(("deliverer", pid, None, rss, None, anon, None, fds))
        fig["processes"] = rows
        fig["samples"] = len(samples)
        report("%-9s %7s %9s %9s %9s %9s %4s %4s" % (
            "process", "pid", "rss0", "rss1", "anon0", "anon1", "fd0",
            "fd1"))
        for r in rows:
            report("%-9s %7d %9s %9s %9s %9s %4s %4s" % tuple(
                "-" if x is None else x for x in r))
    finally:
        stop.set()
        ngx.stop()
        rc = f2m.stop(timeout=120 if valgrind else h.DEFAULT_TIMEOUT)
        mta.stop()
    fig["exit"] = rc
    if valgrind:
        fig["valgrind"] = {}
        for f in sorted(glob.glob(vg_log.replace("%p", "*"))):
            with open(f) as fh:
                t = fh.read()
            m = re.search(r"ERROR SUMMARY: (\d+) errors", t)
            lost = re.search(r"definitely lost: ([\d,]+) bytes", t)
            fig["valgrind"][os.path.basename(f)] = (
                int(m.group(1)) if m else None,
                lost.group(1) if lost else "0")
            check(m is not None and m.group(1) == "0", "valgrind: no error "
                  "in %s" % os.path.basename(f), 0, t[-3000:])
    return fig
