"""A short soak in the suite (scripts/soak runs 100,000 posts): 3,000 posts
through nginx, mixed valid, invalid and throttled; every accepted post
delivered exactly once; memory and descriptors of the long-lived processes
flat."""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import soak  # noqa: E402
from harness import FAILS, PASSED, check  # noqa: E402


def main():
    if not shutil.which("wrk"):
        check(False, "wrk is installed (scripts/deps)")
    else:
        with h.Workdir() as wd:
            # Half the posts as the burst, per hour: the other half is
            # throttled at any speed (150/1s was not, on a busy machine
            # that offered ~110 posts/s under ASan: no 429 at all).
            fig = soak.run(wd, 3000, conns=8, rate="1500/1h")
            print("soak: %s" % {k: v for k, v in fig.items()
                                 if k != "processes"})
            check(fig["answers"].get("429", 0) > 0 and
                  fig["answers"].get("422", 0) > 0, "the mix held throttled "
                  "and invalid posts", None, fig["answers"])
            check(fig["exit"] == 0, "clean stop", 0, fig["exit"])
    print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
