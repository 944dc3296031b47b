"""``archgym explore`` and ``archgym optimum``: one agent's search, and the exact optimum by exhaustion."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from archgym.catalog import resolve_env_id
from archgym.cli.common import (
    ENV_HELP,
    EXIT_OK,
    add_env_options,
    env_kwargs_from_args,
    parse_assignments,
    path_arg,
    print_json,
    read_yaml_file,
)
from archgym.display import format_quantity, table
from archgym.io import check_file_to_write


def agent_choice(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The agent name and hyperparameters from --agent/--agent-config and --hp (which wins)."""
    hyperparameters: dict[str, Any] = {}
    agent = args.agent
    if args.agent_config:
        data = read_yaml_file(args.agent_config, "agent config")
        if not isinstance(data, Mapping) or set(data) - {"agent", "hyperparameters"} or "agent" not in data:
            raise ValueError(f"{args.agent_config}: an agent config is a mapping with 'agent' and 'hyperparameters'")
        if agent and agent != data["agent"]:
            raise ValueError(f"--agent {agent!r} disagrees with {args.agent_config} (agent {data['agent']!r})")
        agent = data["agent"]
        hps = data.get("hyperparameters") or {}
        if not isinstance(hps, Mapping):
            raise ValueError(f"{args.agent_config}: hyperparameters must be a mapping, got {hps!r}")
        hyperparameters = dict(hps)
    if not agent:
        raise ValueError("name an agent with --agent NAME or --agent-config FILE")
    hyperparameters.update(parse_assignments(args.hp, "hyperparameter", yaml_values=True))
    return agent, hyperparameters


def cmd_explore(args: argparse.Namespace) -> int:
    import gymnasium

    from archgym.explore import explore

    env_id = resolve_env_id(args.env)
    agent, hyperparameters = agent_choice(args)
    env = gymnasium.make(env_id, **env_kwargs_from_args(args, env_id))
    result = explore(env, agent, budget=args.budget, seed=args.seed, hyperparameters=hyperparameters,
                     log=args.log, progress=None if not args.json else False, keep_records=False)
    units = {m.name: m.unit for m in env.unwrapped.simulator.metrics}
    if args.json:
        data = result.summary()
        data["history"] = result.history.tolist()
        print_json(data)
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


def cmd_optimum(args: argparse.Namespace) -> int:
    import gymnasium

    from archgym.optimum import BEST_KNOWN_BUDGET, DEFAULT_LIMIT, find_optimum

    env_id = resolve_env_id(args.env)
    if args.search_budget is not None and not args.best_known:
        raise ValueError("--search-budget only applies with --best-known (the exact optimum evaluates every design)")
    if args.limit is not None and args.best_known:
        raise ValueError("--limit only applies to the exact optimum, not with --best-known")
    if args.out:  # before minutes of enumeration, not after
        try:
            check_file_to_write(args.out)
        except ValueError as exc:
            raise ValueError(f"--out: {exc}; give a file name for the JSON result") from None
    env = gymnasium.make(env_id, **env_kwargs_from_args(args, env_id))
    progress = None if not args.json else False
    if args.best_known:
        from archgym.optimum import best_known

        budget = BEST_KNOWN_BUDGET if args.search_budget is None else args.search_budget
        if budget < 1:
            raise ValueError(f"--search-budget must be a positive number of evaluations, got {budget}")
        opt = best_known(env, budget=budget, progress=progress)
    else:
        opt = find_optimum(env, limit=DEFAULT_LIMIT if args.limit is None else args.limit, progress=progress)
    if args.out:
        opt.save(args.out)
    if args.json:
        print(opt.to_json())
        return EXIT_OK
    units = {m.name: m.unit for m in env.unwrapped.simulator.metrics}
    print(f"{opt.env_id} ({opt.workload}): {opt.designs:,} designs, {opt.method}, {opt.seconds:.1f} s")
    if opt.exact and opt.method != "search":
        print(f"best reward {opt.best_reward:.6f}, reached by {opt.optimal_designs:,} designs"
              + (" or more" if opt.method != "enumeration" else "")
              + (f"; {opt.meeting_targets:,} designs meet every target" if opt.meeting_targets is not None else ""))
    elif opt.exact:
        print(f"best known reward {opt.best_reward:.6f}: the objective's maximum, so optimal")
    else:
        print(f"best known reward {opt.best_reward:.6f} (a bound: the optimum is at least this)")
    if opt.note:
        print(opt.note)
    print(table([(k, v) for k, v in opt.best_design.items()], ("parameter", "value")))
    print()
    print(table([(k, format_quantity(v, units.get(k, ""))) for k, v in opt.best_metrics.items()], ("metric", "value")))
    if opt.pareto_metrics:
        print(f"\ntrue Pareto front over {', '.join(opt.pareto_metrics)}: {len(opt.pareto_front)} designs"
              + (f" (saved in {args.out})" if args.out else " (--out FILE saves it)"))
    return EXIT_OK


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("explore", help="run one agent on one environment for a budget of evaluations",
                       description="Search an environment with one agent for exactly BUDGET simulator evaluations "
                                   "and print the best design found.")
    p.add_argument("env", help=ENV_HELP)
    p.add_argument("--agent", "-a", help="agent name (`archgym list` shows them)")
    p.add_argument("--agent-config", type=path_arg, metavar="FILE",
                   help="an agent and its hyperparameters (configs/agents/*.yaml)")
    p.add_argument("--budget", "-b", type=int, required=True, help="simulator evaluations")
    p.add_argument("--seed", "-s", type=int, default=0, help="seed of the agent and env (default 0)")
    p.add_argument("--hp", nargs="+", action="extend", metavar="KEY=VALUE",
                   help="agent hyperparameters, e.g. population=16 (repeatable; a key given twice is an error)")
    p.add_argument("--log", type=path_arg, metavar="DIR",
                   help="write every evaluation to this trajectory dataset directory")
    add_env_options(p)
    p.add_argument("--json", action="store_true", help="print JSON (with the best-so-far history)")
    p.set_defaults(func=cmd_explore)

    from archgym.optimum import BEST_KNOWN_BUDGET, DEFAULT_LIMIT

    p = sub.add_parser("optimum", help="the exact optimum of a task by evaluating every design",
                       description="The exact optimum and Pareto front: by enumerating every design of a finite "
                                   "space (up to --limit), or by dynamic programming where the simulator declares "
                                   "an additive structure (Quant-v0); with --best-known, a bound from long "
                                   "searches (SoC-v0).")
    p.add_argument("env", help=ENV_HELP)
    add_env_options(p)
    p.add_argument("--limit", type=int,
                   help=f"refuse spaces larger than this many designs (default {DEFAULT_LIMIT})")
    p.add_argument("--best-known", action="store_true",
                   help="for a space too large to enumerate and without additive structure (SoC-v0): the best "
                        "design of long searches, labelled as a bound")
    p.add_argument("--search-budget", type=int,
                   help=f"evaluations per search with --best-known (default {BEST_KNOWN_BUDGET})")
    p.add_argument("--out", type=path_arg, metavar="FILE", help="also write the result (with the Pareto front) as JSON")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_optimum)
