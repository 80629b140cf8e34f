"""Effective robustness through fine-tuning (paper 001, Andreassen et al.; spec
``specs/paper_001_effective_robustness.md``): the testbed fit and ER, binned ER curves and max ER,
Appendix-D gap quantities, per-example analyses (dominance, examples no testbed model gets right,
triplets), difficulty subsets, class-mapped zero-shot, and the predictions format and importer.

Modules (one concept each; pure functions on arrays; accuracies and ER are fractions):

- :mod:`.scaling`        linear / probit / logit transforms and the 1/(2n) clip (§3.1)
- :mod:`.intervals`      Clopper–Pearson intervals (§3.3)
- :mod:`.fit`            testbed fit, Tables 2/3, β, ER (§3.2)
- :mod:`.gap`            no-gap reference, ER share of the gap, mixed classifier (§3.7)
- :mod:`.trajectory`     per-run ER, 100-bin pooling, max ER and error bars (§3.4–3.5)
- :mod:`.selection`      max-ER / converged checkpoints (§3.12)
- :mod:`.dominance`      dominance probability, matrix and pairs (§3.8)
- :mod:`.unique_correct` examples no (other) testbed model gets right (§3.6)
- :mod:`.triplets`       triplet probabilities, uncertain reading (§3.9)
- :mod:`.cscore`         C-score proxy, subsets, phase-out (§3.10)
- :mod:`.zeroshot`       class-mapped zero-shot scores (§3.11)
- :mod:`.subclass`       class-subset ("subclassed") accuracy (§3.2)
- :mod:`.predictions`    the per-model predictions format, importer and HDF5 I/O
"""
from .dominance import dominance_matrix, dominance_pairs, dominance_probability, mean_dominance
from .fit import (PAPER_TABLE2, PAPER_TABLE3, LinearFit, baseline, effective_robustness,
                  er_interval, fit_all_scalings, fit_params_table, fit_predictions, fit_testbed,
                  scaling_r2_table)
from .gap import accuracy_gap, crossover, gap_fraction, gap_peak, mixed_classifier, no_gap_er
from .intervals import accuracy_interval, clopper_pearson
from .predictions import (EvalSet, PredictionImportError, Predictions, import_prediction_dir,
                          import_predictions, predictions_from_logits_h5, read_predictions_h5,
                          run_accuracies, write_predictions_h5)
from .scaling import SCALINGS, clip_accuracy, inverse, transform
from .selection import converged_checkpoint, max_er_checkpoint, special_checkpoints
from .trajectory import binned_er, binned_statistics, max_er, pool_runs, run_er, summarize_runs
from .unique_correct import (leave_one_out_sets, missed_by_all, unique_correct,
                             unique_correct_examples)

__all__ = [name for name in dir() if not name.startswith("_")]
