"""Ages and age ranges with evidence spans, all 7 languages, and the things that only look like ages."""

from __future__ import annotations

import pytest

from features import FeatureExtractor
from features.facts import extract_ages

# (lang, ad text, evidence text, min_age, max_age)
AGES: list[tuple[str, str, str, int | None, int | None]] = [
    ("en", "Private VIP club is looking for young attractive girls 18-25 to work as hostesses.", "18-25", 18, 25),
    ("en", "Job for teenagers from 15 years old, pocket money.", "from 15 years old", 15, None),
    ("en", "Webcam models wanted, girls 16+ welcome.", "16+", 16, None),
    ("en", "Applicants must be at least 18 years old.", "least 18 years old", 18, None),
    ("lv", "Darbs Norvēģijā jaunām meitenēm 18-25 gadi!", "18-25 gadi", 18, 25),
    ("lv", "Aicinām skolēnus un studentus no 16 gadiem strādāt Vācijā.", "no 16 gadiem", 16, None),
    ("lv", "Meklējam vīriešus ne vecāk par 45, darbs būvniecībā.", "ne vecāk par 45", None, 45),
    ("lt", "Ieškome merginų nuo 18 iki 28 metų darbui užsienyje.", "nuo 18 iki 28 metų", 18, 28),
    ("lt", "Jaunimo programa 16–23 m. amžiaus dalyviams.", "16–23 m.", 16, 23),
    ("et", "Otsime kenasid tüdrukuid vanuses 18–24 tantsijateks.", "18–24", 18, 24),
    ("et", "Suvetöö noortele alates 16, 25-aastased ja vanemad ka.", "alates 16", 16, None),
    ("fi", "Haemme nuoria ja hyvännäköisiä tyttöjä 18–25 v. hostessitöihin.", "18–25 v.", 18, 25),
    ("fi", "Etsimme 18–25-vuotiaat naiset kuvauksiin.", "18–25-vuotiaat", 18, 25),
    ("pl", "Praca dla dziewczyn 18–25 lat w Niemczech.", "18–25 lat", 18, 25),
    ("pl", "Szukamy osób od 18 lat, praca sezonowa.", "od 18 lat", 18, None),
    ("ru", "Ищем девушек от 16 лет для фотосессий.", "от 16 лет", 16, None),
    ("ru", "Требуются девушки до 30 лет, работа за границей.", "до 30 лет", None, 30),
    ("ru", "Возраст кандидата не старше 35, опыт не нужен.", "не старше 35", None, 35),
]


@pytest.mark.parametrize(("lang", "text", "span", "lo", "hi"), AGES, ids=[f"{c[0]}-{i}" for i, c in enumerate(AGES)])
def test_ages_are_extracted(lang: str, text: str, span: str, lo: int | None, hi: int | None) -> None:
    ages = extract_ages(text)
    assert [(a.text, a.min_age, a.max_age) for a in ages][:1] == [(span, lo, hi)]
    assert text[ages[0].start : ages[0].end] == span


@pytest.mark.parametrize(
    "text",
    [
        "Experience 18-25 months in a warehouse is required.",
        "Pieredze 15-20 gadi līdzīgā amatā, darba laiks 18-24.",
        "Doświadczenie 16-20 lat w branży budowlanej.",
        "Опыт работы 15-20 лет, смена 18-24.",
        "We have been in business for over 15 years of experience.",
        "Turvameeskond OÜ on üle 15 aasta tegutsenud pereettevõte.",
        "We employ approximately 28 000 people in 30 countries.",
        "Hourly rate 25-30 EUR, shifts 18:00-24:00.",
        "Tel. +371 2914 5678, office hours 10-16.",
        "Delivery of 20-25 pallets per day.",
    ],
)
def test_hard_negatives_are_not_ages(text: str) -> None:
    """Experience durations, company age, counts, times, money and phone digits are not ages."""
    assert extract_ages(text) == []


def test_age_vector_features(fx: FeatureExtractor) -> None:
    """min_age/max_age span all stated limits; age_range_young for a cap <= 25, age_minor below 18."""
    feats = fx.extract("Meklējam meitenes 18-25 gadi, skolēni no 16 gadiem arī var pieteikties.", lang="lv")
    vec = feats.vector()
    assert (vec["has_age"], vec["min_age"], vec["max_age"]) == (1.0, 16.0, 25.0)
    assert vec["age_range_young"] == 1.0 and vec["age_minor"] == 1.0
    assert [e.pattern for e in feats.evidence if e.indicator == "age"] == ["age:18-25", "age:>=16"]
    vec = fx.extract("Looking for drivers aged 25-55 with a C licence.", lang="en").vector()
    assert (vec["min_age"], vec["max_age"], vec["age_range_young"], vec["age_minor"]) == (25.0, 55.0, 0.0, 0.0)
