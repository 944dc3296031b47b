"""``archgym collect``, ``archgym dataset`` and ``archgym proxy train/score``: data and the proxy model.

``archgym.dataset`` and ``archgym.proxy`` do the work; these functions read options and print.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from archgym.catalog import make_env, resolve_env_id
from archgym.cli.common import (
    ENV_HELP,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    add_env_options,
    add_import_option,
    allow_imports,
    env_kwargs_from_args,
    interrupted_by,
    parse_assignments,
    path_arg,
    print_json,
)
from archgym.display import format_quantity, table


def cmd_collect(args: argparse.Namespace) -> int:
    from archgym.dataset import CollectInterrupted, collect
    from archgym.progress import Progress

    if args.run_id is not None and not args.run_id.strip():
        raise ValueError("--run-id must name a run, got an empty string (leave it out for a new run)")
    env_id = resolve_env_id(args.env)
    kwargs = env_kwargs_from_args(args, env_id)
    env = make_env(env_id, kwargs)
    try:
        with Progress(args.samples, "collect", enabled=False if args.quiet else None) as bar:
            result = collect(env, env_id, args.out, args.samples, method=args.method, seed=args.seed,
                             batch=args.batch, run_id=args.run_id, flush_seconds=args.flush_seconds,
                             progress=lambda done, total, seconds: bar.update(done))
    except CollectInterrupted as stop:
        command = ["archgym", "collect", args.env, "--samples", str(args.samples), "--out", args.out, "--method",
                   args.method, "--seed", str(args.seed)]
        command += ["--workload", args.workload] if args.workload is not None else []
        for pair in args.kwarg or []:
            command += ["-k", pair]
        print(f"archgym: interrupted: run {stop.run_id} in {args.out} holds {stop.rows:,} of {stop.samples:,} "
              f"designs; resume it with: {shlex.join([*command, '--run-id', stop.run_id])}", file=sys.stderr)
        return EXIT_INTERRUPTED[interrupted_by()]
    if args.json:
        print_json(result.to_dict())
        return EXIT_OK
    resumed = (f" (run {result.run_id} resumed: it had {result.resumed:,} of them already)"
               if result.resumed else "")
    if result.resumed and not result.rows:
        print(f"run {result.run_id} in {args.out} already holds all {result.resumed:,} designs: nothing to do")
        return EXIT_OK
    print(f"{result.rows:,} designs of {env_id} ({result.workload}, {args.method}, seed {args.seed}) "
          f"appended to {args.out} as run {result.run_id}{resumed}: {result.feasible:,} feasible, "
          f"{result.seconds:.1f} s ({result.designs_per_second:,.0f} designs/s)")
    return EXIT_OK


_DATASET_ACTIONS = ("validate", "upgrade")
_DATASET_OPTIONS = {"csv": (None,), "sample": ("validate",), "seed": ("validate",), "out": ("upgrade",),
                    "env": ("upgrade",), "workload": ("upgrade",), "kwarg": ("upgrade",), "imports": ("validate",)}


def cmd_dataset(args: argparse.Namespace) -> int:
    words = list(args.words)
    action = words.pop(0) if words and words[0] in _DATASET_ACTIONS and len(words) > 1 else None
    if any(not w.strip() for w in args.words):  # Path("") is the current directory
        raise ValueError("archgym dataset: a dataset directory is an empty path (write . for the current directory)")
    if len(words) != 1:
        raise ValueError("usage: archgym dataset DIR | archgym dataset validate DIR | archgym dataset upgrade OLD_DIR "
                         f"--out NEW_DIR --env ENV; got {' '.join(args.words)!r}")
    for option, actions in _DATASET_OPTIONS.items():
        if getattr(args, option) not in (None, []) and action not in actions:
            flag = "--import" if option == "imports" else "--" + option.replace("_", "-")
            where = " or ".join(f"`archgym dataset {a}`" if a else "the summary" for a in actions)
            raise ValueError(f"{flag} only applies to {where}")
    if action == "validate":
        return _dataset_validate(args, words[0])
    if action == "upgrade":
        return _dataset_upgrade(args, words[0])
    return _dataset_summary(args, words[0])


def _dataset_summary(args: argparse.Namespace, data: str) -> int:
    from archgym.dataset import dataset_summary, export_csv

    info = dataset_summary(data)
    if args.csv:
        info["csv"] = {"path": args.csv, "rows": export_csv(data, args.csv)}
    if args.json:
        print_json(info)
        return EXIT_OK
    print(f"{info['dataset']}: {info['rows']:,} rows ({info['feasible']:,} feasible) from {info['runs']} run(s) in "
          f"{info['files']} file(s); agents: {', '.join(info['agents']) or '-'}; "
          f"schema version {info['schema_version']}")
    print(table([(e["env_id"], e["workload"], f"{e['rows']:,}") for e in info["envs"]], ("env", "workload", "rows")))
    print()
    print(table([(r["run_id"], r["agent"], f"{r['rows']:,}", _settings_text(r["settings"]))
                 for r in info["run_records"]], ("run", "agent", "rows", "simulator settings")))
    print()
    print(table([(m["name"], format_quantity(m["min"], m["unit"]) if m["min"] is not None else "-",
                  format_quantity(m["max"], m["unit"]) if m["max"] is not None else "-") for m in info["metrics"]],
                ("metric", "min (feasible)", "max (feasible)")))
    if info["superseded_files"]:
        files = [shlex.quote(str(Path(data) / name)) for name in info["superseded_files"]]
        rows, more = info["rows"], info["superseded_rows"]
        effect = (f"their {more:,} rows are also in their run's merged file, so archgym skips them but pandas, "
                  f"polars and duckdb read {rows + more:,} rows, not {rows:,}") if more else \
            "they hold no rows of their own, and archgym skips them"
        print(f"warning: {len(files)} chunk file(s) of runs whose other parts hold the same chunks (left by an "
              f"interrupted compaction, or copied in) are still in {data}: {effect}; "
              f"delete them (rm {' '.join(files[:5])}"
              f"{f' and {len(files) - 5} more' if len(files) > 5 else ''}), or resume the run (its next writer "
              "deletes them)")
    for problem in info["problems"]:
        print(f"warning: {problem}")
    for note in info["notes"]:
        print(f"note: {note}")
    if args.csv:
        print(f"\nwrote {info['csv']['rows']:,} rows to {args.csv}")
    return EXIT_OK


def _settings_text(settings: Mapping[str, Any] | None) -> str:
    if settings is None:
        return "(not recorded)"
    parts = []
    for k, v in sorted(settings.items()):
        if isinstance(v, Mapping) and "sha256" in v:
            v = f"{v.get('file') or v.get('directory') or v.get('object')} (sha256 {str(v['sha256'])[:8]})"
        parts.append(f"{k}={v}")
    return ", ".join(parts)


def _dataset_validate(args: argparse.Namespace, data: str) -> int:
    from archgym.dataset import validate_dataset
    from archgym.progress import Progress

    if args.seed is not None and args.sample is None:
        raise ValueError("--seed draws the --sample rows: it needs --sample")
    allow_imports(args)

    with Progress(1, "validate", enabled=False if args.json else None) as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done)

        report = validate_dataset(data, sample=args.sample, seed=args.seed or 0, progress=progress)
    if args.json:
        print_json(report.to_dict())
        return EXIT_OK if report.ok else EXIT_FAILURE
    print(f"{data}: replayed {report.checked:,} of {report.rows:,} rows from {report.runs} run(s) on their recorded "
          f"simulators in {report.seconds:.1f} s")
    for problem in report.problems:
        print(f"problem: {problem}")
    for note in report.notes:
        print(f"note: {note}")
    if report.mismatches:
        print(f"\n{len(report.mismatches):,} mismatch(es) in {report.mismatched_rows:,} row(s):")
        print(table([(m.run_id, m.step, m.column, m.recorded, m.replayed) for m in report.mismatches],
                    ("run", "step", "column", "recorded", "replayed")))
    if report.ok:
        print("every replayed row matches")
    return EXIT_OK if report.ok else EXIT_FAILURE


def _dataset_upgrade(args: argparse.Namespace, old: str) -> int:
    from archgym.dataset import upgrade_dataset

    if not args.out or not args.env:
        raise ValueError("archgym dataset upgrade OLD_DIR needs --out NEW_DIR and --env ENV (with the --workload and "
                         "-k settings the rows were produced with)")
    env_id = resolve_env_id(args.env)
    env = make_env(env_id, env_kwargs_from_args(args, env_id))
    result = upgrade_dataset(old, args.out, env, env_id)
    if args.json:
        print_json(result)
        return EXIT_OK
    print(f"{result['rows']:,} rows of {env_id} ({result['workload']}) in {result['runs']} run(s) written to "
          f"{args.out} with this env's settings and objective"
          + (f"; {result['duplicates_dropped']:,} duplicated rows kept once" if result["duplicates_dropped"] else ""))
    for left in result["left"]:
        print(f"not converted: {left['rows']:,} rows of {left['env_id']} / {left['workload']} (run again with their "
              "--env/--workload)")
    print(f"check them: archgym dataset validate {args.out}")
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
    from archgym.proxy import check_model_dir, train_proxy

    check_model_dir(args.out)  # before the training, not after it
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
    if t.get("left_out"):
        print(f"note: {t['left_out']}\n")
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
          f"({report['feasible_rows']:,} feasible)" + (f"; {report['left_out']}" if report["left_out"] else "") + "\n")
    if report["rows_of_fitted_runs"]:
        print(f"note: {report['rows_of_fitted_runs']:,} of these designs come from runs the proxy was trained on; "
              "a score on them flatters it (its held-out test score is in the manifest's report)\n")
    if report["rows_outside_training_range"]:
        print(f"note: {report['rows_outside_training_range']:,} of these designs lie outside the designs the proxy "
              "was trained on (a knob value beyond their range, or a choice none of them had); its predictions "
              "there are extrapolated\n")
    print(_proxy_report_table(report))
    return EXIT_OK

def add_parsers(sub: Any) -> None:
    """The parsers of collect, dataset and proxy."""
    from simulators.core import SAMPLING_METHODS

    p = sub.add_parser("collect", help="sample a design space into a trajectory dataset",
                       description="Evaluate N designs drawn from an environment's space (uniformly at random, "
                                   "or a Latin hypercube over the unit encoding) and append them to a dataset "
                                   "directory of Parquet files, as one run. Collecting again with the same "
                                   "--run-id resumes that run (only its missing designs are evaluated).")
    p.add_argument("env", help=ENV_HELP)
    p.add_argument("--samples", "-n", type=int, required=True, help="number of designs to evaluate")
    p.add_argument("--out", "-o", type=path_arg, required=True, metavar="DATA",
                   help="dataset directory (created or appended to)")
    p.add_argument("--method", choices=SAMPLING_METHODS, default="random", help="sampling method (default random)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--batch", type=int, default=4096,
                   help="at most this many designs per evaluate_batch call (default 4096; batches are sized to "
                        "take about half a second)")
    p.add_argument("--run-id", help="run id recorded on every row (default: generated); an existing run with this "
                                    "id is resumed, or refused when it was recorded with other settings")
    p.add_argument("--flush-seconds", type=float, default=5.0,
                   help="write rows to disk at least this often (default 5): the most work a crash loses")
    add_env_options(p)
    p.add_argument("--quiet", "-q", action="store_true", help="no progress lines on stderr")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_collect)

    p = sub.add_parser("dataset", help="summarise, validate or upgrade a trajectory dataset",
                       usage="archgym dataset DIR [--csv FILE] [--json]\n"
                             "       archgym dataset validate DIR [--sample N] [--seed S] [--json]\n"
                             "       archgym dataset upgrade OLD_DIR --out NEW_DIR --env ENV [--workload W] "
                             "[-k KEY=VALUE] [--json]",
                       description="DIR: rows, runs (with their simulator settings), envs, agents and metric ranges "
                                   "of a dataset directory. validate DIR: replay the recorded rows (all, or --sample "
                                   "N of them) on the simulator each run recorded and list every mismatch (exit 1 "
                                   "when there is one). upgrade OLD_DIR: convert a schema-1 dataset (one with a "
                                   "manifest.json) to NEW_DIR, recording the settings of --env/--workload/-k on its "
                                   "rows of that env. (A directory named like an action: write ./validate.)")
    p.add_argument("words", nargs="+", metavar="[ACTION] DIR", help="a dataset directory, optionally after "
                                                                     "'validate' or 'upgrade'")
    p.add_argument("--csv", type=path_arg, metavar="FILE", help="also write every row to this CSV file")
    p.add_argument("--sample", type=int, help="validate: replay this many rows drawn at random (default: all)")
    p.add_argument("--seed", type=int, help="validate: the seed of --sample (default 0)")
    add_import_option(p)
    p.add_argument("--out", "-o", type=path_arg, metavar="NEW_DIR", help="upgrade: the dataset to write")
    p.add_argument("--env", "-e", help="upgrade: the environment the rows were produced on")
    add_env_options(p)
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
    p.add_argument("data", type=path_arg, help="dataset directory")
    p.add_argument("--env", "-e", required=True, help="the environment the proxy stands in for: " + ENV_HELP)
    p.add_argument("--out", "-o", type=path_arg, required=True, metavar="MODEL_DIR", help="model directory to write")
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
    p.add_argument("model", type=path_arg, metavar="MODEL_DIR", help="model directory written by `archgym proxy train`")
    p.add_argument("data", type=path_arg, help="dataset directory")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_proxy_score)


