"""Loaders of the external evaluation / training sets: counts on the real files, edge cases on small temp files.

The real sets live beside the project in ``../shared/data`` and contain real phone numbers and e-mails: these
tests assert on counts, labels, languages and refs, never on texts (``LabelledText`` keeps its text out of
its repr, so a failing assertion cannot print one either).
"""

from __future__ import annotations

import csv
import functools
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from features.near_duplicates import cluster_ids
from pipeline.external_sets import (
    EVALUATION,
    NEAR_DUPLICATE_OVERLAP,
    SOURCES,
    TRAINING,
    LabelledText,
    LoadReport,
    SourceUnavailable,
    available_sources,
    describe,
    fold_lookalikes,
    is_work_offer,
    load_report,
    load_source,
    looks_llm_broadcast,
    sources_with_role,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
REAL_SOURCES = (
    "emscad_test", "cvbankas", "pracuj_eval", "pracuj_train", "tg_spam_work", "tg_spam_work_train", "tg_ham",
    "tg_ham_train", "smishtank_jobs", "backpage_recruitment",
)
EXPECTED_ROLES = {
    "emscad_test": EVALUATION,
    "cvbankas": EVALUATION,
    "pracuj_eval": EVALUATION,
    "pracuj_train": TRAINING,
    "tg_spam_work": EVALUATION,
    "tg_spam_work_train": TRAINING,
    "tg_ham": EVALUATION,
    "tg_ham_train": TRAINING,
    "smishtank_jobs": EVALUATION,
    "backpage_recruitment": EVALUATION,
    "challenge": EVALUATION,
    "fixture_eval": EVALUATION,
}
LONG_PL = "Opis stanowiska: analiza danych sprzedażowych, przygotowanie raportów i współpraca z zespołem. " * 3

csv.field_size_limit(sys.maxsize)


def shared_file(relative: str) -> Path:
    path = SHARED / relative
    if not path.is_file():
        pytest.fail(f"missing real data file {path}: the shared data sets must be at {SHARED} (see real/README.md)")
    return path


@functools.cache
def real(name: str) -> LoadReport:
    """One load per source and test session; fails (does not skip) when the file is missing."""
    spec = SOURCES[name]
    if not spec.project_owned:
        shared_file(spec.relative_path)
    return load_report(name, SHARED, PROJECT_ROOT)


def labels_of(rows: list[LabelledText]) -> Counter[int]:
    return Counter(r.label for r in rows)


def languages_of(rows: list[LabelledText]) -> Counter[str | None]:
    return Counter(r.language for r in rows)


# ------------------------------------------------------------------------------------------ the catalogue


def test_every_source_has_the_specified_role_and_path() -> None:
    assert {name: spec.role for name, spec in SOURCES.items()} == EXPECTED_ROLES
    assert sources_with_role(TRAINING) == ["pracuj_train", "tg_spam_work_train", "tg_ham_train"]
    assert all(spec.name == name for name, spec in SOURCES.items())
    assert {n for n, s in SOURCES.items() if s.project_owned} == {"challenge", "fixture_eval"}
    assert SOURCES["challenge"].relative_path == "datasets/challenge/ads.jsonl"
    assert SOURCES["emscad_test"].relative_path == "emscad/test.csv"
    with pytest.raises(ValueError):
        sources_with_role("tuning")


def test_unknown_source_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="unknown source 'emscad_train'"):
        load_source("emscad_train", tmp_path, tmp_path)


def test_missing_file_raises_source_unavailable_naming_the_path(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable) as raised:
        load_source("emscad_test", tmp_path / "shared", tmp_path / "project")
    assert str(tmp_path / "shared" / "emscad" / "test.csv") in str(raised.value)
    with pytest.raises(SourceUnavailable) as raised:
        load_source("challenge", tmp_path / "shared", tmp_path / "project")
    assert str(tmp_path / "project" / "datasets" / "challenge" / "ads.jsonl") in str(raised.value)


def test_available_sources_lists_only_existing_files(tmp_path: Path) -> None:
    shared, project = tmp_path / "shared", tmp_path / "project"
    assert available_sources(shared, project) == []
    (shared / "emscad").mkdir(parents=True)
    (shared / "emscad" / "test.csv").write_text("text,fraudulent\nad,0\n", encoding="utf-8")
    (shared / "real" / "pracuj-pl-2016").mkdir(parents=True)
    (shared / "real" / "pracuj-pl-2016" / "pracuj_filtered.csv").write_text("id,position,description\n")
    (project / "datasets" / "challenge").mkdir(parents=True)
    (project / "datasets" / "challenge" / "ads.jsonl").write_text("")
    assert available_sources(shared, project) == ["emscad_test", "pracuj_eval", "pracuj_train", "challenge"]


def test_real_shared_sources_are_all_available() -> None:
    for name in REAL_SOURCES:
        shared_file(SOURCES[name].relative_path)
    assert set(REAL_SOURCES) | {"fixture_eval"} <= set(available_sources(SHARED, PROJECT_ROOT))


# ------------------------------------------------------------------------------------------ real files


def test_emscad_test_counts() -> None:
    with shared_file("emscad/test.csv").open(newline="", encoding="utf-8") as handle:
        raw = list(csv.DictReader(handle))
    assert len(raw) == 467
    assert sum(r["fraudulent"] == "1" for r in raw) == 219
    report = real("emscad_test")
    assert (report.selected, report.dropped_empty, report.dropped_duplicates) == (467, 0, 3)
    assert labels_of(report.rows) == {1: 216, 0: 248}  # the 3 repeated texts are all fraudulent
    assert languages_of(report.rows) == {"en": 464}
    assert len({r.ref for r in report.rows}) == 464


def test_cvbankas_counts() -> None:
    report = real("cvbankas")
    assert (report.selected, len(report.rows)) == (74, 74)
    assert labels_of(report.rows) == {0: 74}
    languages = languages_of(report.rows)
    assert languages["lt"] >= 60 and 5 <= languages["en"] <= 12  # provenance: ~8 English ads
    assert set(languages) <= {"lt", "en", "ru"}
    assert all(r.ref.startswith("file") for r in report.rows)


def pracuj_full_description_ids() -> tuple[set[str], set[str]]:
    """(odd, even) ids of the rows with a real ad body: the 847 whose description is not the NA/NULL placeholder."""
    with shared_file("real/pracuj-pl-2016/pracuj_filtered.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2851
    full = {r["id"] for r in rows if r["description"].strip() not in ("NA", "NULL", "")}
    assert len(full) == 847
    return {i for i in full if int(i) % 2}, {i for i in full if int(i) % 2 == 0}


def test_pracuj_splits_are_disjoint_and_cover_the_rows_with_a_full_description() -> None:
    odd, even = pracuj_full_description_ids()
    evaluation, training = real("pracuj_eval"), real("pracuj_train")
    eval_refs, train_refs = {r.ref for r in evaluation.rows}, {r.ref for r in training.rows}
    assert not eval_refs & train_refs
    assert not {r.text for r in evaluation.rows} & {r.text for r in training.rows}
    assert all(int(ref) % 2 == 1 for ref in eval_refs)
    assert not any(int(ref) % 2 for ref in train_refs)  # no odd id in the training source
    assert eval_refs <= odd and train_refs <= even
    # every full-description row is kept or accounted for as a duplicate / an evaluation text
    assert (evaluation.selected, training.selected) == (len(odd), len(even)) == (418, 429)
    assert len(evaluation.rows) + evaluation.dropped_duplicates == len(odd)
    assert len(training.rows) + training.dropped_duplicates + training.dropped_overlap == len(even)
    assert (len(evaluation.rows), evaluation.dropped_duplicates) == (407, 11)
    # 15 exact reposts of an evaluation text and 99 near-duplicates (one company's boilerplate) are left out
    assert (len(training.rows), training.dropped_duplicates, training.dropped_overlap) == (306, 9, 114)
    assert labels_of(evaluation.rows) == {0: 407} and labels_of(training.rows) == {0: 306}
    evaluation_and_training = [r.text for r in evaluation.rows] + [r.text for r in training.rows]
    clusters = cluster_ids(evaluation_and_training, NEAR_DUPLICATE_OVERLAP)
    assert not set(clusters[: len(evaluation.rows)]) & set(clusters[len(evaluation.rows):]), "no near-copy straddles"
    assert set(languages_of(evaluation.rows)) <= {"pl", "en"}


def test_tg_spam_work_keeps_the_work_offers_only() -> None:
    report, training = real("tg_spam_work"), real("tg_spam_work_train")
    assert (report.selected, report.dropped_duplicates, len(report.rows)) == (45, 1, 44)
    assert labels_of(report.rows) == {1: 44}
    assert languages_of(report.rows) == {"ru": 43, "en": 1}
    refs = {int(r.ref) for r in report.rows} | {int(r.ref) for r in training.rows}
    assert not refs & set(range(1, 11)), "crypto-investment testimonials offer no work"
    assert not refs & set(range(33, 48)), "the LLM-looking English broadcasts are dropped"
    assert {11, 61, 65, 69, 81, 109, 181} <= {int(r.ref) for r in report.rows}  # hand-checked work offers (lines)
    assert not refs & {51, 84, 85, 104, 110, 125, 148}  # betting, counterfeit money, intimate-photo bots


def test_tg_spam_work_training_half_is_even_lines_without_near_copies_of_the_evaluated_ones() -> None:
    evaluation, training = real("tg_spam_work"), real("tg_spam_work_train")
    assert all(int(r.ref) % 2 == 1 for r in evaluation.rows) and all(int(r.ref) % 2 == 0 for r in training.rows)
    assert (training.selected, training.dropped_duplicates, training.dropped_overlap, len(training.rows)) == (
        40, 3, 9, 28)
    assert {54, 98} <= {int(r.ref) for r in training.rows}  # hand-checked work offers on even lines
    texts = [r.text for r in evaluation.rows] + [r.text for r in training.rows]
    clusters = cluster_ids(texts, NEAR_DUPLICATE_OVERLAP)
    assert not set(clusters[: len(evaluation.rows)]) & set(clusters[len(evaluation.rows):])


def test_llm_broadcast_rule_finds_exactly_lines_33_to_47() -> None:
    path = shared_file("real/tg-spam-ru/spam-samples.txt")
    lines = path.read_text(encoding="utf-8").split("\n")
    assert len([line for line in lines if line.strip()]) == 182
    flagged = [n for n, line in enumerate(lines, start=1) if looks_llm_broadcast(fold_lookalikes(line))]
    assert flagged == list(range(33, 48))


def test_tg_ham_counts() -> None:
    """Odd lines are evaluated, even lines trained on: together the 399 chat lines, none in both."""
    evaluated, trained = real("tg_ham"), real("tg_ham_train")
    assert len(evaluated.rows) + len(trained.rows) == 399
    assert min(len(evaluated.rows), len(trained.rows)) >= 180
    assert {int(r.ref) % 2 for r in evaluated.rows} == {1} and {int(r.ref) % 2 for r in trained.rows} == {0}
    assert not {r.text for r in evaluated.rows} & {r.text for r in trained.rows}
    rows = evaluated.rows + trained.rows
    assert labels_of(rows) == {0: 399}
    assert all(len(r.text) >= 20 for r in rows)
    assert languages_of(rows)["ru"] >= 370


def test_smishtank_jobs_counts() -> None:
    report = real("smishtank_jobs")
    assert (report.selected, len(report.rows)) == (24, 24)
    assert labels_of(report.rows) == {1: 24}
    assert languages_of(report.rows) == {"en": 24}


def test_backpage_recruitment_counts() -> None:
    report = real("backpage_recruitment")
    assert (report.selected, len(report.rows)) == (17, 17)
    assert labels_of(report.rows) == {1: 17}
    assert languages_of(report.rows) == {"en": 17}


def test_fixture_eval_counts() -> None:
    report = real("fixture_eval")
    assert len(report.rows) == 114
    assert labels_of(report.rows) == {0: 99, 1: 15}
    assert set(languages_of(report.rows)) == {"en", "lv", "lt", "et", "fi", "pl", "ru"}
    assert all(":" in r.ref for r in report.rows) and len({r.ref for r in report.rows}) == 114


def test_describe_counts_real_rows_without_texts() -> None:
    rows = real("smishtank_jobs").rows + real("cvbankas").rows
    summary = describe(rows)
    assert (summary["n"], summary["lures"], summary["legit"]) == (98, 24, 74)
    assert summary["by_source"] == {"cvbankas": 74, "smishtank_jobs": 24}
    assert summary["by_label_language"]["1/en"] == 24
    assert sum(summary["by_language"].values()) == 98
    assert all(isinstance(v, int) for v in summary["by_language"].values())


# ------------------------------------------------------------------------------------------ temp files


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    return write(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def test_bom_crlf_empty_rows_and_duplicates_in_a_csv(tmp_path: Path) -> None:
    write(
        tmp_path / "emscad" / "test.csv",
        "\ufefftext,fraudulent\r\nfirst ad,1\r\n  first ad  ,0\r\n   ,0\r\n\"second\r\nad\",0\r\n",
    )
    report = load_report("emscad_test", tmp_path, tmp_path)
    assert (report.selected, report.dropped_empty, report.dropped_duplicates) == (4, 1, 1)
    assert [(r.text, r.label, r.ref, r.language) for r in report.rows] == [
        ("first ad", 1, "1", "en"),
        ("second\r\nad", 0, "4", "en"),
    ]
    assert all(r.source == "emscad_test" for r in report.rows)


def test_text_files_with_bom_blank_and_short_lines(tmp_path: Path) -> None:
    ham = (
        "\ufeffПривет всем, кто идёт сегодня на встречу?\r\n"
        "\r\n"
        "коротко\n"
        "   \n"
        "Привет всем, кто идёт сегодня на встречу?\n"
        "  Завтра будет доклад про базы данных и очереди  \n"
    )
    write(tmp_path / "real" / "tg-spam-ru" / "ham-samples.txt", ham)
    report = load_report("tg_ham", tmp_path, tmp_path)  # odd lines
    trained = load_report("tg_ham_train", tmp_path, tmp_path)  # even lines
    assert [r.ref for r in report.rows] == ["1"] and [r.ref for r in trained.rows] == ["6"]
    assert report.rows[0].text.startswith("Привет")  # no BOM
    assert trained.rows[0].text == "Завтра будет доклад про базы данных и очереди"
    assert report.dropped_duplicates == 1
    rows = report.rows + trained.rows
    assert {r.language for r in rows} == {"ru"} and {r.label for r in rows} == {0}


def test_tg_spam_work_rule_on_a_small_file(tmp_path: Path) -> None:
    lines = [
        "Нужен человек для удалённого зapaбoткa, с тебя телефон и 2 часа в день. Пиши + в ЛС",  # Latin a, p, o
        "I invested $200 and made a withdrawal of $5000, thanks to this platform, contact him",
        "Hello music lovers in this group! Grab your free concert tickets here and let's party together!",
        "Печатаем фальшивые купюры, работаем по всей РФ",
        "We are hiring remote assistants, no experience needed",
        "Преподаю технику речи. Учу самостоятельно работать с материалом.",
        "Стабильный доход от 500$ в неделю, обучение бесплатно",
        "",
    ]
    write(tmp_path / "real" / "tg-spam-ru" / "spam-samples.txt", "\n".join(lines) + "\n")
    rows = load_source("tg_spam_work", tmp_path, tmp_path)
    assert [r.ref for r in rows] == ["1", "5", "7"]
    assert [r.language for r in rows] == ["ru", "en", "ru"]
    assert all(r.label == 1 for r in rows)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Требуются курьеры и водители, ЗП от 800$ в неделю", True),
        ("Ищy пapтнepoв для coвмecтнoгo зapaбoткa", True),
        ("Пᴏдᴩᴀбᴏᴛᴋᴀ для студентов", True),  # small-capital look-alikes
        ("Открыт набор участников в группу поддержки", False),
        ("ОТКРЫТ НАБОР НА РЕКЛАМУ в канале", False),
        ("Ставим на тотал, заработок гарантирован", False),
        ("Why not use your 2 hours to work from home, 5 people are needed to earn $3,000", True),
        ("Start earning daily income with crypto trading, minimum deposit $100", False),
        ("Calling all gamers! Sign up here and join our tournament night", False),
        ("", False),
    ],
)
def test_is_work_offer(line: str, expected: bool) -> None:
    assert is_work_offer(line) is expected


def test_fold_lookalikes_only_touches_cyrillic_words() -> None:
    assert fold_lookalikes("Зapaбoтoк online") == "заработок online"
    assert fold_lookalikes("Bсем привет, Hoвoe направление") == "всем привет, новое направление"


def test_pracuj_rule_routing_and_overlap_on_a_small_file(tmp_path: Path) -> None:
    header = ["id", "href", "position", "date", "location", "grade", "employer", "description"]
    rows = [
        ["11", "h", "Analityk", "", "", "", "", LONG_PL],
        ["12", "h", "Analityk", "", "", "", "", LONG_PL],  # same text as id 11: an evaluation text
        ["13", "h", "Analityk", "", "", "", "", "NA"],
        ["14", "h", "Analityk", "", "", "", "", "NULL"],
        ["15", "h", "Data Analyst", "", "", "", "", "We are looking for a data analyst. " * 8],
        ["16", "h", "Specjalista", "", "", "", "", "Magazynier w centrum dystrybucyjnym, praca zmianowa. " * 5],
        ["18", "h", "Krótki", "", "", "", "", "Za krótki opis."],
        ["20", "h", "Analityk", "", "", "", "", LONG_PL + "Inna firma."],  # a near-copy of an evaluation text
    ]
    path = tmp_path / "real" / "pracuj-pl-2016" / "pracuj_filtered.csv"
    path.parent.mkdir(parents=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    evaluation = load_report("pracuj_eval", tmp_path, tmp_path)
    training = load_report("pracuj_train", tmp_path, tmp_path)
    assert [(r.ref, r.language) for r in evaluation.rows] == [("11", "pl"), ("15", "en")]
    assert [r.ref for r in training.rows] == ["16"]
    assert (training.selected, training.dropped_overlap) == (3, 2)
    assert evaluation.rows[0].text.startswith("Analityk\nOpis stanowiska")


def test_cvbankas_text_language_and_sections_fallback(tmp_path: Path) -> None:
    body = "Ieškome sandėlio darbuotojo Kaune. Siūlome stabilų atlyginimą, darbo sutartį ir draugišką kolektyvą."
    write_jsonl(
        tmp_path / "real" / "cvbankas-lt-html" / "cvbankas_jobs_extracted.jsonl",
        [
            {"file": "file0.html", "h1": "SANDĖLIO DARBUOTOJAS", "body_text": body, "sections": []},
            {"file": "file1.html", "h1": "Product specialist", "body_text": "  ",
             "sections": [{"heading": "About", "text": "We are looking for a product specialist in Vilnius."},
                          {"heading": "Offer", "text": "Competitive salary and a friendly team."}]},
        ],
    )
    rows = load_source("cvbankas", tmp_path, tmp_path)
    assert [(r.ref, r.language, r.label) for r in rows] == [("file0.html", "lt", 0), ("file1.html", "en", 0)]
    assert rows[0].text == "SANDĖLIO DARBUOTOJAS\n" + body
    assert rows[1].text.splitlines() == [
        "Product specialist", "We are looking for a product specialist in Vilnius.",
        "Competitive salary and a friendly team.",
    ]


def test_smishtank_and_backpage_selection(tmp_path: Path) -> None:
    smish = tmp_path / "real" / "smishtank-en" / "smishtank_dataset.csv"
    smish.parent.mkdir(parents=True)
    with smish.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["messageid", "Fulltext", "MainText", "Message Categories"])
        writer.writerow(["m1", "full one", "main one", "Job Advertisement"])
        writer.writerow(["m2", "full two", "", "Job Advertisement"])
        writer.writerow(["m3", "parcel", "parcel", "Delivery"])
    assert [(r.ref, r.text) for r in load_source("smishtank_jobs", tmp_path, tmp_path)] == [
        ("m1", "main one"), ("m2", "full two"),
    ]
    write(
        tmp_path / "real" / "dig-backpage-ads" / "testing.csv",
        "label,extracted_text\n3,escort ad\n4,now hiring dancers\n2,massage\n4, \n",
    )
    report = load_report("backpage_recruitment", tmp_path, tmp_path)
    assert [(r.ref, r.text, r.label, r.language) for r in report.rows] == [("2", "now hiring dancers", 1, "en")]
    assert report.dropped_empty == 1


def test_challenge_file_under_the_project_root(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "project" / "datasets" / "challenge" / "ads.jsonl",
        [
            {"id": "c-1", "lang": "lv", "label": "lure", "kind": "job", "text": "Darbs Norvēģijā, raksti WhatsApp"},
            {"id": "c-2", "lang": "fi", "label": "legit", "kind": "job", "text": "Haemme varastotyöntekijää"},
        ],
    )
    rows = load_source("challenge", tmp_path / "shared", tmp_path / "project")
    assert [(r.ref, r.label, r.language, r.source) for r in rows] == [
        ("c-1", 1, "lv", "challenge"), ("c-2", 0, "fi", "challenge"),
    ]
    write_jsonl(path, [{"id": "c-3", "lang": "en", "label": "scam", "kind": "job", "text": "x"}])
    with pytest.raises(ValueError, match="label 'scam'"):
        load_source("challenge", tmp_path / "shared", tmp_path / "project")


def test_fixture_eval_reads_only_the_eval_split(tmp_path: Path) -> None:
    ads = [
        {"ref": "a1", "site": "s", "lang": "et", "title": "Turvatöötaja", "body": "Töö Tallinnas.", "label": 0,
         "split": "eval"},
        {"ref": "a2", "site": "s", "lang": "et", "title": "Töö", "body": "Koolitus.", "label": 1, "split": "train"},
        {"ref": "a3", "site": "t", "lang": "lv", "title": "", "body": "Darbs Norvēģijā.", "label": 1,
         "split": "eval"},
    ]
    write_jsonl(tmp_path / "fixture_sites" / "data" / "ads.jsonl", ads)
    rows = load_source("fixture_eval", tmp_path, tmp_path)
    assert [(r.ref, r.text, r.label, r.language) for r in rows] == [
        ("s:a1", "Turvatöötaja\nTöö Tallinnas.", 0, "et"),
        ("t:a3", "Darbs Norvēģijā.", 1, "lv"),
    ]


def test_describe_and_repr_show_counts_not_texts() -> None:
    rows = [
        LabelledText("secret +371 20000000", 1, "x", "lv", "1"),
        LabelledText("another", 0, "x", None, "2"),
        LabelledText("third", 0, "y", "lv", "3"),
    ]
    assert describe(rows) == {
        "n": 3,
        "lures": 1,
        "legit": 2,
        "by_label": {0: 2, 1: 1},
        "by_language": {"lv": 2, "unknown": 1},
        "by_label_language": {"0/lv": 1, "0/unknown": 1, "1/lv": 1},
        "by_source": {"x": 2, "y": 1},
    }
    assert "20000000" not in repr(rows[0])
    assert describe([])["n"] == 0
