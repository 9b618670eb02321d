"""/field/: the built field app's files, with the cache headers a phone's browser needs."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def built(app, tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "dist"
    folder.mkdir()
    (folder / "index.html").write_text("<!doctype html><title>现场执法</title>", encoding="utf-8")
    (folder / "app-AB12CD34.js").write_text("console.log(1)")
    (folder / "app-AB12CD34.js.gz").write_bytes(gzip.compress(b"console.log(1)"))
    (folder / "sw.js").write_text("self.addEventListener('fetch', () => {})")
    (folder / "manifest.webmanifest").write_text("{}")
    before = app.config["FIELD_APP_DIR"]
    app.config["FIELD_APP_DIR"] = str(folder)
    yield folder
    app.config["FIELD_APP_DIR"] = before


def test_the_shell_is_revalidated_on_every_load(client, built) -> None:
    response = client.get("/field/")
    assert response.status_code == 200
    assert "现场执法" in response.get_data(as_text=True)
    assert "no-cache" in response.headers["Cache-Control"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_content_hashed_bundles_are_cached_for_a_year(client, built) -> None:
    response = client.get("/field/app-AB12CD34.js")
    assert response.status_code == 200
    assert "immutable" in response.headers["Cache-Control"]
    assert "max-age=31536000" in response.headers["Cache-Control"]


def test_the_service_worker_is_never_cached_and_may_control_the_folder(client, built) -> None:
    response = client.get("/field/sw.js")
    assert "no-cache" in response.headers["Cache-Control"]
    assert response.headers["Service-Worker-Allowed"] == "/field/"


def test_any_other_path_under_the_folder_is_the_shell(client, built) -> None:
    response = client.get("/field/visit/123")
    assert response.status_code == 200
    assert "现场执法" in response.get_data(as_text=True)


def test_nothing_outside_the_folder_is_served(client, built) -> None:
    (built.parent / "secret.txt").write_text("SECRET_KEY=x")
    response = client.get("/field/..%2fsecret.txt")
    assert "SECRET_KEY" not in response.get_data(as_text=True)


def test_the_bare_folder_name_redirects_into_the_service_worker_scope(client, built) -> None:
    response = client.get("/field")
    assert response.status_code == 308
    assert response.headers["Location"].endswith("/field/")


def test_an_unbuilt_app_is_404_not_a_crash(client, app, tmp_path) -> None:
    before = app.config["FIELD_APP_DIR"]
    app.config["FIELD_APP_DIR"] = str(tmp_path / "missing")
    try:
        assert client.get("/field/").status_code == 404
    finally:
        app.config["FIELD_APP_DIR"] = before


def test_a_browser_that_accepts_gzip_gets_the_compressed_twin(client, built) -> None:
    response = client.get("/field/app-AB12CD34.js", headers={"Accept-Encoding": "gzip, br"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.mimetype in ("text/javascript", "application/javascript")
    assert gzip.decompress(response.data) == b"console.log(1)"
    assert "Accept-Encoding" in response.headers["Vary"]
    plain = client.get("/field/app-AB12CD34.js")
    assert "Content-Encoding" not in plain.headers
    assert plain.data == b"console.log(1)"
