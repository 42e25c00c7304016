"""DuckDB warehouse: schema migrations, writes and the queries every other package uses."""

from warehouse.connection import WarehouseBusy, connect, session
from warehouse.migrate import current_version, migrate

__all__ = ["WarehouseBusy", "connect", "current_version", "migrate", "session"]
