from pointwise.depth.pipeline import write_lr_probes
from pointwise.logs import log_to

sm = snakemake
log_to(sm.log[0])
write_lr_probes(sm.input.ckpt, sm.input.data, sm.input.design, sm.output[0], sm.params.settings,
                config=sm.config, device=sm.config.get("device", "auto"), threads=sm.threads)
