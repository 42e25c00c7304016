"""The ``lurewatch`` command."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from lurewatch.prefect_env import configure_prefect
from lurewatch.settings import Settings, get_settings
from lurewatch.terminal import safe_text

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Find recruitment lures in online job ads."
)

DbOption = Annotated[
    Path | None, typer.Option("--db", help="DuckDB warehouse file (default: data/lurewatch.duckdb)")
]


def _settings(db: Path | None) -> Settings:
    settings = get_settings(db_path=db)
    configure_prefect(settings)
    return settings


def _print_top(settings: Settings, limit: int) -> None:
    from pipeline.explain import explain_ads
    from pipeline.model_registry import load_champion
    from pipeline.ranking import top_ads
    from warehouse import connect

    con = connect(settings.database)
    try:
        model = load_champion(con)
        if model is None:
            raise typer.BadParameter("no champion model yet: run `lurewatch train` or `lurewatch demo`")
        ranked = top_ads(con, model.version, limit)
        reasons = explain_ads(con, model, [ad.ad_id for ad in ranked])
    finally:
        con.close()
    typer.echo(
        f"\nTop {len(ranked)} riskiest ads (model {model.version}, alert threshold {model.threshold:.2f}):"
    )
    for rank, ad in enumerate(ranked, start=1):
        typer.echo(f"\n{rank:>2}. {ad.score:.3f}  [{ad.site_id} · {ad.language}]  {safe_text(ad.title, 90)}")
        typer.echo(f"    {safe_text(ad.url)}")
        for reason in reasons.get(ad.ad_id, []):
            if reason.contribution <= 0:
                continue
            quotes = ", ".join(f"“{safe_text(text, 40)}”" for text in reason.evidence[:3])
            typer.echo(
                f"      +{reason.contribution:.2f}  {reason.feature}" + (f": {quotes}" if quotes else "")
            )


@app.command()
def demo(
    db: DbOption = None,
    top: Annotated[int, typer.Option(help="How many of the riskiest ads to print")] = 10,
) -> None:
    """Serve the bundled fixture sites on 127.0.0.1, crawl, extract, score, and print the riskiest ads."""
    settings = _settings(db)
    from fixture_sites import FixtureSites, load_ads
    from flows.crawl_and_score import crawl_and_score

    seed = [(ad["site"], ad["ref"], bool(ad["label"])) for ad in load_ads() if ad["split"] == "train"]
    with FixtureSites() as sites:
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
    typer.echo(
        f"features extracted for {result['extracted']} ads; {result['scored']} ads scored by "
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
    """Crawl configured sites into the warehouse (each in its own process)."""
    settings = _settings(db)
    from crawlers.run import crawl_site
    from crawlers.site_config import load_site_configs

    chosen = site or sorted(load_site_configs())
    if base_url and len(chosen) != 1:
        raise typer.BadParameter("--base-url needs exactly one --site")
    for name in chosen:
        summary = crawl_site(name, settings.database, base_url=base_url)
        typer.echo(json.dumps(asdict(summary), default=str, ensure_ascii=False))


@app.command()
def extract(db: DbOption = None) -> None:
    """Extract lure features for new or changed ads."""
    settings = _settings(db)
    from pipeline.feature_store import extract_pending
    from warehouse import connect

    con = connect(settings.database)
    try:
        typer.echo(f"features extracted for {extract_pending(con)} ads")
    finally:
        con.close()


@app.command()
def train(
    db: DbOption = None,
    promote: Annotated[bool, typer.Option(help="Make the new model the champion")] = False,
    emscad: Annotated[bool, typer.Option(help="Include the EMSCAD real-ads training CSV")] = True,
) -> None:
    """Train a model from warehouse labels (+ EMSCAD), print cross-validated metrics, register it."""
    settings = _settings(db)
    from features import FeatureExtractor
    from pipeline.model_registry import champion_version, register
    from pipeline.train import train as train_model
    from pipeline.training_data import emscad_examples, warehouse_examples
    from warehouse import connect

    con = connect(settings.database)
    try:
        examples = warehouse_examples(con) + (emscad_examples(settings.emscad_train_csv) if emscad else [])
        typer.echo(f"training on {len(examples)} labelled ads ({sum(e.label for e in examples)} lures)")
        model = train_model(examples, FeatureExtractor(), seed=settings.random_seed)
        first = champion_version(con) is None
        version = register(con, model, settings.models, created_by="cli", promote=promote or first)
    finally:
        con.close()
    typer.echo(f"{'slice':<22}{'n':>6}{'lures':>7}{'PR-AUC':>8}{'ROC-AUC':>9}{'F1':>7}{'P@20':>7}")
    for name, m in model.metrics.items():
        if isinstance(m, dict):
            typer.echo(
                f"{name:<22}{m['n']:>6}{m['positives']:>7}{m['pr_auc']:>8.3f}{m['roc_auc']:>9.3f}"
                f"{m['f1']:>7.3f}{m['precision_at_20']:>7.2f}"
            )
    typer.echo(f"registered {version}{' as champion' if promote or first else ' as challenger'}")


@app.command()
def score(
    db: DbOption = None,
    input: Annotated[Path | None, typer.Option("--input", help="CSV with a 'text' column to score")] = None,
    output: Annotated[Path | None, typer.Option("--output", help="Where to write the scored CSV")] = None,
) -> None:
    """Score new ads in the warehouse with the champion model, or an external CSV (--input/--output)."""
    settings = _settings(db)
    from features import FeatureExtractor
    from pipeline.model_registry import load_champion
    from pipeline.score import score_csv, score_pending
    from warehouse import connect

    con = connect(settings.database)
    try:
        model = load_champion(con)
        if model is None:
            raise typer.BadParameter("no champion model yet: run `lurewatch train` first")
        if input is None:
            typer.echo(f"scored {score_pending(con, model)} ads with {model.version}")
            return
    finally:
        con.close()
    target = output or input.with_name(input.stem + ".scored.csv")
    count = score_csv(model, FeatureExtractor(), input, target)
    typer.echo(f"scored {count} rows with {model.version} -> {target}")


@app.command()
def top(db: DbOption = None, limit: Annotated[int, typer.Option(help="How many ads")] = 10) -> None:
    """Print the riskiest ads with the reasons for their scores."""
    _print_top(_settings(db), limit)


@app.command()
def health(db: DbOption = None, limit: Annotated[int, typer.Option(help="How many runs")] = 20) -> None:
    """Crawl health per site per run: pages, items, errors, selector misses."""
    settings = _settings(db)
    from warehouse import connect
    from warehouse.crawl_runs import health as crawl_health

    con = connect(settings.database)
    try:
        rows = crawl_health(con, limit)
    finally:
        con.close()
    typer.echo(
        f"{'run':>5} {'site':<14}{'status':<10}{'pages':>6}{'items':>6}{'new':>5}{'errors':>7}{'misses':>7}"
    )
    for r in rows:
        typer.echo(
            f"{r['run_id']:>5} {r['site_id']:<14}{r['status']:<10}{r['pages']:>6}{r['items']:>6}"
            f"{r['ads_inserted']:>5}{r['errors']:>7}{r['selector_misses']:>7}"
        )


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


if __name__ == "__main__":
    app()
