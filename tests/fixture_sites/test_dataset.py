"""Tests for the bundled fixture dataset ``fixture_sites/data/ads.jsonl`` and its generator."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from fixture_sites import load_ads
from fixture_sites.generate import AD_KEYS, CONTENT_DIR, DEFAULT_OUT, generate

SITES = {"balticjobs": "bj", "skelbimai": "sk", "darbas-forum": "df"}
LANGS = {"en", "lv", "lt", "fi", "et", "pl", "ru"}
CATEGORIES = {
    "warehouse",
    "construction",
    "it",
    "care",
    "hospitality",
    "agriculture",
    "modelling",
    "cleaning",
    "driving",
    "office",
    "retail",
    "au-pair",
    "other",
}
ATTACKER_STRINGS = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '=HYPERLINK("http://evil',
    "javascript:",
)

Ad = dict[str, Any]


@pytest.fixture(scope="module")
def ads() -> list[Ad]:
    return load_ads()


def test_total_and_per_site_counts(ads: list[Ad]) -> None:
    """The dataset is big enough for the demo and split ~160/120/80 over the three sites."""
    assert len(ads) >= 360
    per_site = Counter(a["site"] for a in ads)
    assert set(per_site) == set(SITES)
    assert 150 <= per_site["balticjobs"] <= 175
    assert 110 <= per_site["skelbimai"] <= 135
    assert 70 <= per_site["darbas-forum"] <= 95


def test_every_language_has_at_least_40_ads(ads: list[Ad]) -> None:
    """All seven languages of the region are represented well enough to evaluate per language."""
    per_lang = Counter(a["lang"] for a in ads)
    assert set(per_lang) == LANGS
    assert all(n >= 40 for n in per_lang.values()), per_lang


def test_label_and_hard_negative_ratios(ads: list[Ad]) -> None:
    """12–15 % of ads are lures and at least 10 % are hard negatives, as the scorer's evaluation assumes."""
    lure_share = sum(a["label"] for a in ads) / len(ads)
    assert 0.12 <= lure_share <= 0.15
    hard_share = sum(a["kind"] == "hard_negative" for a in ads) / len(ads)
    assert hard_share >= 0.10


def test_refs_unique_and_prefixed_by_site(ads: list[Ad]) -> None:
    """Refs are unique, URL-safe and carry the site prefix, so URLs /job/<ref> etc. are unambiguous."""
    refs = [a["ref"] for a in ads]
    assert len(refs) == len(set(refs))
    for ad in ads:
        assert re.fullmatch(r"(bj|sk|df)-\d{4}", ad["ref"]), ad["ref"]
        assert ad["ref"].startswith(SITES[ad["site"]] + "-")


def _check_salary(salary: Any) -> None:
    assert isinstance(salary, dict)
    assert set(salary) == {"min", "max", "currency", "period"}
    assert isinstance(salary["min"], int | float) and salary["min"] > 0
    assert salary["max"] is None or (
        isinstance(salary["max"], int | float) and salary["max"] >= salary["min"]
    )
    assert re.fullmatch(r"[A-Z]{3}", salary["currency"])
    assert salary["period"] in {"hour", "week", "month"}


def test_records_have_exact_keys_and_types(ads: list[Ad]) -> None:
    """Every record has exactly the documented keys with the documented types and value ranges."""
    for ad in ads:
        assert tuple(ad) == AD_KEYS, ad["ref"]
        for key in ("ref", "site", "lang", "title", "body", "city", "country", "posted", "category"):
            assert isinstance(ad[key], str) and ad[key].strip(), (ad["ref"], key)
        for key in ("kind", "template", "split"):
            assert isinstance(ad[key], str) and ad[key], (ad["ref"], key)
        assert ad["company"] is None or (isinstance(ad["company"], str) and ad["company"])
        assert ad["contact"] is None or (isinstance(ad["contact"], str) and ad["contact"])
        assert ad["site"] in SITES and ad["lang"] in LANGS and ad["category"] in CATEGORIES
        assert re.fullmatch(r"[A-Z]{2}", ad["country"]), ad["country"]
        if ad["salary"] is not None:
            _check_salary(ad["salary"])
        assert dt.date(2026, 10, 1) <= dt.date.fromisoformat(ad["posted"]) <= dt.date(2026, 11, 24)
        assert type(ad["label"]) is int and ad["label"] in (0, 1)
        assert ad["kind"] in {"lure", "ordinary", "hard_negative"}
        assert ad["label"] == (1 if ad["kind"] == "lure" else 0)
        assert ad["split"] in {"train", "eval"}


def test_bodies_are_realistic_plain_text(ads: list[Ad]) -> None:
    """Bodies are 2–6 plain-text paragraphs of 300–1500 characters, like real postings."""
    for ad in ads:
        paragraphs = ad["body"].split("\n\n")
        assert 2 <= len(paragraphs) <= 6, ad["ref"]
        assert all(p.strip() == p and p for p in paragraphs), ad["ref"]
        assert 300 <= len(ad["body"]) <= 1500, (ad["ref"], len(ad["body"]))
        assert "{" not in ad["body"] and "}" not in ad["body"], f"unfilled placeholder in {ad['ref']}"


def test_languages_use_their_own_alphabet(ads: list[Ad]) -> None:
    """Text is written natively, with the language's diacritics / script rather than ASCII stand-ins."""
    markers = {
        "lv": "āčēģīķļņšūž",
        "lt": "ąčęėįšųūž",
        "fi": "äö",
        "et": "õäöü",
        "pl": "ąćęłńóśźż",
        "ru": "абвгдежзийклмнопрстуфхцчшщыэюя",
    }
    by_lang: dict[str, list[Ad]] = defaultdict(list)
    for ad in ads:
        by_lang[ad["lang"]].append(ad)
    for lang, chars in markers.items():
        with_marks = [a for a in by_lang[lang] if any(c in (a["title"] + a["body"]).lower() for c in chars)]
        assert len(with_marks) >= 0.9 * len(by_lang[lang]), lang


def test_generator_is_deterministic(tmp_path: Path) -> None:
    """`python -m fixture_sites.generate` reproduces the checked-in ads.jsonl byte for byte."""
    out = tmp_path / "ads.jsonl"
    generate(out)
    assert out.read_bytes() == DEFAULT_OUT.read_bytes()


def test_templates_never_straddle_splits(ads: list[Ad]) -> None:
    """All ads from one template sit on the same side, so near-duplicates cannot leak into eval."""
    sides: dict[str, set[str]] = defaultdict(set)
    for ad in ads:
        sides[ad["template"]].add(ad["split"])
    assert all(len(s) == 1 for s in sides.values()), {t: s for t, s in sides.items() if len(s) > 1}


def test_split_is_about_70_30_and_stratified(ads: list[Ad]) -> None:
    """~30 % of ads are in eval, and both sides contain lures in several languages."""
    eval_share = sum(a["split"] == "eval" for a in ads) / len(ads)
    assert 0.22 <= eval_share <= 0.38
    for side in ("train", "eval"):
        langs = {a["lang"] for a in ads if a["label"] == 1 and a["split"] == side}
        assert len(langs) >= 5, (side, langs)
        assert any(a["kind"] == "hard_negative" and a["split"] == side for a in ads)


def test_lure_templates_are_reposted_across_sites(ads: list[Ad]) -> None:
    """Several lure templates re-appear 2–4 times on different sites with the same contact handle."""
    groups: dict[str, list[Ad]] = defaultdict(list)
    for ad in ads:
        if ad["kind"] == "lure":
            groups[ad["template"]].append(ad)
    reposted = {t: g for t, g in groups.items() if len(g) > 1}
    assert len(reposted) >= 5
    for template, group in reposted.items():
        assert len(group) <= 4, template
        assert len({a["site"] for a in group}) >= 2, template
        assert len({a["title"] for a in group}) >= 2 or len({a["body"] for a in group}) >= 2, template
        digits = {re.sub(r"\D", "", a["contact"] or "")[-6:] for a in group}
        handles = {m for a in group for m in re.findall(r"@\w+", a["contact"] or "")}
        assert len(digits) == 1 or handles, template


def test_lures_use_messenger_or_freemail_contacts(ads: list[Ad]) -> None:
    """Most lures are contactable only through messengers or free-mail addresses, as NGOs report."""
    pattern = re.compile(r"whatsapp|telegram|viber|ватсап|\btg\b|gmail\.com|mail\.ru", re.IGNORECASE)
    lures = [a for a in ads if a["kind"] == "lure"]
    assert sum(bool(pattern.search(a["contact"] or "")) for a in lures) >= 0.9 * len(lures)


def test_ordinary_ads_are_not_copies(ads: list[Ad]) -> None:
    """Ordinary ads are composed with variation: no two share a body, and titles are varied."""
    ordinary = [a for a in ads if a["kind"] == "ordinary"]
    assert len({a["body"] for a in ordinary}) == len(ordinary)
    assert len({a["title"] for a in ordinary}) >= 0.5 * len(ordinary)
    assert len({a["company"] for a in ordinary}) >= 50


def test_attacker_strings_survive_verbatim(ads: list[Ad]) -> None:
    """Attacker-style markup from content/common.yaml is stored unescaped, so the server must escape it."""
    bodies = "\n".join(a["body"] for a in ads)
    for needle in ATTACKER_STRINGS:
        assert needle in bodies, needle
    common = yaml.safe_load((CONTENT_DIR / "common.yaml").read_text(encoding="utf-8"))
    injected = [a for a in ads if any(i["text"] in a["body"] for i in common["injections"])]
    assert 3 <= len(injected) <= 5
    assert all(a["kind"] == "ordinary" for a in injected)
