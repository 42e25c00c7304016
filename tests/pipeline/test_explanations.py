"""Explanations: per-ad top reasons with readable labels and values, backed by text that is really in the ad."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from pipeline.explain import Reason, explain_ads
from pipeline.model_registry import load_champion, register
from pipeline.reason_labels import feature_label
from pipeline.scoring_model import ScoringModel
from warehouse import session
from warehouse.records import ad_text


@pytest.fixture(scope="module")
def explained(
    small_model: ScoringModel, fixture_warehouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[int, list[Reason]], dict[int, str], dict[int, dict[str, float]]]:
    """Explanations of the five fixture lures and five ordinary ads of the eval split (top 8 reasons each)."""
    db = tmp_path_factory.mktemp("explain") / "lw.duckdb"
    shutil.copy(fixture_warehouse, db)
    with session(db) as con:
        register(con, small_model, db.parent / "models", created_by="test", promote=True)
        model = load_champion(con)
        assert model is not None
        rows = con.execute(
            """
            SELECT a.ad_id, a.title, a.body, f.vector FROM ads a JOIN features f USING (ad_id)
            WHERE a.external_id IN ('bj-0004', 'bj-0019', 'bj-0045', 'sk-0030', 'sk-0120',
                                    'bj-0006', 'bj-0001', 'bj-0002', 'bj-0003', 'bj-0005')
            """
        ).fetchall()
        reasons = explain_ads(con, model, [r[0] for r in rows], top=8)
    texts = {int(r[0]): ad_text(r[1], r[2]) for r in rows}
    vectors = {int(r[0]): json.loads(r[3]) for r in rows}
    return db, reasons, texts, vectors


def test_every_viewed_ad_gets_at_most_top_reasons_sorted_by_contribution(explained: tuple) -> None:
    """The review app's contract: dict[ad_id, list[Reason]], most lure-like first, `top` at most."""
    _, reasons, texts, _ = explained
    assert set(reasons) == set(texts)
    for found in reasons.values():
        assert 0 < len(found) <= 8
        contributions = [r.contribution for r in found]
        assert contributions == sorted(contributions, reverse=True)
        assert all(r.label for r in found)


def test_evidence_is_text_that_occurs_in_the_ad(explained: tuple) -> None:
    """Lure-phrase evidence and n-grams quoted for the wording are taken from the ad itself."""
    _, reasons, texts, _ = explained
    quoted = 0
    for ad_id, found in reasons.items():
        lowered = texts[ad_id].lower()
        for reason in found:
            for snippet in reason.evidence:
                assert snippet.lower() in lowered, (reason, snippet)
                quoted += 1
    assert quoted > 10


def test_lure_ads_are_explained_by_lure_evidence(explained: tuple, small_model: ScoringModel) -> None:
    """For a scored lure, lure-indicator or contact reasons with evidence are among the top reasons."""
    _, reasons, _, vectors = explained
    lures = [a for a, v in vectors.items() if v.get("n_evidence", 0) >= 3]
    assert lures
    compared = 0
    for ad_id in lures:
        backed = [r for r in reasons[ad_id] if r.evidence and r.contribution > 0 and not r.feature.startswith("text:")]
        assert backed, reasons[ad_id]
        for reason in backed:
            assert reason.feature in small_model.structured_names
            if reason.feature in vectors[ad_id]:  # cross-ad features are not in the stored vector
                assert reason.value == pytest.approx(vectors[ad_id][reason.feature])
                compared += 1
    assert compared >= len(lures)  # the value check above ran (at least once per lure), it is not vacuous


def test_text_reasons_name_ngrams_instead_of_one_lump(explained: tuple) -> None:
    """The wording part is broken into the ad's own n-grams (feature 'text:<n-gram>'), not one opaque block."""
    _, reasons, _, _ = explained
    ngram_reasons = [r for found in reasons.values() for r in found if r.feature.startswith("text:")]
    assert ngram_reasons
    for reason in ngram_reasons:
        assert reason.label


def test_labels_state_the_value_in_words() -> None:
    """'no company e-mail' for a zero count, 'no business contact (...) (yes)' for a flag, taxonomy titles."""
    assert feature_label("n_company_email", 0.0) == "no company e-mail"
    assert feature_label("messenger_only", 1.0) == "no business contact (only messenger, free e-mail, mobile) (yes)"
    assert feature_label("ind_upfront_fee", 2.0) == "Upfront fees: 2 phrase(s)"
    assert feature_label("shared_contact_ads", 4.0) == "contact shared with 4 other ad(s)"
    assert feature_label("lang_lv", 1.0) == "written in Latvian"
    assert feature_label("some_new_feature", 3.0) == "some new feature (3)"


def test_contributions_add_up_to_the_raw_score(small_model: ScoringModel) -> None:
    """Tree SHAP values plus per-column text contributions reproduce the model's log-odds exactly."""
    text = "Darbs Norvēģijā, pieredze nav vajadzīga. Raksti WhatsApp +371 29 000 111."
    design = small_model.design([text], [{"messenger_only": 1.0}])
    raw = small_model.raw_scores(design)[0]
    tree = small_model.booster.predict(design.matrix, pred_contrib=True)
    tree = (tree.toarray() if sp.issparse(tree) else np.asarray(tree))[0]
    text_part = sum(small_model.text_model.column_contributions(design.tfidf[0]).values())
    constant = small_model.text_model.scale * small_model.text_model.intercept + small_model.text_model.shift
    assert raw == pytest.approx(tree.sum() + text_part + constant, abs=1e-4)


def test_placeholders_of_the_text_model_read_as_what_they_stand_for() -> None:
    """The text model sees numbers, e-mails and URLs as tokens; a reason names them, not the token."""
    from pipeline.reason_labels import text_label

    assert text_label("0 eur") == "wording “<number> eur”"
    assert text_label("motivatsioonikiri email") == "wording “motivatsioonikiri <e-mail address>”"
    assert text_label("url") == "wording “<web address>”"
