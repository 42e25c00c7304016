"""One typed settings object for the whole product.

Every value can be set by an environment variable prefixed ``LUREWATCH_`` (for example
``LUREWATCH_DB_PATH=/srv/lurewatch.duckdb``); nothing else in the code base reads the environment.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LUREWATCH_", extra="ignore")

    data_dir: Path = Field(
        default=PROJECT_ROOT / "data", description="Where the DuckDB file, models and exports live."
    )
    db_path: Path | None = Field(
        default=None, description="DuckDB file; defaults to <data_dir>/lurewatch.duckdb."
    )
    models_dir: Path | None = Field(
        default=None, description="Model files; defaults to a models/ directory beside the DuckDB file."
    )
    emscad_train_csv: Path = Field(
        default=PROJECT_ROOT.parent / "shared" / "data" / "emscad" / "train.csv",
        description="Real labelled job ads (EMSCAD subset) used as extra training data.",
    )
    user_agent: str = Field(
        default="lurewatch/0.1 (+https://github.com/lurewatch/lurewatch; research crawler for anti-trafficking NGOs)",
        description="Honest User-Agent sent by every crawler request.",
    )
    crawl_timeout_s: float = Field(default=20.0, description="Per-request download timeout.")
    crawl_max_page_bytes: int = Field(default=5_000_000, description="Pages larger than this are dropped.")
    crawl_concurrency_per_domain: int = Field(default=4)
    crawl_delay_s: float = Field(default=0.0, description="Minimum delay between requests to one domain.")
    review_budget: int = Field(
        default=50, description="Ads per week the NGO can review; sets the alert threshold."
    )
    weekly_volume: int = Field(
        default=1000,
        description="New ads a week on the boards crawled (a general job board section); with the review budget "
        "and the prevalence it sets the alert threshold until a crawled week is at least this large.",
    )
    prevalence: float = Field(
        default=0.01,
        gt=0.0,
        lt=0.5,
        description="Share of lures among the ads scored (a general job board: about 1 %); scores are calibrated "
        "to it, not to the training mix.",
    )
    shared_data_dir: Path = Field(
        default=PROJECT_ROOT.parent / "shared" / "data",
        description="Real data the project did not write (EMSCAD test split, real ads and scams) for evaluation "
        "and the pracuj.pl training half.",
    )
    training_corpus_dir: Path = Field(
        default=PROJECT_ROOT / "datasets" / "training_corpus",
        description="Hand-written multilingual training ads (lures, hard negatives, ordinary jobs, classifieds).",
    )
    random_seed: int = 2026
    lock_timeout_s: float = Field(
        default=60.0,
        gt=0,
        description="How long a command waits for the warehouse while another process writes to it, before it "
        "gives up with one line and exit status 1 (long writers release it between batches).",
    )
    fault_extract_marker: str | None = Field(
        default=None,
        description="Fault point for tests (never set in production): feature extraction raises "
        "pipeline.faults.InjectedFault for every ad whose text contains this string.",
    )
    fault_score_marker: str | None = Field(
        default=None,
        description="Fault point for tests (never set in production): scoring raises "
        "pipeline.faults.InjectedFault for every ad whose text contains this string.",
    )
    fault_retention_point: str | None = Field(
        default=None,
        description="Fault point for tests (never set in production): `lurewatch privacy retention` raises (or, "
        "with ':kill', SIGKILLs itself) at this step, one of warehouse.compact.FAULT_POINTS.",
    )

    @property
    def database(self) -> Path:
        return self.db_path or self.data_dir / "lurewatch.duckdb"

    @property
    def models(self) -> Path:
        return self.models_dir or self.database.parent / "models"


def get_settings(**overrides: object) -> Settings:
    """Build settings from the environment, with explicit overrides (used by the CLI and tests)."""
    clean = {key: value for key, value in overrides.items() if value is not None}
    return Settings(**clean)  # type: ignore[arg-type]
