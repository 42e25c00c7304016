"""Build (once per language) the blank spaCy pipeline used for lure matching."""

from __future__ import annotations

import threading

import spacy
from spacy.language import Language

import features.components  # noqa: F401  (registers the "lure_ruler" factory)
from features.schema import SUPPORTED_LANGUAGES

MAX_DOC_CHARS = 20_000_000
TOKENIZER_CACHE = 1_000_000

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
