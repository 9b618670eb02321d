"""Where a newcomer lands: the site's root and the API documentation, without a CDN."""

from __future__ import annotations

import re


def test_the_root_leads_to_the_office_sign_in_in_chinese(client) -> None:
    root = client.get("/")
    assert root.status_code == 302 and root.headers["Location"] == "/manage/"
    page = client.get("/", follow_redirects=True)
    assert page.status_code == 200 and page.request.path == "/manage/login"
    html = page.get_data(as_text=True)
    assert "登录" in html and 'name="csrf_token"' in html


def test_the_api_docs_load_swagger_ui_from_this_server_only(client) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, html
    assert all(s.startswith("/docs/ui/") for s in sources), sources
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200, source
        assert len(asset.get_data()) > 1000
    assert "/openapi.json" in html


def test_a_missing_docs_file_is_a_404_not_a_file_outside_the_package(client) -> None:
    assert client.get("/docs/ui/no-such.js").status_code == 404
    assert client.get("/docs/ui/../../../server/config.py").status_code == 404
