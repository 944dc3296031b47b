"""``archgym collect``, ``archgym dataset`` and ``archgym proxy train/score``: data and the proxy model.

``archgym.dataset`` and ``archgym.proxy`` do the work; these functions read options and print.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from archgym.catalog import make_env, resolve_env_id
from archgym.cli.common import ENV_HELP, EXIT_OK, add_env_options, env_kwargs_from_args, parse_assignments, print_json
from archgym.display import format_quantity, table


def cmd_collect(args: argparse.Namespace) -> int:
    from archgym.dataset import collect
    from archgym.progress import Progress

    env_id = resolve_env_id(args.env)
    kwargs = env_kwargs_from_args(args, env_id)
    env = make_env(env_id, kwargs)
    with Progress(args.samples, "collect", enabled=False if args.quiet else None) as bar:
        result = collect(env, env_id, args.out, args.samples, method=args.method, seed=args.seed,
                         batch=args.batch, run_id=args.run_id,
                         progress=lambda done, total, seconds: bar.update(done))
    if args.json:
        print_json(result.to_dict())
        return EXIT_OK
    print(f"{result.rows:,} designs of {env_id} ({result.workload}, {args.method}, seed {args.seed}) "
          f"appended to {args.out} as run {result.run_id}: {result.feasible:,} feasible, "
          f"{result.seconds:.1f} s ({result.designs_per_second:,.0f} designs/s)")
    return EXIT_OK


def cmd_dataset(args: argparse.Namespace) -> int:
    from archgym.dataset import dataset_summary, export_csv

    info = dataset_summary(args.data)
    if args.csv:
        info["csv"] = {"path": args.csv, "rows": export_csv(args.data, args.csv)}
    if args.json:
        print_json(info)
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

def cmd_proxy_train(args: argparse.Namespace) -> int:
    from archgym.proxy import train_proxy

    env_id = resolve_env_id(args.env)
    kwargs = env_kwargs_from_args(args, env_id)
    env = make_env(env_id, kwargs)
    model = train_proxy(args.data, env.simulator, env_id=env_id, env_kwargs=kwargs, seed=args.seed,
                        test_fraction=args.test_fraction, val_fraction=args.val_fraction, split=args.split,
                        transforms=parse_assignments(args.transform, "transform"),
                        xgb_params=parse_assignments(args.xgb, "xgboost parameter", yaml_values=True),
                        n_jobs=args.n_jobs)
    model.save(args.out)
    report = model.report
    if args.json:
        print_json({"model": args.out, "env": env_id, "workload": model.workload,
                     "training": model.manifest.training, "report": report})
        return EXIT_OK
    t = model.manifest.training
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
        print_json({"model": args.model, "data": args.data, "report": report})
        return EXIT_OK
    print(f"proxy {args.model} on {args.data}: {report['rows']:,} distinct designs "
          f"({report['feasible_rows']:,} feasible)\n")
    print(_proxy_report_table(report))
    return EXIT_OK

def add_parsers(sub: Any) -> None:
    """The parsers of collect, dataset and proxy."""
    from simulators.core import SAMPLING_METHODS

    p = sub.add_parser("collect", help="sample a design space into a trajectory dataset",
                       description="Evaluate N designs drawn from an environment's space (uniformly at random, "
                                   "or a Latin hypercube over the unit encoding) and append them to a dataset "
                                   "directory (Parquet parts + manifest.json).")
    p.add_argument("env", help=ENV_HELP)
    p.add_argument("--samples", "-n", type=int, required=True, help="number of designs to evaluate")
    p.add_argument("--out", "-o", required=True, metavar="DATA", help="dataset directory (created or appended to)")
    p.add_argument("--method", choices=SAMPLING_METHODS, default="random", help="sampling method (default random)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--batch", type=int, default=4096, help="designs per evaluate_batch call and Parquet part")
    p.add_argument("--run-id", help="run id recorded on every row (default: generated)")
    add_env_options(p)
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
    p.add_argument("--env", "-e", required=True, help="the environment the proxy stands in for: " + ENV_HELP)
    p.add_argument("--out", "-o", required=True, metavar="MODEL_DIR", help="model directory to write")
    add_env_options(p)
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


