"""Compact authoring syntax for lure lexicons, compiled to the JSONL Matcher patterns.

Source: ``features/lexicons/src/<lang>.txt``, one pattern per line ``<indicator>: <tokens>``.
Token syntax (space separated):

* ``word``        exact lower-case word           -> ``{"LOWER": "word"}``
* ``stem*``       any word starting with ``stem``  -> ``{"LOWER": {"REGEX": "^stem"}}``
* ``a|b*|c``      alternatives of the above
* ``?tok``        optional token                   -> ``"OP": "?"``
* ``_N``          up to N arbitrary tokens         -> ``{"OP": "{0,N}"}``
* ``<MACRO>``     see :data:`MACROS` (numbers, ages, punctuation)

A label ``neg:<indicator>`` declares a cancelling phrase (e.g. ``neg:upfront_fee: no fee*``).

Ids are ``<lang>-<indicator>-<NNN>`` numbered per indicator in file order.
Regenerate with ``python -m features.lexicon_dsl`` (all languages).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from features.lexicon import LEXICON_DIR, NEG_PREFIX
from features.schema import SUPPORTED_LANGUAGES
from features.taxonomy import INDICATORS

SRC_DIR = LEXICON_DIR / "src"

_BUCKETS = ("num:100", "num:500", "num:1k", "num:3k", "num:10k", "num:100k")


def _num_from(bucket: str) -> dict[str, Any]:
    return {"NORM": {"IN": list(_BUCKETS[_BUCKETS.index(bucket) :])}}


def _ints(lo: int, hi: int) -> dict[str, Any]:
    return {"NORM": {"IN": [f"n:{i}" for i in range(lo, hi + 1)]}}


MACROS: dict[str, dict[str, Any]] = {
    "NUM": {"LIKE_NUM": True},
    "N100+": _num_from("num:100"),
    "N500+": _num_from("num:500"),
    "N1K+": _num_from("num:1k"),
    "N3K+": _num_from("num:3k"),
    "N10K+": _num_from("num:10k"),
    "N100K+": _num_from("num:100k"),
    "THOU": {"NORM": "n:000"},
    "SMALLINT": _ints(1, 99),
    "INT3-99": _ints(3, 99),
    "AGE_MINOR": _ints(13, 17),
    "AGE_LO": _ints(16, 25),
    "AGE_HI": _ints(18, 35),
    "AGE_CAP": _ints(20, 35),
    "RNG_YOUNG": {"NORM": "rng:young"},
    "AGEW_MINOR": {"NORM": {"IN": [f"age:{i}" for i in range(13, 18)]}},
    "AGEW_HI": {"NORM": {"IN": [f"age:{i}" for i in range(18, 36)]}},
    "AGEW_RNG_YOUNG": {"NORM": "agerng:young"},
    "PUNCT": {"IS_PUNCT": True},
    "DASH": {"ORTH": {"IN": ["-", "–", "—"]}},
    "CUR": {
        "LOWER": {
            "IN": [
                "€",
                "eur",
                "euro",
                "eiro",
                "eur.",
                "zł",
                "zl",
                "pln",
                "$",
                "usd",
                "£",
                "руб",
                "руб.",
                "р.",
                "₽",
                "рублей",
                "евро",
                "nok",
                "sek",
            ]
        }
    },
}

_STEM_OK = re.compile(r"^[^\\()\[\]{}*+?|^$]+$")


def compile_token(tok: str) -> dict[str, Any]:
    optional = tok.startswith("?") and len(tok) > 1
    if optional:
        tok = tok[1:]
    if re.fullmatch(r"_\d+", tok):
        spec: dict[str, Any] = {"OP": f"{{0,{tok[1:]}}}"}
        if optional:
            raise ValueError("wildcards are optional already")
        return spec
    if tok.startswith("<") and tok.endswith(">"):
        spec = json.loads(json.dumps(MACROS[tok[1:-1]]))
    else:
        alts = tok.split("|")
        if any(a.startswith("<") or a.startswith("?") for a in alts):
            raise ValueError(f"macros and '?' cannot be used inside alternatives: {tok!r}")
        if any(a.endswith("*") for a in alts):
            parts = []
            for a in alts:
                word = a.rstrip("*").lower()
                if not _STEM_OK.match(word):
                    raise ValueError(f"stem alternative {a!r} contains regex metacharacters")
                word = word.replace(".", "\\.")
                parts.append(word if a.endswith("*") else word + "$")
            regex = "^" + parts[0] if len(parts) == 1 else "^(?:" + "|".join(parts) + ")"
            spec = {"LOWER": {"REGEX": regex}}
        elif len(alts) == 1:
            spec = {"LOWER": alts[0].lower()}
        else:
            spec = {"LOWER": {"IN": [a.lower() for a in alts]}}
    if optional:
        spec["OP"] = "?"
    return spec


def compile_source(lang: str, text: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    counters: dict[str, int] = dict.fromkeys(INDICATORS, 0)
    counters.update({NEG_PREFIX + i: 0 for i in INDICATORS})
    errors: list[str] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        label, sep, body = line.partition(": ")
        label = label.strip()
        if not sep or label not in counters:
            raise ValueError(f"{lang}.txt:{lineno}: expected '<indicator>: tokens', got {raw!r}")
        counters[label] += 1
        pattern = [compile_token(t) for t in body.split()]
        required = sum(1 for t in pattern if "OP" not in t)
        if len(pattern) > 1 and required < 2:
            errors.append(f"{lang}.txt:{lineno}: multi-token pattern needs >= 2 required tokens: {raw!r}")
        slug = label.replace(NEG_PREFIX, "neg_")
        out.append({"id": f"{lang}-{slug}-{counters[label]:03d}", "label": label, "pattern": pattern})
    if errors:
        raise ValueError("\n".join(errors))
    return out


def render_jsonl(entries: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries)


def build(lang: str, src_dir: Path = SRC_DIR, out_dir: Path = LEXICON_DIR) -> Path:
    entries = compile_source(lang, (src_dir / f"{lang}.txt").read_text(encoding="utf-8"))
    out = out_dir / f"{lang}.jsonl"
    out.write_text(render_jsonl(entries), encoding="utf-8")
    return out


def main(argv: list[str]) -> int:
    for lang in argv or SUPPORTED_LANGUAGES:
        path = build(lang)
        print(f"{path}: {sum(1 for _ in path.open(encoding='utf-8'))} patterns")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
