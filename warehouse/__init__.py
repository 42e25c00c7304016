"""DuckDB warehouse: schema migrations, writes and the queries every other package uses."""

from warehouse.connection import connect
from warehouse.migrate import current_version, migrate

__all__ = ["connect", "current_version", "migrate"]
