"""Everything a training run reads from the warehouse, read in one short connection.

Labelled examples (analyst and fixture decisions, plus EMSCAD unless turned off) minus the frozen evaluation
set, the label watermark, the champion at that moment, and the last week of crawled ads (for the review-budget
threshold).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline.cross_ad_features import cross_ad_vectors
from pipeline.evaluation_set import EvaluationSet, exclude_evaluation_rows, frozen_evaluation_set
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


def assemble(
    con: duckdb.DuckDBPyConnection,
    emscad_csv: Path | None,
    *,
    emscad_limit: int | None = None,
    evaluation: EvaluationSet | None = None,
    reference: Sequence[Example] = (),
) -> TrainingSet:
    """Read the training data; ``emscad_csv=None`` trains on warehouse labels (and ``reference``) only.

    ``reference``: labelled ads from outside the warehouse (:mod:`pipeline.reference_data`).
    """
    evaluation = evaluation or frozen_evaluation_set(emscad_csv)
    labelled = warehouse_examples(con)
    fixture_templates(labelled)
    if emscad_csv is not None:
        labelled += emscad_examples(emscad_csv, limit=emscad_limit)
    labelled += list(reference)
    examples, excluded = exclude_evaluation_rows(labelled, evaluation)
    return TrainingSet(examples, evaluation, excluded, label_watermark(con), champion_version(con), recent_week(con))
