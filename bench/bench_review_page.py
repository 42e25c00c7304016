"""The ad page of a 1.2 MB ad against an ordinary ad page, on the same app in the same run (issue 12, item 2).

    .venv/bin/python bench/bench_review_page.py [--db FILE] [--chars 1200000] [--repeat 7]

Without ``--db`` the fixture sites are served on 127.0.0.1 and the real crawl_and_score flow builds a warehouse
(about a minute). A lure ad of ``--chars`` characters (fixture lure ads one after another, each with its own phone
number and some attacker markup) is stored, extracted and scored by the real pipeline; the review app serves the
warehouse on 127.0.0.1 (in this process, argon2 with cheap test costs).

Printed: the median time of the ordinary ad's page (the baseline: the fixture ad with most evidence), the huge ad's
first view (reasons not computed yet), its later views (reasons cached), its full text streamed; the huge page as a
ratio of the baseline; the ordinary page while another client loads the huge page over and over; and the
highlighter alone for 2,000 to 16,000 spans (best of 3, CPU seconds;
the old quadratic one: 0.26/0.92/3.0/12.3 s in issue 12).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

ACCOUNT = ("bench", "bench-password-1")


def lure_body(chars: int) -> str:
    from fixture_sites import load_ads

    lures = [ad for ad in load_ads() if ad["label"]]
    parts, size, i = [], 0, 0
    while size < chars:
        ad = lures[i % len(lures)]
        part = f"{ad['title']}. {ad['body']} WhatsApp +371 2{i:07d} <script>alert(1)</script> <b>now</b>\n"
        parts.append(part)
        size += len(part)
        i += 1
    return "".join(parts)[:chars]


def build_warehouse(folder: Path) -> Path:
    from fixture_sites import FixtureSites

    sys.path.insert(0, str(PROJECT_ROOT / "tests"))
    from suite_support import build_flow_warehouse  # type: ignore[import-not-found]

    with FixtureSites() as sites:
        return build_flow_warehouse(folder, sites.base_urls, name="bench.duckdb")


def plant(db: Path, chars: int) -> tuple[int, int, float]:
    """The huge ad stored, extracted and scored; (its id, the ordinary ad's id, seconds to extract it)."""
    from pipeline.feature_store import extract_pending
    from pipeline.model_registry import load_champion
    from pipeline.score import score_pending
    from warehouse import session
    from warehouse.ads import upsert_ads
    from warehouse.records import AdRow

    url = f"https://bench.example/huge-{chars}"
    with session(db) as con:
        upsert_ads(con, [AdRow(site_id="skelbimai", url=url, title="Huge ad", body=lure_body(chars))], None)
        start = time.perf_counter()
        extract_pending(con)
        extract_s = time.perf_counter() - start
        model = load_champion(con)
        if model is None:
            raise SystemExit("the warehouse has no champion model: run `lurewatch train --promote` first")
        score_pending(con, model)
        huge = int(con.execute("SELECT ad_id FROM ads WHERE url = ?", [url]).fetchall()[0][0])
        normal = int(con.execute(
            "SELECT ad_id FROM features WHERE ad_id <> ? ORDER BY json_array_length(evidence) DESC, ad_id LIMIT 1",
            [huge]).fetchall()[0][0])
    return huge, normal, extract_s


def logged_in(url: str) -> httpx.Client:
    import re

    client = httpx.Client(base_url=url, timeout=600, follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token, "no CSRF token on /login"
    response = client.post("/login", data={"username": ACCOUNT[0], "password": ACCOUNT[1],
                                           "csrf_token": token.group(1), "next": "/"})
    assert response.status_code == 303, response.status_code
    return client


def timed_get(client: httpx.Client, path: str) -> tuple[float, int, int]:
    start = time.perf_counter()
    response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"GET {path}: {response.status_code}")
    return time.perf_counter() - start, response.status_code, len(response.content)


def highlighter_seconds(text: str, spans: list, counts: tuple[int, ...]) -> list[tuple[int, float]]:
    from review_app.highlight import highlight

    out = []
    for n in counts:
        best = float("inf")
        for _ in range(3):
            start = time.process_time()
            highlight(text, spans[:n])
            best = min(best, time.process_time() - start)
        out.append((n, best))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="a warehouse with a champion model (copied, never changed)")
    parser.add_argument("--chars", type=int, default=1_200_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    import shutil

    from review_app.ad_view import load_ad
    from review_app.authdb import initialise
    from review_app.server import ThreadedServer
    from review_app.settings import ReviewSettings
    from review_app.users import create_user
    from warehouse import session

    with tempfile.TemporaryDirectory(prefix="bench-review-page-") as tmp:
        folder = Path(tmp)
        if args.db:
            if not args.db.is_file():
                raise SystemExit(f"no such warehouse: {args.db}")
            db = folder / "bench.duckdb"
            shutil.copyfile(args.db, db)
        else:
            print("building the fixture warehouse with the real flow (about a minute)...", flush=True)
            db = build_warehouse(folder)
        huge, normal, extract_s = plant(db, args.chars)
        settings = ReviewSettings(db_path=db, cookie_secure=False, password_time_cost=1, password_memory_kib=8192,
                                  password_parallelism=1)
        initialise(settings.auth_database)
        create_user(settings.auth_database, *ACCOUNT, "analyst", created_by="bench", hasher=settings.password_hasher())
        with session(db) as con:
            detail = load_ad(con, huge, None)
        assert detail is not None
        spans = sorted(detail.spans(), key=lambda s: s.start)

        with ThreadedServer(settings) as server:
            client = logged_in(server.url)
            timed_get(client, f"/ads/{normal}")  # warm the model cache and the templates
            normal_times = [timed_get(client, f"/ads/{normal}")[0] for _ in range(args.repeat)]
            first, _, first_bytes = timed_get(client, f"/ads/{huge}")
            while "reasons-note" in client.get(f"/ads/{huge}").text:  # the reasons go on in the background
                time.sleep(0.5)
            huge_times = [timed_get(client, f"/ads/{huge}")[0] for _ in range(args.repeat)]
            full, _, full_bytes = timed_get(client, f"/ads/{huge}/text")

            stop = threading.Event()
            other = logged_in(server.url)

            def hammer() -> None:
                while not stop.is_set():
                    other.get(f"/ads/{huge}")

            thread = threading.Thread(target=hammer)
            thread.start()
            try:
                during = [timed_get(client, f"/ads/{normal}")[0] for _ in range(args.repeat)]
            finally:
                stop.set()
                thread.join()

        base = statistics.median(normal_times)
        warm = statistics.median(huge_times)
        print(f"huge ad: {len(detail.text):,} characters, {len(spans):,} evidence spans and contacts, "
              f"extracted in {extract_s:.1f} s")
        print(f"ordinary ad page (baseline)          median {base * 1000:7.0f} ms")
        print(f"huge ad page, first view             {first * 1000:14.0f} ms  ({first / base:.2f}x the baseline, "
              f"{first_bytes / 1024:.0f} KB){'  < 1 s' if first < 1 else '  OVER 1 s'}")
        print(f"huge ad page, later views            median {warm * 1000:7.0f} ms  ({warm / base:.2f}x the baseline)"
              f"{'  < 1 s' if warm < 1 else '  OVER 1 s'}")
        print(f"huge ad full text, streamed          {full * 1000:14.0f} ms  ({full_bytes / 1e6:.1f} MB)")
        print(f"ordinary page while another client loads the huge page: median "
              f"{statistics.median(during) * 1000:.0f} ms ({statistics.median(during) / base:.2f}x the baseline)")
        counts = tuple(n for n in (2_000, 4_000, 8_000, 16_000) if n <= len(spans))
        timings = highlighter_seconds(detail.text, spans, counts)
        print("highlighter alone, whole text: " + ", ".join(f"{n:,} spans {s:.3f} s" for n, s in timings)
              + (f"  ({timings[-1][1] / timings[0][1]:.1f}x the time for 8x the spans)" if len(timings) == 4 else ""))


if __name__ == "__main__":
    main()
