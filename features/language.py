"""Language identification restricted to SUPPORTED_LANGUAGES (lingua, built once)."""

from __future__ import annotations

import re
import threading

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

from features.schema import SUPPORTED_LANGUAGES

FALLBACK_LANGUAGE = "en"
SAMPLE_CHARS = 400  # detection looks at a prefix only: ads are single-language, cost grows with length

_ISO_TO_LINGUA: dict[str, Language] = {
    "en": Language.ENGLISH,
    "lv": Language.LATVIAN,
    "lt": Language.LITHUANIAN,
    "fi": Language.FINNISH,
    "et": Language.ESTONIAN,
    "pl": Language.POLISH,
    "ru": Language.RUSSIAN,
}
_LINGUA_TO_ISO: dict[Language, str] = {v: k for k, v in _ISO_TO_LINGUA.items()}
_LETTER_RE = re.compile(r"[^\W\d_]")
_CYRILLIC_RE = re.compile(r"[\u0400-\u04ff]")
CYRILLIC_SHORTCUT = 0.6  # Russian is the only Cyrillic-script language we support

_detector: LanguageDetector | None = None
_lock = threading.Lock()


def get_detector() -> LanguageDetector:
    """Module-level lazy singleton (building loads language models)."""
    global _detector
    if _detector is None:
        with _lock:
            if _detector is None:
                langs = [_ISO_TO_LINGUA[c] for c in SUPPORTED_LANGUAGES]
                _detector = LanguageDetectorBuilder.from_languages(*langs).with_low_accuracy_mode().build()
    return _detector


def lingua_to_iso(language: Language) -> str:
    return _LINGUA_TO_ISO.get(language, FALLBACK_LANGUAGE)


def detect_language(text: str) -> tuple[str, float]:
    """(ISO 639-1 code, confidence in [0, 1]); ("en", 0.0) for empty/undetectable text."""
    sample = text[:SAMPLE_CHARS]
    n_letters = len(_LETTER_RE.findall(sample))
    if not n_letters:
        return FALLBACK_LANGUAGE, 0.0
    cyrillic = len(_CYRILLIC_RE.findall(sample)) / n_letters
    if cyrillic >= CYRILLIC_SHORTCUT:
        return "ru", cyrillic
    values = get_detector().compute_language_confidence_values(sample)
    if not values or values[0].value <= 0.0:
        return FALLBACK_LANGUAGE, 0.0
    best = values[0]
    return _LINGUA_TO_ISO.get(best.language, FALLBACK_LANGUAGE), float(best.value)


def detect_languages(texts: list[str]) -> list[tuple[str, float]]:
    return [detect_language(t) for t in texts]
