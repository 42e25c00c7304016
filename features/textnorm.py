"""Token normalisation used by the lure matcher.

The lure lexicons are written with stem prefixes (``{"LOWER": {"REGEX": "^bezmaks"}}``).
Evaluating regexes for every token and pattern is slow, so :class:`StemNormalizer` computes,
once per lexeme, a NORM value that makes prefix tests equivalent to plain equality:

* the token is lower-cased and diacritics are folded ("opłata" -> "oplata", "ё" -> "е"),
  so ads typed without diacritics still match;
* if the folded form is an exact word of the lexicon, NORM is that word;
* else if one of the lexicon stems is a prefix, NORM is ``"^" + longest such stem``;
* numbers get magnitude buckets (``"num:3k"`` = 3000..9999, ``"n:17"`` for integers < 100),
  two-digit ranges ``"rng:young"``/``"rng:other"``, age compounds ``"age:16"`` ("16-vuotiaille")
  and ``"agerng:young"`` ("18-25-vuotiaat");
* otherwise NORM is the folded form.

A pattern prefix ``^X`` then holds exactly when NORM is one of the keys derived from stems or
exact words that start with X (see :meth:`StemNormalizer.prefix_keys`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_EXTRA_FOLD = str.maketrans({"ł": "l", "ß": "ss", "ø": "o", "æ": "ae", "đ": "d", "ı": "i", "’": "'"})

_NUM_RE = re.compile(
    r"^(?P<int>\d{1,3}(?:[.,\u00a0 ]\d{3})+|\d+)(?:[.,]\d{1,2})?"
    r"(?P<k>k|к|tūkst\.?|tuh|tys\.?|тыс\.?)?"
    r"(?P<cur>€|eur|euro|eiro|zł|zl|pln|\$|usd|руб\.?|р\.?|₽|£|gbp|nok|sek|dkk)?"
    r"(?:/\w+)?$"
)

NUM_BUCKETS: tuple[tuple[int, str], ...] = (
    (100_000, "num:100k"),
    (10_000, "num:10k"),
    (3_000, "num:3k"),
    (1_000, "num:1k"),
    (500, "num:500"),
    (100, "num:100"),
)

_YOUNG_RANGE_RE = re.compile(r"^(\d{2})[-–](\d{2})$")
# single-token age compounds: "16-vuotiaille", "18-25-vuotiaat", "25-aastased", "16-летних", "16-gadīgi"
_AGE_COMPOUND_RE = re.compile(r"^(\d{1,2})(?:[-–](\d{1,2}))?[-–](?:vuot|v$|aasta|gad|let|lat|mec|met|year|yo|лет)")


# Latin, Greek and small-capital letters that spammers put inside Cyrillic words ("зapaбoткa", "Bсем").
LOOKALIKES = str.maketrans({
    "a": "а", "b": "в", "c": "с", "e": "е", "h": "н", "k": "к", "m": "м", "n": "п", "o": "о", "p": "р",
    "r": "г", "t": "т", "u": "и", "x": "х", "y": "у",
    "α": "а", "β": "в", "ε": "е", "η": "н", "κ": "к", "μ": "м", "ο": "о", "π": "п", "ρ": "р",
    "τ": "т", "υ": "у", "χ": "х",
    "ᴀ": "а", "ʙ": "в", "ᴄ": "с", "ᴅ": "д", "ᴇ": "е", "ɢ": "г", "ʜ": "н", "ᴋ": "к", "ᴍ": "м", "ʍ": "м",
    "ᴏ": "о", "ᴘ": "р", "ᴨ": "п", "ᴩ": "р", "ᴛ": "т", "ᴧ": "л", "ɸ": "ф", "ɯ": "ш", "ɜ": "з", "ᴦ": "г",
    "ё": "е", "ó": "о", "ò": "о", "á": "а", "é": "е",
})
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_WORD = re.compile(r"\w+")


_NON_CYRILLIC_LETTER = re.compile(r"[^\W\d_\u0400-\u04ff]")


def fold_lookalike_word(word: str) -> str:
    """A lower-case word that mixes Cyrillic with look-alike letters, in Cyrillic; any other word unchanged."""
    if word.isascii() or not CYRILLIC.search(word) or not _NON_CYRILLIC_LETTER.search(word):
        return word
    return word.translate(LOOKALIKES)


def fold_lookalikes(text: str) -> str:
    """Lower-case; inside words that contain a Cyrillic letter, map look-alike letters to Cyrillic."""
    return _WORD.sub(lambda match: fold_lookalike_word(match.group(0)), text.lower())


def fold(text: str) -> str:
    """Lower-case and strip diacritics (NFD, drop combining marks); a word that mixes Cyrillic with look-alike
    Latin, Greek or small-capital letters ("дoxoд") is written in Cyrillic (:func:`fold_lookalikes`)."""
    low = text.lower().translate(_EXTRA_FOLD)
    if low.isascii():
        return low
    if CYRILLIC.search(low):
        low = _WORD.sub(lambda match: fold_lookalike_word(match.group(0)), low)
    decomposed = unicodedata.normalize("NFD", low)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def number_norm(folded: str) -> str | None:
    """Magnitude bucket for numeric tokens, ``None`` for non-numbers."""
    if not folded or not folded[0].isdigit():
        return None
    m = _AGE_COMPOUND_RE.match(folded)
    if m:
        if m.group(2) is None:
            return f"age:{int(m.group(1))}"
        lo, hi = int(m.group(1)), int(m.group(2))
        return "agerng:young" if 14 <= lo <= 25 and lo < hi <= 35 else "agerng:other"
    m = _YOUNG_RANGE_RE.match(folded)
    if m:
        lo, hi = int(m.group(1)), int(m.group(2))
        return "rng:young" if 14 <= lo <= 25 and lo < hi <= 35 else "rng:other"
    m = _NUM_RE.match(folded)
    if m is None:
        return None
    digits = re.sub(r"\D", "", m.group("int"))
    if len(digits) == 3 and digits.startswith("0"):
        return "n:000"
    value = int(digits[:12])
    if m.group("k"):
        value *= 1000
    if value < 100 and not m.group("cur") and not m.group("k"):
        return f"n:{value}"
    for threshold, name in NUM_BUCKETS:
        if value >= threshold:
            return name
    return "num:0"


class StemNormalizer:
    """Callable used as ``vocab.lex_attr_getters[NORM]``; see module docstring."""

    def __init__(self, stems: Iterable[str], exact: Iterable[str]) -> None:
        self.stems: frozenset[str] = frozenset(fold(s) for s in stems if s)
        self.exact: frozenset[str] = frozenset(fold(e) for e in exact if e)
        self._min = min((len(s) for s in self.stems), default=1)
        self._max = max((len(s) for s in self.stems), default=0)

    def __call__(self, text: str) -> str:
        f = fold(text)
        num = number_norm(f)
        if num is not None:
            return num
        if f in self.exact:
            return f
        stems = self.stems
        for i in range(min(len(f), self._max), self._min - 1, -1):
            if f[:i] in stems:
                return "^" + f[:i]
        return f

    def prefix_keys(self, prefix: str) -> list[str]:
        """NORM values of all tokens whose folded form starts with ``prefix``."""
        p = fold(prefix)
        keys = {"^" + s for s in self.stems if s.startswith(p)}
        keys.update(e for e in self.exact if e.startswith(p))
        return sorted(keys)

    def exact_key(self, word: str) -> str:
        """NORM value of a token that equals ``word`` (must be registered as exact)."""
        f = fold(word)
        num = number_norm(f)
        return num if num is not None else f
