"""AdFeatures.vector(): fixed layout and the contact-derived features used by the scorer."""

from __future__ import annotations

from features import FEATURE_NAMES, INDICATORS, SUPPORTED_LANGUAGES, FeatureExtractor
from features.taxonomy import load_taxonomy


def test_taxonomy_has_the_ten_indicators_in_order() -> None:
    """INDICATORS come from taxonomy.yaml in fixed order, each with title/description/ILO mapping."""
    assert INDICATORS == (
        "unrealistic_pay",
        "no_requirements",
        "travel_housing_paid",
        "vague_abroad",
        "messenger_contact",
        "upfront_fee",
        "appearance_requirements",
        "adult_adjacent_work",
        "urgency_secrecy",
        "targets_minors",
    )
    assert all(i.title and i.description and i.maps_to for i in load_taxonomy())


def test_feature_names_layout() -> None:
    """FEATURE_NAMES start with ind_<id> per indicator and end with the language one-hot."""
    assert FEATURE_NAMES[: len(INDICATORS)] == tuple(f"ind_{i}" for i in INDICATORS)
    assert FEATURE_NAMES[-len(SUPPORTED_LANGUAGES) :] == tuple(f"lang_{c}" for c in SUPPORTED_LANGUAGES)
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)
    for name in (
        "n_indicators_distinct",
        "n_phones",
        "n_emails",
        "n_freemail",
        "n_messenger",
        "messenger_only",
        "n_urls",
        "n_chars",
    ):
        assert name in FEATURE_NAMES


def test_vector_keys_equal_feature_names(fx: FeatureExtractor) -> None:
    """vector() has exactly FEATURE_NAMES as keys, in order, with float values."""
    feats = fx.extract("Work abroad, no experience needed! WhatsApp +44 7911 123456", lang="en")
    vec = feats.vector()
    assert tuple(vec) == FEATURE_NAMES
    assert all(isinstance(v, float) for v in vec.values())
    assert vec["lang_en"] == 1.0 and sum(vec[f"lang_{c}"] for c in SUPPORTED_LANGUAGES) == 1.0
    assert vec["ind_no_requirements"] == 1.0
    assert vec["ind_vague_abroad"] == 1.0
    assert vec["n_indicators_distinct"] == 2.0
    assert vec["n_chars"] == float(len("Work abroad, no experience needed! WhatsApp +44 7911 123456"))


def test_indicator_counts_has_every_indicator(fx: FeatureExtractor) -> None:
    """indicator_counts() lists all taxonomy ids, zero when absent."""
    counts = fx.extract("Nothing suspicious here.", lang="en").indicator_counts()
    assert tuple(counts) == INDICATORS
    assert set(counts.values()) == {0}


def test_messenger_only_for_whatsapp_and_freemail_ad(fx: FeatureExtractor) -> None:
    """Only a WhatsApp number and a gmail address -> messenger_only = 1."""
    vec = fx.extract("Darbs Norvēģijā. WhatsApp +371 29145678, darbs.norge@gmail.com", lang="lv").vector()
    assert vec["messenger_only"] == 1.0
    assert vec["n_messenger"] == 1.0 and vec["n_freemail"] == 1.0


def test_single_whatsapp_among_company_contacts_is_not_messenger_only(fx: FeatureExtractor) -> None:
    """A WhatsApp mention next to a company e-mail / landline / address does not set messenger_only."""
    text = "Kontakti: tālr. 63712345, e-pasts darbs@abeles.lv, WhatsApp +371 29123456, adrese: Lauku iela 5, Dobele."
    feats = fx.extract(text, lang="lv")
    vec = feats.vector()
    assert vec["messenger_only"] == 0.0
    assert vec["n_messenger"] == 1.0
    assert vec["n_company_email"] == 1.0
    assert vec["n_phones_landline"] == 1.0
    assert "messenger_contact" not in {e.indicator for e in feats.evidence}


def test_fact_and_language_mix_features_in_layout() -> None:
    """Fact features follow the contact features; language-mix features precede the language one-hot."""
    from features.schema import CONTACT_FEATURES, FACT_FEATURES, LANGUAGE_MIX_FEATURES

    start = FEATURE_NAMES.index(CONTACT_FEATURES[-1]) + 1
    assert FEATURE_NAMES[start : start + len(FACT_FEATURES)] == FACT_FEATURES
    assert {"salary_eur_month", "salary_is_range", "min_age", "max_age", "age_range_young"} <= set(FACT_FEATURES)
    assert {"n_destinations", "destination_abroad"} <= set(FACT_FEATURES)
    end = len(FEATURE_NAMES) - len(SUPPORTED_LANGUAGES)
    assert FEATURE_NAMES[end - len(LANGUAGE_MIX_FEATURES) : end] == LANGUAGE_MIX_FEATURES


def test_n_evidence_counts_lure_evidence_only(fx: FeatureExtractor) -> None:
    """Salary/age/destination facts are evidence too, but n_evidence and ind_* count lure indicators only."""
    feats = fx.extract(
        "Darbs Norvēģijā meitenēm 18-25 gadi, alga 3000 EUR mēnesī. Pieredze nav nepieciešama.", lang="lv"
    )
    kinds = {e.indicator for e in feats.fact_evidence()}
    assert kinds == {"salary", "age", "destination"}
    vec = feats.vector()
    assert vec["n_evidence"] == float(len(feats.lure_evidence())) == float(sum(feats.indicator_counts().values()))
    assert len(feats.evidence) == len(feats.lure_evidence()) + len(feats.fact_evidence())
    assert vec["n_languages"] == 1.0 and vec["secondary_language_share"] == 0.0
