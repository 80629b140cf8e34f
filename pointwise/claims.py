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


def claims_html(csv_path, out_path, title: str) -> None:
    """Render a claims table as a small HTML page for the Snakemake report (PASS green, FAIL red,
    NO DATA grey), so each paper's section opens with what its data shows."""
    import html

    from pointwise.io import atomic_path, read_csv

    df = read_csv(csv_path)
    colours = {"PASS": "#d4edda", "FAIL": "#f8d7da", "NO DATA": "#e2e3e5"}
    counts = df["result"].value_counts()
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    rows = []
    for r in df.itertuples(index=False):
        cells = "".join(f"<td>{html.escape('' if pd.isna(v) else (f'{v:.4g}' if isinstance(v, float) else str(v)))}</td>"
                        for v in r)
        rows.append(f'<tr style="background:{colours.get(r.result, "white")}">{cells}</tr>')
    summary = ", ".join(f"{counts.get(k, 0)} {k}" for k in ("PASS", "FAIL", "NO DATA"))
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            "<style>body{font-family:sans-serif;font-size:13px}table{border-collapse:collapse}"
            "td,th{border:1px solid #999;padding:3px 6px;vertical-align:top}</style></head><body>"
            f"<h3>{html.escape(title)}</h3><p>{summary}. Measured by the workflow on this run's data; "
            "thresholds from the paper's reading (spec).</p>"
            f"<table><tr>{head}</tr>{''.join(rows)}</table></body></html>")
    with atomic_path(out_path) as tmp:
        tmp.write_text(page)
