"""Configuration: JSON-schema validation, cross-reference checks and the derived views rules use.

The schema (``schemas/config.schema.yaml``) rejects unknown keys and wrong types; :func:`check`
adds what a schema cannot say (names that must refer to each other, seed counts that must divide
into ensemble blocks). Both raise :class:`ConfigError` naming the offending key.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Mapping

import yaml

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """A configuration value is missing, unknown, of the wrong type or inconsistent."""


def load_schema() -> dict:
    with open(SCHEMA_PATH) as fh:
        return yaml.safe_load(fh)


def _fill_defaults(validator_cls):
    """A validator class that also writes schema defaults into the instance (as Snakemake does)."""
    from jsonschema import validators

    validate_props = validator_cls.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for prop, sub in properties.items():
                if isinstance(sub, dict) and "default" in sub and prop not in instance:
                    instance[prop] = copy.deepcopy(sub["default"])
        yield from validate_props(validator, properties, instance, schema)

    return validators.extend(validator_cls, {"properties": set_defaults})


def _key_path(error) -> str:
    parts = [str(p) for p in error.absolute_path]
    return ".".join(parts) if parts else "<top level>"


def validate(config: Mapping) -> dict:
    """Validate ``config`` against the schema, fill defaults, run :func:`check`; return a copy."""
    from jsonschema import Draft202012Validator

    config = copy.deepcopy(dict(config))
    validator = _fill_defaults(Draft202012Validator)(load_schema())
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        best = errors[0]
        # oneOf failures hide the real cause: report the closest sub-error.
        from jsonschema.exceptions import best_match
        best = best_match(errors)
        context = best.context and best_match(best.context)
        err = context or best
        raise ConfigError(f"config key '{_key_path(err)}': {err.message}")
    check(config)
    return config


def load(path) -> dict:
    """Read a YAML config file and :func:`validate` it."""
    with open(path) as fh:
        return validate(yaml.safe_load(fh))


# ----------------------------------------------------------------------------- derived views

def datasets(config: Mapping) -> dict[str, dict]:
    """All dataset names -> spec, corruption ladders expanded into one dataset per rung
    (``<key>/<corruption>-<severity>`` with spec ``derive: corruption``)."""
    out: dict[str, dict] = {}
    for name, spec in config["datasets"].items():
        if spec.get("derive") == "corruptions":
            for corruption in spec["corruptions"]:
                for severity in spec["severities"]:
                    out[f"{name}/{corruption}-{severity}"] = {
                        "derive": "corruption", "parent": spec["parent"],
                        "split": spec.get("split", "test"), "corruption": corruption,
                        "severity": int(severity), "seed": spec.get("seed", 0),
                    }
        else:
            out[name] = dict(spec)
    return out


def ladder(config: Mapping, name: str) -> list[str]:
    """Rung dataset names of the corruption ladder ``name``, in config order."""
    spec = config["datasets"][name]
    return [f"{name}/{c}-{s}" for c in spec["corruptions"] for s in spec["severities"]]


def n_seeds(config: Mapping, experiment: str) -> int:
    design = config["experiments"][experiment]["design"]
    if design["kind"] == "kfold":
        return design["folds"] * design["repeats"]
    return design["seeds"]


def ensemble_size(config: Mapping, experiment: str) -> int:
    """Seeds per vectorised block: the experiment's ``ensemble``, else the global one capped at
    the number of seeds."""
    exp = config["experiments"][experiment]
    if "ensemble" in exp:
        return exp["ensemble"]
    return min(config.get("ensemble", 4), n_seeds(config, experiment))


def n_blocks(config: Mapping, experiment: str) -> int:
    return n_seeds(config, experiment) // ensemble_size(config, experiment)


def eval_sets(config: Mapping, experiment: str) -> dict[str, tuple[str, str]]:
    """Eval set name -> (dataset, split); defaults to the training dataset's train and test splits."""
    exp = config["experiments"][experiment]
    sets = exp.get("eval_sets") or {"train": f"{exp['dataset']}:train", "test": f"{exp['dataset']}:test"}
    return {name: tuple(ref.rsplit(":", 1)) for name, ref in sets.items()}


def recipe(config: Mapping, experiment: str, arch: str) -> dict:
    """Everything one training block needs, resolved: the recipe with defaults, the arch spec,
    eval sets, threads, device and checkpoint cadence."""
    exp = config["experiments"][experiment]
    r = copy.deepcopy(config["recipes"][exp["archs"][arch]])
    r.setdefault("optimizer", {})
    r["optimizer"] = {"momentum": 0.9, "weight_decay": 0.0, "nesterov": False, **r["optimizer"]}
    r.setdefault("schedule", {"kind": "constant"})
    r.setdefault("loss", "cross_entropy")
    r["augment"] = {"crop_padding": 0, "flip": False, **r.get("augment", {})}
    r.setdefault("normalize", "dataset")
    r["eval"] = {"at_start": True, "batch_size": 1024, **r.get("eval", {})}
    r.setdefault("records", "eval_forward")
    r.setdefault("full_batch", False)
    if r.get("init_from"):
        run = {"arch": arch, "seed": 0} if "experiment" in r["init_from"] else {"format": "torchvision"}
        r["init_from"] = {**run, "head": "reinit", "train": "all", **r["init_from"]}
    r["recipe_name"] = exp["archs"][arch]
    r["arch_name"] = arch
    r["arch"] = dict(config["archs"][arch])
    r["experiment"] = experiment
    r["eval_sets"] = {k: list(v) for k, v in eval_sets(config, experiment).items()}
    r["threads"] = config.get("threads", 2)
    r["device"] = config.get("device", "auto")
    r["ensemble_mode"] = config.get("ensemble_mode", "auto")
    r["checkpoint_minutes"] = config.get("checkpoint_minutes", 10)
    return r


# ----------------------------------------------------------------------------- cross-reference checks

def check(config: Mapping) -> None:
    """Cross-reference checks a schema cannot express; raises ConfigError naming the key."""
    dsets = datasets(config)
    for name, spec in config["datasets"].items():
        if "derive" in spec and spec["parent"] not in dsets:
            raise ConfigError(f"config key 'datasets.{name}.parent': unknown dataset '{spec['parent']}' "
                              f"(known: {sorted(dsets)})")
    for name in config["datasets"]:           # derivation cycles
        seen, cur = set(), name
        while cur in config["datasets"] and "derive" in config["datasets"][cur]:
            if cur in seen:
                raise ConfigError(f"config key 'datasets.{name}': derivation cycle through '{cur}'")
            seen.add(cur)
            cur = config["datasets"][cur]["parent"]

    _check_archs(config)

    for name, r in config["recipes"].items():
        key = f"recipes.{name}"
        if "lr" not in r.get("optimizer", {}):
            raise ConfigError(f"config key '{key}.optimizer.lr': required")
        sched = r.get("schedule", {"kind": "constant"})
        if "epochs" not in r and "steps" not in r and sched.get("kind") != "phases":
            raise ConfigError(f"config key '{key}': give 'epochs' or 'steps' (or a 'phases' schedule)")
        if sched.get("kind") == "phases" and "phases" not in sched:
            raise ConfigError(f"config key '{key}.schedule.phases': required for kind 'phases'")
        if sched.get("kind") == "step" and not sched.get("milestones"):
            raise ConfigError(f"config key '{key}.schedule.milestones': required for kind 'step'")
        if not r.get("full_batch") and "batch_size" not in r:
            raise ConfigError(f"config key '{key}.batch_size': required unless full_batch is true")
        ev = r.get("eval", {})
        if sum(k in ev for k in ("per_epoch", "every_steps", "count")) > 1:
            raise ConfigError(f"config key '{key}.eval': give at most one of per_epoch, every_steps, count")
        _check_variants(config, name, r, dsets)

    for name, exp in config["experiments"].items():
        key = f"experiments.{name}"
        if exp["dataset"] not in dsets:
            raise ConfigError(f"config key '{key}.dataset': unknown dataset '{exp['dataset']}'")
        for arch, rec in exp["archs"].items():
            if arch not in config["archs"]:
                raise ConfigError(f"config key '{key}.archs.{arch}': unknown arch (known: {sorted(config['archs'])})")
            if rec not in config["recipes"]:
                raise ConfigError(f"config key '{key}.archs.{arch}': unknown recipe '{rec}' "
                                  f"(known: {sorted(config['recipes'])})")
            init = config["recipes"][rec].get("init_from")
            if init and "weights" in init:        # a weights file: its format must fit the arch
                from pointwise.models.import_weights import WeightsImportError, check_arch
                try:
                    check_arch(init.get("format", "torchvision"), config["archs"][arch])
                except WeightsImportError as exc:
                    raise ConfigError(f"config key 'recipes.{rec}.init_from.weights': arch '{arch}' of "
                                      f"experiment '{name}': {exc}") from None
            elif init:
                src = init["experiment"]
                if src not in config["experiments"]:
                    raise ConfigError(f"config key 'recipes.{rec}.init_from.experiment': unknown experiment '{src}'")
                if src == name:
                    raise ConfigError(f"config key 'recipes.{rec}.init_from.experiment': '{name}' cannot start from itself")
                src_arch = init.get("arch", arch)
                if src_arch not in config["experiments"][src]["archs"]:
                    raise ConfigError(f"config key 'recipes.{rec}.init_from.arch': experiment '{src}' "
                                      f"has no arch '{src_arch}'")
        for set_name, ref in (exp.get("eval_sets") or {}).items():
            ds = ref.rsplit(":", 1)[0]
            if ds not in dsets:
                raise ConfigError(f"config key '{key}.eval_sets.{set_name}': unknown dataset '{ds}'")
        d = exp["design"]
        kind = d["kind"]
        if kind == "kfold":
            for k in ("folds", "repeats"):
                if k not in d:
                    raise ConfigError(f"config key '{key}.design.{k}': required for kind 'kfold'")
            if "seeds" in d and d["seeds"] != d["folds"] * d["repeats"]:
                raise ConfigError(f"config key '{key}.design.seeds': must equal folds * repeats")
        elif "seeds" not in d:
            raise ConfigError(f"config key '{key}.design.seeds': required for kind '{kind}'")
        if kind == "random_subset" and "size" not in d:
            raise ConfigError(f"config key '{key}.design.size': required for kind 'random_subset'")
        if kind == "random_fraction" and "fraction" not in d:
            raise ConfigError(f"config key '{key}.design.fraction': required for kind 'random_fraction'")
        seeds, ens = n_seeds(config, name), ensemble_size(config, name)
        if seeds % ens:
            raise ConfigError(f"config key '{key}.ensemble': {ens} does not divide the {seeds} seeds; "
                              f"set experiments.{name}.ensemble to a divisor of {seeds}")


def _check_variants(config: Mapping, name: str, r: Mapping, dsets: Mapping) -> None:
    """The fine-tuning variants (replay, class_map, l2_init) start from a pretrained run; a
    class-mapped head is the kept pretrained head, a separate replay head a fresh one."""
    key = f"recipes.{name}"
    init = r.get("init_from") or {}
    for variant in ("replay", "class_map", "l2_init"):
        if r.get(variant) and not init:
            raise ConfigError(f"config key '{key}.{variant}': needs init_from (a pretrained run)")
    if r.get("class_map") and init.get("head", "reinit") != "keep":
        raise ConfigError(f"config key '{key}.class_map': the class-mapped head is the pretrained one; "
                          "set init_from.head: keep")
    if r.get("replay") and not r.get("class_map") and init.get("head", "reinit") == "keep":
        raise ConfigError(f"config key '{key}.replay': without a class_map the target gets a fresh head next "
                          "to the kept source head; set init_from.head: reinit")
    if r.get("replay") and init.get("weights"):
        raise ConfigError(f"config key '{key}.replay': replay needs the pretraining run (its data's "
                          "preprocessing and head); init_from.weights has neither")
    if r.get("replay") and r["replay"]["dataset"] not in dsets:
        raise ConfigError(f"config key '{key}.replay.dataset': unknown dataset '{r['replay']['dataset']}'")


def _check_archs(config: Mapping) -> None:
    from pointwise.models import FAMILIES

    for name, spec in config["archs"].items():
        family = spec["family"]
        allowed = set(FAMILIES[family]) | {"family"}
        unknown = set(spec) - allowed
        if unknown:
            raise ConfigError(f"config key 'archs.{name}.{sorted(unknown)[0]}': unknown key for family "
                              f"'{family}' (allowed: {sorted(allowed)})")
