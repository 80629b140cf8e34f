"""Learning profiles of every example (paper Defs. 2.1-2.2, App. B; spec 000 §3.1-§3.2).

:func:`smooth_aggregate` turns a run aggregate (:mod:`.aggregate`) plus the reference set's
global accuracy into smoothed sequences on the monotone accuracy axis (:class:`Smoothed`);
:meth:`Smoothed.on_grid` interpolates them onto a grid, giving per example

- accuracy profile ``acc[N, G]``             A_z(g)      (Def. 2.1)
- softmax profile ``softmax[N, G, C]``      S_z(g)      (Def. 2.2)
- negative-entropy profile ``negent[N, G]`` -E H(f(x))  (App. B; range [-ln C, 0])
- soft-accuracy profile ``softacc[N, G]``   [S_z(g)]_y  (App. B)

The default grid is G = linspace(min p̃, max p̃, 50) over the kept axis (a *partial* profile,
spec §3.2 step 5). Comparisons between procedures re-interpolate the smoothed sequences onto the
common range of both (:func:`common_grid`, spec §3.5), never the already gridded profiles.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .aggregate import Aggregate
from .smoothing import (MODE, N_GRID, SIGMA, TRUNCATE, common_range, interp_onto, make_grid,
                        monotone_axis, smooth)

STATS = ("acc", "softmax", "negent", "softacc")


@dataclass
class Profiles:
    """Profiles on ``grid`` [G]: ``acc``/``negent``/``softacc`` [N, G], ``softmax`` [N, G, C]."""
    grid: np.ndarray
    acc: np.ndarray
    labels: np.ndarray
    softmax: np.ndarray | None = None
    negent: np.ndarray | None = None
    softacc: np.ndarray | None = None
    kept: np.ndarray | None = None
    params: dict = field(default_factory=dict)

    def stat(self, name: str) -> np.ndarray:
        value = getattr(self, name)
        if value is None:
            raise ValueError(f"these profiles have no {name!r} statistic")
        return value


@dataclass
class Smoothed:
    """Smoothed run-aggregated sequences at the kept eval points (spec §3.2 steps 3-4).

    ``x`` [Kk]: the strictly increasing smoothed global accuracy at the kept eval points
    ``kept``; ``p_smooth`` [K]: the smoothed global accuracy at all eval points; the statistics
    are ``[Kk, N]`` (``softmax`` ``[Kk, N, C]``), ``negent`` = -(smoothed mean entropy)."""
    x: np.ndarray
    kept: np.ndarray
    p_smooth: np.ndarray
    acc: np.ndarray
    labels: np.ndarray
    softmax: np.ndarray | None = None
    negent: np.ndarray | None = None
    softacc: np.ndarray | None = None
    params: dict = field(default_factory=dict)

    @property
    def range(self) -> tuple[float, float]:
        return float(self.x[0]), float(self.x[-1])

    def grid(self, n: int = N_GRID) -> np.ndarray:
        """The default grid linspace(min p̃, max p̃, n) over this procedure's own accuracy range."""
        return make_grid(*self.range, n)

    def on_grid(self, grid=None, stats=STATS) -> Profiles:
        """Interpolate the statistics ``stats`` onto ``grid`` (default :meth:`grid`); each output
        has examples first: ``[N, G]`` / ``[N, G, C]``."""
        grid = self.grid() if grid is None else np.asarray(grid, dtype=np.float64)
        out = {}
        for name in STATS:
            value = getattr(self, name)
            out[name] = (None if value is None or name not in stats
                         else np.moveaxis(interp_onto(self.x, value, grid, axis=0), 0, 1))
        if out["acc"] is None:
            raise ValueError("the accuracy profile is always computed")
        return Profiles(grid, out["acc"], self.labels, out["softmax"], out["negent"],
                        out["softacc"], self.kept, dict(self.params, n_grid=int(grid.size)))


def smooth_aggregate(agg: Aggregate, global_acc, *, sigma: float = SIGMA, mode: str = MODE,
                     truncate: float = TRUNCATE, axis_mode: str = "running_max",
                     points=None) -> Smoothed:
    """Spec §3.2 steps 3-4: Gaussian smoothing over eval points of every statistic of ``agg`` and
    of ``global_acc`` [K] (the reference set's p_k, same runs), then the monotone axis.

    ``points``: optional eval-point selection applied first (e.g. to drop a step-0 evaluation,
    spec §3.2 step 6)."""
    p = np.asarray(global_acc, dtype=np.float64)
    if points is not None:
        agg, p = agg.select_points(points), p[points]
    if p.shape != (agg.K,):
        raise ValueError(f"global accuracy of shape {p.shape} for {agg.K} eval points")
    sm = lambda a: None if a is None else smooth(a, sigma, 0, mode, truncate)  # noqa: E731
    p_s = sm(p)
    kept = monotone_axis(p_s, axis_mode)
    order_x = p_s[kept]
    take = lambda a: None if a is None else sm(a)[kept]  # noqa: E731
    negent = None if agg.mean_entropy is None else -sm(agg.mean_entropy)[kept]
    params = {"sigma": float(sigma), "mode": mode, "truncate": float(truncate),
              "axis_mode": axis_mode, "n_runs": int(agg.n_runs),
              "n_kept": int(kept.size), "n_points": int(agg.K)}
    return Smoothed(order_x, kept, p_s, take(agg.acc), agg.labels, take(agg.mean_softmax),
                    negent, take(agg.soft_acc), params)


def build_profiles(agg: Aggregate, global_acc, *, n_grid: int = N_GRID, grid=None,
                   **smoothing) -> Profiles:
    """Spec §3.2 steps 3-5 in one call: smooth, monotone axis, interpolate onto ``grid`` (default
    linspace over the kept accuracy range with ``n_grid`` points)."""
    s = smooth_aggregate(agg, global_acc, **smoothing)
    return s.on_grid(s.grid(n_grid) if grid is None else grid)


def common_grid(*smoothed: Smoothed, n: int = N_GRID) -> np.ndarray:
    """G12 = linspace(max of the minima, min of the maxima, n) over the overlap of the accuracy
    ranges of several procedures (spec §3.5, §3.6). Raises ValueError if they do not overlap."""
    return make_grid(*common_range(*(s.x for s in smoothed)), n)
