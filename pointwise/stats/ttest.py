"""Two-sample unpaired t-test in log space, vectorised over examples (spec 003 §3.10, A10).

Default Welch (unequal variances, the authors' code [C]); Student's pooled test as an option.
ln P = ln 2 + ln sf_t(|t|, df) = ln I_x(df/2, 1/2) with x = df/(df + t^2): ``scipy.stats.t.logsf``
in the ordinary range and, where x < 1e-10 (P far below any floor, where scipy underflows to
-inf), the small-x expansion of the regularised incomplete beta function, so raw ln P stays finite. Degenerate cases [C]: both samples constant with equal means -> P = 1 (t reported as
0); zero variance with different means -> P = 0 (t = +-inf). ``floor`` (default 1e-15, the eps
the code adds before its log) bounds P from below; ``None`` disables it.
"""
from __future__ import annotations

import numpy as np
from scipy import special, stats

DEFAULT_FLOOR = 1e-15
_SMALL_X = 1e-10


def log_two_sided_t_sf(t, df) -> np.ndarray:
    """ln P(|T| >= |t|) for Student's t with ``df`` degrees of freedom, finite for any finite t.
    For x = df/(df + t^2) < 1e-10: I_x(a, b) = x^a (1-x)^b / (a B(a, b)) * 2F1(a+b, 1; a+1; x)
    with a = df/2, b = 1/2, the series truncated after the x^2 term (relative error ~x^3)."""
    t = np.abs(np.asarray(t, dtype=np.float64))
    df = np.broadcast_to(np.asarray(df, dtype=np.float64), t.shape)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.log(2.0) + stats.t.logsf(t, df)
        log_x = np.log(df) - 2.0 * np.log(t) - np.log1p(df / t ** 2)
        x = np.exp(log_x)
        small = np.isfinite(t) & (t > 0) & (x < _SMALL_X)
        if small.any():
            a, b, xs = df[small] / 2.0, 0.5, x[small]
            series = 1.0 + (a + b) / (a + 1.0) * xs * (1.0 + (a + b + 1.0) / (a + 2.0) * xs)
            out[small] = (a * log_x[small] + b * np.log1p(-xs) - np.log(a)
                          - special.betaln(a, b) + np.log(series))
    return out


def ttest_logp(a, b, axis: int = 0, equal_var: bool = False,
               floor: float | None = DEFAULT_FLOOR) -> tuple[np.ndarray, np.ndarray]:
    """(t, ln P) of two-sided unpaired t-tests between samples ``a`` and ``b`` along ``axis``
    (the other axes index independent tests; shapes must agree off ``axis``). Each sample needs
    at least 2 values. t = (mean_a - mean_b) / se."""
    a = np.moveaxis(np.asarray(a, dtype=np.float64), axis, 0)
    b = np.moveaxis(np.asarray(b, dtype=np.float64), axis, 0)
    na, nb = a.shape[0], b.shape[0]
    if na < 2 or nb < 2:
        raise ValueError(f"each sample needs >= 2 values, got {na} and {nb}")
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(f"sample shapes {a.shape[1:]} and {b.shape[1:]} differ off the test axis")
    ma, mb = a.mean(axis=0), b.mean(axis=0)
    # exact zero for constant samples (a computed variance could be a rounding residue)
    va = np.where(np.ptp(a, axis=0) == 0, 0.0, a.var(axis=0, ddof=1))
    vb = np.where(np.ptp(b, axis=0) == 0, 0.0, b.var(axis=0, ddof=1))
    if equal_var:
        df = np.full(ma.shape, float(na + nb - 2))
        sp2 = ((na - 1) * va + (nb - 1) * vb) / (na + nb - 2)
        se2 = sp2 * (1.0 / na + 1.0 / nb)
    else:
        qa, qb = va / na, vb / nb
        se2 = qa + qb
        with np.errstate(invalid="ignore", divide="ignore"):
            df = se2 ** 2 / (qa ** 2 / (na - 1) + qb ** 2 / (nb - 1))
    diff = ma - mb
    zero_se = se2 == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        t = diff / np.sqrt(se2)
        logp = log_two_sided_t_sf(t, np.where(zero_se, 1.0, df))
    logp = np.minimum(logp, 0.0)
    same = zero_se & (diff == 0)
    t = np.where(same, 0.0, t)
    logp = np.where(same, 0.0, np.where(zero_se, -np.inf, logp))
    nan = np.isnan(diff)
    logp = np.where(nan, np.nan, logp)
    if floor is not None:
        logp = np.maximum(logp, np.log(floor))   # NaN propagates through np.maximum
    return t, logp


def welch_logp(a, b, axis: int = 0, floor: float | None = DEFAULT_FLOOR):
    """Welch's test (see :func:`ttest_logp`)."""
    return ttest_logp(a, b, axis=axis, equal_var=False, floor=floor)
