"""Edge cases: empty, huge and control-character input; batch vs single extraction."""

from __future__ import annotations

from features_lure_cases import POSITIVES, SEASONAL_ADS

from features import FEATURE_NAMES, FeatureExtractor


def test_empty_text(fx: FeatureExtractor) -> None:
    """Empty text gives an empty result in the fallback language instead of raising."""
    feats = fx.extract("")
    assert feats.language == "en" and feats.language_confidence == 0.0
    assert feats.evidence == [] and feats.contacts == []
    assert tuple(feats.vector()) == FEATURE_NAMES


def test_control_characters(fx: FeatureExtractor) -> None:
    """NUL/escape/bidi control characters inside an ad do not crash and offsets stay valid."""
    text = "Work\x00 abroad\x1b[31m, no\u202e experience\u200b needed!\x07 WhatsApp +44 7911 123456\r\n\t"
    feats = fx.extract(text)
    for ev in feats.evidence:
        assert text[ev.start : ev.end] == ev.text
    for c in feats.contacts:
        assert text[c.start : c.end] == c.raw


def test_huge_text(fx: FeatureExtractor) -> None:
    """A ~1 MB ad is processed (no max_length error) and evidence offsets are into the full text."""
    unit = POSITIVES[0][1] + " "
    text = unit * (1_000_000 // len(unit) + 1)
    assert len(text) > 1_000_000
    feats = fx.extract(text, lang="en")
    assert feats.n_chars == len(text)
    assert feats.indicator_counts()["upfront_fee"] > 100
    last = feats.evidence[-1]
    assert text[last.start : last.end] == last.text and last.start > 900_000


def test_extract_many_matches_extract(fx: FeatureExtractor) -> None:
    """extract_many (grouped by language, nlp.pipe) returns the same results, in input order."""
    texts = [c[1] for c in POSITIVES] + list(SEASONAL_ADS.values()) + ["", "\x00"]
    langs = [c[0] for c in POSITIVES] + list(SEASONAL_ADS) + [None, None]
    batch = fx.extract_many(texts, langs, batch_size=4)
    assert len(batch) == len(texts)
    for text, lang, got in zip(texts, langs, batch, strict=True):
        single = fx.extract(text, lang)
        assert got.language == single.language
        assert got.evidence == single.evidence
        assert got.contacts == single.contacts


def test_extract_many_detects_languages(fx: FeatureExtractor) -> None:
    """Without langs, extract_many detects each text's language."""
    got = fx.extract_many(list(SEASONAL_ADS.values()))
    assert [f.language for f in got] == list(SEASONAL_ADS)


def test_restricted_languages_fall_back(fx: FeatureExtractor) -> None:
    """An extractor limited to some languages routes other texts to English instead of failing."""
    limited = FeatureExtractor(languages=("en", "lv"))
    feats = limited.extract(SEASONAL_ADS["pl"])
    assert feats.language == "en"


def test_huge_contact_heavy_text_is_not_quadratic(fx: FeatureExtractor) -> None:
    """A 1 MB ad full of phones/e-mails/links (about 50,000 contacts) finishes in seconds: span bookkeeping is linear.
    The bound is this process's CPU time, not the wall clock, and generous: a loaded machine cannot fail it."""
    import time

    unit = "Raksti WhatsApp +371 29145678, e-pasts darbs@gmail.com, www.firma.lv/x, jan[at]inbox.lv. "
    text = unit * (1_000_000 // len(unit))
    started = time.process_time()
    feats = fx.extract(text, lang="lv")
    cpu_s = time.process_time() - started
    assert cpu_s < 60, f"extracting the 1 MB ad took {cpu_s:.1f} CPU-seconds"
    kinds = {c.kind for c in feats.contacts}
    assert kinds == {"phone", "whatsapp", "email", "url"}
    for c in feats.contacts:
        assert text[c.start : c.end] == c.raw
