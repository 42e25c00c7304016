"""Which labels a training run used, which it held out, and why: one ledger per run, stored in the model's metrics.

Rules (applied by :func:`pipeline.training_set.assemble`):

* **Analysts' decisions always count.** Every analyst-labelled ad goes to training, except the *analyst evaluation
  sample*: the analyst-labelled ads are grouped into near-duplicate clusters (MinHash/LSH, Jaccard >= 0.5, the
  grouping of cross-validation) and a cluster is in the sample when the SHA-256 of the text of its
  earliest-labelled ad (smallest first ``label_id``) is 0 modulo :data:`ANALYST_EVAL_MODULUS` (1 in 5 clusters). So
  near-duplicates never straddle training and evaluation, and later labels never change which ad a cluster is
  keyed by: a label, once in the sample, stays there (unless a new ad bridges two clusters; then the merged
  cluster follows its earliest-labelled ad). An analyst label on an ad that is also a fixture evaluation ad is an
  analyst label like any other; the fixture part of the frozen evaluation set leaves such ads out instead
  (:func:`pipeline.evaluation_set.gate_evaluation_set`).
* Other labels (fixture seed, imported, EMSCAD, reference sources) are left out when they are in, or
  near-duplicates of, an evaluation row (the frozen set or the analyst sample).
* Exact duplicates (same text) keep one copy: the one of the highest-priority origin (analyst, imported, fixture
  seed, reference sources, EMSCAD). Copies with another label are conflicting: the highest-priority origin's label
  wins if that origin agrees with itself, else no copy is kept.
* In the warehouse only the latest decision per ad counts: earlier ones were replaced (by a later decision or an
  undo), and an ad whose latest decision is unsure, skip or "no decision" has no training label.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.training_data import Example

ANALYST = "analyst"
FIXTURE = "fixture"
EMSCAD = "emscad"
ANALYST_EVAL_MODULUS = 5

REFERENCE_ORIGINS = {
    "corpus": "reference: training corpus",
    "pracuj": "reference: pracuj.pl",
    "chat": "reference: Telegram chat",
    "tg_spam": "reference: Telegram spam",
}

ANALYST_SAMPLE = f"in the analyst evaluation sample (1 in {ANALYST_EVAL_MODULUS} near-duplicate clusters)"
IN_FROZEN = "in the frozen evaluation set"
NEAR_FROZEN = "near-duplicate of a frozen evaluation ad"
NEAR_ANALYST_SAMPLE = "near-duplicate of an analyst evaluation-sample ad"
EXACT_DUPLICATE = "exact duplicate of another labelled ad"
CONFLICT_OVERRULED = "conflicting label on the same text (overruled)"
CONFLICT_DROPPED = "conflicting labels on the same text (none kept)"
REPLACED = "replaced by a later decision or undo on the same ad"
UNDECIDED = "latest decision is unsure, skip or undone"
REASONS = (ANALYST_SAMPLE, IN_FROZEN, NEAR_FROZEN, NEAR_ANALYST_SAMPLE, EXACT_DUPLICATE, CONFLICT_OVERRULED,
           CONFLICT_DROPPED, REPLACED, UNDECIDED)


def origin(source: str) -> str:
    """The origin a label is reported under: analyst, fixture seed, imported (<source>), EMSCAD, reference: ..."""
    if source == ANALYST:
        return "analyst"
    if source == FIXTURE:
        return "fixture seed"
    if source == EMSCAD:
        return "EMSCAD"
    return REFERENCE_ORIGINS.get(source, f"imported ({source})")


def _priority(source: str) -> int:
    """Which copy of an exact duplicate is kept: lower wins."""
    if source == ANALYST:
        return 0
    if source == FIXTURE:
        return 2
    if source in REFERENCE_ORIGINS:
        return 3
    if source == EMSCAD:
        return 4
    return 1  # imported decisions on crawled ads


def text_hash(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big")


def analyst_sample(texts: Sequence[str], first_label_ids: Sequence[int], clusters: Sequence[int]) -> list[bool]:
    """Per analyst-labelled ad: is it in the analyst evaluation sample?

    ``clusters``: near-duplicate cluster id per ad; ``first_label_ids``: the ad's first analyst ``label_id``. A
    cluster is in the sample when the text of its earliest-labelled ad hashes to 0 modulo
    :data:`ANALYST_EVAL_MODULUS`; every member follows its cluster.
    """
    earliest: dict[int, int] = {}
    for i, (cluster, first) in enumerate(zip(clusters, first_label_ids, strict=True)):
        j = earliest.get(int(cluster))
        if j is None or (first, texts[i]) < (first_label_ids[j], texts[j]):
            earliest[int(cluster)] = i
    chosen = {c for c, i in earliest.items() if text_hash(texts[i]) % ANALYST_EVAL_MODULUS == 0}
    return [int(c) in chosen for c in clusters]


def deduplicate(examples: Sequence[Example]) -> tuple[list[Example], list[tuple[Example, str]]]:
    """One example per exact text: ``(kept, [(dropped, reason), ...])`` (see the module docstring)."""
    by_text: dict[str, list[Example]] = {}
    for example in examples:
        by_text.setdefault(example.text, []).append(example)
    kept: list[Example] = []
    dropped: list[tuple[Example, str]] = []
    for copies in by_text.values():
        if len(copies) == 1:
            kept.append(copies[0])
            continue
        ranked = sorted(copies, key=lambda e: _priority(e.source))  # stable: first seen wins among equals
        best = [e for e in ranked if _priority(e.source) == _priority(ranked[0].source)]
        if len({e.label for e in best}) > 1:
            dropped += [(e, CONFLICT_DROPPED) for e in copies]
            continue
        winner = best[0]
        kept.append(winner)
        dropped += [(e, EXACT_DUPLICATE if e.label == winner.label else CONFLICT_OVERRULED)
                    for e in copies if e is not winner]
    order = {id(e): i for i, e in enumerate(examples)}
    kept.sort(key=lambda e: order[id(e)])
    return kept, dropped


@dataclass
class LabelLedger:
    """Counts of labels used and held out per origin, and per reason; the fate of each warehouse label id."""

    used: Counter[str] = field(default_factory=Counter)
    used_lures: Counter[str] = field(default_factory=Counter)
    held: Counter[tuple[str, str]] = field(default_factory=Counter)  # (origin, reason)
    fates: dict[int, str] = field(default_factory=dict)  # warehouse label_id -> "used" | reason

    def use(self, examples: Iterable[Example]) -> None:
        for example in examples:
            self.used[origin(example.source)] += 1
            self.used_lures[origin(example.source)] += example.label
            if example.label_id is not None:
                self.fates[example.label_id] = "used"

    def hold(self, examples: Iterable[Example], reason: str) -> None:
        for example in examples:
            self.held[(origin(example.source), reason)] += 1
            if example.label_id is not None:
                self.fates[example.label_id] = reason

    def hold_rows(self, rows: Iterable[tuple[int, str]], reason: str) -> None:
        """Warehouse label rows ``(label_id, source)`` that never became examples (replaced, undecided)."""
        for label_id, source in rows:
            self.held[(origin(source), reason)] += 1
            self.fates[label_id] = reason

    def fates_since(self, watermark: int) -> Counter[str]:
        """What became of the warehouse labels newer than ``watermark``: "used" or a reason, counted."""
        return Counter(fate for label_id, fate in self.fates.items() if label_id > watermark)

    def to_dict(self) -> dict[str, Any]:
        origins = sorted(set(self.used) | {o for o, _ in self.held}, key=_origin_order)
        return {
            "used": sum(self.used.values()),
            "held_out": sum(self.held.values()),
            "by_origin": {
                o: {"used": self.used[o], "used_lures": self.used_lures[o],
                    "held_out": sum(n for (oo, _), n in self.held.items() if oo == o)}
                for o in origins
            },
            "by_reason": {
                reason: {o: n for (o, r), n in sorted(self.held.items(), key=lambda kv: _origin_order(kv[0][0]))
                         if r == reason}
                for reason in REASONS
                if any(r == reason for _, r in self.held)
            },
            "analyst_eval_modulus": ANALYST_EVAL_MODULUS,
        }


def _origin_order(name: str) -> tuple[int, str]:
    order = ["analyst", "imported", "fixture seed", "reference", "EMSCAD"]
    return next((i for i, prefix in enumerate(order) if name.startswith(prefix)), len(order)), name


def ledger_lines(summary: Mapping[str, Any]) -> list[str]:
    """The ledger as printed by ``lurewatch train`` and ``lurewatch models show``: one line per origin, then one
    line per reason a label was held out."""
    if not summary:
        return []
    lines = [f"labels: {summary['used']:,} used in training, {summary['held_out']:,} held out",
             f"  {'origin':<30}{'used':>8}{'lures':>8}{'held out':>10}"]
    for name, counts in summary["by_origin"].items():
        lines.append(f"  {name:<30}{counts['used']:>8,}{counts['used_lures']:>8,}{counts['held_out']:>10,}")
    if summary["by_reason"]:
        lines.append("held out, by reason:")
    for reason, per_origin in summary["by_reason"].items():
        parts = ", ".join(f"{o} {n:,}" for o, n in per_origin.items())
        lines.append(f"  {sum(per_origin.values()):>6,}  {reason}: {parts}")
    return lines
