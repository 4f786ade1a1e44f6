"""Alternating rounds with medians and spreads: the one way a `bench/` script times things.

A single run in a fixed order measures the machine as much as the code (a warm cache, a
neighbour's job, a CPU that clocked down). So every timing benchmark here runs its arms
(a baseline and one or more subjects) in alternation for ``--rounds`` rounds, swapping
the order every round (baseline first on even rounds, last on odd ones) so drift in the
machine's load falls on both sides, and reports per-round ratios against the baseline
measured in the same round, with the median and the spread (min–max and the
interquartile range) over the rounds.

    from _rounds import add_rounds_argument, run_rounds, timed

    parser = argparse.ArgumentParser()
    add_rounds_argument(parser)                 # --rounds, default 5, at least 1
    args = parser.parse_args()
    result = run_rounds({"bare loop": timed(bare), "accord": timed(ours)},
                        rounds=args.rounds, unit="s")
    print(result.report())                      # per-arm and per-ratio medians + spreads
    json.dumps(result.as_dict())                # the same, for a results file

Each arm is a callable taking the round number and returning that round's figure: seconds
(wrap a plain callable with ``timed`` for wall time or ``cpu_timed`` for this process's
CPU time) or any figure the arm measures itself (a rate such as texts/s, a child
process's own timing). ``higher_is_better`` only changes the wording of the report; the
ratio is always subject / baseline of the figure as given. The 1-minute load average is
recorded before every round, because on a shared machine it is the first thing that
explains a wide spread.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Arm = Callable[[int], float]

__all__ = ["Arm", "RoundsResult", "Spread", "add_rounds_argument", "cpu_timed",
           "load_average", "run_rounds", "spread", "timed"]


def timed(fn: Callable[[], Any]) -> Arm:
    """Wrap a zero-argument callable as an arm that returns its wall time in seconds.

    Args:
        fn: the work to time; its return value is ignored.
    """

    def arm(_round: int) -> float:
        started = time.perf_counter()
        fn()
        return time.perf_counter() - started

    return arm


def cpu_timed(fn: Callable[[], Any]) -> Arm:
    """Wrap a zero-argument callable as an arm that returns this process's CPU seconds.

    CPU time is steadier than wall time on a shared machine (other jobs stretch the wall
    clock, not our CPU seconds), but it misses time spent waiting (I/O, other processes).

    Args:
        fn: the work to time; its return value is ignored.
    """

    def arm(_round: int) -> float:
        started = time.process_time()
        fn()
        return time.process_time() - started

    return arm


def load_average() -> float:
    """The 1-minute load average (0.0 where the platform has none)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0


@dataclass(frozen=True)
class Spread:
    """Median and spread of one series of per-round figures.

    Args:
        values: the figures, one per round, in round order.
    """

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    @property
    def iqr(self) -> tuple[float, float]:
        """First and third quartile (both the single value for one round)."""
        if len(self.values) < 2:
            return (self.values[0], self.values[0])
        q1, _, q3 = statistics.quantiles(self.values, n=4, method="inclusive")
        return (q1, q3)

    def text(self, fmt: str = ".3f", unit: str = "") -> str:
        """``median M (min–max L–H, IQR Q1–Q3, n rounds)``.

        Args:
            fmt: format spec for each number.
            unit: appended to the median and the range (e.g. `` s``).
        """
        q1, q3 = self.iqr
        return (f"median {self.median:{fmt}}{unit} (min-max {self.low:{fmt}}-{self.high:{fmt}}"
                f"{unit}, IQR {q1:{fmt}}-{q3:{fmt}}, {len(self.values)} rounds)")

    def as_dict(self) -> dict[str, Any]:
        q1, q3 = self.iqr
        return {"median": self.median, "min": self.low, "max": self.high, "q1": q1, "q3": q3,
                "values": list(self.values)}


def spread(values: list[float] | tuple[float, ...]) -> Spread:
    """A `Spread` over per-round figures.

    Args:
        values: at least one figure.
    """
    if not values:
        raise ValueError("no rounds to summarise")
    return Spread(tuple(float(v) for v in values))


@dataclass
class RoundsResult:
    """What `run_rounds` measured: every arm's figure per round and the ratios.

    Args:
        baseline: the arm every ratio divides by.
        unit: the figures' unit, for the report.
        higher_is_better: whether a larger figure is better (rates) or worse (times).
        values: arm → per-round figures.
        order: per round, the order the arms ran in.
        load: per round, the 1-minute load average before it.
    """

    baseline: str
    unit: str
    higher_is_better: bool
    values: dict[str, list[float]] = field(default_factory=dict)
    order: list[list[str]] = field(default_factory=list)
    load: list[float] = field(default_factory=list)

    @property
    def subjects(self) -> list[str]:
        return [a for a in self.values if a != self.baseline]

    def ratios(self, subject: str) -> list[float]:
        """Per-round subject / baseline, each from the same round (0 baseline → inf)."""
        return [s / b if b else float("inf")
                for s, b in zip(self.values[subject], self.values[self.baseline], strict=True)]

    def spread(self, arm: str) -> Spread:
        """Median and spread of one arm's figures.

        Args:
            arm: the arm's name.
        """
        return spread(self.values[arm])

    def ratio_spread(self, subject: str) -> Spread:
        """Median and spread of one subject's per-round ratios to the baseline.

        Args:
            subject: a subject arm's name.
        """
        return spread(self.ratios(subject))

    def report(self, fmt: str = ".3f") -> str:
        """Lines for a terminal: each arm's median and spread, then each ratio's.

        Args:
            fmt: format spec for the figures (ratios always use 3 decimals).
        """
        unit = f" {self.unit}" if self.unit else ""
        width = max(len(a) for a in self.values)
        better = "higher is better" if self.higher_is_better else "lower is better"
        lines = [f"{len(self.load)} rounds, alternating (order swapped every round); "
                 f"load average {min(self.load):.1f}-{max(self.load):.1f} ({better})"]
        for arm in self.values:
            tag = "  (baseline)" if arm == self.baseline else ""
            lines.append(f"  {arm:{width}s}  {self.spread(arm).text(fmt, unit)}{tag}")
        for subject in self.subjects:
            lines.append(f"  ratio {subject} / {self.baseline}: "
                         f"{self.ratio_spread(subject).text('.3f')}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        """The whole result as plain JSON-able data."""
        return {"baseline": self.baseline, "unit": self.unit,
                "higher_is_better": self.higher_is_better, "rounds": len(self.load),
                "load_average": self.load, "order": self.order,
                "arms": {a: self.spread(a).as_dict() for a in self.values},
                "ratios": {f"{s}/{self.baseline}": self.ratio_spread(s).as_dict()
                           for s in self.subjects}}


def run_rounds(arms: Mapping[str, Arm], *, rounds: int = 5, baseline: str | None = None,
               unit: str = "s", higher_is_better: bool = False, fmt: str = ".3f",
               log: Callable[[str], None] | None = print) -> RoundsResult:
    """Run the arms in alternation for ``rounds`` rounds and collect their figures.

    Round ``k`` runs the arms in the given order when ``k`` is even and in reverse when it
    is odd (ABBA), so a trend in the machine's speed weighs on every arm alike. After each
    round a line with every arm's figure and each subject's ratio to the baseline goes to
    ``log``.

    Args:
        arms: name → arm (a callable taking the round number, returning a figure); at least
            two, in a stable order.
        rounds: how many rounds (≥ 1; benchmarks default to 5).
        baseline: the arm ratios divide by; the first arm when not given.
        unit: the figures' unit (``s``, ``ms``, ``texts/s``).
        higher_is_better: the figures are rates rather than costs (wording only).
        fmt: format spec for the per-round figures.
        log: where per-round lines go (``None``: nowhere).
    """
    if len(arms) < 2:
        raise ValueError("a comparison needs a baseline and at least one subject")
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    names = list(arms)
    base = baseline if baseline is not None else names[0]
    if base not in arms:
        raise ValueError(f"baseline {base!r} is not one of the arms {names}")
    result = RoundsResult(baseline=base, unit=unit, higher_is_better=higher_is_better,
                          values={n: [] for n in names})
    for k in range(rounds):
        order = names if k % 2 == 0 else names[::-1]
        result.order.append(list(order))
        result.load.append(load_average())
        figures = {n: float(arms[n](k)) for n in order}
        for n in names:
            result.values[n].append(figures[n])
        if log is not None:
            parts = [f"{n} {figures[n]:{fmt}}{(' ' + unit) if unit else ''}" for n in names]
            parts += [f"{s}/{base} {result.ratios(s)[-1]:.3f}" for s in result.subjects]
            log(f"round {k + 1}/{rounds} (load {result.load[-1]:.1f}): " + ", ".join(parts))
    return result


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_rounds_argument(parser: argparse.ArgumentParser, default: int = 5) -> None:
    """Add ``--rounds`` (alternating rounds, default 5, at least 1) to a script's parser.

    Args:
        parser: the script's argument parser.
        default: rounds when not given (keep ≥ 5: fewer cannot show a spread).
    """
    parser.add_argument("--rounds", type=_positive_int, default=default,
                        help=f"alternating rounds of baseline and subject (default {default})")
