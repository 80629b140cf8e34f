"""Accuracy scalings for the testbed fit: linear, probit and logit (paper 001 App. A, Eqs. 2-3;
spec §3.1).

Accuracies are fractions in [0, 1]. Before a non-linear transform they are clipped to
[1/(2n), 1 - 1/(2n)] (n = test-set size) so that 0% and 100% stay finite. The paper does not say
how it treats them; the clip is the spec's guard (§3.1) and only touches accuracies of exactly 0
or 1 (or within half an example of them).
"""
from __future__ import annotations

import numpy as np
from scipy.special import expit, logit
from scipy.stats import norm

SCALINGS = ("linear", "probit", "logit")


def _check(scaling: str) -> str:
    if scaling not in SCALINGS:
        raise ValueError(f"unknown scaling {scaling!r}; expected one of {SCALINGS}")
    return scaling


def clip_accuracy(acc, n=None) -> np.ndarray:
    """Clip accuracies to [1/(2n), 1 - 1/(2n)] (spec §3.1). ``n=None`` leaves them unchanged.

    ``n`` may be a scalar or an array broadcastable against ``acc`` (per-model test-set sizes).
    """
    acc = np.asarray(acc, dtype=np.float64)
    if n is None:
        return acc
    eps = 0.5 / np.asarray(n, dtype=np.float64)
    return np.clip(acc, eps, 1.0 - eps)


def transform(acc, scaling: str = "logit", n=None) -> np.ndarray:
    """Map accuracies into the fit space: identity, Φ⁻¹ (probit, Eq. 2) or ln(a/(1-a)) (logit, Eq. 3).

    Clipping with ``n`` is applied only for probit/logit; linear space needs no guard.
    Raises ``ValueError`` if a probit/logit input is 0 or 1 and no ``n`` was given.
    """
    _check(scaling)
    acc = np.asarray(acc, dtype=np.float64)
    if scaling == "linear":
        return acc.copy()
    acc = clip_accuracy(acc, n)
    if np.any((acc <= 0) | (acc >= 1)):
        raise ValueError(f"{scaling} transform of an accuracy of 0 or 1 is infinite; "
                         "pass the test-set size n to clip it to [1/(2n), 1-1/(2n)]")
    return norm.ppf(acc) if scaling == "probit" else logit(acc)


def inverse(z, scaling: str = "logit") -> np.ndarray:
    """Inverse of :func:`transform`: identity, Φ or the logistic σ(z) = 1/(1 + e^(-z))."""
    _check(scaling)
    z = np.asarray(z, dtype=np.float64)
    if scaling == "linear":
        return z.copy()
    return norm.cdf(z) if scaling == "probit" else expit(z)
