"""Why did an ad score high? Exact per-feature contributions for the few ads someone looks at.

A score's log-odds are the linear text model's margin plus the trees' correction, so both parts decompose
exactly: the trees by LightGBM ``pred_contrib`` (SHAP values), the text model by ``weight x value`` of each
hashed n-gram column. Columns are mapped back to the ad's own n-grams by hashing them
(:func:`pipeline.text_vectorizer.ngram_columns`), structured features get readable labels with their value
(:mod:`pipeline.reason_labels`) and their evidence: the matched lure phrases, the contacts as written.

Reasons are sorted by contribution, most lure-like first; only the ``top`` first are returned.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import scipy.sparse as sp

from pipeline.cross_ad_features import cross_ad_vectors
from pipeline.reason_labels import CHAR_PATTERNS_LABEL, CONTACT_KINDS, EVIDENCE_INDICATORS, feature_label, text_label
from pipeline.scoring_model import LoadedModel
from pipeline.text_vectorizer import EMAIL_PATTERN, MEANINGFUL, URL_PATTERN, is_word_column, ngram_columns
from warehouse.records import ad_text

# What the text model sees in place of a number, an e-mail address or a URL, back to what the ad says.
_PLACEHOLDERS = {
    "0": r"\d+(?:[.,\s]\d+)*",
    "email": rf"(?:{EMAIL_PATTERN}|email)",
    "url": rf"(?:{URL_PATTERN}|url)",
}
_GAP = r"\W+(?:\w+\W+){0,3}?"
TEXT_FEATURE = "wording (hashed word and character n-grams)"
CHAR_FEATURE = "text:char-ngrams"


@dataclass
class Reason:
    feature: str  # model feature name, or "text:<n-gram>" / "text:char-ngrams"
    contribution: float  # log-odds this feature added to (or, if negative, took from) this ad's score
    evidence: list[str] = field(default_factory=list)  # text from the ad that backs it
    label: str = ""  # readable, with the ad's value: "no business contact (only messenger, free e-mail, mobile) (yes)"
    value: float | None = None  # the feature's value for this ad (None for n-grams)


@dataclass
class ExplainInputs:
    """What :func:`explain_from` needs from the warehouse, read in one session (so the computation itself can run
    after the session is closed, e.g. in the review app's worker threads)."""

    rows: list[tuple[Any, ...]]  # ad_id, title, body, vector JSON, evidence JSON
    cross: dict[int, dict[str, float]]
    contacts: dict[int, dict[str, list[str]]]


def explain_inputs(con: duckdb.DuckDBPyConnection, ad_ids: Sequence[int]) -> ExplainInputs:
    if not ad_ids:
        return ExplainInputs([], {}, {})
    rows = con.execute(
        """
        SELECT a.ad_id, a.title, a.body, f.vector, f.evidence
        FROM ads a JOIN features f USING (ad_id) WHERE a.ad_id IN (SELECT unnest(?))
        ORDER BY a.ad_id
        """,
        [list(ad_ids)],
    ).fetchall()
    if not rows:
        return ExplainInputs([], {}, {})
    ids = [r[0] for r in rows]
    return ExplainInputs(rows, cross_ad_vectors(con, ids), _contacts(con, ids))


def explain_ads(
    con: duckdb.DuckDBPyConnection, model: LoadedModel, ad_ids: Sequence[int], top: int = 5
) -> dict[int, list[Reason]]:
    return explain_from(model, explain_inputs(con, ad_ids), top)


def explain_from(
    model: LoadedModel, inputs: ExplainInputs, top: int = 5, bottom: int = 0
) -> dict[int, list[Reason]]:
    """The reasons of each ad of ``inputs`` (no warehouse access): the ``top`` most lure-like and, with ``bottom``,
    also the ``bottom`` that pull the score down most (negative contributions), in contribution order."""
    rows, cross, contacts = inputs.rows, inputs.cross, inputs.contacts
    if not rows:
        return {}
    texts = [ad_text(r[1], r[2]) for r in rows]
    vectors = [{**json.loads(r[3]), **cross[int(r[0])]} for r in rows]
    design = model.design(texts, vectors)
    raw = model.booster.predict(design.matrix, pred_contrib=True)  # sparse input gives sparse contributions
    tree = raw.toarray() if sp.issparse(raw) else np.asarray(raw)
    explained: dict[int, list[Reason]] = {}
    for i, row in enumerate(rows):
        ad_id = int(row[0])
        evidence = json.loads(row[4])
        reasons = _structured_reasons(model, vectors[i], tree[i], evidence, contacts.get(ad_id, {}))
        reasons += _text_reasons(model, texts[i], design.tfidf[i], tree[i])
        reasons.sort(key=lambda r: r.contribution, reverse=True)
        kept = reasons[:top]
        if bottom > 0:
            kept += [r for r in reasons[top:][-bottom:] if r.contribution < 0]
        for reason in kept:  # the verbatim text of an n-gram is looked up for the reasons shown only
            if reason.feature.startswith("text:") and reason.feature != CHAR_FEATURE and not reason.evidence:
                reason.evidence = [_verbatim(texts[i], reason.feature.removeprefix("text:"))]
        explained[ad_id] = kept
    return explained


def _contacts(con: duckdb.DuckDBPyConnection, ad_ids: list[int]) -> dict[int, dict[str, list[str]]]:
    found: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for ad_id, kind, raw in con.execute(
        "SELECT ad_id, kind, raw FROM entities WHERE ad_id IN (SELECT unnest(?)) ORDER BY ad_id, start_pos",
        [ad_ids],
    ).fetchall():
        found[int(ad_id)][kind].append(raw)
    return found


def _structured_reasons(
    model: LoadedModel,
    vector: dict[str, float],
    tree: np.ndarray,
    evidence: list[dict[str, object]],
    contacts: dict[str, list[str]],
) -> list[Reason]:
    reasons = []
    for j, name in enumerate(model.structured_names):
        if tree[j] == 0.0:
            continue
        value = float(vector.get(name, 0.0))
        reasons.append(
            Reason(name, float(tree[j]), _evidence_for(name, value, evidence, contacts), feature_label(name, value),
                   value)
        )
    return reasons


def _evidence_for(
    name: str, value: float, evidence: list[dict[str, object]], contacts: dict[str, list[str]]
) -> list[str]:
    if not value:
        return []
    if name.startswith("ind_"):
        indicators: tuple[str, ...] = (name.removeprefix("ind_"),)
    else:
        indicators = EVIDENCE_INDICATORS.get(name, ())
    spans = [str(e["text"]) for e in evidence if "*" in indicators or e.get("indicator") in indicators]
    kinds = CONTACT_KINDS.get(name, ())
    return list(dict.fromkeys(spans + [raw for kind in kinds for raw in contacts.get(kind, [])]))


def _text_reasons(model: LoadedModel, text: str, tfidf_row: sp.csr_matrix, tree: np.ndarray) -> list[Reason]:
    """One reason per word n-gram of the ad, and one for all its character patterns together."""
    per_column = model.text_model.column_contributions(tfidf_row)
    n_structured = len(model.structured_names)
    for k, column in enumerate(model.text_columns):
        value = float(tree[n_structured + k])
        if value:
            per_column[int(column)] = per_column.get(int(column), 0.0) + value
    grams = ngram_columns(text)
    reasons: list[Reason] = []
    char_total, char_grams = 0.0, []
    for column, contribution in per_column.items():
        names = grams.get(column)
        if not names:
            continue  # a hashed column whose n-gram is not in this ad cannot contribute; defensive only
        if is_word_column(column):
            gram = max(names, key=len)
            if gram in MEANINGFUL or gram == "0":
                continue  # a lone "no" / "ei" / number means something only next to another word: no reason alone
            reasons.append(Reason(f"text:{gram}", contribution, [], text_label(gram)))  # evidence: explain_from
        else:
            char_total += contribution
            char_grams.append((contribution, names[0]))
    if char_grams:
        strongest = [g.strip() for _, g in sorted(char_grams, reverse=char_total > 0)[:5]]
        reasons.append(Reason(CHAR_FEATURE, char_total, _words_containing(text, strongest), CHAR_PATTERNS_LABEL))
    return reasons


def _verbatim(text: str, gram: str) -> str:
    """The span of ``text`` a lower-cased word n-gram came from ("cv@turvameeskond" for "cv turvameeskond")."""
    tokens = [_PLACEHOLDERS.get(token, re.escape(token)) for token in gram.split()]
    pattern = _GAP.join(tokens)  # the model does not see stop words, so they may stand between the two words
    match = re.search(rf"(?<!\w){pattern}(?!\w)", text, flags=re.IGNORECASE)
    return match.group(0) if match else gram


def _words_containing(text: str, fragments: list[str]) -> list[str]:
    words = text.split()
    found = []
    for fragment in fragments:
        word = next((w.strip(".,;:!?()\"'") for w in words if fragment and fragment in w.lower()), None)
        if word and word not in found:
            found.append(word)
    return found
