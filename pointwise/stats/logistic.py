"""Binary logistic regression without regularisation, for fingerprinting (spec 003 §3.11).

Paper: "fitting a logistic classifier (no regularization)". Features are standardised with the
training mean and std [I] (a constant feature gets std 1, i.e. it becomes 0). Under perfect
separation the unregularised MLE diverges, so two documented numerical safeguards apply: a tiny
ridge 1/(2C) ||w||^2 with C = 1e6 on the weights (not the intercept), and Newton iterations
stop once the mean training log-loss is below ``loss_tol`` = 1e-6. Newton's method with
backtracking line search; deterministic.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, log_expit


@dataclass
class LogisticModel:
    coef: np.ndarray
    intercept: float
    mean: np.ndarray
    std: np.ndarray
    n_iter: int
    train_loss: float

    def decision_function(self, x) -> np.ndarray:
        x = (np.asarray(x, dtype=np.float64) - self.mean) / self.std
        return x @ self.coef + self.intercept

    def predict(self, x) -> np.ndarray:
        """0/1 labels (1 where the decision function is > 0)."""
        return (self.decision_function(x) > 0).astype(np.int64)

    def accuracy(self, x, y) -> float:
        return float((self.predict(x) == np.asarray(y)).mean())


def _objective(w, xa, s, lam):
    # sum of log-losses + ridge on the weights (not the intercept, last entry)
    return -log_expit(s * (xa @ w)).sum() + 0.5 * lam * (w[:-1] @ w[:-1])


def fit_logistic(x, y, C: float = 1e6, max_iter: int = 200, loss_tol: float = 1e-6,
                 standardize: bool = True) -> LogisticModel:
    """Fit on features ``x`` [n, d] and 0/1 labels ``y`` [n] (see module for the safeguards)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y).astype(np.int64)
    if x.ndim != 2 or x.shape[0] != y.shape[0]:
        raise ValueError(f"x must be [n, d] with n = len(y), got {x.shape} and {y.shape}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0/1")
    if standardize:
        mean = x.mean(axis=0)
        std = x.std(axis=0)
        std = np.where(std > 0, std, 1.0)
    else:
        mean, std = np.zeros(x.shape[1]), np.ones(x.shape[1])
    xs = (x - mean) / std
    n, d = xs.shape
    xa = np.hstack([xs, np.ones((n, 1))])
    s = 2.0 * y - 1.0
    lam = 1.0 / C
    reg = np.full(d + 1, lam)
    reg[-1] = 0.0
    w = np.zeros(d + 1)
    f = _objective(w, xa, s, lam)
    it = 0
    for it in range(1, max_iter + 1):
        if -log_expit(s * (xa @ w)).mean() < loss_tol:
            break
        m = s * (xa @ w)
        g = -(xa.T @ (s * expit(-m))) + reg * w
        pq = expit(m) * expit(-m)
        H = (xa.T * pq) @ xa + np.diag(reg) + 1e-12 * np.eye(d + 1)
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, g, rcond=None)[0]
        t, improved = 1.0, False
        while t > 1e-10:
            w_new = w - t * step
            f_new = _objective(w_new, xa, s, lam)
            if f_new <= f - 1e-4 * t * (g @ step):
                improved = True
                break
            t *= 0.5
        if not improved:
            break
        rel = (f - f_new) / max(abs(f), 1e-300)
        w, f = w_new, f_new
        if rel < 1e-12:
            break
    loss = float(-log_expit(s * (xa @ w)).mean())
    return LogisticModel(w[:-1], float(w[-1]), mean, std, it, loss)
