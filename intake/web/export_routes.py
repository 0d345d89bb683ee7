"""The dashboard's download of every unit's files in one zip (``GET /export/files.zip``;
``?all=1`` for every version), on a Blueprint of its own.

The zip is written to an anonymous temporary file under ``storage.dir`` (on disk next to the
files, never in memory and never in a /tmp that may be RAM), then streamed from it; the file is
gone when the response is closed. The login guard and the security headers are the application's.
"""

from __future__ import annotations

import tempfile

from flask import Blueprint, Response, request, send_file

from ..file_export import export_files
from .routes import dashboard_of_app

bp = Blueprint("export", __name__)


@bp.get("/export/files.zip")
def files_zip() -> Response:
    app = dashboard_of_app()
    settings = app.settings
    all_versions = request.args.get("all") == "1"
    settings.storage_dir.mkdir(parents=True, exist_ok=True)
    spool = tempfile.TemporaryFile(dir=settings.storage_dir, prefix=".export-", suffix=".zip")
    try:
        export_files(settings, app.sessions, spool, all_versions=all_versions)
        size = spool.tell()
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    moment = app.clock().astimezone(settings.deadline.tzinfo)
    which = "全部版本" if all_versions else "当前版本"
    response = send_file(
        spool,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"{settings.campaign_name}材料文件（{which}）-{moment:%Y%m%d-%H%M}.zip",
    )
    response.content_length = size
    return response
