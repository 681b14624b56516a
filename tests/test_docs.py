"""The documentation site: `mkdocs build --strict` is clean, loads nothing from the internet,
and every relative link in README.md and docs/*.md points at a file that exists."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
MKDOCS = Path(sys.executable).with_name("mkdocs")
# Markdown links and images: [text](target) and ![alt](target "title").
MARKDOWN_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^\s*```")
# CSS that pulls in another file: @import "x", @import url(x), url(x) (fonts, images).
CSS_URL = re.compile(r"""@import\s+["']([^"']+)["']|url\(\s*["']?([^"')]+)["']?\s*\)""")


class _Assets(HTMLParser):
    """The URLs a page loads by itself: stylesheets, scripts, fonts, images, frames, media."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "link" and attributes.get("href"):
            rel = set(attributes.get("rel", "").lower().split())
            # An <a>-like <link rel="canonical"> is not loaded; everything else may be.
            if rel - {"canonical", "alternate", "next", "prev", "author", "license"}:
                self.urls.append(attributes["href"])
        loads_src = {"script", "img", "iframe", "source", "audio", "video", "embed", "input"}
        if tag in loads_src and attributes.get("src"):
            self.urls.append(attributes["src"])
        if tag in {"img", "source"} and attributes.get("srcset"):
            self.urls += [part.split()[0] for part in attributes["srcset"].split(",") if part]
        if tag == "object" and attributes.get("data"):
            self.urls.append(attributes["data"])
        if attributes.get("style"):
            self.urls += _css_urls(attributes["style"])
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.urls += _css_urls(data)


def _css_urls(css: str) -> list[str]:
    return [first or second for first, second in CSS_URL.findall(css)]


def _is_external(url: str) -> bool:
    return url.strip().lower().startswith(("http://", "https://", "//"))


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`mkdocs build --strict` of the project's site into a temporary folder."""
    site = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [str(MKDOCS), "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    warnings = [line for line in output.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert not warnings, "\n".join(warnings)
    return site


def test_site_builds_strictly_with_every_page(built_site: Path):
    pages = sorted(path.stem for path in (ROOT / "docs").glob("*.md"))
    for page in pages:
        built = built_site / ("index.html" if page == "index" else f"{page}/index.html")
        assert built.is_file(), f"docs/{page}.md was not built"


def test_site_loads_no_asset_from_the_internet(built_site: Path):
    html_pages = sorted(built_site.rglob("*.html"))
    assert html_pages
    external = []
    for page in html_pages:
        parser = _Assets()
        parser.feed(page.read_text(encoding="utf-8"))
        assert parser.urls, f"{page} loads nothing at all: the parser is broken"
        external += [
            f"{page.relative_to(built_site)}: {url}" for url in parser.urls if _is_external(url)
        ]
    for stylesheet in sorted(built_site.rglob("*.css")):
        external += [
            f"{stylesheet.relative_to(built_site)}: {url}"
            for url in _css_urls(stylesheet.read_text(encoding="utf-8", errors="replace"))
            if _is_external(url)
        ]
    assert not external, "assets from the internet:\n" + "\n".join(external)


def test_the_checks_see_an_external_asset():
    """The parser would catch the CDN stylesheets, scripts and fonts a theme might load."""
    parser = _Assets()
    parser.feed(
        '<link rel="stylesheet" href="https://cdn.example/x.css">'
        '<script src="//cdn.example/x.js"></script><img src="images/a.png">'
        "<style>@import url(https://fonts.example/css); p {background: url('b.png')}</style>"
        '<a href="https://kedro.org">a link is not an asset</a>'
    )
    assert [url for url in parser.urls if _is_external(url)] == [
        "https://cdn.example/x.css",
        "//cdn.example/x.js",
        "https://fonts.example/css",
    ]


def _relative_links(markdown: Path) -> list[str]:
    """The relative link targets of a markdown file, outside code blocks and code spans."""
    targets, fenced = [], False
    for line in markdown.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        prose = re.sub(r"`[^`]*`", "", line)
        for target in MARKDOWN_LINK.findall(prose):
            if not urlsplit(target).scheme and not target.startswith(("#", "//")):
                targets.append(target)
    return targets


@pytest.mark.parametrize(
    "markdown",
    [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))],
    ids=lambda path: str(path.relative_to(ROOT)),
)
def test_every_relative_link_points_at_a_file(markdown: Path):
    missing = []
    for target in _relative_links(markdown):
        path = unquote(urlsplit(target).path)
        if not (markdown.parent / path).exists():
            missing.append(target)
    assert not missing, f"{markdown.relative_to(ROOT)}: links to missing files {missing}"


def test_readme_links_into_the_docs():
    linked = {
        Path(target.split("#")[0]).name
        for target in _relative_links(ROOT / "README.md")
        if target.startswith("docs/")
    }
    pages = {path.name for path in (ROOT / "docs").glob("*.md")} - {"index.md"}
    assert pages <= linked, f"README links to no page {sorted(pages - linked)}"


def test_home_page_is_the_readme():
    """docs/index.md is README.md with its links made relative to docs/: edit both."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    home = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    assert home == readme.replace("](docs/", "](")
