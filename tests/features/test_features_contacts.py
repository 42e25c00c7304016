"""Contact extraction: phones (E.164), e-mails, messengers, URLs; offsets into the original text."""

from __future__ import annotations

import pytest

from features import Contact, extract_contacts


def _only(contacts: list[Contact], kind: str) -> list[Contact]:
    return [c for c in contacts if c.kind == kind]


def _assert_offsets(text: str, contacts: list[Contact]) -> None:
    for c in contacts:
        assert text[c.start : c.end] == c.raw


@pytest.mark.parametrize(
    ("text", "region", "e164"),
    [
        ("Zvani: +371 29145678", None, "+37129145678"),
        ("Zvani: 29 145 678", "LV", "+37129145678"),
        ("Zvani +371 2 9 1 4 5 6 7 8 tagad", None, "+37129145678"),
        ("numurs: divi deviņi viens četri pieci seši septiņi astoņi", "LV", "+37129145678"),
        ("Tel. +370 612 34567", None, "+37061234567"),
        ("tel. 8 612 34567", "LT", "+37061234567"),
        ("Helista +372 5123 4567", None, "+37251234567"),
        ("tel 5123 4567", "EE", "+37251234567"),
        ("Soita 040 123 4567", "FI", "+358401234567"),
        ("Puh. +358 40 123 4567", None, "+358401234567"),
        ("Dzwoń 601-234-567", "PL", "+48601234567"),
        ("Dzwoń 0048 601 234 567", None, "+48601234567"),
        ("tel: sześć zero jeden dwa trzy cztery pięć sześć siedem", "PL", "+48601234567"),
        ("Звоните +7 (912) 345-67-89", None, "+79123456789"),
        ("тел. 8 912 345 67 89", "RU", "+79123456789"),
        ("звони восемь девять один два три четыре пять шесть семь восемь девять", "RU", "+79123456789"),
        ("Call +44 7911 123456", None, "+447911123456"),
        ("Call 07911 123456", "GB", "+447911123456"),
        ("Ring +47 412 34 567", None, "+4741234567"),
        ("Anrufen +49 151 23456789", None, "+4915123456789"),
        ("call two nine one four five six seven eight", "LV", "+37129145678"),
    ],
)
def test_phone_numbers_are_normalised_to_e164(text: str, region: str | None, e164: str) -> None:
    """Plain, spaced, 00-prefixed and spelled-out numbers of every target country become E.164."""
    contacts = extract_contacts(text, default_region=region)
    phones = _only(contacts, "phone")
    assert [p.value for p in phones] == [e164]
    _assert_offsets(text, contacts)


def test_phone_offsets_cover_the_raw_number() -> None:
    """start/end of a phone contact point at the number as written, including the leading '+'."""
    text = "Info: +371 2 9 1 4 5 6 7 8."
    (phone,) = _only(extract_contacts(text), "phone")
    assert phone.raw == "+371 2 9 1 4 5 6 7 8"
    assert text[phone.start : phone.end] == phone.raw


def test_two_numbers_in_a_row_are_split() -> None:
    """'29145678 67123456' is two Latvian numbers (mobile + landline), not one long foreign number."""
    phones = _only(extract_contacts("tel 29145678 67123456", "LV"), "phone")
    assert [(p.value, p.line_type) for p in phones] == [("+37129145678", "mobile"), ("+37167123456", "landline")]


@pytest.mark.parametrize(
    "text",
    ["Alga 3 000 - 5 000 EUR mēnesī", "Termiņš 2024-01-15", "reģ. nr. 40003123456", "Salary 2500 EUR"],
)
def test_prices_dates_and_ids_are_not_phones(text: str) -> None:
    """Money amounts, dates and registry numbers do not turn into phone contacts."""
    assert _only(extract_contacts(text, "LV"), "phone") == []


def test_duplicate_phone_is_reported_once() -> None:
    """The same number written twice yields one phone contact."""
    phones = _only(extract_contacts("+371 29145678 vai 29 14 56 78", "LV"), "phone")
    assert len(phones) == 1


@pytest.mark.parametrize(
    ("text", "value", "free"),
    [
        ("CV: Darbs.Riga@Gmail.com", "darbs.riga@gmail.com", True),
        ("pisz: jan.kowalski (at) wp (dot) pl", "jan.kowalski@wp.pl", True),
        ("rakstiet anna[at]inbox.lv", "anna@inbox.lv", True),
        ("пишите ivan {at} mail {dot} ru", "ivan@mail.ru", True),
        ("contact john at gmail.com", "john@gmail.com", True),
        ("HR: rekry@marjatila.fi", "rekry@marjatila.fi", False),
        ("jobs [at] hillsidefarms [dot] co [dot] uk", "jobs@hillsidefarms.co.uk", False),
    ],
)
def test_emails_including_obfuscated(text: str, value: str, free: bool) -> None:
    """E-mails are lower-cased, de-obfuscated ((at)/[at]/{at}/(dot)) and flagged as free-mail or not."""
    contacts = extract_contacts(text)
    (email,) = _only(contacts, "email")
    assert email.value == value
    assert email.free_mail is free
    _assert_offsets(text, contacts)


def test_plain_at_phrase_is_not_an_email() -> None:
    """'look at example.lv' is prose, not an obfuscated address (bare 'at' needs a free-mail domain)."""
    assert _only(extract_contacts("Please look at example.lv for details"), "email") == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Telegram: @Rabota_EU", "@rabota_eu"),
        ("Пишите в телеграм @vakansii_riga", "@vakansii_riga"),
        ("tg: work_norway", "@work_norway"),
        ("kanāls t.me/darbs_arzemes", "@darbs_arzemes"),
        ("https://t.me/Jobs_Europe_2024", "@jobs_europe_2024"),
    ],
)
def test_telegram_handles(text: str, value: str) -> None:
    """Telegram handles after 'telegram'/'tg'/'телеграм' and t.me links become lower-cased '@handle'."""
    contacts = extract_contacts(text)
    tg = _only(contacts, "telegram")
    assert [c.value for c in tg] == [value]
    _assert_offsets(text, contacts)


def test_whatsapp_and_viber_numbers() -> None:
    """A number after 'WhatsApp'/'Viber' (or in a wa.me link) is a messenger contact with an E.164 value."""
    text = "WhatsApp: +371 29145678, Viber +7 912 345 67 89, https://wa.me/37061234567"
    contacts = extract_contacts(text)
    assert {c.value for c in _only(contacts, "whatsapp")} == {"+37129145678", "+37061234567"}
    assert [c.value for c in _only(contacts, "viber")] == ["+79123456789"]
    _assert_offsets(text, contacts)


def test_whatsapp_label_after_number_binds_to_that_number() -> None:
    """'+371 29145678 (WhatsApp), tel. 67123456' marks only the first number as WhatsApp."""
    contacts = extract_contacts("+371 29145678 (WhatsApp), tel. 67123456", "LV")
    assert [c.value for c in _only(contacts, "whatsapp")] == ["+37129145678"]


def test_word_ending_in_wa_is_not_whatsapp() -> None:
    """Place names like 'Warszawa' do not count as a 'wa' (WhatsApp) mention."""
    contacts = extract_contacts("Biuro: Warszawa, tel. 22 123 45 67", "PL")
    assert _only(contacts, "whatsapp") == []


def test_urls_and_shorteners() -> None:
    """Web links are URL contacts; link shorteners are flagged; messenger links are not URLs."""
    text = "Apply: bit.ly/3xYz or www.firma.lv/karjera, https://example.com/jobs?id=1. Chat: t.me/abcde"
    contacts = extract_contacts(text)
    urls = _only(contacts, "url")
    assert [(u.value, u.shortener) for u in urls] == [
        ("http://bit.ly/3xYz", True),
        ("http://www.firma.lv/karjera", False),
        ("https://example.com/jobs?id=1", False),
    ]
    _assert_offsets(text, contacts)


def test_email_domain_is_not_a_url() -> None:
    """The domain part of an e-mail address is not reported again as a URL."""
    contacts = extract_contacts("e-pasts: info@firma.lv")
    assert [c.kind for c in contacts] == ["email"]
