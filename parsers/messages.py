"""The one table of Chinese sentences that problems carry into replies and reports."""

from __future__ import annotations

from .findings import Problem

ACCEPTED_FORMATS = (
    "总结：.docx / .doc / 文字版 .pdf；汇总表：.xlsx / .xls / .et；"
    "盖章扫描件：.pdf / .jpg / .png / .tif；压缩包：.zip / .7z / .rar"
)

MESSAGES: dict[str, str] = {
    "unreadable": "附件《{filename}》无法打开（文件损坏、加密或不完整），请重新导出后发送。",
    "unsupported_format": "附件《{filename}》的格式无法识别，请按以下格式发送：" + ACCEPTED_FORMATS + "。",
    "basic_missing": "工作总结《{filename}》中未找到“基本情况”部分，请按通知要求补充。",
    "basic_too_long": "工作总结《{filename}》的“基本情况”共 {count} 字，超过 1000 字的要求，请压缩后重新发送。",
    "cases_count": "工作总结《{filename}》中找到 {count} 个特色案例，通知要求 1～2 个，请调整。",
    "case_length": "工作总结《{filename}》中的特色案例“{case}”共 {count} 字，要求 300～500 字，请调整。",
    "case_photos": "工作总结《{filename}》中的特色案例“{case}”插入了 {count} 张照片，要求每个案例 2～3 张，请调整。",
    "photo_caption_missing": "工作总结《{filename}》中特色案例“{case}”的第 {index} 张照片缺少图片说明（图注），请补充。",
    "columns_missing": "汇总表《{filename}》缺少必填列：{columns}，请使用通知所附模板。",
    "grade_invalid": "汇总表《{filename}》第 {row} 行的立项等级“{grade}”无效，只能填写“最佳”“优秀”或“培育”。",
    "best_ratio_exceeded": "汇总表《{filename}》共 {total} 个方案，其中“最佳” {best} 个，超过 30%（最多 {limit} 个），请调整。",
    "subcommittee_mismatch": "汇总表《{filename}》填报单位为“{named}”，与发送单位“{unit}”不符，请核对。",
    "duplicate_branch": "汇总表《{filename}》中党支部“{branch}”出现了 {count} 次，每个支部只能申报一个方案。",
    "model_branch_not_best": "汇总表《{filename}》中样板党支部“{branch}”的立项等级为“{grade}”，应评为“最佳”。",
    "coverage_incomplete": "汇总表《{filename}》缺少以下党支部的立项方案：{branches}，请补齐（毕业班支部除外）。",
    "graduating_branch_listed": "汇总表《{filename}》列入了毕业年级党支部“{branch}”，毕业班支部开展主题党日活动，不参加立项。",
    "seal_not_found": "扫描件《{filename}》上未发现红色公章，请盖章后重新扫描发送。",
    "not_a_scan": "《{filename}》是电子文档而不是盖章扫描件，请打印盖章后扫描发送。",
    "oversize_link": "来信使用了“超大附件”下载链接（{filename}），链接会过期，系统无法自动接收，请将文件直接作为附件发送（可压缩为 .zip）。",
    "sender_unverified": "来信自称来自登记地址 {address}，但未通过收信服务器的发信验证（SPF/DKIM），为防冒用，未计入“{unit}”，已转工作人员人工核对。",
    "too_large": "{what}大小为 {size}，超过系统上限 {limit}，未能接收，请压缩或分开发送。",
}

SHORT_LABELS: dict[str, str] = {
    "unreadable": "文件无法打开", "unsupported_format": "格式不支持", "basic_missing": "缺基本情况",
    "basic_too_long": "基本情况超字数", "cases_count": "案例数量不符", "case_length": "案例字数不符",
    "case_photos": "案例照片数不符", "photo_caption_missing": "照片缺图注", "columns_missing": "缺必填列",
    "grade_invalid": "等级无效", "best_ratio_exceeded": "最佳超30%", "subcommittee_mismatch": "填报单位不符",
    "duplicate_branch": "支部重复", "model_branch_not_best": "样板支部非最佳", "coverage_incomplete": "支部未全覆盖",
    "graduating_branch_listed": "列入毕业班支部", "seal_not_found": "未见公章", "not_a_scan": "非扫描件",
    "oversize_link": "超大附件链接", "too_large": "文件过大", "sender_unverified": "发件人未通过验证",
}


def problem(code: str, **values: object) -> Problem:
    """Build the Problem for ``code`` with its Chinese sentence filled in from ``values``."""
    return Problem(code=code, message=MESSAGES[code].format(**values))


def human_size(size: int) -> str:
    """A byte count as people read it (e.g. ``25.0 MB``)."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
