"""The web page in Debian's Chromium (Playwright, headless, no browser download)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pipelines.inference.builders import save_model, tiny_segmenter
from tests.serving.conftest import FIRST_VERSION, encoded, random_rgb, running_service, settings_for

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Where a screenshot of the labelled page goes, to look at (SERVE_SCREENSHOT=path.png).
SCREENSHOT = os.environ.get("SERVE_SCREENSHOT")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.is_file(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"
    ),
]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    project = tmp_path_factory.mktemp("page")
    save_model(project, FIRST_VERSION, tiny_segmenter("first"))
    with running_service(settings_for(project / "data/06_models/base")) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_an_uploaded_image_shows_its_overlay_legend_and_the_models_version(
    service: str, browser, tmp_path: Path
):
    image = Path(os.environ.get("SERVE_PAGE_IMAGE", tmp_path / "pet.png"))
    if not image.is_file():
        image.write_bytes(encoded(random_rgb(60, 80)))
    page = browser.new_page()
    page.goto(service)
    page.wait_for_function("document.querySelector('#model-info').textContent.includes('version')")
    assert FIRST_VERSION in page.text_content("#model-info")
    page.set_input_files("#file-input", str(image))
    page.wait_for_selector("#result:not([hidden])")
    page.wait_for_function("document.querySelector('#mask').complete")
    legend = page.locator("#legend tbody tr").all_inner_texts()
    assert [row.split("\t")[0].strip() for row in legend] == ["background", "cat", "dog"]
    shares = [float(row.split("\t")[1].rstrip(" %")) for row in legend]
    assert sum(shares) == pytest.approx(100, abs=0.2)
    photo_size = page.eval_on_selector("#photo", "img => [img.naturalWidth, img.naturalHeight]")
    mask_size = page.eval_on_selector("#mask", "img => [img.naturalWidth, img.naturalHeight]")
    assert mask_size == photo_size and photo_size[0] > 0
    page.fill("#opacity", "0.8")
    assert page.eval_on_selector("#mask", "img => img.style.opacity") == "0.8"
    assert page.is_hidden("#error")
    if SCREENSHOT:
        page.screenshot(path=SCREENSHOT, full_page=True)
    page.close()


def test_a_bad_file_shows_the_services_error(service: str, browser, tmp_path: Path):
    bad = tmp_path / "notes.jpg"
    bad.write_text("not a photo")
    page = browser.new_page()
    page.goto(service)
    page.set_input_files("#file-input", str(bad))
    page.wait_for_selector("#error:not([hidden])")
    message = page.text_content("#error")
    assert "notes.jpg" in message and "not an image" in message and "HTTP 415" in message
    assert page.is_hidden("#result")
    page.close()
