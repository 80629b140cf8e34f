"""Learning-rate schedules as pure functions of the step (shared by every member of an ensemble)."""
from __future__ import annotations

import math


def lr_at(step: int, total_steps: int, steps_per_epoch: float, base_lr: float, schedule: dict) -> float:
    """Learning rate for optimiser step ``step`` (0-based) of ``total_steps``.

    - ``constant``: base_lr.
    - ``cosine``: base_lr·½(1+cos(π·t/T)) down to eta_min, per step, or per epoch (t, T in whole epochs).
    - ``step``: base_lr·gamma^(number of milestones passed); milestones < 1 are fractions of
      training, otherwise epochs (paper 003: ×0.1 at epochs 80 and 120 of 160).
    - ``phases``: consecutive constant phases given in steps; lr·factor at each new phase
      (paper 002 Table 1, factor 1/5). Steps past the last phase stay in it.
    """
    kind = schedule.get("kind", "constant")
    if kind == "constant":
        return base_lr
    if kind == "cosine":
        eta_min = schedule.get("eta_min", 0.0)
        if schedule.get("per", "step") == "epoch":
            t, horizon = math.floor(step / steps_per_epoch), max(1, round(total_steps / steps_per_epoch))
        else:
            t, horizon = step, total_steps
        return eta_min + (base_lr - eta_min) * 0.5 * (1.0 + math.cos(math.pi * min(t, horizon) / horizon))
    if kind == "step":
        epoch = step / steps_per_epoch
        total_epochs = total_steps / steps_per_epoch
        gamma = schedule.get("gamma", 0.1)
        passed = 0
        for m in schedule["milestones"]:
            at = m * total_epochs if m < 1 else m
            if schedule.get("per", "step") == "epoch":
                epoch = math.floor(step / steps_per_epoch)
            if epoch >= at - 1e-9:
                passed += 1
        return base_lr * gamma ** passed
    if kind == "phases":
        factor = schedule.get("factor", 0.2)
        edge = 0
        for i, length in enumerate(schedule["phases"]):
            edge += length
            if step < edge:
                return base_lr * factor ** i
        return base_lr * factor ** (len(schedule["phases"]) - 1)
    raise ValueError(f"unknown schedule kind '{kind}' (valid: constant, cosine, step, phases)")
