"""Readable reason labels for model features, with the ad's own value:
"no business contact (only messenger, free e-mail, mobile) (yes)",
"no company e-mail", "contact shared with 4 other ads" — never "n_company_email +0.7"."""

from __future__ import annotations

from collections.abc import Callable

from features.taxonomy import load_taxonomy

_LANGUAGES = {"en": "English", "lv": "Latvian", "lt": "Lithuanian", "fi": "Finnish", "et": "Estonian",
              "pl": "Polish", "ru": "Russian"}

Label = Callable[[float], str]


def _yes_no(text: str) -> Label:
    return lambda v: f"{text} ({'yes' if v else 'no'})"


def _count(present: str, absent: str) -> Label:
    """``present`` may use ``{n}``; ``absent`` is said when the value is zero."""
    return lambda v: present.format(n=_num(v)) if v else absent


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:.2f}"


_LABELS: dict[str, Label] = {
    "n_indicators_distinct": _count("{n} different lure indicators", "no lure indicators"),
    "n_evidence": _count("{n} lure phrases", "no lure phrases"),
    "n_phones": _count("{n} phone number(s)", "no phone number"),
    "n_phones_mobile": _count("{n} mobile number(s)", "no mobile number"),
    "n_phones_landline": _count("landline phone given ({n})", "no landline phone"),
    "n_phones_foreign": _count("{n} foreign phone number(s)", "no foreign phone number"),
    "n_emails": _count("{n} e-mail address(es)", "no e-mail address"),
    "n_freemail": _count("free-mail address ({n})", "no free-mail address"),
    "n_company_email": _count("company e-mail given ({n})", "no company e-mail"),
    "n_messenger": _count("messenger contact ({n})", "no messenger contact"),
    "n_whatsapp": _count("WhatsApp contact ({n})", "no WhatsApp contact"),
    "n_telegram": _count("Telegram contact ({n})", "no Telegram contact"),
    "n_viber": _count("Viber contact ({n})", "no Viber contact"),
    "messenger_only": _yes_no("no business contact (only messenger, free e-mail, mobile)"),
    "n_urls": _count("{n} web link(s)", "no web link"),
    "n_shortener_urls": _count("shortened link ({n})", "no shortened link"),
    "has_salary": _yes_no("pay stated"),
    "salary_eur_month": _count("pay about €{n} a month", "no pay stated"),
    "salary_is_range": _yes_no("pay given as a range"),
    "salary_is_upto": _yes_no('pay given as "up to"'),
    "has_age": _yes_no("age requirement"),
    "min_age": _count("minimum age {n}", "no minimum age"),
    "max_age": _count("maximum age {n}", "no maximum age"),
    "age_range_young": _yes_no("narrow young age range"),
    "age_minor": _yes_no("addresses minors"),
    "n_destinations": _count("{n} destination(s) named", "no destination named"),
    "destination_abroad": _yes_no("work abroad"),
    "n_chars": lambda v: f"ad length {_num(v)} characters",
    "language_confidence": lambda v: f"language detection confidence {v:.2f}",
    "n_languages": _count("{n} language(s) in the text", "no language detected"),
    "secondary_language_share": lambda v: f"{v:.0%} of the text in a second language",
    "shared_contact_ads": _count("contact shared with {n} other ad(s)", "contact not shared with other ads"),
    "shared_contact_sites": _count("linked ads on {n} site(s)", "no linked ads on other sites"),
    "shared_contact_cities": _count("linked ads in {n} cities", "no linked ads in other cities"),
    "cluster_size": lambda v: f"posted as a template ({_num(v)} near-identical ads)" if v > 1 else "unique text",
    "contact_velocity_7d": _count("{n} ads with the same contact within 7 days", "no recent ads with the same contact"),
    "cluster_velocity_7d": _count("{n} copies posted within 7 days", "no recent copies"),
    "posting_velocity_7d": _count("{n} linked ads posted within 7 days", "no recent linked ads"),
    "salary_z": lambda v: (f"pay {abs(v):.1f} SD {'above' if v > 0 else 'below'} similar ads" if v
                           else "pay typical for similar ads (or not stated)"),
}

# Which extractor evidence (``features.evidence[].indicator``) or contact kinds (``entities.kind``) back a feature.
EVIDENCE_INDICATORS: dict[str, tuple[str, ...]] = {
    "has_salary": ("salary",), "salary_eur_month": ("salary",), "salary_is_range": ("salary",),
    "salary_is_upto": ("salary",), "has_age": ("age",), "min_age": ("age",), "max_age": ("age",),
    "age_range_young": ("age",), "age_minor": ("age",), "n_destinations": ("destination",),
    "destination_abroad": ("destination",), "n_evidence": ("*",), "n_indicators_distinct": ("*",),
}
CONTACT_KINDS: dict[str, tuple[str, ...]] = {
    "n_phones": ("phone",), "n_phones_mobile": ("phone",), "n_phones_landline": ("phone",),
    "n_phones_foreign": ("phone",), "n_emails": ("email",), "n_freemail": ("email",), "n_company_email": ("email",),
    "n_messenger": ("whatsapp", "telegram", "viber"), "n_whatsapp": ("whatsapp",), "n_telegram": ("telegram",),
    "n_viber": ("viber",), "messenger_only": ("whatsapp", "telegram", "viber", "email"), "n_urls": ("url",),
    "n_shortener_urls": ("url",), "shared_contact_ads": ("phone", "email", "whatsapp", "telegram", "viber"),
}


def feature_label(name: str, value: float) -> str:
    """A short phrase an analyst understands, stating this ad's value of the feature."""
    if name in _LABELS:
        return _LABELS[name](value)
    if name.startswith("ind_"):
        indicator = name.removeprefix("ind_")
        title = next((i.title for i in load_taxonomy() if i.id == indicator), indicator.replace("_", " "))
        return f"{title}: {_num(value)} phrase(s)" if value else f"no '{title.lower()}' phrases"
    if name.startswith("lang_"):
        language = _LANGUAGES.get(name.removeprefix("lang_"), name.removeprefix("lang_"))
        return f"written in {language}" if value else f"not written in {language}"
    return f"{name.replace('_', ' ')} ({_num(value)})"


# The text model sees a number as "0", an e-mail address as "email" and a web address as "url".
_PLACEHOLDER_WORDS = {"0": "<number>", "email": "<e-mail address>", "url": "<web address>"}


def text_label(ngram: str) -> str:
    return f"wording “{' '.join(_PLACEHOLDER_WORDS.get(w, w) for w in ngram.split())}”"


CHAR_PATTERNS_LABEL = "spelling / word-part patterns"
