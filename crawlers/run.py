"""Crawl one site: ``python -m crawlers.run --site NAME --db PATH [--base-url URL] [--sites-dir DIR]``.

Prints a one-line JSON summary on stdout. :func:`crawl_site` runs exactly that in a subprocess, because
Twisted's reactor cannot be restarted within one process and the DuckDB file wants a single writer.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from crawlers.site_config import ConfigError, get_site_config
from crawlers.summary import CrawlSummary

__all__ = ["CrawlError", "CrawlSummary", "crawl_site", "main", "preview_site"]

STDERR_TAIL_CHARS = 4000


class CrawlError(RuntimeError):
    """The crawl subprocess failed, timed out, or printed no summary; the message carries its stderr tail."""


def _tail(text: str) -> str:
    return text[-STDERR_TAIL_CHARS:].strip()


def crawl_site(
    site: str,
    db_path: Path,
    base_url: str | None = None,
    timeout_s: float = 600,
    *,
    sites_dir: Path | None = None,
    log_file: Path | None = None,
    batch_size: int | None = None,
    lock_timeout_s: float | None = None,
    env: dict[str, str] | None = None,
) -> CrawlSummary:
    """Crawl ``site`` into ``db_path`` in a fresh Python process and return its summary.

    A crawl that ran but went badly (site down, every page broken) returns a summary with ``status="failed"``
    (also recorded in ``crawl_runs``); :class:`CrawlError` means no run was recorded (bad config, warehouse
    locked by another writer, crash, timeout).

    ``env`` adds environment variables for the child (e.g. ``LUREWATCH_CRAWL_DELAY_S``).
    """
    command = _command(site, ["--db", str(db_path)], base_url, sites_dir, log_file)
    if batch_size is not None:
        command += ["--batch-size", str(batch_size)]
    if lock_timeout_s is not None:
        command += ["--lock-timeout", str(lock_timeout_s)]
    child_env = _child_env(env)
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout_s, env=child_env, check=False
        )
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        raise CrawlError(f"crawl of {site!r} timed out after {timeout_s:g} s\n{_tail(stderr)}") from exc
    summary_line = _last_json_line(done.stdout)
    if summary_line is None:  # a crawl that ran but failed still prints a summary (status "failed")
        raise CrawlError(
            f"crawl of {site!r} failed (exit code {done.returncode})\n"
            f"{_tail(done.stderr) or _tail(done.stdout)}"
        )
    try:
        summary = CrawlSummary.from_mapping(json.loads(summary_line))
    except (ValueError, KeyError) as exc:
        raise CrawlError(f"crawl of {site!r} printed an unreadable summary: {summary_line!r}") from exc
    if summary.run_id is None:  # the run never started: nothing was recorded in the warehouse
        raise CrawlError(f"crawl of {site!r} did not start: {summary.error}\n{_tail(done.stderr)}")
    return summary


def _command(
    site: str, extra: list[str], base_url: str | None, sites_dir: Path | None, log_file: Path | None
) -> list[str]:
    """``python -m crawlers.run`` for one site, with the options crawl and preview share."""
    command = [sys.executable, "-m", "crawlers.run", "--site", site, *extra]
    if base_url:
        command += ["--base-url", base_url]
    if sites_dir is not None:
        command += ["--sites-dir", str(sites_dir)]
    if log_file is not None:
        command += ["--log-file", str(log_file)]
    return command


def _last_json_line(stdout: str) -> str | None:
    """The child prints its result as the last line starting with ``{``."""
    return next((line for line in reversed(stdout.splitlines()) if line.startswith("{")), None)


def _child_env(env: dict[str, str] | None) -> dict[str, str]:
    child_env = {**os.environ, **(env or {})}
    project_root = str(Path(__file__).resolve().parents[1])
    child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [project_root, child_env.get("PYTHONPATH")]))
    return child_env


def preview_site(
    site: str,
    base_url: str | None = None,
    limit: int = 5,
    timeout_s: float = 120,
    *,
    sites_dir: Path | None = None,
    log_file: Path | None = None,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Crawl ``site`` in a subprocess until ``limit`` ads were extracted, writing nothing; return the ads
    (as dicts), the selector misses and the error count. Raises :class:`CrawlError` like :func:`crawl_site`."""
    command = _command(site, ["--preview", str(limit)], base_url, sites_dir, log_file)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, env=_child_env(env),
                              check=False)
    except subprocess.TimeoutExpired as exc:
        raise CrawlError(f"preview of {site!r} timed out after {timeout_s:g} s") from exc
    line = _last_json_line(done.stdout)
    if line is None:
        raise CrawlError(f"preview of {site!r} failed (exit code {done.returncode})\n{_tail(done.stderr)}")
    result: dict[str, Any] = json.loads(line)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m crawlers.run", description=__doc__.splitlines()[0])
    parser.add_argument("--site", required=True, help="site config name (crawlers/sites/<NAME>.yaml)")
    parser.add_argument("--db", type=Path, help="DuckDB warehouse file (required unless --preview)")
    parser.add_argument("--base-url", help="serve the site from here instead of the config's base_url")
    parser.add_argument("--sites-dir", type=Path, help="directory of site configs")
    parser.add_argument("--log-file", type=Path, help="Scrapy log (default: <db dir>/logs/crawl-<site>.log)")
    parser.add_argument("--batch-size", type=int, default=None, help="ads per warehouse write")
    parser.add_argument("--lock-timeout", type=float, default=None,
                        help="seconds to wait while another process holds the warehouse (default 60)")
    parser.add_argument("--preview", type=int, default=None, metavar="N",
                        help="extract N ads and print them instead of writing anything (--db not needed)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = get_site_config(args.site, args.sites_dir, args.base_url)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if config.render == "browser":
        from crawlers.browser import BrowserUnavailable, check_chromium

        try:
            check_chromium()
        except BrowserUnavailable as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    from crawlers.process import crawl_in_process, preview_in_process  # Scrapy/Twisted only when crawling
    from crawlers.scrapy_settings import DEFAULT_BATCH_SIZE, DEFAULT_LOCK_TIMEOUT_S
    from lurewatch.settings import get_settings

    if args.preview is not None:
        preview = preview_in_process(config, get_settings(), max(args.preview, 1), log_file=args.log_file)
        print(json.dumps(preview, default=str, ensure_ascii=False), flush=True)
        return 0
    if args.db is None:
        print("error: --db is required (unless --preview)", file=sys.stderr)
        return 2

    log_file = args.log_file or args.db.resolve().parent / "logs" / f"crawl-{config.name}.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    summary = crawl_in_process(
        config,
        args.db,
        get_settings(),
        log_file=log_file,
        batch_size=args.batch_size or DEFAULT_BATCH_SIZE,
        lock_timeout_s=DEFAULT_LOCK_TIMEOUT_S if args.lock_timeout is None else args.lock_timeout,
    )
    print(json.dumps(summary, default=str, ensure_ascii=False), flush=True)
    return 0 if summary.get("status") == "finished" else 1


if __name__ == "__main__":
    sys.exit(main())
