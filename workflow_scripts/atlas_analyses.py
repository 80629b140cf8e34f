from pointwise.atlas.build import write_analyses
from pointwise.logs import log_to

log_to(snakemake.log[0])
spec = snakemake.params.spec
write_analyses(snakemake.input[0], dict(snakemake.output.items()), hard=spec.get("hard"),
               fraction=spec.get("top_fraction", 0.1), n_boot=spec.get("bootstrap", 200),
               seed=spec.get("seed", 0), config=snakemake.config)
