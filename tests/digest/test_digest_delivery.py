"""E-mail delivery to a real SMTP server on 127.0.0.1 (aiosmtpd), the archive and its fingerprint records."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import pytest

from digest.config import DigestConfig
from digest.delivery import DeliveryError
from digest.mailsink import MailSink, free_port
from digest.service import run_digest
from warehouse import session

WEEK = date(2026, 11, 9)


def _parts(message: EmailMessage) -> list[str]:
    return [part.get_content_type() for part in message.walk()]


def test_digest_is_mailed_as_multipart_and_archived_once(
    synthetic_warehouse: Path,
    warehouse_copy: Callable[[Path], Path],
    make_config: Callable[..., DigestConfig],
    mail_sink: MailSink,
) -> None:
    db = warehouse_copy(synthetic_warehouse)
    config = make_config(smtp_port=mail_sink.port)
    outcomes = run_digest(db, config, WEEK)
    received = mail_sink.wait_for(2)
    assert [o.delivery.status for o in outcomes if o.delivery] == ["sent", "sent"]
    by_rcpt = {r.rcpt_tos: r for r in received}
    assert set(by_rcpt) == {("a@ngo.test", "b@ngo.test"), ("c@ngo2.test",)}

    full = by_rcpt[("a@ngo.test", "b@ngo.test")].message()
    assert full["Subject"] == "Weekly recruitment-lure digest · 2026-W46 · Full NGO"
    assert full.get_content_type() == "multipart/mixed"
    assert _parts(full)[:4] == ["multipart/mixed", "multipart/alternative", "text/plain", "multipart/related"]
    html = full.get_body(preferencelist=("html",))
    assert html is not None
    cids = re.findall(r'src="cid:([^"]+)"', html.get_content())
    related = {part["Content-ID"].strip("<>"): part for part in full.walk() if part["Content-ID"]}
    assert len(cids) == 3 and set(cids) == set(related)  # charts travel as inline images, not data: URIs
    assert all(related[c].get_content().startswith(b"\x89PNG") for c in cids)
    attachments = {part.get_filename(): part for part in full.iter_attachments()}
    digest = outcomes[0].digest
    archived = {f.name: f for f in digest.files}
    assert set(attachments) == {name for name in archived if not name.endswith(".html")}
    pdf_name = "lurewatch-digest-2026-W46-ngo-full.pdf"
    assert attachments[pdf_name].get_content() == archived[pdf_name].read()
    assert sum(name.endswith(".csv") for name in attachments) == 7
    plain = full.get_body(preferencelist=("plain",))
    assert plain is not None and "High-risk ads:" in plain.get_content()

    summary = by_rcpt[("c@ngo2.test",)].message()
    assert {p.get_filename() for p in summary.iter_attachments()} == {"lurewatch-digest-2026-W46-ngo-summary.pdf"}

    # the archive: files on disk match the recorded hashes; the fingerprint inputs are recorded
    with session(db) as con:
        rows = con.execute(
            "SELECT recipient_id, week_start, fingerprint, data_hash, templates_hash, settings_hash, thresholds, "
            "archive_path, files FROM digest_archive ORDER BY recipient_id"
        ).fetchall()
        sent = con.execute("SELECT recipient_id, status, message_id FROM digest_deliveries ORDER BY 1").fetchall()
    assert [r[0] for r in rows] == ["ngo-full", "ngo-summary"] and all(r[1] == WEEK for r in rows)
    for row in rows:
        folder = Path(row[7])
        assert folder.is_relative_to(config.archive_dir) and row[2][:16] == folder.name
        for entry in json.loads(row[8]):
            assert hashlib.sha256((folder / entry["name"]).read_bytes()).hexdigest() == entry["sha256"]
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["inputs"]["data"] == row[3] and manifest["fingerprint"] == row[2]
    assert json.loads(rows[1][6])["suppress_below"] == 10  # per-recipient thresholds are recorded
    assert [(r[0], r[1]) for r in sent] == [("ngo-full", "sent"), ("ngo-summary", "sent")]
    assert sent[0][2] == full["Message-ID"]

    # same inputs again: nothing rendered, nothing sent
    again = run_digest(db, config, WEEK)
    assert all(o.digest.reused for o in again) and [o.delivery.status for o in again if o.delivery] == ["skipped"] * 2
    assert [o.digest.digest_id for o in again] == [o.digest.digest_id for o in outcomes]
    assert len(mail_sink.received) == 2


def test_unreachable_smtp_is_recorded_and_raised_after_every_recipient(
    synthetic_warehouse: Path, warehouse_copy: Callable[[Path], Path], make_config: Callable[..., DigestConfig]
) -> None:
    db = warehouse_copy(synthetic_warehouse)
    config = make_config(smtp_port=free_port(), formats=["html"])  # nobody listens there
    with pytest.raises(DeliveryError, match=r"SMTP 127\.0\.0\.1"):
        run_digest(db, config, WEEK)
    with session(db) as con:
        archived = con.execute("SELECT count(*) FROM digest_archive").fetchall()[0][0]
        failed = con.execute("SELECT recipient_id, status, error FROM digest_deliveries ORDER BY 1").fetchall()
    assert archived == 2  # both digests were built and kept
    assert [(r[0], r[1]) for r in failed] == [("ngo-full", "failed"), ("ngo-summary", "failed")]
    assert all("refused" in r[2].lower() or "connect" in r[2].lower() for r in failed)
