"""Lexicon behaviour on realistic lure ads and hard negatives, all 7 languages."""

from __future__ import annotations

import pytest
from features_lure_cases import LEGIT_ADS, NEGATIVES, PARALLEL_LURES, PHRASES, POSITIVES

from features import SUPPORTED_LANGUAGES, FeatureExtractor


@pytest.mark.parametrize(("lang", "text", "expected"), POSITIVES, ids=[f"{c[0]}-{i}" for i, c in enumerate(POSITIVES)])
def test_lure_ads_trigger_expected_indicators(
    fx: FeatureExtractor, lang: str, text: str, expected: dict[str, str]
) -> None:
    """Each listed indicator fires with an evidence span covering the given phrase, with exact offsets."""
    feats = fx.extract(text, lang=lang)
    for ev in feats.evidence:
        assert text[ev.start : ev.end] == ev.text
    for ev in feats.lure_evidence():
        assert ev.pattern.startswith(f"{lang}-{ev.indicator}-")
    for indicator, phrase in expected.items():
        pos = text.index(phrase)
        spans = [e for e in feats.evidence if e.indicator == indicator]
        assert spans, f"{indicator} did not fire; evidence={feats.evidence}"
        assert any(e.start <= pos + len(phrase) and pos < e.end for e in spans), (
            f"{indicator} evidence {[(e.text, e.pattern) for e in spans]} does not cover {phrase!r}"
        )


@pytest.mark.parametrize(("lang", "label", "text", "forbidden"), NEGATIVES, ids=[f"{c[0]}-{c[1]}" for c in NEGATIVES])
def test_hard_negatives_do_not_trigger(
    fx: FeatureExtractor, lang: str, label: str, text: str, forbidden: tuple[str, ...]
) -> None:
    """Legit ads (EURES seasonal work, licensed no-fee agency, modelling agency) stay clean."""
    feats = fx.extract(text, lang=lang)
    fired = {e.indicator: e.text for e in feats.evidence if e.indicator in forbidden}
    assert not fired, f"{label}: unexpected indicators {fired}"


def test_every_language_has_positive_and_negative_cases() -> None:
    """The case tables cover each supported language with >=3 lures and >=3 hard negatives."""
    for lang in SUPPORTED_LANGUAGES:
        assert sum(1 for c in POSITIVES if c[0] == lang) >= 3
        assert sum(1 for c in NEGATIVES if c[0] == lang) >= 3


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "Experience required. Fluent English required."),
        ("lv", "Pieredze nepieciešama. Angļu valodas zināšanas obligātas."),
        ("lt", "Reikalinga darbo patirtis ir anglų kalbos žinios."),
        ("fi", "Edellytämme työkokemusta ja englannin kielen taitoa."),
        ("et", "Nõutav on töökogemus ja inglise keele oskus."),
        ("pl", "Wymagane doświadczenie i znajomość języka angielskiego."),
        ("ru", "Требуется опыт работы и знание английского языка."),
    ],
)
def test_experience_required_is_not_no_requirements(fx: FeatureExtractor, lang: str, text: str) -> None:
    """Stating that experience IS required must never count as the no_requirements lure."""
    feats = fx.extract(text, lang=lang)
    assert "no_requirements" not in {e.indicator for e in feats.evidence}


def test_no_fee_statement_cancels_fee_match(fx: FeatureExtractor) -> None:
    """'no registration fee' is a cancelling phrase: the fee words inside it are not upfront_fee evidence."""
    feats = fx.extract("There is no registration fee and no deposit. We never charge candidates.", lang="en")
    assert feats.indicator_counts()["upfront_fee"] == 0
    feats = fx.extract("Registration fee 150 EUR must be paid before departure.", lang="en")
    assert feats.indicator_counts()["upfront_fee"] == 1


def test_overlapping_matches_of_one_indicator_count_once(fx: FeatureExtractor) -> None:
    """Several patterns matching the same stretch ('Registration fee 150 EUR') yield one evidence span."""
    text = "Registration fee 150 EUR."
    feats = fx.extract(text, lang="en")
    fees = [e for e in feats.evidence if e.indicator == "upfront_fee"]
    assert len(fees) == 1
    assert fees[0].text == "Registration fee 150 EUR"


def test_diacritics_free_spelling_still_matches(fx: FeatureExtractor) -> None:
    """Ads typed without diacritics ('Pieredze nav nepieciesama', 'oplata rejestracyjna') still match."""
    lv = fx.extract("Pieredze nav nepieciesama, bezmaksas dzivesvieta", lang="lv")
    assert {"no_requirements", "travel_housing_paid"} <= {e.indicator for e in lv.evidence}
    pl = fx.extract("Oplata rejestracyjna 300 zl, darmowe zakwaterowanie", lang="pl")
    assert {"upfront_fee", "travel_housing_paid"} <= {e.indicator for e in pl.evidence}


@pytest.mark.parametrize(
    ("lang", "text", "expected"), PARALLEL_LURES, ids=[f"{c[0]}-{i % 3}" for i, c in enumerate(PARALLEL_LURES)]
)
def test_parallel_lures_raise_same_indicators(
    fx: FeatureExtractor, lang: str, text: str, expected: tuple[str, ...]
) -> None:
    """The same lure written in each language raises the same indicator set (cross-language parity)."""
    fired = {e.indicator for e in fx.extract(text, lang=lang).evidence}
    assert set(expected) <= fired, f"missing {set(expected) - fired}"


@pytest.mark.parametrize(("lang", "text"), LEGIT_ADS, ids=[f"{c[0]}-{i}" for i, c in enumerate(LEGIT_ADS)])
def test_ordinary_job_ads_have_no_evidence(fx: FeatureExtractor, lang: str, text: str) -> None:
    """Everyday legit ads (developer, warehouse, driver, sales; EMSCAD-style too) produce no lure evidence
    (their salary / destination facts are evidence of another kind)."""
    feats = fx.extract(text, lang=lang)
    assert feats.lure_evidence() == []


@pytest.mark.parametrize(("lang", "text", "expected"), PHRASES, ids=[c[0] for c in PHRASES])
def test_employer_pays_and_eu_country_phrasings(
    fx: FeatureExtractor, lang: str, text: str, expected: tuple[str, ...]
) -> None:
    """'At the employer's expense', 'jobs in EU countries', 'no requirements' phrasings are recognised."""
    fired = {e.indicator for e in fx.extract(text, lang=lang).evidence}
    assert set(expected) <= fired, f"missing {set(expected) - fired}"
