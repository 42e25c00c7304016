"""Pure-Python matcher for the simple token patterns of the lure lexicons.

spaCy's ``Matcher`` costs O(tokens x patterns) plus a per-call Python overhead per token, which
dominated extraction time. Lexicon patterns (after :mod:`features.lexicon` rewrote them) only use
NORM/ORTH equality or ``IN`` sets, ``LIKE_NUM``/``IS_PUNCT`` flags, ``"?"`` and ``{0,N}``
wildcards, and always start with a required NORM equality. Such patterns are indexed by their
first NORM and tried only where that NORM occurs. Any other pattern is left to spaCy's Matcher
(see :class:`features.components.LureRuler`); tests check both engines agree.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from spacy.attrs import IS_PUNCT, LIKE_NUM, NORM, ORTH
from spacy.strings import StringStore
from spacy.tokens import Doc

ATTRS: tuple[int, ...] = (NORM, ORTH, LIKE_NUM, IS_PUNCT)
_COL = {"NORM": 0, "ORTH": 1, "LIKE_NUM": 2, "IS_PUNCT": 3}
_WILDCARD_OP = re.compile(r"^\{0?,(\d+)\}$")
WILDCARD = -1


@dataclass(frozen=True, slots=True)
class TokenTest:
    column: int  # index into ATTRS, or WILDCARD
    values: frozenset[int]  # accepted attribute values (hashes / 1 for flags)
    optional: bool
    max_skip: int = 0  # wildcards only


Compiled = tuple[TokenTest, ...]


def compile_variant(variant: list[dict[str, Any]], strings: StringStore) -> Compiled | None:
    """TokenTests for one Matcher pattern, or None when it uses anything unsupported."""
    out: list[TokenTest] = []
    for spec in variant:
        op = spec.get("OP")
        attrs = {k: v for k, v in spec.items() if k != "OP"}
        if not attrs:
            m = _WILDCARD_OP.match(op or "")
            if m is None:
                return None
            out.append(TokenTest(WILDCARD, frozenset(), True, int(m.group(1))))
            continue
        if op not in (None, "?") or len(attrs) != 1:
            return None
        ((key, value),) = attrs.items()
        if key not in _COL:
            return None
        col = _COL[key]
        if key in ("LIKE_NUM", "IS_PUNCT"):
            if value is not True:
                return None
            values = frozenset({1})
        elif isinstance(value, str):
            values = frozenset({strings.add(value)})
        elif isinstance(value, dict) and set(value) == {"IN"}:
            values = frozenset(strings.add(v) for v in value["IN"])
        else:
            return None
        out.append(TokenTest(col, values, op == "?"))
    if not out or out[0].column != _COL["NORM"] or out[0].optional or len(out[0].values) != 1:
        return None
    return tuple(out)


class _Columns:
    """Token attribute columns of a doc; NORM eagerly, the others on first use."""

    __slots__ = ("_cols", "doc", "n")

    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        self.n = len(doc)
        self._cols: list[list[int] | None] = [doc.to_array(NORM).tolist(), None, None, None]

    def get(self, column: int) -> list[int]:
        col = self._cols[column]
        if col is None:
            for i, values in enumerate(self.doc.to_array(list(ATTRS[1:])).T.tolist(), 1):
                self._cols[i] = values
            col = self._cols[column]
            assert col is not None
        return col


def _longest_end(tests: Compiled, ti: int, pos: int, cols: _Columns) -> int:
    """Largest end offset of a match of tests[ti:] starting at token pos; -1 if none."""
    if ti == len(tests):
        return pos
    t = tests[ti]
    n = cols.n
    best = -1
    if t.column == WILDCARD:
        for skip in range(min(t.max_skip, n - pos) + 1):
            end = _longest_end(tests, ti + 1, pos + skip, cols)
            if end > best:
                best = end
        return best
    if pos < n and cols.get(t.column)[pos] in t.values:
        best = _longest_end(tests, ti + 1, pos + 1, cols)
    if t.optional:
        end = _longest_end(tests, ti + 1, pos, cols)
        if end > best:
            best = end
    return best


class FastMatcher:
    """Index of compiled patterns by first-token NORM."""

    def __init__(self) -> None:
        self._index: dict[int, list[tuple[str, Compiled]]] = defaultdict(list)
        self._size = 0

    def add(self, pattern_id: str, compiled: Compiled) -> None:
        first = next(iter(compiled[0].values))
        self._index[first].append((pattern_id, compiled))
        self._size += 1

    def __len__(self) -> int:
        return self._size

    def __call__(self, doc: Doc) -> list[tuple[str, int, int]]:
        """(pattern id, start token, end token): the longest match per pattern and start."""
        if not len(doc):
            return []
        cols = _Columns(doc)
        index = self._index
        hits: list[tuple[str, int, int]] = []
        for i, norm in enumerate(cols.get(0)):
            cands = index.get(norm)
            if cands is None:
                continue
            for pid, tests in cands:
                end = _longest_end(tests, 1, i + 1, cols)
                if end > i:
                    hits.append((pid, i, end))
        return hits
