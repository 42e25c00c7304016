"""Structured facts with evidence spans: advertised pay (normalised to EUR/month), ages, destinations.

* :func:`extract_salaries` finds amounts (``3000``, ``3 000``, ``3.000,00``, ``3k``, ``3 тыс.``), ranges
  (``1500–2000``, ``3000 € - 4000 €``, ``от 18 до 30``), a currency before or after (``€``, ``zł``,
  ``руб``, ``$``, ``GBP`` ... see ``data/fx_eur.yaml``), a period after or before (``/h``, ``mēnesī``,
  ``в месяц``, ``tuntipalkka``) and "from"/"up to" qualifiers, and keeps an amount as pay only when
  the nearest role word before it is a pay word (salary, alga, palk, зарплата ...) or, with no role
  word, when a period or gross/net marker follows. A nearer cost word (fee, maksa, opłata, сбор,
  accommodation ...) makes it a fee, not pay. Amounts without a currency need a pay word and a
  rate (below); they take the language's default currency. Numbers inside contact spans (phones) or
  at the end of a longer digit sequence are never amounts.
* :func:`extract_ages` finds two-digit ages and ranges with a years-old unit (``gadi``, ``лет``,
  ``-vuotiaat``), an age cue (``aged``, ``vecumā``) or a person word (``girls``, ``meitenes``), a ``+``
  (``18+``), or an older/younger qualifier (``не старше 30`` = at most 30). An experience word
  before it ("experience 18-25 months") or a duration word after it ("15 years of") rejects it.
* :func:`extract_destinations` looks every word up in the merged gazetteer (``data/places``), with
  inflected forms ("Norvēģijā", "в Германии", "Niemczech", "Saksaan", "Soome"). Place words next to a
  language word ("vācu valoda", "saksan kieli") are languages, not places.

Period conversion: hour x 168, day/shift x 21, week x 4.33, year / 12 (``data/fx_eur.yaml``). An amount
with no period is monthly, unless it is below 40 EUR (then hourly) or above 12 000 EUR (then yearly).
An amount without a currency also needs a "per" word or rate form ("per hour", "/h", "mēnesī", "kuus"):
"salary ... 40 hours a week" is a duration, not pay.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from features.contacts import lower_same_length
from features.factdata import fact_vocab, fx_table, gazetteer
from features.model import AgeRange, Destination, Evidence, Salary
from features.textnorm import fold
from features.wordtable import Roles

FACT_KINDS: tuple[str, ...] = ("salary", "age", "destination")

Span = tuple[int, int]

_NUM = r"\d{1,3}(?:[ \u00a0\u202f.,'’]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_MULT = r"(?:[ \u00a0]?(?P<k>[kKкК]|тыс|tūkst|tukst|tuh|tuhat|tys|tyś)\.?(?![^\W\d_]))?"
_NUMBER_RE = re.compile(rf"(?<![\w+.,/\-–])(?P<num>{_NUM}){_MULT}(?!\d)")
_NUMBER_AT_RE = re.compile(rf"(?P<num>{_NUM}){_MULT}(?!\d)")  # the second number of a range
_VALUE_RE = re.compile(r"(\d{1,3}(?:[ \u00a0\u202f.,'’]\d{3})+|\d+)(?:[.,](\d{1,2}))?")
_RANGE_RE = re.compile(
    r"[ \u00a0]*(?:[-–—]|\.\.)[ \u00a0]*(?:[€$£₽][ \u00a0]?)?"
    r"|[ \u00a0]+(?:to|до|līdz|iki|do|kuni|bis)[ \u00a0]+(?:[€$£₽][ \u00a0]?)?",
    re.IGNORECASE,
)
_TOKEN_RE = re.compile(r"[^\W\d_]+(?:[-'’.][^\W\d_]+)*\.?|\d+|[-–/()+]")
_AGE_RE = re.compile(
    r"(?<![\w+.,:/\-–])(?P<a>\d{2})"
    r"(?:(?:[ \u00a0]*(?:[-–—]|\.\.)[ \u00a0]*|[ \u00a0]+(?:to|до|līdz|iki|do|kuni|bis)[ \u00a0]+)(?P<b>\d{2}))?"
    r"(?P<plus>\+)?(?!\d)(?![.,:]\d)",
    re.IGNORECASE,
)
_PLACE_TOKEN_RE = re.compile(r"[^\W\d_]+")
_PUNCT_RE = re.compile(r"[,.;:!?()]")
_FIRST_WORD_RE = re.compile(r"[ \u00a0/(\-–]{0,3}([^\W\d_]+\.?)")
_PERIOD_GATE_ROLES = frozenset({"period", "connectors", "gross_net", "per_rate"})
_NEXT_WORD_RE = re.compile(r"[\s\-–.]{1,3}([^\W\d_]+)")
_YEAR_LIKE = range(1950, 2101)
LEFT_CHARS = 60
RIGHT_CHARS = 48
ROLE_WINDOW = 6  # tokens before an amount searched for a pay / cost word
HOURLY_BELOW_EUR = 40.0  # an amount with no period below this many EUR is taken as hourly
ANNUAL_ABOVE_EUR = 12_000.0  # ... and above this many EUR as yearly ("£35 000", UK/US style)
_SKIP_RIGHT = frozenset({"/", "(", ")", "+", "-", "–"})
_STRONG_AGE_UNITS = frozenset(
    fold(w)
    for w in (
        "old",
        "y.o",
        "yo",
        "year-old",
        "year-olds",
        "years-old",
        "vuotiaat",
        "vuotiaille",
        "vuotias",
        "vuotiaita",
        "aastased",
        "aastane",
        "aastastele",
        "aastaseid",
        "gadīgi",
        "gadīgas",
        "gadīgām",
        "gadīgiem",
        "latki",
        "latków",
        "letni",
        "letnie",
        "letnich",
        "летних",
        "летние",
        "летним",
        "летнего",
    )
)


@dataclass(slots=True)
class Facts:
    salaries: list[Salary] = field(default_factory=list)
    ages: list[AgeRange] = field(default_factory=list)
    destinations: list[Destination] = field(default_factory=list)

    def evidence(self) -> list[Evidence]:
        """One Evidence per fact: indicator = "salary" | "age" | "destination", pattern = "<kind>:<value>"."""
        out = [Evidence("salary", s.start, s.end, s.text, f"salary:{s.label()}") for s in self.salaries]
        out += [Evidence("age", a.start, a.end, a.text, f"age:{a.label()}") for a in self.ages]
        out += [Evidence("destination", d.start, d.end, d.text, f"destination:{d.label()}") for d in self.destinations]
        return out


def _overlaps(start: int, end: int, blocked: Sequence[Span]) -> bool:
    return any(s < end and start < e for s, e in blocked)


def _value(num: str, k: str | None) -> float:
    m = _VALUE_RE.fullmatch(num)
    if m is None:  # pragma: no cover - _NUMBER_RE only yields what _VALUE_RE accepts
        return 0.0
    value = float(re.sub(r"\D", "", m.group(1)))
    if m.group(2):
        value += int(m.group(2)) / 10 ** len(m.group(2))
    return value * 1000 if k else value


def _trim_dot(text: str, end: int) -> int:
    """Leave a sentence-final "." out of a span ("mēnesī." -> "mēnesī"; "g." stays)."""
    if end >= 3 and text[end - 1] == "." and text[end - 2].isalpha() and text[end - 3].isalpha():
        return end - 1
    return end


def _tokens(text: str, start: int, end: int) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in _TOKEN_RE.finditer(text, max(0, start), max(0, end))]


def extract_salaries(text: str, lang: str, blocked: Sequence[Span] = ()) -> list[Salary]:
    vocab = fact_vocab()
    fx = fx_table()
    words = vocab.words
    out: list[Salary] = []
    resume = 0
    for m in _NUMBER_RE.finditer(text):
        start, end = m.span()
        if start < resume or _overlaps(start, end, blocked):
            continue
        if start >= 2 and text[start - 1] in " \u00a0" and text[start - 2].isdigit():
            continue  # the tail of a longer digit sequence ("+371 2914 5678 EUR"): a phone or an id, not pay
        lo = _value(m.group("num"), m.group("k"))
        hi: float | None = None
        cur: str | None = None
        pos = end
        c = vocab.currency_re.match(text, pos)
        if c:
            cur, pos = fx.aliases[c.group("cur").lower()], c.end()
        r = _RANGE_RE.match(text, pos)
        if r:
            m2 = _NUMBER_AT_RE.match(text, r.end())
            if m2 and not _overlaps(m2.start(), m2.end(), blocked):
                second = _value(m2.group("num"), m2.group("k"))
                if m2.group("k") and not m.group("k") and lo < 1000:
                    lo *= 1000
                if lo < second <= lo * 10:
                    hi, pos = second, m2.end()
                    c2 = vocab.currency_re.match(text, pos)
                    if c2:
                        cur, pos = fx.aliases[c2.group("cur").lower()], c2.end()
        left_edge = start
        if cur is None:
            b = vocab.currency_before_re.search(text, max(0, start - 12), start)
            if b:
                cur, left_edge = fx.aliases[b.group("cur").lower()], b.start()
            else:
                # no currency: only "<pay word> N <period>" can be pay; most numbers stop here
                nxt = _FIRST_WORD_RE.match(text, pos)
                if nxt is None or not _PERIOD_GATE_ROLES.intersection(words.lookup(nxt.group(1))):
                    continue
        resume = pos
        left = _tokens(text, left_edge - LEFT_CHARS, left_edge)
        role: str | None = None
        qualifier = "range" if hi is not None else "exact"
        period_before: str | None = None
        for i, (tok, tok_start, _) in enumerate(reversed(left[-ROLE_WINDOW:])):
            roles = words.lookup(tok)
            if not roles:
                continue
            if i < 2 and qualifier == "exact" and ("up_to" in roles or "from" in roles):
                qualifier = "up_to" if "up_to" in roles else "from"
                left_edge = tok_start
            if period_before is None and "period_before" in roles:
                period_before = roles["period_before"]
            if "salary" in roles or "period_before" in roles:  # "tuntipalkka", "hourly": pay words too
                role = "salary"
                break
            if "cost" in roles:
                role = "cost"
                break
        if role == "cost":
            continue
        period: str | None = None
        gross = rate = False
        right_end = pos
        for tok, _, tok_end in _tokens(text, pos, pos + RIGHT_CHARS)[:6]:
            roles = words.lookup(tok)
            if period is None and "period" in roles:
                period, right_end = roles["period"], tok_end
                rate = rate or "per_rate" in roles
                continue
            if period is None and "per_rate" in roles:
                rate = True
                continue
            if "gross_net" in roles:
                gross = True
                continue
            if qualifier == "exact" and ("from_after" in roles or "up_to_after" in roles):
                qualifier = "from" if "from_after" in roles else "up_to"
                right_end = tok_end
                continue
            if tok in _SKIP_RIGHT or "connectors" in roles:
                continue
            break
        if cur is None:
            # "salary 40 hours a week" is a duration: without a currency, only a rate ("per hour", "mēnesī") is pay
            year_like = hi is None and lo.is_integer() and int(lo) in _YEAR_LIKE
            if role != "salary" or period is None or not rate or year_like:
                continue
            cur = vocab.default_currency.get(lang, "EUR")
        elif role != "salary" and period is None and not gross:
            continue
        stated = period is not None or period_before is not None
        period = period or period_before
        if period is None:
            monthly = fx.to_eur_month(hi or lo, cur, "month")
            period = "hour" if monthly < HOURLY_BELOW_EUR else "year" if monthly > ANNUAL_ABOVE_EUR else "month"
        if qualifier == "up_to":
            amin, amax = None, lo
        elif qualifier == "from":
            amin, amax = lo, None
        else:
            amin, amax = lo, hi if hi is not None else lo
        emin = None if amin is None else round(fx.to_eur_month(amin, cur, period), 2)
        emax = None if amax is None else round(fx.to_eur_month(amax, cur, period), 2)
        top = emax if emax is not None else emin
        if top is None or not fx.plausible[0] <= top <= fx.plausible[1]:
            continue
        s, e = left_edge, _trim_dot(text, right_end)
        out.append(Salary(s, e, text[s:e], amin, amax, cur, period, stated, qualifier, emin, emax))
    return out


def extract_ages(text: str, blocked: Sequence[Span] = ()) -> list[AgeRange]:
    vocab = fact_vocab()
    words = vocab.words
    out: list[AgeRange] = []
    for m in _AGE_RE.finditer(text):
        start, end = m.span()
        if _overlaps(start, end, blocked):
            continue
        a = int(m.group("a"))
        b = int(m.group("b")) if m.group("b") else None
        if not 14 <= a <= 70 or (b is not None and not a < b <= 70):
            continue
        plus = bool(m.group("plus"))
        if vocab.currency_re.match(text, end):
            continue
        unit = strong = False
        right_end = end
        after_unit: list[str] = []
        for tok, tok_start, tok_end in _tokens(text, end, end + RIGHT_CHARS)[:5]:
            if tok in _SKIP_RIGHT and not unit:
                continue
            if unit and (text[right_end - 1] == "." or _PUNCT_RE.search(text, right_end, tok_start)):
                break  # "18-25 gadi. Pieredze ...": the next sentence says nothing about these numbers
            roles = words.lookup(tok)
            if not unit and "age_unit" in roles:
                unit, right_end = True, tok_end
                strong = fold(tok.rstrip(".")) in _STRONG_AGE_UNITS
                continue
            if unit and fold(tok.rstrip(".")) in ("old", "y.o"):
                strong, right_end = True, tok_end
                continue
            if unit:
                after_unit.append(tok)
            if len(after_unit) >= 2 or not unit:
                break
        if any("not_age_after" in words.lookup(t) or "experience" in words.lookup(t) for t in after_unit):
            continue
        cue = age_word = person = False
        bound: str | None = None
        left_edge = start
        left = _tokens(text, start - LEFT_CHARS, start)[-4:]
        rejected = False
        for i, (tok, tok_start, _) in enumerate(reversed(left)):
            if tok.isdigit():
                break  # words before another number belong to that number
            roles = words.lookup(tok)
            if "experience" in roles:
                rejected = True
                break
            # "aged 18", "girls 18-25"; not "people 30", "aged care unit 59"
            if "age_cue" in roles and (i < 2 or b is not None):
                cue = True
            if "person" in roles:
                person = True
            if i < 2 and b is not None and "from" in roles and left_edge == start:
                left_edge = tok_start
            if i < 2 and bound is None and b is None:
                negated = i + 1 < len(left) and "negation" in words.lookup(left[-(i + 2)][0])
                if "older" in roles or "younger" in roles:
                    older, age_word = "older" in roles, True
                    bound = ("max" if older else "min") if negated else ("min" if older else "max")
                    if not older and not negated and a <= 18:
                        bound = "min"  # "no one under 18", "alle 18-vuotiaita ei": a minimum age
                    left_edge = left[-(i + 2)][1] if negated else tok_start
                elif "from" in roles:
                    bound, left_edge = "min", tok_start
                elif "up_to" in roles:
                    bound, left_edge = "max", tok_start
        if rejected:
            continue
        if plus:
            bound = "min"
        # a person word supports a range ("girls 18-25") or a bounded age ("девушек от 16"), not "people 30"
        cue = cue or (person and (b is not None or bound is not None))
        if b is not None:
            if not (14 <= a < b <= 70 and (unit or cue)):
                continue
            lo, hi = a, b
        else:
            if not 14 <= a <= 70:
                continue
            if not (strong or cue or plus or age_word or (unit and bound is not None)):
                continue
            if plus and not 14 <= a <= 30:
                continue
            lo, hi = (a, None) if bound == "min" else (None, a) if bound == "max" else (a, a)
        s, e = left_edge, _trim_dot(text, right_end)
        out.append(AgeRange(s, e, text[s:e], lo, hi))
    return out


def extract_destinations(
    text: str, blocked: Sequence[Span] = (), *, low: str | None = None, words: Iterable[str] | None = None
) -> list[Destination]:
    """Places named in ``text``. ``low`` (same-length lower-case text) and ``words`` (its ``[^\\W\\d_]+``
    tokens) may be passed when the caller has them already."""
    if low is None:
        low = lower_same_length(text)
    tags = _GATE.tags(set(words) if words is not None else set(_PLACE_TOKEN_RE.findall(low)))
    return _destinations(text, low, blocked, [w for w, t in tags.items() if "place" in t], _has_place(tags))


def _has_place(tags: dict[str, frozenset[str]]) -> bool:
    """A country or city word, or the tail of a multi-word name ("new" alone, "great" alone are not enough)."""
    return any("country" in t or "city" in t or "tail" in t for t in tags.values())


def _destinations(text: str, low: str, blocked: Sequence[Span], found: list[str], possible: bool) -> list[Destination]:
    if not possible:
        return []
    gaz = gazetteer()
    table = gaz.words
    candidates: list[tuple[int, int, Roles]] = []
    n = len(low)
    for word in found:
        roles = table.lookup(word)
        if "country" not in roles and "city" not in roles and "multi" not in roles:
            continue
        pos = low.find(word)
        while pos >= 0:
            end = pos + len(word)
            if (pos == 0 or not low[pos - 1].isalpha()) and (end == n or not low[end].isalpha()):
                candidates.append((pos, end, roles))
            pos = low.find(word, end)
    candidates.sort(key=lambda c: c[0])
    is_language = gaz.language_words.lookup
    out: list[Destination] = []
    resume = 0
    for start, end, roles in candidates:
        if start < resume:
            continue
        place: tuple[str, str | None, int] | None = None  # (iso, city, end)
        if "multi" in roles:
            place = _multi(gaz.multi, low, start, end)
        if place is None and "country" in roles:
            place = (roles["country"], None, end)
        if place is None and "city" in roles:
            iso, city = roles["city"].split(":", 1)
            place = (iso, city, end)
        if place is None:
            continue
        iso, city, end = place
        if _overlaps(start, end, blocked):
            continue
        nxt = _PLACE_TOKEN_RE.search(low, end)
        prev = _PLACE_TOKEN_RE.findall(low, max(0, start - 40), start)
        if (nxt and is_language(nxt.group())) or (prev and is_language(prev[-1])):
            continue
        out.append(Destination(start, end, text[start:end], iso, city))
        resume = end
    return out


def _multi(
    multi: dict[str, list[tuple[tuple[str, ...], str, str | None]]], low: str, start: int, end: int
) -> tuple[str, str | None, int] | None:
    for rest, iso, city in multi.get(fold(low[start:end]), []) + multi.get(low[start:end], []):
        pos = end
        for form in rest:
            m = _NEXT_WORD_RE.match(low, pos)
            if m is None or not _word_matches(m.group(1), form):
                break
            pos = m.end()
        else:
            return iso, city, pos
    return None


def _word_matches(word: str, form: str) -> bool:
    if form.endswith("*"):
        return fold(word).startswith(fold(form[:-1]))
    return fold(word) == fold(form)


_MONEY_SYMBOLS = ("€", "$", "£", "₽")
_AGE_ROLES = frozenset({"age_unit", "age_cue", "person", "older", "younger"})
_AGE_PLUS_RE = re.compile(r"\d\d\+")
_DIGIT_RE = re.compile(r"\d")


def extract_facts(
    text: str, lang: str, blocked: Sequence[Span] = (), *, low: str | None = None, words: Iterable[str] | None = None
) -> Facts:
    """All facts of ``text``; ``blocked`` spans (contacts: phones, e-mails, URLs) are never facts.

    ``low`` / ``words``: the same-length lower-cased text and its letter tokens, when the caller has them.
    Cheap gates skip a whole extractor when the ad has none of the words it needs (no currency and no
    pay-and-period words: no salary; no age words and no "18+": no age).
    """
    if not text:
        return Facts()
    if low is None:
        low = lower_same_length(text)
    tags = _GATE.tags(set(words) if words is not None else set(_PLACE_TOKEN_RE.findall(low)))
    salaries: list[Salary] = []
    ages: list[AgeRange] = []
    if _DIGIT_RE.search(text) is not None:
        roles: set[str] = set().union(*tags.values())
        money = "currency" in roles or any(sym in text for sym in _MONEY_SYMBOLS)
        if money or ("salary" in roles and "period" in roles):
            salaries = extract_salaries(text, lang, blocked)
        if roles & _AGE_ROLES or _AGE_PLUS_RE.search(text):
            ages = extract_ages(text, blocked)
    places = [w for w, t in tags.items() if "place" in t]
    return Facts(salaries, ages, _destinations(text, low, blocked, places, _has_place(tags)))


class _WordGate:
    """Which words of an ad matter to any fact extractor: roles from the fact vocabulary, "place" (plus
    "country"/"city") for gazetteer words, "tail" for last words of multi-word names. Once warm this costs
    two set operations per ad; the caches only grow with the vocabulary (and are reset past a limit)."""

    LIMIT = 1_000_000

    def __init__(self) -> None:
        self._tags: dict[str, frozenset[str]] = {}
        self._hits: set[str] = set()
        self._misses: set[str] = set()

    def tags(self, words: set[str]) -> dict[str, frozenset[str]]:
        unknown = words - self._misses - self._hits
        if unknown:
            if len(self._misses) > self.LIMIT:
                self._misses.clear()
            facts, gaz = fact_vocab().words, gazetteer()
            for word in unknown:
                place = gaz.words.lookup(word)
                tags = frozenset(
                    [
                        *facts.lookup(word),
                        *place,
                        *(("place",) if place else ()),
                        *(("tail",) if gaz.tails.lookup(word) else ()),
                    ]
                )
                if tags:
                    self._tags[word] = tags
                    self._hits.add(word)
                else:
                    self._misses.add(word)
        return {w: self._tags[w] for w in words & self._hits}


_GATE = _WordGate()
