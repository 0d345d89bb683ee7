"""The images of the unit page's previews, on their own Blueprint: a scan version's page images
and a summary version's photos, made from the stored file on request (``parsers.preview``).

A stored file never changes, so each image carries an ETag of its digest and number (a reload
is answered 304 without rendering) and the downloads' max-age, kept private: the dashboard may
sit behind a login. The login guard and the security headers are the application's
(``routes.guard`` and ``routes.headers``).
"""

from __future__ import annotations

import io

from flask import Blueprint, Response, abort, current_app, request, send_file

from parsers import preview
from tracker import records

from .routes import dashboard_of_app

bp = Blueprint("preview", __name__)


@bp.get("/version/<int:version_id>/page/<int:number>.png")
def page_image(version_id: int, number: int) -> Response:
    if not 1 <= number <= preview.MAX_PAGES:
        abort(404)
    return _image(version_id, "page", number, preview.scan_page)


@bp.get("/version/<int:version_id>/photo/<int:number>")
def photo(version_id: int, number: int) -> Response:
    if not 1 <= number <= preview.MAX_PHOTOS:
        abort(404)
    return _image(version_id, "photo", number, preview.summary_photo)


def _image(version_id: int, what: str, number: int, make) -> Response:  # noqa: ANN001 - a maker
    """Image ``number`` of a version, made by ``make(filename, data, number)``; 404 when the
    version, its file or the image does not exist."""
    app = dashboard_of_app()
    with app.sessions() as db:
        version = records.version_by_id(db, version_id)
        if version is None:
            abort(404)
        filename, digest = version.filename, version.sha256
    etag = f"{digest}-{what}-{number}"
    if etag in request.if_none_match:
        return _cached(Response(status=304), etag)
    try:
        data = app.store.get(digest, "attachments")
    except (OSError, ValueError):
        abort(404)
    image = make(filename, data, number)
    if image is None:
        abort(404)
    response = send_file(io.BytesIO(image), mimetype=preview.mimetype(image), etag=etag)
    return _cached(response, etag)


def _cached(response: Response, etag: str) -> Response:
    """``response`` with the image's ETag and the downloads' max-age, for this browser only."""
    response.set_etag(etag)
    response.cache_control.public = False
    response.cache_control.private = True
    response.cache_control.max_age = int(current_app.get_send_file_max_age(None) or 0)
    return response
