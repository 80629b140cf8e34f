from pointwise.logs import log_to
from pointwise.profiles.pipeline import profile_scores

log_to(snakemake.log[0])
design = snakemake.input.design[0] if snakemake.input.design else None
profile_scores(list(snakemake.input.runs), snakemake.wildcards.pf_evalset, snakemake.params.reference,
               snakemake.output.csv, snakemake.output.h5, threshold=snakemake.params.threshold,
               n_grid=snakemake.params.n_grid, design=design, config=snakemake.config)
