"""Paper 002 figures drawn from hand-made tables: the statistics their titles report and the
images they place."""
import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd

from pointwise.data.image_table import image_rows
from pointwise.figures.depth import fig1_left, fig2_right, fig7_images, figC22_entropy, figC24_iteration_learned


def _ex(mpd_val, mpd_train=None, **cols):
    mpd_val = np.asarray(mpd_val, float)
    return pd.DataFrame({"example_id": np.arange(len(mpd_val)), "mpd_val": mpd_val,
                         "mpd_train": mpd_val if mpd_train is None else mpd_train, **cols})


def test_fig2_right_rescales_by_each_depth_and_reports_spearman():
    a = _ex([0, 1, 2, 3, 4])
    b = _ex([8, 6, 4, 2, 0], mpd_train=[0, 2, 4, 6, 8])
    by = {"a": pd.DataFrame({"depth": range(5)}), "b": pd.DataFrame({"depth": range(9)})}   # L = 4, 8
    fig = fig2_right({"a": (a, by["a"]), "b": (b, by["b"])}, bins=4)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:2] == ["train: rho = 1.00 (n=5)", "val: rho = -1.00 (n=5)"]
    assert fig.axes[0].get_xlim() == (0.0, 1.0) and fig.axes[0].get_ylim() == (0.0, 1.0)    # PD / L of each


def test_figC22_and_figC24_titles():
    ex = _ex([0, 1, 2, 3], entropy=[0.0, 0.1, 0.5, 0.4],
             iter_learned_resc_train=[0.1, 0.2, 0.3, 0.4], iter_learned_resc_val=[0.4, 0.3, 0.2, np.nan])
    assert figC22_entropy(ex, bins=3).axes[0].get_title() == "all: rho = 0.80 (n=4)"
    t = [ax.get_title() for ax in figC24_iteration_learned(ex, bins=3).axes]
    assert t == ["train: rho = 1.00 (n=4)", "val: rho = -1.00 (n=3)"]


def test_image_figures_place_each_pick():
    imgs = np.arange(6 * 4, dtype=np.uint8).reshape(6, 1, 2, 2)
    px = image_rows(imgs, np.arange(6), np.arange(6)).rename(columns={"id": "example_id"})
    picks = pd.DataFrame({"figure": ["fig1_left"] * 4 + ["fig7"] * 2,
                          "row": ["0", "0", "1", "1", "easy", "ambiguous"],
                          "side": ["input", "softmax", "input", "softmax", "corner", "corner"],
                          "rank": [0, 0, 0, 0, 0, 0], "example_id": range(6), "label": [0, 0, 1, 1, 0, 1],
                          "consensus": [0, 0, 1, 1, 0, 0], "mpd_train": [0.0, 3.0, 1.0, 2.0, 0.0, 3.0],
                          "mpd_val": 0.0}).merge(px, on="example_id")
    fig = fig1_left(picks)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(fig.axes) == 2 * 3 and len(shown) == 4                       # 2 classes x (1 + gap + 1)
    assert [ax.get_title() for ax in shown] == ["PD 0.0", "PD 3.0", "PD 1.0", "PD 2.0"]
    fig = fig7_images(picks)
    assert [ax.get_title() for ax in fig.axes if ax.images] == ["y=0 c=0", "y=1 c=0"]
    assert [ax.get_ylabel() for ax in fig.axes] == ["easy", "ambiguous"]
