"""The feature extractor against attacker-controlled text: arbitrary unicode (surrogate-free: what a decoded page
can hold), control and bidi characters, lookalike digits, huge inputs. Nothing crashes, every offset is valid
(``text[start:end] == evidence.text``), nothing is lost between extract and extract_many, vectors stay finite."""

from __future__ import annotations

import math
from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from features import FEATURE_NAMES, FeatureExtractor, extract_contacts
from features.model import AdFeatures

# Text a decoded web page can hold: every code point except surrogates (they cannot come out of a decoder).
ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=400)
LURE_BITS = [
    "Work abroad", "no experience needed", "free housing", "WhatsApp +371 2914 5678", "viber: +48 512 345 678",
    "registration fee 200 EUR", "girls 18-25", "t.me/jobs_fast", "darbs@inbox.lv", "jan [at] gmail [dot] com",
    "Darbs Norvēģijā", "работа в Германии", "зарплата 3000 евро", "bit.ly/3abcDE", "wa.me/37129145678",
    "alga līdz 2500 EUR mēnesī", "18+", "\x00", "\x1b[31m", "\u202e", "\u200b", "\ufeff", "\r\n", "\t",
    "٣٧١ ٢٩١٤٥٦٧٨", "＋３７１ ２９１４５６７８", "@recruiter_01", "https://evil.example/x?a=<script>",
]
MIXED_TEXT = st.lists(st.one_of(st.sampled_from(LURE_BITS), ANY_TEXT), max_size=12).map(" ".join)
LANGS = st.sampled_from([None, "en", "lv", "lt", "et", "fi", "pl", "ru", "xx", "EN", ""])


@cache
def extractor() -> FeatureExtractor:
    return FeatureExtractor()


def check_features(text: str, feats: AdFeatures) -> None:
    assert feats.n_chars == len(text)
    for ev in feats.evidence:
        assert 0 <= ev.start <= ev.end <= len(text), ev
        assert text[ev.start : ev.end] == ev.text, ev
    for contact in feats.contacts:
        assert 0 <= contact.start < contact.end <= len(text), contact
        assert text[contact.start : contact.end] == contact.raw, contact
        assert contact.value.strip(), contact
    assert len({(c.kind, c.value) for c in feats.contacts}) == len(feats.contacts)
    vector = feats.vector()
    assert tuple(vector) == FEATURE_NAMES
    assert all(isinstance(v, int | float) and math.isfinite(v) for v in vector.values()), vector


# deadline=None everywhere here (also set by the reliability profile): the property is correctness, not speed, and
# a loaded machine must not turn a slow example into a failure.
@settings(deadline=None)
@given(text=MIXED_TEXT, lang=LANGS)
def test_extract_never_crashes_and_every_offset_is_valid(text: str, lang: str | None) -> None:
    """Any text, any language hint (also unknown or mis-cased ones): a result with valid offsets."""
    check_features(text, extractor().extract(text, lang or None))


@settings(max_examples=40, deadline=None)
@given(texts=st.lists(MIXED_TEXT, min_size=1, max_size=8), batch=st.integers(1, 4))
def test_extract_many_loses_nothing_and_matches_extract(texts: list[str], batch: int) -> None:
    """Batch extraction returns one result per input, in order, identical to single extraction."""
    fx = extractor()
    many = fx.extract_many(texts, batch_size=batch)
    assert len(many) == len(texts)
    for text, got in zip(texts, many, strict=True):
        check_features(text, got)
        single = fx.extract(text)
        assert (got.language, got.evidence, got.contacts) == (single.language, single.evidence, single.contacts)


@settings(deadline=None)
@given(text=MIXED_TEXT, region=st.sampled_from([None, "LV", "LT", "EE", "FI", "PL", "RU", "ZZ"]))
def test_extract_contacts_offsets_and_uniqueness(text: str, region: str | None) -> None:
    contacts = extract_contacts(text, region)
    assert contacts == sorted(contacts, key=lambda c: (c.start, c.end, c.kind))
    for contact in contacts:
        assert text[contact.start : contact.end] == contact.raw
    assert len({(c.kind, c.value) for c in contacts}) == len(contacts)


@settings(max_examples=6, deadline=None)
@given(unit=MIXED_TEXT.filter(lambda s: len(s) >= 20), repeat=st.integers(2_000, 6_000))
def test_huge_adversarial_ads_are_processed_whole(unit: str, repeat: int) -> None:
    """Hundreds of kilobytes of repeated adversarial text: processed whole (no length limit error), offsets into the
    full text, the last contact found near the end."""
    text = (unit + "\n") * repeat
    feats = extractor().extract(text)
    check_features(text, feats)


def test_extract_rejects_mismatched_batches_clearly() -> None:
    """A caller error is a clear ValueError, not a silent truncation."""
    try:
        extractor().extract_many(["a", "b"], langs=["en"])
    except ValueError as error:
        assert "same length" in str(error)
    else:
        raise AssertionError("extract_many accepted 2 texts with 1 language")
