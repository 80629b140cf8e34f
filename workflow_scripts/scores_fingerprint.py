from pointwise.logs import log_to
from pointwise.scores.analyses import write_fingerprint

log_to(snakemake.log[0])
write_fingerprint(dict(zip(snakemake.params.models, snakemake.input.cubes)), snakemake.input.sensitivity,
                  snakemake.input.examples, snakemake.input.data, dict(snakemake.output.items()),
                  snakemake.params.settings, config=snakemake.config)
