"""Language identification on realistic ads (lingua restricted to the supported languages)."""

from __future__ import annotations

import pytest
from features_lure_cases import SEASONAL_ADS

from features import FeatureExtractor, detect_language
from features.language import get_detector


@pytest.mark.parametrize(("lang", "text"), sorted(SEASONAL_ADS.items()))
def test_detects_language_of_realistic_ad(lang: str, text: str) -> None:
    """One realistic ad per language is identified correctly with non-trivial confidence."""
    code, conf = detect_language(text)
    assert code == lang
    assert 0.0 < conf <= 1.0


@pytest.mark.parametrize("text", ["", "   ", "12345 +371 29145678", "!!! ??? ...", "\x00\x01\x02"])
def test_undetectable_text_falls_back_to_english(text: str) -> None:
    """Empty or letter-less text gives ('en', 0.0) instead of raising."""
    assert detect_language(text) == ("en", 0.0)


def test_detector_is_a_singleton() -> None:
    """The lingua detector is built once per process (building it is expensive)."""
    assert get_detector() is get_detector()


def test_extract_detects_language_when_not_given(fx: FeatureExtractor) -> None:
    """extract(text) without lang routes the text to the detected language's pipeline."""
    feats = fx.extract("Darbs ārzemēs! Pieredze nav nepieciešama, bezmaksas dzīvesvieta.")
    assert feats.language == "lv"
    assert feats.language_confidence > 0.5
    assert "no_requirements" in {e.indicator for e in feats.evidence}
