"""``archgym list`` and ``archgym evaluate``: what the environments and agents are, and one design's cost."""

from __future__ import annotations

import argparse
from typing import Any

from archgym.catalog import describe_env, env_ids, make_env, resolve_env_id
from archgym.cli.common import (
    ENV_HELP,
    EXIT_OK,
    add_env_options,
    count_text,
    env_kwargs_from_args,
    minimize,
    parse_assignments,
    print_json,
)
from archgym.display import agent_table, env_tables, format_quantity, table


def cmd_list(args: argparse.Namespace) -> int:
    import agents
    import archgym

    if args.agent and args.env:
        raise ValueError("give --agent or --env, not both (each lists its own table)")
    if not args.env and (args.workload is not None or args.kwarg):
        raise ValueError("--workload and -k choose an environment's options: they need --env")
    if args.json and args.markdown:
        raise ValueError("give --json or --markdown, not both")
    if args.agent:
        cls = agents.get(args.agent)
        if args.json:
            print_json({"agent": args.agent, "class": f"{cls.__module__}.{cls.__qualname__}",
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
            print_json(info)
            return EXIT_OK
        print(f"{info['id']} ({info['simulator']}), workload {info['workload']!r}, "
              f"{count_text(info['designs'])} designs\n")
        print(env_tables(info, args.markdown))
        units = {m["name"]: m["unit"] for m in info["metrics"]}
        if info["workloads"]:
            print("\nworkloads: " + ", ".join(info["workloads"]))
        if info["default_targets"]:
            targets = ", ".join(f"{k} {'<=' if minimize(info, k) else '>='} {format_quantity(v, units[k])}"
                                for k, v in info["default_targets"].items())
            print(f"default targets ({info['workload']}): {targets}")
        return EXIT_OK

    rows, data = [], []
    for env_id in env_ids():
        try:
            info = describe_env(env_id)
        except Exception as exc:  # a broken plug-in is listed with its error, never hides the others
            if env_id in archgym.ENVIRONMENTS:
                raise
            data.append({"id": env_id, "error": f"{type(exc).__name__}: {exc}"})
            rows.append((env_id, "failed to load", "-", f"{type(exc).__name__}: {exc}"))
            continue
        data.append({k: info[k] for k in ("id", "simulator", "workloads", "designs")})
        rows.append((env_id, info["simulator"], count_text(info["designs"]), ", ".join(info["workloads"]) or "-"))
    agent_names, agent_errors = [], {}
    plugins = agents.plugins()
    for name in agents.available():
        try:
            if name in plugins:  # (archgym's own agents are not imported just to be listed)
                agents.get(name)
        except ValueError as exc:  # a broken plug-in is listed as such, as a broken env is
            agent_errors[name] = str(exc)
        else:
            agent_names.append(name)
    if args.json:
        print_json({"environments": data, "agents": agent_names, "agents_failed": agent_errors})
        return EXIT_OK
    print(table(rows, ("environment", "simulator", "designs", "workloads"), args.markdown))
    if agent_names:
        print("\nagents: " + ", ".join(agent_names))
    for error in agent_errors.values():
        print(error)
    print("\n`archgym list --env ID` shows an environment's knobs and metrics, `--agent NAME` an agent's "
          "hyperparameters. Packages add environments through the `archgym.envs` entry-point group.")
    return EXIT_OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    env_id = resolve_env_id(args.env)
    kwargs = env_kwargs_from_args(args, env_id)
    env = make_env(env_id, kwargs)
    sim = env.simulator
    given = sim.space.parse(parse_assignments(args.design, "design value"))
    design = sim.space.validate({**sim.default_design(), **given})
    evaluation = sim.evaluate(design)
    reward = env.objective(evaluation)
    distances = env.objective.distances(evaluation.metrics) if evaluation.feasible else {}
    units = {m.name: m.unit for m in sim.metrics}
    if args.json:
        print_json({
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
    spec: dict[str, Any] = env.objective.to_dict()
    if spec.get("type") == "target":
        rows = []
        for metric, t in spec["targets"].items():
            met = distances.get(metric) == 0.0
            rows.append((metric, format_quantity(t["value"], units[metric]),
                         "met" if met else f"missed (distance {distances.get(metric, float('nan')):.3f})"))
        print(table(rows, ("target", "value", "status")))
    print(f"reward: {reward:.4f}")
    return EXIT_OK


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("list", help="list environments, workloads and agents (or one env's knobs and metrics)",
                       description="List environments and agents, or with --env the knobs, metrics, workloads "
                                   "and default targets of one environment.")
    p.add_argument("--env", "-e", help="show one environment in detail: " + ENV_HELP)
    p.add_argument("--agent", help="show one agent's hyperparameters")
    add_env_options(p)
    p.add_argument("--markdown", action="store_true", help="print tables as GitHub markdown")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("evaluate", help="evaluate one design and print its metrics with units",
                       description="Evaluate one design. Parameters not given take the simulator's default "
                                   "design; `archgym list --env ENV` shows them.")
    p.add_argument("env", help=ENV_HELP)
    p.add_argument("--design", "-d", nargs="+", action="extend", metavar="KEY=VALUE",
                   help="design parameters, e.g. rows=64 cols=64 (repeatable; a parameter given twice is an error)")
    add_env_options(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_evaluate)
