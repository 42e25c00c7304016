"""Word -> roles lookup with exact forms and stems, used by the fact extractors (salary, age, places).

Form syntax (the same in every ``features/data`` file):

* ``word``   exact word; matching ignores case and diacritics (``fold``: "rīgā" == "RIGA")
* ``stem*``  any word starting with ``stem`` (folded); the longest matching stem wins
* ``=word``  exact word, case-insensitive but diacritics as written ("=vīne" does not match "vine")

A form may carry several roles (``{"period": "hour"}``, ``{"country": "NO"}``); an exact or ``=`` form
overrides stems. Lookups are cached per distinct word, so a table costs one dict lookup per token once
warm.
"""

from __future__ import annotations

from collections.abc import Mapping

from features.textnorm import fold

Roles = Mapping[str, str]
_EMPTY: Mapping[str, str] = {}
CACHE_LIMIT = 500_000


class WordTable:
    def __init__(self, min_stem: int = 1) -> None:
        self.min_stem = min_stem
        self._exact: dict[str, dict[str, str]] = {}
        self._raw: dict[str, dict[str, str]] = {}
        self._stems: dict[str, dict[str, str]] = {}
        self._lengths: tuple[int, ...] = ()
        self._cache: dict[str, Roles] = {}

    def add(self, form: str, role: str, value: str = "1") -> None:
        form = form.strip()
        if not form:
            raise ValueError("empty form")
        if form.startswith("="):
            self._raw.setdefault(form[1:].lower(), {})[role] = value
        elif form.endswith("*"):
            stem = fold(form[:-1])
            if len(stem) < self.min_stem:
                raise ValueError(f"stem {form!r} is shorter than {self.min_stem} letters")
            self._stems.setdefault(stem, {})[role] = value
            self._lengths = tuple(sorted({*self._lengths, len(stem)}, reverse=True))
        else:
            self._exact.setdefault(fold(form), {})[role] = value
        self._cache.clear()

    def __contains__(self, word: str) -> bool:
        return bool(self.lookup(word))

    def lookup(self, word: str) -> Roles:
        """Roles of ``word`` (empty mapping when it is not in the table)."""
        hit = self._cache.get(word)
        if hit is not None:
            return hit
        found = self._lookup(word)
        if not found and word.endswith(".") and len(word) > 1:
            found = self._lookup(word[:-1])
        if len(self._cache) >= CACHE_LIMIT:
            self._cache.clear()
        self._cache[word] = found
        return found

    def _lookup(self, word: str) -> Roles:
        raw = self._raw.get(word.lower())
        folded = fold(word)
        exact = self._exact.get(folded)
        if raw is not None or exact is not None:
            return {**(exact or {}), **(raw or {})}
        stems = self._stems
        n = len(folded)
        for length in self._lengths:
            if length <= n:
                roles = stems.get(folded[:length])
                if roles is not None:
                    return roles
        return _EMPTY

    def forms(self) -> dict[str, list[str]]:
        """All registered forms by kind (for tests and diagnostics)."""
        return {"exact": sorted(self._exact), "raw": sorted(self._raw), "stems": sorted(self._stems)}
