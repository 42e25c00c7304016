"""Load lure lexicons (JSONL of spaCy Matcher patterns) and compile them for fast matching.

Each line of ``features/lexicons/<lang>.jsonl`` is
``{"id": "lv-upfront_fee-003", "label": "upfront_fee", "pattern": [<spaCy token specs>]}``.
Labels ``neg:<indicator>`` mark cancelling phrases ("no registration fee", "bez maksas"): they
suppress matches of that indicator that overlap them or follow closely (see components).
Token specs on ``LOWER`` (exact string, ``IN`` list, or a ``REGEX`` that is an alternation of
literal prefixes such as ``"^(?:bezmaks|nav$)"``) are rewritten to equality tests on ``NORM``
(see :mod:`features.textnorm`); anything else is passed to the Matcher unchanged.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from features.taxonomy import INDICATORS
from features.textnorm import StemNormalizer

LEXICON_DIR = Path(__file__).with_name("lexicons")

TokenSpec = dict[str, Any]
NEG_PREFIX = "neg:"  # label prefix of cancelling patterns, e.g. "neg:upfront_fee" ("no fees")
_LITERAL_RE = re.compile(r"^(?:[^\\()\[\]{}*+?.|^$]|\\\.)+\$?$")


@dataclass(frozen=True, slots=True)
class LexiconEntry:
    id: str
    label: str
    pattern: list[TokenSpec]


@dataclass(frozen=True, slots=True)
class CompiledLexicon:
    entries: tuple[LexiconEntry, ...]
    normalizer: StemNormalizer
    patterns: dict[str, list[list[TokenSpec]]]  # pattern id -> Matcher pattern variants


def lexicon_path(lang: str, directory: Path = LEXICON_DIR) -> Path:
    return directory / f"{lang}.jsonl"


def load_entries(path: Path) -> tuple[LexiconEntry, ...]:
    entries: list[LexiconEntry] = []
    seen: set[str] = set()
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        d = json.loads(line)
        entry = LexiconEntry(id=str(d["id"]), label=str(d["label"]), pattern=list(d["pattern"]))
        if entry.label not in INDICATORS and entry.label.removeprefix(NEG_PREFIX) not in INDICATORS:
            raise ValueError(f"{path}:{lineno}: unknown indicator {entry.label!r}")
        if entry.id in seen:
            raise ValueError(f"{path}:{lineno}: duplicate pattern id {entry.id!r}")
        if not entry.pattern:
            raise ValueError(f"{path}:{lineno}: empty pattern")
        seen.add(entry.id)
        entries.append(entry)
    return tuple(entries)


def _regex_alternatives(regex: str) -> list[tuple[str, bool]] | None:
    """``"^(?:ab|cd$)"`` -> [("ab", False), ("cd", True)]; None when not a literal-prefix regex."""
    if not regex.startswith("^"):
        return None
    body = regex[1:]
    if body.startswith("(?:") and body.endswith(")"):
        body = body[3:-1]
    alts = body.split("|")
    if not all(_LITERAL_RE.match(a) for a in alts):
        return None
    return [(a.rstrip("$").replace("\\.", "."), a.endswith("$")) for a in alts]


def _collect_words(entries: tuple[LexiconEntry, ...]) -> tuple[set[str], set[str]]:
    stems: set[str] = set()
    exact: set[str] = set()
    for entry in entries:
        for tok in entry.pattern:
            low = tok.get("LOWER")
            if isinstance(low, str):
                exact.add(low)
            elif isinstance(low, dict):
                if "IN" in low:
                    exact.update(low["IN"])
                elif "REGEX" in low:
                    for word, is_exact in _regex_alternatives(low["REGEX"]) or []:
                        (exact if is_exact else stems).add(word)
    return stems, exact


def _convert_token(tok: TokenSpec, norm: StemNormalizer) -> TokenSpec:
    low = tok.get("LOWER")
    if low is None:
        return dict(tok)
    out = {k: v for k, v in tok.items() if k != "LOWER"}
    keys: set[str] = set()
    if isinstance(low, str):
        keys.add(norm.exact_key(low))
    elif isinstance(low, dict) and "IN" in low:
        keys.update(norm.exact_key(w) for w in low["IN"])
    elif isinstance(low, dict) and "REGEX" in low:
        alts = _regex_alternatives(low["REGEX"])
        if alts is None:
            return dict(tok)
        for word, is_exact in alts:
            if is_exact:
                keys.add(norm.exact_key(word))
            else:
                keys.update(norm.prefix_keys(word))
    else:
        return dict(tok)
    out["NORM"] = next(iter(keys)) if len(keys) == 1 else {"IN": sorted(keys)}
    return out


def _expand_first(pattern: list[TokenSpec]) -> list[list[TokenSpec]]:
    """Make every variant start with a required plain-equality token (fast in the Matcher)."""
    if not pattern:
        return []
    first, rest = pattern[0], pattern[1:]
    op = first.get("OP")
    if op in ("?", "*") or (isinstance(op, str) and op.startswith("{0,")):
        if op != "?":
            return _expand_first(rest)  # leading wildcards add nothing to a match
        required = {k: v for k, v in first.items() if k != "OP"}
        return _expand_first([required, *rest]) + _expand_first(rest)
    norm = first.get("NORM")
    if isinstance(norm, dict) and "IN" in norm:
        base = {k: v for k, v in first.items() if k != "NORM"}
        return [[{**base, "NORM": key}, *rest] for key in norm["IN"]]
    return [pattern]


def compile_lexicon(entries: tuple[LexiconEntry, ...]) -> CompiledLexicon:
    stems, exact = _collect_words(entries)
    normalizer = StemNormalizer(stems, exact)
    patterns: dict[str, list[list[TokenSpec]]] = {}
    for entry in entries:
        converted = [_convert_token(t, normalizer) for t in entry.pattern]
        variants = _expand_first(converted)
        if not variants:
            raise ValueError(f"pattern {entry.id} has no required token")
        patterns[entry.id] = variants
    return CompiledLexicon(entries=entries, normalizer=normalizer, patterns=patterns)
