"""Benchmark of the inspectors' field app (/field/) in Debian's Chromium.

Migrates a fresh SQLite database, seeds the demo bureau (``flask demo seed``: 240
enterprises, ten inspectors), serves the app with gunicorn on a free loopback port as
``scripts/serve`` does, and measures with the ``playwright`` package driving /usr/bin/chromium:

- transfer size of the app on a first load (empty profile) and on a repeat visit (service
  worker installed), from the DevTools protocol's ``Network.loadingFinished`` events of the
  page (bytes on the wire, headers included); the service worker's own precache downloads on
  the first visit are counted apart (Playwright's request sizes);
- the first login's API traffic (login, the people list, the pull of the whole directory);
- time to interactive on a throttled "slow 3G" link (``Network.emulateNetworkConditions``:
  400 kbit/s each way, 400 ms round trip, cache disabled): from navigation until the login
  form is on screen and the app's start-up has finished (``body[data-ready]``), on a first
  visit and on a repeat visit (shell from the service worker);
- the time one phone takes to sync 200 queued ops with 20 photos over loopback: 20 visits of
  an inspection, eight hazards (the first with a camera-sized JPEG, shrunk as the app does)
  and a rectification order each, queued offline in the app's IndexedDB outbox, then
  ``engine.sync()`` timed in the page (uploads, pushes in batches, the pull after).

Prints the figures. Needs the field app built (scripts/serve and scripts/test build it).

    .venv/bin/python scripts/bench_field.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.bench_sync import BIN, Server, migrate, server_env  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
PHONE = {"width": 390, "height": 844}
SLOW_3G = {
    "offline": False,
    "latency": 400,
    "downloadThroughput": 400 * 1000 / 8,
    "uploadThroughput": 400 * 1000 / 8,
}
DEMO_PASSWORD = "demo-pass-2024"


def seed(database_url: str, workdir: Path) -> None:
    done = subprocess.run(
        [str(BIN / "flask"), "--app", "server", "demo", "seed"],
        cwd=ROOT,
        env=server_env(database_url, workdir),
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"flask demo seed failed:\n{done.stdout}{done.stderr}")


class Wire:
    """Bytes the page received, from CDP Network.loadingFinished (headers included)."""

    def __init__(self, page: Any) -> None:
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.urls: dict[str, str] = {}
        self.bytes: dict[str, float] = {}
        self.cdp.on("Network.requestWillBeSent", self._sent)
        self.cdp.on("Network.loadingFinished", self._finished)

    def _sent(self, event: dict[str, Any]) -> None:
        self.urls[event["requestId"]] = event["request"]["url"]

    def _finished(self, event: dict[str, Any]) -> None:
        self.bytes[event["requestId"]] = event["encodedDataLength"]

    def total(self, part: str = "") -> int:
        return int(sum(n for rid, n in self.bytes.items() if part in self.urls.get(rid, "")))

    def reset(self) -> None:
        self.urls.clear()
        self.bytes.clear()


def wait_ready(page: Any, timeout: float = 120_000) -> None:
    page.wait_for_function("() => document.body.dataset.ready === 'true'", timeout=timeout)


def open_phone(browser: Any) -> tuple[Any, Any]:
    context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    return context, context.new_page()


def transfer_sizes(browser: Any, base: str) -> dict[str, int]:
    context, page = open_phone(browser)
    worker_bytes: list[int] = []

    def finished(request: Any) -> None:
        """The service worker's own downloads (the page's are counted by CDP)."""
        try:
            if request.frame.page is page:
                return
        except Exception:  # noqa: BLE001 - a service worker's request has no frame
            pass
        sizes = request.sizes()
        worker_bytes.append(sizes["responseBodySize"] + sizes["responseHeadersSize"])

    context.on("requestfinished", finished)
    wire = Wire(page)
    page.goto(f"{base}/field/")
    wait_ready(page)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_timeout(500)
    first = wire.total("/field/")
    precache = sum(worker_bytes)

    wire.reset()
    page.fill("input[name=username]", "inspector01")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#go-scan")
    page.wait_for_function(
        "() => !document.querySelector('#last-sync').textContent.includes('从未')",
        timeout=120_000,
    )
    login_api = wire.total("/api/")
    enterprises = page.evaluate(
        "() => window.fieldApp.store.listRecords('enterprise').then(r => r.length)"
    )
    page.close()

    page = context.new_page()
    wire = Wire(page)
    page.goto(f"{base}/field/")
    wait_ready(page)
    page.wait_for_timeout(500)
    repeat = wire.total("/field/")
    context.close()
    return {
        "first": first,
        "precache": precache,
        "repeat": repeat,
        "login_api": login_api,
        "enterprises": enterprises,
    }


def slow_3g_tti(browser: Any, base: str) -> tuple[float, float]:
    context, page = open_phone(browser)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    started = time.perf_counter()
    page.goto(f"{base}/field/", timeout=180_000)
    page.wait_for_selector("#login-form", timeout=180_000)
    wait_ready(page)
    first = time.perf_counter() - started
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    # Let the service worker finish its precache over the slow link.
    page.wait_for_function(
        "() => caches.keys().then(k => k.length > 0)", timeout=180_000, polling=500
    )
    page.wait_for_timeout(1000)
    page.close()
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    started = time.perf_counter()
    page.goto(f"{base}/field/", timeout=180_000)
    page.wait_for_selector("#login-form", timeout=180_000)
    wait_ready(page)
    repeat = time.perf_counter() - started
    context.close()
    return first, repeat


QUEUE_200 = """
async ({ visits, hazardsPerVisit, deadline }) => {
  const app = window.fieldApp;
  const me = app.session.user.id;
  const partner = app.team.find((p) => p.id !== me && p.cert_no && p.role === 'inspector');
  const enterprises = (await app.store.listRecords('enterprise')).slice(0, visits);
  const pad = (n) => String(n).padStart(2, '0');
  const now = new Date();
  const iso = (d) => {
    const off = -d.getTimezoneOffset();
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:` +
      `${pad(d.getMinutes())}:${pad(d.getSeconds())}${off >= 0 ? '+' : '-'}` +
      `${pad(Math.trunc(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  };
  const ops = [];
  let photoBytes = 0;
  const op = (entity, id, data) => ops.push({
    op_id: crypto.randomUUID(), entity, id, base_version: null, client_time: now.toISOString(),
    data, state: 'pending', label: entity, queued_at: now.toISOString(),
  });
  for (let v = 0; v < visits; v++) {
    // A camera-sized photo, noisy like a real scene, shrunk and encoded as the app does.
    const canvas = document.createElement('canvas');
    canvas.width = 1600; canvas.height = 1200;
    const ctx = canvas.getContext('2d');
    const image = ctx.createImageData(1600, 1200);
    for (let i = 0; i < image.data.length; i += 4) {
      const base = ((i / 4) % 1600) / 8 + v * 9;
      image.data[i] = (base + Math.random() * 24) & 255;
      image.data[i + 1] = (base * 0.7 + Math.random() * 24) & 255;
      image.data[i + 2] = (120 + Math.random() * 24) & 255;
      image.data[i + 3] = 255;
    }
    ctx.putImageData(image, 0, 0);
    const blob = await new Promise((r) => canvas.toBlob(r, 'image/jpeg', 0.8));
    const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
    const sha = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
    await app.store.putBlob({ sha, data: blob, type: 'image/jpeg', uploaded: false });
    photoBytes += blob.size;
    const inspection = crypto.randomUUID();
    const enterprise = enterprises[v].id;
    op('inspection', inspection, {
      enterprise_id: enterprise, scan_id: null, task_id: null, kind: 'other',
      started_at: iso(now), ended_at: iso(now), place: '生产车间',
      inspector_ids: [me, partner.id],
      items: [{ item: '安全出口畅通', result: 'hazard', note: '' }],
      findings: '检查发现隐患', representative: { name: '张伟', title: '安全科长' },
      signature_attachments: [],
    });
    const hazards = [];
    for (let h = 0; h < hazardsPerVisit; h++) {
      const id = crypto.randomUUID();
      hazards.push(id);
      op('hazard', id, {
        inspection_id: inspection, enterprise_id: enterprise, level: 'general',
        description: `隐患 ${v}-${h}：配电箱未上锁`, location: '二号车间',
        legal_basis: '《安全生产法》第三十六条', photo_attachments: h === 0 ? [sha] : [],
        fixed_on_spot: false, deadline: null,
      });
    }
    op('document', crypto.randomUUID(), {
      type: 'rectification_order', inspection_id: inspection, hazard_ids: hazards,
      issued_at: iso(now), provisional_number: `临-BENCH-${v}`, deadline,
    });
  }
  await app.store.addOps(ops);
  return { ops: ops.length, photoBytes };
}
"""


def sync_200(browser: Any, base: str, deadline: str) -> dict[str, float]:
    context, page = open_phone(browser)
    page.goto(f"{base}/field/")
    wait_ready(page)
    page.fill("input[name=username]", "inspector02")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#go-scan")
    page.wait_for_function(
        "() => !document.querySelector('#last-sync').textContent.includes('从未')",
        timeout=120_000,
    )
    context.set_offline(True)
    queued = page.evaluate(QUEUE_200, {"visits": 20, "hazardsPerVisit": 8, "deadline": deadline})
    context.set_offline(False)
    result = page.evaluate(
        """async () => {
          const started = performance.now();
          const report = await window.fieldApp.engine.sync();
          const seconds = (performance.now() - started) / 1000;
          const ops = await window.fieldApp.store.listOps();
          return { seconds, error: report.error ? String(report.error.message) : null,
                   done: ops.filter((o) => o.state === 'done').length,
                   pushed: report.pushed, pulled: report.pulled };
        }"""
    )
    context.close()
    if result["error"] or result["done"] != queued["ops"]:
        raise RuntimeError(f"sync did not finish: {result}")
    return {**queued, **result}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="slow-3G and sync runs (median)")
    args = parser.parse_args()
    if not (ROOT / "field" / "dist" / "index.html").is_file():
        print("the field app is not built: run scripts/serve or scripts/test first")
        return 1
    from datetime import date, timedelta

    from playwright.sync_api import sync_playwright

    deadline = (date.today() + timedelta(days=30)).isoformat()
    with tempfile.TemporaryDirectory(prefix="bench-field-") as tmp:
        workdir = Path(tmp)
        database_url = f"sqlite:///{workdir / 'bench.db'}"
        migrate(database_url, workdir)
        seed(database_url, workdir)
        server = Server(database_url, workdir, workers=2)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                sizes = transfer_sizes(browser, server.base_url)
                ttis = [slow_3g_tti(browser, server.base_url) for _ in range(args.runs)]
                syncs = [sync_200(browser, server.base_url, deadline) for _ in range(args.runs)]
                browser.close()
        finally:
            server.stop()

    kib = 1024
    print("Field app (/field/), Chromium, gunicorn + SQLite on loopback")
    print(f"  first load, page:            {sizes['first'] / kib:8.1f} KiB")
    print(f"  first load, SW precache:     {sizes['precache'] / kib:8.1f} KiB")
    print(f"  repeat visit, page:          {sizes['repeat'] / kib:8.1f} KiB")
    print(
        f"  first login API traffic:     {sizes['login_api'] / kib:8.1f} KiB "
        f"({sizes['enterprises']} enterprises pulled)"
    )
    first = statistics.median(t[0] for t in ttis)
    repeat = statistics.median(t[1] for t in ttis)
    print(f"  slow 3G (400 kbit/s, 400 ms RTT), time to interactive, median of {args.runs}:")
    print(
        f"    first visit:               {first:8.2f} s  (runs: "
        + ", ".join(f"{t[0]:.2f}" for t in ttis)
        + ")"
    )
    print(
        f"    repeat visit:              {repeat:8.2f} s  (runs: "
        + ", ".join(f"{t[1]:.2f}" for t in ttis)
        + ")"
    )
    seconds = statistics.median(s["seconds"] for s in syncs)
    sample = syncs[0]
    print(
        f"  sync of {sample['ops']} queued ops with 20 photos "
        f"({sample['photoBytes'] / kib / 20:.0f} KiB each), median of {args.runs}:"
    )
    print(
        f"    time:                      {seconds:8.2f} s  (runs: "
        + ", ".join(f"{s['seconds']:.2f}" for s in syncs)
        + ")"
    )
    print(f"    ops/s:                     {sample['ops'] / seconds:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
