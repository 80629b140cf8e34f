"""Models of learning of paper 000 Sec. 5 / App. D (Theorem 5.1), as numpy simulations with the
closed forms of spec 000 §6, so that tests can check closed form against Monte Carlo.

| module | model | closed forms |
|---|---|---|
| ``skills`` | skills vs difficulty (Recht et al. 2019): Acc = Φ(s_f - d_z) (§6.1) | global accuracy, probit-linear profiles, Kendall τ under difficulty noise, feature mixture |
| ``manifold`` | manifold partition (Sharma & Kaplan 2020) (§6.2) | pointwise error bound L√d n^{-1/d} |
| ``bayes`` | Bayesian inference / GP (Lemma D.2) (§6.3) | arcsin accuracy, expected entropy, mismatched priors, Beta-Bernoulli |
"""
