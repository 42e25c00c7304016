"""Rendering a digest view: self-contained HTML (Jinja2, autoescaped, sandboxed), PDF (WeasyPrint) and CSV."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment

from digest.config import Recipient
from digest.i18n import LOCALES_DIR, translations
from digest.model import DIGEST_FORMAT_VERSION, DigestData
from digest.view import DigestView
from lurewatch.csv_safety import neutralise_value

BUILTIN_TEMPLATES = Path(__file__).with_name("templates")
_TEMPLATE_SUFFIXES = (".j2", ".css", ".html")


@dataclass(frozen=True, slots=True)
class RenderedFile:
    name: str
    content: bytes
    mime: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def template_search_path(template_dirs: Sequence[Path] = ()) -> list[Path]:
    """Custom folders first (a custom ``base.html.j2`` wins), the built-in templates last."""
    return [*template_dirs, BUILTIN_TEMPLATES]


def environment(template_dirs: Sequence[Path] = (), locale: str = "en") -> ImmutableSandboxedEnvironment:
    """Templates translate with ``{{ _("...") }}`` (Jinja's i18n extension, new-style: values escaped)."""
    loader = ChoiceLoader([FileSystemLoader(str(p)) for p in template_search_path(template_dirs)])
    env = ImmutableSandboxedEnvironment(
        loader=loader,
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    return env


def templates_hash(template_dirs: Sequence[Path] = ()) -> str:
    """Hash of every template file a digest could use (names and contents, in search order)."""
    digest = hashlib.sha256()
    for root in template_search_path(template_dirs):
        if not root.is_dir():
            continue
        for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in _TEMPLATE_SUFFIXES):
            digest.update(f"{root.name}/{path.relative_to(root).as_posix()}\0".encode())
            digest.update(path.read_bytes())
    for path in sorted(LOCALES_DIR.rglob("*.po")):  # translations change what a digest says, too
        digest.update(f"locales/{path.relative_to(LOCALES_DIR).as_posix()}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def fingerprint(
    data: DigestData, recipient: Recipient, template_dirs: Sequence[Path] = ()
) -> tuple[str, dict[str, str]]:
    """The digest's inputs fingerprint: query results + templates + the recipient's thresholds and options."""
    parts = {
        "format_version": DIGEST_FORMAT_VERSION,
        "data": data.data_hash(),
        "templates": templates_hash(template_dirs),
        "settings": recipient.settings_fingerprint(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest(), parts


def render_html(view: DigestView, template: str, template_dirs: Sequence[Path] = ()) -> str:
    return environment(template_dirs, view.locale).get_template(template).render(view=view)


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported lazily: pango is loaded at import time

    return bytes(HTML(string=html, base_url=None).write_pdf())


def render_csv(view: DigestView) -> list[RenderedFile]:
    files = []
    for table in view.csv_tables():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([neutralise_value(cell) for cell in table.header])
        writer.writerows([neutralise_value(cell) for cell in row] for row in table.rows)
        files.append(RenderedFile(f"{table.name}.csv", buffer.getvalue().encode("utf-8-sig"), "text/csv"))
    return files


def file_stem(view: DigestView) -> str:
    return f"lurewatch-digest-{view.iso_week}-{view.recipient_id}"


def render_all(view: DigestView, recipient: Recipient, template_dirs: Sequence[Path] = ()) -> list[RenderedFile]:
    """Every format the recipient asked for; the HTML is always made (the e-mail body and the PDF use it)."""
    from digest.charts import render_charts

    view.charts = render_charts(view)
    html = render_html(view, recipient.template, template_dirs)
    stem = file_stem(view)
    files = [RenderedFile(f"{stem}.html", html.encode("utf-8"), "text/html")]
    if "pdf" in recipient.formats:
        files.append(RenderedFile(f"{stem}.pdf", render_pdf(html), "application/pdf"))
    if "csv" in recipient.formats:
        files.extend(
            RenderedFile(f"{stem}-{f.name}", f.content, f.mime) for f in render_csv(view)
        )
    return files
