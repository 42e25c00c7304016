"""The review app in daily use (issue 14): where the alert threshold is, comparable scores, contact search by
normalised value with highlighted matches, negative reasons, English glosses and a Latvian interface, decisions
for a whole template cluster (with undo and split-off). HTTP tests against the real app on 127.0.0.1."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from jinja2.ext import babel_extract
from review_support import ANALYST, ReviewEnv, prepare, query, running

from features.contacts import extract_contacts
from review_app.decisions import BUTTON_TITLES, LABEL_TITLES
from review_app.i18n import LOCALES, language_name, translations, use_locale
from review_app.queue import QueueItem, QueuePage, Threshold, phone_terms
from review_app.rendering import STATUS_TITLES, percent
from warehouse import session
from warehouse.records import ad_text

TEMPLATES = Path(__file__).resolve().parents[2] / "review_app" / "templates"
QUEUE_IDS = re.compile(r'<li class="queue-item[^"]*" data-href="/ads/(\d+)|id="threshold-line"')


def _champion(db: Path) -> tuple[str, float]:
    from pipeline.model_registry import champion_version, load

    with session(db) as con:
        version = champion_version(con)
        assert version is not None
        return version, float(load(con, version).threshold)


def _expected_queue(db: Path, version: str) -> list[tuple[int, float]]:
    """Independent ground truth: scored ads without a decision (any source) by score, the best of each cluster."""
    rows = query(
        db,
        """
        SELECT a.ad_id, s.score, coalesce(c.cluster_id, a.ad_id) FROM ads a
        JOIN scores s ON s.ad_id = a.ad_id AND s.model_version = ?
        LEFT JOIN ad_clusters c ON c.ad_id = a.ad_id
        WHERE a.ad_id NOT IN (SELECT ad_id FROM labels WHERE label <> 'none')
        ORDER BY s.score DESC, a.ad_id
        """,
        [version],
    )
    seen: set[int] = set()
    out: list[tuple[int, float]] = []
    for ad_id, score, cluster in rows:
        if int(cluster) not in seen:
            seen.add(int(cluster))
            out.append((int(ad_id), float(score)))
    return out


# --- 1. the alert threshold in the queue -----------------------------------------------------------------------


def test_queue_shows_the_alert_threshold_line_and_how_many_are_above(fresh_env: ReviewEnv) -> None:
    """The queue says how many clusters score at or above the champion's alert threshold and draws the line
    exactly between the last ad above it and the first below it (scores set so that 4 clusters are above)."""
    version, threshold = _champion(fresh_env.db)
    assert 0.0 < threshold < 1.0
    ranked = [ad_id for ad_id, _ in _expected_queue(fresh_env.db, version)]
    assert len(ranked) >= 6
    with session(fresh_env.db) as con:
        con.execute("UPDATE scores SET score = ? * 0.5 WHERE model_version = ?", [threshold, version]).fetchall()
        for i, ad_id in enumerate(ranked[:4]):  # above the threshold, in queue order
            score = threshold + (1.0 - threshold) * (0.4 - 0.1 * i)
            con.execute("UPDATE scores SET score = ? WHERE ad_id = ? AND model_version = ?",
                        [score, ad_id, version]).fetchall()
    expected = _expected_queue(fresh_env.db, version)
    assert [ad_id for ad_id, _ in expected[:4]] == ranked[:4]
    client = fresh_env.logged_in()
    page = client.get("/").text
    assert re.search(r'id="above-threshold">4<', page), "the count of clusters above the threshold"
    order = [m.group(1) or "LINE" for m in QUEUE_IDS.finditer(page)]
    assert order.count("LINE") == 1 and order.index("LINE") == 4
    assert [int(x) for x in order if x != "LINE"][:4] == ranked[:4]
    assert "Alert threshold" in page and f"≥ {percent(threshold)}" in page
    # scores an analyst can compare: percentages with a rank
    shown = [percent(score) for _, score in expected[:4]]
    assert len(set(shown)) == 4
    for rank, text in enumerate(shown, start=1):
        assert f'<span class="score-value">{text}</span>' in page
        assert f'<span class="score-rank">#{rank}</span>' in page
    # the stated prevalence in the legend
    assert "of ads are lures" in page and 'id="score-legend"' in page


def test_threshold_line_sits_on_the_right_page() -> None:
    """Paging: the line is drawn on the page where the count above falls (after the last item only on the
    last page; at the top of the next page otherwise)."""
    items = [QueueItem(i, 0.5, "", "", "", None, None, None, "undecided", i, 0, 0) for i in range(10)]  # type: ignore[arg-type]
    assert QueuePage(items, 25, 1, 10, Threshold(0.3, 4)).threshold_index == 4
    assert QueuePage(items, 25, 1, 10, Threshold(0.3, 10)).threshold_index is None
    assert QueuePage(items, 25, 2, 10, Threshold(0.3, 10)).threshold_index == 0
    assert QueuePage(items[:5], 25, 3, 10, Threshold(0.3, 25)).threshold_index == 5
    assert QueuePage(items, 25, 1, 10, Threshold(0.3, 0)).threshold_index == 0
    assert QueuePage(items, 25, 1, 10, None).threshold_index is None


def test_percentages_keep_scores_apart() -> None:
    """Two significant digits of the smaller side: 0.9987 and 0.9994 no longer both read 0.999 / 1.000."""
    assert percent(0.9987) == "99.87 %" and percent(0.9994) == "99.94 %" and percent(0.99995) == "99.995 %"
    assert percent(0.0054) == "0.54 %" and percent(0.123) == "12 %"
    assert percent(0.99999) != percent(0.99998)
    assert percent(None) == "–" and percent(1.0) == "100 %"


# --- 2. exports without a pseudonymisation key ----------------------------------------------------------------


@pytest.fixture
def keyless_env(review_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ReviewEnv]:
    monkeypatch.delenv("LUREWATCH_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("LUREWATCH_PSEUDONYM_KEY_FILE", raising=False)
    settings = prepare(review_template, tmp_path / "keyless", pseudonym_key_file=None)
    with running(settings) as env:
        yield env


def test_export_buttons_are_disabled_with_the_reason_without_a_key(keyless_env: ReviewEnv) -> None:
    """No key: the ad page offers no export link (nor the x key's link) but disabled buttons and the reason; the
    export URL itself still refuses, with the same explanation."""
    ad_id = int(query(keyless_env.db, "SELECT min(ad_id) FROM ads")[0][0])
    client = keyless_env.logged_in()
    page = client.get(f"/ads/{ad_id}").text
    assert f'href="/ads/{ad_id}/export.csv"' not in page and f'href="/ads/{ad_id}/export.json"' not in page
    assert page.count('disabled aria-disabled="true"') == 2
    assert 'id="export-disabled"' in page and "no pseudonymisation key is configured" in page
    assert re.search(r'<p[^>]*id="export-disabled"[^>]*data-key="x"', page)
    refused = client.get(f"/ads/{ad_id}/export.csv")
    assert refused.status_code == 503 and "LUREWATCH_PSEUDONYM_KEY_FILE" in refused.text


def test_export_buttons_work_with_a_key(shared_env: ReviewEnv) -> None:
    ad_id = int(query(shared_env.db, "SELECT min(ad_id) FROM ads")[0][0])
    page = shared_env.logged_in().get(f"/ads/{ad_id}").text
    assert f'href="/ads/{ad_id}/export.csv" download data-key="x"' in page and 'id="export-disabled"' not in page


# --- 3. contact search by normalised value ------------------------------------------------------------------


def _plant_contacts(db: Path, texts: dict[int, str]) -> None:
    """Give scored ads new bodies and their contacts as extraction stores them (features.contacts)."""
    with session(db) as con:
        for ad_id, body in texts.items():
            title = con.execute("SELECT title FROM ads WHERE ad_id = ?", [ad_id]).fetchall()[0][0]
            con.execute("UPDATE ads SET body = ? WHERE ad_id = ?", [body, ad_id]).fetchall()
            con.execute("DELETE FROM entities WHERE ad_id = ?", [ad_id]).fetchall()
            con.execute("UPDATE features SET evidence = '[]' WHERE ad_id = ?", [ad_id]).fetchall()
            for c in extract_contacts(ad_text(title, body), "LV"):
                con.execute(
                    "INSERT INTO entities (ad_id, kind, value, raw, start_pos, end_pos, free_mail) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [ad_id, c.kind, c.value, c.raw, c.start, c.end, c.free_mail],
                ).fetchall()


def test_search_finds_phone_numbers_however_they_are_written(fresh_env: ReviewEnv) -> None:
    """"29140327" finds "+371 2914 0327" and "2 9 1 4 0 3 2 7" (both stored as +37129140327 by extraction),
    and so do "+371 29140327" and "0037129140327"; the matching contact is marked in the result (escaped)."""
    version, _ = _champion(fresh_env.db)
    ads = [ad_id for ad_id, _ in _expected_queue(fresh_env.db, version)][:3]
    spaced, plus, other = ads
    _plant_contacts(fresh_env.db, {
        spaced: "Darbs Norvēģijā <b>drīz</b>. Zvani 2 9 1 4 0 3 2 7 vakarā.",
        plus: "Work in Oslo. WhatsApp +371 2914 0327 only.",
        other: "Call +371 2000 0000 for a job.",
    })
    assert {r[0] for r in query(fresh_env.db, "SELECT value FROM entities WHERE ad_id IN (?, ?)", [spaced, plus])} \
        == {"+37129140327"}
    client = fresh_env.logged_in()
    for q in ("29140327", "2914 0327", "+371 29140327", "0037129140327", "2 9 1 4 0 3 2 7"):
        found = client.queue_ids({"q": q})
        assert spaced in found and plus in found, q
        assert other not in found, q
    page = client.get("/", params={"q": "29140327"}).text
    marks = re.findall(r'<mark class="[^"]*hl-search[^"]*"[^>]*>([^<]*)</mark>', page)
    assert "2 9 1 4 0 3 2 7" in marks and "+371 2914 0327" in marks
    assert "&lt;b&gt;drīz&lt;/b&gt;" in page and "<b>drīz</b>" not in page
    # a literal search marks the words found, too
    words = client.get("/", params={"q": "Oslo"}).text
    assert re.search(r'<mark class="[^"]*hl-search[^"]*"[^>]*>Oslo</mark>', words)


def test_phone_terms_use_the_project_normalisation() -> None:
    digits, numbers = phone_terms("29140327") or ("", [])
    assert digits == "29140327" and "+37129140327" in numbers  # (also a valid Finnish number: both readings)
    assert phone_terms("+371 2914 0327") == ("37129140327", ["+37129140327"])
    assert phone_terms("riga") is None and phone_terms("2026") is None


# --- 4. negative reasons ----------------------------------------------------------------------------------------


def test_low_score_ad_shows_what_pulls_the_score_down(shared_env: ReviewEnv) -> None:
    version, _ = _champion(shared_env.db)
    lowest = int(query(shared_env.db, "SELECT ad_id FROM scores WHERE model_version = ? ORDER BY score, ad_id LIMIT 1",
                       [version])[0][0])
    page = shared_env.logged_in().get(f"/ads/{lowest}").text
    assert "What pulls the score down" in page and 'id="reasons-down"' in page
    table = page.split('id="reasons-down"', 1)[1].split("</table>", 1)[0]
    effects = [float(x) for x in re.findall(r'<td class="num down">([-+][\d.]+)</td>', table)]
    assert effects and all(e < 0 for e in effects)
    assert effects == sorted(effects)  # strongest first


# --- 5. language help and the Latvian interface ----------------------------------------------------------------


def _ad_with_evidence(db: Path) -> int:
    """An ad with lure phrases (not only facts such as pay) highlighted."""
    rows = query(
        db,
        "SELECT f.ad_id FROM features f WHERE len(list_filter(json_extract_string(f.evidence, '$[*].indicator'), "
        "lambda x: x NOT IN ('salary', 'age', 'destination'))) > 1 ORDER BY f.ad_id LIMIT 1",
    )
    assert rows
    return int(rows[0][0])


def test_every_highlight_and_indicator_has_an_english_gloss(shared_env: ReviewEnv) -> None:
    ad_id = _ad_with_evidence(shared_env.db)
    client = shared_env.logged_in()
    page = client.get(f"/ads/{ad_id}?lang=en").text
    text_html = page.split('id="ad-text">', 1)[1].split("</div>", 1)[0]
    titles = [html.unescape(t) for t in re.findall(r'<mark class="[^"]*" data-indicators="[^"]*" title="([^"]*)"',
                                                   text_html)]
    assert titles
    glossed = ("Phrase signalling: ", "Contact: ", "Stated pay: ", "Stated age: ", "Destination: ")
    for title in titles:
        assert all(part.startswith(glossed) for part in title.split("\n")), title
    assert any(title.startswith("Phrase signalling: ") for title in titles)
    glossary = page.split('id="glossary"', 1)[1].split("</table>", 1)[0]
    assert "Phrase signalling: " in glossary
    chips = re.findall(r'<span class="chip [^"]*" title="([^"]*)"', page)
    assert chips and all(c for c in chips)


def test_languages_are_named_in_full() -> None:
    with use_locale("en"):
        assert [language_name(code) for code in ("lv", "fi", "et")] == ["Latvian", "Finnish", "Estonian"]
    with use_locale("lv"):
        assert language_name("lv") == "Latviešu"
    assert language_name("xx") == "xx"


def test_the_interface_speaks_latvian_when_asked_and_remembers_it(shared_env: ReviewEnv) -> None:
    """?lang=lv switches the interface (remembered in a cookie), ad text stays as it is, glosses stay English."""
    ad_id = _ad_with_evidence(shared_env.db)
    client = shared_env.logged_in()
    first = client.get("/?lang=lv")
    assert first.status_code == 200 and '<html lang="lv">' in first.text
    assert "Pārskatīšanas rinda" in first.text and "Review queue" not in first.text
    assert "lurewatch_lang=lv" in first.headers.get("set-cookie", "")
    later = client.get(f"/ads/{ad_id}")  # no parameter: the cookie
    assert '<html lang="lv">' in later.text and "Kāpēc šāds vērtējums" in later.text
    assert "Phrase signalling: " in later.text  # the glosses are English
    back = client.get("/?lang=en")
    assert "Review queue" in back.text and '<html lang="en">' in back.text
    # a browser that prefers Latvian gets it without choosing
    fresh = shared_env.logged_in()
    fresh.http.cookies.delete("lurewatch_lang")
    assert '<html lang="lv">' in fresh.get("/", headers={"Accept-Language": "lv-LV,lv;q=0.9,en;q=0.5"}).text


def test_every_interface_message_has_a_latvian_translation() -> None:
    """The catalogue covers every message the templates translate, and the statuses and decision buttons."""
    messages: set[str] = set()
    for path in TEMPLATES.glob("*.html"):
        with path.open("rb") as handle:
            for _, _, message, _ in babel_extract(handle, ["_", "gettext", "ngettext"], [], {}):
                if isinstance(message, tuple):
                    messages.add(str(message[0]))
                elif message:
                    messages.add(str(message))
    messages |= set(STATUS_TITLES.values()) | set(LABEL_TITLES.values()) | set(BUTTON_TITLES.values())
    latvian = translations("lv")
    missing = sorted(m for m in messages if latvian.gettext(m) == m and latvian.ngettext(m, m + "s", 2) == m)
    assert missing == []
    assert set(LOCALES) == {"en", "lv"}


# --- 6. decisions for the whole template cluster ----------------------------------------------------------------


def _make_cluster(env: ReviewEnv, size: int = 3) -> list[int]:
    version, _ = _champion(env.db)
    singles = {int(r[0]) for r in query(
        env.db, "SELECT a.ad_id FROM ads a LEFT JOIN ad_clusters c USING (ad_id) WHERE coalesce(c.cluster_size, 1) = 1"
    )}
    members = [ad_id for ad_id, _ in _expected_queue(env.db, version) if ad_id in singles][2 : 2 + size]
    assert len(members) == size
    with session(env.db) as con:
        for ad_id in members:
            con.execute(
                "INSERT OR REPLACE INTO ad_clusters (ad_id, cluster_id, cluster_size, method) VALUES (?, ?, ?, 'test')",
                [ad_id, members[0], size],
            ).fetchall()
    return members


def _current(db: Path, ad_ids: list[int]) -> dict[int, str | None]:
    rows = query(
        db,
        "SELECT ad_id, arg_max(label, label_id) FROM labels WHERE ad_id IN (SELECT unnest(?::BIGINT[])) GROUP BY 1",
        [ad_ids],
    )
    found = {int(r[0]): str(r[1]) for r in rows}
    return {ad_id: found.get(ad_id) for ad_id in ad_ids}


def _decision_form(page: str) -> dict[str, str]:
    form = page.split('id="decision-form"', 1)[1].split("</form>", 1)[0]
    hidden = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form)
    return {name: html.unescape(value) for name, value in hidden}


def test_a_decision_applies_to_the_whole_cluster_and_undo_takes_it_back(fresh_env: ReviewEnv) -> None:
    lead, *others = _make_cluster(fresh_env)
    client = fresh_env.logged_in()
    page = client.get(f"/ads/{lead}").text
    assert "Applies to this ad and 2 similar undecided ads of its template." in page
    form = _decision_form(page)
    assert sorted(int(x) for x in form["cluster"].split(",")) == sorted(others)
    response = client.post(f"/ads/{lead}/decision", {**form, "label": "lure", "note": ""})
    assert response.status_code == 303
    assert any("and 2 similar ads of its template marked “Lure”" in text for _, text in client.flashes(response))
    assert _current(fresh_env.db, [lead, *others]) == dict.fromkeys([lead, *others], "lure")
    assert lead not in client.queue_ids() and not set(others) & set(client.queue_ids())
    rows = query(fresh_env.db, "SELECT analyst, previous_label, action FROM labels WHERE ad_id = ?", [others[0]])
    assert rows == [("alice", None, "decide")]  # in the audit trail like any decision
    undone = client.undo()
    assert any("and 2 similar ads are back to" in text for _, text in client.flashes(undone))
    assert _current(fresh_env.db, [lead, *others]) == dict.fromkeys([lead, *others], "none")


def test_split_off_decides_only_the_ad_shown(fresh_env: ReviewEnv) -> None:
    lead, *others = _make_cluster(fresh_env)
    client = fresh_env.logged_in()
    form = _decision_form(client.get(f"/ads/{lead}").text)
    client.post(f"/ads/{lead}/decision", {**form, "label": "not_lure", "just_this": "1"})
    assert _current(fresh_env.db, [lead, *others]) == {lead: "not_lure", others[0]: None, others[1]: None}
    assert others[0] in client.queue_ids()  # the rest of the cluster is still to review


def test_a_cluster_decision_never_overwrites_a_member_decided_meanwhile(fresh_env: ReviewEnv) -> None:
    lead, first, second = _make_cluster(fresh_env)
    alice = fresh_env.logged_in(ANALYST)
    form = _decision_form(alice.get(f"/ads/{lead}").text)
    root = fresh_env.logged_in(("root", "root-password-12"))
    root.decide(first, "not_lure")
    response = alice.post(f"/ads/{lead}/decision", {**form, "label": "lure"})
    assert any("1 decided meanwhile by someone else" in text for _, text in alice.flashes(response))
    assert _current(fresh_env.db, [lead, first, second]) == {lead: "lure", first: "not_lure", second: "lure"}
    alice.undo()
    assert _current(fresh_env.db, [lead, first, second]) == {lead: "none", first: "not_lure", second: "none"}
