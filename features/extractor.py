"""FeatureExtractor: language detection + lure lexicon matching + contact extraction."""

from __future__ import annotations

from collections.abc import Sequence

from spacy.language import Language
from spacy.tokens import Doc

from features.components import SPAN_KEY
from features.contacts import extract_contacts
from features.language import detect_language
from features.model import AdFeatures, Evidence
from features.pipeline import get_nlp
from features.schema import SUPPORTED_LANGUAGES

LANG_REGION: dict[str, str | None] = {
    "en": None,
    "lv": "LV",
    "lt": "LT",
    "fi": "FI",
    "et": "EE",
    "pl": "PL",
    "ru": "RU",
}


def evidence_from_doc(doc: Doc, text: str) -> list[Evidence]:
    """Evidence for the lure spans of ``doc``; ``text`` is the string the doc was made from."""
    out: list[Evidence] = []
    for span in doc.spans[SPAN_KEY]:
        start, end = span.start_char, span.end_char
        out.append(Evidence(span.label_, start, end, text[start:end], span.id_))
    return out


class FeatureExtractor:
    """Extracts lure evidence and contacts from ad texts.

    Pipelines are built lazily per language and shared process-wide (see features.pipeline).
    Texts whose (given or detected) language is not in ``languages`` are processed with the
    English pipeline.
    """

    def __init__(self, languages: Sequence[str] = SUPPORTED_LANGUAGES) -> None:
        unknown = [lang for lang in languages if lang not in SUPPORTED_LANGUAGES]
        if unknown:
            raise ValueError(f"unsupported languages: {unknown}")
        self.languages: tuple[str, ...] = tuple(languages)

    def nlp(self, lang: str) -> Language:
        return get_nlp(lang)

    def _resolve_lang(self, text: str, lang: str | None) -> tuple[str, float]:
        if lang is None:
            code, conf = detect_language(text)
        else:
            code, conf = lang.lower(), 1.0
        if code not in self.languages:
            code = "en" if "en" in self.languages else self.languages[0]
        return code, conf

    def _features(self, text: str, lang: str, conf: float, doc: Doc) -> AdFeatures:
        return AdFeatures(
            language=lang,
            language_confidence=conf,
            evidence=evidence_from_doc(doc, text),
            contacts=extract_contacts(text, LANG_REGION.get(lang)),
            n_chars=len(text),
        )

    def extract(self, text: str, lang: str | None = None) -> AdFeatures:
        text = text or ""
        code, conf = self._resolve_lang(text, lang)
        return self._features(text, code, conf, self.nlp(code)(text))

    def extract_many(
        self,
        texts: Sequence[str],
        langs: Sequence[str | None] | None = None,
        batch_size: int = 256,
    ) -> list[AdFeatures]:
        """Like ``[extract(t, l) for ...]`` but groups texts by language and uses ``nlp.pipe``."""
        if langs is not None and len(langs) != len(texts):
            raise ValueError("texts and langs must have the same length")
        clean = [t or "" for t in texts]
        resolved = [self._resolve_lang(t, langs[i] if langs is not None else None) for i, t in enumerate(clean)]
        groups: dict[str, list[int]] = {}
        for i, (code, _) in enumerate(resolved):
            groups.setdefault(code, []).append(i)
        results: list[AdFeatures | None] = [None] * len(clean)
        for code, idx in groups.items():
            docs = self.nlp(code).pipe((clean[i] for i in idx), batch_size=batch_size)
            for i, doc in zip(idx, docs, strict=True):
                results[i] = self._features(clean[i], code, resolved[i][1], doc)
        return [r for r in results if r is not None]
