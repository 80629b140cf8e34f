"""Data layer: readers of the published formats, derived sets, and the workflow's HDF5 format."""
from pointwise.data.build import build_dataset, derive, load_source
from pointwise.data.cifar import load_cifar10, load_cifar100
from pointwise.data.cifar10_1 import load_cifar10_1
from pointwise.data.cifar10_2 import load_cifar10_2
from pointwise.data.cinic10 import load_cinic10
from pointwise.data.corruptions import CORRUPTIONS, corrupt, corrupt_dataset
from pointwise.data.errors import DataMissingError
from pointwise.data.fashion_mnist import load_fashion_mnist
from pointwise.data.idx import read_idx
from pointwise.data.label_noise import add_label_noise, noisy_labels
from pointwise.data.store import ImageDataset, read_dataset, write_dataset
from pointwise.data.subsets import balanced_subset
from pointwise.data.svhn import load_svhn
from pointwise.data.synthetic import make_synthetic

__all__ = [
    "DataMissingError", "ImageDataset", "read_dataset", "write_dataset",
    "build_dataset", "load_source", "derive",
    "load_fashion_mnist", "load_cifar10", "load_cifar100", "load_svhn", "load_cifar10_1",
    "load_cifar10_2", "load_cinic10", "read_idx", "make_synthetic",
    "CORRUPTIONS", "corrupt", "corrupt_dataset", "add_label_noise", "noisy_labels", "balanced_subset",
]
