import h5py
import numpy as np
import pytest

from pointwise.designs import build_design, make_design, read_design, run_seed


def test_kfold_holds_every_example_out_exactly_repeats_times():
    mask = make_design("kfold", 101, rng_seed=0, folds=2, repeats=5)
    assert mask.shape == (10, 101)
    np.testing.assert_array_equal((~mask).sum(0), np.full(101, 5))
    # the two folds of one repeat are complementary
    np.testing.assert_array_equal(mask[0] ^ mask[1], np.ones(101, bool))


def test_random_fraction_holds_out_floor_of_complement():
    mask = make_design("random_fraction", 73257, 3, rng_seed=1, fraction=0.9)
    np.testing.assert_array_equal((~mask).sum(1), [7325] * 3)    # floor(0.1 * 73257), paper 002 SVHN


def test_random_subset_and_full():
    mask = make_design("random_subset", 500, 4, rng_seed=2, size=100)
    np.testing.assert_array_equal(mask.sum(1), [100] * 4)
    assert len({m.tobytes() for m in mask}) == 4            # a fresh subset per seed
    assert make_design("full", 7, 2, rng_seed=0).all()


def test_stratified_kfold_balances_classes():
    labels = np.repeat(np.arange(4), 25)
    mask = make_design("kfold", 100, rng_seed=0, folds=2, repeats=1, labels=labels, stratified=True)
    held = ~mask[0]
    counts = np.bincount(labels[held], minlength=4)
    assert counts.max() - counts.min() <= 1 and abs(held.sum() - 50) <= 1
    sub = make_design("random_subset", 100, 1, rng_seed=0, size=40, labels=labels, stratified=True)
    np.testing.assert_array_equal(np.bincount(labels[sub[0]], minlength=4), [10, 10, 10, 10])


def test_design_is_deterministic_and_seeded():
    a = make_design("random_subset", 50, 2, rng_seed=5, size=10)
    b = make_design("random_subset", 50, 2, rng_seed=5, size=10)
    c = make_design("random_subset", 50, 2, rng_seed=6, size=10)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert run_seed(0, "exp", 1) == run_seed(0, "exp", 1) != run_seed(0, "exp", 2)


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown design kind"):
        make_design("bootstrap", 10, 1, rng_seed=0)


def test_build_design_file(toy_h5, tmp_path):
    out = tmp_path / "d.h5"
    build_design("e", {"design": {"kind": "kfold", "folds": 2, "repeats": 2}}, toy_h5, out,
                 config={"a": 1})
    d = read_design(out)
    assert d["train_mask"].shape == (4, 120)
    np.testing.assert_array_equal(d["pool_ids"], np.arange(120) + 1000)
    with h5py.File(out) as f:
        from pointwise.provenance import config_hash
        assert f.attrs["config_hash"] == config_hash({"a": 1})
        assert str(toy_h5) in f.attrs["inputs_sha256"]
