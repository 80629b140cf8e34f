"""Claims tables: each claim of a paper as a measured statistic against a stated threshold.

A claims table reports what the data shows: the statistic is computed from the workflow's own
outputs and compared with the threshold; nothing is asserted. ``claims/{paper}.csv`` has one row
per claim: ``claim`` (id, e.g. "C3"), ``description``, ``statistic`` (how it is measured),
``threshold`` (e.g. "> 0.5"), ``measured`` (float, NaN when the data cannot say), ``result``
(PASS / FAIL / NO DATA) and ``note`` (context, e.g. the noise floor next to a fraction).
"""
from __future__ import annotations

import math
import operator
from dataclasses import asdict, dataclass

import pandas as pd

from pointwise.io import write_csv

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
COLUMNS = ["claim", "description", "statistic", "threshold", "measured", "result", "note"]


@dataclass
class Claim:
    claim: str
    description: str
    statistic: str
    threshold: str            # "<op> <number>", op in <, <=, >, >=
    measured: float
    note: str = ""

    @property
    def result(self) -> str:
        """PASS/FAIL from comparing ``measured`` with ``threshold``; NO DATA when not measurable."""
        if self.measured is None or (isinstance(self.measured, float) and math.isnan(self.measured)):
            return "NO DATA"
        op, value = self.threshold.split(maxsplit=1)
        if op not in _OPS:
            raise ValueError(f"claim {self.claim}: threshold '{self.threshold}' must start with one of {list(_OPS)}")
        return "PASS" if _OPS[op](float(self.measured), float(value)) else "FAIL"


def claims_table(claims: list[Claim]) -> pd.DataFrame:
    rows = [{**asdict(c), "measured": float("nan") if c.measured is None else float(c.measured),
             "result": c.result} for c in claims]
    return pd.DataFrame(rows, columns=COLUMNS)


def write_claims(claims: list[Claim], path, provenance: dict | None = None) -> pd.DataFrame:
    """Write ``claims/{paper}.csv`` atomically (with its provenance line) and return the table."""
    df = claims_table(claims)
    write_csv(df, path, provenance)
    return df
