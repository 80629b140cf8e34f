"""Pointwise learning profiles of paper 000 (Kaplun, Ghosh, Garg, Barak, Nakkiran, "Deconstructing
Distributions: A Pointwise Framework of Learning", arXiv:2202.09931; spec
specs/paper_000_profiles.md). Pure functions on numpy arrays, vectorised over examples.

| module | spec | what |
|---|---|---|
| ``aggregate`` | §3.2 steps 1-2 | run-aggregated accuracy, mean softmax, mean entropy, soft-accuracy; global accuracy; run halves |
| ``load`` | §3.2, docs/training.md | ``logits.h5`` of R runs -> ``[R, K, N, C]``, or streamed into aggregates per run group |
| ``smoothing`` | §3.2 steps 3-5 | Gaussian σ = 2 over eval points, monotone accuracy axis, 50-point grid, interpolation |
| ``build`` | §3.1-§3.2 | accuracy / softmax / negative-entropy / soft-accuracy profiles; common grids |
| ``nmono`` | §3.3 | non-monotonicity score, survival (1 - CDF) |
| ``taxonomy`` | §3.4 | non-monotone / easy / hard / compatible, fractions, prototypes |
| ``distance`` | §3.5 | TV / KL / cosine profile distances, split-half matrices |
| ``aoc`` | §3.6 | pointwise accuracy-on-the-curve d(p), permutation and split-half baselines |
| ``probit`` | §3.8 | probit scaling |
| ``aol`` | §3.7 step 5 | accuracy-on-the-line fits, Neg(0.6), Neg(0.8), Δ |
| ``neg`` | §3.7 | CIFAR-10-Neg selection and its held-out evaluation |
| ``scores`` | §7.1 | the per-point score table |
| ``store`` | §7.1 | agg / profiles HDF5 files with provenance |
| ``theory`` | §6 | skills vs difficulty, manifold partition, Bayes / GP simulations and closed forms; ``theory.curves`` for the figures |
| ``accline`` | §2 Fig. 2, C14 | accuracy-on-the-line per checkpoint: subset accuracies, probit fits, claim C14 |
| ``examples`` | §2 Figs. 2, 3, 6, 13, 14 | the example points shown with their images |
| ``pipeline``, ``figure_tables`` | §7 | workflow glue: one write-style function per rule, the claims |
"""
