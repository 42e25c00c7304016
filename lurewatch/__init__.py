"""lurewatch: find fake job offers and trafficking recruitment lures in public online ads."""

__version__ = "0.1.0"
