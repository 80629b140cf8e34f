"""Per-example difficulty scores of paper 003 (Kwok et al. 2024; spec
specs/paper_003_difficulty_scores.md §3.2-§3.4). Pure functions on arrays (and, for the gradient
scores, a network plus checkpoints); the statistics of the figures are in :mod:`pointwise.stats`.

| module | scores |
|---|---|
| ``outputs`` | LOSS, ACCURACY, AREA UNDER MARGIN (+ confidence/entropy extras) from eval logits |
| ``forgetting`` | FORGETTING, CONSISTENTLY LEARNED, first-learned from presentation correctness |
| ``el2n`` | EL2N from logits |
| ``grand`` | GraNd (+ EL2N) from a checkpoint, per-example gradients with vmap |
| ``vog`` | VoG from a list of checkpoints (online variance of input gradients) |
| ``agreement`` | ENSEMBLE AGREEMENT (JSD) from an ensemble's logits |
| ``retraining`` | HOLDOUT RETRAINING (symmetric KL before/after fine-tuning) |
| ``orientation`` | which direction is hard (the sign table) |
| ``per_run`` | one run's 8 scores; stacking runs into the score cube |
| ``checkpoint`` | rebuilding a network and its preprocessing from ``model.pt`` / ``snapshots.pt`` |
"""
from .agreement import ensemble_agreement, jensen_shannon
from .checkpoint import model_from_checkpoint, snapshot_states
from .el2n import el2n
from .forgetting import (consistently_learned, first_learned, forgetting_events, never_learned,
                         presentation_sequence)
from .grand import grand, grand_el2n
from .orientation import (ENSEMBLE_SCORES, MAIN_SCORES, PER_RUN_SCORES, SCORES, orient,
                          orientation_sign, orientation_table)
from .outputs import (area_under_margin, eval_correct, mean_accuracy, mean_loss,
                      trajectory_scores, training_eval_rows)
from .per_run import grad_epoch, per_run_scores, stack_runs
from .retraining import holdout_retraining, symmetric_kl
from .vog import VoGAccumulator, input_gradients, vog, vog_from_gradients

__all__ = [
    "ENSEMBLE_SCORES", "MAIN_SCORES", "PER_RUN_SCORES", "SCORES", "VoGAccumulator",
    "area_under_margin", "consistently_learned", "el2n", "ensemble_agreement", "eval_correct",
    "first_learned", "forgetting_events", "grad_epoch", "grand", "grand_el2n",
    "holdout_retraining", "input_gradients", "jensen_shannon", "mean_accuracy", "mean_loss",
    "model_from_checkpoint", "snapshot_states",
    "never_learned", "orient", "orientation_sign", "orientation_table", "per_run_scores",
    "presentation_sequence", "stack_runs", "symmetric_kl", "trajectory_scores",
    "training_eval_rows", "vog", "vog_from_gradients",
]
