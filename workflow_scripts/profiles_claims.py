from pointwise.logs import log_to
from pointwise.profiles.pipeline import write_profile_claims

log_to(snakemake.log[0])
write_profile_claims(dict(snakemake.input.items()), snakemake.params.settings, snakemake.output[0],
                     config=snakemake.config)
