"""Destinations: inflected country and city names in 7 languages -> ISO codes, and destination_abroad."""

from __future__ import annotations

import pytest

from features import FeatureExtractor
from features.facts import extract_destinations

# (lang, ad text, evidence text, ISO country, canonical city or None)
PLACES: list[tuple[str, str, str, str, str | None]] = [
    ("lv", "Darbs Norvēģijā zivju rūpnīcā, izbraukšana rīt.", "Norvēģijā", "NO", None),
    ("lv", "Vasaras darbs jauniešiem Vācijā no 16 gadiem.", "Vācijā", "DE", None),
    ("lv", "Kastings: modeles, darbs Dubaijā, biļetes apmaksātas.", "Dubaijā", "AE", "Dubai"),
    ("lv", "Noliktavas darbinieks Liepājā, maiņu darbs.", "Liepājā", "LV", "Liepaja"),
    ("ru", "Работа в Германии на складе, жильё бесплатно.", "Германии", "DE", None),
    ("ru", "Требуются сборщики в Польше, оплата еженедельно.", "Польше", "PL", None),
    ("ru", "Компания приглашает кладовщика в Санкт-Петербург.", "Санкт-Петербург", "RU", "Saint Petersburg"),
    ("pl", "Opieka nad seniorką w Niemczech, zmiana od zaraz.", "Niemczech", "DE", None),
    ("pl", "Praca w Holandii na produkcji, zakwaterowanie.", "Holandii", "NL", None),
    ("pl", "Magazynier w Poznaniu, umowa o pracę.", "Poznaniu", "PL", "Poznan"),
    ("fi", "Muuttaisitko Saksaan? Hotellityö, majoitus järjestetty.", "Saksaan", "DE", None),
    ("fi", "Kalatehdas Norjassa hakee työntekijöitä.", "Norjassa", "NO", None),
    ("fi", "Sairaanhoitajia Tromssaan, laillistus vaaditaan.", "Tromssaan", "NO", "Tromso"),
    ("et", "Tööd Soomes ehitusel, keeleoskust pole vaja.", "Soomes", "FI", None),
    ("et", "Soome ehitusfirma otsib kohe abitöölisi.", "Soome", "FI", None),
    ("et", "Otsime laotöötajat Tallinna, tööleping.", "Tallinna", "EE", "Tallinn"),
    ("lt", "Skubiai ieškome darbuotojų į sandėlius Anglijoje.", "Anglijoje", "GB", None),
    ("lt", "Darbas Vokietijoje, gyvenamoji vieta suteikiama.", "Vokietijoje", "DE", None),
    ("lt", "Vairuotojas Klaipėdoje, C kategorija.", "Klaipėdoje", "LT", "Klaipeda"),
    ("en", "Hostesses wanted for a VIP club in Dubai, flights paid.", "Dubai", "AE", "Dubai"),
    ("en", "Warehouse operatives needed in the United Kingdom.", "United Kingdom", "GB", None),
    ("en", "Nannies for families in New York, visa sponsored.", "New York", "US", "New York"),
]


@pytest.mark.parametrize(
    ("lang", "text", "span", "iso", "city"), PLACES, ids=[f"{c[0]}-{i}" for i, c in enumerate(PLACES)]
)
def test_inflected_place_names(lang: str, text: str, span: str, iso: str, city: str | None) -> None:
    (place,) = extract_destinations(text)
    assert (place.text, place.country, place.city) == (span, iso, city)
    assert text[place.start : place.end] == span


@pytest.mark.parametrize(
    "text",
    [
        "Vācu valodas zināšanas būs priekšrocība.",  # German language, not Germany
        "Saksan kielen taito on eduksi.",  # fi: German language skills
        "Soome keele oskus on kohustuslik.",  # et: Finnish language
        "Znajomość języka ukraińskiego i rosyjskiego.",  # pl: language adjectives
        "Требуется знание английского и немецкого языка.",  # ru: language adjectives
        "Lietuvių kalbos žinios privalomos.",  # lt: Lithuanian language
        "We are a great team with new ideas, united by one goal.",  # first words of multi-word names only
        "Apply at www.logistics-uk.co.uk/careers or jobs@firma.de",  # inside URLs / e-mails (blocked in extractor)
    ],
)
def test_language_words_and_fragments_are_not_places(fx: FeatureExtractor, text: str) -> None:
    assert fx.extract(text).destinations == []


@pytest.mark.parametrize(
    ("lang", "text", "abroad"),
    [
        ("lv", 'SIA "Loģistika", Brīvības iela 5, Rīga. Noliktavas darbinieks Rīgā.', 0.0),
        ("lv", "Darbs Norvēģijā, sīkāka informācija Rīgā, Brīvības ielā 5.", 1.0),
        ("ru", "Работа в Риге, офис в центре города.", 0.0),  # Russian-language ads address Baltic residents
        ("ru", "Работа в Германии, выезд из Риги.", 1.0),
        ("pl", "Magazynier w Poznaniu, umowa o pracę.", 0.0),
        ("pl", "Praca w Niemczech, wyjazd z Poznania.", 1.0),
        ("et", "Otsime laotöötajat Tallinna.", 0.0),
        ("fi", "Myyjä Helsingin myymälään.", 0.0),
        ("lt", "Darbas Vilniuje.", 0.0),
        ("en", "Warehouse operative needed in Manchester.", 0.0),
        ("en", "Work in Norway, flights paid.", 1.0),
    ],
)
def test_destination_abroad_depends_on_the_language_home(
    fx: FeatureExtractor, lang: str, text: str, abroad: float
) -> None:
    """A company address in Riga is not 'abroad' for a Latvian ad; Norway is."""
    vec = fx.extract(text, lang=lang).vector()
    assert vec["destination_abroad"] == abroad
    assert vec["n_destinations"] >= 1.0


def test_destination_evidence(fx: FeatureExtractor) -> None:
    text = "Darbs Vācijā vai Norvēģijā (Oslo), pieteikties Rīgā."
    feats = fx.extract(text, lang="lv")
    ev = [e for e in feats.evidence if e.indicator == "destination"]
    assert [(e.text, e.pattern) for e in ev] == [
        ("Vācijā", "destination:DE"),
        ("Norvēģijā", "destination:NO"),
        ("Oslo", "destination:NO:Oslo"),
        ("Rīgā", "destination:LV:Riga"),
    ]
    assert feats.vector()["n_destinations"] == 3.0
