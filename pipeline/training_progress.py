"""Progress of a training run for the person waiting for it: stages, cross-validation folds, an estimate of the
time left.

:func:`pipeline.train.train` takes a ``progress`` reporter and reports through :class:`FitProgress` the two steps
that take the time: the cross-validation splits (how many folds each scheme has) and the model fits (one per fold,
then the final fit). Without a reporter nothing is printed and nothing changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

Reporter = Callable[[str], None]
T = TypeVar("T")


@dataclass
class _Run:
    say: Reporter
    expected_schemes: int
    expected_folds: int
    schemes: list[tuple[str, int]] = field(default_factory=list)  # (scheme, folds) in the order they were made
    fits: int = 0
    started: float = field(default_factory=time.perf_counter)
    fit_seconds: list[float] = field(default_factory=list)

    def planned_fits(self) -> int:
        """Every fold of every scheme, then the final fit (schemes not split yet: the folds asked for)."""
        unknown = max(self.expected_schemes - len(self.schemes), 0)
        return sum(n for _, n in self.schemes) + unknown * self.expected_folds + 1

    def before_fit(self) -> None:
        self.fits += 1
        done = 0
        for scheme, n in self.schemes:
            if self.fits <= done + n:
                what = f"cross-validation ({scheme}) fold {self.fits - done}/{n}"
                break
            done += n
        else:
            what = "final fit on all examples"
        planned = max(self.planned_fits(), self.fits)
        eta = ""
        if self.fit_seconds:
            mean = sum(self.fit_seconds) / len(self.fit_seconds)
            eta = f", about {mean * (planned - self.fits + 1):.0f} s left"
        self.say(f"training: {what} (fit {self.fits} of {planned}{eta})")


class FitProgress:
    """What :func:`pipeline.train.train` tells the person waiting: it announces each cross-validation split
    (:meth:`split`) and wraps each model fit (:meth:`fit`). Without a reporter it does nothing."""

    def __init__(self, say: Reporter | None, *, schemes: int, folds: int) -> None:
        self._run = _Run(say, schemes, folds) if say is not None else None

    def split(self, scheme: str, folds: int) -> None:
        if self._run is not None:
            self._run.schemes.append((scheme, folds))

    def fit(self, fit: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        run = self._run
        if run is None:
            return fit(*args, **kwargs)
        run.before_fit()
        started = time.perf_counter()
        result = fit(*args, **kwargs)
        run.fit_seconds.append(time.perf_counter() - started)
        return result


def timed(say: Reporter | None) -> Reporter | None:
    """``say`` with the seconds since this call in front of every line: ``[  12 s] features: ...``."""
    if say is None:
        return None
    started = time.perf_counter()

    def report(text: str) -> None:
        say(f"[{time.perf_counter() - started:>4.0f} s] {text}")

    return report
