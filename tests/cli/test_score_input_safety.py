"""`lurewatch score --input` never destroys its input and streams large files (issue 12, item 7).

Before: `--output x.csv` equal to the input, with one malformed row, left x.csv truncated to the header and one
row; a BOM made the `text` column unknown; the whole file was held in memory; one text beyond spaCy's limit
failed the whole file."""

from __future__ import annotations

import codecs
import csv
import io
import os
import pty
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from features import AdFeatures, FeatureExtractor
from features.pipeline import MAX_DOC_CHARS, get_nlp
from pipeline.csv_scoring import CsvInputError, score_csv_file
from pipeline.score import score_texts
from pipeline.scoring_model import ScoringModel
from tests.cli.conftest import LUREWATCH, assert_one_error_line, run_cli

LURE = "Work in Norway, 3000 EUR a month, no experience, free flat. WhatsApp only +371 2000 0001"
ORDINARY = "Warehouse worker wanted in Riga, full-time, contract, apply with your CV at jobs@example.lv"
GOOD_ROWS = [["1", LURE], ["2", ORDINARY], ["3", "Nurse for a clinic in Tartu, Estonian required"]]


def _write_csv(path: Path, rows: Sequence[Sequence[str]], header: Sequence[str] = ("id", "text")) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    return path.read_bytes()


def _with_bad_row(path: Path) -> bytes:
    """The issue's file: a row with more cells than the header at line 3."""
    data = _write_csv(path, GOOD_ROWS[:1]) + b'2,"ok",extra,cells\r\n'
    path.write_bytes(data + b"3,warehouse job\r\n")
    return path.read_bytes()


def _read(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open(encoding="utf-8-sig", newline="")))


@pytest.mark.parametrize("spelling", ["same", "relative", "symlink", "hardlink"])
def test_output_that_is_the_input_is_refused_and_the_input_is_untouched(
    spelling: str, champion_warehouse: Path, tmp_path: Path
) -> None:
    source = tmp_path / "ads.csv"
    before = _with_bad_row(source)
    output = {"same": source, "relative": Path("..") / tmp_path.name / "ads.csv", "symlink": tmp_path / "link.csv",
              "hardlink": tmp_path / "hard.csv"}[spelling]
    if spelling == "symlink":
        output.symlink_to(source)
    if spelling == "hardlink":
        os.link(source, output)
    result = run_cli("score", "--db", champion_warehouse, "--input", "ads.csv", "--output", output, cwd=tmp_path)
    assert_one_error_line(result, "is the input file")
    assert source.read_bytes() == before


def test_malformed_rows_are_skipped_with_their_line_numbers_and_the_input_kept(
    champion_warehouse: Path, tmp_path: Path
) -> None:
    source = tmp_path / "ads.csv"
    before = _with_bad_row(source)
    result = run_cli("score", "--db", champion_warehouse, "--input", source, "--output", tmp_path / "out.csv")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "warning: skipped 1 malformed row(s) at line 3" in result.stderr and "4 field(s)" in result.stderr
    assert [r["id"] for r in _read(tmp_path / "out.csv")] == ["1", "3"]
    assert source.read_bytes() == before


def test_strict_fails_on_a_malformed_row_without_writing_anything(champion_warehouse: Path, tmp_path: Path) -> None:
    source = tmp_path / "ads.csv"
    _with_bad_row(source)
    target = tmp_path / "out.csv"
    target.write_text("an earlier result\n", encoding="utf-8")
    result = run_cli("score", "--db", champion_warehouse, "--input", source, "--output", target, "--strict")
    assert_one_error_line(result, "1 malformed row(s), the first at line 3", "nothing was written")
    assert target.read_text(encoding="utf-8") == "an earlier result\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ads.csv", "out.csv"]  # no partial file left


def test_a_failure_late_in_the_file_leaves_an_existing_output_whole(champion: ScoringModel, tmp_path: Path) -> None:
    """The output is written to a temporary file and renamed: a file that turns out not to be UTF-8 at its last
    line leaves the previous output as it was and no partial file."""
    source = tmp_path / "ads.csv"
    source.write_bytes(_write_csv(source, GOOD_ROWS * 5) + "4,caf\xe9\n".encode("latin-1"))
    target = tmp_path / "out.csv"
    target.write_text("previous\n", encoding="utf-8")
    with pytest.raises(CsvInputError, match="line 17 is not UTF-8"):
        score_csv_file(champion, FeatureExtractor(), source, target, chunk_rows=4)
    assert target.read_text(encoding="utf-8") == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ads.csv", "out.csv"]


def test_a_utf8_bom_is_accepted_and_kept(champion_warehouse: Path, tmp_path: Path) -> None:
    """Excel's "CSV UTF-8" starts with a BOM: its first column is `text`, not `\\ufefftext`."""
    source = tmp_path / "excel.csv"
    source.write_bytes(codecs.BOM_UTF8 + _write_csv(source, [[LURE, "1"]], header=("text", "id")))
    result = run_cli("score", "--db", champion_warehouse, "--input", source)
    assert result.returncode == 0, result.stderr
    target = tmp_path / "excel.scored.csv"
    assert target.read_bytes().startswith(codecs.BOM_UTF8)
    rows = _read(target)
    assert rows[0]["id"] == "1" and 0.0 <= float(rows[0]["score"]) <= 1.0


class CountingExtractor(FeatureExtractor):
    """The real extractor, counting how many texts it is given at once."""

    def __init__(self) -> None:
        super().__init__()
        self.largest_batch = 0

    def extract_many(self, texts: Sequence[str], langs: Sequence[str | None] | None = None,
                     batch_size: int = 256) -> list[AdFeatures]:
        self.largest_batch = max(self.largest_batch, len(texts))
        return super().extract_many(texts, langs, batch_size)


def test_the_file_is_streamed_in_chunks_and_scores_do_not_depend_on_the_chunk_size(
    champion: ScoringModel, tmp_path: Path
) -> None:
    """Memory is bounded by the chunk (never more than `chunk_rows` texts are extracted or predicted at once),
    and the cross-ad features (near-duplicates, shared contacts) still see the whole file: the scores equal those
    of the whole file scored as one batch, with copies of one template and one phone number spread over chunks."""
    texts = [LURE, ORDINARY, LURE.replace("3000", "3100"), "Call +371 2000 0001 for easy money abroad",
             "Cleaner in Vilnius, 8 EUR/h", LURE.replace("Norway", "Sweden"), ORDINARY, "Baker in Kaunas"] * 3
    source = tmp_path / "ads.csv"
    _write_csv(source, [[str(i), t] for i, t in enumerate(texts)])
    extractor = CountingExtractor()
    report = score_csv_file(champion, extractor, source, tmp_path / "out.csv", chunk_rows=5)
    assert report.rows == len(texts) and extractor.largest_batch <= 5
    chunked = np.array([float(r["score"]) for r in _read(tmp_path / "out.csv")])
    whole = score_texts(champion, FeatureExtractor(), texts)
    np.testing.assert_allclose(chunked, np.round(whole, 6), atol=1e-6)


def test_a_text_beyond_spacys_limit_is_truncated_with_a_warning(champion: ScoringModel, tmp_path: Path) -> None:
    """The default cut is the limit of the spaCy pipelines (so no text can fail the file); a smaller cut shows
    the behaviour: the long row is scored on its start, its line is named, the other rows are unaffected."""
    assert score_csv_file.__kwdefaults__["max_chars"] == MAX_DOC_CHARS == get_nlp("en").max_length
    long_text = LURE + " " + "x" * 500
    source = tmp_path / "ads.csv"
    _write_csv(source, [["1", ORDINARY], ["2", long_text]])
    cut = max(len(LURE), len(ORDINARY)) + 2
    report = score_csv_file(champion, FeatureExtractor(), source, tmp_path / "out.csv", max_chars=cut)
    assert report.truncated_lines == [3]
    assert "scored on their first" in report.warnings()[0] and "line 3" in report.warnings()[0]
    rows = _read(tmp_path / "out.csv")
    assert rows[1]["text"] == long_text  # written back whole
    expected = score_texts(champion, FeatureExtractor(), [ORDINARY, long_text[:cut]])
    assert [float(r["score"]) for r in rows] == pytest.approx(list(expected), abs=1e-6)


def test_progress_shows_on_a_terminal_and_stays_quiet_otherwise(champion_warehouse: Path, tmp_path: Path) -> None:
    source = tmp_path / "ads.csv"
    _write_csv(source, GOOD_ROWS * 20)
    quiet = run_cli("score", "--db", champion_warehouse, "--input", source, "--output", tmp_path / "a.csv")
    assert quiet.returncode == 0 and quiet.stderr == ""
    main, secondary = pty.openpty()
    try:
        done = subprocess.run(
            [str(LUREWATCH), "score", "--db", str(champion_warehouse), "--input", str(source), "--output",
             str(tmp_path / "b.csv")], stdout=subprocess.PIPE, stderr=secondary, text=True, timeout=300,
            env={**os.environ, "TERM": "xterm", "COLUMNS": "120"}, check=False,
        )
        os.close(secondary)
        seen = b""
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(main)
    assert done.returncode == 0 and "scored 60 rows" in done.stdout
    assert b"rows" in seen and b"%" in seen  # the rich bar: "<phase>: N rows ... NN%"
