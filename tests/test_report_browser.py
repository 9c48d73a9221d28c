"""The comparison report in a real browser: Debian's headless Chromium (installed by ``make test``)
opens it without console errors, renders its tables and images, and takes a screenshot."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from matplotlib.image import imread
from playwright.sync_api import sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def page_of_report(sample_comparison, tmp_path_factory):
    if shutil.which("chromium") is None:
        pytest.fail("Chromium is not installed: `make test` installs Debian's chromium package "
                    "(apt-get install chromium); install it and run again.")
    shot = tmp_path_factory.mktemp("browser") / "report.png"
    problems = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("request", lambda r: problems.append(f"request: {r.url}") if not r.url.startswith(("file:", "data:")) else None)
        page.goto((sample_comparison / "report.html").as_uri())
        page.wait_for_load_state("load")
        facts = page.evaluate("""() => ({
            title: document.title,
            tables: document.querySelectorAll('table').length,
            rows: document.querySelectorAll('tbody tr').length,
            images: document.images.length,
            broken: Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).length,
            verdict: document.querySelector('.verdict').innerText,
            width: document.documentElement.scrollWidth,
        })""")
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    return facts, problems, shot


def test_report_opens_without_console_errors_or_requests(page_of_report):
    _, problems, _ = page_of_report
    assert problems == []


def test_report_renders_tables_and_images(page_of_report):
    facts, _, _ = page_of_report
    assert facts["title"] == "CDNOW sample"
    assert facts["tables"] >= 4 * 3 + 5 and facts["rows"] > 100
    assert facts["images"] == 28 and facts["broken"] == 0
    assert facts["verdict"].startswith("Best overall:")
    assert facts["width"] <= 1280  # no sideways scrolling at a laptop's width


def test_screenshot_shows_a_rendered_page(page_of_report):
    _, _, shot = page_of_report
    pixels = imread(shot)
    assert pixels.shape[1] == 1280 and pixels.shape[0] > 5000  # the full page, figures included
    ink = (pixels[..., :3] < 0.5).any(axis=2).mean()  # share of dark pixels: text, lines, bars
    colour = (np.ptp(pixels[..., :3], axis=2) > 0.3).mean()  # share of strongly coloured pixels: figures
    assert 0.005 < ink < 0.5 and colour > 0.01
