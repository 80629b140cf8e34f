from pointwise.probes.run_probes import run_probes

sm = snakemake
ckpts = [sm.input.ckpt] if isinstance(sm.input.ckpt, str) else list(sm.input.ckpt)
for ckpt, out, seed in zip(ckpts, sm.output, sm.params.seeds, strict=True):
    run_probes(ckpt, sm.input.data, sm.input.design, out, int(seed), k=sm.params.k, tie=sm.params.tie,
               input_margin_splits=sm.params.input_margin, device=sm.config.get("device", "auto"),
               threads=sm.threads, config=sm.config, log_path=sm.log[0])
