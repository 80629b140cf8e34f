from pointwise.probes.run_probes import probe_block

sm = snakemake
probe_block(sm.input.ckpt, sm.input.data, sm.input.design, list(sm.output), sm.params.seeds, k=sm.params.k,
            tie=sm.params.tie, input_margin_splits=sm.params.input_margin,
            device=sm.config.get("device", "auto"), threads=sm.threads, config=sm.config, log_path=sm.log[0])
