"""build_dataset for derived datasets: parent ids/classes/splits kept, derivation and provenance
recorded, and nothing left behind on errors."""
import h5py
import json

import numpy as np
import pytest

from pointwise.data import build_dataset, read_dataset
from pointwise.provenance import sha256_file

SYN = {"source": "synthetic", "n_train": 200, "n_test": 100, "num_classes": 4, "channels": 1,
       "size": 8, "seed": 0}


@pytest.fixture()
def parent(tmp_path):
    path = tmp_path / "data" / "syn.h5"
    build_dataset("syn", SYN, path, config={"scale": "test"})
    return path


def test_derivations_chain(tmp_path, parent):
    pool = tmp_path / "data" / "pool.h5"
    build_dataset("pool", {"derive": "balanced_subset", "parent": "syn", "per_class": {"train": 30, "test": 10},
                           "seed": 1}, pool, parent_path=parent, config={"scale": "test"})
    noisy = tmp_path / "data" / "noisy.h5"
    build_dataset("noisy", {"derive": "label_noise", "parent": "pool", "fraction": 0.25, "mode": "other_class",
                            "split": "train", "seed": 2}, noisy, parent_path=pool)
    rung = tmp_path / "data" / "ood" / "contrast-3.h5"
    build_dataset("ood/contrast-3", {"derive": "corruption", "parent": "pool", "split": "test",
                                     "corruption": "contrast", "severity": 3, "seed": 0}, rung, parent_path=pool)
    p, s, n, r = (read_dataset(x) for x in (parent, pool, noisy, rung))
    assert len(s) == 160 and set(s.ids) <= set(p.ids)
    np.testing.assert_array_equal(n.ids, s.ids)
    assert n.extras["flipped"].sum() == 30 and n.name == "noisy"
    np.testing.assert_array_equal(r.ids, s.ids[s.split == 1])
    assert (r.extras["severity"] == 3).all()
    for d in (s, n, r):
        assert d.class_names == p.class_names and d.split_names == p.split_names
    assert n.attrs["derive"] == "label_noise" and n.attrs["parent"] == "pool"
    assert n.attrs["parent_attrs"]["derive"] == "balanced_subset"
    with h5py.File(noisy) as f:
        assert json.loads(f.attrs["inputs_sha256"]) == {str(pool): sha256_file(pool)}
        assert f.attrs["seed"] == 2 and json.loads(f.attrs["spec"])["fraction"] == 0.25


def test_errors_leave_nothing(tmp_path, parent):
    out_dir = tmp_path / "derived"
    bad = [
        ({"derive": "corruption", "parent": "syn", "corruption": "fog", "severity": 1}, ValueError, "gaussian_noise"),
        ({"derive": "balanced_subset", "parent": "syn", "per_class": {"train": 999}}, ValueError, "per class"),
        ({"derive": "label_noise", "parent": "syn", "fraction": 0.1, "split": "valid"}, KeyError, "valid"),
        ({"derive": "shuffle", "parent": "syn"}, ValueError, "unknown derivation"),
    ]
    for spec, exc, match in bad:
        with pytest.raises(exc, match=match):
            build_dataset("x", spec, out_dir / "x.h5", parent_path=parent)
    with pytest.raises(ValueError, match="no parent file"):
        build_dataset("x", bad[0][0], out_dir / "x.h5")
    assert not out_dir.exists() or list(out_dir.iterdir()) == []


def test_rebuild_is_identical(tmp_path):
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    build_dataset("syn", SYN, a)
    build_dataset("syn", SYN, b)
    x, y = read_dataset(a), read_dataset(b)
    assert x.images.tobytes() == y.images.tobytes() and x.ids.tobytes() == y.ids.tobytes()
