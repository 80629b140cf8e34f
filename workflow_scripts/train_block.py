from pointwise.train.engine import train_block

inp = snakemake.input
train_block(
    data=inp.data, design=inp.design,
    eval_data={k[len("eval_"):]: v for k, v in inp.items() if k.startswith("eval_")},
    outputs={k: snakemake.output[k] for k in ("ckpt", "logits", "stats", "snapshots")},
    recipe=snakemake.params.recipe, members=snakemake.params.members,
    state_dir=snakemake.params.state_dir, log_path=snakemake.log[0],
    init_checkpoints=[inp.init] * len(snakemake.params.members) if "init" in inp.keys() else None,
    replay_data=inp.replay if "replay" in inp.keys() else None,
    config=snakemake.config,
)
