"""The per-point score table of paper 000 (spec §7.1 ``scores/{regime}/{arch}/{evalset}.csv``):
nmono of the accuracy, negative-entropy and soft-accuracy profiles (§3.3), template distances and
category (§3.4), the final pointwise accuracy, and nmono_acc from two disjoint run halves (claim C2).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .build import Profiles
from .nmono import NMONO_THRESHOLD, nmono
from .taxonomy import classify, template_distances


def score_table(profiles: Profiles, ids=None, final_acc=None, half_a: Profiles | None = None,
                half_b: Profiles | None = None, threshold: float = NMONO_THRESHOLD
                ) -> pd.DataFrame:
    """One row per example (in eval-set order).

    final_acc: the run-aggregated accuracy at the last eval point, unsmoothed (``agg.acc[-1]``);
    NaN when not given. Missing statistics give NaN columns; an example whose profile is
    undefined (NaN) gets no category."""
    n = profiles.acc.shape[0]
    nm_acc = nmono(profiles.acc)
    dist = template_distances(profiles.acc, profiles.grid)
    col = lambda p: np.full(n, np.nan) if p is None else nmono(p)  # noqa: E731
    df = pd.DataFrame({
        "idx": np.arange(n),
        "label": np.asarray(profiles.labels),
        "source_id": np.arange(n) if ids is None else np.asarray(ids),
        "nmono_acc": nm_acc,
        "nmono_negent": col(profiles.negent),
        "nmono_softacc": col(profiles.softacc),
        "l2_easy": dist[:, 0], "l2_hard": dist[:, 1], "l2_compat": dist[:, 2],
        "category": classify(profiles.acc, profiles.grid, threshold, scores=nm_acc),
        "final_acc": np.full(n, np.nan) if final_acc is None else np.asarray(final_acc, float),
        "nmono_acc_halfA": col(None if half_a is None else half_a.acc),
        "nmono_acc_halfB": col(None if half_b is None else half_b.acc),
    })
    # an example no run profiled (e.g. no run held it out) has no profile and no class
    df.loc[np.isnan(profiles.acc).any(axis=1), "category"] = None
    return df
