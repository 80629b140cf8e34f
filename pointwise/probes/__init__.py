"""k-NN probes of paper 002 (Baldock et al. 2021): exact chunked-GEMM k-NN (:mod:`.knn`) and the
per-run driver that probes every layer of a trained model (:mod:`.run_probes`)."""
from .knn import (KNNResult, knn_classify, knn_search, label_dtype, self_positions, vote,
                  vote_counts, vote_fraction)

__all__ = ["KNNResult", "knn_classify", "knn_search", "label_dtype", "self_positions", "vote",
           "vote_counts", "vote_fraction"]
