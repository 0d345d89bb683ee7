"""The one vocabulary of the product: item keys and labels, name hints, statuses, verdicts and
every problem and doubt code with its Chinese sentence and short label.

Everything else imports these names; nothing keeps a second copy. Sentences are ``str.format``
templates: the values come from the facts a check read and from the campaign's ``[rules]``
(``{max_zi}``, ``{share}``...), so another year's numbers show in every reply.
"""

from __future__ import annotations

ITEM_KEYS = ("summary", "summary_scan", "table", "table_scan")
SCAN_ITEMS = ("summary_scan", "table_scan")
ITEM_LABELS = {
    "summary": "工作总结（电子版）",
    "summary_scan": "工作总结（盖章扫描件）",
    "table": "立项结果汇总表（电子版）",
    "table_scan": "立项结果汇总表（盖章扫描件）",
}
ITEM_SHORT_LABELS = {
    "summary": "总结",
    "summary_scan": "总结扫描件",
    "table": "汇总表",
    "table_scan": "汇总表扫描件",
}

# Words in a file name that say which material it is.
SCAN_HINTS = ("扫描", "盖章", "scan")
SUMMARY_HINTS = ("总结",)
TABLE_HINTS = ("汇总表", "立项结果", "结果表")
MATERIAL_HINTS = ("总结", "汇总表", "立项", "扫描", "盖章")

STATUS_LABELS = {"on_time": "按时", "late": "逾期", "missing": "缺交", "exempt": "免交"}
VERDICT_LABELS = {"problem": "需更正", "doubt": "待工作人员核对", "pass": "检查通过"}

ACCEPTED_FORMATS = (
    "总结：.docx / .doc / 文字版 .pdf；汇总表：.xlsx / .xls / .et；"
    "盖章扫描件：.pdf / .jpg / .png / .tif；压缩包：.zip / .7z / .rar"
)

UNREADABLE_REASON = (
    "文件损坏、加密或不完整"  # the reason an ``unreadable`` refusal without one is given
)
BLANK_PDF_REASON = "文件中没有任何文字或图像"


class _Template(str):
    """A sentence template with defaults for the values a caller may leave out."""

    def __new__(cls, text: str, **defaults: object) -> _Template:
        template = super().__new__(cls, text)
        template.defaults = defaults
        return template

    def format(self, *args: object, **values: object) -> str:  # noqa: D102
        return str.format(self, *args, **{**self.defaults, **values})


class _SizeTemplate(_Template):
    """The ``too_large`` sentence: "大小为 {size}" unless the refusal names what is over the
    limit itself (``amount``: a count of files, a depth of nesting)."""

    def format(self, *args: object, **values: object) -> str:  # noqa: D102
        if "amount" not in values:
            values = {**values, "amount": f"大小为 {values.get('size', '')}"}
        return super().format(*args, **values)


# code -> (sentence, short label). Problems: the file certainly breaks a rule (需更正).
PROBLEMS: dict[str, tuple[str, str]] = {
    "unreadable": (
        _Template(
            "附件《{filename}》无法打开（{reason}），请重新导出后发送。", reason=UNREADABLE_REASON
        ),
        "文件无法打开",
    ),
    "unsupported_format": (
        "附件《{filename}》的格式无法识别，请按以下格式发送：" + ACCEPTED_FORMATS + "。",
        "格式不支持",
    ),
    "basic_missing": (
        "工作总结《{filename}》中未找到“基本情况”部分，请按通知要求补充。",
        "缺基本情况",
    ),
    "basic_too_long": (
        "工作总结《{filename}》的“基本情况”共 {count} 字，超过 {max_zi} 字的要求，"
        "请压缩后重新发送。",
        "基本情况超字数",
    ),
    "cases_count": (
        "工作总结《{filename}》中找到 {count} 个特色案例，通知要求 {low}～{high} 个，请调整。",
        "案例数量不符",
    ),
    "case_length": (
        "工作总结《{filename}》中的特色案例“{case}”共 {count} 字，要求 {low}～{high} 字，请调整。",
        "案例字数不符",
    ),
    "case_photos": (
        "工作总结《{filename}》中的特色案例“{case}”插入了 {count} 张照片，"
        "要求每个案例 {low}～{high} 张，请调整。",
        "案例照片数不符",
    ),
    "photo_caption_missing": (
        "工作总结《{filename}》中特色案例“{case}”的第 {index} 张照片缺少图片说明（图注），请补充。",
        "照片缺图注",
    ),
    "columns_missing": (
        "汇总表《{filename}》缺少必填列：{columns}，请使用通知所附模板。",
        "缺必填列",
    ),
    "grade_invalid": (
        "汇总表《{filename}》第 {row} 行的立项等级“{grade}”无效，只能填写{allowed}。",
        "等级无效",
    ),
    "best_ratio_exceeded": (
        "汇总表《{filename}》共 {total} 个方案，其中“{best_grade}” {best} 个，"
        "超过 {share}（最多 {limit} 个），请调整。",
        "最佳超{share}",
    ),
    "subcommittee_mismatch": (
        "汇总表《{filename}》填报单位为“{named}”，与发送单位“{unit}”不符，请核对。",
        "填报单位不符",
    ),
    "duplicate_branch": (
        "汇总表《{filename}》中党支部“{branch}”出现了 {count} 次，每个支部只能申报一个方案。",
        "支部重复",
    ),
    "model_branch_not_best": (
        "汇总表《{filename}》中样板党支部“{branch}”的立项等级为“{grade}”，应评为“{best_grade}”。",
        "样板支部非最佳",
    ),
    "coverage_incomplete": (
        "汇总表《{filename}》缺少以下党支部的立项方案：{branches}，请补齐（毕业班支部除外）。",
        "支部未全覆盖",
    ),
    "graduating_branch_listed": (
        "汇总表《{filename}》列入了毕业年级党支部“{branch}”，毕业班支部开展主题党日活动，不参加立项。",
        "列入毕业班支部",
    ),
    "seal_not_found": ("扫描件《{filename}》上未发现红色公章，请盖章后重新扫描发送。", "未见公章"),
    "not_a_scan": ("《{filename}》是电子文档而不是盖章扫描件，请打印盖章后扫描发送。", "非扫描件"),
    "oversize_link": (
        "来信使用了“超大附件”下载链接（{filename}），链接会过期，系统无法自动接收，"
        "请将文件直接作为附件发送（可压缩为 .zip）。",
        "超大附件链接",
    ),
    "too_large": (
        _SizeTemplate(
            "{what}{amount}，超过系统上限 {limit}，未能接收，{advice}。",
            advice="请压缩或分开发送",
        ),
        "文件过大",
    ),
    "sender_unverified": (
        "来信自称来自登记地址 {address}，但未通过收信服务器的发信验证（SPF/DKIM），为防冒用，"
        "未计入“{unit}”，已转工作人员人工核对。",
        "发件人未通过验证",
    ),
}

# Doubts: the check cannot decide; staff will (待工作人员核对). Never a correction request.
DOUBTS: dict[str, tuple[str, str]] = {
    "seal_unsure": (
        "扫描件《{filename}》上的公章系统无法自动确认（{reason}），将由工作人员人工核对，"
        "目前无需重新发送。",
        "公章待核对",
    ),
    "structure_unsure": (
        "工作总结《{filename}》中未能准确识别“基本情况”“特色案例”部分，字数和照片要求将由"
        "工作人员人工核对，目前无需重新发送。",
        "结构待核对",
    ),
    "kind_unsure": (
        "《{filename}》无法自动判断是哪一项材料（{reason}），暂未登记，将由工作人员核对后登记。",
        "材料类型待核对",
    ),
}

SEAL_UNSURE_REASONS = {
    "grayscale": "扫描件为黑白或灰度，无法分辨红色印章",
    "unclear_mark": "页面上有红色印迹，但无法确认是否为公章",
    "pages_skipped": "文件页数较多，未逐页检查",
    "undecided": "未能识别出公章",
    "square_mark": "页面上有方形红色印章，无法确认是否为公章",
}
KIND_UNSURE_REASONS = {
    "photo_or_scan": "可能是活动照片，也可能是扫描件",
    "name_and_content": "文件名与内容不一致",
    "no_hint": "文件名和页面都无法说明是哪一项",
}

CODES = {**PROBLEMS, **DOUBTS}

# A doubt that staff reject becomes a problem with this sentence ({reason}: the staff's words).
REJECTED_DOUBTS: dict[str, str] = {
    "seal_unsure": "经工作人员核对，扫描件《{filename}》未见清晰有效的党组织公章（{reason}），"
    "请盖章后重新扫描发送。",
    "structure_unsure": "经工作人员核对，工作总结《{filename}》不符合通知要求（{reason}），"
    "请修改后重新发送。",
    "kind_unsure": "经工作人员核对，《{filename}》不是所需的{item}（{reason}），请发送正确的文件。",
}

DECISION_LABELS = {
    "accept_doubt": "核对无误",
    "accept_problem": "免于更正",
    "reject": "核对后需更正",
    "mark": "线下收到",
    "extend": "延长截止时间",
    "exempt": "免交",
    "assign": "归档来信",
    "approve": "放行回执",
    "remind": "催交提醒",
}
RECORDED_ACTIONS = ("assign", "approve", "remind")  # staff actions logged, not verdicts overruled
PAPER_FILENAME = "（线下提交）"


def verdict_of(code: str) -> str:
    """'problem' or 'doubt' for a code of the two tables (KeyError for an unknown code)."""
    if code in PROBLEMS:
        return "problem"
    if code in DOUBTS:
        return "doubt"
    raise KeyError(code)


def sentence(code: str, **values: object) -> str:
    """The Chinese sentence of ``code`` with ``values`` filled in."""
    return CODES[code][0].format(**values)


def short_label(code: str, *, best_share: float = 0.30) -> str:
    """The short Chinese label of a code, for table cells (the code itself when unknown)."""
    entry = CODES.get(code)
    return entry[1].format(share=percent(best_share)) if entry else code


def percent(share: float) -> str:
    """A share as people write it: 0.3 -> 30%."""
    return f"{share * 100:g}%"


def human_size(size: int) -> str:
    """A byte count as people read it (e.g. ``25.0 MB``)."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
