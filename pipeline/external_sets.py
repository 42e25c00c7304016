"""Loaders for evaluation and training texts that lurewatch did not write.

The real-world sets live outside the repository, in a shared data folder (for real runs
``PROJECT_ROOT.parent / "shared" / "data"``; every function takes the folder as an argument and never reads
the environment). Read ``<shared>/real/README.md`` and each folder's ``PROVENANCE.md`` before using them:
some have no licence, several contain real phone numbers and explicit adult content. Never copy them into the
repository and never log their texts: report counts, not contents (:func:`describe`).

Two sources are owned by the project and are read from under the project root instead: ``challenge``
(``datasets/challenge/ads.jsonl``) and ``fixture_eval`` (the ``eval`` split of ``fixture_sites/data/ads.jsonl``).

Every source has a role. ``evaluation`` sources are for measuring only: never train, tune, select features or
pick thresholds on them. ``training`` sources may be trained on.

Common processing (:func:`load_report`): texts are stripped, empty texts dropped, exact duplicate texts within
a source dropped (the first occurrence is kept) and counted; rows without a known language get one from
:func:`features.language.detect_language` (``None`` when it cannot tell).

Selection rules of the sources that keep only part of a file:

``pracuj_eval`` / ``pracuj_train``
    ``pracuj_filtered.csv`` has 2,851 rows, but 2,004 of them carry a placeholder instead of an ad body in
    ``description``: the literal strings ``NA`` (1,008 rows) and ``NULL`` (996 rows). Every other description is
    a real ad body of at least 399 characters. The rule "stripped description is not ``NA``/``NULL``/empty and
    has at least :data:`PRACUJ_MIN_DESCRIPTION_CHARS` characters" keeps exactly those 847 rows. Odd ``id`` goes
    to ``pracuj_eval``, even ``id`` to ``pracuj_train``. 15 ad texts occur under both an odd and an even id
    (reposted ads); they stay in ``pracuj_eval`` and are removed from ``pracuj_train``
    (``LoadReport.dropped_overlap``), and so are the training ads that are near-duplicates of an evaluation ad
    (:data:`NEAR_DUPLICATE_OVERLAP`: one company's ads share their boilerplate), so that the training source never
    contains an evaluation text or a near-copy of one.

``tg_spam_work``
    182 spam lines; a line is a work / easy-earnings / job offer (:func:`is_work_offer`) when, after
    lower-casing and folding look-alike Latin, Greek and small-capital letters inside Cyrillic words to Cyrillic
    (spammers write "зapaбoткa" with Latin a, p, o: :func:`fold_lookalikes`):

    1. it is not one of the LLM-looking English group broadcasts the provenance note warns about
       (:func:`looks_llm_broadcast`: no Cyrillic, no link / handle / emoji, yet a call to action that points to
       a link it does not contain: "sign up here", "check out this link", "click here", "register here"...;
       in the pinned file exactly lines 33-47, "Hello travel lovers in this group!" ... "group gaming night");
    2. it is not about a topic that offers no work (:data:`NO_WORK_PATTERNS`: counterfeit money, intimate-photo
       bots, betting tips, giveaways, bank deposits, court news);
    3. and it either matches a *strong* job pattern (:data:`STRONG_JOB_PATTERNS`: the nouns работа / работу /
       работы / работе, подработ-, ваканс-, занятост-, трудов- деятельн-, "рабочих выходных / дней / график",
       набор (up to two words) людей / сотрудников / партнёров / в (up to two words) команду, набира-,
       ищу / ищем / нужен / нужна / нужны / требуется / требуются + (up to three words) люди / человек /
       сотрудник / партнёр / коллег / ассистент / курьер / водитель / менеджер / специалист / разнорабочие,
       поиск людей, заработная плата, зп; English: job(s), hiring, work from home, work online,
       people (are) needed), or a *weak* earnings word (:data:`WEAK_EARNINGS_PATTERNS`: заработ-, зарабат-,
       доход-, прибыл-; English: earn-, income). An English line that has only weak words counts only without
       investment vocabulary (:data:`INVESTMENT_PATTERNS`: invest, withdraw, broker, deposit, wallet, platform,
       crypto, bitcoin, trading, testimony, cash out, referral, registration): those are the
       crypto-investment testimonials that offer no work.

    Odd line numbers are evaluated (``tg_spam_work``); even ones may be trained on (``tg_spam_work_train``), minus
    near-duplicates of an evaluation line (spam is reposted with small edits).

    Plain "работать / работаю / работает" is deliberately not a job word (a speech teacher "учит работать с
    материалом", a counterfeiter "работаем по всей РФ"). On the pinned file the rule keeps 85 lines
    (79 distinct texts; the provenance note's "about 67" was a rough estimate): 3 English, the rest Russian.

``emscad_test``: all 467 rows; 3 of them repeat an earlier text (all fraudulent), so 464 rows remain
(216 lures). ``cvbankas``: text = ``h1`` + body text (the ``sections`` texts when ``body_text`` is empty).
``tg_ham`` / ``tg_ham_train``: ham lines shorter than :data:`TG_HAM_MIN_CHARS` characters (after stripping) are
skipped; odd line numbers are evaluated, even ones may be trained on (chat that offers no work).
``smishtank_jobs``: ``Message Categories == "Job Advertisement"``; text = ``MainText``, else ``Fulltext``.
``backpage_recruitment``: ``testing.csv`` rows with ``label == 4`` (sex-industry recruitment).
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from features.language import detect_language
from features.near_duplicates import cluster_ids
from features.textnorm import CYRILLIC, fold_lookalikes
from pipeline.folds import GROUPING_THRESHOLD

csv.field_size_limit(sys.maxsize)

EVALUATION = "evaluation"
TRAINING = "training"
ROLES = (EVALUATION, TRAINING)

PRACUJ_MIN_DESCRIPTION_CHARS = 200
PRACUJ_PLACEHOLDERS = frozenset({"", "NA", "NULL"})
TG_HAM_MIN_CHARS = 20
SMISHTANK_JOB_CATEGORY = "Job Advertisement"
BACKPAGE_RECRUITMENT_LABEL = "4"
CHALLENGE_LABELS = {"lure": 1, "legit": 0}
UNKNOWN_LANGUAGE = "unknown"  # key used by describe() for rows whose language is None


@dataclass(frozen=True, slots=True)
class LabelledText:
    text: str = field(repr=False)  # kept out of reprs: these texts hold real phone numbers and e-mails
    label: int  # 1 = lure / scam recruitment, 0 = legitimate
    source: str  # one of SOURCES
    language: str | None  # ISO 639-1 if known, else None
    ref: str  # stable id within the source (row id / file name / line number)


@dataclass(frozen=True)
class SourceSpec:
    name: str
    description: str
    role: str  # "evaluation" (never train, tune or pick thresholds on it) or "training"
    relative_path: str  # under shared_dir, or under the project root when project_owned
    project_owned: bool = False

    def path(self, shared_dir: Path, project_root: Path) -> Path:
        return (project_root if self.project_owned else shared_dir) / self.relative_path


class SourceUnavailable(Exception):
    """A source's file does not exist; the message names the missing path."""


@dataclass(frozen=True)
class LoadReport:
    """The rows of one source and what was left out on the way."""

    name: str
    path: Path
    rows: list[LabelledText] = field(repr=False)
    selected: int  # records that passed the source's selection rule
    dropped_empty: int  # selected records whose text was empty after stripping
    dropped_duplicates: int  # exact duplicate texts within the source (first occurrence kept)
    dropped_overlap: int = 0  # training rows whose text is (nearly) a text of their evaluation twin


SOURCES: dict[str, SourceSpec] = {
    spec.name: spec
    for spec in (
        SourceSpec(
            "emscad_test",
            "EMSCAD held-out test split (467 real English job ads, 219 fraudulent; lower-cased, stop words "
            "stripped upstream)",
            EVALUATION,
            "emscad/test.csv",
        ),
        SourceSpec(
            "cvbankas",
            "74 real cvbankas.lt job ads (Feb 2026), mostly Lithuanian, all legitimate",
            EVALUATION,
            "real/cvbankas-lt-html/cvbankas_jobs_extracted.jsonl",
        ),
        SourceSpec(
            "pracuj_eval",
            "pracuj.pl 2016 ads with a full description and an odd id (Polish / English), all legitimate",
            EVALUATION,
            "real/pracuj-pl-2016/pracuj_filtered.csv",
        ),
        SourceSpec(
            "pracuj_train",
            "pracuj.pl 2016 ads with a full description and an even id, minus texts also in pracuj_eval; "
            "all legitimate",
            TRAINING,
            "real/pracuj-pl-2016/pracuj_filtered.csv",
        ),
        SourceSpec(
            "tg_spam_work",
            "Telegram group spam that offers work or easy earnings (Russian / English; keyword rule), odd lines",
            EVALUATION,
            "real/tg-spam-ru/spam-samples.txt",
        ),
        SourceSpec(
            "tg_spam_work_train",
            "Telegram work / easy-earnings spam on even lines, minus near-duplicates of tg_spam_work texts",
            TRAINING,
            "real/tg-spam-ru/spam-samples.txt",
        ),
        SourceSpec(
            "tg_ham",
            "ordinary Russian Telegram chat messages (at least 20 characters) on odd lines, negatives",
            EVALUATION,
            "real/tg-spam-ru/ham-samples.txt",
        ),
        SourceSpec(
            "tg_ham_train",
            "ordinary Russian Telegram chat messages (at least 20 characters) on even lines: text that offers no "
            "work, negatives",
            TRAINING,
            "real/tg-spam-ru/ham-samples.txt",
        ),
        SourceSpec(
            "smishtank_jobs",
            "smishtank.com reported smishing SMS of category 'Job Advertisement' (task / part-time job scams)",
            EVALUATION,
            "real/smishtank-en/smishtank_dataset.csv",
        ),
        SourceSpec(
            "backpage_recruitment",
            "Backpage 2016 sex-industry recruitment ads (testing.csv, label 4)",
            EVALUATION,
            "real/dig-backpage-ads/testing.csv",
        ),
        SourceSpec(
            "challenge",
            "the project's frozen challenge set of lures and legitimate ads",
            EVALUATION,
            "datasets/challenge/ads.jsonl",
            project_owned=True,
        ),
        SourceSpec(
            "fixture_eval",
            "the 'eval' split of the fixture sites' ads (templates never used for training)",
            EVALUATION,
            "fixture_sites/data/ads.jsonl",
            project_owned=True,
        ),
    )
}


# --------------------------------------------------------------------------------------------- raw records


@dataclass(frozen=True, slots=True)
class _Record:
    ref: str
    text: str
    label: int
    language: str | None  # None: detect


def _read_csv(path: Path) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        yield from csv.DictReader(handle)


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, json.loads(line)


def _read_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, line without its line break)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        text = handle.read()
    for number, line in enumerate(text.split("\n"), start=1):
        yield number, line.removesuffix("\r")


def _join(*parts: str | None) -> str:
    return "\n".join(p.strip() for p in parts if p and p.strip())


def _require(row: dict[str, Any], key: str, path: Path, where: str) -> Any:
    if key not in row:
        raise ValueError(f"{path}: {where} has no field {key!r}")
    return row[key]


def _emscad(path: Path) -> Iterator[_Record]:
    for number, row in enumerate(_read_csv(path), start=1):
        label = _require(row, "fraudulent", path, f"row {number}").strip()
        if label not in ("0", "1"):
            raise ValueError(f"{path}: row {number} has fraudulent={label!r}, expected 0 or 1")
        yield _Record(str(number), row["text"], int(label), "en")


def _cvbankas(path: Path) -> Iterator[_Record]:
    for number, row in _read_jsonl(path):
        body = row.get("body_text") or ""
        if not body.strip():
            body = _join(*(s.get("text") for s in row.get("sections") or []))
        yield _Record(str(row.get("file") or number), _join(row.get("h1"), body), 0, None)


def has_full_description(description: str) -> bool:
    """The pracuj rule: a real ad body, not the ``NA`` / ``NULL`` placeholder of the other 2,004 rows."""
    text = description.strip()
    return text not in PRACUJ_PLACEHOLDERS and len(text) >= PRACUJ_MIN_DESCRIPTION_CHARS


def _pracuj(parity: int) -> Callable[[Path], Iterator[_Record]]:
    def load(path: Path) -> Iterator[_Record]:
        for number, row in enumerate(_read_csv(path), start=1):
            raw_id = _require(row, "id", path, f"row {number}").strip()
            if not raw_id.isdigit():
                raise ValueError(f"{path}: row {number} has a non-numeric id")
            if int(raw_id) % 2 == parity and has_full_description(row["description"]):
                yield _Record(raw_id, _join(row["position"], row["description"]), 0, None)

    return load


def _tg_spam_work(parity: int) -> Callable[[Path], Iterator[_Record]]:
    """Work offers of one line-number parity: odd lines are evaluated, even lines may be trained on."""

    def load(path: Path) -> Iterator[_Record]:
        for number, line in _read_lines(path):
            if number % 2 == parity and is_work_offer(line):
                yield _Record(str(number), line, 1, None)

    return load


def _tg_ham(parity: int) -> Callable[[Path], Iterator[_Record]]:
    """Chat lines of one line-number parity: odd lines are evaluated, even lines may be trained on."""

    def load(path: Path) -> Iterator[_Record]:
        for number, line in _read_lines(path):
            if number % 2 == parity and len(line.strip()) >= TG_HAM_MIN_CHARS:
                yield _Record(str(number), line, 0, None)

    return load


def _smishtank_jobs(path: Path) -> Iterator[_Record]:
    for number, row in enumerate(_read_csv(path), start=1):
        if (_require(row, "Message Categories", path, f"row {number}") or "").strip() == SMISHTANK_JOB_CATEGORY:
            text = (row.get("MainText") or "").strip() or (row.get("Fulltext") or "")
            yield _Record((row.get("messageid") or "").strip() or str(number), text, 1, "en")


def _backpage_recruitment(path: Path) -> Iterator[_Record]:
    for number, row in enumerate(_read_csv(path), start=1):
        if (_require(row, "label", path, f"row {number}") or "").strip() == BACKPAGE_RECRUITMENT_LABEL:
            yield _Record(str(number), row.get("extracted_text") or "", 1, "en")


def _challenge(path: Path) -> Iterator[_Record]:
    for number, row in _read_jsonl(path):
        label = _require(row, "label", path, f"line {number}")
        if label not in CHALLENGE_LABELS:
            raise ValueError(f"{path}: line {number} has label {label!r}, expected one of {sorted(CHALLENGE_LABELS)}")
        ref = str(_require(row, "id", path, f"line {number}"))
        yield _Record(ref, _require(row, "text", path, f"line {number}") or "", CHALLENGE_LABELS[label],
                      row.get("lang") or None)


def _fixture_eval(path: Path) -> Iterator[_Record]:
    for number, row in _read_jsonl(path):
        if row.get("split") != "eval":
            continue
        label = _require(row, "label", path, f"line {number}")
        if label not in (0, 1):
            raise ValueError(f"{path}: line {number} has label {label!r}, expected 0 or 1")
        site = _require(row, "site", path, f"line {number}")
        ref = _require(row, "ref", path, f"line {number}")
        yield _Record(f"{site}:{ref}", _join(row.get("title"), row.get("body")), int(label), row.get("lang") or None)


_READERS: dict[str, Callable[[Path], Iterator[_Record]]] = {
    "emscad_test": _emscad,
    "cvbankas": _cvbankas,
    "pracuj_eval": _pracuj(1),
    "pracuj_train": _pracuj(0),
    "tg_spam_work": _tg_spam_work(1),
    "tg_spam_work_train": _tg_spam_work(0),
    "tg_ham": _tg_ham(1),
    "tg_ham_train": _tg_ham(0),
    "smishtank_jobs": _smishtank_jobs,
    "backpage_recruitment": _backpage_recruitment,
    "challenge": _challenge,
    "fixture_eval": _fixture_eval,
}
assert set(_READERS) == set(SOURCES)

# sources whose rows must not share a text with another source's rows (training vs its evaluation twin)
_EXCLUDE_TEXTS_OF: dict[str, str] = {"pracuj_train": "pracuj_eval", "tg_spam_work_train": "tg_spam_work"}
# a training row that is a near-duplicate of an evaluation row (the threshold that groups templates in
# cross-validation) is dropped: spam is reposted with small edits, a company repeats its boilerplate in every ad, and
# a near-copy on both sides would grade the model on a text it has seen
NEAR_DUPLICATE_OVERLAP = GROUPING_THRESHOLD


# ------------------------------------------------------------------------------------ tg_spam_work rule

_CYRILLIC = CYRILLIC


def _compile(patterns: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


_W = r"(?<!\w)"  # start of a word
STRONG_JOB_PATTERNS = (
    _W + r"работ[аеуы](?!\w)",
    _W + r"подработ",
    _W + r"ваканс",
    _W + r"занятост",
    _W + r"трудов\w*\s+деятельн",
    _W + r"набор\w*\s+(?:[\w-]+\s+){0,2}?(?:в\s+(?:[\w-]+\s+){0,2}?команд|людей|сотрудник|партн)",
    _W + r"рабоч(?:ий|его|их|ие)\s+(?:выходн|дн|граф|мест|смен)",
    _W + r"набира",
    _W + r"(?:ищу|ищем|нужен|нужна|нужны|требуе?тся|требуются)\s+(?:[\w-]+\s+){0,3}?"
    r"(?:люд|человек|сотрудник|партн[её]р|коллег|ассистент|курьер|водител|менеджер|специалист|разнораб)",
    _W + r"поиск\w*\s+людей",
    _W + r"заработн\w*\s+плат",
    _W + r"зп(?!\w)",
    r"\bjobs?\b",
    r"\bhiring\b",
    r"\bwork (?:from home|online)\b",
    r"\bpeople (?:are )?needed\b",
)
WEAK_EARNINGS_PATTERNS = (
    _W + r"заработ", _W + r"зарабат", _W + r"доход", _W + r"прибыл", r"\bearn", r"\bincome\b",
)
INVESTMENT_PATTERNS = (
    r"invest", r"withdraw", r"broker", r"deposit", r"wallet", r"platform", r"crypto", r"bitcoin", r"trading",
    r"testimon", r"cash ?out", r"referral", r"registration",
)
NO_WORK_PATTERNS = (
    _W + r"фальш", _W + r"поддел", _W + r"купюр",  # counterfeit money
    _W + r"интим", _W + r"обнаж", _W + r"гол\w*\s+фот", r"без\s+тр?усик",  # intimate-photo bots
    _W + r"ставим", _W + r"ставлю", _W + r"прогноз", _W + r"тотал",  # betting tips
    _W + r"розыгр", _W + r"разыгр", r"\bgiveaway",  # giveaways
    _W + r"вклад",  # bank deposits
    _W + r"присяжн",  # court news
)
_STRONG_RE = _compile(STRONG_JOB_PATTERNS)
_WEAK_RE = _compile(WEAK_EARNINGS_PATTERNS)
_INVESTMENT_RE = _compile(INVESTMENT_PATTERNS)
_NO_WORK_RE = _compile(NO_WORK_PATTERNS)

_LINK_RE = re.compile(r"https?://|www\.|t\.me/|@\w|\.(?:com|ltd|ru|in|org|net)\b")
_EMOJI_RE = re.compile("[\u2600-\u27bf\U0001f000-\U0001faff]")
_CALL_TO_A_MISSING_LINK_RE = re.compile(
    r"\b(?:sign(?:ing)? up|register|reserve|book|submit|donate|join|grab|head over|claim|check out|click)\b"
    r"[^.!?]{0,60}?\b(?:here|this link)\b"
)


def looks_llm_broadcast(folded: str) -> bool:
    """An English group broadcast ("Sign up here", "through this link") that contains no link at all."""
    return (
        not _CYRILLIC.search(folded)
        and not _LINK_RE.search(folded)
        and not _EMOJI_RE.search(folded)
        and bool(_CALL_TO_A_MISSING_LINK_RE.search(folded))
    )


def is_work_offer(line: str) -> bool:
    """The ``tg_spam_work`` rule (see the module docstring)."""
    folded = fold_lookalikes(line.strip())
    if not folded or looks_llm_broadcast(folded) or _NO_WORK_RE.search(folded):
        return False
    if _STRONG_RE.search(folded):
        return True
    if not _WEAK_RE.search(folded):
        return False
    return bool(_CYRILLIC.search(folded)) or not _INVESTMENT_RE.search(folded)


# --------------------------------------------------------------------------------------------- public API


def _detect(text: str) -> str | None:
    code, confidence = detect_language(text)
    return code if confidence > 0.0 else None


def source_path(name: str, shared_dir: Path, project_root: Path) -> Path:
    return _spec(name).path(shared_dir, project_root)


def _spec(name: str) -> SourceSpec:
    try:
        return SOURCES[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r}; known: {', '.join(SOURCES)}") from None


def _check_exists(spec: SourceSpec, shared_dir: Path, project_root: Path) -> Path:
    path = spec.path(shared_dir, project_root)
    if not path.is_file():
        where = "the project root" if spec.project_owned else "the shared data folder"
        base = project_root if spec.project_owned else shared_dir
        raise SourceUnavailable(f"source {spec.name!r} is unavailable: missing file {path} ({where}: {base})")
    return path


def _dedup(records: Iterable[_Record]) -> tuple[list[_Record], int, int, int]:
    """(kept records with stripped texts, selected, dropped empty, dropped duplicates)."""
    kept: list[_Record] = []
    seen: set[str] = set()
    selected = empty = duplicates = 0
    for record in records:
        selected += 1
        text = record.text.strip()
        if not text:
            empty += 1
        elif text in seen:
            duplicates += 1
        else:
            seen.add(text)
            kept.append(_Record(record.ref, text, record.label, record.language))
    return kept, selected, empty, duplicates


def _without_near_duplicates(kept: list[_Record], others: Sequence[str]) -> list[_Record]:
    """``kept`` minus the records that are near-duplicates of one of ``others``."""
    if not kept or not others:
        return kept
    clusters = cluster_ids(list(others) + [r.text for r in kept], NEAR_DUPLICATE_OVERLAP)
    taken = {int(c) for c in clusters[: len(others)]}
    return [r for r, c in zip(kept, clusters[len(others):], strict=True) if int(c) not in taken]


def load_report(name: str, shared_dir: Path, project_root: Path) -> LoadReport:
    """The rows of one source with the counts of what was dropped; :class:`SourceUnavailable` if its file is missing."""
    spec = _spec(name)
    path = _check_exists(spec, shared_dir, project_root)
    kept, selected, empty, duplicates = _dedup(_READERS[name](path))
    overlap = 0
    if name in _EXCLUDE_TEXTS_OF:
        other = _EXCLUDE_TEXTS_OF[name]
        other_texts = {r.text for r in _dedup(_READERS[other](_check_exists(SOURCES[other], shared_dir,
                                                                                project_root)))[0]}
        before = len(kept)
        kept = [r for r in kept if r.text not in other_texts]
        kept = _without_near_duplicates(kept, sorted(other_texts))
        overlap = before - len(kept)
    rows = [
        LabelledText(r.text, r.label, name, r.language if r.language is not None else _detect(r.text), r.ref)
        for r in kept
    ]
    return LoadReport(name, path, rows, selected, empty, duplicates, overlap)


def load_source(name: str, shared_dir: Path, project_root: Path) -> list[LabelledText]:
    """The rows of one source (stripped, non-empty, exact duplicates removed); see :func:`load_report`."""
    return load_report(name, shared_dir, project_root).rows


def available_sources(shared_dir: Path, project_root: Path) -> list[str]:
    """Names of the sources whose file exists, in :data:`SOURCES` order."""
    return [name for name, spec in SOURCES.items() if spec.path(shared_dir, project_root).is_file()]


def sources_with_role(role: str) -> list[str]:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {ROLES}")
    return [name for name, spec in SOURCES.items() if spec.role == role]


def describe(rows: Sequence[LabelledText]) -> dict[str, Any]:
    """Counts only (never texts): total, by label, by language, by (label, language) and by source."""
    by_label = Counter(r.label for r in rows)
    by_language = Counter(r.language or UNKNOWN_LANGUAGE for r in rows)
    by_pair = Counter((r.label, r.language or UNKNOWN_LANGUAGE) for r in rows)
    return {
        "n": len(rows),
        "lures": by_label.get(1, 0),
        "legit": by_label.get(0, 0),
        "by_label": dict(sorted(by_label.items())),
        "by_language": dict(sorted(by_language.items())),
        "by_label_language": {f"{label}/{lang}": n for (label, lang), n in sorted(by_pair.items())},
        "by_source": dict(sorted(Counter(r.source for r in rows).items())),
    }
