"""Source readers through build_dataset -> read_dataset, on small files written in the real formats
(IDX gz, CIFAR pickles, SVHN .mat, CIFAR-10.1 .npy, CIFAR-10.2 .npz, CINIC PNG tree), plus the
errors for missing and corrupt files and the torchvision download path (with a stand-in module)."""
import gzip
import pickle
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from pointwise.data import DataMissingError, build_dataset, read_dataset
from pointwise.data.cifar import CIFAR10_CLASSES
from pointwise.data.fashion_mnist import CLASS_NAMES as FMNIST_CLASSES
from pointwise.data.idx import idx_bytes

RNG = np.random.default_rng(0)


def images(n, shape):
    return RNG.integers(0, 256, size=(n,) + shape, dtype=np.uint8)


# ----------------------------------------------------------------------------- writers (real formats)

def write_fmnist(d, n_train=12, n_test=5, gz=True):
    """IDX files as in the Debian package: images [N, 28, 28] (magic 2051), labels (2049)."""
    d.mkdir(parents=True, exist_ok=True)
    x = images(n_train + n_test, (28, 28))
    y = RNG.integers(0, 10, n_train + n_test).astype(np.uint8)
    for prefix, rows in (("train", slice(0, n_train)), ("t10k", slice(n_train, None))):
        for kind, arr in (("images-idx3", x[rows]), ("labels-idx1", y[rows])):
            buf = idx_bytes(arr)
            name = f"{prefix}-{kind}-ubyte"
            (d / (name + ".gz" if gz else name)).write_bytes(gzip.compress(buf) if gz else buf)
    return x, y


def write_cifar10(d, per_batch=4, n_test=3, meta=True):
    d.mkdir(parents=True, exist_ok=True)
    xs, ys = [], []
    for f, n in [(f"data_batch_{i}", per_batch) for i in range(1, 6)] + [("test_batch", n_test)]:
        x, y = images(n, (3072,)), RNG.integers(0, 10, n).tolist()
        with open(d / f, "wb") as fh:
            pickle.dump({b"batch_label": f.encode(), b"labels": y, b"data": x,
                         b"filenames": [b"x.png"] * n}, fh, protocol=2)
        xs.append(x)
        ys.append(y)
    if meta:
        with open(d / "batches.meta", "wb") as fh:
            pickle.dump({b"label_names": [c.encode() for c in CIFAR10_CLASSES],
                         b"num_cases_per_batch": per_batch, b"num_vis": 3072}, fh, protocol=2)
    return np.concatenate(xs).reshape(-1, 3, 32, 32), np.concatenate(ys)


def write_cifar100(d, n_train=6, n_test=4):
    d.mkdir(parents=True, exist_ok=True)
    out = {}
    for f, n in (("train", n_train), ("test", n_test)):
        x, fine = images(n, (3072,)), RNG.integers(0, 100, n).tolist()
        coarse = RNG.integers(0, 20, n).tolist()
        with open(d / f, "wb") as fh:
            pickle.dump({b"filenames": [b"x.png"] * n, b"batch_label": f.encode(),
                         b"fine_labels": fine, b"coarse_labels": coarse, b"data": x}, fh, protocol=2)
        out[f] = (x, fine, coarse)
    with open(d / "meta", "wb") as fh:
        pickle.dump({b"fine_label_names": [f"fine{i}".encode() for i in range(100)],
                     b"coarse_label_names": [f"coarse{i}".encode() for i in range(20)]}, fh, protocol=2)
    x = np.concatenate([out["train"][0], out["test"][0]]).reshape(-1, 3, 32, 32)
    return x, out["train"][1] + out["test"][1], out["train"][2] + out["test"][2]


def write_svhn(d, counts=(("train", 7), ("test", 4))):
    from scipy.io import savemat
    d.mkdir(parents=True, exist_ok=True)
    xs, ys = [], []
    for split, n in counts:
        x = images(n, (32, 32, 3))
        y = (np.arange(n) + 7) % 10 + 1           # 8, 9, 10, 1, ...: 10 means the digit 0
        savemat(d / f"{split}_32x32.mat", {"X": np.moveaxis(x, 0, -1), "y": y.reshape(-1, 1).astype(np.uint8)})
        xs.append(x)
        ys.append(y)
    return np.concatenate(xs).transpose(0, 3, 1, 2), np.concatenate(ys)


def write_cinic(d, per_class=2):
    from PIL import Image
    truth = {}
    for split in ("train", "valid", "test"):
        for c, cls in enumerate(CIFAR10_CLASSES):
            (d / split / cls).mkdir(parents=True)
            for stem in [f"n0153_{j}" for j in range(per_class)] + [f"cifar10-train-{c}"]:
                arr = images(1, (32, 32, 3))[0]
                Image.fromarray(arr).save(d / split / cls / f"{stem}.png")
                truth[(split, cls, stem)] = arr
    return truth


def build(tmp_path, spec, name="ds"):
    out = tmp_path / "out" / f"{name}.h5"
    build_dataset(name, spec, out, config={"k": 1})
    return read_dataset(out), out


def assert_sha(ds, files):
    assert set(ds.source_sha256) == set(files)
    assert all(len(v) == 64 for v in ds.source_sha256.values())


# ----------------------------------------------------------------------------- round trips

@pytest.mark.parametrize("gz", [True, False])
def test_fashion_mnist(tmp_path, gz):
    x, y = write_fmnist(tmp_path / "fm", gz=gz)
    ds, _ = build(tmp_path, {"source": "fashion_mnist", "path": str(tmp_path / "fm")}, name="fmnist")
    assert ds.images.shape == (17, 1, 28, 28) and ds.images.dtype == np.uint8
    np.testing.assert_array_equal(ds.images[:, 0], x)
    np.testing.assert_array_equal(ds.labels, y)
    np.testing.assert_array_equal(ds.ids, np.arange(17))
    assert ds.split_names == ["train", "test"] and (ds.split == 0).sum() == 12
    assert ds.class_names == FMNIST_CLASSES and ds.num_classes == 10 and ds.name == "fmnist"
    assert len(ds.source_sha256) == 4


def test_fashion_mnist_torchvision_layout(tmp_path):
    x, _ = write_fmnist(tmp_path / "root" / "FashionMNIST" / "raw")
    ds, _ = build(tmp_path, {"source": "fashion_mnist", "path": str(tmp_path / "root")})
    np.testing.assert_array_equal(ds.images[:, 0], x)


@pytest.mark.parametrize("parent", [True, False])
def test_cifar10(tmp_path, parent):
    x, y = write_cifar10(tmp_path / "c" / "cifar-10-batches-py")
    path = tmp_path / "c" if parent else tmp_path / "c" / "cifar-10-batches-py"
    ds, _ = build(tmp_path, {"source": "cifar10", "path": str(path)})
    assert ds.images.shape == (23, 3, 32, 32)
    np.testing.assert_array_equal(ds.images, x)
    np.testing.assert_array_equal(ds.labels, y)
    np.testing.assert_array_equal(ds.split, [0] * 20 + [1] * 3)
    np.testing.assert_array_equal(ds.ids, np.arange(23))
    assert ds.class_names == CIFAR10_CLASSES
    assert_sha(ds, [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"])
    assert ds.attrs["source"] == "cifar10"


@pytest.mark.parametrize("label_type", ["fine", "coarse"])
def test_cifar100(tmp_path, label_type):
    x, fine, coarse = write_cifar100(tmp_path / "cifar-100-python")
    ds, _ = build(tmp_path, {"source": "cifar100", "path": str(tmp_path), "label_type": label_type})
    np.testing.assert_array_equal(ds.images, x)
    np.testing.assert_array_equal(ds.labels, fine if label_type == "fine" else coarse)
    assert ds.num_classes == (100 if label_type == "fine" else 20)
    assert ds.class_names[3] == f"{label_type}3"
    assert ds.split_names == ["train", "test"] and list(np.bincount(ds.split)) == [6, 4]
    assert_sha(ds, ["train", "test", "meta"])


@pytest.mark.parametrize("extra", [False, True])
def test_svhn(tmp_path, extra):
    counts = (("train", 7), ("test", 4)) + ((("extra", 3),) if extra else ())
    x, y = write_svhn(tmp_path / "svhn", counts)
    ds, _ = build(tmp_path, {"source": "svhn", "path": str(tmp_path / "svhn"), "include_extra": extra})
    np.testing.assert_array_equal(ds.images, x)
    np.testing.assert_array_equal(ds.labels, np.where(y == 10, 0, y))
    assert 0 in ds.labels and 10 not in ds.labels
    assert ds.split_names == [s for s, _ in counts]
    assert list(np.bincount(ds.split)) == [n for _, n in counts]
    assert_sha(ds, [f"{s}_32x32.mat" for s, _ in counts])


def test_cifar10_1(tmp_path):
    x, y = images(9, (32, 32, 3)), RNG.integers(0, 10, 9)
    np.save(tmp_path / "cifar10.1_v4_data.npy", x)
    np.save(tmp_path / "cifar10.1_v4_labels.npy", y)
    ds, _ = build(tmp_path, {"source": "cifar10_1", "path": str(tmp_path), "version": "v4"})
    np.testing.assert_array_equal(ds.images, x.transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(ds.labels, y)
    assert ds.split_names == ["test"] and (ds.split == 0).all()
    assert ds.class_names == CIFAR10_CLASSES
    assert_sha(ds, ["cifar10.1_v4_data.npy", "cifar10.1_v4_labels.npy"])


def test_cifar10_2(tmp_path):
    data = {s: (images(n, (32, 32, 3)), RNG.integers(0, 10, n)) for s, n in (("train", 6), ("test", 3))}
    for s, (x, y) in data.items():
        np.savez(tmp_path / f"cifar102_{s}.npz", images=x, labels=y)
    ds, _ = build(tmp_path, {"source": "cifar10_2", "path": str(tmp_path)})
    np.testing.assert_array_equal(ds.images, np.concatenate([data["train"][0], data["test"][0]]).transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(ds.labels, np.concatenate([data["train"][1], data["test"][1]]))
    np.testing.assert_array_equal(ds.split, [0] * 6 + [1] * 3)
    assert_sha(ds, ["cifar102_train.npz", "cifar102_test.npz"])


@pytest.mark.parametrize("imagenet_only", [False, True])
def test_cinic10(tmp_path, imagenet_only):
    truth = write_cinic(tmp_path / "cinic")
    ds, _ = build(tmp_path, {"source": "cinic10", "path": str(tmp_path / "cinic"), "imagenet_only": imagenet_only})
    per_class = 2 if imagenet_only else 3
    assert ds.split_names == ["train", "valid", "test"] and ds.class_names == CIFAR10_CLASSES
    assert list(np.bincount(ds.split)) == [10 * per_class] * 3
    np.testing.assert_array_equal(ds.ids, np.arange(30 * per_class))
    assert ds.extras["from_cifar"].sum() == (0 if imagenet_only else 30)
    # rows are sorted by split, class, file name: "cifar10-..." sorts before "n0153_..."
    for split_i, split in enumerate(ds.split_names):
        for c, cls in enumerate(CIFAR10_CLASSES):
            stems = sorted(s for (sp, cl, s) in truth if sp == split and cl == cls
                           and not (imagenet_only and s.startswith("cifar10-")))
            rows = np.flatnonzero((ds.split == split_i) & (ds.labels == c))
            assert len(rows) == len(stems)
            for r, stem in zip(rows, stems):
                np.testing.assert_array_equal(ds.images[r], truth[(split, cls, stem)].transpose(2, 0, 1))
    assert len(ds.source_sha256) == 3


def test_provenance_attrs(tmp_path):
    import h5py
    write_fmnist(tmp_path / "fm")
    _, out = build(tmp_path, {"source": "fashion_mnist", "path": str(tmp_path / "fm")}, name="fm")
    with h5py.File(out) as f:
        for key in ("code_version", "config_hash", "package_versions", "created_utc", "spec", "dataset"):
            assert key in f.attrs
        assert f.attrs["dataset"] == "fm"


# ----------------------------------------------------------------------------- errors

def assert_clean_error(tmp_path, spec, name, *fragments):
    out_dir = tmp_path / "out"
    with pytest.raises(DataMissingError) as info:
        build_dataset(name, spec, out_dir / f"{name}.h5")
    msg = str(info.value)
    assert f"'{name}'" in msg and "To obtain it" in msg
    for frag in fragments:
        assert frag in msg, (frag, msg)
    assert not out_dir.exists() or list(out_dir.iterdir()) == []
    return msg


@pytest.mark.parametrize("source, instruction", [
    ("fashion_mnist", "apt-get install dataset-fashion-mnist"),
    ("cifar10", "cifar-10-python.tar.gz"),
    ("cifar100", "cifar-100-python.tar.gz"),
    ("svhn", "train,test,extra}_32x32.mat"),
    ("cifar10_1", "modestyachts/CIFAR-10.1"),
    ("cifar10_2", "modestyachts/cifar-10.2"),
    ("cinic10", "CINIC-10.tar.gz"),
])
def test_missing_directory(tmp_path, source, instruction):
    missing = tmp_path / "nowhere"
    msg = assert_clean_error(tmp_path, {"source": source, "path": str(missing)}, "mine", str(missing), instruction)
    assert "datasets.mine.path" in msg


def test_truncated_fashion_mnist(tmp_path):
    write_fmnist(tmp_path / "fm")
    f = tmp_path / "fm" / "train-images-idx3-ubyte.gz"
    f.write_bytes(f.read_bytes()[:200])
    assert_clean_error(tmp_path, {"source": "fashion_mnist", "path": str(tmp_path / "fm")}, "fm",
                       str(f), "gzip", "apt-get install")


def test_bad_magic_fashion_mnist(tmp_path):
    write_fmnist(tmp_path / "fm")
    f = tmp_path / "fm" / "t10k-labels-idx1-ubyte.gz"
    f.write_bytes(gzip.compress(b"\x12\x34\x08\x01" + bytes(12)))
    assert_clean_error(tmp_path, {"source": "fashion_mnist", "path": str(tmp_path / "fm")}, "fm",
                       str(f), "magic")


def test_corrupt_cifar_pickle(tmp_path):
    write_cifar10(tmp_path / "cifar-10-batches-py")
    f = tmp_path / "cifar-10-batches-py" / "data_batch_3"
    f.write_bytes(f.read_bytes()[:100])
    assert_clean_error(tmp_path, {"source": "cifar10", "path": str(tmp_path)}, "c10", str(f), "corrupt")


def test_cifar_pickle_missing_key(tmp_path):
    write_cifar100(tmp_path / "cifar-100-python")
    with open(tmp_path / "cifar-100-python" / "test", "wb") as fh:
        pickle.dump({b"data": images(2, (3072,)), b"fine_labels": [1, 2]}, fh)
    assert_clean_error(tmp_path, {"source": "cifar100", "path": str(tmp_path), "label_type": "coarse"},
                       "c100", "coarse_labels")


def test_corrupt_svhn_mat(tmp_path):
    write_svhn(tmp_path)
    (tmp_path / "test_32x32.mat").write_bytes(b"MATLAB 5.0 garbage")
    assert_clean_error(tmp_path, {"source": "svhn", "path": str(tmp_path)}, "sv", "test_32x32.mat")


def test_corrupt_npy_npz_png(tmp_path):
    (tmp_path / "a").mkdir()
    np.save(tmp_path / "a" / "cifar10.1_v6_labels.npy", np.zeros(3, np.int64))
    (tmp_path / "a" / "cifar10.1_v6_data.npy").write_bytes(b"\x93NUMPY broken")
    assert_clean_error(tmp_path, {"source": "cifar10_1", "path": str(tmp_path / "a")}, "c1", "cifar10.1_v6_data.npy")
    (tmp_path / "b").mkdir()
    np.savez(tmp_path / "b" / "cifar102_train.npz", images=images(2, (32, 32, 3)), labels=[0, 1])
    np.savez(tmp_path / "b" / "cifar102_test.npz", pictures=images(2, (32, 32, 3)), labels=[0, 1])
    assert_clean_error(tmp_path, {"source": "cifar10_2", "path": str(tmp_path / "b")}, "c2", "images")
    write_cinic(tmp_path / "c", per_class=1)
    bad = tmp_path / "c" / "valid" / "dog" / "n0153_0.png"
    bad.write_bytes(bad.read_bytes()[:30])
    assert_clean_error(tmp_path, {"source": "cinic10", "path": str(tmp_path / "c")}, "cin", str(bad))


def test_wrong_shape_rejected(tmp_path):
    np.save(tmp_path / "cifar10.1_v6_data.npy", images(3, (28, 28, 3)))
    np.save(tmp_path / "cifar10.1_v6_labels.npy", np.zeros(3, np.int64))
    assert_clean_error(tmp_path, {"source": "cifar10_1", "path": str(tmp_path)}, "c1", "[N, 32, 32, 3]")


# ----------------------------------------------------------------------------- downloads

def fake_torchvision(calls):
    """A stand-in for torchvision.datasets that writes the files torchvision would."""
    def fmnist(root, train=True, download=False):
        calls.append(("FashionMNIST", train))
        write_fmnist(Path(root) / "FashionMNIST" / "raw")

    def cifar10(root, train=True, download=False):
        calls.append(("CIFAR10", train))
        write_cifar10(Path(root) / "cifar-10-batches-py")

    def svhn(root, split="train", download=False):
        calls.append(("SVHN", split))
        write_svhn(Path(root), ((split, 3),))

    return types.SimpleNamespace(datasets=types.SimpleNamespace(FashionMNIST=fmnist, CIFAR10=cifar10, SVHN=svhn))


@pytest.mark.parametrize("source, n", [("fashion_mnist", 17), ("cifar10", 23), ("svhn", 6)])
def test_download_then_read(tmp_path, monkeypatch, source, n):
    calls = []
    monkeypatch.setitem(sys.modules, "torchvision", fake_torchvision(calls))
    spec = {"source": source, "path": str(tmp_path / "data" / source), "download": True}
    ds, _ = build(tmp_path, spec)
    assert len(ds) == n and calls
    assert not list((tmp_path / "data" / source).glob(".download-*"))    # temp folder removed
    calls.clear()
    build(tmp_path, spec)                                                 # files present: no download
    assert calls == []


def test_download_into_named_folder(tmp_path, monkeypatch):
    """configs/paper.yaml points `path` at cifar-10-batches-py itself: the batches land in it."""
    monkeypatch.setitem(sys.modules, "torchvision", fake_torchvision([]))
    target = tmp_path / "datasets" / "cifar-10-batches-py"
    ds, _ = build(tmp_path, {"source": "cifar10", "path": str(target), "download": True})
    assert len(ds) == 23 and (target / "data_batch_1").is_file()
    assert not (target / "cifar-10-batches-py").exists()


def test_download_without_torchvision(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)                 # import torchvision fails
    target = tmp_path / "data" / "fm"
    assert_clean_error(tmp_path, {"source": "fashion_mnist", "path": str(target), "download": True},
                       "fm", "torchvision is not installed", "apt-get install")
    assert not target.exists()


def test_download_failure_leaves_nothing(tmp_path, monkeypatch):
    def boom(root, **kw):
        (Path(root) / "partial.tar.gz").write_bytes(b"x")
        raise RuntimeError("network unreachable")
    monkeypatch.setitem(sys.modules, "torchvision",
                        types.SimpleNamespace(datasets=types.SimpleNamespace(CIFAR10=boom)))
    target = tmp_path / "data" / "c10"
    assert_clean_error(tmp_path, {"source": "cifar10", "path": str(target), "download": True},
                       "c10", "network unreachable")
    assert not target.exists()


def test_download_unsupported_source(tmp_path):
    assert_clean_error(tmp_path, {"source": "cinic10", "path": str(tmp_path / "x"), "download": True},
                       "cin", "not available")


def test_download_cli(tmp_path, monkeypatch, capsys):
    from pointwise.data.download import main
    monkeypatch.setitem(sys.modules, "torchvision", fake_torchvision([]))
    assert main(["fashion_mnist", str(tmp_path / "fm")]) == 0
    assert len(list((tmp_path / "fm").glob("*-ubyte.gz"))) == 4
    monkeypatch.setitem(sys.modules, "torchvision", None)
    assert main(["svhn", str(tmp_path / "sv")]) == 1
    assert "torchvision" in capsys.readouterr().err
