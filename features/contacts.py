"""Contact extraction: phones, e-mails (incl. obfuscated), WhatsApp/Viber/Telegram, URLs."""

from __future__ import annotations

import re
from bisect import bisect_left

from features.model import Contact
from features.phones import PhoneMatch, find_phones

FREE_MAIL_DOMAINS: frozenset[str] = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "inbox.lv",
        "mail.lv",
        "one.lv",
        "apollo.lv",
        "tvnet.lv",
        "navigator.lv",
        "mail.ru",
        "bk.ru",
        "list.ru",
        "inbox.ru",
        "internet.ru",
        "yandex.ru",
        "yandex.com",
        "yandex.lv",
        "yandex.by",
        "ya.ru",
        "rambler.ru",
        "wp.pl",
        "o2.pl",
        "onet.pl",
        "onet.eu",
        "op.pl",
        "interia.pl",
        "interia.eu",
        "poczta.fm",
        "gazeta.pl",
        "tlen.pl",
        "vp.pl",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.de",
        "hotmail.fi",
        "outlook.com",
        "outlook.lv",
        "live.com",
        "live.co.uk",
        "msn.com",
        "yahoo.com",
        "yahoo.co.uk",
        "ymail.com",
        "protonmail.com",
        "protonmail.ch",
        "proton.me",
        "pm.me",
        "icloud.com",
        "me.com",
        "aol.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.com",
        "zoho.com",
        "tutanota.com",
        "tuta.io",
        "one.lt",
        "takas.lt",
        "delfi.lt",
        "hot.ee",
        "mail.ee",
        "online.ee",
        "suomi24.fi",
        "luukku.com",
    ]
)
FREE_MAIL_PREFIXES: tuple[str, ...] = ("hotmail.", "outlook.", "yahoo.", "live.", "gmx.", "yandex.")

SHORTENER_DOMAINS: frozenset[str] = frozenset(
    [
        "bit.ly",
        "tinyurl.com",
        "goo.gl",
        "t.ly",
        "cutt.ly",
        "is.gd",
        "ow.ly",
        "rb.gy",
        "shorturl.at",
        "tiny.cc",
        "clck.ru",
        "vk.cc",
        "u.to",
        "buff.ly",
        "rebrand.ly",
        "s.id",
        "lnkd.in",
        "t.co",
        "bitly.com",
        "shorturl.com",
        "v.gd",
        "qps.ru",
    ]
)

_EMAIL_RE = re.compile(r"(?<![\w.+-])[a-z0-9][a-z0-9._%+-]{0,63}@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,12}\b")
_AT = r"(?:\s*[(\[{]\s*(?:at|@|а|собака)\s*[)\]}]\s*|\s+(?:at|собака)\s+)"
_DOT = r"(?:\s*[(\[{]\s*(?:dot|punkt|точка|\.)\s*[)\]}]\s*|\s+(?:dot|точка)\s+|\.)"
_OBF_EMAIL_RE = re.compile(
    rf"(?<![\w.+-])(?P<local>[a-z0-9][a-z0-9._%+-]{{0,63}}){_AT}"
    rf"(?P<domain>[a-z0-9-]+(?:{_DOT}[a-z0-9-]+){{0,3}}{_DOT}[a-z]{{2,12}})\b",
)
_DOT_SPLIT_RE = re.compile(_DOT)
# Same matches as _AT without its optional leading whitespace: enough to tell whether _AT occurs at all, and
# it starts with a character class, so the scan skips ahead instead of trying every position.
_OBF_AT_HINT_RE = re.compile(r"[(\[{]\s*(?:at|@|а|собака)\s*[)\]}]|\s(?:at|собака)\s")

_URL_CHARS = r"[^\s<>\"'()\[\]{}]"
_WA_LINK_RE = re.compile(
    rf"(?:https?://)?(?:wa\.me/|api\.whatsapp\.com/send/?\?phone=|whatsapp://send\?phone=)\+?(?P<num>\d{{7,15}})"
    rf"|(?:https?://)?chat\.whatsapp\.com/(?P<group>{_URL_CHARS}+)",
)
_VIBER_LINK_RE = re.compile(r"viber://(?:chat|add|contact)\?number=(?:%2B|\+)?(?P<num>\d{7,15})")
_TG_LINK_RE = re.compile(
    rf"(?:https?://)?(?:t\.me|telegram\.me|telegram\.dog)/(?:(?P<handle>[a-z][a-z0-9_]{{3,31}})\b(?!/)"
    rf"|(?P<invite>(?:\+|joinchat/){_URL_CHARS}+))",
)
_URL_RE = re.compile(
    rf"(?:https?://|www\.){_URL_CHARS}+"
    rf"|(?<![@\w.-])(?:[a-z0-9-]+\.)+(?:lv|lt|ee|fi|pl|ru|com|eu|net|org|info|biz|de|uk|no|se|dk|io|ly|gd|cc|at|me)"
    rf"(?:/{_URL_CHARS}*)?(?![\w-])",
)
_MESSENGER_WORD_RE = re.compile(
    r"(?P<wa>whats\s?app|watsapp|whatsap|вотсап|ватсап|вацап|вотсапп|ватсапп|вотс\s?ап)"
    r"|(?P<viber>viber|вайбер|вибер)"
    r"|(?P<tg>telegram\w*|телеграм\w*|телега\w*)"
)
# kept apart: a leading \b defeats the prefix scan, so the start boundary is checked in Python
_MESSENGER_ABBR_RE = re.compile(r"(?:(?P<wa>wa)|(?P<tg>tg|tlg|тг))\b")
# Cheap substring gates: a regex is only run when one of its literal cues occurs in the lower-cased text.
_MESSENGER_KEYS = ("whats", "watsap", "вотс", "ватс", "вацап", "viber", "вайбер", "вибер", "telegram", "телег")
_WA_LINK_KEYS = ("wa.me/", "whatsapp.com/", "whatsapp://")
_TG_LINK_KEYS = ("t.me/", "telegram.me/", "telegram.dog/")
_URL_TLD_HINT_RE = re.compile(r"\.(?:lv|lt|ee|fi|pl|ru|com|eu|net|org|info|biz|de|uk|no|se|dk|io|ly|gd|cc|at|me)")
_TG_HANDLE_AFTER_RE = re.compile(r"[\s:;,\-–—]{0,4}(?:(?<=[:\s])|^)@?(?P<handle>[a-z][a-z0-9_]{4,31})\b")
_AT_HANDLE_RE = re.compile(r"(?<![\w.@])@(?P<handle>[a-z][a-z0-9_]{4,31})\b")
_TRAILING_PUNCT = ".,;:!?)]}>'\""

_BACK_GAP_RE = re.compile(r"^\s*[(\[/\-–—]?\s*$")  # "+371 ... (WhatsApp)", "+371 ... / Viber"
MESSENGER_GAP = 40  # max chars between a messenger word and its number


def is_free_mail(domain: str) -> bool:
    d = domain.lower()
    return d in FREE_MAIL_DOMAINS or d.startswith(FREE_MAIL_PREFIXES)


class _Taken:
    """Character mask of spans already claimed by a contact (O(span) checks, also for 1 MB ads)."""

    __slots__ = ("mask",)

    def __init__(self, n: int) -> None:
        self.mask = bytearray(n)

    def overlaps(self, start: int, end: int) -> bool:
        return any(self.mask[start:end])

    def append(self, span: tuple[int, int]) -> None:
        start, end = span
        self.mask[start:end] = b"\x01" * (end - start)


def _emails(text: str, low: str, out: list[Contact], taken: _Taken) -> None:
    for m in _EMAIL_RE.finditer(low):
        value = m.group()
        raw = text[m.start() : m.end()]
        out.append(Contact("email", value, m.start(), m.end(), raw, is_free_mail(value.split("@")[1])))
        taken.append((m.start(), m.end()))
    if not _OBF_AT_HINT_RE.search(low):
        return
    for m in _OBF_EMAIL_RE.finditer(low):
        if taken.overlaps(m.start(), m.end()):
            continue
        domain = ".".join(p.strip() for p in _DOT_SPLIT_RE.split(m.group("domain")))
        raw_at = low[m.end("local") : m.start("domain")]
        raw_dom = m.group("domain")
        bare = not any(c in raw_at for c in "([{") and not any(c in raw_dom for c in "([{ ")
        if bare and not is_free_mail(domain):
            continue  # "look at example.lv" is not an e-mail address
        value = f"{m.group('local')}@{domain}"
        raw = text[m.start() : m.end()]
        out.append(Contact("email", value, m.start(), m.end(), raw, is_free_mail(domain)))
        taken.append((m.start(), m.end()))


def _has_any(low: str, keys: tuple[str, ...]) -> bool:
    return any(k in low for k in keys)


def _links(text: str, low: str, out: list[Contact], taken: _Taken) -> None:
    for m in _WA_LINK_RE.finditer(low) if _has_any(low, _WA_LINK_KEYS) else ():
        raw = text[m.start() : m.end()]
        value = "+" + m.group("num") if m.group("num") else raw.rstrip(_TRAILING_PUNCT)
        out.append(Contact("whatsapp", value, m.start(), m.end(), raw))
        taken.append((m.start(), m.end()))
    for m in _VIBER_LINK_RE.finditer(low) if "viber://" in low else ():
        out.append(Contact("viber", "+" + m.group("num"), m.start(), m.end(), text[m.start() : m.end()]))
        taken.append((m.start(), m.end()))
    for m in _TG_LINK_RE.finditer(low) if _has_any(low, _TG_LINK_KEYS) else ():
        if m.group("handle"):
            value = "@" + m.group("handle")
            end = m.end()
        else:
            raw = text[m.start() : m.end()].rstrip(_TRAILING_PUNCT)
            end = m.start() + len(raw)
            value = raw if raw.lower().startswith("http") else "https://" + raw
        out.append(Contact("telegram", value, m.start(), end, text[m.start() : end]))
        taken.append((m.start(), end))
    if "http" not in low and "www." not in low and _URL_TLD_HINT_RE.search(low) is None:
        return
    for m in _URL_RE.finditer(low):
        if taken.overlaps(m.start(), m.end()):
            continue
        raw = text[m.start() : m.end()].rstrip(_TRAILING_PUNCT)
        if not raw or "." not in raw:
            continue
        end = m.start() + len(raw)
        value = raw if re.match(r"https?://", raw, re.I) else "http://" + raw
        host = re.sub(r"^https?://", "", value, flags=re.I).split("/")[0].lower().removeprefix("www.")
        out.append(Contact("url", value, m.start(), end, raw, shortener=host in SHORTENER_DOMAINS))
        taken.append((m.start(), end))


def _phones(
    text: str, low: str, default_region: str | None, out: list[Contact], taken: _Taken, words: list[str] | None
) -> list[PhoneMatch]:
    kept: list[PhoneMatch] = []
    seen: set[str] = set()
    for p in find_phones(low, default_region, words=words):
        if taken.overlaps(p.start, p.end):
            continue
        kept.append(p)
        if p.e164 in seen:
            continue
        seen.add(p.e164)
        raw = text[p.start : p.end]
        out.append(Contact("phone", p.e164, p.start, p.end, raw, line_type=p.line_type, region=p.region))
    return kept


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _messenger_mentions(text: str, low: str, phones: list[PhoneMatch], out: list[Contact]) -> None:
    """Numbers written next to "WhatsApp"/"Viber"/"Telegram", and Telegram @handles."""
    starts = [p.start for p in phones]
    mentions_tg = False
    mentions = [*_MESSENGER_WORD_RE.finditer(low)] if _has_any(low, _MESSENGER_KEYS) else []
    mentions += [m for m in _MESSENGER_ABBR_RE.finditer(low) if m.start() == 0 or not _is_word(low[m.start() - 1])]
    mentions.sort(key=lambda m: m.start())
    for m in mentions:
        kind = "whatsapp" if m.group("wa") else "telegram" if m.group("tg") else "viber"
        if kind == "telegram":
            mentions_tg = True
            h = _TG_HANDLE_AFTER_RE.match(low, m.end())
            if h and h.group("handle") not in _NOT_HANDLES:
                hs, he = h.start("handle"), h.end("handle")
                if hs > 0 and text[hs - 1] == "@":
                    hs -= 1
                out.append(Contact("telegram", "@" + h.group("handle"), hs, he, text[hs:he]))
                continue
        # the next phone after the word, or the phone right before it ("+371 ... (WhatsApp)")
        k = bisect_left(starts, m.end())
        target: PhoneMatch | None = None
        if (
            k > 0
            and 0 <= m.start() - phones[k - 1].end <= 12
            and _BACK_GAP_RE.match(text[phones[k - 1].end : m.start()])
        ):
            target = phones[k - 1]
        if target is None and k < len(phones) and phones[k].start - m.end() <= MESSENGER_GAP:
            gap = text[m.end() : phones[k].start]
            if not any(ch.isdigit() for ch in gap):
                target = phones[k]
        if target is not None:
            out.append(Contact(kind, target.e164, target.start, target.end, text[target.start : target.end]))
    if mentions_tg:
        tg_starts = {c.start for c in out if c.kind == "telegram"}
        for h in _AT_HANDLE_RE.finditer(low):
            hs, he = h.start(), h.end()
            if hs in tg_starts or (he < len(text) and text[he] == "."):
                continue
            out.append(Contact("telegram", "@" + h.group("handle"), hs, he, text[hs:he]))


_NOT_HANDLES = frozenset(
    {
        "kanals",
        "kanal",
        "kanale",
        "channel",
        "kanava",
        "kanaal",
        "kanalas",
        "канал",
        "chat",
        "group",
        "grupa",
        "grupā",
        "grupie",
        "ryhmä",
        "direct",
        "messenger",
        "viber",
        "whatsapp",
        "vai",
        "arba",
        "lub",
        "tai",
        "või",
        "или",
        "and",
        "un",
        "ir",
        "ja",
        "i",
        "tel",
        "phone",
        "numurs",
        "numer",
        "numeris",
        "numero",
        "number",
        "номер",
    }
)


def _dedupe(contacts: list[Contact]) -> list[Contact]:
    seen: set[tuple[str, str]] = set()
    out: list[Contact] = []
    for c in sorted(contacts, key=lambda c: (c.start, c.end, c.kind)):
        key = (c.kind, c.value)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def extract_contacts(
    text: str, default_region: str | None = None, *, low: str | None = None, words: list[str] | None = None
) -> list[Contact]:
    """All contacts in ``text`` sorted by offset; (kind, value) pairs are unique.

    ``low`` (``lower_same_length(text)``) and ``words`` (the ``[^\\W\\d_]+`` tokens of ``low``) may be given
    when the caller computed them already.
    """
    if not text:
        return []
    out: list[Contact] = []
    taken = _Taken(len(text))
    if low is None:
        low = lower_same_length(text)
    _emails(text, low, out, taken)
    _links(text, low, out, taken)
    phones = _phones(text, low, default_region, out, taken, words)
    _messenger_mentions(text, low, phones, out)
    return _dedupe(out)


def lower_same_length(text: str) -> str:
    """``text.lower()`` with offsets preserved (chars whose lower-case form is longer are kept)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(lc if len(lc := ch.lower()) == 1 else ch for ch in text)
