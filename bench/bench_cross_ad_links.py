"""Cross-ad features with shared-contact links across the retention boundary: what the pseudonym bridge costs.

    .venv/bin/python bench/bench_cross_ad_links.py [--ads 5000] [--repeat 3] [--days 30]

A synthetic warehouse (``digest.synthetic``: ads over 12 weeks, phone/e-mail/messenger entities with shared pools
for the lures) gets its ads older than ``--days`` pseudonymised by a real retention run. Then
:func:`pipeline.cross_ad_features.compute_cross_ad_features` runs (best of ``--repeat``)

* **before retention** (no pseudonym stored: the bridge is skipped after one cheap check),
* **after retention, no key** (links on stored values only: old and fresh ads are not linked), and
* **after retention, with the key** (every distinct plain contact value pseudonymised once, fresh ads linked to
  old ones through the bridge),

and :func:`warehouse.contact_links.contact_bridge` on its own. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from timing import best_of

from digest.synthetic import SyntheticSpec, generate
from pipeline.cross_ad_features import LINKING_KINDS, compute_cross_ad_features
from warehouse import session
from warehouse.contact_links import contact_bridge
from warehouse.pseudonymise import KEY_ENV, KEY_FILE_ENV, Pseudonymiser
from warehouse.retention import apply_retention

BENCH_KEY = "bench-only-key-" + "0123456789abcdef" * 2


def links(con: Any) -> str:
    """The sum of shared_contact_ads over all ads, and how many ads share a contact at all."""
    total, ads = con.execute(
        "SELECT sum(shared_contact_ads), count(*) FILTER (WHERE shared_contact_ads > 0) FROM ad_cross_features"
    ).fetchall()[0]
    return f"{int(total)} ad-ad links, {int(ads)} ads with a shared contact"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ads", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    for name in (KEY_ENV, KEY_FILE_ENV):
        os.environ.pop(name, None)
    key = Pseudonymiser(BENCH_KEY.encode())
    spec = SyntheticSpec(ads=args.ads)
    with tempfile.TemporaryDirectory(prefix="lw-bench-links-") as tmp:
        db = Path(tmp) / "lw.duckdb"
        rows: list[tuple[str, float, str]] = []
        with session(db) as con:
            counts = generate(con, spec)
            con.execute("DELETE FROM ad_clusters")  # compute_cross_ad_features writes its own
            t, n = best_of(args.repeat, lambda: compute_cross_ad_features(con))
            rows.append(("before retention", t, links(con)))
            now = datetime.combine(spec.last_week + timedelta(days=6), datetime.min.time())
            start = time.perf_counter()
            report = apply_retention(con, args.days, pseudonymiser=key, now=now)
            retention_s = time.perf_counter() - start
            t, _ = best_of(args.repeat, lambda: compute_cross_ad_features(con))
            rows.append(("after retention, no key", t, links(con)))
            t, _ = best_of(args.repeat, lambda: compute_cross_ad_features(con, pseudonymiser=key))
            rows.append(("after retention, with key", t, links(con)))
            t, bridge = best_of(args.repeat, lambda: contact_bridge(con, LINKING_KINDS, pseudonymiser=key))
            plain = con.execute(
                "SELECT count(DISTINCT value) FILTER (WHERE NOT starts_with(value, 'pz1_')), "
                "count(DISTINCT value) FILTER (WHERE starts_with(value, 'pz1_')) "
                "FROM entities WHERE kind IN (SELECT unnest(?))",
                [list(LINKING_KINDS)],
            ).fetchall()[0]
            rows.append(("contact_bridge alone", t, f"{len(bridge)} pairs from {plain[0]} plain values"))
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{n} ads, {counts['entities']} entities; retention ({args.days} days) pseudonymised the contacts of "
          f"{report.ads} ads ({report.entities} entities) in {retention_s:.1f} s; {plain[1]} distinct pseudonyms\n")
    print(f"| run | seconds (best of {args.repeat}) | result |")
    print("|---|---:|---|")
    for name, seconds, result in rows:
        print(f"| {name} | {seconds:.3f} | {result} |")


if __name__ == "__main__":
    main()
