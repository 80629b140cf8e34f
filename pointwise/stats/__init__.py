"""Statistics on per-example score arrays (paper 003, spec §3.6-§3.11, and shared primitives).

| module | what |
|---|---|
| ``ranks`` | ranks (average / random ties), Spearman matrices |
| ``ttest`` | vectorised Welch/Student t-test in log space |
| ``quantile`` | quantile transform to a standard normal |
| ``pca`` | PCA by SVD, difficulty PCA, PCA 1 as a score (Fig 5) |
| ``logistic`` | unregularised logistic regression with separation safeguards |
| ``variance`` | per-run spread by difficulty bin (Fig 2) |
| ``stability`` | rank / median-split stability vs number of runs (Fig 3, Fig 5 right) |
| ``correlation`` | mean-mean, mean-run, run-run Spearman matrices (Fig 4) |
| ``bias`` | per-example t-tests for model pairs, Bonferroni, capacity, sensitivity (Fig 6) |
| ``fingerprint`` | top/random/bottom-k classifiers of architecture (Fig 1) |
"""
from .bias import (bonferroni_threshold, by_pair, by_score, capacity, example_sensitivity,
                   model_pairs, pair_label, pairwise_pvalues, param_ratio)
from .correlation import CorrelationMatrices, correlation_matrices
from .fingerprint import classify_runs, fingerprint, fingerprint_table, random_selections
from .logistic import LogisticModel, fit_logistic
from .pca import PCAResult, difficulty_pca, pc1_combiner, pc1_score, pc1_weights, pca
from .quantile import quantile_normal
from .ranks import rankdata, spearman, spearman_matrix, standardized_ranks
from .stability import rank_change, rank_stability, split_disagreement, summarize_stability
from .ttest import ttest_logp, welch_logp
from .variance import variance_bins, variance_bins_table

__all__ = [
    "CorrelationMatrices", "LogisticModel", "PCAResult", "bonferroni_threshold", "by_pair",
    "by_score", "capacity", "classify_runs", "correlation_matrices", "difficulty_pca",
    "example_sensitivity", "fingerprint", "fingerprint_table", "fit_logistic", "model_pairs",
    "pair_label", "pairwise_pvalues", "param_ratio", "pc1_combiner", "pc1_score", "pc1_weights",
    "pca", "quantile_normal", "rank_change", "rank_stability", "rankdata", "random_selections",
    "spearman", "spearman_matrix", "split_disagreement", "standardized_ranks",
    "summarize_stability", "ttest_logp", "variance_bins", "variance_bins_table", "welch_logp",
]
