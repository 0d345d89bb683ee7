"""``intake demo``: a sample campaign run end to end on local files, for a newcomer's first look."""

from __future__ import annotations

from pathlib import Path

from rich.progress import Progress

from .config import load_settings
from .localsource import iter_messages
from .reporting import console as make_console
from .reporting import report_data
from .service import import_messages, open_pipeline


def run_demo(directory: Path) -> int:
    """Write the sample campaign into ``directory``, run the pipeline over it, print the
    dashboard."""
    from tracker.exports import render_table

    from .samples.campaign import write_demo_campaign

    console = make_console()
    campaign = write_demo_campaign(directory)
    settings = load_settings(campaign.config_path)
    sessions, pipeline = open_pipeline(settings)
    messages = list(iter_messages([campaign.maildir], max_message_bytes=settings.max_message_bytes))
    with Progress(console=console, transient=False) as progress:
        task = progress.add_task("处理示例邮件", total=len(messages))
        result = import_messages(
            settings, pipeline, sessions, messages, progress=lambda _outcome: progress.advance(task)
        )
    console.print(render_table(report_data(settings, sessions)))
    console.print(
        f"本次新处理 {result.stored} 封邮件（重复运行时为 0），发出回执 "
        f"{result.sent.get('sent', 0)} 封。"
    )
    console.print(f"回执邮件 (.eml)：{settings.smtp.outbox_dir}")
    console.print(f"数据库：{settings.database_url}")
    console.print(
        f"配置：{campaign.config_path}   查看报表：intake --config {campaign.config_path} report"
    )
    return 0
