"""The examples paper 002 shows as images (Fig 1 left, Fig 7): picked from a per-example table."""
import numpy as np
import pandas as pd

from pointwise.depth.example_picks import corner_picks, fig1_picks


def _per_example():
    # ids 0..7; classes 0 (ids 0-3) and 1 (ids 4-7); L = 4
    return pd.DataFrame({
        "example_id": [3, 2, 1, 0, 4, 5, 6, 7],
        "label": [0, 0, 0, 0, 1, 1, 1, 1],
        "consensus": [0, 0, 1, 0, 1, 1, 0, 1],
        "mpd_train": [0.5, 4.0, 0.5, 2.0, 3.0, np.nan, 1.0, 3.5],
        "mpd_val": [0.0, 4.0, 4.0, 1.0, 3.0, 2.0, 0.0, 0.5],
    })


def test_fig1_picks_lowest_and_highest_training_pd_per_class():
    t = fig1_picks(_per_example(), n=2)
    s = t.set_index(["row", "side", "rank"])["example_id"]
    # class 0: mPD_train 1: 0.5, 3: 0.5 (tie: lower id first), 0: 2.0, 2: 4.0
    assert [s["0", "input", 0], s["0", "input", 1]] == [1, 3]
    assert [s["0", "softmax", 0], s["0", "softmax", 1]] == [2, 0]
    # class 1: id 5 has no training occurrence and is never picked
    assert [s["1", "input", 0], s["1", "input", 1]] == [6, 4]
    assert [s["1", "softmax", 0], s["1", "softmax", 1]] == [7, 4]
    assert set(fig1_picks(_per_example(), n=1, classes=[1])["row"]) == {"1"}
    assert (t["figure"] == "fig1_left").all()


def test_corner_picks_closest_to_each_corner():
    t = corner_picks(_per_example(), L=4, n=1)
    first = t.set_index("row")["example_id"]
    # (val, train): easy (0, 0) -> id 3 (0, 0.5); looks-like-different (0, 4) -> id 7 (0.5, 3.5);
    # ambiguous-unless-label (4, 0) -> id 1 (4, 0.5); ambiguous (4, 4) -> id 2 (4, 4)
    assert first.to_dict() == {"easy": 3, "looks_like_different": 7, "ambiguous_unless_label": 1, "ambiguous": 2}
    np.testing.assert_allclose(t.set_index("row")["distance"]["looks_like_different"], np.sqrt(0.5))
    only1 = corner_picks(_per_example(), L=4, n=1, label=1).set_index("row")["example_id"]
    assert only1["easy"] == 6 and only1["ambiguous"] == 4 and set(only1) <= {4, 6, 7}
