"""Build (once per language) the blank spaCy pipeline used for lure matching."""

from __future__ import annotations

import threading

import spacy
from spacy.language import Language
from spacy.util import compile_infix_regex

import features.components  # noqa: F401  (registers the "lure_ruler" factory)
from features.schema import SUPPORTED_LANGUAGES

MAX_DOC_CHARS = 20_000_000
TOKENIZER_CACHE = 1_000_000
# "1000–1500 €", "400-1500": a pay range is two amounts, not one token that no number pattern recognises (spaCy splits a
# hyphen between digits in some languages only, an en or em dash in none). Two-digit ranges ("18–25") stay one token:
# the lexicons read them as age ranges.
NUMBER_RANGE_INFIX = r"(?<=[0-9]{3})[-–—](?=[0-9]{3})"

_lock = threading.Lock()
_cache: dict[str, Language] = {}


def build_nlp(lang: str) -> Language:
    """A fresh blank pipeline for ``lang`` with the lure_ruler component."""
    if lang not in SUPPORTED_LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; expected one of {SUPPORTED_LANGUAGES}")
    nlp = spacy.blank(lang)
    nlp.max_length = MAX_DOC_CHARS
    if hasattr(nlp.tokenizer, "max_cache_size"):
        nlp.tokenizer.max_cache_size = TOKENIZER_CACHE
    nlp.tokenizer.infix_finditer = compile_infix_regex([*nlp.Defaults.infixes, NUMBER_RANGE_INFIX]).finditer
    nlp.add_pipe("lure_ruler")
    return nlp


def get_nlp(lang: str) -> Language:
    """Process-wide shared pipeline for ``lang`` (built lazily, thread-safe)."""
    nlp = _cache.get(lang)
    if nlp is None:
        with _lock:
            nlp = _cache.get(lang)
            if nlp is None:
                nlp = _cache[lang] = build_nlp(lang)
    return nlp
