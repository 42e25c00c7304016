"""Analysts' labels always count (issue 13): a decision on an ad that is also a fixture evaluation ad goes to
training or to the analyst evaluation sample, never silently nowhere; the sample is deterministic, closed under
near-duplicates and sticky; every label that is not trained on is accounted for with its reason."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from features.near_duplicates import cluster_ids
from fixture_sites import load_ads
from pipeline.champion import _fair_rows
from pipeline.evaluation_set import EvaluationSet, fixture_examples, gate_evaluation_set
from pipeline.folds import GROUPING_THRESHOLD
from pipeline.label_ledger import (
    ANALYST_EVAL_MODULUS,
    ANALYST_SAMPLE,
    CONFLICT_DROPPED,
    CONFLICT_OVERRULED,
    EXACT_DUPLICATE,
    IN_FROZEN,
    NEAR_FROZEN,
    REPLACED,
    UNDECIDED,
    LabelLedger,
    analyst_sample,
    deduplicate,
    ledger_lines,
)
from pipeline.scoring_model import ScoringModel
from pipeline.training_data import Example, fingerprint
from pipeline.training_set import assemble
from warehouse import session
from warehouse.records import ad_text


def _eval_refs() -> list[str]:
    return sorted(ad["ref"] for ad in load_ads() if ad["split"] == "eval")


@pytest.fixture(scope="module")
def labelled_warehouse(fixture_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture warehouse (train split labelled by the fixture seed) where an analyst decided 30 fixture
    evaluation ads (the review queue), changed one decision, marked one ad unsure and undid another."""
    db = tmp_path_factory.mktemp("analyst-labels") / "lw.duckdb"
    shutil.copy(fixture_warehouse, db)
    refs = _eval_refs()[:32]
    truth = {ad["ref"]: bool(ad["label"]) for ad in load_ads()}
    with session(db) as con:
        for ref in refs[:30]:
            con.execute(
                "INSERT INTO labels (ad_id, label, source, analyst) SELECT ad_id, ?, 'analyst', 'ana' FROM ads "
                "WHERE external_id = ?", ["lure" if truth[ref] else "not_lure", ref])
        # a changed mind: the first decision is replaced by a later one on the same ad
        con.execute("INSERT INTO labels (ad_id, label, source, analyst) SELECT ad_id, ?, 'analyst', 'ana' FROM ads "
                    "WHERE external_id = ?", ["lure" if truth[refs[0]] else "not_lure", refs[0]])
        con.execute("INSERT INTO labels (ad_id, label, source, analyst) SELECT ad_id, 'unsure', 'analyst', 'ana' "
                    "FROM ads WHERE external_id = ?", [refs[30]])
        con.execute("INSERT INTO labels (ad_id, label, source, analyst) SELECT ad_id, 'lure', 'analyst', 'ana' "
                    "FROM ads WHERE external_id = ?", [refs[31]])
        con.execute("INSERT INTO labels (ad_id, label, source, analyst, action) SELECT ad_id, 'none', 'analyst', "
                    "'ana', 'undo' FROM ads WHERE external_id = ?", [refs[31]])
    return db


def test_analyst_labels_on_fixture_evaluation_ads_reach_training_or_the_analyst_sample(
    labelled_warehouse: Path, fixture_warehouse: Path
) -> None:
    """Before the fix the 30 decisions on fixture evaluation ads were all dropped as 'evaluation rows' and the
    training data did not change; now each is trained on or in the analyst evaluation sample, and the training
    data (fingerprint, example count) changes by exactly the analyst labels trained on."""
    with session(fixture_warehouse) as con:
        before = assemble(con, None)
    with session(labelled_warehouse) as con:
        after = assemble(con, None)
    analyst_used = [e for e in after.examples if e.source == "analyst"]
    sample = [e for e in after.evaluation.examples if e.source == "analyst"]
    assert len(analyst_used) + len(sample) == 30
    assert analyst_used, "analysts' decisions must reach training"
    assert len(after.examples) == len(before.examples) + len(analyst_used)
    assert fingerprint(after.examples) != fingerprint(before.examples)
    summary = after.ledger.to_dict()
    assert summary["by_origin"]["analyst"]["used"] == len(analyst_used)
    assert summary["by_reason"].get(ANALYST_SAMPLE, {}).get("analyst", 0) == len(sample)
    assert NEAR_FROZEN not in summary["by_reason"] or "analyst" not in summary["by_reason"][NEAR_FROZEN]


def test_the_gate_leaves_out_fixture_evaluation_ads_that_analysts_labelled(labelled_warehouse: Path) -> None:
    """The frozen fixture part of the gate never holds an ad an analyst decided (lure / not lure) or a
    near-duplicate of one (they are analysts' labels now); its description says so; no gate row is a training
    text."""
    with session(labelled_warehouse) as con:
        data = assemble(con, None)
        decided = {ad_text(t, b) for t, b in con.execute(
            "SELECT title, body FROM ads WHERE ad_id IN (SELECT ad_id FROM labels QUALIFY row_number() OVER "
            "(PARTITION BY ad_id ORDER BY decided_at DESC, label_id DESC) = 1 AND source = 'analyst' "
            "AND label IN ('lure', 'not_lure'))"
        ).fetchall()}
    frozen_part = [e for e in data.evaluation.examples if e.source == "fixture"]
    assert len(frozen_part) < len(fixture_examples("eval"))
    assert "left out: analysts labelled them or a near-duplicate" in data.evaluation.description
    texts = [e.text for e in frozen_part] + [e.text for e in data.examples if e.source == "analyst"]
    clusters = cluster_ids(texts, GROUPING_THRESHOLD)
    assert not set(clusters[: len(frozen_part)].tolist()) & set(clusters[len(frozen_part):].tolist())
    assert not {e.text for e in frozen_part} & decided
    assert not {e.text for e in data.evaluation.examples} & {e.text for e in data.examples}


def test_every_label_not_trained_on_is_named_with_its_reason(labelled_warehouse: Path) -> None:
    """Warehouse label rows = used + held out; the replaced decision, the unsure and the undone ad are listed with
    their reasons, one line per origin and per reason."""
    with session(labelled_warehouse) as con:
        data = assemble(con, None)
        rows = con.execute("SELECT count(*) FROM labels").fetchall()[0][0]
    summary = data.ledger.to_dict()
    assert summary["used"] + summary["held_out"] == rows
    assert summary["by_reason"][REPLACED] == {"analyst": 2}  # the changed decision and the undone one
    assert summary["by_reason"][UNDECIDED] == {"analyst": 2}  # unsure, and the undo's "no decision"
    lines = ledger_lines(summary)
    assert any(line.split()[0] == "analyst" for line in lines)
    assert any(line.strip().split()[0] == "fixture" for line in lines)
    for reason, per_origin in summary["by_reason"].items():
        assert any(reason in line and all(f"{o} {n}" in line for o, n in per_origin.items()) for line in lines)


def test_analyst_sample_is_deterministic_cluster_closed_and_sticky() -> None:
    """Whole near-duplicate clusters are in or out, the choice does not depend on input order, about 1 in 5
    clusters is chosen, and labels made later never move an earlier label across."""
    ads = load_ads()
    texts = [ad_text(a["title"], a["body"]) for a in ads]
    firsts = list(range(100, 100 + len(texts)))
    clusters = cluster_ids(texts, GROUPING_THRESHOLD).tolist()
    chosen = analyst_sample(texts, firsts, clusters)
    for cluster in set(clusters):
        assert len({c for c, k in zip(chosen, clusters, strict=True) if k == cluster}) == 1
    share = len({k for c, k in zip(chosen, clusters, strict=True) if c}) / len(set(clusters))
    assert 0.5 / ANALYST_EVAL_MODULUS < share < 2.0 / ANALYST_EVAL_MODULUS
    order = list(range(len(texts)))
    random.Random(3).shuffle(order)
    shuffled_texts = [texts[i] for i in order]
    shuffled = analyst_sample(shuffled_texts, [firsts[i] for i in order],
                              cluster_ids(shuffled_texts, GROUPING_THRESHOLD).tolist())
    assert {texts[i] for i, c in zip(order, shuffled, strict=True) if c} == {t for t, c in zip(texts, chosen,
                                                                                             strict=True) if c}
    # the first 200 labels, then all of them: everything already decided keeps its side
    early = analyst_sample(texts[:200], firsts[:200], cluster_ids(texts[:200], GROUPING_THRESHOLD).tolist())
    moved = [i for i in range(200) if early[i] != chosen[i]]
    bridged = {clusters[i] for i in moved}
    # only a later ad that joins two earlier clusters may move labels (the merged cluster follows its earliest ad)
    for cluster in bridged:
        early_clusters = cluster_ids(texts[:200], GROUPING_THRESHOLD)
        assert len({int(early_clusters[i]) for i in range(200) if clusters[i] == cluster}) > 1


def _example(text: str, label: int, source: str) -> Example:
    return Example(text=text, label=label, source=source)


def test_exact_duplicates_and_conflicting_labels_keep_one_copy_or_none() -> None:
    """The analyst's copy of a text wins over other origins; a conflict inside the winning origin keeps nothing."""
    examples = [
        _example("same text", 1, "emscad"),
        _example("same text", 1, "analyst"),
        _example("overruled", 0, "fixture"),
        _example("overruled", 1, "analyst"),
        _example("torn", 1, "emscad"),
        _example("torn", 0, "emscad"),
        _example("alone", 0, "corpus"),
    ]
    kept, dropped = deduplicate(examples)
    assert [(e.text, e.source) for e in kept] == [("same text", "analyst"), ("overruled", "analyst"),
                                                  ("alone", "corpus")]
    reasons = {(e.text, e.source, e.label): reason for e, reason in dropped}
    assert reasons == {("same text", "emscad", 1): EXACT_DUPLICATE, ("overruled", "fixture", 0): CONFLICT_OVERRULED,
                       ("torn", "emscad", 1): CONFLICT_DROPPED, ("torn", "emscad", 0): CONFLICT_DROPPED}


def test_other_origins_in_or_near_the_frozen_set_are_held_out_with_their_reason(labelled_warehouse: Path) -> None:
    """Fixture-seed labels on frozen evaluation ads are still left out, as 'in the frozen evaluation set'."""
    undecided = set(_eval_refs()[40:])
    eval_ads = [e for e in fixture_examples("eval") if e.external_id in undecided][:3]
    frozen = EvaluationSet(eval_ads, fingerprint(eval_ads), "three fixture eval ads")
    seeded = [Example(e.text, e.label, "fixture") for e in eval_ads]
    with session(labelled_warehouse) as con:
        data = assemble(con, None, evaluation=frozen, reference=seeded)
    summary = data.ledger.to_dict()
    assert summary["by_reason"][IN_FROZEN] == {"fixture seed": 3}
    assert not {e.text for e in eval_ads} & {e.text for e in data.examples}
    assert isinstance(data.ledger, LabelLedger)


def test_the_gate_stays_fair_for_analyst_sample_rows_a_model_trained_on(
    small_model: ScoringModel, frozen_set: EvaluationSet
) -> None:
    """Analyst-sample rows join the gate; one that either model trained on (e.g. a champion trained before the
    sample existed) is left out of the comparison like any other row it saw."""
    seen = [Example(e.text, e.label, "analyst") for e in fixture_examples("train")[:6]]  # small_model trained on them
    gate = gate_evaluation_set(frozen_set, seen, seen)
    assert {e.text for e in seen} <= {e.text for e in gate.examples}
    fair = {e.text for e in _fair_rows(gate, small_model)}
    assert not fair & {e.text for e in seen}
    assert fair  # the rest of the gate is still scored
