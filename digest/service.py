"""The digest end to end: query → fingerprint → (archived already? reuse : render + archive) → e-mail.

DuckDB has one writer per file: every warehouse access here is a short session (query, archive lookup, archive
row, delivery row), and nothing holds the file while charts and PDFs are rendered or mail is sent.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from digest import archive
from digest.archive import ArchivedDigest
from digest.config import DigestConfig, Recipient
from digest.delivery import Delivery, DeliveryError, build_message, send
from digest.model import DigestData
from digest.queries import DigestQuery, last_complete_week, load_digest_data
from digest.render import fingerprint, render_all
from digest.view import DigestView, build_view
from warehouse import session


@dataclass(frozen=True, slots=True)
class DigestOutcome:
    recipient_id: str
    week_start: date
    digest: ArchivedDigest
    delivery: Delivery | None


@contextmanager
def reading(db_path: Path | str, parquet_root: Path | str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to read the digest's numbers from: the warehouse, or views over its Parquet export."""
    if parquet_root is None:
        with session(db_path) as con:
            yield con
        return
    from warehouse.parquet import read_parquet_warehouse

    con = read_parquet_warehouse(parquet_root)
    try:
        yield con
    finally:
        con.close()


def compute(
    db_path: Path | str, recipient: Recipient, week_start: date, *, parquet_root: Path | str | None = None
) -> DigestData:
    query = DigestQuery(week_start, recipient.thresholds, recipient.filters)
    with reading(db_path, parquet_root) as con:
        return load_digest_data(con, query)


def subject(view: DigestView) -> str:
    return f"{view.title} · {view.iso_week} · {view.recipient_name}"


def text_summary(view: DigestView) -> str:
    """The plain-text part of the e-mail: headline numbers only (the same suppressed cells as the HTML), in the
    recipient's language."""
    t = view.lang.gettext
    lines = [
        f"{view.title} — {t('Week %(week)s', week=view.iso_week)} ({view.week_label})",
        t("for %(name)s", name=view.recipient_name),
        "",
    ]
    lines += [f"! {warning}" for warning in view.warnings]
    if view.warnings:
        lines.append("")
    for kpi in view.kpis:
        change = kpi.change + (f", {t('no clear change')}" if kpi.clear is False else "")
        lines.append(f"{kpi.label}: {kpi.value.text}" + (f" · {change}" if change else ""))
    indicators = view.breakdowns.get("indicator")
    if indicators is not None and indicators.rows:
        lines += ["", t("Lure indicators in high-risk ads") + ":"]
        lines += [f"  - {r.label}: {r.current.text} ({t('Previous week')}: {r.previous.text})"
                  for r in indicators.rows[:5]]
    if view.phrases:
        lines += ["", t("Emerging lure phrases") + ":"]
        lines += [f"  - “{p.phrase}” ({p.indicator}): {p.current.text} · {p.growth}" for p in view.phrases[:5]]
    lines += [
        "",
        t("The full digest is in this message and attached as PDF, with its tables as CSV files."),
        view.rule_explained,
        (t('Counts below %(k)s are shown as "<%(k)s".', k=view.k) + " " if view.k else "")
        + t("The digest contains no personal data (no phone numbers, e-mail addresses, handles or ad links)."),
        t("Inputs fingerprint: %(fp)s", fp=view.fingerprint[:16]),
    ]
    return "\n".join(lines) + "\n"


def build(
    db_path: Path | str,
    config: DigestConfig,
    recipient: Recipient,
    data: DigestData,
    *,
    generated_at: datetime | None = None,
) -> ArchivedDigest:
    """The archived digest for ``data``: reused when the same inputs were rendered before, else rendered now."""
    digest_fingerprint, parts = fingerprint(data, recipient, config.template_dirs)
    with session(db_path) as con:
        found = archive.find(con, recipient.id, data.week_start, digest_fingerprint)
    if found is not None:
        return found
    view = build_view(data, recipient, generated_at=generated_at)
    view.fingerprint = digest_fingerprint
    rendered = render_all(view, recipient, config.template_dirs)
    with session(db_path) as con:
        return archive.store(
            con,
            config.archive_dir,
            recipient_id=recipient.id,
            week_start=data.week_start,
            fingerprint=digest_fingerprint,
            parts=parts,
            thresholds=recipient.thresholds.model_dump(mode="json"),
            model_version=data.model_version,
            rendered=rendered,
            text_summary=text_summary(view),
            subject=subject(view),
        )


def deliver(
    db_path: Path | str, config: DigestConfig, recipient: Recipient, digest: ArchivedDigest, *, force: bool = False
) -> Delivery:
    """E-mail the digest to the recipient's addresses, once: a digest already sent is skipped unless ``force``."""
    with session(db_path) as con:
        if not force and archive.already_sent(con, digest.digest_id):
            return Delivery(recipient.id, digest.digest_id, recipient.emails, "skipped")
    message = build_message(config.smtp, recipient, digest)
    try:
        message_id, refused = send(config.smtp, message)
    except DeliveryError as exc:
        with session(db_path) as con:
            archive.record_delivery(con, digest, recipient.emails, status="failed", error=str(exc))
        raise
    error = f"refused: {', '.join(refused)}" if refused else None
    with session(db_path) as con:
        archive.record_delivery(con, digest, recipient.emails, status="sent", message_id=message_id, error=error)
    return Delivery(recipient.id, digest.digest_id, recipient.emails, "sent", message_id, error)


def run_digest(
    db_path: Path | str,
    config: DigestConfig,
    week_start: date | None = None,
    *,
    recipient_ids: Sequence[str] | None = None,
    send_mail: bool = True,
    parquet_root: Path | str | None = None,
    today: date | None = None,
) -> list[DigestOutcome]:
    """Build (and optionally send) the digest of one week for every (or the named) recipient.

    Without ``week_start``, the last complete week before ``today``. A failed delivery does not stop the other
    recipients; the first :class:`DeliveryError` is raised at the end.
    """
    week = week_start or last_complete_week(today or date.today())
    chosen = [config.recipient(r) for r in recipient_ids] if recipient_ids else list(config.recipients)
    outcomes: list[DigestOutcome] = []
    failure: DeliveryError | None = None
    for recipient in chosen:
        data = compute(db_path, recipient, week, parquet_root=parquet_root)
        digest = build(db_path, config, recipient, data)
        delivery: Delivery | None = None
        if send_mail and recipient.emails:
            try:
                delivery = deliver(db_path, config, recipient, digest)
            except DeliveryError as exc:
                failure = failure or exc
                delivery = Delivery(recipient.id, digest.digest_id, recipient.emails, "failed", error=str(exc))
        outcomes.append(DigestOutcome(recipient.id, week, digest, delivery))
    if failure is not None:
        raise failure
    return outcomes
