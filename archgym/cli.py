"""The ``archgym`` command.

Exit codes: 0 success; 2 bad input (unknown env, design value outside its domain, malformed file or
option: the message names the field); 1 a failure while running.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from archgym.display import format_quantity, table

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


# --------------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------------


def resolve_env_id(text: str) -> str:
    """Accept ``archgym/Systolic-v0``, ``Systolic-v0`` or ``systolic`` (any case)."""
    import gymnasium

    import archgym

    if text in gymnasium.registry:
        return text
    candidates = list(archgym.ENVIRONMENTS)
    for env_id in candidates:
        short = env_id.split("/", 1)[1]
        if text.lower() in (env_id.lower(), short.lower(), short.split("-v")[0].lower()):
            return env_id
    raise ValueError(f"unknown environment {text!r}; available: {candidates}")


def parse_assignments(pairs: Sequence[str], what: str) -> dict[str, str]:
    """``["a=1", "b=x"]`` -> ``{"a": "1", "b": "x"}`` with a clear error for a malformed pair."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{what} must look like KEY=VALUE, got {pair!r}")
        if key.strip() in out:
            raise ValueError(f"{what} {key.strip()!r} given twice")
        out[key.strip()] = value.strip()
    return out


def env_kwargs_from_args(args: argparse.Namespace, env_id: str) -> dict[str, Any]:
    """``--workload`` and ``-k KEY=VALUE`` (values read as YAML, so numbers and mappings work)."""
    kwargs: dict[str, Any] = {}
    for key, text in parse_assignments(getattr(args, "kwarg", None) or [], "environment keyword").items():
        try:
            kwargs[key] = yaml.safe_load(text) if text else text
        except yaml.YAMLError as exc:
            raise ValueError(f"environment keyword {key!r}: cannot read {text!r} ({exc})") from None
    workload = getattr(args, "workload", None)
    if workload is not None:
        kwargs[workload_keyword(env_id)] = workload
    return kwargs


def workload_keyword(env_id: str) -> str:
    """The simulator keyword that names the workload (``workload``, or ``network`` for Quant)."""
    import archgym

    target = archgym.ENVIRONMENTS.get(env_id)
    if target is not None:
        module_name, _, attr = target.partition(":")
        params = inspect.signature(getattr(importlib.import_module(module_name), attr).__init__).parameters
        for name in ("workload", "network"):
            if name in params:
                return name
    return "workload"


def make_env(env_id: str, kwargs: Mapping[str, Any]):
    import gymnasium

    import archgym  # noqa: F401  (registers the ids)

    return gymnasium.make(env_id, **kwargs).unwrapped


def _print_json(data: Any) -> None:
    from archgym.dataset import json_default

    print(json.dumps(data, indent=2, sort_keys=False, default=json_default))


# --------------------------------------------------------------------------------------------------
# list
# --------------------------------------------------------------------------------------------------


def describe_env(env_id: str, kwargs: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Space, metrics, workloads and default targets of an env, read from the code itself."""
    env = make_env(env_id, kwargs or {})
    sim = env.simulator
    return {
        "id": env_id,
        "simulator": type(sim).__name__,
        "workload": sim.workload,
        "workloads": list(sim.available_workloads()),
        "designs": sim.space.cardinality,
        "parameters": sim.space.describe(),
        "metrics": [m.to_dict() for m in sim.metrics],
        "default_targets": sim.default_targets(),
        "objective": env.objective.to_dict(),
    }


def env_tables(info: Mapping[str, Any], markdown: bool = False) -> str:
    """The parameter and metric tables of ``archgym list --env`` (also what the docs show)."""
    params = table([(p["name"], p["domain"], p["count"], p["unit"], p["description"]) for p in info["parameters"]],
                   ("parameter", "values", "count", "unit", "meaning"), markdown)
    metrics = table([(m["name"], m["unit"], m["direction"], m["description"]) for m in info["metrics"]],
                    ("metric", "unit", "better", "meaning"), markdown)
    return params + "\n\n" + metrics


def agent_table(name: str, markdown: bool = False) -> str:
    """The hyperparameter table of ``archgym list --agent NAME`` (also what docs/agents.md shows)."""
    import agents

    cls = agents.get(name)
    rows = [(k, _show(h.default), h.describe(), h.doc) for k, h in cls.hyperparameters.items()]
    return table(rows, ("hyperparameter", "default", "allowed", "meaning"), markdown)


def _show(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


def cmd_list(args: argparse.Namespace) -> int:
    import archgym

    if args.agent:
        import agents

        cls = agents.get(args.agent)
        if args.json:
            _print_json({"agent": args.agent, "class": f"{cls.__module__}.{cls.__qualname__}",
                         "hyperparameters": {k: {"default": h.default, "allowed": h.describe(), "meaning": h.doc}
                                             for k, h in cls.hyperparameters.items()}})
            return EXIT_OK
        print(f"{args.agent} ({cls.__module__}.{cls.__qualname__})\n")
        print(agent_table(args.agent, args.markdown))
        return EXIT_OK
    if args.env:
        env_id = resolve_env_id(args.env)
        info = describe_env(env_id, env_kwargs_from_args(args, env_id))
        if args.json:
            _print_json(info)
            return EXIT_OK
        print(f"{info['id']} ({info['simulator']}), workload {info['workload']!r}, {_count(info['designs'])} designs\n")
        print(env_tables(info, args.markdown))
        units = {m["name"]: m["unit"] for m in info["metrics"]}
        if info["workloads"]:
            print("\nworkloads: " + ", ".join(info["workloads"]))
        if info["default_targets"]:
            targets = ", ".join(f"{k} {'<=' if _minimize(info, k) else '>='} {format_quantity(v, units[k])}"
                                for k, v in info["default_targets"].items())
            print(f"default targets ({info['workload']}): {targets}")
        return EXIT_OK

    rows, data = [], []
    for env_id in archgym.ENVIRONMENTS:
        info = describe_env(env_id)
        data.append({k: info[k] for k in ("id", "simulator", "workloads", "designs")})
        rows.append((env_id, info["simulator"], _count(info["designs"]), ", ".join(info["workloads"]) or "-"))
    agent_names = _agent_names()
    if args.json:
        _print_json({"environments": data, "agents": agent_names})
        return EXIT_OK
    print(table(rows, ("environment", "simulator", "designs", "workloads"), args.markdown))
    if agent_names:
        print("\nagents: " + ", ".join(agent_names))
    print("\n`archgym list --env ID` shows an environment's knobs and metrics, `--agent NAME` an agent's "
          "hyperparameters.")
    return EXIT_OK


def _count(n: float) -> str:
    """A design count: exact up to 10^12, then in scientific notation."""
    if n == float("inf"):
        return "continuous"
    return f"{n:,}" if n < 10**12 else f"{n:.2e}"


def _minimize(info: Mapping[str, Any], metric: str) -> bool:
    return next(m["direction"] for m in info["metrics"] if m["name"] == metric) == "minimize"


def _agent_names() -> list[str]:
    try:
        import agents
    except ImportError:  # pragma: no cover - agents ship with the package
        return []
    available = getattr(agents, "available", None)
    return list(available()) if available else []


# --------------------------------------------------------------------------------------------------
# evaluate
# --------------------------------------------------------------------------------------------------


def cmd_evaluate(args: argparse.Namespace) -> int:
    env_id = resolve_env_id(args.env)
    kwargs = env_kwargs_from_args(args, env_id)
    env = make_env(env_id, kwargs)
    sim = env.simulator
    given = sim.space.parse(parse_assignments(args.design or [], "design value"))
    design = sim.space.validate({**sim.default_design(), **given})
    evaluation = sim.evaluate(design)
    reward = env.objective(evaluation)
    distances = env.objective.distances(evaluation.metrics) if evaluation.feasible else {}
    units = {m.name: m.unit for m in sim.metrics}
    if args.json:
        _print_json({
            "env": env_id, "kwargs": kwargs, "workload": sim.workload, "design": design,
            "defaulted": [k for k in design if k not in given], "metrics": evaluation.metrics, "units": units,
            "feasible": evaluation.feasible, "reason": evaluation.reason, "reward": reward,
            "objective": env.objective.to_dict(), "distance": distances,
        })
        return EXIT_OK
    print(f"{env_id}, workload {sim.workload!r}")
    print(table([(k, v, "" if k in given else "(default)") for k, v in design.items()], ("parameter", "value", "")))
    print()
    print(table([(m.name, format_quantity(evaluation.metrics.get(m.name, float("nan")), m.unit), m.direction.value)
                 for m in sim.metrics], ("metric", "value", "better")))
    print()
    if not evaluation.feasible:
        print(f"infeasible: {evaluation.reason}")
    spec = env.objective.to_dict()
    if spec.get("type") == "target":
        rows = []
        for metric, t in spec["targets"].items():
            met = distances.get(metric) == 0.0
            rows.append((metric, format_quantity(t["value"], units[metric]),
                         "met" if met else f"missed (distance {distances.get(metric, float('nan')):.3f})"))
        print(table(rows, ("target", "value", "status")))
    print(f"reward: {reward:.4f}")
    return EXIT_OK


# --------------------------------------------------------------------------------------------------
# explore, sweep, optimum, report
# --------------------------------------------------------------------------------------------------


def _hyperparameters(pairs: Sequence[str] | None) -> dict[str, Any]:
    out = {}
    for key, text in parse_assignments(pairs or [], "hyperparameter").items():
        try:
            out[key] = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValueError(f"hyperparameter {key!r}: cannot read {text!r} ({exc})") from None
    return out


def _agent_choice(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The agent name and hyperparameters from --agent/--agent-config and --hp (which wins)."""
    hyperparameters: dict[str, Any] = {}
    agent = args.agent
    if args.agent_config:
        from pathlib import Path

        path = Path(args.agent_config)
        if not path.is_file():
            raise ValueError(f"agent config {str(path)!r} does not exist")
        data = yaml.safe_load(path.read_text())
        if not isinstance(data, Mapping) or set(data) - {"agent", "hyperparameters"} or "agent" not in data:
            raise ValueError(f"{path}: an agent config is a mapping with 'agent' and 'hyperparameters'")
        if agent and agent != data["agent"]:
            raise ValueError(f"--agent {agent!r} disagrees with {path} (agent {data['agent']!r})")
        agent = data["agent"]
        hyperparameters = dict(data.get("hyperparameters") or {})
    if not agent:
        raise ValueError("name an agent with --agent NAME or --agent-config FILE")
    hyperparameters.update(_hyperparameters(args.hp))
    return agent, hyperparameters


def cmd_explore(args: argparse.Namespace) -> int:
    import gymnasium

    from archgym.explore import explore

    env_id = resolve_env_id(args.env)
    agent, hyperparameters = _agent_choice(args)
    env = gymnasium.make(env_id, **env_kwargs_from_args(args, env_id))
    result = explore(env, agent, budget=args.budget, seed=args.seed, hyperparameters=hyperparameters,
                     log=args.log, progress=None if not args.json else False)
    units = {m.name: m.unit for m in env.unwrapped.simulator.metrics}
    if args.json:
        data = result.summary()
        data["history"] = result.history.tolist()
        _print_json(data)
        return EXIT_OK
    print(f"{result.agent} on {env_id} ({result.workload}), seed {result.seed}: {result.evaluations} evaluations "
          f"in {result.wall_time:.2f} s")
    print(f"best reward {result.best_reward:.4f}" + (f", targets met at evaluation {result.target_met_at}"
                                                     if result.target_met_at else ", targets not met"))
    print(table([(k, v) for k, v in result.best_design.items()], ("parameter", "value")))
    print()
    print(table([(k, format_quantity(v, units.get(k, ""))) for k, v in result.best_metrics.items()],
                ("metric", "value")))
    if args.log:
        print(f"\nevery evaluation logged to {args.log}")
    return EXIT_OK


def cmd_sweep(args: argparse.Namespace) -> int:
    from pathlib import Path

    from archgym.config import load_sweep
    from archgym.report import build_report
    from archgym.tune import resume_sweep, run_sweep

    target = Path(args.spec)
    if args.resume:
        run_dir = target if target.is_dir() else load_sweep(target).run_dir
        outcome = resume_sweep(run_dir, address=args.address)
    else:
        spec = load_sweep(target)  # validated before Ray starts
        print(f"sweep {spec.name}: {len(spec.trials())} trials of {spec.budget} evaluations on {spec.env_id}; "
              f"results in {spec.run_dir}", file=sys.stderr)
        outcome = run_sweep(spec, address=args.address)
    run_dir = Path(outcome["run_dir"])
    _maybe_optimum(run_dir)
    report = build_report(run_dir)
    if args.json:
        _print_json({"run_dir": str(run_dir), "errors": outcome["errors"], **report})
    else:
        _print_summary(report)
        if outcome["errors"]:
            print(f"\n{len(outcome['errors'])} trial(s) failed:", file=sys.stderr)
            for trial_id, message in outcome["errors"].items():
                print(f"  {trial_id}: {message}", file=sys.stderr)
        print(f"\nreport: {report['report_dir']}/report.md")
    return EXIT_FAILURE if outcome["errors"] else EXIT_OK


def _maybe_optimum(run_dir) -> None:
    """Compute the exact optimum once when the spec asks for it (``optimum: true``)."""
    import gymnasium

    from archgym.optimum import find_optimum
    from archgym.report import OPTIMUM_FILE

    spec = yaml.safe_load((run_dir / "spec.yaml").read_text())
    if not spec.get("optimum") or (run_dir / OPTIMUM_FILE).exists():
        return
    env = gymnasium.make(spec["env"]["id"], **spec["env"].get("kwargs", {}))
    (run_dir / OPTIMUM_FILE).write_text(find_optimum(env).to_json())


def _print_summary(report: Mapping[str, Any]) -> None:
    cols = ["agent", "trials", "median_best_reward", "q25", "q75", "target_met_fraction", "median_evals_to_target"]
    if report.get("optimum"):
        cols += ["median_regret", "found_optimum_fraction"]
    rows = [[("-" if r.get(c) is None else f"{r[c]:.4g}" if isinstance(r.get(c), float) else r[c]) for c in cols]
            for r in report["summary"]]
    print(table(rows, cols))


def cmd_optimum(args: argparse.Namespace) -> int:
    from archgym.optimum import find_optimum

    env_id = resolve_env_id(args.env)
    import gymnasium

    env = gymnasium.make(env_id, **env_kwargs_from_args(args, env_id))
    opt = find_optimum(env, limit=args.limit, progress=None if not args.json else False)
    if args.out:
        from pathlib import Path

        Path(args.out).write_text(opt.to_json())
    if args.json:
        print(opt.to_json())
        return EXIT_OK
    units = {m.name: m.unit for m in env.unwrapped.simulator.metrics}
    print(f"{opt.env_id} ({opt.workload}): {opt.designs:,} designs in {opt.seconds:.1f} s")
    print(f"best reward {opt.best_reward:.6f}, reached by {opt.optimal_designs:,} designs"
          + (f"; {opt.meeting_targets:,} designs meet every target" if opt.meeting_targets is not None else ""))
    print(table([(k, v) for k, v in opt.best_design.items()], ("parameter", "value")))
    print()
    print(table([(k, format_quantity(v, units.get(k, ""))) for k, v in opt.best_metrics.items()], ("metric", "value")))
    if opt.pareto_metrics:
        print(f"\ntrue Pareto front over {', '.join(opt.pareto_metrics)}: {len(opt.pareto_front)} designs"
              + (f" (saved in {args.out})" if args.out else " (--out FILE saves it)"))
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from archgym.report import build_report

    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        raise ValueError(f"run directory {str(run_dir)!r} does not exist")
    report = build_report(run_dir, figures=not args.no_figures)
    if args.json:
        _print_json(report)
    else:
        _print_summary(report)
        print(f"\nreport: {report['report_dir']}/report.md")
    return EXIT_OK


# --------------------------------------------------------------------------------------------------
# Data and proxy commands: collect, dataset, proxy train, proxy score
# (archgym.dataset and archgym.proxy do the work; these functions read options and print)
# --------------------------------------------------------------------------------------------------


def cmd_collect(args: argparse.Namespace) -> int:
    from archgym.dataset import collect
    from archgym.progress import Progress

    env_id = resolve_env_id(args.env)
    kwargs = env_kwargs_from_args(args, env_id)
    env = make_env(env_id, kwargs)
    with Progress(args.samples, "collect", enabled=False if args.quiet else None) as bar:
        summary = collect(env, env_id, args.out, args.samples, method=args.method, seed=args.seed,
                          batch=args.batch, run_id=args.run_id,
                          progress=lambda done, total, seconds: bar.update(done))
    if args.json:
        _print_json(summary)
        return EXIT_OK
    print(f"{summary['rows']:,} designs of {env_id} ({summary['workload']}, {args.method}, seed {args.seed}) "
          f"appended to {args.out} as run {summary['run_id']}: {summary['feasible']:,} feasible, "
          f"{summary['seconds']:.1f} s ({summary['designs_per_second']:,.0f} designs/s)")
    return EXIT_OK


def dataset_summary(path: str) -> dict[str, Any]:
    """Rows, runs, envs/workloads, agents and per-metric ranges of a dataset (``archgym dataset``)."""
    from archgym.dataset import read_dataset, read_manifest

    manifest = read_manifest(path)
    df = read_dataset(path)
    feasible = df[df["feasible"]]
    metrics = []
    for m in manifest["metrics"]:
        col = feasible[m["name"]]
        metrics.append({"name": m["name"], "unit": m["unit"], "min": float(col.min()) if len(col) else None,
                        "max": float(col.max()) if len(col) else None})
    groups = df.groupby(["env_id", "workload"]).size() if len(df) else {}
    return {
        "dataset": path, "schema_version": manifest["schema_version"], "rows": len(df),
        "feasible": int(df["feasible"].sum()), "runs": int(df["run_id"].nunique()),
        "agents": sorted(df["agent"].unique().tolist()),
        "envs": [{"env_id": e, "workload": w, "rows": int(n)} for (e, w), n in dict(groups).items()],
        "parameters": [p["name"] for p in manifest["space"]["parameters"]], "metrics": metrics,
    }


def cmd_dataset(args: argparse.Namespace) -> int:
    from archgym.dataset import export_csv

    info = dataset_summary(args.data)
    if args.csv:
        info["csv"] = {"path": args.csv, "rows": export_csv(args.data, args.csv)}
    if args.json:
        _print_json(info)
        return EXIT_OK
    print(f"{info['dataset']}: {info['rows']:,} rows ({info['feasible']:,} feasible) from {info['runs']} run(s); "
          f"agents: {', '.join(info['agents']) or '-'}; schema version {info['schema_version']}")
    print(table([(e["env_id"], e["workload"], f"{e['rows']:,}") for e in info["envs"]], ("env", "workload", "rows")))
    print()
    print(table([(m["name"], format_quantity(m["min"], m["unit"]) if m["min"] is not None else "-",
                  format_quantity(m["max"], m["unit"]) if m["max"] is not None else "-") for m in info["metrics"]],
                ("metric", "min (feasible)", "max (feasible)")))
    if args.csv:
        print(f"\nwrote {info['csv']['rows']:,} rows to {args.csv}")
    return EXIT_OK


def _proxy_report_table(report: Mapping[str, Any]) -> str:
    """The per-metric accuracy table of ``archgym proxy train`` / ``score``."""
    def pct(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.2f}%"

    def num(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.4f}"

    rows = [(m["metric"], m["transform"], f"{m['rows']:,}",
             format_quantity(m["rmse"], m["unit"]) if m["rmse"] is not None else "n/a",
             pct(m["rmse_pct_range"]), pct(m["rmse_pct_mean"]), pct(m["mape_pct"]), num(m["r2"]),
             num(m["kendall_tau"])) for m in report["metrics"]]
    text = table(rows, ("metric", "target", "rows", "RMSE", "% range", "% mean", "MAPE", "R^2", "tau"))
    feas = report["feasibility"]
    if feas["kind"] == "classifier":
        recall = feas.get("infeasible_recall")
        text += (f"\nfeasibility (classifier): accuracy {feas['accuracy']:.4f}, infeasible designs caught "
                 f"{'n/a' if recall is None else f'{recall:.2%}'} of {feas['infeasible_rows']:,}")
    else:
        text += "\nfeasibility: every training design was feasible, so the proxy reports every design feasible"
    return text


def _parse_typed(pairs: Sequence[str], what: str) -> dict[str, Any]:
    out = {}
    for key, text in parse_assignments(pairs or [], what).items():
        try:
            out[key] = yaml.safe_load(text) if text else text
        except yaml.YAMLError as exc:
            raise ValueError(f"{what} {key!r}: cannot read {text!r} ({exc})") from None
    return out


def cmd_proxy_train(args: argparse.Namespace) -> int:
    from archgym.proxy import train_proxy

    env_id = resolve_env_id(args.env)
    kwargs = env_kwargs_from_args(args, env_id)
    env = make_env(env_id, kwargs)
    model = train_proxy(args.data, env.simulator, env_id=env_id, env_kwargs=kwargs, seed=args.seed,
                        test_fraction=args.test_fraction, val_fraction=args.val_fraction, split=args.split,
                        transforms=parse_assignments(args.transform or [], "transform"),
                        xgb_params=_parse_typed(args.xgb, "xgboost parameter"), n_jobs=args.n_jobs)
    model.save(args.out)
    report = model.report
    if args.json:
        _print_json({"model": args.out, "env": env_id, "workload": model.workload,
                     "training": model.manifest["training"], "report": report})
        return EXIT_OK
    t = model.manifest["training"]
    print(f"proxy for {env_id} ({model.workload}) written to {args.out}: {t['distinct_designs']:,} distinct designs "
          f"({t['rows_train']:,} train, {t['rows_val']:,} validation, {t['rows_test']:,} test; split by {t['split']}, "
          f"seed {t['seed']}), trained in {t['seconds']:.1f} s\n")
    print(_proxy_report_table(report))
    print(f"\nuse it: gym.make({env_id!r}, backend='proxy', proxy={args.out!r}" +
          "".join(f", {k}={v!r}" for k, v in kwargs.items()) + ")")
    return EXIT_OK


def cmd_proxy_score(args: argparse.Namespace) -> int:
    from archgym.proxy import load_proxy

    report = load_proxy(args.model).score(args.data)
    if args.json:
        _print_json({"model": args.model, "data": args.data, "report": report})
        return EXIT_OK
    print(f"proxy {args.model} on {args.data}: {report['rows']:,} distinct designs "
          f"({report['feasible_rows']:,} feasible)\n")
    print(_proxy_report_table(report))
    return EXIT_OK


def _add_data_commands(sub: Any) -> None:
    """The parsers of collect, dataset and proxy."""
    from archgym.dataset import SAMPLING_METHODS

    p = sub.add_parser("collect", help="sample a design space into a trajectory dataset",
                       description="Evaluate N designs drawn from an environment's space (uniformly at random, "
                                   "or a Latin hypercube over the unit encoding) and append them to a dataset "
                                   "directory (Parquet parts + manifest.json).")
    p.add_argument("env", help="environment id, e.g. archgym/Systolic-v0 (or Systolic-v0, systolic)")
    p.add_argument("--samples", "-n", type=int, required=True, help="number of designs to evaluate")
    p.add_argument("--out", "-o", required=True, metavar="DATA", help="dataset directory (created or appended to)")
    p.add_argument("--method", choices=SAMPLING_METHODS, default="random", help="sampling method (default random)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--batch", type=int, default=4096, help="designs per evaluate_batch call and Parquet part")
    p.add_argument("--run-id", help="run id recorded on every row (default: generated)")
    _add_env_options(p)
    p.add_argument("--quiet", "-q", action="store_true", help="no progress lines on stderr")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_collect)

    p = sub.add_parser("dataset", help="summarise a trajectory dataset (and export it as CSV)",
                       description="Rows, runs, envs, agents and metric ranges of a dataset directory.")
    p.add_argument("data", help="dataset directory")
    p.add_argument("--csv", metavar="FILE", help="also write every row to this CSV file")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_dataset)

    p = sub.add_parser("proxy", help="train or score an XGBoost proxy cost model",
                       description="Train an XGBoost proxy on a dataset, or score one on a dataset.")
    proxy_sub = p.add_subparsers(dest="proxy_command", metavar="ACTION")
    proxy_sub.required = True
    p = proxy_sub.add_parser("train", help="train a proxy on a dataset and print its held-out accuracy",
                             description="Fit one XGBoost regressor per metric on the dataset's rows of ENV and its "
                                         "workload, write MODEL_DIR (XGBoost JSON + manifest.json) and print the "
                                         "accuracy on the held-out test split.")
    p.add_argument("data", help="dataset directory")
    p.add_argument("--env", "-e", required=True, help="environment the proxy stands in for")
    p.add_argument("--out", "-o", required=True, metavar="MODEL_DIR", help="model directory to write")
    _add_env_options(p)
    p.add_argument("--seed", type=int, default=0, help="split and boosting seed (default 0)")
    p.add_argument("--test-fraction", type=float, default=0.15, help="held-out test share (default 0.15)")
    p.add_argument("--val-fraction", type=float, default=0.15, help="early-stopping validation share (default 0.15)")
    p.add_argument("--split", choices=("row", "run"), default="row",
                   help="split rows at random, or hold out whole runs (default row)")
    p.add_argument("--transform", "-t", action="append", metavar="METRIC=log|identity",
                   help="force a metric's target transform (default: log when every value is positive)")
    p.add_argument("--xgb", action="append", metavar="KEY=VALUE",
                   help="an XGBRegressor parameter, e.g. --xgb max_depth=6 (repeatable)")
    p.add_argument("--n-jobs", type=int, default=1, help="XGBoost threads (default 1)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_proxy_train)

    p = proxy_sub.add_parser("score", help="accuracy of a trained proxy on a dataset",
                             description="Score a proxy on the rows of a dataset that match its env and workload.")
    p.add_argument("model", metavar="MODEL_DIR", help="model directory written by `archgym proxy train`")
    p.add_argument("data", help="dataset directory")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_proxy_score)


# --------------------------------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------------------------------


def _add_env_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workload", "-w", help="workload name or file (the env's workload/network keyword)")
    p.add_argument("--kwarg", "-k", action="append", metavar="KEY=VALUE",
                   help="an environment keyword for gym.make, value read as YAML (repeatable), e.g. "
                        "-k 'targets={latency: 0.002}'")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="archgym",
        description="A gymnasium for ML-assisted accelerator design: environments, agents, sweeps.",
        epilog="Exit codes: 0 success, 2 bad input, 1 failure while running.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("list", help="list environments, workloads and agents (or one env's knobs and metrics)",
                       description="List environments and agents, or with --env the knobs, metrics, workloads "
                                   "and default targets of one environment.")
    p.add_argument("--env", "-e", help="show one environment in detail")
    p.add_argument("--agent", help="show one agent's hyperparameters")
    _add_env_options(p)
    p.add_argument("--markdown", action="store_true", help="print tables as GitHub markdown")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("evaluate", help="evaluate one design and print its metrics with units",
                       description="Evaluate one design. Parameters not given take the simulator's default "
                                   "design; `archgym list --env ENV` shows them.")
    p.add_argument("env", help="environment id, e.g. archgym/Systolic-v0 (or Systolic-v0, systolic)")
    p.add_argument("--design", "-d", nargs="+", metavar="KEY=VALUE", help="design parameters, e.g. rows=64 cols=64")
    _add_env_options(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("explore", help="run one agent on one environment for a budget of evaluations",
                       description="Search an environment with one agent for exactly BUDGET simulator evaluations "
                                   "and print the best design found.")
    p.add_argument("env", help="environment id, e.g. archgym/Systolic-v0")
    p.add_argument("--agent", "-a", help="agent name (`archgym list` shows them)")
    p.add_argument("--agent-config", metavar="FILE", help="an agent and its hyperparameters (configs/agents/*.yaml)")
    p.add_argument("--budget", "-b", type=int, required=True, help="simulator evaluations")
    p.add_argument("--seed", "-s", type=int, default=0, help="seed of the agent and env (default 0)")
    p.add_argument("--hp", nargs="+", metavar="KEY=VALUE", help="agent hyperparameters, e.g. population=16")
    p.add_argument("--log", metavar="DIR", help="write every evaluation to this trajectory dataset directory")
    _add_env_options(p)
    p.add_argument("--json", action="store_true", help="print JSON (with the best-so-far history)")
    p.set_defaults(func=cmd_explore)

    p = sub.add_parser("sweep", help="run a Ray Tune sweep from a spec (the hyperparameter-lottery study)",
                       description="Run every trial of a sweep spec (configs/sweeps/*.yaml) on an embedded Ray or "
                                   "a Ray cluster, then write the report into the run directory.")
    p.add_argument("spec", help="sweep spec YAML (with --resume: the spec or its run directory)")
    p.add_argument("--address", help="join this Ray cluster (e.g. 10.0.0.5:6379) instead of an embedded Ray")
    p.add_argument("--resume", action="store_true", help="continue an interrupted sweep, keeping finished trials")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("optimum", help="the exact optimum of a task by evaluating every design",
                       description="Enumerate every design of an environment's finite space (up to --limit) and "
                                   "report the best reward, the designs reaching it and the true Pareto front.")
    p.add_argument("env", help="environment id")
    _add_env_options(p)
    p.add_argument("--limit", type=int, default=10_000_000, help="refuse spaces larger than this (default 1e7)")
    p.add_argument("--out", metavar="FILE", help="also write the result (with the Pareto front) as JSON")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_optimum)

    p = sub.add_parser("report", help="tables and figures for a sweep's run directory",
                       description="Write RUN_DIR/report/: per-agent summary, lottery spread, best-so-far and "
                                   "regret curves, Pareto fronts with hypervolume (PNG + CSV), and report.md.")
    p.add_argument("run_dir", help="a sweep's run directory")
    p.add_argument("--no-figures", action="store_true", help="tables only")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_report)

    _add_data_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ValueError as exc:
        print(f"archgym: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("archgym: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
