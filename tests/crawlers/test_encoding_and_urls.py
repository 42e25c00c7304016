"""Pure helpers: choosing a page's encoding by letter statistics, and one URL per ad."""

from __future__ import annotations

import pytest

from crawlers.encoding import choose_encoding, plausibility
from crawlers.urls import canonical_ad_url

LV = "Darbs ārzemēs: ceļš un dzīvesvieta apmaksāta, zvaniet Žanim šodien."
LT = "Darbas užsienyje, kelionė apmokama, skambinkite Šarūnui šiandien."
RU = "Работа в Норвегии, жильё бесплатно, звоните сегодня."
PL = "Praca w Łodzi, zakwaterowanie bezpłatne, dzwoń dziś."


def _page(text: str) -> str:
    return f"<html><body><h1>{text}</h1></body></html>"


@pytest.mark.parametrize(("text", "codec"), [(LV, "cp1257"), (LT, "cp1257"), (RU, "cp1251"), (PL, "cp1257")])
@pytest.mark.parametrize("content_type", [None, "text/html", "text/html; charset=utf-8",
                                          "text/html; charset=iso-8859-1"])
def test_legacy_pages_without_or_with_a_wrong_charset(text: str, codec: str, content_type: str | None) -> None:
    """Whatever the header claims, the chosen codec decodes the bytes back to the original text."""
    body = _page(text).encode(codec)
    choice = choose_encoding(body, content_type)
    assert body.decode(choice.encoding) == _page(text)


def test_charset_normalizer_alone_gets_baltic_text_wrong() -> None:
    """Why this module exists: Scrapy's fallback detector (charset_normalizer, a dependency of Scrapy itself, so
    always installed: imported, never skipped) misreads short windows-1257 Latvian text."""
    import charset_normalizer
    body = _page(LV).encode("cp1257")
    guess = charset_normalizer.from_bytes(body).best()
    assert guess is None or body.decode(guess.encoding, errors="replace") != _page(LV)
    assert body.decode(choose_encoding(body, None).encoding) == _page(LV)


def test_declarations_that_agree_with_the_bytes_are_kept() -> None:
    assert choose_encoding(_page(RU).encode("cp1251"), "text/html; charset=windows-1251").reason == "declared"
    assert choose_encoding(_page(LV).encode("utf-8"), "text/html; charset=utf-8").encoding == "utf-8"
    assert choose_encoding(b"<html>plain ascii</html>", None, fallback="windows-1257").encoding == "cp1257"
    stale = choose_encoding(_page(LV).encode("utf-8"), "text/html; charset=windows-1257")
    assert (stale.encoding, stale.reason) == ("utf-8", "corrected")


def test_bom_force_and_garbage() -> None:
    assert choose_encoding(b"\xef\xbb\xbf" + _page(LV).encode(), "text/html; charset=windows-1251").reason == "bom"
    assert choose_encoding(_page(LV).encode(), None, force="windows-1257").encoding == "cp1257"
    damaged = _page(LV + " \xff").encode("utf-8").replace(b"\xc3\xbf", b"\xff\xfe")
    assert choose_encoding(damaged, "text/html; charset=utf-8").encoding == "utf-8"


def test_plausibility_prefers_words_over_mojibake() -> None:
    good, bad = plausibility(LV), plausibility(_page(LV).encode("cp1257").decode("cp1251"))
    assert good.bad == 0 and good.good > 0
    assert bad.score < 0


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://h.example/ad/1", "https://h.example/ad/1"),
        ("https://h.example/ad/1#contact", "https://h.example/ad/1"),
        ("https://h.example/ad?id=7&utm_source=fb&utm_medium=x", "https://h.example/ad?id=7"),
        ("https://h.example/ad?fbclid=abc&id=7&gclid=z", "https://h.example/ad?id=7"),
        ("https://h.example/ad?b=2&a=1", "https://h.example/ad?b=2&a=1"),
    ],
)
def test_canonical_ad_url(url: str, canonical: str) -> None:
    """Fragments and analytics parameters never make a second ad; other parameters (ids) are kept as is."""
    assert canonical_ad_url(url) == canonical
