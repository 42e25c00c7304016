"""spaCy pipeline component ``lure_ruler``: lexicon matches -> ``doc.spans["lure"]``."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from spacy.attrs import NORM
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span

from features.fastmatch import FastMatcher, compile_variant
from features.lexicon import LEXICON_DIR, NEG_PREFIX, compile_lexicon, lexicon_path, load_entries

SPAN_KEY = "lure"
NEG_WINDOW_AFTER = 4  # tokens after a cancelling phrase in which matches are suppressed
NEG_WINDOW_BEFORE = 2  # tokens before it ("fees: none")


def _merge(hits: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Union of overlapping matches; the pattern id of the longest member is kept (the smallest id among equals)."""
    if len(hits) <= 1:
        return hits
    hits = sorted(hits, key=lambda h: (h[0], -h[1], h[2]))  # ties by pattern id: both engines agree
    out: list[tuple[int, int, str]] = []
    cur_s, cur_e, best_pid = hits[0]
    best_len = cur_e - cur_s
    for s, e, pid in hits[1:]:
        if s < cur_e:
            if e - s > best_len:
                best_len, best_pid = e - s, pid
            cur_e = max(cur_e, e)
        else:
            out.append((cur_s, cur_e, best_pid))
            cur_s, cur_e, best_pid, best_len = s, e, pid, e - s
    out.append((cur_s, cur_e, best_pid))
    return out


def _negated(hit: tuple[int, int, str], negs: list[tuple[int, int, str]]) -> bool:
    start, end, _ = hit
    return any(ns - NEG_WINDOW_BEFORE <= end and start <= ne + NEG_WINDOW_AFTER for ns, ne, _ in negs)


class LureRuler:
    """Matches the language's lure lexicon; one span per match, label = indicator, id = pattern id.

    Overlapping matches of the same indicator are merged into one span (their union; the
    pattern id of the longest match is kept), so they count once. Matches of ``neg:<indicator>`` patterns are not
    emitted; they cancel matches of <indicator> that overlap them, start up to
    NEG_WINDOW_AFTER tokens after them or end up to NEG_WINDOW_BEFORE tokens before them.
    """

    def __init__(self, nlp: Language, name: str, lexicon_dir: str | None = None, engine: str = "fast") -> None:
        if engine not in ("fast", "matcher"):
            raise ValueError(f"engine must be 'fast' or 'matcher', got {engine!r}")
        self.name = name
        directory = Path(lexicon_dir) if lexicon_dir else LEXICON_DIR
        self.compiled = compile_lexicon(load_entries(lexicon_path(nlp.lang, directory)))
        vocab = nlp.vocab
        normalizer = self.compiled.normalizer
        vocab.lex_attr_getters[NORM] = normalizer
        for lex in vocab:  # lexemes created before the getter was installed
            lex.norm_ = normalizer(lex.orth_)
        labels = {e.id: e.label for e in self.compiled.entries}
        self.labels: dict[str, str] = labels
        # Fast path for the simple patterns; spaCy's Matcher for anything else (or everything,
        # with engine="matcher", used by tests to cross-check the fast path).
        self.fast = FastMatcher()
        self.matcher = Matcher(vocab)
        self._pid_of_hash: dict[int, str] = {}
        for pid, variants in self.compiled.patterns.items():
            fast = [compile_variant(v, vocab.strings) for v in variants] if engine == "fast" else [None]
            if all(c is not None for c in fast):
                for c in fast:
                    self.fast.add(pid, c)  # type: ignore[arg-type]
            else:
                self.matcher.add(pid, variants)
                self._pid_of_hash[vocab.strings[pid]] = pid

    def find(self, doc: Doc) -> list[tuple[str, int, int]]:
        """(pattern id, start, end) token offsets of all lexicon matches."""
        hits = self.fast(doc) if len(self.fast) else []
        if len(self.matcher):
            pid_of = self._pid_of_hash
            hits.extend((pid_of[m], s, e) for m, s, e in self.matcher(doc))
        return hits

    def __call__(self, doc: Doc) -> Doc:
        by_label: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
        labels = self.labels
        for pid, start, end in self.find(doc):
            by_label[labels[pid]].append((start, end, pid))
        spans: list[Span] = []
        for label, hits in by_label.items():
            if label.startswith(NEG_PREFIX):
                continue
            negs = by_label.get(NEG_PREFIX + label)
            if negs:
                hits = [h for h in hits if not _negated(h, negs)]
            spans.extend(Span(doc, s, e, label=label, span_id=pid) for s, e, pid in _merge(hits))
        spans.sort(key=lambda s: (s.start, s.end))
        doc.spans[SPAN_KEY] = spans
        return doc


@Language.factory("lure_ruler", default_config={"lexicon_dir": None, "engine": "fast"})
def make_lure_ruler(nlp: Language, name: str, lexicon_dir: str | None, engine: str) -> LureRuler:
    return LureRuler(nlp, name, lexicon_dir, engine)
