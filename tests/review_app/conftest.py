"""Review app fixtures: one fixture warehouse per session (built by the real crawl_and_score flow), copied for
every module or test that changes it, and the app served on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from review_support import ReviewEnv, Template, build_template, prepare, running

from review_app.screenshot import CHROMIUM, launch_chromium


@pytest.fixture(scope="session")
def review_build(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """The fixture sites crawled, extracted, scored (and a first model trained) into a DuckDB file."""
    return build_template(tmp_path_factory.mktemp("review-template"))


@pytest.fixture(scope="session")
def review_template(review_build: Template) -> Path:
    """The warehouse file of :func:`review_build` (copy it before changing anything)."""
    return review_build.db


@pytest.fixture(scope="module")
def shared_env(review_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReviewEnv]:
    """The app on a module-private copy of the warehouse, for tests that do not depend on each other's writes."""
    settings = prepare(review_template, tmp_path_factory.mktemp("review-shared"))
    with running(settings) as env:
        yield env


@pytest.fixture
def fresh_env(review_template: Path, tmp_path: Path) -> Iterator[ReviewEnv]:
    """The app on a test-private copy of the warehouse."""
    settings = prepare(review_template, tmp_path / "review")
    with running(settings) as env:
        yield env


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright. A missing browser fails the browser tests (they prove "attacker text
    never runs in the browser"), never skips them."""
    assert Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}: install it with bin/setup --dev (bin/test does)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies from another test) with one tab."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(20_000)
    tab = context.new_page()
    yield tab
    context.close()
