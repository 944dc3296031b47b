"""``archgym sweep`` and ``archgym report``: a Ray Tune sweep from a spec, and the tables and figures of a run."""

from __future__ import annotations

import argparse
import errno
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from archgym.cli.common import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    add_import_option,
    allow_imports,
    path_arg,
    print_json,
)
from archgym.display import table


def _resumable(spec: Any, path: Path) -> Path:
    """The run directory of ``spec`` when the spec it was made from is the same: resuming runs the stored
    spec, so an edited one (another budget, more seeds) is refused rather than silently not applied."""
    from archgym.dataset.provenance import record_difference
    from archgym.runs import SPEC_FILE, load_run_spec

    if not (spec.run_dir / SPEC_FILE).is_file():
        return spec.run_dir  # resume_sweep says there is no sweep to resume
    stored = load_run_spec(spec.run_dir)
    have, want = (dict(s.to_dict(), run_dir=None, name=s.name) for s in (spec, stored))
    diff = record_difference(have, want, (str(path), f"{spec.run_dir / SPEC_FILE}"))
    if diff:
        raise ValueError(f"--resume runs the spec the run directory was made with, and {path} differs from it: "
                         f"{diff}. Resume with the run directory itself ({spec.run_dir}), or start a new sweep "
                         "with another run_dir")
    return spec.run_dir


def cmd_sweep(args: argparse.Namespace) -> int:
    from archgym.config import load_sweep
    from archgym.report import build_report
    from archgym.tune import resume_sweep, run_sweep

    allow_imports(args)
    target = Path(args.spec)
    progress = None if not args.json else False
    if args.resume:
        run_dir = target if target.is_dir() else _resumable(load_sweep(target, resuming=True), target)
        outcome = resume_sweep(run_dir, address=args.address, progress=progress)
    else:
        spec = load_sweep(target)  # validated before Ray starts
        print(f"sweep {spec.name}: {len(spec.trials())} trials of {spec.budget} evaluations on {spec.env_id}; "
              f"results in {spec.run_dir}", file=sys.stderr)
        outcome = run_sweep(spec, address=args.address, progress=progress)
    report = build_report(outcome.run_dir) if outcome.trials else None
    if args.json:
        print_json({"run_dir": str(outcome.run_dir), "errors": outcome.errors, "interrupted": outcome.interrupted,
                    "trials_total": outcome.trials_total, "trials_finished": outcome.finished, **(report or {})})
    else:
        if report is not None:
            print_summary(report)
        if outcome.errors:
            print(f"\n{len(outcome.errors)} trial(s) failed:", file=sys.stderr)
            for trial_id, message in outcome.errors.items():
                print(f"  {trial_id}: {message}", file=sys.stderr)
        if report is not None:
            print(f"\nreport: {report['report_dir']}/report.md" + (" (incomplete)" if outcome.interrupted else ""))
    if outcome.optimum_interrupted:
        print(f"archgym: sweep interrupted by {outcome.interrupted} while computing the optimum (every trial has "
              f"run); compute it with: archgym sweep {outcome.run_dir} --resume", file=sys.stderr)
        return EXIT_INTERRUPTED[outcome.interrupted]
    if outcome.interrupted:
        print(f"archgym: sweep interrupted by {outcome.interrupted}: {outcome.finished} of {outcome.trials_total} "
              f"trials finished; continue with: archgym sweep {outcome.run_dir} --resume", file=sys.stderr)
        return EXIT_INTERRUPTED[outcome.interrupted]
    return EXIT_FAILURE if outcome.errors else EXIT_OK


def print_summary(report: Mapping[str, Any]) -> None:
    if report.get("progress_only"):
        print(f"{report['verdict']}: nothing to compare yet")
        return
    cols = ["agent", "trials", "median_best_reward", "q25", "q75", "target_met_fraction", "median_evals_to_target"]
    if report.get("optimum"):
        cols += ["median_regret", "found_optimum_fraction"]
    rows = [[("-" if r.get(c) is None else f"{r[c]:.4g}" if isinstance(r.get(c), float) else r[c]) for c in cols]
            for r in report["summary"]]
    print(table(rows, cols))


def cmd_report(args: argparse.Namespace) -> int:
    from archgym.report import build_report

    allow_imports(args)
    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        raise ValueError(f"run directory {str(run_dir)!r} " + ("is a file, not a sweep's run directory"
                                                              if run_dir.exists() else "does not exist"))
    try:
        report = build_report(run_dir, figures=not args.no_figures, out=args.out)
    except OSError as exc:  # no permission, or a read-only file system
        if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise
        raise ValueError(_unwritable(run_dir, args.out, exc)) from None
    if args.json:
        print_json(report)
    else:
        print_summary(report)
        print(f"\nreport: {report['report_dir']}/report.md")
        if report["incomplete"]:
            print(f"archgym: {report['incomplete']}", file=sys.stderr)
        for note in report["notes"]:
            print(f"archgym: {note}", file=sys.stderr)
    return EXIT_OK


def _unwritable(run_dir: Path, out: str | None, exc: OSError) -> str:
    where = out or f"{run_dir} (report/ and results.csv)"
    hint = "" if out else ": write it elsewhere with --out DIR"
    return f"cannot write the report into {where}: {exc.strerror or exc}{hint}"


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("sweep", help="run a Ray Tune sweep from a spec (the hyperparameter-lottery study)",
                       description="Run every trial of a sweep spec (configs/sweeps/*.yaml) on an embedded Ray or "
                                   "a Ray cluster, then write the report into the run directory.")
    p.add_argument("spec", type=path_arg, help="sweep spec YAML (with --resume: the spec or its run directory)")
    p.add_argument("--address", help="join this Ray cluster (e.g. 10.0.0.5:6379) instead of an embedded Ray")
    p.add_argument("--resume", action="store_true", help="continue an interrupted sweep, keeping finished trials")
    add_import_option(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("report", help="tables and figures for a sweep's run directory",
                       description="Write RUN_DIR/report/: per-agent summary, lottery spread, best-so-far and "
                                   "regret curves, Pareto fronts with hypervolume (PNG + CSV), and report.md.")
    p.add_argument("run_dir", type=path_arg, help="a sweep's run directory")
    p.add_argument("--no-figures", action="store_true", help="tables only")
    p.add_argument("--out", type=path_arg, help="write the report and results.csv to this directory instead of "
                                                "RUN_DIR (for a run directory you may only read)")
    add_import_option(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_report)
