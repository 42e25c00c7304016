"""The riskiest ads according to a model version."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class RankedAd:
    ad_id: int
    score: float
    site_id: str
    url: str
    title: str
    language: str
    external_id: str | None


def top_ads(con: duckdb.DuckDBPyConnection, model_version: str, limit: int = 10) -> list[RankedAd]:
    rows = con.execute(
        """
        SELECT a.ad_id, s.score, a.site_id, a.url, a.title, f.language, a.external_id
        FROM scores s JOIN ads a USING (ad_id) JOIN features f USING (ad_id)
        WHERE s.model_version = ?
        ORDER BY s.score DESC, a.ad_id
        LIMIT ?
        """,
        [model_version, limit],
    ).fetchall()
    return [RankedAd(int(r[0]), float(r[1]), r[2], r[3], r[4], r[5], r[6]) for r in rows]
