"""E-mail delivery over SMTP: one multipart message per recipient (HTML body + PDF + CSV attachments).

Message layout::

    multipart/mixed
    ├── multipart/alternative
    │   ├── text/plain                  the headline numbers
    │   └── multipart/related
    │       ├── text/html               the digest; charts referenced as cid: (mail clients block data: URIs)
    │       └── image/png ...           the charts
    ├── application/pdf                 the digest as PDF
    └── text/csv ...                    its tables
"""

from __future__ import annotations

import base64
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from digest.archive import ArchivedDigest
from digest.config import Recipient, Smtp

_DATA_URI = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


class DeliveryError(RuntimeError):
    """The SMTP server refused the message or could not be reached."""


@dataclass(frozen=True, slots=True)
class Delivery:
    recipient_id: str
    digest_id: int
    addresses: tuple[str, ...]
    status: str  # sent | skipped | failed
    message_id: str | None = None
    error: str | None = None


def inline_images(html: str, domain: str) -> tuple[str, list[tuple[str, bytes]]]:
    """Replace every ``data:image/png`` chart with a ``cid:`` reference; returns the HTML and the images."""
    images: list[tuple[str, bytes]] = []

    def _swap(match: re.Match[str]) -> str:
        cid = make_msgid(idstring=f"chart{len(images) + 1}", domain=domain)[1:-1]
        images.append((cid, base64.b64decode(match.group(1))))
        return f'src="cid:{cid}"'

    return _DATA_URI.sub(_swap, html), images


def build_message(smtp: Smtp, recipient: Recipient, digest: ArchivedDigest) -> EmailMessage:
    if not recipient.emails:
        raise DeliveryError(f"recipient {recipient.id!r} has no e-mail address")
    domain = parseaddr(smtp.sender)[1].rpartition("@")[2] or "lurewatch.local"
    message = EmailMessage()
    message["Subject"] = digest.subject
    message["From"] = smtp.sender
    message["To"] = ", ".join(recipient.emails)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(idstring=f"digest{digest.digest_id}", domain=domain)
    message["X-Lurewatch-Digest"] = f"{digest.week_start.isoformat()} {digest.fingerprint[:16]}"
    message.set_content(digest.text_summary)
    html, images = inline_images(digest.html(), domain)
    message.add_alternative(html, subtype="html")
    html_part = message.get_body(preferencelist=("html",))
    assert isinstance(html_part, EmailMessage)
    for cid, png in images:
        html_part.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>", filename=f"{cid.split('.')[0]}.png")
    for item in digest.files:
        if item.mime == "text/html":
            continue
        maintype, _, subtype = item.mime.partition("/")
        message.add_attachment(item.read(), maintype=maintype, subtype=subtype, filename=item.name)
    return message


def send(smtp: Smtp, message: EmailMessage) -> tuple[str, list[str]]:
    """Send ``message``; returns its Message-ID and the addresses the server refused (when it took some).

    Raises :class:`DeliveryError` when the server could not be reached or accepted no address, so a retry
    never sends twice to an address that already got the message."""
    try:
        client: smtplib.SMTP
        if smtp.ssl:
            client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout_s,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s)
        with client:
            if smtp.starttls and not smtp.ssl:
                client.starttls(context=ssl.create_default_context())
            password = smtp.password()
            if smtp.username and password is not None:
                client.login(smtp.username, password)
            refused = client.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP {smtp.host}:{smtp.port}: {exc}") from exc
    return str(message["Message-ID"]), sorted(refused)
