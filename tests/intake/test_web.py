"""The dashboard application: pages, filters, downloads, the assign form, CSRF and login.

A campaign goes through the real pipeline first (``build_campaign``); most tests then use
Flask's test client, and one serves the app with waitress on a free port and fetches over HTTP.
"""

from __future__ import annotations

import io
import re
import urllib.request

import pytest
from PIL import Image

from intake.cli import main
from intake.config import load_settings
from intake.samples import scans
from intake.service import open_pipeline, send_replies
from intake.web.app import create_app
from intake.web.auth import hash_password, is_loopback, same_origin, verify_password
from intake.web.server import BackgroundServer, dashboard_app
from intake.web.throttle import LoginThrottle
from tests.helpers.campaign import DEADLINE, submission, write_config
from tests.helpers.staff_campaign import (
    CAILIAO,
    JINGGUAN,
    JIXIE,
    JSJ,
    STRANGER,
    WAIYU,
    build_campaign,
    parse_page,
)

ORIGIN = "http://localhost"


@pytest.fixture
def site(tmp_path):  # noqa: ANN001, ANN201
    campaign = build_campaign(tmp_path)
    settings = load_settings(campaign.config)
    app = dashboard_app(settings, "127.0.0.1")
    app.testing = True

    class Site:
        client = app.test_client()

    site = Site()
    site.campaign, site.settings, site.app = campaign, settings, app
    return site


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def unit_link(html: str, name: str) -> str:
    return re.search(r'<a href="(/unit/\d+)">' + name, html).group(1)


def test_dashboard_shows_counts_cells_deadline_and_refreshes(site):
    response = site.client.get("/")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    page = parse_page(html)
    assert page.counts["complete"] == "2/5" and page.counts["missing"] == "3"
    assert page.counts["late"] == "1" and page.counts["correction"] == "2"
    assert list(page.rows) == [JIXIE, CAILIAO, JINGGUAN, JSJ, WAIYU]
    assert page.rows[JSJ] == ["missing"] * 4 and page.rows[WAIYU][2] == "needs_correction"
    assert "截止时间 <strong>2022-04-01 17:00</strong>" in html and "已截止" in html
    assert 'data-refresh="60"' in html and "/static/dashboard.js" in html
    assert "按时" in html and "逾期" in html and "缺交" in html and "需更正" in html
    assert all(a.startswith("/static/") for a in page.assets)  # nothing from a CDN
    assert site.client.get("/static/dashboard.css").status_code == 200


@pytest.mark.parametrize(
    "query,units,columns",
    [
        ("only=late", [CAILIAO], 4),
        ("only=incomplete", [JINGGUAN, JSJ, WAIYU], 4),
        ("only=missing&item=table", [JSJ], 1),
        ("item=table_scan", [JIXIE, CAILIAO, JINGGUAN, JSJ, WAIYU], 1),
        ("only=correction&item=table", [JINGGUAN, WAIYU], 1),
    ],
)
def test_filters(site, query, units, columns):
    page = parse_page(site.client.get(f"/?{query}").get_data(as_text=True))
    assert list(page.rows) == units
    assert all(len(states) == columns for states in page.rows.values())


def test_unit_page_lists_messages_versions_problems_and_replies_with_downloads(site):
    html = site.client.get("/").get_data(as_text=True)
    page = site.client.get(unit_link(html, JIXIE)).get_data(as_text=True)
    assert JIXIE in page and "2022年汇总表.xlsx" in page and "当前版本" in page
    assert (
        "我们发出的回执（1 封）" in page and "【自动回执】" in page and "四项材料均已收到" in page
    )
    version = re.search(r"/version/\d+/file", page.split("立项结果汇总表（电子版）</h3>")[1]).group(
        0
    )
    download = site.client.get(version)
    assert download.data == site.campaign.jixie_table
    assert "filename*=UTF-8''2022" in download.headers["Content-Disposition"]
    raw = site.client.get(re.search(r"/message/\d+/raw", page).group(0))
    assert raw.status_code == 200 and b"jixie@example.edu.cn" in raw.data
    reply = site.client.get(re.search(r"/reply/\d+/eml", page).group(0))
    assert reply.status_code == 200 and b"Auto-Submitted: auto-replied" in reply.data
    other = site.client.get(unit_link(html, JINGGUAN)).get_data(as_text=True)
    assert "最佳超30%" in other and "超过 30%" in other
    assert site.client.get("/unit/999").status_code == 404
    assert site.client.get("/version/999/file").status_code == 404


def test_assign_form_files_the_message_and_replies_like_intake_assign(site):
    outbox = site.campaign.config.parent / "outbox"
    before = len(list(outbox.glob("*.eml")))
    html = site.client.get("/").get_data(as_text=True)
    message_id = re.search(r'name="message_id" value="(\d+)"', html).group(1)
    unit_id = unit_link(html, JSJ).rsplit("/", 1)[1]
    form = {"csrf_token": csrf(html), "message_id": message_id, "unit_id": unit_id}
    response = site.client.post("/assign", data=form, headers={"Origin": ORIGIN})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/unit/{unit_id}")
    page = site.client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"已将来信《材料》归入 {JSJ}，登记材料：总结扫描件" in page and "工作人员归档" in page
    assert len(list(outbox.glob("*.eml"))) == before + 1
    dashboard = parse_page(site.client.get("/").get_data(as_text=True))
    assert dashboard.counts["unassigned"] == "0" and dashboard.rows[JSJ][1] == "on_time"


def test_posts_without_token_or_from_another_site_are_refused(site):
    html = site.client.get("/").get_data(as_text=True)
    message_id = re.search(r'name="message_id" value="(\d+)"', html).group(1)
    form = {"message_id": message_id, "unit_id": "1"}
    assert site.client.post("/assign", data=form, headers={"Origin": ORIGIN}).status_code == 403
    form["csrf_token"] = csrf(html)
    refused = site.client.post("/assign", data=form, headers={"Origin": "http://evil.example"})
    assert refused.status_code == 403 and "跨站请求" in refused.get_data(as_text=True)
    assert site.client.post("/assign", data=form).status_code == 403  # neither Origin nor Referer
    assert parse_page(site.client.get("/").get_data(as_text=True)).counts["unassigned"] == "1"


def test_login_is_required_with_a_password_hash(tmp_path):
    settings = load_settings(build_campaign(tmp_path).config)
    sessions, pipeline = open_pipeline(settings)
    app = create_app(
        settings,
        sessions,
        pipeline,
        login_required=True,
        password_hash=hash_password("correct horse"),
        send_replies=lambda: send_replies(settings, sessions),
        throttle=LoginThrottle(first_delay=0, overall_pause=0),  # see test_login_security.py
    )
    client = app.test_client()
    first = client.get("/?only=late")
    assert first.status_code == 302 and first.headers["Location"] == "/login?next=/%3Fonly%3Dlate"
    assert client.get("/message/1/raw").status_code == 302
    assert client.get("/version/1/page/1.png").status_code == 302  # previews too
    assert client.get("/version/1/photo/1").status_code == 302
    form = client.get("/login?next=/").get_data(as_text=True)
    token = csrf(form)
    wrong = client.post(
        "/login",
        data={"csrf_token": token, "password": "nope", "next": "/"},
        headers={"Origin": ORIGIN},
    )
    assert wrong.status_code == 200 and "密码不正确" in wrong.get_data(as_text=True)
    right = client.post(
        "/login",
        data={"csrf_token": token, "password": "correct horse", "next": "/"},
        headers={"Origin": ORIGIN},
    )
    assert right.status_code == 303
    assert client.get("/").status_code == 200


def test_serving_on_a_public_address_needs_a_password_hash(site, capsys):
    capsys.readouterr()
    assert (
        main(["--config", str(site.campaign.config), "serve", "--host", "0.0.0.0", "--port", "0"])
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "password_hash" in err and "intake hash-password" in err


def test_password_hashes_and_hosts():
    stored = hash_password("秘密口令123")
    assert stored.startswith("scrypt$") and verify_password("秘密口令123", stored)
    assert not verify_password("秘密口令124", stored) and not verify_password("x", "garbage")
    import base64
    import hashlib

    salt = b"0123456789abcdef"
    digest = hashlib.pbkdf2_hmac("sha256", b"pw", salt, 1000)
    assert verify_password(
        "pw",
        f"pbkdf2_sha256$1000${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}",
    )
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3")
    assert same_origin(None, "http://h:1/x", "http://h:1/") and not same_origin(
        "null", None, "http://h/"
    )


def test_real_server_serves_the_page_over_http(site):
    with BackgroundServer(site.app) as server:
        with urllib.request.urlopen(server.url + "/", timeout=10) as response:
            html = response.read().decode("utf-8")
            assert response.status == 200 and response.headers["X-Frame-Options"] == "DENY"
        with urllib.request.urlopen(server.url + "/report.xlsx", timeout=10) as response:
            data = response.read()
    assert parse_page(html).counts["complete"] == "2/5"
    from io import BytesIO

    from openpyxl import load_workbook

    assert load_workbook(BytesIO(data)).sheetnames == [
        "报送情况",
        "问题清单",
        "未识别来信",
        "待核对清单",
        "工作人员决定",
        "进度图表",
    ]
    assert STRANGER in html


def test_report_csv_download(site):
    response = site.client.get("/report.csv")
    assert response.status_code == 200 and response.data.startswith(b"\xef\xbb\xbf")
    assert JIXIE in response.data.decode("utf-8-sig")


def test_review_list_shows_every_open_doubt_with_its_file_one_click_away(tmp_path):
    grey = io.BytesIO()
    scans.scan_page("table_scan", JIXIE).convert("L").save(grey, "PDF", resolution=100)
    photo = io.BytesIO()
    Image.new("RGB", (1600, 1200), (90, 140, 60)).save(photo, "JPEG")
    config = write_config(tmp_path)
    eml = tmp_path / "doubts.eml"
    eml.write_bytes(
        submission(
            JIXIE,
            "jixie@example.edu.cn",
            arrived=DEADLINE,
            attachments=[
                ("汇总表（盖章扫描件）.pdf", grey.getvalue()),
                ("IMG_20220330_1015.jpg", photo.getvalue()),
            ],
        )
    )
    assert main(["--config", str(config), "import", str(eml)]) == 0
    app = dashboard_app(load_settings(config), "127.0.0.1")
    app.testing = True
    client = app.test_client()
    html = client.get("/").get_data(as_text=True)
    review = html.split('id="review"')[1].split("</section>")[0]
    assert "待工作人员核对（2 项）" in review and 'id="count-doubt">1<' in html
    links = re.findall(r'<a href="(/version/\d+/file)">([^<]+)</a>', review)
    assert [name for _, name in links] == ["汇总表（盖章扫描件）.pdf", "IMG_20220330_1015.jpg"]
    assert "（暂未登记）" in review and "黑白或灰度" in review
    assert client.get(links[0][0]).data == grey.getvalue()


def test_unit_page_previews_scan_pages_and_summary_text_with_photos(site):
    html = site.client.get("/").get_data(as_text=True)
    page = site.client.get(unit_link(html, JIXIE)).get_data(as_text=True)
    scan = page.split("立项结果汇总表（盖章扫描件）</h3>")[1].split("</table>")[0]
    version = re.search(r"/version/(\d+)/file", scan).group(1)
    assert f'<img src="/version/{version}/page/1.png" alt="第 1 页"' in scan
    assert "预览（共 1 页）" in scan and f"/version/{version}/page/2.png" not in scan
    image = site.client.get(f"/version/{version}/page/1.png")
    assert image.status_code == 200 and image.mimetype == "image/png"
    shown = Image.open(io.BytesIO(image.data))
    assert shown.format == "PNG" and abs(shown.width - 900) <= 1
    assert (
        "private" in image.headers["Cache-Control"]
        and "max-age=300" in image.headers["Cache-Control"]
    )
    again = site.client.get(
        f"/version/{version}/page/1.png", headers={"If-None-Match": image.headers["ETag"]}
    )
    assert again.status_code == 304
    assert site.client.get(f"/version/{version}/page/2.png").status_code == 404
    assert site.client.get(f"/version/{version}/page/0.png").status_code == 404
    assert site.client.get("/version/999/page/1.png").status_code == 404

    summary = page.split("工作总结（电子版）</h3>")[1].split("</table>")[0]
    assert "一、基本情况" in summary and "二、特色案例" in summary
    assert '<p class="preview-heading h2"><strong>一、基本情况</strong></p>' in summary
    photos = re.findall(r'<img src="(/version/\d+/photo/\d+)"', summary)
    assert len(photos) >= 2 and photos[0].endswith("/photo/1")
    photo = site.client.get(photos[0])
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(photo.data)).format == "JPEG"
    assert site.client.get(photos[0].rsplit("/", 1)[0] + "/99").status_code == 404
    assert '<details class="preview" open>' in summary  # the current version is shown open


def test_preview_text_written_by_the_sender_is_escaped():
    from intake.web.render import render

    paragraph = {"text": '<script>alert(1)</script><img src="x">', "heading": 0, "photos": []}
    version = {
        "id": 7,
        "current": True,
        "preview": {"kind": "summary", "paragraphs": [paragraph], "photo_count": 0, "reason": ""},
    }
    html = render("_preview.html", v=version)
    assert "<script>" not in html and '<img src="x">' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=&#34;x&#34;&gt;" in html
