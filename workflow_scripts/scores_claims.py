from pointwise.logs import log_to
from pointwise.scores.claims import write_scores_claims

log_to(snakemake.log[0])
write_scores_claims(dict(snakemake.input.items()), snakemake.output[0], snakemake.params.settings,
                    config=snakemake.config)
