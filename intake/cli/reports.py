"""The commands that write what staff read: the report in every format, the university-wide
results table (汇总表), the featured cases, the one-page summary for the leadership and every
unit's files in one zip. They only read the database, so they never need a mailbox password."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import Settings
from .errors import UserError
from .options import settings_of
from .report_output import REPORT_FORMATS


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add this group's commands to the ``intake`` parser."""
    report = commands.add_parser("report", help="报送情况报表 / the missing-submissions report")
    report.add_argument("--format", choices=REPORT_FORMATS, default="table")
    report.add_argument("--output", type=Path, default=None)
    report.set_defaults(handler=_report)

    table = commands.add_parser(
        "export-table", help="导出全校立项结果汇总表 / the university-wide results table"
    )
    table.add_argument("--output", type=Path, required=True, help="输出的 .xlsx 文件")
    table.set_defaults(handler=_export_table)

    cases = commands.add_parser(
        "export-cases", help="导出特色案例汇编 / the featured cases as one .docx"
    )
    cases.add_argument("--output", type=Path, required=True, help="输出的 .docx 文件")
    cases.set_defaults(handler=_export_cases)

    summary = commands.add_parser(
        "export-summary", help="导出一页报送情况简报（A4）/ a one-page report for the leadership"
    )
    summary.add_argument("--output", type=Path, required=True, help="输出的 .docx 文件")
    summary.set_defaults(handler=_export_summary)

    files = commands.add_parser(
        "export-files",
        help="导出各单位的材料文件（每单位一个文件夹，按 [export] file_name 命名）"
        " / every unit's files in one zip",
    )
    files.add_argument("--output", type=Path, required=True, help="输出的 .zip 文件")
    files.add_argument(
        "--all-versions",
        action="store_true",
        help="导出每项材料的全部版本（按收到顺序编号），默认只导出当前版本",
    )
    files.set_defaults(handler=_export_files)


def _report(args: argparse.Namespace) -> int:
    from ..service import open_pipeline
    from .report_output import print_report

    settings = settings_of(args)
    sessions, _ = open_pipeline(settings, reply=False)
    print_report(settings, sessions, args.format, args.output)
    return 0


def _export_table(args: argparse.Namespace) -> int:
    from tracker.consolidated import write_consolidated

    from ..service import open_pipeline

    settings = settings_of(args)
    _check_suffix(args.output, ".xlsx")
    sessions, _ = open_pipeline(settings, reply=False)
    with sessions() as session:
        tables = write_consolidated(session, args.output)
    rows = sum(len(t.rows) for t in tables)
    missing = [t.name for t in tables if t.filename is None]
    print(
        f"已写入 {args.output}：{len(tables) - len(missing)} 个单位、{rows} 个立项方案"
        + (f"；未收到汇总表：{'、'.join(missing)}" if missing else "")
    )
    return 0


def _export_cases(args: argparse.Namespace) -> int:
    from tracker.cases_doc import write_cases

    from ..service import open_pipeline

    settings = settings_of(args)
    _check_suffix(args.output, ".docx")
    sessions, _ = open_pipeline(settings, reply=False)
    with sessions() as session:
        cases, without = write_cases(session, args.output, read_attachment(settings))
    units = len({case.unit for case in cases})
    print(
        f"已写入 {args.output}：{units} 个单位、{len(cases)} 个特色案例"
        + (f"；无特色案例：{'、'.join(without)}" if without else "")
    )
    return 0


def _export_summary(args: argparse.Namespace) -> int:
    from tracker.summary_doc import write_summary

    from ..reporting import report_data
    from ..service import open_pipeline

    settings = settings_of(args)
    _check_suffix(args.output, ".docx")
    sessions, _ = open_pipeline(settings, reply=False)
    report = report_data(settings, sessions)
    with sessions() as session:
        summary = write_summary(
            session, report, args.output, read_attachment(settings), settings.rules
        )
    print(
        f"已写入 {args.output}：{summary.figures['units']} 个单位，"
        f"{len(summary.owing)} 个单位尚未交齐或需更正，{len(summary.cases)} 个宣传选用案例"
    )
    return 0


def _export_files(args: argparse.Namespace) -> int:
    from parsers.vocabulary import human_size

    from ..file_export import export_files
    from ..service import open_pipeline

    settings = settings_of(args)
    _check_suffix(args.output, ".zip")
    sessions, _ = open_pipeline(settings, reply=False)
    partial = args.output.with_name(f".{args.output.name}.part")
    try:
        export = export_files(settings, sessions, partial, all_versions=args.all_versions)
        partial.replace(args.output)
    finally:
        partial.unlink(missing_ok=True)
    written = len(export.files) - len(export.unreadable)
    units, size = len({entry.unit for entry in export.files}), human_size(export.total_size)
    print(
        f"已写入 {args.output}：{units} 个单位、{written} 个文件（{size}），"
        "文件清单见压缩包中的 清单.xlsx"
        + (f"；{len(export.unreadable)} 个文件在存储中找不到" if export.unreadable else "")
    )
    return 0


def read_attachment(settings: Settings):  # noqa: ANN201 - a callable sha256 -> bytes
    """A loader of stored attachment bytes by SHA-256, for exports that need the files
    themselves."""
    from ..store import RawStore

    store = RawStore(settings.storage_dir)
    return lambda digest: store.get(digest, "attachments")


def _check_suffix(path: Path, suffix: str) -> None:
    if path.suffix.lower() != suffix:
        raise UserError(f"输出文件应以 {suffix} 结尾 / the output must end in {suffix}: {path}")
    if not path.parent.exists():
        raise UserError(f"目录不存在 / no such folder: {path.parent}")
