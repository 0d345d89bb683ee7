"""Messages per second for a 200-message campaign fetched from Dovecot, beside getmail6 as the
floor.

Run: python benchmarks/throughput.py [N]   (default 200; needs Debian's getmail6 for the floor)
The same mailbox is read by ``intake poll`` (fetch, store, parse every attachment, record, queue
and send a reply) and by ``getmail`` (fetch into a Maildir, nothing else). Then one more message
arrives, its summary scan a 30 MB PDF (11 pages at 300 dpi), and a second ``intake poll`` (the
database now exists, as on every poll after the first) reads it: the peak resident memory of
both polls' process trees is printed. The checkout is byte-compiled first, as an installed
package is (``byte_compiled``).
"""

from __future__ import annotations

import shutil
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
    TreeRss,
    byte_compiled,
    four_items,
    submission,
    write_config,
)

UNITS = [
    "机械工程与自动化学院分党委",
    "材料科学与工程学院分党委",
    "经济管理学院分党委",
    "计算机学院分党委",
    "外国语学院分党委",
]
ADDRESSES = ["jixie", "cailiao", "jingguan", "jsj", "waiyu"]


def main(count: int = 200) -> None:
    """Fill a mailbox with ``count`` realistic messages and time both readers."""
    byte_compiled()
    work = Path(tempfile.mkdtemp(prefix="intake-throughput-"))
    work.chmod(0o755)  # getmail's delivery user must reach the Maildir below it
    dovecot, smtp = DovecotServer(), SmtpServer()
    dovecot.start()
    smtp.start()
    try:
        for number in range(count):
            moment = DEADLINE - timedelta(days=2, minutes=-number)
            unit = number % len(UNITS)
            dovecot.append(
                submission(
                    UNITS[unit],
                    f"{ADDRESSES[unit]}@example.edu.cn",
                    arrived=moment,
                    message_id=f"<tp{number}@example.edu.cn>",
                ),
                internaldate=moment,
            )
        size = sum(p.stat().st_size for p in Path(dovecot.root).rglob("*") if p.is_file())
        print(
            f"{count} messages in the mailbox ({size / 1e6:.1f} MB on disk, four attachments each)"
        )
        floor = _getmail(work, dovecot)
        if floor is not None:
            print(f"  getmail6 to a Maildir (floor): {floor:.2f} s, {count / floor:.1f} messages/s")
        config = write_config(work, dovecot=dovecot, smtp=smtp, replies_per_day=count)
        config.write_text(
            config.read_text(encoding="utf-8").replace("batch_size = 3", "batch_size = 25"),
            encoding="utf-8",
        )
        took, memory = _timed_poll(work, config)
        print(
            f"  intake poll (fetch, store, parse, record, reply): {took:.2f} s, "
            f"{count / took:.1f} messages/s, {len(smtp.messages)} replies"
        )
        ratio = f"{took / floor:.2f}" if floor else "n/a"
        getmail = f"{floor:.1f} s" if floor else "n/a"
        print(f"  peak RSS of intake poll and its parsing workers: {memory.peak / 2**20:.0f} MB")
        print(f"    at the peak: {memory.composition()}")
        print(f"  peak PSS (shared pages counted once): {memory.pss_peak / 2**20:.0f} MB")
        big = _big_attachment_poll(work, dovecot, config, count)
        print(
            f"throughput: intake {took:.1f} s, getmail6 {getmail}, ratio {ratio}; peak RSS "
            f"{memory.peak / 2**20:.0f} MB, with a 30 MB attachment {big.peak / 2**20:.0f} MB"
        )
    finally:
        smtp.stop()
        dovecot.cleanup()
        shutil.rmtree(work, ignore_errors=True)


def _big_attachment_poll(work: Path, dovecot: DovecotServer, config: Path, count: int) -> TreeRss:
    """One more message, its summary scan a 30 MB PDF, read by a second ``intake poll``; the
    memory of its process tree, printed."""
    from seals import big_pdf

    path = work / "big-scan.pdf"
    size = big_pdf(str(path))
    unit = count % len(UNITS)
    moment = DEADLINE - timedelta(days=1)
    items = four_items(UNITS[unit])
    items[1] = (items[1][0], path.read_bytes())  # the stamped summary scan, now 300 dpi
    dovecot.append(
        submission(
            UNITS[unit],
            f"{ADDRESSES[unit]}@example.edu.cn",
            arrived=moment,
            attachments=items,
            message_id="<tp-big@example.edu.cn>",
        ),
        internaldate=moment,
    )
    took, memory = _timed_poll(work, config)
    print(
        f"  a message with a {size / 1e6:.1f} MB scan PDF, a second intake poll: "
        f"{took:.2f} s, peak RSS {memory.peak / 2**20:.0f} MB ({memory.composition()})"
    )
    return memory


def _timed_poll(work: Path, config: Path) -> tuple[float, TreeRss]:
    """Seconds and the memory of the process tree of one ``intake poll``."""
    start = time.perf_counter()
    poll = subprocess.Popen(
        [*INTAKE, "--config", str(config), "poll"],
        env=INTAKE_ENV,
        cwd=work,
        stdout=subprocess.DEVNULL,
    )
    with TreeRss(poll.pid) as memory:
        if poll.wait() != 0:
            raise SystemExit(f"intake poll failed ({poll.returncode})")
    return time.perf_counter() - start, memory


def _getmail(work: Path, dovecot: DovecotServer) -> float | None:
    getmail = shutil.which(
        "getmail", path="/usr/bin:/bin"
    )  # Debian's, not a shim of another Python
    if not getmail:
        print("  getmail6 not installed (apt-get install getmail6): no floor measured")
        return None
    maildir = work / "getmail-maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
        shutil.chown(
            maildir / sub, "mail", "mail"
        )  # getmail delivers as this user when run as root
    shutil.chown(maildir, "mail", "mail")
    rc = work / "getmailrc"
    rc.write_text(
        f"""[retriever]
type = SimpleIMAPRetriever
server = {dovecot.host}
port = {dovecot.port}
username = {dovecot.user}
password = {dovecot.password}
mailboxes = ("INBOX",)

[destination]
type = Maildir
path = {maildir}/
user = mail

[options]
read_all = true
delete = false
verbose = 0
""",
        encoding="utf-8",
    )
    start = time.perf_counter()
    done = subprocess.run(
        [getmail, f"--getmaildir={work}", f"--rcfile={rc}"], capture_output=True, text=True
    )
    if done.returncode != 0:
        print(f"  getmail6 failed ({done.returncode}): {done.stderr.strip()[-300:]}")
        return None
    return time.perf_counter() - start


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
