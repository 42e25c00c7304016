"""Issue 14 in real headless Chromium: the threshold line is drawn between the ads above and below it, the `x`
key without a pseudonymisation key shows why there is no export (no request, no silent 503), the Latvian
interface with English glosses, and a cluster decision with the keyboard."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from review_support import ANALYST, ReviewEnv, prepare, query, running

from review_app.screenshot import log_in, screenshot_ad


def test_threshold_line_is_drawn_between_the_ads_above_and_below(shared_env: ReviewEnv, page: Any) -> None:
    log_in(page, shared_env.url, *ANALYST)
    page.goto(f"{shared_env.url}/")
    above = int(page.locator("#above-threshold").inner_text())
    size = shared_env.settings.page_size
    number = above // size + 1  # the page the line is on
    if number > 1:
        page.goto(f"{shared_env.url}/?page={number}")
    line = page.locator("#threshold-line")
    assert line.count() == 1 and line.is_visible()
    assert "Alert threshold" in line.inner_text()
    line_y = line.bounding_box()["y"]
    rows = page.locator(".queue-item")
    for i in range(rows.count()):
        box = rows.nth(i).bounding_box()
        is_above = "above-threshold" in (rows.nth(i).get_attribute("class") or "")
        assert is_above == ((number - 1) * size + i < above)
        assert (box["y"] + box["height"] <= line_y) if is_above else (box["y"] >= line_y)
    legend = page.locator("#score-legend").get_attribute("title") or ""
    assert "of ads are lures" in legend


@pytest.fixture
def keyless_env(review_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ReviewEnv]:
    monkeypatch.delenv("LUREWATCH_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("LUREWATCH_PSEUDONYM_KEY_FILE", raising=False)
    settings = prepare(review_template, tmp_path / "keyless", pseudonym_key_file=None)
    with running(settings) as env:
        yield env


def test_x_without_a_key_shows_the_reason_and_requests_nothing(keyless_env: ReviewEnv, page: Any) -> None:
    ad_id = int(query(keyless_env.db, "SELECT min(ad_id) FROM ads")[0][0])
    log_in(page, keyless_env.url, *ANALYST)
    page.goto(f"{keyless_env.url}/ads/{ad_id}")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    assert page.get_by_role("button", name="CSV").is_disabled()
    assert page.get_by_role("button", name="JSON").is_disabled()
    reason = page.locator("#export-disabled")
    assert reason.is_visible() and "no pseudonymisation key" in reason.inner_text()
    page.keyboard.press("x")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'export-disabled'")
    assert "flash-reason" in (reason.get_attribute("class") or "")
    assert not [url for url in requests if "/export" in url]
    assert page.url.endswith(f"/ads/{ad_id}")


def test_latvian_interface_with_english_glosses(shared_env: ReviewEnv, page: Any, tmp_path: Path) -> None:
    log_in(page, shared_env.url, *ANALYST)
    page.goto(f"{shared_env.url}/")
    with page.expect_navigation():
        page.get_by_role("link", name="Latviešu").click()
    assert page.locator("h1").inner_text() == "Pārskatīšanas rinda"
    assert page.locator("html").get_attribute("lang") == "lv"
    href = page.locator(".queue-item").first.get_attribute("data-href")
    page.goto(f"{shared_env.url}{href}")  # the cookie keeps the language
    assert "Kāpēc šāds vērtējums" in page.content()
    assert page.locator("#glossary .gloss").count() > 0
    assert "Phrase signalling: " in page.locator("#glossary").inner_text()
    shot = screenshot_ad(page.context.browser, shared_env.url, *ANALYST, tmp_path / "ad-lv.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_one_key_decides_the_whole_cluster(fresh_env: ReviewEnv, page: Any) -> None:
    from test_review_daily_use import _current, _make_cluster

    lead, *others = _make_cluster(fresh_env)
    log_in(page, fresh_env.url, *ANALYST)
    page.goto(f"{fresh_env.url}/ads/{lead}")
    assert "2 similar undecided ads" in page.locator("#cluster-scope").inner_text()
    assert "×3" in page.locator(".btn-lure").inner_text()
    with page.expect_navigation():
        page.keyboard.press("l")
    assert "and 2 similar ads of its template marked" in page.locator(".flash-ok").inner_text()
    assert _current(fresh_env.db, [lead, *others]) == dict.fromkeys([lead, *others], "lure")
    with page.expect_navigation():
        page.keyboard.press("z")
    assert _current(fresh_env.db, [lead, *others]) == dict.fromkeys([lead, *others], "none")
    # split off: key 1 ticks "only this ad", then n decides just it
    page.goto(f"{fresh_env.url}/ads/{lead}")
    page.keyboard.press("1")
    assert page.locator("#just-this").is_checked()
    with page.expect_navigation():
        page.keyboard.press("n")
    assert _current(fresh_env.db, [lead, *others]) == {lead: "not_lure", others[0]: "none", others[1]: "none"}
