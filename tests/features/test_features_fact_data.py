"""The fact data files (FX table, word lists, gazetteers) and the facts against the fixture ads' ground truth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features import SUPPORTED_LANGUAGES, FeatureExtractor
from features.factdata import FACTS_DIR, MIN_PLACE_STEM, PLACES_DIR, _load_yaml, fx_table, gazetteer
from features.textnorm import fold

ROOT = Path(__file__).resolve().parents[2]


def _fixture_ads() -> list[dict[str, object]]:
    path = ROOT / "fixture_sites" / "data" / "ads.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_every_language_has_fact_and_place_data(lang: str) -> None:
    facts = _load_yaml(FACTS_DIR / f"{lang}.yaml")
    places = _load_yaml(PLACES_DIR / f"{lang}.yaml")
    assert facts["lang"] == places["lang"] == lang
    for role in ("salary", "cost", "from", "up_to", "age_unit", "experience", "per_rate"):
        assert facts.get(role), f"{lang}: no {role} words"
    assert set(facts["period"]) >= {"hour", "week", "month"}
    assert len(places["countries"]) >= 25 and places["language_words"]
    assert lang == "en" or places["home"], "every language but English names its home countries"


def test_place_forms_never_point_to_two_countries() -> None:
    """A spelling (folded) names one country in every language file; stems are >= 5 letters."""
    seen: dict[str, str] = {}
    clashes: list[str] = []
    for lang in SUPPORTED_LANGUAGES:
        data = _load_yaml(PLACES_DIR / f"{lang}.yaml")
        forms = [(str(f), str(iso)) for iso, fs in data["countries"].items() for f in fs]
        forms += [(str(f), str(iso)) for iso, cities in data["cities"].items() for fs in cities.values() for f in fs]
        for form, iso in forms:
            if form.endswith("*"):
                assert len(fold(form[:-1])) >= MIN_PLACE_STEM, f"{lang}: short stem {form}"
            key = fold(form.lstrip("="))
            if seen.setdefault(key, iso) != iso:
                clashes.append(f"{lang}: {form} -> {iso} but also {seen[key]}")
    assert not clashes


def test_fx_table_is_sane() -> None:
    fx = fx_table()
    assert fx.eur_per_unit["EUR"] == 1.0
    assert all(0 < rate < 10 for rate in fx.eur_per_unit.values())
    assert set(fx.aliases.values()) <= set(fx.eur_per_unit)
    assert fx.as_of


def test_yaml_booleans_are_rejected(tmp_path: Path) -> None:
    """A bare `no` in a word list would silently become False: the loader refuses it."""
    path = tmp_path / "xx.yaml"
    path.write_text("lang: xx\nfrom: [no, od]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="boolean"):
        _load_yaml(path)


def test_gazetteer_home_countries() -> None:
    home = gazetteer().home
    assert home["lv"] == ("LV",) and home["pl"] == ("PL",)
    assert {"RU", "LV", "LT", "EE"} <= set(home["ru"])


def test_fixture_salaries_match_ground_truth(fx: FeatureExtractor) -> None:
    """Every fixture ad with a salary yields it (EUR/month within 2%); ads without one yield none."""
    fxt = fx_table()
    wrong: list[tuple[object, ...]] = []
    for row in _fixture_ads():
        feats = fx.extract(f"{row['title']}\n\n{row['body']}")
        truth = row["salary"]
        if truth is None:
            if feats.salaries:
                wrong.append((row["ref"], "extra", [s.text for s in feats.salaries]))
            continue
        assert isinstance(truth, dict)
        expected = fxt.to_eur_month(truth["max"] or truth["min"], truth["currency"], truth["period"])
        got = feats.vector()["salary_eur_month"]
        if abs(got - expected) > 0.02 * expected:
            wrong.append((row["ref"], expected, got))
    assert not wrong


def test_fixture_destinations_recall(fx: FeatureExtractor) -> None:
    """The ad's country is among the extracted ones for >= 95% of fixture ads (some lures name no place)."""
    rows = _fixture_ads()
    found = sum(
        1
        for row in rows
        if row["country"] in {d.country for d in fx.extract(f"{row['title']}\n\n{row['body']}").destinations}
    )
    assert found >= 0.95 * len(rows)


_PIECES = [
    "Alga 1500–2000 EUR mēnesī",
    "от 60 000 рублей",
    "18-25 gadi",
    "girls 16+",
    "+371 2914 5678",
    "Norvēģijā",
    "в Германии",
    "New York",
    "3.000,00 zł",
    "£11.50 per hour",
    "€",
    "-",
    "до",
    "\n",
    "\n\n",
    "Работа за границей, опыт не нужен.",
    "no experience needed",
    "www.firma.lv/x",
    "ł",
    "18.25",
    " ",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(_PIECES), max_size=25))
def test_fact_spans_are_exact_on_arbitrary_text(fx: FeatureExtractor, pieces: list[str]) -> None:
    """Any mix of fragments: no exception, every evidence span is text[start:end], vectors are finite."""
    text = "".join(pieces)
    feats = fx.extract(text)
    for e in feats.evidence:
        assert text[e.start : e.end] == e.text
    assert all(v == v and abs(v) < 1e9 for v in feats.vector().values())
    assert abs(sum(share for _, share in feats.languages) - (1.0 if feats.languages else 0.0)) < 0.01
