"""Advertised pay -> EUR per month, with evidence spans: currencies, periods, ranges, qualifiers, hard negatives."""

from __future__ import annotations

import pytest

from features import FeatureExtractor
from features.factdata import fx_table
from features.facts import extract_salaries

FX = fx_table()

# (lang, ad text, evidence text, qualifier, amount_min, amount_max, currency, period)
SALARIES: list[tuple[str, str, str, str, float | None, float | None, str, str]] = [
    ("en", "Earn up to €3000 per week, no experience needed.", "to €3000 per week", "up_to", None, 3000, "EUR", "week"),
    (
        "en",
        "Warehouse operative, £11.50 per hour, overtime available.",
        "£11.50 per hour",
        "exact",
        11.5,
        11.5,
        "GBP",
        "hour",
    ),
    ("en", "Salary 3k-5k USD monthly plus bonus.", "3k-5k USD monthly", "range", 3000, 5000, "USD", "month"),
    ("en", "Competitive salary £35 000 depending on experience.", "£35 000", "exact", 35000, 35000, "GBP", "year"),
    ("lv", "Alga 1200-1500 EUR bruto, oficiāls darba līgums.", "1200-1500 EUR", "range", 1200, 1500, "EUR", "month"),
    ("lv", "Pelni līdz 3000 € mēnesī jau no pirmās dienas!", "līdz 3000 € mēnesī", "up_to", None, 3000, "EUR", "month"),
    (
        "lv",
        "Stundas likme 8,50 EUR par stundu, maksājam katru nedēļu.",
        "8,50 EUR par stundu",
        "exact",
        8.5,
        8.5,
        "EUR",
        "hour",
    ),
    (
        "lt",
        "Atlyginimas 600–750 GBP per savaitę, gyvenamoji vieta.",
        "600–750 GBP per savaitę",
        "range",
        600,
        750,
        "GBP",
        "week",
    ),
    (
        "lt",
        "Siūlome: atlyginimą nuo 2750 EUR per mėnesį.",
        "nuo 2750 EUR per mėnesį",
        "from",
        2750,
        None,
        "EUR",
        "month",
    ),
    ("et", "Palk 3000–4000 € kuus kätte, elamine tasuta.", "3000–4000 € kuus", "range", 3000, 4000, "EUR", "month"),
    ("et", "Pakume: palk alates 1300 eurot bruto, tööleping.", "alates 1300 eurot", "from", 1300, None, "EUR", "month"),
    ("fi", "Ansiot 4000–6000 € kuukaudessa + tipit.", "4000–6000 € kuukaudessa", "range", 4000, 6000, "EUR", "month"),
    ("fi", "Tuntipalkka 11,20 € + urakkalisä kilojen mukaan.", "11,20 €", "exact", 11.2, 11.2, "EUR", "hour"),
    (
        "fi",
        "Palkka 52 000–58 000 NOK kuukaudessa työehtosopimuksen mukaan.",
        "52 000–58 000 NOK kuukaudessa",
        "range",
        52000,
        58000,
        "NOK",
        "month",
    ),
    ("pl", "Oferujemy wynagrodzenie 5500 zł brutto i umowę o pracę.", "5500 zł", "exact", 5500, 5500, "PLN", "month"),
    ("pl", "Stawka 30 zł/h netto, wypłata co tydzień.", "30 zł/h", "exact", 30, 30, "PLN", "hour"),
    (
        "pl",
        "Wynagrodzenie 3.000,00 zł miesięcznie na rękę.",
        "3.000,00 zł miesięcznie",
        "exact",
        3000,
        3000,
        "PLN",
        "month",
    ),
    ("pl", "Wynagrodzenie od 2200 € netto, zakwaterowanie.", "od 2200 €", "from", 2200, None, "EUR", "month"),
    (
        "ru",
        "Зарплата 1500–2000 евро в месяц, жильё бесплатно.",
        "1500–2000 евро в месяц",
        "range",
        1500,
        2000,
        "EUR",
        "month",
    ),
    ("ru", "Мы предлагаем зарплату от 60 000 рублей, ДМС.", "от 60 000 рублей", "from", 60000, None, "RUB", "month"),
    (
        "ru",
        "Оплата 3000–7000 руб. в час, выплаты каждый день.",
        "3000–7000 руб. в час",
        "range",
        3000,
        7000,
        "RUB",
        "hour",
    ),
    ("ru", "Доход до 3 тыс. евро в месяц.", "до 3 тыс. евро в месяц", "up_to", None, 3000, "EUR", "month"),
    ("en", "We pay $1,500.00 a week to the right candidate.", "$1,500.00 a week", "exact", 1500, 1500, "USD", "week"),
]


@pytest.mark.parametrize(
    ("lang", "text", "span", "qualifier", "amin", "amax", "currency", "period"),
    SALARIES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(SALARIES)],
)
def test_salary_is_parsed_and_normalised(
    lang: str,
    text: str,
    span: str,
    qualifier: str,
    amin: float | None,
    amax: float | None,
    currency: str,
    period: str,
) -> None:
    """Amount, range/qualifier, currency and period are read and converted with the fixed FX/period table."""
    (salary,) = extract_salaries(text, lang)
    assert salary.text == span and text[salary.start : salary.end] == span
    assert (salary.qualifier, salary.amount_min, salary.amount_max) == (qualifier, amin, amax)
    assert (salary.currency, salary.period) == (currency, period)
    top = amax if amax is not None else amin
    assert top is not None
    assert salary.eur_month == pytest.approx(FX.to_eur_month(top, currency, period), rel=1e-3)


def test_period_factors_are_the_documented_ones() -> None:
    """168 working hours and 4.33 weeks per month; PLN/RUB/GBP/USD rates come from data/fx_eur.yaml."""
    assert FX.period_to_month["hour"] == 168.0
    assert FX.period_to_month["week"] == 4.33
    assert FX.to_eur_month(10, "EUR", "hour") == pytest.approx(1680)
    assert FX.to_eur_month(1000, "EUR", "week") == pytest.approx(4330)
    assert {"EUR", "PLN", "RUB", "GBP", "USD", "NOK"} <= set(FX.eur_per_unit)
    assert FX.aliases["zł"] == "PLN" and FX.aliases["руб"] == "RUB" and FX.aliases["$"] == "USD"


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("lv", "Zvani +371 29145678 vai raksti WhatsApp +371 2000 0000, alga pēc vienošanās."),
        ("en", "Registration fee 150 EUR must be paid before departure."),
        ("lv", "Reģistrācijas maksa 100 eur, pārējo ieturēsim no algas."),
        ("et", "Koha broneerimiseks tuleb tasuda 100 € vahendustasu."),
        ("lt", "Prieš išvykstant reikia sumokėti 100 EUR už dokumentų tvarkymą."),
        ("ru", "Регистрационный сбор 150 евро оплачивается заранее."),
        ("pl", "Opłata rejestracyjna 300 zł, kaucja 500 zł za mieszkanie."),
        ("en", "salary requirements must able work 40 hours week normal business hours"),
        ("en", "Competitive salary, 25 days holiday, founded in 2005, team of 40 people."),
        ("lv", "Alga no 2026. gada janvāra, darba laiks 8-17."),
        ("fi", "Majoitus tilan asuntolassa 8 €/vrk, hinta on kirjattu sopimukseen."),
    ],
)
def test_hard_negatives_are_not_salaries(lang: str, text: str) -> None:
    """Phone digits, fees and deposits, durations, years and housing costs are not advertised pay."""
    assert extract_salaries(text, lang) == []


def test_phone_digits_are_never_amounts(fx: FeatureExtractor) -> None:
    """Digits of a phone number never become an amount, even next to a currency word or a pay word."""
    feats = fx.extract("Alga: zvaniet +371 2914 5678 EUR mēnesī pēc vienošanās", lang="lv")
    assert feats.salaries == []
    text = "Alga 1500 EUR mēnesī. Alga pēc pārbaudes laika: zvaniet +371 29145678 mēnesī līdz 10. datumam."
    feats = fx.extract(text, lang="lv")
    assert [c.value for c in feats.contacts] == ["+37129145678"]
    assert [s.text for s in feats.salaries] == ["1500 EUR mēnesī"]


def test_salary_evidence_and_vector(fx: FeatureExtractor) -> None:
    """The highest stated pay becomes salary_eur_month; each salary is evidence with a 'salary:' pattern."""
    text = "Darbs Vācijā. Alga 1500–2000 EUR mēnesī, piemaksa 10 EUR stundā par virsstundām."
    feats = fx.extract(text, lang="lv")
    assert [s.text for s in feats.salaries] == ["1500–2000 EUR mēnesī", "10 EUR stundā"]
    ev = [e for e in feats.evidence if e.indicator == "salary"]
    assert [e.pattern for e in ev] == ["salary:1500-2000 EUR/month", "salary:1680 EUR/month"]
    assert all(text[e.start : e.end] == e.text for e in ev)
    vec = feats.vector()
    assert vec["has_salary"] == 1.0
    assert vec["salary_eur_month"] == 2000.0
    assert vec["salary_is_range"] == 1.0 and vec["salary_is_upto"] == 0.0


def test_unrealistic_weekly_pay_is_large_per_month(fx: FeatureExtractor) -> None:
    """'Earn up to €3000 per week' is ~13 000 EUR a month and flagged as an 'up to' amount."""
    vec = fx.extract("Earn up to €3000 per week, free flights!", lang="en").vector()
    assert vec["salary_eur_month"] == pytest.approx(12990.0)
    assert vec["salary_is_upto"] == 1.0


def test_no_salary_gives_zero_features(fx: FeatureExtractor) -> None:
    vec = fx.extract("We offer a competitive salary and a friendly team.", lang="en").vector()
    assert (vec["has_salary"], vec["salary_eur_month"], vec["salary_is_range"]) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("Работа курьером, оплата 1000р в день, звоните", 1000),
        ("Грузчик, оплата 2000 р. за смену", 2000),
        ("Подработка, 1500 долл. в месяц", 1500),
    ],
)
def test_currency_written_without_its_dot_is_read(text: str, amount: float) -> None:
    """Roubles as "1000р" / "2000 р." (how most Russian ads write them) are RUB, not a KeyError for the whole batch."""
    found = extract_salaries(text, "ru")
    assert [s.amount_max for s in found] == [amount]
