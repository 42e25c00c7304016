"""The review app in real headless Chromium (Debian's /usr/bin/chromium driven by Playwright): logging in,
reviewing with the keyboard, undo, downloads, and attack ads that must not run."""

from __future__ import annotations

import csv
import io
import json
import re
import struct
from pathlib import Path
from typing import Any

from review_support import ANALYST, ReviewEnv, query

from review_app.screenshot import log_in, screenshot_queue
from warehouse import session
from warehouse.ads import upsert_ads
from warehouse.records import AdRow


def _ad_id(url: str) -> int:
    match = re.search(r"/ads/(\d+)", url)
    assert match, url
    return int(match.group(1))


def _labels(env: ReviewEnv, ad_id: int) -> list[tuple[Any, ...]]:
    return query(
        env.db,
        "SELECT label, previous_label, action, note FROM labels WHERE ad_id = ? AND source = 'analyst' "
        "ORDER BY label_id",
        [ad_id],
    )


def test_review_with_the_keyboard_and_undo(fresh_env: ReviewEnv, page: Any) -> None:
    """Log in through the form, move in the queue with j/k, open with o, write a note (shortcut letters typed
    into the note are just text), decide with l and n (each opens the next ad), undo with z, skip ahead with j."""
    log_in(page, fresh_env.url, *ANALYST)
    assert page.url == f"{fresh_env.url}/"
    rows = page.locator(".queue-item")
    first_href = rows.nth(0).get_attribute("data-href")
    page.keyboard.press("j")
    assert "selected" in (rows.nth(1).get_attribute("class") or "")
    page.keyboard.press("k")
    assert "selected" in (rows.nth(0).get_attribute("class") or "")
    with page.expect_navigation():
        page.keyboard.press("o")
    assert page.url == f"{fresh_env.url}{first_href}"
    first = _ad_id(page.url)

    page.keyboard.press("e")
    page.keyboard.type("seen on two sites, asks for a selfie")
    page.keyboard.press("Escape")
    assert _labels(fresh_env, first) == []
    with page.expect_navigation():
        page.keyboard.press("l")
    second = _ad_id(page.url)
    assert second != first
    assert "marked “Lure”" in page.locator(".flash-ok").inner_text()
    assert _labels(fresh_env, first) == [("lure", None, "decide", "seen on two sites, asks for a selfie")]

    with page.expect_navigation():
        page.keyboard.press("n")
    third = _ad_id(page.url)
    assert _labels(fresh_env, second) == [("not_lure", None, "decide", None)]

    with page.expect_navigation():
        page.keyboard.press("z")
    assert _ad_id(page.url) == second
    assert "Undone" in page.locator(".flash-ok").inner_text()
    assert _labels(fresh_env, second)[-1] == ("none", "not_lure", "undo", None)

    with page.expect_navigation():
        page.keyboard.press("j")
    assert _ad_id(page.url) == third  # next in the queue, nothing decided
    assert _labels(fresh_env, third) == []
    with page.expect_navigation():
        page.keyboard.press("q")
    assert page.url.startswith(f"{fresh_env.url}/")
    assert page.locator(f'.queue-item[data-href="/ads/{first}"]').count() == 0


def test_case_exports_download_in_the_browser(shared_env: ReviewEnv, page: Any, tmp_path: Path) -> None:
    """The CSV and JSON buttons (and the x key) download the case files with the ad in them."""
    ad_id = int(query(shared_env.db, "SELECT min(ad_id) FROM ads")[0][0])
    title = query(shared_env.db, "SELECT title FROM ads WHERE ad_id = ?", [ad_id])[0][0]
    log_in(page, shared_env.url, *ANALYST)
    page.goto(f"{shared_env.url}/ads/{ad_id}")
    with page.expect_download() as csv_download:
        page.keyboard.press("x")
    assert csv_download.value.suggested_filename == f"lurewatch-case-{ad_id}.csv"
    csv_path = tmp_path / "case.csv"
    csv_download.value.save_as(csv_path)
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text(encoding="utf-8-sig"))))
    assert {"section": "ad", "item": "", "field": "title", "value": title} in rows
    with page.expect_download() as json_download:
        page.get_by_role("link", name="JSON").click()
    json_path = tmp_path / "case.json"
    json_download.value.save_as(json_path)
    assert json.loads(json_path.read_text(encoding="utf-8"))["ad"]["ad_id"] == ad_id


def test_attack_ads_do_not_run_in_the_browser(shared_env: ReviewEnv, page: Any) -> None:
    """Script tags, event handlers and javascript: URLs in ads (the fixture attack ads and one that tries to set a
    global) stay text: no dialog opens, nothing runs, the only script is our own."""
    body = 'Apply: <script>window.pwned = 1; alert("x")</script> <img src=x onerror="window.pwned = 2">'
    with session(shared_env.db) as con:
        ad = AdRow(site_id="skelbimai", url="javascript:window.pwned=3", title="<b>t</b>", body=body)
        upsert_ads(con, [ad], None)
        planted = int(con.execute("SELECT ad_id FROM ads WHERE url = 'javascript:window.pwned=3'").fetchall()[0][0])
    attacks = [
        int(r[0])
        for r in query(
            shared_env.db,
            "SELECT ad_id FROM ads WHERE contains(body, '<script>') OR contains(body, 'onerror') "
            "OR contains(body, 'javascript:') OR contains(body, 'onload')",
        )
    ]
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    log_in(page, shared_env.url, *ANALYST)
    for ad_id in [planted, *attacks]:
        page.goto(f"{shared_env.url}/ads/{ad_id}")
        page.wait_for_load_state("load")
        assert page.evaluate("window.pwned") is None
        assert page.evaluate("document.scripts.length") == 1
        assert page.locator(".ad-text img, .ad-text svg, .ad-text script").count() == 0
    page.goto(f"{shared_env.url}/ads/{planted}")
    assert page.locator(".unsafe-url").inner_text() == "javascript:window.pwned=3"
    assert "<script>window.pwned = 1;" in page.locator("#ad-text").inner_text()
    page.goto(f"{shared_env.url}/?status=all&q=pwned")
    assert page.evaluate("window.pwned") is None
    assert dialogs == []


def test_queue_screenshot(shared_env: ReviewEnv, browser: Any, tmp_path: Path) -> None:
    """review_app.screenshot logs in through the form and captures the queue as a PNG (docs/review-queue.png is
    made the same way by `python -m review_app.screenshot`)."""
    out = screenshot_queue(browser, shared_env.url, *ANALYST, tmp_path / "queue.png", width=1200, height=800)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1200, 800)
    assert len(data) > 50_000  # a rendered page, not a blank image
