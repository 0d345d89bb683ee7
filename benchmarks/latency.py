"""Time from IMAP APPEND to the reply reaching the SMTP server, with ``intake run`` idling.

Run: python benchmarks/latency.py [N]   (default 50 messages, one at a time)
Starts a private Dovecot and aiosmtpd on 127.0.0.1, an ``intake run`` process against them,
appends N messages one after another and prints the median and 95th percentile.
"""

from __future__ import annotations

import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from _servers import (
    DEADLINE,
    INTAKE,
    INTAKE_ENV,
    DovecotServer,
    SmtpServer,
    percentile,
    submission,
    write_config,
)


def main(count: int = 50) -> None:
    """Measure ``count`` round trips and print the figures."""
    work = Path(tempfile.mkdtemp(prefix="intake-latency-"))
    dovecot, smtp = DovecotServer(), SmtpServer()
    dovecot.start()
    smtp.start()
    config = write_config(
        work,
        dovecot=dovecot,
        smtp=smtp,
        service='poll_interval = 3600\nreminders = []\nafter_deadline_notice = ""',
    )
    log = open(work / "run.log", "ab")  # noqa: SIM115 - the service's output for the whole run
    service = subprocess.Popen(
        [*INTAKE, "--config", str(config), "run"], stdout=log, stderr=log, env=INTAKE_ENV, cwd=work
    )
    try:
        _wait(lambda: b"service started" in (work / "run.log").read_bytes(), 60)
        time.sleep(1.0)
        latencies = []
        for number in range(count):
            moment = DEADLINE - timedelta(days=1, minutes=-number)
            raw = submission(
                "机械工程与自动化学院分党委",
                "jixie@example.edu.cn",
                arrived=moment,
                message_id=f"<latency{number}@example.edu.cn>",
            )
            before = len(smtp.messages)
            start = time.perf_counter()
            dovecot.append(raw, internaldate=moment)
            if not _wait(lambda before=before: len(smtp.messages) > before, 60):
                raise SystemExit(f"no reply for message {number}; see {work / 'run.log'}")
            latencies.append(time.perf_counter() - start)
        print(
            f"APPEND -> reply at the SMTP server, {count} messages (four attachments each), IDLE:"
        )
        print(
            f"  median {statistics.median(latencies) * 1000:.0f} ms, "
            f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms"
        )
        print(
            f"latency: median {statistics.median(latencies) * 1000:.0f} ms, "
            f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms"
        )
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(60)
        smtp.stop()
        dovecot.cleanup()


def _wait(condition, timeout: float) -> bool:  # noqa: ANN001
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.005)
    return False


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
