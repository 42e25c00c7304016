"""Issue 14, digest: the digest's tables do not overflow on a phone. Both built-in templates, in English and in
Latvian (longer words), rendered and opened in real headless Chromium (Debian's /usr/bin/chromium via Playwright)
at 375 CSS pixels: no table, and nothing else on the page, is wider than the screen."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from digest import service
from digest.config import parse_config
from digest.model import DigestData
from digest.render import render_all
from digest.view import build_view
from review_app.screenshot import CHROMIUM, launch_chromium

WEEK = date(2026, 11, 9)
PHONE = {"width": 375, "height": 812}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    assert Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}: install it with bin/setup --dev (bin/test does)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def data(synthetic_warehouse: Path) -> DigestData:
    config = parse_config({"recipients": [{"id": "x", "name": "X"}]}, synthetic_warehouse.parent)
    return service.compute(synthetic_warehouse, config.recipients[0], WEEK)


@pytest.mark.parametrize("locale", ["en", "lv"])
@pytest.mark.parametrize("template", ["digest.html.j2", "summary.html.j2"])
def test_no_table_is_wider_than_a_375px_phone_screen(
    browser: Any, data: DigestData, tmp_path: Path, locale: str, template: str
) -> None:
    recipient = parse_config(
        {"recipients": [{"id": "ngo", "name": "NGO", "locale": locale, "template": template, "formats": ["html"],
                         "thresholds": {"suppress_below": 0}}]},  # every count exact: the widest numbers
        tmp_path,
    ).recipients[0]
    html = next(f for f in render_all(build_view(data, recipient), recipient) if f.name.endswith(".html"))
    path = tmp_path / "digest.html"
    path.write_bytes(html.content)
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    try:
        page = context.new_page()
        page.goto(path.as_uri())
        tables = page.evaluate(
            """() => [...document.querySelectorAll('table')].map(t => {
                   const r = t.getBoundingClientRect();
                   return {left: r.left, right: r.right, width: r.width, scroll: t.scrollWidth};
               })"""
        )
        viewport = page.evaluate("() => ({inner: window.innerWidth, scroll: document.documentElement.scrollWidth})")
    finally:
        context.close()
    assert viewport["inner"] == PHONE["width"]
    assert len(tables) >= (6 if template == "digest.html.j2" else 2)
    too_wide = [t for t in tables if t["left"] < 0 or t["right"] > PHONE["width"] or t["scroll"] > t["width"] + 1]
    assert too_wide == []
    assert viewport["scroll"] <= PHONE["width"]  # no sideways scrolling anywhere on the page
