import math

import pytest

from pointwise.claims import Claim, claims_table, write_claims
from pointwise.io import read_csv, read_csv_provenance


def test_results_follow_the_threshold():
    assert Claim("A", "", "", "> 0.5", 0.6).result == "PASS"
    assert Claim("B", "", "", "> 0.5", 0.5).result == "FAIL"
    assert Claim("C", "", "", "<= -0.8", -0.8).result == "PASS"
    assert Claim("D", "", "", "< 0", math.nan).result == "NO DATA"
    with pytest.raises(ValueError, match="threshold"):
        Claim("E", "", "", "== 1", 1.0).result


def test_table_round_trip(tmp_path):
    path = tmp_path / "claims" / "x.csv"
    write_claims([Claim("C1", "d", "spearman", "> 0", 0.3, "floor 0.1"),
                  Claim("C2", "d", "auroc", ">= 0.8", None)], path, {"config_hash": "h"})
    df = read_csv(path)
    assert list(df["result"]) == ["PASS", "NO DATA"]
    assert read_csv_provenance(path)["config_hash"] == "h"
    assert list(claims_table([])) == ["claim", "description", "statistic", "threshold", "measured", "result", "note"]
