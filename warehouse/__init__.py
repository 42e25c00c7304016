"""DuckDB warehouse: schema migrations, writes and the queries every other package uses."""

from warehouse.connection import WarehouseBusy, connect, session
from warehouse.integrity import WarehouseDamaged
from warehouse.migrate import current_version, migrate

__all__ = ["WarehouseBusy", "WarehouseDamaged", "connect", "current_version", "migrate", "session"]
