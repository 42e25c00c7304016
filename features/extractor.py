"""FeatureExtractor: language detection (mixed-language aware) + lure lexicons + contacts + facts."""

from __future__ import annotations

from collections.abc import Sequence

from spacy.language import Language
from spacy.tokens import Doc

from features.components import SPAN_KEY
from features.contacts import extract_contacts, lower_same_length
from features.facts import extract_facts
from features.langmix import LanguageMix, detect_mix
from features.model import AdFeatures, Evidence
from features.phones import WORD_RE
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


def evidence_from_doc(doc: Doc, text: str, offset: int = 0) -> list[Evidence]:
    """Evidence for the lure spans of ``doc``; ``text`` is the string the doc was made from, at ``offset``
    of the ad text (non-zero for a paragraph in a secondary language)."""
    out: list[Evidence] = []
    for span in doc.spans[SPAN_KEY]:
        start, end = span.start_char, span.end_char
        out.append(Evidence(span.label_, start + offset, end + offset, text[start:end], span.id_))
    return out


def _overlaps_same(e: Evidence, existing: list[Evidence]) -> bool:
    return any(o.indicator == e.indicator and o.start < e.end and e.start < o.end for o in existing)


class FeatureExtractor:
    """Extracts lure evidence and contacts from ad texts.

    Pipelines are built lazily per language and shared process-wide (see features.pipeline).
    Texts whose (given or detected) language is not in ``languages`` are processed with the
    English pipeline. Paragraphs in another supported language (features.langmix) are also matched
    with that language's lexicon. Salary, age and destination facts (features.facts) are added to
    ``evidence`` with indicator "salary" / "age" / "destination" and kept typed in ``salaries``,
    ``ages``, ``destinations``.
    """

    def __init__(self, languages: Sequence[str] = SUPPORTED_LANGUAGES) -> None:
        unknown = [lang for lang in languages if lang not in SUPPORTED_LANGUAGES]
        if unknown:
            raise ValueError(f"unsupported languages: {unknown}")
        self.languages: tuple[str, ...] = tuple(languages)

    def nlp(self, lang: str) -> Language:
        return get_nlp(lang)

    def _resolve_lang(self, text: str, lang: str | None) -> tuple[str, LanguageMix]:
        mix = detect_mix(text, lang.lower() if lang else None)
        code = mix.primary
        if code not in self.languages:
            code = "en" if "en" in self.languages else self.languages[0]
        return code, mix

    def _features(self, text: str, lang: str, mix: LanguageMix, doc: Doc) -> AdFeatures:
        evidence = evidence_from_doc(doc, text)
        for start, end, other in mix.segments:
            if other == lang or other not in self.languages:
                continue
            extra = evidence_from_doc(self.nlp(other)(text[start:end]), text[start:end], start)
            evidence.extend(e for e in extra if not _overlaps_same(e, evidence))
        low = lower_same_length(text)
        words = WORD_RE.findall(low)  # shared by phone and place lookups
        contacts = extract_contacts(text, LANG_REGION.get(lang), low=low, words=words)
        facts = extract_facts(text, lang, [(c.start, c.end) for c in contacts], low=low, words=words)
        evidence.extend(facts.evidence())
        evidence.sort(key=lambda e: (e.start, e.end))
        return AdFeatures(
            language=lang,
            language_confidence=mix.confidence,
            evidence=evidence,
            contacts=contacts,
            n_chars=len(text),
            languages=mix.shares,
            salaries=facts.salaries,
            ages=facts.ages,
            destinations=facts.destinations,
        )

    def extract(self, text: str, lang: str | None = None) -> AdFeatures:
        text = text or ""
        code, mix = self._resolve_lang(text, lang)
        return self._features(text, code, mix, self.nlp(code)(text))

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
