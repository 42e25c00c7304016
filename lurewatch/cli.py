"""The ``lurewatch`` command."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from lurewatch.cli_common import DbOption, LurewatchTyper, existing_warehouse, fail, warehouse_for_writing
from lurewatch.prefect_env import configure_prefect
from lurewatch.settings import PROJECT_ROOT, Settings, get_settings
from lurewatch.terminal import safe_text

app = LurewatchTyper(
    add_completion=False, no_args_is_help=True, help="Find recruitment lures in online job ads."
)


def _settings(db: Path | None, *, must_exist: bool = False, may_create: bool = False) -> Settings:
    """Settings for one command. ``must_exist``: a missing warehouse is refused (nothing is created);
    ``may_create``: a missing warehouse is created, and the command says so."""
    settings = get_settings(db_path=db)
    if must_exist:
        existing_warehouse(settings.database)
    elif may_create:
        warehouse_for_writing(settings.database)
    configure_prefect(settings)
    return settings


def _print_top(settings: Settings, limit: int) -> None:
    from pipeline.explain import explain_ads
    from pipeline.model_registry import load_champion
    from pipeline.ranking import top_ads
    from warehouse import session

    with session(settings.database) as con:
        model = load_champion(con)
        if model is None:
            raise typer.BadParameter("no champion model yet: run `lurewatch train` or `lurewatch demo`")
        ranked = top_ads(con, model.version or "", limit)
        reasons = explain_ads(con, model, [ad.ad_id for ad in ranked])
    typer.echo(
        f"\nTop {len(ranked)} riskiest ads (model {model.version}, alert threshold {model.threshold:.2f}; "
        "scores are calibrated probabilities):"
    )
    for rank, ad in enumerate(ranked, start=1):
        flag = "!" if ad.score >= model.threshold else " "
        typer.echo(f"\n{rank:>2}.{flag}{ad.score:.3f}  [{ad.site_id} · {ad.language}]  {safe_text(ad.title, 90)}")
        typer.echo(f"    {safe_text(ad.url)}")
        for reason in reasons.get(ad.ad_id, []):
            if reason.contribution <= 0:
                continue
            quotes = ", ".join(f"“{safe_text(text, 40)}”" for text in reason.evidence[:3])
            label = reason.label or reason.feature
            typer.echo(f"      +{reason.contribution:.2f}  {safe_text(label, 60)}" + (f": {quotes}" if quotes else ""))


@app.command()
def demo(
    db: DbOption = None,
    top: Annotated[int, typer.Option(min=1, help="How many of the riskiest ads to print")] = 10,
    port_base: Annotated[
        int, typer.Option(help="Fixture sites listen on this port and the next two (fixed, so re-runs match URLs)")
    ] = 8701,
) -> None:
    """Serve the bundled fixture sites on 127.0.0.1, crawl, extract, score, and print the riskiest ads."""
    settings = _settings(db, may_create=True)
    from fixture_sites import FixtureSites, load_ads
    from flows.crawl_and_score import crawl_and_score

    seed = [(ad["site"], ad["ref"], bool(ad["label"])) for ad in load_ads() if ad["split"] == "train"]
    from fixture_sites.server import SITE_NAMES

    with FixtureSites(ports={name: port_base + i for i, name in enumerate(SITE_NAMES)}) as sites:
        typer.echo("Fixture sites: " + ", ".join(f"{k} {v}" for k, v in sorted(sites.base_urls.items())))
        result = crawl_and_score(
            base_urls=sites.base_urls,
            db_path=str(settings.database),
            seed_labels=seed,
            seed_label_source="fixture",
        )
    for crawl in result["crawls"]:
        typer.echo(
            f"crawled {crawl['site']}: {crawl['pages']} pages, {crawl['items']} ads "
            f"({crawl['inserted']} new, {crawl['updated']} changed), {crawl['errors']} errors, status {crawl['status']}"
        )
    from warehouse import session

    with session(result["database"]) as con:  # registering a model shadow-scores every current ad, before score_task
        row = con.execute("SELECT count(*) FROM scores WHERE model_version = ?", [result["model_version"]]).fetchone()
    typer.echo(
        f"features extracted for {result['extracted']} ads; {row[0] if row else 0} ads scored by "
        f"{result['model_version']}; warehouse: {result['database']}"
    )
    _print_top(settings, top)


@app.command()
def crawl(
    site: Annotated[
        list[str] | None, typer.Option("--site", help="Site config name; repeat for several")
    ] = None,
    base_url: Annotated[str | None, typer.Option(help="Override the base URL (one site only)")] = None,
    db: DbOption = None,
) -> None:
    """Crawl configured sites into the warehouse (each in its own process). Prints one JSON summary per site;
    on a terminal, progress and each site's pages, items and errors go to stderr."""
    from crawlers.run import CrawlError, crawl_site
    from crawlers.site_config import ConfigError, load_site_configs
    from lurewatch.terminal import Progress

    try:
        known = load_site_configs(include_disabled=True)
    except ConfigError as error:
        raise fail(str(error)) from error
    unknown = [name for name in site or [] if name not in known]
    if unknown:
        raise fail(f"unknown site {', '.join(unknown)}; known sites: {', '.join(sorted(known))}")
    chosen = site or sorted(name for name, config in known.items() if config.enabled)
    if base_url and len(chosen) != 1:
        raise fail("--base-url needs exactly one --site")
    settings = _settings(db, may_create=True)
    failed = 0
    with Progress("crawling", total=len(chosen)) as progress:
        for done, name in enumerate(chosen):
            progress.update(done, description=f"crawling {name} ({done + 1}/{len(chosen)})")
            try:
                summary = crawl_site(name, settings.database, base_url=base_url)
            except CrawlError as error:
                failed += 1
                first = str(error).splitlines()[0] if str(error) else "failed"
                typer.secho(f"error: {safe_text(first)}", fg="red", err=True)
                continue
            if progress.enabled:
                typer.echo(
                    f"{safe_text(name)}: {summary.pages} pages, {summary.items} items, {summary.errors} errors "
                    f"({summary.status})", err=True,
                )
            typer.echo(json.dumps(asdict(summary), default=str, ensure_ascii=False))
        progress.update(len(chosen))
    if failed:
        raise typer.Exit(1)


@app.command()
def extract(
    db: DbOption = None,
    batch_size: Annotated[
        int, typer.Option(min=1, help="Ads per committed batch; other commands get the warehouse between batches")
    ] = 500,
) -> None:
    """Extract lure features for new or changed ads, in batches (the warehouse is free between them). An ad whose
    extraction fails is recorded with its error and retried by the next run; the others go on."""
    settings = _settings(db, may_create=True)
    from lurewatch.terminal import Progress
    from pipeline.cross_ad_features import compute_cross_ad_features
    from pipeline.feature_store import extract_pending_at
    from warehouse import session

    with Progress("extracting features") as progress:
        run = extract_pending_at(
            settings.database, batch_size=batch_size, fault_marker=settings.fault_extract_marker,
            lock_timeout_s=settings.lock_timeout_s, progress=lambda done, total: progress.update(done, total=total),
        )
    typer.echo(f"features extracted for {run.extracted} ads")
    _report_failures(run.failures, "extraction", "lurewatch extract")
    with session(settings.database, lock_timeout_s=settings.lock_timeout_s) as con:
        typer.echo(f"cross-ad features computed for {compute_cross_ad_features(con)} ads")


def _report_failures(failures: list[Any], stage: str, rerun: str, shown: int = 5) -> None:
    """``N ads failed <stage>`` and the first errors (stored without ad text), on stderr."""
    if not failures:
        return
    typer.secho(
        f"{len(failures)} ads failed {stage} (recorded in the warehouse, retried by the next `{rerun}`; "
        "`lurewatch crawl-health` counts them):",
        fg="yellow", err=True,
    )
    for failure in failures[:shown]:
        typer.echo(f"  ad {failure.ad_id}: {safe_text(failure.error, 200)}", err=True)
    if len(failures) > shown:
        typer.echo(f"  ... and {len(failures) - shown} more", err=True)


@app.command()
def train(
    db: DbOption = None,
    promote: Annotated[
        bool, typer.Option(help="Make the new model the champion even if it loses the comparison")
    ] = False,
    emscad: Annotated[
        bool,
        typer.Option(help="Include the external training data: EMSCAD, the hand-written corpus, pracuj.pl even ids"),
    ] = True,
    emscad_limit: Annotated[int | None, typer.Option(help="Use only this many EMSCAD rows (quick runs)")] = None,
    folds: Annotated[int, typer.Option(help="Cross-validation folds")] = 5,
    min_gain: Annotated[float, typer.Option(help="PR-AUC margin a challenger needs over the champion")] = 0.0,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress lines on stderr (the results still print)")
    ] = False,
) -> None:
    """Train a challenger from warehouse labels (+ EMSCAD), print cross-validated metrics per slice, register it,
    and promote it only if it beats the champion on the frozen evaluation set (the first model always wins).
    Prints which labels were used and which were held out, and why; progress stages go to stderr."""
    settings = _settings(db, may_create=True)
    from features import FeatureExtractor
    from pipeline.model_registry import current_user, set_champion
    from pipeline.reference_data import reference_examples
    from pipeline.retraining import read_training_set, register_and_decide, train_challenger
    from pipeline.training_progress import timed
    from pipeline.training_set import TrainingSet
    from warehouse import session

    progress = timed(None if quiet else lambda line: typer.echo(line, err=True))
    if progress is not None:
        progress("reading: labels in the warehouse" + (", EMSCAD and the reference training data" if emscad else ""))
    try:
        reference = reference_examples(settings.training_corpus_dir, settings.shared_data_dir) if emscad else []
    except (OSError, ValueError) as error:  # a missing folder or a malformed corpus row: one line, no traceback
        raise typer.BadParameter(str(error)) from error
    data: TrainingSet = read_training_set(
        settings.database, settings.emscad_train_csv if emscad else None, emscad_limit, reference
    )
    lures = sum(e.label for e in data.examples)
    typer.echo(
        f"training on {len(data.examples)} labelled ads ({lures} lures; {data.excluded} left out as evaluation "
        f"rows or their near-duplicates); evaluation set: {data.evaluation.description}"
    )
    extractor = FeatureExtractor()
    model = train_challenger(
        data, extractor, seed=settings.random_seed, folds=folds, review_budget=settings.review_budget,
        weekly_volume=settings.weekly_volume, prevalence=settings.prevalence, progress=progress,
    )
    actor = current_user(settings)
    report = register_and_decide(
        settings.database, model, data, extractor, models_dir=settings.models, actor=actor, min_gain=min_gain,
        progress=progress,
    )
    for line in report.lines():
        typer.echo(line)
    if promote and not report.promoted:
        with session(settings.database) as con:
            set_champion(con, report.version, actor, "forced with `lurewatch train --promote`")
        typer.echo(f"{report.version} promoted by operator override (--promote)")


@app.command()
def score(
    db: DbOption = None,
    input: Annotated[Path | None, typer.Option("--input", help="CSV with a 'text' column to score")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="Where to write the scored CSV (default: <input>.scored.csv)")
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Refuse the whole CSV if a row is malformed (default: skip it, warn)")
    ] = False,
) -> None:
    """Score new ads in the warehouse with the champion model, or an external CSV (--input/--output)."""
    settings = _settings(db, must_exist=True)
    target = None if input is None else _csv_target(input, output)
    from pipeline.model_registry import load_champion
    from pipeline.score import score_pending_at
    from warehouse import session

    with session(settings.database, lock_timeout_s=settings.lock_timeout_s) as con:
        model = load_champion(con)
        if model is None:
            raise typer.BadParameter("no champion model yet: run `lurewatch train` first")
    if input is None:  # in batches: the warehouse is free between them
        run = score_pending_at(
            settings.database, model, fault_marker=settings.fault_score_marker, lock_timeout_s=settings.lock_timeout_s
        )
        typer.echo(f"scored {run.scored} ads with {model.version}")
        _report_failures(run.failures, "scoring", "lurewatch score")
        return
    _score_csv_file(model, input, target or _csv_target(input, output), strict)


def _csv_target(source: Path, output: Path | None) -> Path:
    """The output path of `score --input`, checked (input exists, output is not the input) before any work."""
    from pipeline.csv_scoring import CsvInputError, check_paths

    target = output or source.with_name(source.stem + ".scored.csv")
    try:
        check_paths(source, target)
    except CsvInputError as error:
        raise fail(str(error)) from error
    return target


def _score_csv_file(model: Any, source: Path, target: Path, strict: bool) -> None:
    from features import FeatureExtractor
    from lurewatch.cli_common import note
    from lurewatch.terminal import Progress
    from pipeline.csv_scoring import CsvInputError, score_csv_file

    with Progress(f"scoring {source.name}", total=100) as bar:

        def progress(phase: str, done: int, total: int, rows: int) -> None:
            share = done / total if total else 1.0
            bar.update(50 * share + (50 if phase == "scoring" else 0), description=f"{phase}: {rows:,} rows")

        try:
            report = score_csv_file(model, FeatureExtractor(), source, target, strict=strict, progress=progress)
        except CsvInputError as error:
            raise fail(str(error)) from error
        except OSError as error:
            raise fail(f"{error.filename or source}: {error.strerror or error}") from error
    for warning in report.warnings():
        note(f"warning: {warning}")
    typer.echo(
        f"scored {report.rows} rows with {model.version} -> {target} "
        f"(calibrated probabilities; alert threshold {model.threshold:.3f})"
    )


@app.command()
def evaluate(
    db: DbOption = None,
    model: Annotated[str | None, typer.Option(help="Model version (default: the champion)")] = None,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", help="Evaluation source; repeat for several (default: all that are present)"),
    ] = None,
    n_boot: Annotated[int, typer.Option(min=100, help="Bootstrap replicates for the confidence intervals")] = 1000,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the report as JSON here")] = None,
) -> None:
    """Score data the model never saw (real ads, real scams, the frozen challenge set), per source and language,
    with bootstrap 95% intervals: PR-AUC, recall and false alarms at the alert threshold, precision at the budget."""
    settings = _settings(db, must_exist=True)
    from features import FeatureExtractor
    from pipeline.generalisation import DEFAULT_SOURCES, evaluate_model, report_lines
    from pipeline.model_registry import champion_version, load
    from warehouse import session

    with session(settings.database) as con:
        version = model or champion_version(con)
        if version is None:
            raise typer.BadParameter("no champion model yet: run `lurewatch train` first")
        try:
            scorer = load(con, version)
        except LookupError as error:
            raise typer.BadParameter(str(error)) from error
    try:
        report = evaluate_model(
            scorer, FeatureExtractor(), settings.shared_data_dir, PROJECT_ROOT,
            sources=source or DEFAULT_SOURCES, review_budget=settings.review_budget, n_boot=n_boot,
            seed=settings.random_seed, progress=lambda message: typer.echo(message, err=True),
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    for line in report_lines(report):
        typer.echo(line)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(report.to_dict(), indent=1), encoding="utf-8")
        typer.echo(f"report written to {json_out}")


@app.command()
def top(db: DbOption = None, limit: Annotated[int, typer.Option(min=1, help="How many ads")] = 10) -> None:
    """Print the riskiest ads with the reasons for their scores."""
    _print_top(_settings(db, must_exist=True), limit)


@app.command("serve-fixtures")
def serve_fixtures(port_base: Annotated[int, typer.Option(help="First port")] = 8701) -> None:
    """Serve the bundled fixture sites on 127.0.0.1 until interrupted."""
    import time

    from fixture_sites import FixtureSites
    from fixture_sites.server import SITE_NAMES

    with FixtureSites(ports={name: port_base + i for i, name in enumerate(SITE_NAMES)}) as sites:
        for name, url in sorted(sites.base_urls.items()):
            typer.echo(f"{name}: {url}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


models_app = typer.Typer(no_args_is_help=True, help="The model registry: list, show, compare, promote, roll back.")
app.add_typer(models_app, name="models")


@models_app.command("list")
def models_list(db: DbOption = None) -> None:
    """Every registered model: status, who trained it when, on how many ads, and its honest CV PR-AUC."""
    settings = _settings(db, must_exist=True)
    from pipeline.model_registry import list_models
    from warehouse import session

    with session(settings.database) as con:
        rows = list_models(con)
    typer.echo(
        f"{'version':<30}{'status':<12}{'created':<18}{'by':<14}{'ads':>6}{'grouped PR-AUC':>16}"
        f"{'threshold':>10}{'exp. prec.':>11}"
    )
    for r in rows:
        grouped = r.metrics.get("cv", {}).get("grouped", {}).get("overall", {}).get("pr_auc")
        typer.echo(
            f"{r.version:<30}{r.status:<12}{r.created_at:%Y-%m-%d %H:%M}  {r.created_by[:13]:<14}"
            f"{r.n_train or 0:>6}{_num(grouped, 16, 4)}{_num(r.threshold, 10, 3)}{_num(r.expected_precision, 11, 2)}"
        )


def _num(value: float | None, width: int, digits: int) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.{digits}f}"


@models_app.command("show")
def models_show(
    version: Annotated[str | None, typer.Argument(help="Model version (default: the champion)")] = None,
    db: DbOption = None,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Also write the model report (curves, confusion matrix, slices with intervals, "
                     "top features, training data, difference to the champion) to this HTML file"),
    ] = None,
) -> None:
    """A model's cross-validated metrics per slice, calibration and review-budget threshold."""
    settings = _settings(db, must_exist=True)
    from pipeline.model_registry import champion_version, list_models
    from pipeline.report import training_report
    from warehouse import session

    if html is not None and (html.is_dir() or not html.parent.is_dir()):
        raise typer.BadParameter(f"--html {html}: not a file in an existing folder")
    with session(settings.database) as con:
        version = version or champion_version(con)
        rows = [r for r in list_models(con) if r.version == version]
    if not rows:
        raise typer.BadParameter(f"no model {version!r} in the registry")
    row = rows[0]
    typer.echo(f"{row.version}: {row.status}, trained by {row.created_by} at {row.created_at:%Y-%m-%d %H:%M}")
    for line in training_report(row.metrics):
        typer.echo(line)
    if html is not None:
        _write_model_report(settings, row.version, html)


def _write_model_report(settings: Settings, version: str, target: Path) -> None:
    from features import FeatureExtractor
    from pipeline.model_report import build_report, report_evaluation_set, write_report
    from warehouse import session

    with session(settings.database) as con:
        evaluation = report_evaluation_set(con, settings.emscad_train_csv)
        try:
            report = build_report(con, version, evaluation, FeatureExtractor())
        except (LookupError, ValueError) as error:
            raise typer.BadParameter(str(error)) from error
    try:
        write_report(target, report)
    except OSError as error:
        raise typer.BadParameter(f"--html {target}: {error.strerror or error}") from error
    typer.echo(f"\nmodel report written to {target} ({report.eval_rows} held-out rows, "
               f"{report.eval_lures} lures)")


@models_app.command("compare")
def models_compare(
    a: Annotated[str, typer.Argument(help="First model version")],
    b: Annotated[str, typer.Argument(help="Second model version")],
    db: DbOption = None,
) -> None:
    """Score two models on the same evaluation rows (neither trained on them) and compare overall and per language,
    site and label source, with counts and bootstrap intervals, and the alert decisions that differ."""
    settings = _settings(db, must_exist=True)
    from features import FeatureExtractor
    from pipeline.model_report import compare_models, comparison_lines, report_evaluation_set
    from warehouse import session

    with session(settings.database) as con:
        evaluation = report_evaluation_set(con, settings.emscad_train_csv)
        try:
            comparison = compare_models(con, a, b, evaluation, FeatureExtractor())
        except (LookupError, ValueError) as error:
            raise typer.BadParameter(str(error)) from error
    typer.echo(f"evaluation set {evaluation.fingerprint}")
    for line in comparison_lines(comparison):
        typer.echo(line)


@models_app.command("rollback")
def models_rollback(db: DbOption = None) -> None:
    """Put the previous champion back (the current one is marked rolled_back)."""
    settings = _settings(db, must_exist=True)
    from pipeline.model_registry import current_user, rollback
    from warehouse import session

    with session(settings.database) as con:
        try:
            old, restored = rollback(con, current_user(settings))
        except LookupError as error:
            raise typer.BadParameter(str(error)) from error
    typer.echo(f"rolled back {old}; champion is now {restored} (run `lurewatch score` to fill in its scores)")


@models_app.command("promote")
def models_promote(
    version: Annotated[str, typer.Argument(help="Model version to make champion")],
    reason: Annotated[str, typer.Option(help="Why (recorded)")] = "manual promotion",
    db: DbOption = None,
) -> None:
    """Make a registered model the champion without a comparison (recorded as a manual promotion)."""
    settings = _settings(db, must_exist=True)
    from pipeline.model_registry import current_user, set_champion
    from warehouse import session

    with session(settings.database) as con:
        try:
            set_champion(con, version, current_user(settings), reason)
        except LookupError as error:
            raise typer.BadParameter(str(error)) from error
    typer.echo(f"champion is now {version}")



def _mount_sub_apps() -> None:
    """Commands that live beside the area they drive (crawl health, review app, service, privacy, labels)."""
    from lurewatch.cli_crawl import app as crawl_cli
    from lurewatch.cli_doctor import doctor
    from lurewatch.cli_labels import labels_cli
    from lurewatch.cli_privacy import privacy_cli
    from lurewatch.cli_review import review_cli, users_cli
    from lurewatch.cli_service import app as service_cli

    app.add_typer(crawl_cli)
    app.add_typer(review_cli, name="review")
    app.add_typer(users_cli, name="users")
    app.add_typer(service_cli, name="service")
    app.add_typer(privacy_cli, name="privacy")
    app.add_typer(labels_cli, name="labels")  # labels import FILE / labels export OUT
    app.command("doctor")(doctor)  # integrity check of the warehouse file (warehouse/integrity.py)


_mount_sub_apps()


if __name__ == "__main__":
    app()
