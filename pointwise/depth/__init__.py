"""Paper 002's per-example difficulty measures and analyses (Baldock et al. 2021), one concept per
module: prediction depth, iteration learned, margins, ensemble consistency scores, per-example
aggregates over runs, quantities by depth, corner groups, rank correlations, accuracy improvement,
k sensitivity.
Pure functions on arrays, except :func:`input_margin` (needs the model)."""
from .aggregate import HELD_OUT, TEST, TRAIN, VAL_CODES, mean_pd, per_example, run_table, stack_runs
from .by_depth import accuracy_by_depth, loo_by_depth, mean_by_depth
from .consistency import (consensus_class, consensus_consistency, consistency_score, ensemble_scores,
                          leave_one_out, prediction_entropy, vote_counts_runs)
from .corners import GROUPS, corner_distances, corner_groups, corner_points
from .correlation import pairwise_run_spearman, run_halves, spearman, split_half_spearman
from .improvement import group_accuracy, improvement
from .iteration_learned import iteration_learned, preds_from_logits, rescale_iteration_learned
from .k_sensitivity import derived_knn_pred, k_sensitivity
from .margins import input_margin, output_margin
from .prediction_depth import prediction_depth, rescaled_depth, softmax_disagreement

__all__ = [
    "HELD_OUT", "TEST", "TRAIN", "VAL_CODES", "GROUPS",
    "prediction_depth", "rescaled_depth", "softmax_disagreement",
    "iteration_learned", "rescale_iteration_learned", "preds_from_logits",
    "output_margin", "input_margin",
    "vote_counts_runs", "consistency_score", "consensus_class", "consensus_consistency",
    "prediction_entropy", "ensemble_scores", "leave_one_out",
    "run_table", "stack_runs", "mean_pd", "per_example",
    "mean_by_depth", "accuracy_by_depth", "loo_by_depth",
    "corner_points", "corner_distances", "corner_groups",
    "spearman", "split_half_spearman", "pairwise_run_spearman", "run_halves",
    "group_accuracy", "improvement", "derived_knn_pred", "k_sensitivity",
]
