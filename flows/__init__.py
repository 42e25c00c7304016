"""Prefect flows: the only place that orchestrates; nothing imports this package but the CLI."""
