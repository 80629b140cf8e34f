"""Paper 001: ER through fine-tuning — binning over ID accuracy, max ER, error bars, selection."""
import numpy as np
import pytest

from pointwise.robustness import (PAPER_TABLE3, LinearFit, binned_er, binned_statistics,
                                  converged_checkpoint, max_er, max_er_checkpoint, pool_runs,
                                  run_er, special_checkpoints, summarize_runs)

FIT = LinearFit.from_constants(*PAPER_TABLE3["cifar10_cifar10.1"])


def test_binned_statistics_by_hand():
    x = [0.05, 0.15, 0.15, 0.85]
    y = [1.0, 2.0, 4.0, 10.0]
    b = binned_statistics(x, y, bins=2, range=(0, 1))
    assert list(b.columns) == ["bin_lo", "bin_hi", "centre", "mean", "std", "count"]
    assert b["count"].tolist() == [3, 1]
    assert b["centre"].tolist() == [0.25, 0.75]
    assert b["mean"].tolist() == pytest.approx([7 / 3, 10.0])
    assert b.loc[0, "std"] == pytest.approx(np.std([1.0, 2.0, 4.0]))     # population std (scipy)
    full = binned_statistics(x, y, bins=4, range=(0, 1), drop_empty=False)
    assert full["count"].tolist() == [3, 0, 0, 1]
    # max ER: count filter; error-bar variants
    m2 = max_er(b, min_count=2)
    assert m2["max_binned"] == pytest.approx(7 / 3) and m2["count_at_max"] == 3
    assert m2["std_at_max_bin"] == pytest.approx(np.std([1.0, 2.0, 4.0]))
    assert m2["max_std_all_bins"] == pytest.approx(np.std([1.0, 2.0, 4.0]))
    m1 = max_er(b, min_count=1)
    assert m1["max_binned"] == 10.0 and m1["std_at_max_bin"] == 0.0
    assert np.isnan(max_er(b, min_count=5)["max_binned"])


def test_default_bins_span_the_pooled_range():
    x = np.linspace(0.2, 0.9, 1000)
    b = binned_statistics(x, np.zeros_like(x))
    assert len(b) == 100 and b["count"].sum() == 1000
    assert b["bin_lo"].iloc[0] == pytest.approx(0.2) and b["bin_hi"].iloc[-1] == pytest.approx(0.9)


def _runs_with_er(er_curves, acc_id):
    """OOD accuracies that put each run exactly at the given ER."""
    return [FIT.beta(acc_id) + e for e in er_curves]


def test_binned_er_of_hand_made_runs():
    x = np.linspace(0.3, 0.9, 61)
    target = 0.04 * np.sin(np.pi * (x - 0.3) / 0.6)           # rises, peaks at x = 0.6, falls
    ood = _runs_with_er([target + 0.01, target - 0.01], x)
    b = binned_er([x, x], ood, FIT, bins=61, range=(0.295, 0.905))
    assert (b["count"] == 2).all()
    np.testing.assert_allclose(b["mean"], target, atol=1e-12)
    np.testing.assert_allclose(b["std"], 0.01, atol=1e-12)
    binned, s = summarize_runs([x, x], ood, FIT, bins=61, range=(0.295, 0.905))
    assert s["n_runs"] == 2 and s["min_count"] == 2
    assert s["max_binned"] == pytest.approx(0.04) and s["centre_at_max"] == pytest.approx(0.6)
    assert s["max_std_all_bins"] == pytest.approx(0.01) and s["std_at_max_bin"] == pytest.approx(0.01)
    assert s["per_run_max_mean"] == pytest.approx(0.04) and s["per_run_max_std"] == pytest.approx(0.01)
    assert s["per_run_argmax_acc_id"] == pytest.approx([0.6, 0.6])
    assert s["final_er_mean"] == pytest.approx(0.0, abs=1e-12) and s["final_er_std"] == pytest.approx(0.01)


def test_runs_of_different_length_and_epoch0_exclusion():
    x1, x2 = np.array([0.1, 0.5, 0.7, 0.8]), np.array([0.1, 0.6, 0.85])
    ood = [FIT.beta(x1) + [0.3, 0.02, 0.03, 0.01], FIT.beta(x2) + [0.3, 0.025, 0.0]]
    ep = [np.arange(4.0), np.arange(3.0)]
    pts = pool_runs([x1, x2], ood, FIT, epochs_runs=ep)
    assert len(pts) == 5 and (pts["epoch"] > 0).all()
    _, s = summarize_runs([x1, x2], ood, FIT, epochs_runs=ep, bins=100)
    assert s["min_count_used"] == 1                             # 5 points in 100 bins: fallback
    assert s["max_binned"] == pytest.approx(0.03)               # the untrained head is not the max
    assert np.isnan(summarize_runs([x1, x2], ood, FIT, epochs_runs=ep, fallback=False)[1]["max_binned"])
    assert s["per_run_argmax_epoch"] == [2.0, 1.0]
    _, s_all = summarize_runs([x1, x2], ood, FIT, epochs_runs=ep, exclude_epoch0=False, min_count=1)
    assert s_all["max_binned"] == pytest.approx(0.3)
    er = run_er([x1, x2], ood, FIT)
    assert er[1].tolist() == pytest.approx([0.3, 0.025, 0.0])
    with pytest.raises(ValueError, match="differ in length"):
        pool_runs([x1], [x2], FIT)


def test_single_run_uses_min_count_one():
    x = np.linspace(0.3, 0.9, 50)
    _, s = summarize_runs(x, FIT.beta(x) + 0.01, FIT)
    assert s["n_runs"] == 1 and s["min_count"] == 1
    assert s["max_binned"] == pytest.approx(0.01)


def test_max_er_and_converged_checkpoints():
    x = np.array([0.1, 0.4, 0.6, 0.8, 0.9])
    er = np.array([0.5, 0.02, 0.06, 0.05, 0.01])
    ep = np.arange(5.0)
    m = max_er_checkpoint(x, FIT.beta(x) + er, FIT, epochs=ep)
    assert m["index"] == 2 and m["epoch"] == 2.0 and m["er"] == pytest.approx(0.06)
    assert max_er_checkpoint(x, FIT.beta(x) + er, FIT)["index"] == 0                  # no epochs given
    c = converged_checkpoint(x, FIT.beta(x) + er, FIT, epochs=ep)
    assert c["index"] == 4 and c["acc_id"] == 0.9
    both = special_checkpoints(x, FIT.beta(x) + er, FIT, epochs=ep)
    assert set(both) == {"max_er", "converged"}
