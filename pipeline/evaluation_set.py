"""The frozen evaluation set on which a challenger must beat the champion.

* the fixture ads of the ``eval`` split (templates never used for training; the demo and the crawl flow seed
  only the ``train`` split's labels), and
* a deterministic, template-disjoint slice of EMSCAD: the near-duplicate clusters whose smallest member text
  hashes to 0 modulo ``EMSCAD_HOLDOUT_MODULUS`` (about 20 % of the rows, with all their near-duplicates).

A training run compares its challenger on :func:`gate_evaluation_set`: this set minus the analyst-labelled ads
and their near-duplicates (analysts' labels always count: they go to training or to the analyst evaluation sample of
:mod:`pipeline.label_ledger`), plus that sample. Its fingerprint (texts + labels) is recorded with every comparison.
:func:`exclude_evaluation_rows` keeps the set out of training; models trained without it (e.g. by another flow)
are still compared fairly because :mod:`pipeline.champion` leaves out every row either model trained on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from features.near_duplicates import cluster_ids
from pipeline.folds import GROUPING_THRESHOLD
from pipeline.training_data import Example, emscad_examples, fingerprint, text_keys
from warehouse.records import ad_text

EMSCAD_HOLDOUT_MODULUS = 5


@dataclass
class EvaluationSet:
    examples: list[Example]
    fingerprint: str
    description: str

    @property
    def keys(self) -> np.ndarray:
        return text_keys([e.text for e in self.examples])


def fixture_examples(split: str) -> list[Example]:
    """The fixture ads of one split (``train`` or ``eval``) as labelled examples with their template ids."""
    from fixture_sites import load_ads

    return [
        Example(
            text=ad_text(ad["title"], ad["body"]),
            label=int(ad["label"]),
            source="fixture",
            language=ad["lang"],
            site=ad["site"],
            external_id=ad["ref"],
            group=ad["template"],
        )
        for ad in load_ads()
        if ad["split"] == split
    ]


def fixture_eval_examples() -> list[Example]:
    return fixture_examples("eval")


def emscad_split(examples: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    """``(train_part, held_out_part)`` of EMSCAD rows, whole near-duplicate clusters on one side."""
    texts = [e.text for e in examples]
    clusters = cluster_ids(texts, GROUPING_THRESHOLD)
    held = {
        int(c)
        for c in np.unique(clusters)
        if int.from_bytes(hashlib.sha256(texts[int(c)].encode("utf-8")).digest()[:4], "big")
        % EMSCAD_HOLDOUT_MODULUS
        == 0
    }
    train = [e for e, c in zip(examples, clusters, strict=True) if int(c) not in held]
    held_out = [e for e, c in zip(examples, clusters, strict=True) if int(c) in held]
    return train, held_out


def frozen_evaluation_set(emscad_csv: Path | None) -> EvaluationSet:
    fixtures = fixture_eval_examples()
    held_out = emscad_split(emscad_examples(emscad_csv))[1] if emscad_csv is not None else []
    examples = fixtures + held_out
    description = (
        f"{len(fixtures)} fixture eval-split ads + {len(held_out)} held-out EMSCAD ads "
        f"(template-disjoint 1/{EMSCAD_HOLDOUT_MODULUS} slice)"
    )
    return EvaluationSet(examples, fingerprint(examples), description)


def gate_evaluation_set(
    frozen: EvaluationSet, analyst_labelled: Sequence[Example], analyst_sample: Sequence[Example]
) -> EvaluationSet:
    """What a challenger is compared with the champion on: the frozen set minus every row that is an
    analyst-labelled ad or a near-duplicate of one (analysts' labels go to training or to their own sample, so the
    frozen set never swallows the review queue), plus the analyst evaluation sample
    (:mod:`pipeline.label_ledger`)."""
    if analyst_labelled:
        texts = [e.text for e in frozen.examples] + [e.text for e in analyst_labelled]
        clusters = cluster_ids(texts, GROUPING_THRESHOLD)
        labelled = set(clusters[len(frozen.examples):].tolist())
        kept = [e for e, c in zip(frozen.examples, clusters[: len(frozen.examples)], strict=True)
                if int(c) not in labelled]
    else:
        kept = list(frozen.examples)
    kept_ids = {id(e) for e in kept}
    left_out = [e for e in frozen.examples if id(e) not in kept_ids]
    examples = kept + list(analyst_sample)
    fixture = sum(e.source == "fixture" for e in kept)
    fixture_out = sum(e.source == "fixture" for e in left_out)
    emscad = sum(e.source == "emscad" for e in kept)
    emscad_out = len(left_out) - fixture_out
    description = (
        f"{fixture} fixture eval-split ads"
        + (f" ({fixture_out} left out: analysts labelled them or a near-duplicate)" if fixture_out else "")
        + f" + {emscad} held-out EMSCAD ads (template-disjoint 1/{EMSCAD_HOLDOUT_MODULUS} slice"
        + (f"; {emscad_out} left out: near-duplicates of analyst-labelled ads" if emscad_out else "")
        + f") + {len(analyst_sample)} analyst-labelled ads (the analyst evaluation sample)"
    )
    return EvaluationSet(examples, fingerprint(examples), description)


def exclude_evaluation_rows(examples: Sequence[Example], evaluation: EvaluationSet) -> tuple[list[Example], int]:
    """Training examples minus any that are, or are near-duplicates of, evaluation rows; and how many went."""
    if not examples:
        return [], 0
    texts = [e.text for e in examples] + [e.text for e in evaluation.examples]
    clusters = cluster_ids(texts, GROUPING_THRESHOLD)
    tainted = set(clusters[len(examples):].tolist())
    kept = [e for e, c in zip(examples, clusters[: len(examples)], strict=True) if int(c) not in tainted]
    return kept, len(examples) - len(kept)
