"""Mixed-language ads: primary language + other languages with shares; their lexicons run on their paragraphs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from features_lure_cases import SEASONAL_ADS

from features import FeatureExtractor, detect_language
from features.langmix import detect_mix

ROOT = Path(__file__).resolve().parents[2]

LV_RU = (
    "Darbs Norvēģijā zivju pārstrādes rūpnīcā, pieredze nav nepieciešama, alga līdz 3000 EUR mēnesī.\n"
    "Nodrošinām dzīvesvietu, izbraukšana jau nākamnedēļ.\n\n"
    "Работа в Норвегии на рыбном заводе, опыт не нужен. Регистрационный сбор 150 евро, пишите только в WhatsApp.\n"
    "Tālr. +371 29145678"
)
ET_EN = (
    "Otsime laotöötajaid Tallinna, tööleping ja koolitus, palk alates 1300 eurot bruto kuus.\n"
    "Töö kahes vahetuses, transport tööle on tagatud ettevõtte poolt.\n"
    "English speakers welcome: no experience needed, free accommodation and flights paid by the employer.\n"
    "Kontakt: cv@ladu.ee"
)


def test_lv_ad_with_russian_paragraph(fx: FeatureExtractor) -> None:
    """Primary lv with a ru share; the ru lexicon finds the fee and messenger lures in the ru paragraph."""
    feats = fx.extract(LV_RU)
    assert feats.language == "lv"
    assert [code for code, _ in feats.languages] == ["lv", "ru"]
    assert 0.3 < dict(feats.languages)["ru"] < 0.6
    assert sum(share for _, share in feats.languages) == pytest.approx(1.0, abs=0.01)
    by_pattern = {e.pattern.split("-")[0] for e in feats.lure_evidence()}
    assert by_pattern == {"lv", "ru"}
    ru_lures = {e.indicator for e in feats.lure_evidence() if e.pattern.startswith("ru-")}
    assert {"upfront_fee", "messenger_contact", "no_requirements"} <= ru_lures
    for e in feats.evidence:
        assert LV_RU[e.start : e.end] == e.text
    vec = feats.vector()
    assert vec["n_languages"] == 2.0 and vec["lang_lv"] == 1.0
    assert vec["secondary_language_share"] == pytest.approx(dict(feats.languages)["ru"])
    assert vec["ind_upfront_fee"] == 1.0  # only in the Russian paragraph


def test_estonian_ad_with_english_paragraph(fx: FeatureExtractor) -> None:
    """A Latin-script second language is found too (an ASCII-only paragraph in an ad with Estonian letters)."""
    feats = fx.extract(ET_EN)
    assert feats.language == "et"
    assert [code for code, _ in feats.languages] == ["et", "en"]
    en = {e.indicator for e in feats.lure_evidence() if e.pattern.startswith("en-")}
    assert {"no_requirements", "travel_housing_paid"} <= en


def test_mix_segments_cover_the_foreign_paragraph() -> None:
    mix = detect_mix(LV_RU)
    ((start, end, lang),) = mix.segments
    assert lang == "ru" and LV_RU[start:end].startswith("Работа в Норвегии")
    assert "Tālr." in LV_RU[start:end]  # the short contact line after it inherits its language


def test_given_language_is_primary_but_other_paragraphs_still_found() -> None:
    mix = detect_mix(LV_RU, "lv")
    assert mix.primary == "lv" and mix.confidence == 1.0
    assert [code for code, _ in mix.shares] == ["lv", "ru"]


@pytest.mark.parametrize(("lang", "text"), sorted(SEASONAL_ADS.items()))
def test_single_language_ads_have_one_language(lang: str, text: str) -> None:
    """A one-language ad gives exactly [(lang, 1.0)] and the same primary language as detect_language."""
    mix = detect_mix(text)
    assert mix.primary == lang == detect_language(text)[0]
    assert mix.shares == [(lang, 1.0)] and mix.segments == []


def test_fixture_ads_are_single_language_and_agree_with_detect_language() -> None:
    """All 371 bundled fixture ads (titles with Latin product names, HTML junk) stay single-language."""
    rows = [json.loads(line) for line in (ROOT / "fixture_sites" / "data" / "ads.jsonl").read_text().splitlines()]
    wrong = []
    for row in rows:
        text = f"{row['title']}\n\n{row['body']}"
        mix = detect_mix(text)
        if mix.primary != row["lang"] or len(mix.shares) != 1:
            wrong.append((row["ref"], mix.primary, mix.shares))
    assert not wrong


def test_empty_and_tiny_texts() -> None:
    assert detect_mix("").shares == [] and detect_mix("").primary == "en"
    assert detect_mix("+371 29145678").shares == []
    assert detect_mix("Darbs Rīgā").primary in {"lv", "en"}
