"""The atlas join on hand-made lens tables: every example once, ids matched across papers,
orientation applied, bad inputs rejected with a clear error."""
import numpy as np
import pandas as pd
import pytest

from conftest import toy_dataset
from pointwise.atlas import build, lenses
from pointwise.data.label_noise import add_label_noise
from pointwise.data.store import write_dataset
from pointwise.io import read_csv, write_csv


@pytest.fixture
def dataset(tmp_path):
    ds = toy_dataset(n_train=6, n_test=4)            # ids 1000..1009, train = first 6
    path = tmp_path / "ds.h5"
    write_dataset(ds, path)
    return path, ds


def _depth_table(path, ids):
    n = len(ids)
    df = pd.DataFrame({"example_id": ids, "mpd_train": np.linspace(0, 3, n), "mpd_val": np.linspace(3, 0, n),
                       "consistency": 0.5, "cstar": 0.5, "entropy": 0.1, "iter_learned_resc_train": 1.0,
                       "output_margin_val": 0.2, "consensus": 1,
                       "dist_easy": np.nan, "dist_looks_like_different": np.nan,
                       "dist_ambiguous_unless_label": np.nan, "dist_ambiguous": np.nan})
    df.loc[0, [c for c in df.columns if c.startswith("dist_")]] = [0.1, 2.0, 3.0, 4.0]
    df.loc[1, [c for c in df.columns if c.startswith("dist_")]] = [4.0, 3.0, 2.0, 0.5]
    write_csv(df, path)


def test_join_keeps_every_example_once_and_matches_ids(dataset, tmp_path):
    path, ds = dataset
    prof = pd.DataFrame({"idx": range(4), "source_id": [1009, 1008, 1007, 1006], "nmono_acc": [0.0, 0.2, 0.4, 0.6],
                         "final_acc": [1.0, 0.5, 0.25, 0.0], "category": ["easy", "hard", "compatible", "non-monotone"]})
    write_csv(prof, tmp_path / "prof.csv")
    _depth_table(tmp_path / "depth.csv", [1000, 1001, 1002, 1006])
    out = tmp_path / "atlas.csv"
    atlas = build.write_atlas("toy", str(path), {"profiles": [tmp_path / "prof.csv"], "depth": [tmp_path / "depth.csv"]},
                              out)
    assert atlas["example_id"].tolist() == ds.ids.tolist()          # rows = the dataset, in order, once
    assert atlas["split"].tolist() == ["train"] * 6 + ["test"] * 4
    a = atlas.set_index("example_id")
    # the profile of id 1007 is the third row of its table (matched by id, not by position)
    assert a.loc[1007, "profiles_nmono"] == 0.4 and a.loc[1007, "profiles_category"] == "compatible"
    assert np.isnan(a.loc[1000, "profiles_nmono"]) and np.isnan(a.loc[1009, "depth_mpd_train"])
    assert a.loc[1006, "depth_mpd_train"] == 3.0 and a.loc[1006, "profiles_final_acc"] == 0.0
    assert a.loc[1000, "depth_corner"] == "easy" and a.loc[1001, "depth_corner"] == "ambiguous"
    assert pd.isna(a.loc[1002, "depth_corner"])                     # no corner without both means
    assert read_csv(out).shape == atlas.shape


def test_oriented_measures_point_to_harder(dataset, tmp_path):
    path, _ = dataset
    prof = pd.DataFrame({"source_id": [1006, 1007], "nmono_acc": [0.1, 0.3], "final_acc": [0.9, 0.2],
                         "category": ["easy", "hard"]})
    write_csv(prof, tmp_path / "prof.csv")
    atlas = build.write_atlas("toy", str(path), {"profiles": [tmp_path / "prof.csv"]}, tmp_path / "a.csv")
    o = build.oriented(atlas)
    assert list(o.columns) == ["profiles_nmono", "profiles_final_acc"]   # categories are not measures
    assert o["profiles_final_acc"].dropna().tolist() == [-0.9, -0.2]   # lower accuracy = harder


def test_unknown_ids_and_duplicates_are_errors(dataset, tmp_path):
    path, _ = dataset
    write_csv(pd.DataFrame({"source_id": [1000, 5], "nmono_acc": [0.0, 0.1], "final_acc": [1.0, 1.0],
                            "category": ["easy", "easy"]}), tmp_path / "p.csv")
    with pytest.raises(ValueError, match="not examples of the dataset"):
        build.write_atlas("toy", str(path), {"profiles": [tmp_path / "p.csv"]}, tmp_path / "a.csv")
    write_csv(pd.DataFrame({"source_id": [1000, 1000], "nmono_acc": [0.0, 0.1], "final_acc": [1.0, 1.0],
                            "category": ["easy", "easy"]}), tmp_path / "p.csv")
    with pytest.raises(ValueError, match="duplicated"):
        build.write_atlas("toy", str(path), {"profiles": [tmp_path / "p.csv"]}, tmp_path / "a.csv")
    write_csv(pd.DataFrame({"source_id": [1000], "nmono_acc": [0.0]}), tmp_path / "p.csv")
    with pytest.raises(ValueError, match="missing column"):
        lenses.profiles(tmp_path / "p.csv")


def test_noise_flag_auroc_and_taxonomy(tmp_path):
    ds = add_label_noise(toy_dataset(n_train=40, n_test=10), fraction=0.5, seed=0)
    path = tmp_path / "noisy.h5"
    write_dataset(ds, path)
    rows = build.dataset_rows(path)
    assert rows["flipped"].sum() == ds.extras["flipped"].sum() > 0
    train = rows[rows["split"] == "train"]
    # a depth lens whose train-PD is exactly the flip flag: AUROC 1 for it, 0 for its negation
    depth = pd.DataFrame({"example_id": train["example_id"], "mpd_train": train["flipped"].astype(float),
                          "mpd_val": 1 - train["flipped"].astype(float), "consistency": 0.5, "cstar": 0.5,
                          "entropy": 0.0, "iter_learned_resc_train": 0.0, "output_margin_val": 0.0, "consensus": 0,
                          **{f"dist_{g}": 1.0 for g in ("easy", "looks_like_different", "ambiguous_unless_label",
                                                        "ambiguous")}})
    write_csv(depth, tmp_path / "d.csv")
    atlas = build.write_atlas("noisy", str(path), {"depth": [tmp_path / "d.csv"]}, tmp_path / "a.csv")
    au = build.auroc_table(atlas).set_index("measure")["auroc"]
    assert au["depth_mpd_train"] == 1.0 and au["depth_mpd_val"] == 0.0
    assert "depth_entropy" in au.index and au["depth_entropy"] == 0.5      # constant: chance


def test_taxonomy_and_jaccard_tables():
    atlas = pd.DataFrame({"example_id": range(6), "label": 0, "split": "train",
                          "profiles_category": ["easy", "easy", "hard", "hard", "easy", None],
                          lenses.CORNER: ["easy", "easy", "ambiguous", "ambiguous", "easy", "easy"],
                          "profiles_final_acc": [1, 0.9, 0.1, 0.0, 0.8, 0.5],
                          "depth_mpd_val": [0, 1, 5, 6, 2, 3.0]})
    long, summary = build.taxonomy_table(atlas)
    assert summary["n"] == 5 and summary["cramers_v"] == pytest.approx(1.0)
    assert summary["adjusted_rand"] == pytest.approx(1.0)
    assert long["count"].sum() == 5
    jc = build.jaccard_table(atlas, {"profiles": "profiles_final_acc", "depth": "depth_mpd_val"}, 1 / 3)
    r = jc[(jc.lens_a == "profiles") & (jc.lens_b == "depth")].iloc[0]
    assert r["jaccard"] == 1.0 and r["k"] == 2                         # both pick ids {2, 3}
