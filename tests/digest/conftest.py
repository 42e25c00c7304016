"""Warehouses and a mail server for the digest tests.

* ``fixture_warehouse``: the 371 bundled fixture ads with real extracted features and entities (phones,
  e-mails, handles: the personal data that must never reach a digest), template clusters from the fixture's
  templates, and scores from a stand-in champion (lures high, others low: the digest does not care how a score
  was made, and training a model here would only cost time).
* ``synthetic_warehouse``: 20 000 SQL-generated ads (``digest.synthetic``), with contact-bearing evidence.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from suite_support import fixture_ad_row

from digest.config import DigestConfig, parse_config
from digest.mailsink import MailSink
from digest.synthetic import SyntheticSpec, generate
from warehouse import session

FIXTURE_MODEL = "fixture-standin"


def _score(ref: str, label: int) -> float:
    jitter = int(hashlib.sha256(ref.encode()).hexdigest()[:6], 16) / 0xFFFFFF
    return 0.55 + 0.45 * jitter if label else 0.5 * jitter * jitter


@pytest.fixture(scope="session")
def fixture_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from fixture_sites import load_ads
    from pipeline.feature_store import extract_pending
    from warehouse.ads import upsert_ads

    path = tmp_path_factory.mktemp("fixture-wh") / "lurewatch.duckdb"
    ads = load_ads()
    rows = [fixture_ad_row(ad, f"https://{ad['site']}.example/ad/{ad['ref']}") for ad in ads]
    with session(path) as con:
        upsert_ads(con, rows, None)
        extract_pending(con)
        ids = dict(con.execute("SELECT external_id, ad_id FROM ads").fetchall())
        con.executemany(
            "INSERT INTO scores (ad_id, model_version, score, content_hash) "
            "SELECT ad_id, ?, ?, content_hash FROM ads WHERE ad_id = ?",
            [[FIXTURE_MODEL, _score(ad["ref"], ad["label"]), ids[ad["ref"]]] for ad in ads],
        )
        con.execute(
            "INSERT INTO models (version, created_by, path, status, training_fingerprint, feature_names, metrics, "
            "params) VALUES (?, 'test', '/nonexistent', 'champion', 'none', '[]', '{}', ?)",
            [FIXTURE_MODEL, json.dumps({"threshold": 0.5})],
        )
        templates: dict[str, list[int]] = {}
        for ad in ads:
            templates.setdefault(ad["template"], []).append(ids[ad["ref"]])
        con.executemany(
            "INSERT INTO ad_clusters (ad_id, cluster_id, cluster_size, method) VALUES (?, ?, ?, 'fixture-template')",
            [[ad_id, min(members), len(members)] for members in templates.values() if len(members) > 1
             for ad_id in members],
        )
    return path


@pytest.fixture(scope="session")
def synthetic_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synthetic-wh") / "lurewatch.duckdb"
    with session(path) as con:
        generate(con, SyntheticSpec(ads=20_000))
    return path


@pytest.fixture
def warehouse_copy(tmp_path: Path) -> Callable[[Path], Path]:
    """Copy a session warehouse into this test's folder (tests write archive rows)."""

    def _copy(source: Path) -> Path:
        target = tmp_path / "wh" / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)
        return target

    return _copy


@pytest.fixture
def mail_sink() -> Iterator[MailSink]:
    with MailSink() as sink:
        yield sink


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., DigestConfig]:
    """``make_config(smtp_port=..., **defaults)``: two recipients (the full digest; a one-page summary limited to
    lt/ru with k=10), archive under the test's folder."""
    return lambda smtp_port=25, **defaults: _config(tmp_path, smtp_port, defaults)


def _config(tmp_path: Path, smtp_port: int, defaults: dict[str, object]) -> DigestConfig:
    return parse_config(
        {
            "archive_dir": "archive",
            "smtp": {"host": "127.0.0.1", "port": smtp_port, "sender": "lurewatch <digest@lurewatch.test>"},
            "defaults": defaults,
            "recipients": [
                {"id": "ngo-full", "name": "Full NGO", "emails": ["a@ngo.test", "b@ngo.test"]},
                {
                    "id": "ngo-summary",
                    "name": "Summary NGO",
                    "emails": ["c@ngo2.test"],
                    "template": "summary.html.j2",
                    "formats": ["html", "pdf"],
                    "filters": {"languages": ["lt", "ru"]},
                    "thresholds": {"suppress_below": 10},
                },
            ],
        },
        tmp_path,
    )
