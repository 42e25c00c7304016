"""The digest archive: rendered files on disk, one folder per week / recipient / inputs fingerprint, and a
``digest_archive`` row per folder (migration 0007). The same inputs never render twice."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from digest.render import RenderedFile

MANIFEST = "manifest.json"


@dataclass(frozen=True, slots=True)
class ArchivedFile:
    name: str
    path: Path
    mime: str
    sha256: str
    size: int

    def read(self) -> bytes:
        return self.path.read_bytes()


@dataclass(frozen=True, slots=True)
class ArchivedDigest:
    digest_id: int
    recipient_id: str
    week_start: date
    fingerprint: str
    folder: Path
    files: tuple[ArchivedFile, ...]
    text_summary: str
    subject: str
    reused: bool

    def by_mime(self, mime: str) -> list[ArchivedFile]:
        return [f for f in self.files if f.mime == mime]

    def html(self) -> str:
        return self.by_mime("text/html")[0].read().decode("utf-8")


def archive_folder(archive_dir: Path, recipient_id: str, week_start: date, fingerprint: str) -> Path:
    return archive_dir / week_start.isoformat() / recipient_id / fingerprint[:16]


def _verified(folder: Path, files: list[dict[str, Any]]) -> tuple[ArchivedFile, ...] | None:
    found = []
    for entry in files:
        path = folder / entry["name"]
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != entry["sha256"]:
            return None
        found.append(ArchivedFile(entry["name"], path, entry["mime"], entry["sha256"], int(entry["bytes"])))
    return tuple(found)


def find(
    con: duckdb.DuckDBPyConnection, recipient_id: str, week_start: date, fingerprint: str
) -> ArchivedDigest | None:
    """The archived digest with exactly these inputs, if its files are still there and intact."""
    rows = con.execute(
        """
        SELECT digest_id, archive_path, files FROM digest_archive
        WHERE recipient_id = $r AND week_start = $w AND fingerprint = $f
        """,
        {"r": recipient_id, "w": week_start, "f": fingerprint},
    ).fetchall()
    if not rows:
        return None
    digest_id, path, files_json = rows[0]
    folder = Path(path)
    files = _verified(folder, json.loads(files_json))
    manifest = folder / MANIFEST
    if files is None or not manifest.is_file():
        return None
    meta = json.loads(manifest.read_text(encoding="utf-8"))
    return ArchivedDigest(
        int(digest_id), recipient_id, week_start, fingerprint, folder, files, meta["text_summary"], meta["subject"],
        reused=True,
    )


def store(
    con: duckdb.DuckDBPyConnection,
    archive_dir: Path,
    *,
    recipient_id: str,
    week_start: date,
    fingerprint: str,
    parts: dict[str, str],
    thresholds: dict[str, Any],
    model_version: str,
    rendered: Sequence[RenderedFile],
    text_summary: str,
    subject: str,
) -> ArchivedDigest:
    """Write the files (and a manifest) into the archive folder and record them; returns the archived digest."""
    folder = archive_folder(archive_dir, recipient_id, week_start, fingerprint)
    folder.mkdir(parents=True, exist_ok=True)
    files: list[ArchivedFile] = []
    for item in rendered:
        path = folder / item.name
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(item.content)
        tmp.replace(path)
        files.append(ArchivedFile(item.name, path, item.mime, item.sha256, len(item.content)))
    listing = [{"name": f.name, "bytes": f.size, "sha256": f.sha256, "mime": f.mime} for f in files]
    manifest = {
        "recipient_id": recipient_id,
        "week_start": week_start.isoformat(),
        "fingerprint": fingerprint,
        "inputs": parts,
        "thresholds": thresholds,
        "model_version": model_version,
        "files": listing,
        "subject": subject,
        "text_summary": text_summary,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    rows = con.execute(
        """
        INSERT INTO digest_archive (recipient_id, week_start, fingerprint, data_hash, templates_hash, settings_hash,
                                    thresholds, model_version, archive_path, files)
        VALUES ($r, $w, $f, $data, $templates, $settings, $thresholds, $model, $path, $files)
        ON CONFLICT (recipient_id, week_start, fingerprint)
        DO UPDATE SET archive_path = excluded.archive_path, files = excluded.files, created_at = now()
        RETURNING digest_id
        """,
        {
            "r": recipient_id,
            "w": week_start,
            "f": fingerprint,
            "data": parts["data"],
            "templates": parts["templates"],
            "settings": parts["settings"],
            "thresholds": json.dumps(thresholds, sort_keys=True),
            "model": model_version,
            "path": str(folder),
            "files": json.dumps(listing),
        },
    ).fetchall()
    return ArchivedDigest(
        int(rows[0][0]), recipient_id, week_start, fingerprint, folder, tuple(files), text_summary, subject,
        reused=False,
    )


def record_delivery(
    con: duckdb.DuckDBPyConnection,
    digest: ArchivedDigest,
    addresses: Sequence[str],
    *,
    status: str,
    message_id: str | None = None,
    error: str | None = None,
) -> None:
    con.execute(
        """
        INSERT INTO digest_deliveries (digest_id, recipient_id, addresses, status, message_id, error)
        VALUES ($d, $r, $a, $s, $m, $e)
        """,
        {
            "d": digest.digest_id,
            "r": digest.recipient_id,
            "a": json.dumps(list(addresses)),
            "s": status,
            "m": message_id,
            "e": error,
        },
    )


def already_sent(con: duckdb.DuckDBPyConnection, digest_id: int) -> bool:
    rows = con.execute(
        "SELECT count(*) FROM digest_deliveries WHERE digest_id = $d AND status = 'sent'", {"d": digest_id}
    ).fetchall()
    return int(rows[0][0]) > 0
