"""Shared-contact links across the retention boundary: plain contact values bridged to the pseudonyms of old ads.

Retention (:mod:`warehouse.retention`) replaces the contacts of ads not seen for a while by keyed pseudonyms
(:mod:`warehouse.pseudonymise`). Old ads keep sharing pseudonyms with each other and fresh ads keep sharing plain
values, but a fresh ad with the phone number of an old ad no longer *equals* it: ``o.value = e.value`` misses the
pair. A **bridge** restores it with plain equi-joins: the pairs ``(plain value, its pseudonym)`` for the distinct
plain contact values whose pseudonym is actually stored as some entity's value. Every pseudonym is computed once
per distinct value (never a Python call per joined row), and only when it can matter: when the warehouse holds
pseudonymised contacts of the kinds in question *and* a key is configured.

A query keeps its own join (and its kind semantics) and adds, per contact, the bridged counterpart as a second
value to match: a plain value also matches its pseudonym, a pseudonym also matches the plain values behind it.
Pairs of plain values (and pairs of pseudonyms) are compared exactly as before. Pseudonyms are taken of the
*normalised* value (:func:`~warehouse.pseudonymise.normalise_identifier`), so a fresh ``Jan@Inbox.LV`` also meets
an old ``jan@inbox.lv``, exactly as two old ads with those values already meet through their equal pseudonyms.

Where the key comes from: the caller's :class:`~warehouse.pseudonymise.Pseudonymiser` if it passes one, else
``LUREWATCH_PSEUDONYM_KEY`` / ``LUREWATCH_PSEUDONYM_KEY_FILE`` (the key retention uses). Without a usable key the
bridge is empty and every link is made on stored values only, as before retention existed (old-fresh pairs are then
simply not linked; one warning per process says so).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import duckdb
import pyarrow as pa

from warehouse.pseudonymise import (
    PREFIX,
    PSEUDONYM_SQL_PATTERN,
    Pseudonymiser,
    PseudonymKeyError,
    is_pseudonym,
)

logger = logging.getLogger(__name__)

#: The contact kinds that link ads to each other (URLs do not: a shared company website is no evidence).
LINKING_KINDS: tuple[str, ...] = ("phone", "email", "whatsapp", "telegram", "viber")
BRIDGE_SCHEMA = pa.schema([("value", pa.string()), ("alias", pa.string())])

_warned_no_key = False


def linking_pseudonymiser(pseudonymiser: Pseudonymiser | None = None) -> Pseudonymiser | None:
    """``pseudonymiser`` if given, else the key from the environment; ``None`` when no usable key is configured
    (missing, too short, or a key file others can read: linking then stays on stored values)."""
    if pseudonymiser is not None:
        return pseudonymiser
    try:
        return Pseudonymiser.from_env()
    except PseudonymKeyError:
        return None


def has_pseudonymised_contacts(con: duckdb.DuckDBPyConnection, kinds: Sequence[str]) -> bool:
    """Whether any entity of ``kinds`` holds a pseudonym (one scan that stops at the first hit)."""
    rows = con.execute(
        f"""
        SELECT count(*) FROM (
            SELECT 1 FROM entities
            WHERE kind IN (SELECT unnest(?::VARCHAR[])) AND starts_with(value, '{PREFIX}')
              AND regexp_full_match(value, '{PSEUDONYM_SQL_PATTERN}')
            LIMIT 1
        )
        """,
        [list(kinds)],
    ).fetchall()
    return bool(rows[0][0])


def pseudonym_bridge(
    con: duckdb.DuckDBPyConnection,
    pseudonymiser: Pseudonymiser,
    kinds: Sequence[str],
    *,
    plain: Iterable[str] | None = None,
    targets: Iterable[str] | None = None,
) -> list[tuple[str, str]]:
    """Sorted ``(plain value, pseudonym)`` pairs linking plain contacts to pseudonymised ones.

    ``plain``: the plain values to bridge (default: every distinct plain value of ``kinds`` in ``entities``; any
    pseudonym among them is ignored). ``targets``: the pseudonyms worth reaching (default: those stored as a value
    of ``kinds``). A pair is kept only when its pseudonym is among the targets.
    """
    kind_list = list(kinds)
    if plain is None:
        plain = [
            r[0]
            for r in con.execute(
                f"""
                SELECT DISTINCT value FROM entities
                WHERE kind IN (SELECT unnest(?::VARCHAR[])) AND NOT regexp_full_match(value, '{PSEUDONYM_SQL_PATTERN}')
                """,
                [kind_list],
            ).fetchall()
        ]
    aliases = {value: pseudonymiser.pseudonym(value) for value in set(plain) if value and not is_pseudonym(value)}
    if not aliases:
        return []
    if targets is None:
        wanted = sorted(set(aliases.values()))
        stored = {
            r[0]
            for r in con.execute(
                "SELECT DISTINCT value FROM entities "
                "WHERE kind IN (SELECT unnest(?::VARCHAR[])) AND value IN (SELECT unnest(?::VARCHAR[]))",
                [kind_list, wanted],
            ).fetchall()
        }
    else:
        stored = set(targets)
    return sorted((value, alias) for value, alias in aliases.items() if alias in stored)


def bridge_key(
    con: duckdb.DuckDBPyConnection, kinds: Sequence[str], pseudonymiser: Pseudonymiser | None = None
) -> Pseudonymiser | None:
    """The key to bridge contacts of ``kinds`` with, or ``None`` when no bridge can matter: no pseudonymised contact
    of ``kinds`` is stored (checked first, no key needed), or no key is configured (:func:`linking_pseudonymiser`;
    one warning per process then says that fresh ads are not linked to pseudonymised ones)."""
    global _warned_no_key
    if not kinds or not has_pseudonymised_contacts(con, kinds):
        return None
    key = linking_pseudonymiser(pseudonymiser)
    if key is None and not _warned_no_key:
        _warned_no_key = True
        logger.warning(
            "the warehouse holds pseudonymised contacts but no pseudonymisation key is configured: fresh ads are "
            "not linked to pseudonymised ones (set LUREWATCH_PSEUDONYM_KEY or LUREWATCH_PSEUDONYM_KEY_FILE)"
        )
    return key


def contact_bridge(
    con: duckdb.DuckDBPyConnection,
    kinds: Sequence[str],
    *,
    pseudonymiser: Pseudonymiser | None = None,
    plain: Iterable[str] | None = None,
    targets: Iterable[str] | None = None,
) -> list[tuple[str, str]]:
    """:func:`pseudonym_bridge` when it can matter (see :func:`bridge_key`), else ``[]``."""
    key = bridge_key(con, kinds, pseudonymiser)
    return [] if key is None else pseudonym_bridge(con, key, kinds, plain=plain, targets=targets)


def bridge_table(pairs: Sequence[tuple[str, str]]) -> pa.Table:
    """The bridge as an Arrow table ``(value, alias)``, e.g. to ``con.register`` for a join."""
    return pa.table(
        {"value": pa.array([p[0] for p in pairs], pa.string()), "alias": pa.array([p[1] for p in pairs], pa.string())},
        schema=BRIDGE_SCHEMA,
    )
