"""The field app in Chromium as on a phone: a camera that films a gate code, photos, a
browser that is closed and opened again with the same profile."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.conftest import PASSWORD
from tests.e2e.conftest import ARGS, CHROMIUM

PHONE = {"width": 390, "height": 844}
FIELD_DIST = Path(__file__).resolve().parents[2] / "field" / "dist"


def require_built_app(app: Any) -> None:
    if not (Path(app.config["FIELD_APP_DIR"]) / "index.html").is_file():
        pytest.skip("the field app is not built: scripts/test builds it (npm ci, npm run build)")


def camera_file(png: bytes, path: Path, frames: int = 6) -> Path:
    """A Y4M video of the gate code on a white 640x480 frame, for Chromium's fake camera."""
    code = Image.open(io.BytesIO(png)).convert("L")
    side = 400
    code = code.resize((side, side), Image.NEAREST)
    frame = Image.new("RGB", (640, 480), "white")
    frame.paste(code.convert("RGB"), ((640 - side) // 2, (480 - side) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    half = (320, 240)
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with path.open("wb") as out:
        out.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(frames):
            out.write(b"FRAME\n" + planes)
    return path


def photo(color: str = "orange", size: tuple[int, int] = (2400, 1800)) -> dict[str, Any]:
    """A camera-sized JPEG, as a file input receives it."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG", quality=90)
    return {"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


@contextmanager
def phone(profile: Path, camera: Path | None = None, **options: Any) -> Iterator[Any]:
    """Chromium with a profile kept in ``profile``: closing and opening it again is a phone's
    browser closed and reopened (service worker, IndexedDB and all)."""
    from tests.e2e.conftest import sync_playwright

    args = [*ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
    if camera is not None:
        args.append(f"--use-file-for-fake-video-capture={camera}")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            args=args,
            headless=True,
            viewport=PHONE,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            permissions=["camera"],
            **options,
        )
        try:
            yield context
        finally:
            context.close()


def log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/field/")
    page.wait_for_selector("#login-form")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#go-scan")
    wait_synced(page)


def wait_synced(page: Any, waiting: int = 0, timeout: float = 20000) -> None:
    """Until a sync round has finished and ``waiting`` ops remain."""
    page.wait_for_function(
        """(n) => { const bar = document.querySelector('#sync-state');
                   return bar && bar.dataset.waiting === String(n)
                     && !document.querySelector('#last-sync').textContent.includes('从未')
                     && bar.dataset.syncing !== 'true'; }""",
        arg=waiting,
        timeout=timeout,
    )


def wait_waiting(page: Any, waiting: int) -> None:
    """Until the sync bar counts ``waiting`` ops to send."""
    page.wait_for_function(
        "(n) => document.querySelector('#sync-state').dataset.waiting === String(n)", arg=waiting
    )


def sign(page: Any) -> None:
    box = page.locator("#signature").bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 30)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 20 + step * 25, box["y"] + 30 + (step % 3) * 25)
    page.mouse.up()


def add_hazard(
    page: Any,
    description: str,
    *,
    level: str = "general",
    photos: list | None = None,
    deadline: str | None = None,
    fixed: bool = False,
) -> None:
    page.click("#add-hazard")
    form = page.locator("#hazard-form")
    form.locator("textarea[name=description]").fill(description)
    form.locator("input[name=location]").fill("二号车间")
    form.locator("select[name=level]").select_option(level)
    form.locator("input[name=legal_basis]").fill("《安全生产法》第三十六条")
    if fixed:
        form.locator("input[name=fixed_on_spot]").check()
    if deadline:
        form.locator("input[name=deadline]").fill(deadline)
    if photos:
        form.locator("input[name=photos]").set_input_files(photos)
        page.wait_for_function(
            "(n) => document.querySelectorAll('#photo-previews img').length === n", arg=len(photos)
        )
    before = page.locator("li.hazard-draft").count()
    page.click("#save-hazard")
    page.wait_for_function(
        "(n) => document.querySelectorAll('li.hazard-draft').length === n", arg=before + 1
    )


def pick_enterprise(page: Any, name: str) -> None:
    """The gate code is missing: find the enterprise in the pulled directory."""
    page.click("#tabs a[data-tab=scan]")
    page.fill("#directory-search", name)
    page.locator("button.pick-enterprise", has_text=name).first.click()
    page.wait_for_selector("#start-visit")


def record_visit(page: Any, partner: str, hazards: list[str]) -> None:
    """From an enterprise card: a visit with ``partner`` and one general hazard per text."""
    page.click("#start-visit")
    page.wait_for_selector("#visit-form")
    page.select_option("#partner", label=partner)
    page.fill("input[name=place]", "生产车间")
    page.fill("input[name=rep-name]", "张伟")
    for description in hazards:
        add_hazard(page, description)
    page.click("#finish-visit")
    page.wait_for_selector("#inspection")


def outbox_states(page: Any) -> list[str]:
    return page.evaluate("() => window.fieldApp.store.listOps().then(ops => ops.map(o => o.state))")
