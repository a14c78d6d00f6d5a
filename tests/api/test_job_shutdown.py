"""Issue 8 #6: a server stops on SIGTERM even while a job is stuck (a read that never returns): the
job is cancelled, given a grace period, then left to die with the process (the OS drops its lock)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

STUCK_JOB = textwrap.dedent("""
    import sys, threading, time
    from xmodal.api import jobs
    from xmodal.config import Settings

    class StuckEngine:
        def index(self, *args, **kwargs):
            threading.Event().wait()  # ignores cancellation, as a blocked read would

    jobs.SHUTDOWN_GRACE = 0.2
    runner = jobs.JobRunner(Settings(allowed_roots=[sys.argv[1]]), StuckEngine())
    job, queued = runner.submit([sys.argv[1]]), runner.submit([sys.argv[1]])
    while job.status != "running":
        time.sleep(0.01)
    runner.shutdown()
    print("stopped", job.status, queued.status, flush=True)
""")


def test_shutdown_does_not_wait_forever_for_a_stuck_job(tmp_path: Path) -> None:
    try:
        result = subprocess.run(
            [sys.executable, "-c", STUCK_JOB, str(tmp_path)], capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        raise AssertionError("the process did not end: shutdown waited for the stuck job") from None
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["stopped", "running", "cancelled"]
