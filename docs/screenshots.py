"""Screenshots of the main pages for the docs (docs/img/*.png): ``make screenshots``.

Fills a database of its own (``var/docs-screenshots``) with ``manage.py demo``, starts
gunicorn on a free loopback port, signs in as the demo approver ``alice`` in Debian's
Chromium through Playwright (never a downloaded browser build) and saves each page 1280
pixels wide, at most 1,400 high, made about a third of the size by ``pngquant`` (Debian's
package) when it is installed. It stops the server and leaves every other database alone.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
IMG = ROOT / "docs" / "img"
DATA_DIR = ROOT / "var" / "docs-screenshots"
WIDTH, HEIGHT, MAX_HEIGHT = 1280, 800, 1400
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
# Settings that would point the app at a shared database, broker or cache.
SHARED = ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "PROMETHEUS_MULTIPROC_DIR")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(port: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in SHARED}
    env |= {
        "DATA_DIR": str(DATA_DIR),
        "DEBUG": "false",
        "BASE_URL": f"http://127.0.0.1:{port}",
        "DJANGO_SETTINGS_MODULE": "remediator.settings",
    }
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def wait_until_up(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def save(page: Page, name: str) -> None:
    """The page from its top, at most MAX_HEIGHT pixels of it."""
    page.wait_for_load_state("networkidle")
    height = min(page.evaluate("document.documentElement.scrollHeight"), MAX_HEIGHT)
    path = IMG / f"{name}.png"
    page.screenshot(path=str(path), clip={"x": 0, "y": 0, "width": WIDTH, "height": height},
                    full_page=True)  # fmt: skip
    if shutil.which("pngquant"):
        subprocess.run(
            ["pngquant", "--quality=70-95", "--speed=1", "--strip", "--force", "--ext=.png",
             str(path)],
            check=True,
        )  # fmt: skip
    print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KiB")


def first_link(page: Page, pattern: str) -> str:
    """The first link on the page whose path matches ``pattern``."""
    for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.pathname)"):
        if re.fullmatch(pattern, href):
            return href
    raise SystemExit(f"no link matching {pattern} on {page.url}")


def action_with_a_patch(page: Page, base: str) -> int:
    """A rebuild whose build target keeps a Dockerfile, so its page shows the diff."""
    actions = page.request.get(f"{base}/api/v1/actions/?kind=rebuild&page_size=100").json()
    for action in actions["results"]:
        patch = page.request.get(f"{base}/api/v1/actions/{action['id']}/dockerfile-patch/")
        if patch.ok and patch.json().get("diff"):
            return action["id"]
    raise SystemExit("no demo action has a Dockerfile patch")


def take(base: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless=new", "--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
        page.goto(f"{base}/login/")
        page.get_by_label("User name").fill("alice")
        page.get_by_label("Password").fill("demo")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/")
        pages = {
            "overview": "/",
            "findings": "/findings/",
            "approvals": "/approvals/",
            "policies": "/policies/",
            "deliveries": "/deliveries/",
            "reports": "/reports/",
            "findings_team": "/findings/?team=payments",
        }
        for name, path in pages.items():
            page.goto(f"{base}{path}")
            save(page, name)
        page.goto(f"{base}/findings/?kev=true")
        page.goto(base + first_link(page, r"/findings/\d+/"))
        save(page, "finding")
        page.goto(f"{base}/images/?min_severity=critical")
        page.goto(base + first_link(page, r"/images/\d+/"))
        save(page, "image")
        page.goto(f"{base}/actions/{action_with_a_patch(page, base)}/")
        save(page, "action")
        browser.close()


def main() -> None:
    shutil.rmtree(DATA_DIR, ignore_errors=True)
    IMG.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = environment(port)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "demo")
    gunicorn = [str(Path(sys.executable).parent / "gunicorn"), "remediator.wsgi",
                "--config", "python:remediator.gunicorn_conf",
                "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4"]  # fmt: skip
    server = subprocess.Popen(gunicorn, cwd=ROOT, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base)
        take(base)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
