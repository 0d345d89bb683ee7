"""How the staff documents print: the cases anthology on A4 with a page per unit and its
corrections in red, the xlsx reports landscape and fit to the page width."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from docx import Document
from docx.shared import Cm
from openpyxl import load_workbook

from intake.cli import main
from intake.samples import documents
from tests.helpers.campaign import DEADLINE, four_items, submission, write_config

JIXIE = "机械工程与自动化学院分党委"
CAILIAO = "材料科学与工程学院分党委"
SHORT_CASE = "红色基因代代传"


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> Path:  # noqa: ANN001
    tmp = tmp_path_factory.mktemp("layout")
    config = write_config(tmp)
    before = DEADLINE - timedelta(days=1)
    short = [
        {"title": SHORT_CASE, "chars": 200, "photos": 2, "captions": True},
        {"title": "理论学习与专业实践深度融合", "chars": 380, "photos": 2, "captions": True},
    ]
    cailiao = four_items(CAILIAO)
    cailiao[0] = (cailiao[0][0], documents.summary_docx(CAILIAO, cases=short))
    paths = []
    for name, unit, address, items in (
        ("jixie.eml", JIXIE, "jixie@example.edu.cn", None),
        ("cailiao.eml", CAILIAO, "cailiao@example.edu.cn", cailiao),
    ):
        path = tmp / name
        path.write_bytes(submission(unit, address, arrived=before, attachments=items))
        paths.append(str(path))
    assert main(["--config", str(config), "import", "--no-reply", *paths]) == 0
    return config


def test_the_cases_anthology_is_a4_a_page_per_unit_with_corrections_in_red(config, tmp_path):
    out = tmp_path / "案例.docx"
    assert main(["--config", str(config), "export-cases", "--output", str(out)]) == 0
    document = Document(str(out))
    section = document.sections[0]
    assert abs(section.page_width - Cm(21)) < Cm(0.01)
    assert abs(section.page_height - Cm(29.7)) < Cm(0.01)
    units = [p for p in document.paragraphs if p.style.name == "Heading 1"]
    assert [p.text for p in units] == [JIXIE, CAILIAO]
    assert [bool(p.paragraph_format.page_break_before) for p in units] == [False, True]
    texts = [p.text for p in document.paragraphs]
    marked = [p for p in document.paragraphs if p.text.startswith("（需更正：")]
    assert len(marked) == 1 and f"“{SHORT_CASE}”" in marked[0].text
    assert texts[texts.index(SHORT_CASE) + 1] == marked[0].text
    assert str(marked[0].runs[0].font.color.rgb) == "C00000"


@pytest.mark.parametrize("command", ["report", "export-table"])
def test_xlsx_sheets_print_landscape_fit_to_the_page_width(config, tmp_path, command):
    out = tmp_path / "out.xlsx"
    args = ["report", "--format", "xlsx"] if command == "report" else [command]
    assert main(["--config", str(config), *args, "--output", str(out)]) == 0
    book = load_workbook(out)
    for sheet in book.worksheets:
        assert sheet.page_setup.orientation == "landscape", sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        assert sheet.page_setup.fitToWidth == 1, sheet.title
        assert sheet.page_setup.fitToHeight == 0, sheet.title


def test_a_waived_case_problem_is_no_longer_marked_in_the_anthology(config, tmp_path, capsys):
    import json

    capsys.readouterr()
    assert main(["--config", str(config), "report", "--format", "json"]) == 0
    units = {u["name"]: u for u in json.loads(capsys.readouterr().out)["subcommittees"]}
    [code] = {p["code"] for p in units[CAILIAO]["items"]["summary"]["problems"]}
    assert (
        main(
            [
                "--config",
                str(config),
                "decide",
                CAILIAO,
                "summary",
                "--accept",
                code,
                "--reason",
                "案例篇幅经研究同意",
            ]
        )
        == 0
    )
    out = tmp_path / "案例.docx"
    assert main(["--config", str(config), "export-cases", "--output", str(out)]) == 0
    assert not [p for p in Document(str(out)).paragraphs if p.text.startswith("（需更正：")]
