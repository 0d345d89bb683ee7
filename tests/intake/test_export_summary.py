"""``intake export-summary``: the one-page A4 report for the leadership, written with no mailbox
password, opened with python-docx, and rendered (LibreOffice, then pdftoppm) to
``test-artifacts/summary.png`` to be looked at."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from docx import Document
from PIL import Image

from tests.helpers.campaign import INTAKE, INTAKE_ENV
from tests.helpers.staff_campaign import CAILIAO, JINGGUAN, JIXIE, JSJ, WAIYU, build_campaign

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
UNSET = "INTAKE_TEST_UNSET_SUMMARY_PASSWORD"


@pytest.fixture(scope="module")
def written(tmp_path_factory):  # noqa: ANN001, ANN201
    """The campaign's summary, written by the command line with a mailbox whose password
    nobody set (nothing may connect)."""
    campaign = build_campaign(tmp_path_factory.mktemp("summary"))
    config = campaign.config
    config.write_text(
        config.read_text(encoding="utf-8")
        + f'[mailbox]\nhost = "127.0.0.1"\nport = 9\nusername = "dept"\npassword_env = "{UNSET}"\n',
        encoding="utf-8",
    )
    out = config.parent / "简报.docx"
    env = {k: v for k, v in INTAKE_ENV.items() if k != UNSET}
    done = subprocess.run(
        [*INTAKE, "--config", str(config), "export-summary", "--output", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=config.parent,
    )
    assert done.returncode == 0, done.stderr
    return out, done.stdout


def test_summary_says_the_headline_figures_owing_units_and_chosen_cases(written):
    out, printed = written
    assert f"已写入 {out}：5 个单位，3 个单位尚未交齐或需更正" in printed
    document = Document(str(out))
    section = document.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "2022年基层党组织活动方案立项报送情况简报"
    headline, owing, cases = document.tables
    figures = dict(
        zip(
            (c.text for c in headline.rows[1].cells),
            (c.text for c in headline.rows[0].cells),
            strict=True,
        )
    )
    # 5 units: 机械 on time and complete; 材料 late; 经管, 外语 part; 计算机 nothing
    assert figures == {
        "单位": "5",
        "按时交齐": "1",
        "逾期": "1",
        "缺交": "3",
        "立项方案": "39",
        "最佳占比": "38.5%",
    }
    rows = {r.cells[0].text: (r.cells[1].text, r.cells[2].text) for r in owing.rows[1:]}
    assert set(rows) == {JINGGUAN, JSJ, WAIYU}
    assert rows[JSJ][0] == "总结、总结扫描件、汇总表、汇总表扫描件" and rows[JSJ][1] == "—"
    assert rows[JINGGUAN][1] == "汇总表"  # too many 最佳
    assert any("1 个单位最佳超过 30%" in t for t in texts)
    chosen = [(r.cells[0].text, r.cells[1].text) for r in cases.rows[1:]]
    assert chosen and {unit for unit, _ in chosen} <= {JIXIE, CAILIAO, JINGGUAN}
    pictures = document.inline_shapes
    assert len(pictures) == 2  # the progress chart and the grade chart
    images = [
        Image.open(io.BytesIO(document.part.related_parts[rid].blob))
        for rid in (s._inline.graphic.graphicData.pic.blipFill.blip.embed for s in pictures)
    ]
    assert [i.format for i in images] == ["PNG", "PNG"]


@pytest.mark.skipif(
    not (shutil.which("soffice") and shutil.which("pdftoppm")),
    reason="LibreOffice or poppler-utils (pdftoppm) is not installed",
)
def test_summary_renders_to_one_a4_page(written, tmp_path):
    out, _ = written
    converted = subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(out)],
        capture_output=True,
        timeout=180,
        env={**INTAKE_ENV, "HOME": str(tmp_path)},
    )
    pdf = tmp_path / "简报.pdf"
    assert converted.returncode == 0 and pdf.exists(), converted.stderr
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 1  # one page
    width, height = Image.open(pages[0]).size
    assert abs(width - 496) <= 1 and abs(height - 702) <= 1  # A4 portrait at 60 dpi
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(pages[0], ARTIFACTS / "summary.png")
