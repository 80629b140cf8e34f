# Paper 002 (Baldock et al. 2021) HINGE: the 0-Hinge + full-batch GD intervention (§3.3, A.7; spec
# §3.12, §4.5). The runs named by `papers.depth.hinge` (four loss x optimiser combinations and the
# untrained network) are k-NN probed with the paper-002 probes, tabulated (Table 4, k-NN accuracy by
# layer, training curves) and drawn (Figs 6 right, A.11, A.12). Included before rules/depth.smk,
# whose claims rule reads DPH_CLAIM_TABLES for the C9 rows. docs/papers/depth.md, section HINGE.

import pointwise.depth.hinge as pwhinge
import pointwise.depth.pipeline as pwdepth

DPH_SETTINGS = pwdepth.settings(config)
DPH = pwhinge.combinations(config, DPH_SETTINGS)      # role -> (experiment, arch); {} when off
DPH_CLAIM_TABLES = {}

if DPH:
    DPH_T = f"{TABLES}/depth/hinge"
    DPH_F = f"{FIGURES}/depth/hinge"
    DPH_PROBES = f"{RESULTS}/probes_hinge"
    DPH_CATEGORY = "Paper 002 — prediction depth"
    DPH_CLAIM_TABLES = {"hinge:table4": f"{DPH_T}/table4.csv", "hinge:knn_by_layer": f"{DPH_T}/knn_by_layer.csv"}
    DPH_RUNS = [{"role": r, "seed": s, "checkpoint": f"{run_dir(e, a, s)}/model.pt",
                 "logits": f"{run_dir(e, a, s)}/logits.h5", "design": f"{DESIGNS}/{e}.h5",
                 "data": data_file(config["experiments"][e]["dataset"]),
                 "out": f"{DPH_PROBES}/{r}/seed{s}/knn.h5"}
                for r, (e, a) in DPH.items() for s in range(pwconfig.n_seeds(config, e))]

    rule depth_hinge_probes:
        """k-NN probes (k = papers.depth.k) of every HINGE run at every probe point, input to
        softmax, in one job: the runs are small, so a job per run would cost more in start-up than
        in probing."""
        input:
            ckpt=[r["checkpoint"] for r in DPH_RUNS],
            data=sorted({r["data"] for r in DPH_RUNS}),
            design=sorted({r["design"] for r in DPH_RUNS}),
        output:
            [r["out"] for r in DPH_RUNS],
        params:
            runs=[{k: r[k] for k in ("checkpoint", "data", "design", "out", "seed")} for r in DPH_RUNS],
            k=DPH_SETTINGS["k"],
            tie=DPH_SETTINGS["tie"],
        threads: config.get("threads", 2)
        resources:
            gpu=max(train_gpus(e) for e, _ in DPH.values()),
            mem_mb=lambda wc, attempt: DPH_SETTINGS["probe_mem_mb"] * attempt,
            runtime=lambda wc, attempt: DPH_SETTINGS["probe_runtime_minutes"] * attempt,
        log:
            LOGS + "/depth/hinge/probes.log",
        benchmark:
            BENCH + "/depth/hinge/probes.tsv"
        script:
            "../workflow_scripts/depth_hinge_probes.py"

    rule depth_hinge_tables:
        """Table 4 (final accuracy, output and label margins: mean and sd over seeds), the k-NN
        accuracy by layer (Fig 6 right, A.12) and the per-seed training curves (A.11)."""
        input:
            knn=[r["out"] for r in DPH_RUNS],
            logits=[r["logits"] for r in DPH_RUNS],
        output:
            table4=DPH_T + "/table4.csv",
            knn_by_layer=DPH_T + "/knn_by_layer.csv",
            curves=DPH_T + "/curves.csv",
        params:
            runs={role: {"experiment": e, "arch": a,
                         "knn": [r["out"] for r in DPH_RUNS if r["role"] == role],
                         "logits": [r["logits"] for r in DPH_RUNS if r["role"] == role]}
                  for role, (e, a) in DPH.items()},
        resources:
            mem_mb=2000,
            runtime=10,
        log:
            LOGS + "/depth/hinge/tables.log",
        benchmark:
            BENCH + "/depth/hinge/tables.tsv"
        script:
            "../workflow_scripts/depth_hinge_tables.py"

    rule depth_hinge_fig6_right:
        """Fig 6 right: k-NN accuracy by layer of CE+SGD, 0-Hinge+GD and the untrained network."""
        input:
            DPH_T + "/knn_by_layer.csv",
        output:
            pdf=report(DPH_F + "/fig6_right.pdf", category=DPH_CATEGORY, subcategory="HINGE",
                       caption="../report/captions/depth_hinge/fig6_right.rst"),
            png=DPH_F + "/fig6_right.png",
        params:
            figure="fig6_right",
        resources:
            mem_mb=2000,
            runtime=10,
        log:
            LOGS + "/depth/hinge/fig6_right.log",
        benchmark:
            BENCH + "/depth/hinge/fig6_right.tsv"
        script:
            "../workflow_scripts/depth_hinge_figure.py"

    rule depth_hinge_figA11:
        """Fig A.11: training and test accuracy of every seed of the four combinations."""
        input:
            DPH_T + "/curves.csv",
        output:
            pdf=report(DPH_F + "/figA11_hinge_curves.pdf", category=DPH_CATEGORY, subcategory="HINGE",
                       caption="../report/captions/depth_hinge/figA11_hinge_curves.rst"),
            png=DPH_F + "/figA11_hinge_curves.png",
        params:
            figure="figA11_hinge_curves",
        resources:
            mem_mb=2000,
            runtime=10,
        log:
            LOGS + "/depth/hinge/figA11_hinge_curves.log",
        benchmark:
            BENCH + "/depth/hinge/figA11_hinge_curves.tsv"
        script:
            "../workflow_scripts/depth_hinge_figure.py"

    rule depth_hinge_figA12:
        """Fig A.12: k-NN accuracy by layer of each combination against the untrained network."""
        input:
            DPH_T + "/knn_by_layer.csv",
        output:
            pdf=report(DPH_F + "/figA12_hinge_knn.pdf", category=DPH_CATEGORY, subcategory="HINGE",
                       caption="../report/captions/depth_hinge/figA12_hinge_knn.rst"),
            png=DPH_F + "/figA12_hinge_knn.png",
        params:
            figure="figA12_hinge_knn",
        resources:
            mem_mb=2000,
            runtime=10,
        log:
            LOGS + "/depth/hinge/figA12_hinge_knn.log",
        benchmark:
            BENCH + "/depth/hinge/figA12_hinge_knn.tsv"
        script:
            "../workflow_scripts/depth_hinge_figure.py"

    PAPER_TARGETS += [DPH_T + f"/{t}.csv" for t in ("table4", "knn_by_layer", "curves")]
    PAPER_TARGETS += [f"{DPH_F}/{f}.{x}" for f in ("fig6_right", "figA11_hinge_curves", "figA12_hinge_knn")
                      for x in ("pdf", "png")]
