"""Screenshots of the review queue and of an ad page in the Latvian interface, in headless Chromium
(docs/review-queue.png, docs/review-ad-lv.png).

``python -m review_app.screenshot [--db WAREHOUSE] [--out docs/review-queue.png] [--ad-out docs/review-ad-lv.png]``

With ``--db`` a copy of that warehouse is used (the original is not touched); without, the bundled fixture sites
are crawled, scored and a first model trained into a temporary warehouse (fixture labels only, ~1 minute). If
the warehouse has no template clusters yet, the copy gets them from :mod:`features.near_duplicates`. A throw-away
analyst account logs in through the real login form.

Needs Playwright (``pip install playwright``) and Debian's Chromium at /usr/bin/chromium; Playwright's own browser
download is never used.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "docs" / "review-queue.png"
DEFAULT_AD_OUT = DEFAULT_OUT.with_name("review-ad-lv.png")


def launch_chromium(playwright: Any) -> Any:
    """Debian's Chromium, headless, with nothing that phones home."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def log_in(page: Any, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")


def screenshot_queue(
    browser: Any, base_url: str, username: str, password: str, out: Path, width: int = 1360, height: int = 1100
) -> Path:
    """Log in with a fresh browser context and save a screenful of the queue's first page to ``out``: around the
    alert threshold line if it is on that page, else the top."""
    out.parent.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1)
    try:
        page = context.new_page()
        log_in(page, base_url, username, password)
        page.goto(f"{base_url}/")
        page.wait_for_selector(".queue-item")
        # the alert threshold line in view (when it is on the first page), with ads above and below it
        page.evaluate("document.getElementById('threshold-line')?.scrollIntoView({block: 'center'})")
        page.screenshot(path=str(out))
    finally:
        context.close()
    return out


def screenshot_ad(
    browser: Any, base_url: str, username: str, password: str, out: Path, *, lang: str = "lv",
    width: int = 1360, height: int = 1500,
) -> Path:
    """The ad page of the first ad in the queue in the ``lang`` interface (the glossary of its highlighted phrases
    in view), saved to ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1)
    try:
        page = context.new_page()
        log_in(page, base_url, username, password)
        page.goto(f"{base_url}/?lang={lang}")
        href = page.locator(".queue-item").first.get_attribute("data-href")
        page.goto(f"{base_url}{href}")
        page.wait_for_selector("#ad-text")
        page.screenshot(path=str(out))
    finally:
        context.close()
    return out


def capture_queue(
    base_url: str, username: str, password: str, out: Path, width: int = 1360, height: int = 1100,
    ad_out: Path | None = None, ad_lang: str = "lv",
) -> Path:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            screenshot_queue(browser, base_url, username, password, out, width, height)
            if ad_out is not None:
                screenshot_ad(browser, base_url, username, password, ad_out, lang=ad_lang)
            return out
        finally:
            browser.close()


def build_fixture_warehouse(folder: Path) -> Path:
    """Crawl the bundled fixture sites into ``folder`` with the real flow (fixture labels, no EMSCAD)."""
    empty_emscad = folder / "no-emscad.csv"
    empty_emscad.write_text("text,fraudulent\n", encoding="utf-8")
    os.environ.setdefault("LUREWATCH_MODELS_DIR", str(folder / "models"))
    os.environ.setdefault("LUREWATCH_EMSCAD_TRAIN_CSV", str(empty_emscad))
    from lurewatch.prefect_env import configure_prefect
    from lurewatch.settings import get_settings

    configure_prefect(get_settings(data_dir=folder))
    from fixture_sites import FixtureSites, load_ads
    from flows.crawl_and_score import crawl_and_score

    db = folder / "lurewatch.duckdb"
    seed = [(ad["site"], ad["ref"], bool(ad["label"])) for ad in load_ads() if ad["split"] == "train"]
    with FixtureSites() as sites:
        crawl_and_score(base_urls=sites.base_urls, db_path=str(db), seed_labels=seed, seed_label_source="fixture")
    return db


def ensure_clusters(db: Path) -> None:
    """Fill an empty ad_clusters table with the near-duplicate clustering of :mod:`features.near_duplicates`."""
    from features.near_duplicates import cluster_ids, cluster_sizes, method_name
    from warehouse import session
    from warehouse.records import ad_text

    with session(db) as con:
        if con.execute("SELECT count(*) FROM ad_clusters").fetchall()[0][0]:
            return
        rows = con.execute("SELECT ad_id, title, body FROM ads ORDER BY ad_id").fetchall()
        ids = [int(r[0]) for r in rows]
        clusters = cluster_ids([ad_text(r[1], r[2]) for r in rows], keys=ids)
        sizes = cluster_sizes(clusters)
        con.executemany(
            "INSERT INTO ad_clusters (ad_id, cluster_id, cluster_size, method) VALUES (?, ?, ?, ?)",
            [[ad, int(c), int(s), method_name()] for ad, c, s in zip(ids, clusters, sizes, strict=True)],
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="warehouse to show (a copy is used)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--ad-out", type=Path, default=DEFAULT_AD_OUT,
                        help="the first ad of the queue in the Latvian interface, with glosses")
    args = parser.parse_args(argv)

    from review_app.authdb import initialise
    from review_app.server import ThreadedServer
    from review_app.settings import ReviewSettings
    from review_app.users import create_user

    with tempfile.TemporaryDirectory(prefix="lurewatch-shot-") as tmp:
        folder = Path(tmp)
        if args.db:
            db = folder / "lurewatch.duckdb"
            shutil.copyfile(args.db, db)
        else:
            db = build_fixture_warehouse(folder)
        ensure_clusters(db)
        settings = ReviewSettings(db_path=db, cookie_secure=False)
        initialise(settings.auth_database)
        password = secrets.token_urlsafe(18)
        create_user(
            settings.auth_database, "analyst", password, "analyst", created_by="screenshot",
            hasher=settings.password_hasher(),
        )
        with ThreadedServer(settings) as server:
            out = capture_queue(server.url, "analyst", password, args.out, ad_out=args.ad_out)
    print(f"wrote {out} and {args.ad_out}")


if __name__ == "__main__":
    main()
