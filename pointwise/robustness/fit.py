"""Testbed fit of OOD against ID accuracy, the baseline β and effective robustness.

Paper 001 §3 (Eq. 1), App. A (Eq. 4, Tables 2 and 3); spec §3.1–3.3.

* Fit: ordinary least squares of T(a_out) on T(a_in) over the testbed (``scipy.stats.linregress``,
  x = ID, y = OOD), with T the chosen scaling (logit in the paper). R² is r² *in the transformed
  space* (spec §3.2: the paper does not say; this is the reading that Table 2 can compare).
* Baseline: β(x) = T⁻¹(A·T(x) + B) (Eq. 4).
* Effective robustness: ρ(f) = a_out(f) − β(a_in(f)) (Eq. 1), as a fraction (×100 for pp).

All functions take plain arrays of accuracies in [0, 1]; :func:`fit_predictions` is the
convenience entry for a :class:`~pointwise.robustness.predictions.Predictions` table.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Mapping

import numpy as np
import pandas as pd
from scipy.special import logit
from scipy.stats import linregress, norm

from .scaling import SCALINGS, _check, clip_accuracy, inverse, transform

#: Table 3 of the paper: logit-space constants (A, B) of Eq. 4.
PAPER_TABLE3: dict[str, tuple[float, float]] = {
    "cifar10_cifar10.1": (0.8318, -0.4736),
    "imagenet_imagenetv2": (0.9225, -0.4896),
}

#: Table 2 of the paper: R² of the testbed fit per scaling.
PAPER_TABLE2: dict[str, dict[str, float]] = {
    "cifar10_cifar10.1": {"linear": 0.981, "probit": 0.996, "logit": 0.998},
    "imagenet_imagenetv2": {"linear": 0.984, "probit": 0.995, "logit": 0.996},
}


@dataclass(frozen=True)
class LinearFit:
    """A testbed line T(a_out) = A·T(a_in) + B in one scaling, with its regression statistics.

    ``clip_n_id`` / ``clip_n_ood`` are the test-set sizes used to clip the testbed accuracies
    before transforming (spec §3.1); ``None`` where no clip was applied.
    """

    slope: float
    intercept: float
    scaling: str = "logit"
    r: float = math.nan
    r2: float = math.nan
    stderr: float = math.nan
    intercept_stderr: float = math.nan
    pvalue: float = math.nan
    n_models: int = 0
    clip_n_id: float | None = None
    clip_n_ood: float | None = None

    def __post_init__(self):
        _check(self.scaling)

    @property
    def A(self) -> float:  # noqa: N802 - the paper's symbol
        return self.slope

    @property
    def B(self) -> float:  # noqa: N802
        return self.intercept

    @classmethod
    def from_constants(cls, A: float, B: float, scaling: str = "logit") -> "LinearFit":  # noqa: N803
        """A fit from published constants, e.g. ``LinearFit.from_constants(*PAPER_TABLE3[...])``."""
        return cls(slope=float(A), intercept=float(B), scaling=scaling)

    def beta(self, acc_id, n=None) -> np.ndarray:
        """β(x) = T⁻¹(A·T(x) + B) (Eq. 4); see :func:`baseline`."""
        return baseline(acc_id, self, n=n)

    def to_dict(self) -> dict:
        """JSON-ready mapping (``fit.json``: scaling, A, B, r, R², stderr, n_models, clip)."""
        d = asdict(self)
        d["A"], d["B"] = self.slope, self.intercept
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in d.items()}

    @classmethod
    def from_dict(cls, d: Mapping) -> "LinearFit":
        keys = {f for f in cls.__dataclass_fields__}
        kw = {k: v for k, v in d.items() if k in keys}
        kw.setdefault("slope", d.get("A"))
        kw.setdefault("intercept", d.get("B"))
        for k in ("r", "r2", "stderr", "intercept_stderr", "pvalue"):
            if kw.get(k) is None:
                kw[k] = math.nan
        return cls(**kw)


def _raw_transform(x, scaling: str) -> np.ndarray:
    """Transform without the 0/1 guard: T(0) = -inf and T(1) = +inf, which T⁻¹ maps back exactly."""
    x = np.asarray(x, dtype=np.float64)
    if scaling == "linear":
        return x
    with np.errstate(divide="ignore"):
        return norm.ppf(x) if scaling == "probit" else logit(x)


def baseline(acc_id, fit: LinearFit, n=None) -> np.ndarray:
    """β(a_in) = T⁻¹(A·T(a_in) + B), the OOD accuracy the testbed line predicts (Eq. 4, spec §3.2).

    ``n`` optionally clips ``acc_id`` to [1/(2n), 1-1/(2n)] first; without it β(0) = 0 and
    β(1) = 1 exactly (for probit/logit).
    """
    x = np.asarray(acc_id, dtype=np.float64)
    if n is not None:
        x = clip_accuracy(x, n) if fit.scaling != "linear" else x
    z = fit.slope * _raw_transform(x, fit.scaling) + fit.intercept
    return inverse(z, fit.scaling)


def effective_robustness(acc_id, acc_ood, fit: LinearFit, n_id=None) -> np.ndarray:
    """ρ = a_out − β(a_in) (Eq. 1), as a fraction. ``n_id`` optionally clips a_in inside β."""
    return np.asarray(acc_ood, dtype=np.float64) - baseline(acc_id, fit, n=n_id)


def er_interval(acc_id, ood_lo, ood_hi, fit: LinearFit) -> tuple[np.ndarray, np.ndarray]:
    """Error bar of a testbed point in an ER plot: [lo_out − β(a_in), hi_out − β(a_in)] (spec §3.3).

    ``ood_lo``/``ood_hi`` are the Clopper–Pearson bounds of the OOD accuracy.
    """
    b = baseline(acc_id, fit)
    return np.asarray(ood_lo, dtype=np.float64) - b, np.asarray(ood_hi, dtype=np.float64) - b


def fit_testbed(acc_id, acc_ood, scaling: str = "logit", n_id=None, n_ood=None) -> LinearFit:
    """Fit the testbed line in one scaling (App. A: ``scipy.stats.linregress`` of T(OOD) on T(ID)).

    ``n_id``/``n_ood``: test-set sizes (scalars or per-model arrays) for the [1/(2n), 1−1/(2n)] clip
    of probit/logit inputs (spec §3.1). R² = r² in the transformed space. Raises ``ValueError``
    for mismatched lengths, non-finite values, fewer than 2 models or constant ID accuracies.
    """
    _check(scaling)
    x = np.asarray(acc_id, dtype=np.float64).ravel()
    y = np.asarray(acc_ood, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"acc_id has {x.size} models but acc_ood has {y.size}")
    if x.size < 2:
        raise ValueError("the testbed fit needs at least 2 models")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("testbed accuracies must be finite")
    if np.any((x < 0) | (x > 1) | (y < 0) | (y > 1)):
        raise ValueError("accuracies must be fractions in [0, 1]")
    if np.ptp(x) == 0:
        raise ValueError("all testbed ID accuracies are equal; the slope is undefined")
    tx = transform(x, scaling, n=n_id)
    ty = transform(y, scaling, n=n_ood)
    res = linregress(tx, ty)
    scal = lambda v: None if v is None else (float(v) if np.ndim(v) == 0 else None)  # noqa: E731
    return LinearFit(slope=float(res.slope), intercept=float(res.intercept), scaling=scaling,
                     r=float(res.rvalue), r2=float(res.rvalue ** 2), stderr=float(res.stderr),
                     intercept_stderr=float(res.intercept_stderr), pvalue=float(res.pvalue),
                     n_models=int(x.size), clip_n_id=scal(n_id), clip_n_ood=scal(n_ood))


def fit_all_scalings(acc_id, acc_ood, n_id=None, n_ood=None) -> dict[str, LinearFit]:
    """The same testbed fitted in linear, probit and logit space (Table 2)."""
    return {s: fit_testbed(acc_id, acc_ood, s, n_id=n_id, n_ood=n_ood) for s in SCALINGS}


def scaling_r2_table(acc_id, acc_ood_by_set: Mapping[str, np.ndarray], n_id=None,
                     n_ood_by_set: Mapping[str, object] | None = None) -> pd.DataFrame:
    """Table 2 analogue: one row per scaling, one R² column per OOD set (and ``r2_<set>`` naming).

    Columns: ``scaling`` then one column per key of ``acc_ood_by_set``.
    """
    rows = []
    n_ood_by_set = n_ood_by_set or {}
    for s in SCALINGS:
        row = {"scaling": s}
        for name, acc_ood in acc_ood_by_set.items():
            row[name] = fit_testbed(acc_id, acc_ood, s, n_id=n_id, n_ood=n_ood_by_set.get(name)).r2
        rows.append(row)
    return pd.DataFrame(rows)


def fit_params_table(fits: Mapping[str, LinearFit]) -> pd.DataFrame:
    """Table 3 analogue: one row per OOD set with scaling, A, B, r, r2, stderr,
    intercept_stderr, n_models."""
    return pd.DataFrame([{"ood_set": name, "scaling": f.scaling, "A": f.slope, "B": f.intercept,
                          "r": f.r, "r2": f.r2, "stderr": f.stderr,
                          "intercept_stderr": f.intercept_stderr, "n_models": f.n_models}
                         for name, f in fits.items()])


def fit_predictions(preds, id_set: str, ood_set: str, scaling: str = "logit",
                    models=None, clip: bool = True) -> LinearFit:
    """Fit the testbed line from a :class:`~pointwise.robustness.predictions.Predictions` table.

    ``models`` restricts the fit to these testbed models (default all); with ``clip`` the
    accuracies are clipped with each set's size (spec §3.1).
    """
    p = preds if models is None else preds.select(models)
    ids, ood = p.sets[id_set], p.sets[ood_set]
    return fit_testbed(ids.accuracy, ood.accuracy, scaling,
                       n_id=ids.n if clip else None, n_ood=ood.n if clip else None)
