"""profiles/slurm end to end on a real one-node SLURM cluster (scripts/local-slurm.sh).

The module brings the cluster up (fake GPUs, slurmdbd accounting), runs part of the test-scale DAG
once on the local profile and once through sbatch with the SLURM profile, and checks that
- both runs produce the same datasets and designs (every array and attribute but the timestamps),
  and the same training outputs and tables (CPU training is deterministic);
- sacct shows every training job of a `gpu: true` experiment asking for and getting a GPU, and
  every other job (CPU training, data, designs, tables, figures) none;
- the tiny jobs ran as group jobs;
- a training job sent SIGTERM mid-run (what SLURM sends before a time limit or on preemption) saves
  its state and fails, the failure is reported, the retry asks for twice the time and memory, resumes
  from the saved step and ends bit-identical to the uninterrupted local run.
Then it stops every daemon it started, by pid.

Runs as root on Debian/Ubuntu (it installs SLURM with apt and writes /etc/slurm); skipped otherwise,
or with POINTWISE_SKIP_SLURM=1. POINTWISE_REQUIRE_SLURM=1 (make test-slurm, CI) turns a skip into a
failure. docs/cluster.md: running it locally.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml

from conftest import ROOT
from pointwise.io import read_csv_provenance

pytestmark = pytest.mark.slurm

SCRIPT = ROOT / "scripts" / "local-slurm.sh"
PROFILE = ROOT / "profiles" / "slurm" / "config.yaml"
PARTITION, ACCOUNT = "debug", "pointwise"   # what local-slurm.sh creates
RESULTS = "results/test"

# The test scale (configs/test.yaml) with: GPU requests on (device auto: the experiments' `gpu`
# decides; without CUDA, training still runs on the CPU, also in a job holding a fake GPU); one GPU
# experiment (finetune) beside CPU ones (pretrain, noisy); noisy trains long enough (a few seconds)
# to be preempted mid-run.
OVERLAY = """\
device: auto
experiments:
  finetune: {gpu: true}
  noisy: {archs: {mlp: preemptible}}
recipes:
  preemptible:
    steps: 3000
    batch_size: 32
    optimizer: {lr: 0.05, momentum: 0.9}
    schedule: {kind: cosine}
    eval: {count: 3}
"""
GPU_EXPERIMENTS = {"finetune"}
PREEMPTED = ("noisy", "mlp", 0)          # experiment, arch, block
TARGETS = [f"{RESULTS}/tables/runs/{e}.csv" for e in ("noisy", "finetune")] + \
          [f"{RESULTS}/figures/runs/{e}_curves.pdf" for e in ("noisy", "finetune")]

# The cluster is sized like a cluster node (4 CPUs per GPU, 8 GB per training job, doubled on a
# retry), whatever the machine: SLURM accounts for these, nothing confines them.
CLUSTER_ENV = {"SLURM_FAKE_GPUS": "2", "SLURM_NODE_CPUS": "8", "SLURM_NODE_MEM_MB": "65536",
               "SLURM_PARTITION": PARTITION, "SLURM_ACCOUNT": ACCOUNT}
UP_TIMEOUT = 900          # a fresh machine installs the packages first
RUN_TIMEOUT = 900         # each Snakemake run, enforced with timeout -s KILL

# Provenance that legitimately differs between two runs: creation time, the code version (a commit
# in between), and the checksums of inputs (they carry their own creation times).
VOLATILE = {"created_utc", "code_version", "inputs_sha256"}


def _skip_or_fail(reason):
    if os.environ.get("POINTWISE_REQUIRE_SLURM") == "1":
        pytest.fail(f"POINTWISE_REQUIRE_SLURM=1 but: {reason}")
    pytest.skip(reason)


def _daemons():
    """{daemon: (pid, state)} from `local-slurm.sh status`."""
    out = subprocess.run(["bash", str(SCRIPT), "status"], capture_output=True, text=True, timeout=60)
    daemons = {}
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] in ("munged", "mariadbd", "slurmdbd", "slurmctld", "slurmd"):
            daemons[parts[0]] = (parts[1], parts[2])
    return daemons


@pytest.fixture(scope="module")
def cluster():
    """A running one-node cluster; the daemons this fixture started are stopped (by pid) afterwards,
    also when bringing it up or a test fails. Daemons that were already running are left alone."""
    if os.environ.get("POINTWISE_SKIP_SLURM") == "1":
        pytest.skip("POINTWISE_SKIP_SLURM=1")
    if os.geteuid() != 0:
        _skip_or_fail("needs root (installs SLURM with apt, writes /etc/slurm, starts daemons)")
    if shutil.which("apt-get") is None:
        _skip_or_fail("needs a Debian/Ubuntu machine (apt-get)")
    before = _daemons()
    try:
        up = subprocess.run(["bash", str(SCRIPT), "up"], capture_output=True, text=True,
                            timeout=UP_TIMEOUT, env={**os.environ, **CLUSTER_ENV}, stdin=subprocess.DEVNULL)
        if up.returncode == 3:
            _skip_or_fail("another SLURM installation is in the way: " + up.stderr.strip().splitlines()[-1])
        assert up.returncode == 0, f"local-slurm.sh up failed:\n{up.stdout[-3000:]}\n{up.stderr[-5000:]}"
        yield
    finally:
        after = _daemons()
        started = [name for name, (pid, state) in after.items()
                   if state == "running" and before.get(name, ("-", "-"))[0] != pid]
        if started:
            subprocess.run(["bash", str(SCRIPT), "stop", *started], capture_output=True, text=True, timeout=180)


def _start_snakemake(cwd: Path, *args) -> subprocess.Popen:
    cmd = ["timeout", "-s", "KILL", str(RUN_TIMEOUT), sys.executable, "-m", "snakemake", *TARGETS,
           "--snakefile", str(ROOT / "Snakefile"), "--directory", str(cwd),
           "--configfile", str(cwd / "test.yaml"), str(cwd / "overlay.yaml"), *args]
    with open(cwd / "snakemake.out", "w") as out:
        return subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def _finish(proc: subprocess.Popen, cwd: Path) -> tuple[int, str, float]:
    rc = proc.wait()
    return rc, (cwd / "snakemake.out").read_text(), time.time()


def _workdir(path: Path) -> Path:
    path.mkdir(parents=True)
    shutil.copy(ROOT / "configs" / "test.yaml", path / "test.yaml")
    (path / "overlay.yaml").write_text(OVERLAY)
    return path


def _test_profile(dest: Path) -> Path:
    """profiles/slurm with its placeholders filled in for this cluster: the edit a user makes."""
    prof = yaml.safe_load(PROFILE.read_text())
    res = prof["default-resources"]
    assert res.get("slurm_partition") == "YOUR_PARTITION" and res.get("slurm_account") == "YOUR_ACCOUNT", \
        "profiles/slurm/config.yaml: the partition/account placeholders moved (docs/cluster.md names them)"
    res["slurm_partition"], res["slurm_account"] = PARTITION, ACCOUNT
    prof["slurm-init-seconds-before-status-checks"] = 2    # seconds-long jobs: poll early
    prof["slurm-keep-successful-logs"] = True               # for debugging a failed test
    dest.mkdir(parents=True)
    (dest / "config.yaml").write_text(yaml.safe_dump(prof, sort_keys=False))
    return dest


def _preempt_once(workdir: Path, done: threading.Event, events: dict):
    """When the first attempt of the PREEMPTED training block logs that it trains (its SIGTERM
    handler is installed by then), send its job SIGTERM as SLURM does before a time limit."""
    exp, arch, block = PREEMPTED
    log = workdir / RESULTS / "logs" / "train" / exp / arch / f"block{block}.log"
    comment = f"rule_train_{exp}_wildcards_{arch}_{block}"
    while not done.is_set():
        if log.exists() and f"training {exp}/{arch}" in log.read_text(errors="replace"):
            q = subprocess.run(["squeue", "-h", "-o", "%i|%k"], capture_output=True, text=True)
            jobs = [line.split("|")[0] for line in q.stdout.splitlines() if line.split("|")[-1].strip() == comment]
            if jobs:
                # without --batch/--full: every step of the job, not its batch shell (as --signal=TERM@)
                subprocess.run(["scancel", "--signal=TERM", jobs[0]], check=True)
                events["signalled"] = jobs[0]
                events["at"] = time.time()
                return
        time.sleep(0.2)


@pytest.fixture(scope="module")
def runs(cluster, tmp_path_factory):
    base = tmp_path_factory.mktemp("slurm")
    local, remote = _workdir(base / "local"), _workdir(base / "slurm")
    profile = _test_profile(base / "profile")
    since = (datetime.now() - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S")
    done, events = threading.Event(), {}
    watcher = threading.Thread(target=_preempt_once, args=(remote, done, events), daemon=True)
    watcher.start()
    # The two runs side by side: the SLURM run mostly waits for the scheduler and its polls.
    t0 = time.time()
    procs = [_start_snakemake(remote, "--profile", str(profile)),
             _start_snakemake(local, "--profile", str(ROOT / "profiles" / "local"), "--cores", "2")]
    try:
        rc_local, out_local, t_local = _finish(procs[1], local)
        rc, out, t_slurm = _finish(procs[0], remote)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        done.set()
        watcher.join(10)
    print(f"local run {t_local - t0:.0f} s, SLURM run {t_slurm - t0:.0f} s")
    assert rc_local == 0, f"local run failed (rc {rc_local}):\n{out_local[-4000:]}"
    assert rc == 0, f"SLURM run failed (rc {rc}; 137 = killed after {RUN_TIMEOUT} s):\n{out[-6000:]}"
    run_id = next((line.split("SLURM run ID:")[1].strip() for line in out.splitlines() if "SLURM run ID:" in line), None)
    assert run_id, "no 'SLURM run ID' in Snakemake's output: did it use the slurm executor?\n" + out[-3000:]
    return {"local": local, "slurm": remote, "out": out, "events": events,
            "jobs": _sacct(run_id, since)}


def _sacct(run_id: str, since: str) -> list[dict]:
    """This run's allocations (job name = the plugin's run id), once all are finished in the database."""
    fields = ["JobID", "Comment", "State", "ReqTRES", "AllocTRES", "Timelimit", "Submit"]
    for _ in range(60):
        out = subprocess.run(["sacct", "-X", "-n", "-P", "-S", since, "--name", run_id, "-o", ",".join(fields)],
                             capture_output=True, text=True, check=True).stdout
        jobs = [dict(zip(fields, line.split("|"))) for line in out.splitlines() if line.strip()]
        if jobs and not any(j["State"] in ("PENDING", "RUNNING", "COMPLETING", "REQUEUED") for j in jobs):
            return sorted(jobs, key=lambda j: int(j["JobID"].split("_")[0]))
        time.sleep(1)
    raise AssertionError(f"sacct does not list the finished jobs of run {run_id}:\n{out}")


def _minutes(timelimit: str) -> int:
    days, _, hms = timelimit.rpartition("-")
    h, m, s = (int(x) for x in hms.split(":"))
    return int(days or 0) * 1440 + h * 60 + m + (s > 0)


def _rule_of(job) -> str:
    # the plugin's comment: rule_<rule>_wildcards_<...> for a job, rule_<group>_<rules> for a group
    return job["Comment"].removeprefix("rule_").split("_wildcards_")[0]


# ---------------------------------------------------------------------------------------- comparisons
def _strip(value):
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str) and value[:1] == "{":
        try:
            return _strip(json.loads(value))
        except ValueError:
            return value
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _attrs(obj):
    return {k: _strip(v) for k, v in obj.attrs.items() if k not in VOLATILE}


def assert_same_h5(a: Path, b: Path):
    with h5py.File(a) as fa, h5py.File(b) as fb:
        assert _attrs(fa) == _attrs(fb), f"{b}: file attributes differ"
        names_a, names_b = [], []
        fa.visit(names_a.append)
        fb.visit(names_b.append)
        assert sorted(names_a) == sorted(names_b), f"{b}: different groups/datasets"
        for name in names_a:
            oa, ob = fa[name], fb[name]
            assert _attrs(oa) == _attrs(ob), f"{b}:{name}: attributes differ"
            if isinstance(oa, h5py.Dataset):
                va, vb = oa[()], ob[()]
                assert oa.dtype == ob.dtype and np.shape(va) == np.shape(vb), f"{b}:{name}: dtype/shape differ"
                assert np.asarray(va).tobytes() == np.asarray(vb).tobytes(), f"{b}:{name}: values differ"


def _files(root: Path, pattern: str) -> list[Path]:
    return sorted(p.relative_to(root) for p in root.glob(pattern))


def test_profile_signals_training_before_the_time_limit():
    """The profile asks SLURM for SIGTERM to the job's steps (where training runs) before the time
    limit, not only to the batch shell ("B:"), which does not pass it on."""
    extra = str(yaml.safe_load(PROFILE.read_text())["default-resources"]["slurm_extra"])
    assert "--signal=TERM@" in extra and "B:" not in extra, extra


def test_outputs_equal_a_local_run(runs):
    import torch

    local, remote = runs["local"] / RESULTS, runs["slurm"] / RESULTS
    for pattern in ("data/**/*.h5", "designs/*.h5"):
        files = _files(local, pattern)
        assert files and files == _files(remote, pattern), pattern
        for f in files:
            assert_same_h5(local / f, remote / f)
    runs_h5 = _files(local, "runs/**/*.h5")
    assert runs_h5 == _files(remote, "runs/**/*.h5") and len(runs_h5) >= 2 * 5   # noisy 2, pretrain 1, finetune 2 seeds
    tables = _files(local, "tables/**/*.csv")
    assert tables and tables == _files(remote, "tables/**/*.csv")
    assert _files(remote, "figures/**/*.pdf") == _files(local, "figures/**/*.pdf") != []
    if torch.cuda.is_available():
        pytest.skip("training ran on a GPU (not bit-reproducible): only data and designs compared")
    for f in runs_h5:
        assert_same_h5(local / f, remote / f)
    for f in _files(local, "runs/**/model.pt"):
        a = torch.load(local / f, weights_only=False, map_location="cpu")["state_dict"]
        b = torch.load(remote / f, weights_only=False, map_location="cpu")["state_dict"]
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), f
    for f in tables:
        # the same rows, and the same provenance line but for its timestamps
        body = lambda p: [line for line in p.read_text().splitlines() if not line.startswith("#")]
        assert body(local / f) == body(remote / f), f
        assert _strip(read_csv_provenance(local / f)) == _strip(read_csv_provenance(remote / f)), f


def test_training_jobs_ask_for_a_gpu_and_analysis_jobs_do_not(runs):
    jobs = runs["jobs"]
    train = [j for j in jobs if _rule_of(j).startswith("train_")]
    assert {_rule_of(j) for j in train} == {f"train_{e}" for e in ("noisy", "pretrain", "finetune")}, jobs
    for j in jobs:
        gpu_job = _rule_of(j).removeprefix("train_") in GPU_EXPERIMENTS
        for field in ("ReqTRES", "AllocTRES"):
            if gpu_job:
                assert "gres/gpu=1" in j[field], f"training job without a GPU: {j}"
            else:
                assert "gres/gpu" not in j[field], f"job that should not hold a GPU: {j}"
        if gpu_job:   # the rule's 4 CPUs per GPU
            assert "cpu=4" in j["AllocTRES"], j
    assert any(not _rule_of(j).startswith("train_") for j in jobs)


def test_small_jobs_run_as_groups(runs):
    rules = [_rule_of(j) for j in runs["jobs"]]
    assert any(r.startswith("designs_") for r in rules), rules   # group `designs`
    assert any(r.startswith("reports_") for r in rules), rules   # group `reports`
    assert "design" not in rules and "run_summary" not in rules, rules


def test_preempted_training_is_reported_retried_and_resumed(runs):
    exp, arch, block = PREEMPTED
    assert "signalled" in runs["events"], "the preempted training block was never seen training"
    attempts = [j for j in runs["jobs"] if j["Comment"] == f"rule_train_{exp}_wildcards_{arch}_{block}"]
    assert [j["State"] for j in attempts] == ["FAILED", "COMPLETED"], attempts
    assert attempts[0]["JobID"] == runs["events"]["signalled"]
    # attempt-scaled resources of the rule: the retry asks for twice the time and memory
    assert _minutes(attempts[1]["Timelimit"]) == 2 * _minutes(attempts[0]["Timelimit"]), attempts
    mem = [int(dict(kv.split("=") for kv in j["ReqTRES"].split(","))["mem"].rstrip("M")) for j in attempts]
    assert mem[1] == 2 * mem[0], attempts
    others = [j for j in runs["jobs"] if j not in attempts]
    assert all(j["State"] == "COMPLETED" for j in others), others
    # Snakemake reported the failure (with SLURM's verdict) and resubmitted
    out = runs["out"]
    assert f"Error in rule train_{exp}" in out
    assert f"SLURM-job '{attempts[0]['JobID']}' failed" in out
    # the retry resumed where the signal stopped the first attempt; outputs: test_outputs_equal_a_local_run
    log = (runs["slurm"] / RESULTS / "logs" / "train" / exp / arch / f"block{block}.log").read_text()
    resumed = [line for line in log.splitlines() if "resumed from" in line]
    assert resumed, log[-2000:]
    step = int(resumed[0].split(" at step ")[1].split("/")[0])
    total = int(resumed[0].split("/")[-1])
    assert 0 < step < total, resumed
