"""The documentation: the MkDocs site builds strictly and loads nothing from another host,
and every link of the README and of docs/ reaches its page and heading, here and on GitHub."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown.extensions.toc import slugify

ROOT = Path(__file__).resolve().parent.parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
# Attributes through which a page loads something (a link to read, <a href>, loads nothing).
LOADS = {"script": "src", "link": "href", "img": "src", "iframe": "src", "source": "src",
         "embed": "src", "object": "data", "audio": "src", "video": "src"}  # fmt: skip
CSS_REMOTE = re.compile(
    r"""@import\s+(url\()?\s*["']?\s*(https?:)?//|url\(\s*["']?\s*(https?:)?//"""
)
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


class RemoteLoads(HTMLParser):
    """Collects every tag attribute and inline style that would load from another host."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        url = values.get(LOADS.get(tag, ""), "") or ""
        if re.match(r"\s*(https?:)?//", url):
            self.found.append(f"<{tag}> {url}")
        if CSS_REMOTE.search(values.get("style") or ""):
            self.found.append(f"<{tag} style> {values['style']}")
        self.in_style = tag == "style"

    def handle_data(self, data: str) -> None:
        if self.in_style and CSS_REMOTE.search(data):
            self.found.append(f"<style> {data.strip()[:200]}")


def remote_loads(site: Path) -> list[str]:
    found = []
    for path in sorted(site.rglob("*")):
        if path.suffix == ".html":
            parser = RemoteLoads()
            parser.feed(path.read_text(encoding="utf-8"))
            found += [f"{path.relative_to(site)}: {item}" for item in parser.found]
        elif path.suffix == ".css":
            text = path.read_text(encoding="utf-8", errors="replace")
            found += [f"{path.relative_to(site)}: {m.group(0)}" for m in CSS_REMOTE.finditer(text)]
    return found


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    return folder


def test_the_site_builds_every_page_of_docs(site):
    built = {path.parent.relative_to(site).name or "index" for path in site.rglob("index.html")}
    assert {page.stem for page in PAGES} <= built


def test_the_site_loads_no_script_style_font_or_image_from_another_host(site):
    assert remote_loads(site) == []


def test_the_check_sees_a_script_a_stylesheet_and_a_font_from_another_host(tmp_path):
    (tmp_path / "index.html").write_text(
        '<script src="https://cdn.example.com/x.js"></script>'
        '<link rel="stylesheet" href="//fonts.example.com/css">'
        "<style>@import url('https://fonts.example.com/a.css');</style>"
        '<a href="https://example.com/">a link loads nothing</a><img src="img/local.png">'
    )
    (tmp_path / "theme.css").write_text(
        "@font-face{src:url(https://fonts.example.com/f.woff2)}"
        "a{background:url(\"data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'/>\")}"
    )
    assert len(remote_loads(tmp_path)) == 4


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lowercase, punctuation dropped, each space a '-'."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def headings(path: Path) -> list[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return [re.sub(r"[`*]", "", h).strip() for h in re.findall(r"^#{1,6} (.+)$", text, re.M)]


def anchors(path: Path) -> set[str]:
    return {github_slug(heading) for heading in headings(path)}


@pytest.mark.parametrize("doc", [*PAGES, ROOT / "README.md"], ids=lambda p: p.name)
def test_every_heading_has_one_anchor_the_same_on_github_and_in_the_site(doc):
    texts = headings(doc)
    assert [h for h in texts if github_slug(h) != slugify(h, "-")] == []
    slugs = [github_slug(h) for h in texts]
    assert sorted({s for s in slugs if slugs.count(s) > 1}) == []


@pytest.mark.parametrize("doc", [*PAGES, ROOT / "README.md"], ids=lambda p: p.name)
def test_every_relative_link_reaches_its_file_and_heading(doc):
    broken = []
    for target in LINK.findall(FENCE.sub("", doc.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (doc.parent / path).resolve() if path else doc
        missing = anchor and file.suffix == ".md" and anchor not in anchors(file)
        if not file.exists() or missing:
            broken.append(target)
    assert broken == []
