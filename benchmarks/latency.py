"""Time from IMAP APPEND to the reply reaching the SMTP server, with ``intake run`` idling.

Run: python benchmarks/latency.py [N]   (default 50 messages, one at a time)
Starts a private Dovecot and aiosmtpd on 127.0.0.1, an ``intake run`` process against them,
appends N messages one after another and prints the median and 95th percentile (and the same
less the time Dovecot itself takes to tell an idling client of new mail, measured first with a
plain IMAP client: a fixed delay in Dovecot, 500 ms, that no client can shorten); then a burst
(``BURST`` messages from as many units, appended within ``BURST_SECONDS``, as in the last minutes
before 17:00) and how long after its own arrival the last and the slowest reply came.
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
    UNITS,
    DovecotServer,
    SmtpServer,
    byte_compiled,
    percentile,
    submission,
    write_config,
)


def main(count: int = 50) -> None:
    """Measure ``count`` round trips and print the figures."""
    byte_compiled()
    work = Path(tempfile.mkdtemp(prefix="intake-latency-"))
    dovecot, smtp = DovecotServer(), SmtpServer()
    dovecot.start()
    smtp.start()
    config = write_config(
        work,
        dovecot=dovecot,
        smtp=smtp,
        # one address sends the round trips and every fifth burst message: above the daily
        # cap per address (50 by default) the rest would rightly go unanswered
        replies_per_day=count + BURST,
        service='poll_interval = 3600\nreminders = []\nafter_deadline_notice = ""',
    )
    floor = _idle_floor(dovecot)
    print(
        f"Dovecot's IDLE notice alone (APPEND -> EXISTS at an idling client, {len(floor)} probes): "
        f"median {statistics.median(floor) * 1000:.0f} ms, max {max(floor) * 1000:.0f} ms"
    )
    log = open(work / "run.log", "ab")  # noqa: SIM115 - the service's output for the whole run
    service = subprocess.Popen(
        [*INTAKE, "--config", str(config), "run"], stdout=log, stderr=log, env=INTAKE_ENV, cwd=work
    )
    try:
        if not _wait(lambda: "服务已启动" in (work / "run.log").read_text("utf-8", "replace"), 60):
            raise SystemExit(f"intake run did not start; see {work / 'run.log'}")
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
        last, slowest = _burst(dovecot, smtp)
        own = [value - statistics.median(floor) for value in latencies]
        print(
            f"  less Dovecot's IDLE notice (its median): median "
            f"{statistics.median(own) * 1000:.0f} ms, p95 {percentile(own, 0.95) * 1000:.0f} ms"
        )
        print(
            f"latency: median {statistics.median(latencies) * 1000:.0f} ms, "
            f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms (Dovecot's IDLE notice "
            f"{statistics.median(floor) * 1000:.0f} ms of each); burst of {BURST} in "
            f"{BURST_SECONDS} s: last reply {last:.1f} s after its arrival, slowest {slowest:.1f} s"
        )
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(60)
        smtp.stop()
        dovecot.cleanup()


BURST, BURST_SECONDS = 40, 20


def _idle_floor(dovecot: DovecotServer, probes: int = 10) -> list[float]:
    """How long Dovecot takes to tell an idling client of an APPEND (it delays every mailbox
    change notice by a fixed 500 ms, ``NOTIFY_DELAY_MSECS``), timed like the round trips
    below: from before the APPEND. The probe messages are removed again."""
    delays = []
    with dovecot.session() as watcher:
        watcher.select_folder("INBOX")
        for number in range(probes):
            watcher.idle()
            start = time.perf_counter()
            dovecot.append(
                f"Subject: probe {number}\r\nMessage-ID: <probe{number}@x>\r\n\r\nx\r\n".encode(),
                internaldate=DEADLINE,
            )
            while not any(r[1:2] == (b"EXISTS",) for r in watcher.idle_check(timeout=10)):
                if time.perf_counter() - start > 10:
                    raise SystemExit("Dovecot sent no IDLE notice in 10 s")
            delays.append(time.perf_counter() - start)
            watcher.idle_done()
        watcher.delete_messages(watcher.search("ALL"))
        watcher.expunge()
    return delays


def _burst(dovecot: DovecotServer, smtp: SmtpServer) -> tuple[float, float]:
    """Append ``BURST`` messages within ``BURST_SECONDS``; the delay of the last one's reply and
    of the slowest, each after its own arrival."""
    seen, arrived, answered = len(smtp.messages), {}, {}
    start = time.perf_counter()
    for number in range(BURST):
        moment = DEADLINE - timedelta(minutes=BURST - number)
        key = f"burst{number}@example.edu.cn"
        unit, _aliases, (address,) = UNITS[number % len(UNITS)]
        raw = submission(unit, address, arrived=moment, message_id=f"<{key}>")
        while time.perf_counter() - start < number * BURST_SECONDS / BURST:
            _collect(smtp, seen, answered)
            time.sleep(0.005)
        dovecot.append(raw, internaldate=moment)
        arrived[f"<{key}>"] = time.perf_counter()
    end = time.monotonic() + 300
    while len(answered) < BURST and time.monotonic() < end:
        _collect(smtp, seen, answered)
        time.sleep(0.005)
    delays = [answered[k] - arrived[k] for k in arrived if k in answered]
    if len(delays) < BURST:
        raise SystemExit(f"only {len(delays)} of {BURST} burst messages were answered")
    last = max(arrived, key=arrived.get)
    return answered[last] - arrived[last], max(delays)


def _collect(smtp: SmtpServer, seen: int, answered: dict[str, float]) -> None:
    """Note when each new reply reached the SMTP server, by the message it answers."""
    from email import message_from_bytes
    from email.policy import default as default_policy

    now = time.perf_counter()
    for received in smtp.messages[seen + len(answered) :]:
        key = str(message_from_bytes(received.data, policy=default_policy)["In-Reply-To"])
        answered.setdefault(key, now)


def _wait(condition, timeout: float) -> bool:  # noqa: ANN001
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.005)
    return False


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
