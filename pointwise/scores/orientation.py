"""Which direction is "hard" for every difficulty score (spec 003 §3.2, §3.3, §3.5).

Every analysis of paper 003 works in *difficulty orientation*: higher = harder. Raw scores are
stored as computed; :func:`orient` multiplies them by the sign below. Figure 4's caption: "scores
are multiplied by -1 where required" so that all correlations are positive.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class ScoreInfo:
    key: str
    label: str          # name in the paper's figures
    sign: int           # +1: higher raw value = harder; -1: lower raw value = harder
    per_run: bool       # False: ensemble-only score (no per-run values)
    description: str


_TABLE = [
    # the 8 per-run scores of Figs 2-6, in the paper's order (spec §3.2)
    ScoreInfo("loss", "LOSS", +1, True, "mean cross-entropy over the per-epoch eval passes e=1..E"),
    ScoreInfo("acc", "ACCURACY", -1, True, "mean 0-1 accuracy over the per-epoch eval passes"),
    ScoreInfo("aum", "AREA UNDER MARGIN", -1, True,
              "mean softmax margin p_y - max_{c!=y} p_c over the per-epoch eval passes"),
    ScoreInfo("forget", "FORGETTING", +1, True, "forgetting events over minibatch presentations"),
    ScoreInfo("cl", "CONSISTENTLY LEARNED", +1, True,
              "presentations before the final unbroken run of correct ones"),
    ScoreInfo("grand20", "GRAND EP20", +1, True, "parameter-gradient norm of the loss at epoch G"),
    ScoreInfo("el2n20", "EL2N EP20", +1, True, "||softmax - onehot||_2 at epoch G"),
    ScoreInfo("vog", "VOG", +1, True,
              "mean per-pixel variance over checkpoints of the input gradient of p_y"),
    # the 2 ensemble-only scores (spec §3.3)
    ScoreInfo("agr", "ENSEMBLE AGREEMENT", +1, False,
              "generalised Jensen-Shannon divergence among an ensemble's outputs"),
    ScoreInfo("ret", "HOLDOUT RETRAINING", +1, False,
              "symmetric KL between a model and the model fine-tuned on held-out data"),
    # optional extras (spec §3.4)
    ScoreInfo("confidence", "CONFIDENCE", -1, True, "mean true-class probability p_y"),
    ScoreInfo("max_confidence", "MAX CONFIDENCE", -1, True, "mean max_c p_c"),
    ScoreInfo("entropy", "ENTROPY", +1, True, "mean predictive entropy H(p)"),
    ScoreInfo("variability", "VARIABILITY", +1, True,
              "std over eval passes of p_y (Swayamdipta et al. 2020)"),
    ScoreInfo("first_learned", "FIRST LEARNED", +1, True, "first correct presentation (E+1 if never)"),
    ScoreInfo("forget_eval", "FORGETTING (EVAL)", +1, True, "forgetting events over per-epoch evals"),
    ScoreInfo("cl_eval", "CONSISTENTLY LEARNED (EVAL)", +1, True, "CL over per-epoch evals"),
    ScoreInfo("grand_final", "GRAND FINAL", +1, True, "GraNd at the final checkpoint"),
    ScoreInfo("el2n_final", "EL2N FINAL", +1, True, "EL2N at the final checkpoint"),
    ScoreInfo("lossvog", "LOSS VOG", +1, True, "VoG of the cross-entropy input gradient"),
]

SCORES: dict[str, ScoreInfo] = {s.key: s for s in _TABLE}
PER_RUN_SCORES: tuple[str, ...] = ("loss", "acc", "aum", "forget", "cl", "grand20", "el2n20", "vog")
ENSEMBLE_SCORES: tuple[str, ...] = ("agr", "ret")
MAIN_SCORES: tuple[str, ...] = PER_RUN_SCORES + ENSEMBLE_SCORES


def orientation_sign(keys: Sequence[str]) -> np.ndarray:
    """Signs (+1/-1, float) that turn raw scores ``keys`` into difficulty orientation.
    KeyError on an unknown key."""
    return np.array([SCORES[k].sign for k in keys], dtype=np.float64)


def orient(values, keys: Sequence[str] | str, axis: int = -1) -> np.ndarray:
    """``values`` in difficulty orientation (spec §3.5). ``keys``: one key (the whole array is one
    score) or one key per position along ``axis``."""
    values = np.asarray(values, dtype=np.float64)
    if isinstance(keys, str):
        return values * SCORES[keys].sign
    signs = orientation_sign(keys)
    if values.shape[axis] != len(signs):
        raise ValueError(f"{len(signs)} keys for an axis of length {values.shape[axis]}")
    shape = [1] * values.ndim
    shape[axis] = len(signs)
    return values * signs.reshape(shape)


def orientation_table() -> pd.DataFrame:
    """The orientation table as data: key, label, sign, per_run, description."""
    return pd.DataFrame([asdict(s) for s in _TABLE])
