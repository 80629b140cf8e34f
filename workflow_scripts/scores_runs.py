from pointwise.logs import log_to
from pointwise.scores.pipeline import write_block_scores

log_to(snakemake.log[0])
inp = snakemake.input
write_block_scores(inp.data, inp.logits, inp.stats, inp.model, inp.snapshots, list(snakemake.output),
                   snakemake.params.settings, config=snakemake.config, threads=snakemake.threads)
