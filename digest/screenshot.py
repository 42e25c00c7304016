"""Screenshot of a Latvian-locale digest in headless Chromium (docs/digest-lv.png, and a phone view).

``python -m digest.screenshot [--out docs/digest-lv.png] [--phone docs/digest-lv-phone.png] [--locale lv]``

The digest of week 2026-W46 of a synthetic warehouse (20,000 ads, :mod:`digest.synthetic`, in a temporary
folder), rendered exactly as recipients get it. Needs Playwright and Debian's Chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import date
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"
WEEK = date(2026, 11, 9)


def render(locale: str, folder: Path) -> Path:
    from digest import service
    from digest.config import parse_config
    from digest.render import render_all
    from digest.synthetic import SyntheticSpec, generate
    from digest.view import build_view
    from warehouse import session

    db = folder / "wh.duckdb"
    with session(db) as con:
        generate(con, SyntheticSpec(ads=20_000))
    recipient = parse_config(
        {"recipients": [{"id": f"ngo-{locale}", "name": "Biedrība “Patvērums”", "locale": locale,
                         "formats": ["html"]}]},
        folder,
    ).recipients[0]
    view = build_view(service.compute(db, recipient, WEEK), recipient)
    html = next(f for f in render_all(view, recipient) if f.name.endswith(".html"))
    path = folder / html.name
    path.write_bytes(html.content)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locale", default="lv")
    parser.add_argument("--out", type=Path, default=DOCS / "digest-lv.png")
    parser.add_argument("--phone", type=Path, default=DOCS / "digest-lv-phone.png")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from review_app.screenshot import launch_chromium

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        page_path = render(args.locale, Path(tmp))
        browser = launch_chromium(playwright)
        try:
            for out, viewport, height in ((args.out, {"width": 860, "height": 1400}, 1400),
                                          (args.phone, {"width": 375, "height": 812}, 812)):
                context = browser.new_context(viewport=viewport, device_scale_factor=1)
                page = context.new_page()
                page.goto(page_path.as_uri())
                out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out), clip={"x": 0, "y": 0, "width": viewport["width"], "height": height})
                context.close()
                print(f"wrote {out}")
        finally:
            browser.close()


if __name__ == "__main__":
    main()
