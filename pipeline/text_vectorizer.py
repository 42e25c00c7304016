"""Stateless hashed text representation: word 1-2-grams and character 3-5-grams.

Hashing needs no fitted vocabulary, so a model file plus these fixed parameters is all scoring needs,
and new languages or spellings never fall out of a vocabulary.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize

WORD_BITS = 16
CHAR_BITS = 16

_word = HashingVectorizer(
    n_features=2**WORD_BITS,
    analyzer="word",
    ngram_range=(1, 2),
    alternate_sign=False,
    norm=None,
    lowercase=True,
    token_pattern=r"(?u)\b\w\w+\b",
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

N_TEXT_FEATURES = 2**WORD_BITS + 2**CHAR_BITS


def text_matrix(texts: Sequence[str]) -> sp.csr_matrix:
    """Sub-linear TF, L2-normalised per block, so long ads don't dominate."""
    blocks = []
    for vectorizer in (_word, _char):
        counts = vectorizer.transform(texts)
        counts.data = 1.0 + np.log(counts.data)
        blocks.append(normalize(counts, norm="l2"))
    return sp.hstack(blocks, format="csr", dtype=np.float32)


def text_feature_names() -> list[str]:
    return [f"w{i}" for i in range(2**WORD_BITS)] + [f"c{i}" for i in range(2**CHAR_BITS)]
