"""Everything a training run reads from the warehouse, read in one short connection.

Labelled examples (analyst, fixture and imported decisions, plus EMSCAD and the reference sources unless turned
off), split into training and evaluation by the rules of :mod:`pipeline.label_ledger` (analysts' decisions always
count: they go to training or to the analyst evaluation sample), the ledger of what was used and held out and why,
the label watermark, the champion at that moment, and the last week of crawled ads (for the review-budget threshold).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from features.near_duplicates import cluster_ids
from pipeline.cross_ad_features import cross_ad_vectors
from pipeline.evaluation_set import EvaluationSet, frozen_evaluation_set, gate_evaluation_set
from pipeline.folds import GROUPING_THRESHOLD
from pipeline.label_import import imported_examples
from pipeline.label_ledger import (
    ANALYST,
    ANALYST_SAMPLE,
    IN_FROZEN,
    NEAR_ANALYST_SAMPLE,
    NEAR_FROZEN,
    REPLACED,
    UNDECIDED,
    LabelLedger,
    analyst_sample,
    deduplicate,
)
from pipeline.model_registry import champion_version
from pipeline.training_data import Example, emscad_examples, label_watermark, warehouse_examples
from warehouse.records import ad_text

WEEK_SQL = """
SELECT a.ad_id, a.title, a.body, f.vector
FROM ads a JOIN features f USING (ad_id)
WHERE a.first_seen >= (SELECT max(first_seen) FROM ads) - INTERVAL 7 DAY
ORDER BY a.ad_id
"""


@dataclass
class TrainingSet:
    examples: list[Example]
    evaluation: EvaluationSet
    excluded: int  # labelled examples left out because they are (near-duplicates of) evaluation rows
    label_watermark: int
    champion: str | None
    week: tuple[list[str], list[dict[str, float]]]
    ledger: LabelLedger = field(default_factory=LabelLedger)  # every label: used, or held out and why


def fixture_templates(examples: Sequence[Example]) -> None:
    """Known fixture template ids as CV groups for fixture-labelled ads (joined with near-duplicate clusters)."""
    fixture = [e for e in examples if e.source == "fixture" and e.external_id]
    if not fixture:
        return
    from fixture_sites import load_ads

    templates = {(ad["site"], ad["ref"]): ad["template"] for ad in load_ads()}
    for example in fixture:
        example.group = templates.get((example.site or "", example.external_id or ""))


def recent_week(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[dict[str, float]]]:
    rows = con.execute(WEEK_SQL).fetchall()
    cross = cross_ad_vectors(con, [r[0] for r in rows])
    return [ad_text(r[1], r[2]) for r in rows], [{**json.loads(r[3]), **cross[int(r[0])]} for r in rows]


NOT_COUNTED_SQL = """
WITH ranked AS (
    SELECT label_id, source, label,
           row_number() OVER (PARTITION BY ad_id ORDER BY decided_at DESC, label_id DESC) AS rn
    FROM labels
)
SELECT label_id, source, rn = 1 AS latest FROM ranked
WHERE rn > 1 OR label NOT IN ('lure', 'not_lure')
ORDER BY label_id
"""


def not_counted_labels(con: duckdb.DuckDBPyConnection, ledger: LabelLedger) -> None:
    """Warehouse labels that are not an ad's training label: replaced by a later decision or undo, or a latest
    decision that is unsure / skip / "no decision"."""
    rows = con.execute(NOT_COUNTED_SQL).fetchall()
    ledger.hold_rows([(int(r[0]), str(r[1])) for r in rows if not r[2]], REPLACED)
    ledger.hold_rows([(int(r[0]), str(r[1])) for r in rows if r[2]], UNDECIDED)


def first_analyst_labels(con: duckdb.DuckDBPyConnection) -> dict[int, int]:
    """ad_id -> the ad's first analyst ``label_id`` (later decisions and undos never change it)."""
    rows = con.execute("SELECT ad_id, min(label_id) FROM labels WHERE source = ? GROUP BY ad_id", [ANALYST])
    return {int(ad_id): int(first) for ad_id, first in rows.fetchall()}


def split_labelled(
    labelled: Sequence[Example], frozen: EvaluationSet, first_labels: dict[int, int], ledger: LabelLedger
) -> tuple[list[Example], EvaluationSet, int]:
    """``(training examples, the gate's evaluation set, how many were left out as evaluation rows or their
    near-duplicates)``; every label's fate goes to ``ledger`` (rules: :mod:`pipeline.label_ledger`)."""
    unique, duplicates = deduplicate(labelled)
    for example, reason in duplicates:
        ledger.hold([example], reason)
    analyst = [e for e in unique if e.source == ANALYST]
    others = [e for e in unique if e.source != ANALYST]
    clusters = cluster_ids([e.text for e in analyst], GROUPING_THRESHOLD)
    firsts = [first_labels.get(e.ad_id or -1, e.label_id or 0) for e in analyst]
    in_sample = analyst_sample([e.text for e in analyst], firsts, clusters.tolist())
    sample = [e for e, s in zip(analyst, in_sample, strict=True) if s]
    analyst_training = [e for e, s in zip(analyst, in_sample, strict=True) if not s]
    ledger.hold(sample, ANALYST_SAMPLE)
    evaluation = gate_evaluation_set(frozen, analyst, sample)
    # other labels: out when in, or near-duplicates of, the frozen set (all of it) or the analyst sample
    training = list(analyst_training)
    held = 0
    if others:
        rows = frozen.examples + sample
        texts = [e.text for e in others] + [e.text for e in rows]
        joint = cluster_ids(texts, GROUPING_THRESHOLD)
        frozen_clusters = set(joint[len(others): len(others) + len(frozen.examples)].tolist())
        sample_clusters = set(joint[len(others) + len(frozen.examples):].tolist())
        frozen_texts = {e.text for e in frozen.examples}
        for example, cluster in zip(others, joint[: len(others)].tolist(), strict=True):
            if example.text in frozen_texts:
                ledger.hold([example], IN_FROZEN)
            elif cluster in frozen_clusters:
                ledger.hold([example], NEAR_FROZEN)
            elif cluster in sample_clusters:
                ledger.hold([example], NEAR_ANALYST_SAMPLE)
            else:
                training.append(example)
                continue
            held += 1
    order = {id(e): i for i, e in enumerate(labelled)}
    training.sort(key=lambda e: order[id(e)])
    ledger.use(training)
    return training, evaluation, held


def assemble(
    con: duckdb.DuckDBPyConnection,
    emscad_csv: Path | None,
    *,
    emscad_limit: int | None = None,
    evaluation: EvaluationSet | None = None,
    reference: Sequence[Example] = (),
) -> TrainingSet:
    """Read the training data; ``emscad_csv=None`` trains on warehouse labels (and ``reference``) only.

    ``reference``: labelled ads from outside the warehouse (:mod:`pipeline.reference_data`). ``evaluation``: the
    frozen set (default :func:`pipeline.evaluation_set.frozen_evaluation_set`); the returned set is the gate's
    (:func:`pipeline.evaluation_set.gate_evaluation_set`).
    """
    frozen = evaluation or frozen_evaluation_set(emscad_csv)
    ledger = LabelLedger()
    not_counted_labels(con, ledger)
    labelled = warehouse_examples(con) + imported_examples(con)  # + `lurewatch labels import` text rows
    fixture_templates(labelled)
    if emscad_csv is not None:
        labelled += emscad_examples(emscad_csv, limit=emscad_limit)
    labelled += list(reference)
    examples, gate, excluded = split_labelled(labelled, frozen, first_analyst_labels(con), ledger)
    return TrainingSet(examples, gate, excluded, label_watermark(con), champion_version(con), recent_week(con),
                       ledger)
