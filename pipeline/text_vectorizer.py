"""Hashed text representation: word 1-2-grams and character 3-5-grams (within word boundaries).

Hashing needs no vocabulary, so new languages or spellings never fall out of one; the only fitted state is
an inverse-document-frequency weight per hashed column (:class:`TextWeights`), stored with the model.
Each block is sub-linear TF x IDF, L2-normalised, and the word block is weighted ``WORD_WEIGHT`` times the
character block (cross-validated on EMSCAD: words carry most of the signal, characters add robustness to
inflection and spelling variants in lv/lt/fi/et/pl/ru).

:func:`ngram_columns` hashes one ad's own n-grams to find which column each came from (explanations).

Before hashing, a text is reduced to the words that can carry meaning (:func:`model_words`): lower-cased, stop words
of the seven languages dropped (negations and "only" kept: "no experience", "only WhatsApp"), every number written
as ``0``, e-mail addresses and URLs as ``email`` / ``url``, a word that mixes Cyrillic with look-alike Latin letters
("дoxoд") in Cyrillic. So the model cannot latch onto "jau", "per" or a phone
number's digits, and EMSCAD's rows (stop words stripped upstream) look like every other ad.
"""

from __future__ import annotations

import importlib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize
from sklearn.utils import murmurhash3_32

from features.textnorm import fold_lookalike_word

WORD_BITS = 17
CHAR_BITS = 17
WORD_WEIGHT = 2.0
N_WORD = 2**WORD_BITS
N_TEXT_FEATURES = 2**WORD_BITS + 2**CHAR_BITS
CONFIG = {"word": "word 1-2-grams", "char": "char_wb 3-5-grams", "word_bits": WORD_BITS, "char_bits": CHAR_BITS,
          "words": "model_words v2: no stop words, numbers as 0, e-mails/URLs as tokens, look-alike letters folded"}

STOP_WORD_LANGUAGES = ("en", "lv", "lt", "fi", "et", "pl", "ru")
# Stop-word lists drop these, but they carry a lure's meaning: negation ("no experience", "без опыта") and
# exclusivity ("only WhatsApp"); "visa" is a Lithuanian stop word ("all") and an English noun.
MEANINGFUL = frozenset(
    [
        "no", "not", "nor", "without", "only", "call", "free", "visa", "ne", "nav", "bez", "tikai", "tik", "be", "ei",
        "ilman", "vain", "ainult", "ilma", "nie", "tylko", "не", "нет", "без", "только", "лишь",
    ]
)
EMAIL_PATTERN = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
URL_PATTERN = r"(?:https?://|www\.)\S+|\b[\w-]+\.(?:com|lv|lt|ee|fi|pl|ru|eu|org|net|me)(?:/\S*)?\b"
_TOKEN = re.compile(
    rf"(?P<email>{EMAIL_PATTERN})|(?P<url>{URL_PATTERN})"
    r"|(?P<num>\d+(?:[.,\s]\d{3})*(?:[.,]\d+)?)"
    r"|(?P<word>[^\W\d_]{2,})"
)


@cache
def stop_words() -> frozenset[str]:
    """spaCy's stop words of the seven languages, minus the ones that carry a lure's meaning."""
    found: set[str] = set()
    for code in STOP_WORD_LANGUAGES:
        found |= importlib.import_module(f"spacy.lang.{code}.stop_words").STOP_WORDS
    return frozenset(w.lower() for w in found) - MEANINGFUL


def model_words(text: str) -> str:
    """The words the text model sees, space-separated (see the module docstring)."""
    stops = stop_words()
    out: list[str] = []
    for match in _TOKEN.finditer((text or "").lower()):
        kind = match.lastgroup
        if kind == "word":
            word = fold_lookalike_word(match.group())
            if word not in stops:
                out.append(word)
        elif kind == "num":
            out.append("0")
        else:
            out.append(str(kind))
    return " ".join(out)

_word = HashingVectorizer(
    n_features=2**WORD_BITS,
    analyzer="word",
    ngram_range=(1, 2),
    alternate_sign=False,
    norm=None,
    lowercase=True,
    token_pattern=r"(?u)\b\w+\b",
    dtype=np.float32,
)
_char = HashingVectorizer(
    n_features=2**CHAR_BITS,
    analyzer="char_wb",
    ngram_range=(3, 5),
    alternate_sign=False,
    norm=None,
    lowercase=True,
    dtype=np.float32,
)


@lru_cache(maxsize=1_000_000)
def _word_char_columns(word: str) -> np.ndarray:
    """Columns (within the char block) of one lower-cased word's char_wb 3-5-grams, as sklearn makes them."""
    padded = f" {word} "
    size = len(padded)
    grams = []
    for n in range(3, 6):
        offset = 0
        grams.append(padded[offset : offset + n])
        while offset + n < size:
            offset += 1
            grams.append(padded[offset : offset + n])
        if offset == 0:  # a short word counts once
            break
    return np.array([abs(murmurhash3_32(g, seed=0)) % 2**CHAR_BITS for g in grams], dtype=np.int32)


def _char_counts(texts: Sequence[str]) -> sp.csr_matrix:
    """Equal to ``_char.transform(texts)`` but ~5x faster: char_wb n-grams depend only on the word, so each
    distinct word is analysed and hashed once (cached) and its columns are repeated by its count."""
    columns: list[np.ndarray] = []
    repeats: list[int] = []
    per_doc = np.zeros(len(texts), dtype=np.int64)
    for row, text in enumerate(texts):
        total = 0
        for word, count in Counter((text or "").lower().split()).items():
            found = _word_char_columns(word)
            columns.append(found)
            repeats.append(count)
            total += len(found)
        per_doc[row] = total
    if not columns:
        return sp.csr_matrix((len(texts), 2**CHAR_BITS), dtype=np.float32)
    indices = np.concatenate(columns)
    lengths = np.fromiter((len(c) for c in columns), dtype=np.int64, count=len(columns))
    data = np.repeat(np.asarray(repeats, dtype=np.float32), lengths)
    indptr = np.concatenate([[0], np.cumsum(per_doc)])
    matrix = sp.csr_matrix((data, indices, indptr), shape=(len(texts), 2**CHAR_BITS))
    matrix.sum_duplicates()
    return matrix


def hashed_counts(texts: Sequence[str]) -> sp.csr_matrix:
    """Sub-linear term frequencies ``1 + log(count)`` of both blocks side by side (word block first)."""
    words = [model_words(t) for t in texts]
    blocks = [_word.transform(words), _char_counts(words)]
    for counts in blocks:
        counts.data = 1.0 + np.log(counts.data)
    return sp.hstack(blocks, format="csr", dtype=np.float32)


@dataclass
class TextWeights:
    """Fitted IDF per hashed column (smooth IDF: ``log((1 + n) / (1 + df)) + 1``)."""

    idf: np.ndarray

    @classmethod
    def fit(cls, counts: sp.csr_matrix) -> TextWeights:
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        return cls(((np.log((1.0 + counts.shape[0]) / (1.0 + df))) + 1.0).astype(np.float32))

    def transform(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        weighted = counts @ sp.diags(self.idf, format="csr")
        word = normalize(weighted[:, :N_WORD], norm="l2") * WORD_WEIGHT
        char = normalize(weighted[:, N_WORD:], norm="l2")
        return sp.hstack([word, char], format="csr", dtype=np.float32)


def ngram_columns(text: str) -> dict[int, list[str]]:
    """Column index -> the n-grams of ``text`` that hash to it (word n-grams before character n-grams)."""
    found: dict[int, list[str]] = {}
    for vectorizer, offset in ((_word, 0), (_char, N_WORD)):
        size = vectorizer.n_features
        for gram in dict.fromkeys(vectorizer.build_analyzer()(model_words(text))):
            column = offset + abs(murmurhash3_32(gram, seed=0)) % size
            found.setdefault(column, []).append(gram)
    return found


def is_word_column(column: int) -> bool:
    return column < N_WORD
