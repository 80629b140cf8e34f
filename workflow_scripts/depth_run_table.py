from pointwise.depth.pipeline import write_run_table
from pointwise.logs import log_to

sm = snakemake
log_to(sm.log[0])
knn = [sm.input.knn] if isinstance(sm.input.knn, str) else list(sm.input.knn)
logits = [sm.input.logits] if isinstance(sm.input.logits, str) else list(sm.input.logits)
for k, lg, out in zip(knn, logits, sm.output, strict=True):
    write_run_table(k, lg, out, sm.params.settings, config=sm.config)
