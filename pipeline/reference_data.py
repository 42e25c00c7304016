"""Labelled ads for training that do not come from the warehouse: the hand-written multilingual training corpus
(``datasets/training_corpus/*.jsonl``), the pracuj.pl ads with an even ``id`` (real legitimate Polish and English
ads), the even lines of the real Telegram chat (Russian text that offers no work) and the work offers on even lines
of the real Telegram spam (real Russian "easy earnings" lures); the odd ids and lines are kept for evaluation, and
training rows that are near-copies of an evaluation row are left out (:mod:`pipeline.external_sets`).

Neither the challenge set, nor cvbankas.lt, nor the EMSCAD test split, nor the SMS and Backpage scam messages are
ever read here: they are for evaluation only.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from pipeline.evaluation_set import emscad_split, fixture_examples
from pipeline.external_sets import SourceUnavailable, load_source
from pipeline.training_data import Example, emscad_examples

_PROJECT_ROOT = Path(__file__).resolve().parents[1]
CORPUS_SOURCE = "corpus"
PRACUJ_SOURCE = "pracuj"
CHAT_SOURCE = "chat"
SPAM_SOURCE = "tg_spam"


def corpus_examples(corpus_dir: Path) -> list[Example]:
    """Every ad of the training corpus (``label`` "lure" or "legit"), grouped by its kind for cross-validation."""
    files = sorted(corpus_dir.glob("*.jsonl"))
    if not files:
        raise FileNotFoundError(f"no training corpus (*.jsonl) in {corpus_dir}")
    examples: list[Example] = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                label = {"lure": 1, "legit": 0}[row["label"]]
                text = str(row["text"]).strip()
            except (ValueError, KeyError) as exc:
                raise ValueError(f"{path}:{number}: not a training-corpus row ({exc})") from exc
            if text:
                examples.append(Example(text=text, label=label, source=CORPUS_SOURCE, language=row.get("lang"),
                                        site=CORPUS_SOURCE, external_id=str(row.get("id", f"{path.stem}:{number}"))))
    return examples


SHARED_TRAINING_SOURCES = {
    "pracuj_train": PRACUJ_SOURCE,
    "tg_ham_train": CHAT_SOURCE,
    "tg_spam_work_train": SPAM_SOURCE,
}


def shared_examples(shared_dir: Path, name: str) -> list[Example]:
    """A training source of the shared data folder (pracuj.pl even ids, the even lines of the Telegram chat)."""
    source = SHARED_TRAINING_SOURCES[name]
    rows = load_source(name, shared_dir, _PROJECT_ROOT)  # a shared-data source: the project root is not read
    return [Example(text=r.text, label=r.label, source=source, language=r.language, site=source,
                    external_id=r.ref) for r in rows]


def reference_examples(corpus_dir: Path | None, shared_dir: Path | None) -> list[Example]:
    """The training corpus and, where the shared data folder is present, its training halves."""
    examples = corpus_examples(corpus_dir) if corpus_dir is not None else []
    if shared_dir is not None:
        for name in SHARED_TRAINING_SOURCES:
            # a deployment without the shared research data trains on the corpus alone
            with contextlib.suppress(SourceUnavailable):
                examples += shared_examples(shared_dir, name)
    return examples


def standalone_training_examples(emscad_csv: Path, corpus_dir: Path, shared_dir: Path) -> list[Example]:
    """What a first model trains on in a warehouse holding only the fixture's ``train`` labels, without the
    warehouse: those labels, EMSCAD minus its frozen fifth, and :func:`reference_examples` (benchmarks, tests)."""
    emscad = emscad_split(emscad_examples(emscad_csv))[0]
    return fixture_examples("train") + emscad + reference_examples(corpus_dir, shared_dir)
