"""Proxy accuracy and speed for every registered env (run by hand: ``python benchmarks/bench_proxy.py``).

For each env in ``archgym.ENVIRONMENTS`` (or those named with ``--env``), in one run:

1. collect ``--train`` uniformly random designs with the simulator and train a proxy (seed 0);
2. score it on two held-out sets the proxy never saw (designs of the training data removed):
   ``space``, ``--test`` fresh random designs from the whole space, and ``trajectory``, the designs
   visited by ``--walks`` stochastic hill-climbing walks of ``--steps`` steps on the env's default
   objective (the kind of region agents concentrate in);
3. time one design at a time (``evaluate``) and batches (``evaluate_batch``) on the simulator and on
   the proxy, and print the speed-up of the proxy.

``--max-rmse-range PCT`` makes the run fail (exit 1) when any metric's RMSE on the ``space`` set is
above ``PCT`` % of the metric's range: the issue's bar is ``--env dram --max-rmse-range 1``.

``--curve 500,1000,3000,6000 --env dram`` prints the learning curve instead: the test-split RMSE (the
figure ``archgym proxy train`` reports) and the RMSE on ``--test`` fresh random designs of proxies
trained on the first N of the largest number of random designs (seed 0); with ``--max-rmse-range
PCT --train N`` it fails when a metric's test-split RMSE at N designs is above PCT %.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import archgym
from archgym.catalog import make_env, resolve_env_id
from archgym.cli.common import env_kwargs_from_args
from archgym.dataset import RunInfo, TrajectoryWriter, collect
from archgym.display import table
from archgym.proxy import ProxySimulator, train_proxy


def best_time(fn, repeat: int = 3) -> float:
    """Seconds per call of ``fn``: the best of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def hill_climb(env, walks: int, steps: int, rng: np.random.Generator) -> np.ndarray:
    """Index matrix of the designs visited by parallel stochastic hill climbs (one random neighbour
    proposed per walk per step, kept when its reward is at least as high)."""
    sim, space = env.simulator, env.simulator.space
    current = space.sample_indices(rng, walks)
    rewards = env.objective.batch(sim.evaluate_batch(current))
    visited = [current.copy()]
    for _ in range(steps):
        proposal = current.copy()
        which = rng.integers(0, len(space), size=walks)
        for w, j in enumerate(which):
            n = int(space.nvec[j])
            p = space.parameters[j]
            if p.ordered:
                step = rng.choice([-1, 1])
                proposal[w, j] = min(n - 1, max(0, proposal[w, j] + step))
            else:
                proposal[w, j] = (proposal[w, j] + rng.integers(1, max(2, n))) % n
        new = env.objective.batch(sim.evaluate_batch(proposal))
        better = new >= rewards
        current[better], rewards[better] = proposal[better], new[better]
        visited.append(proposal)
    return np.concatenate(visited)


def unseen(designs: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """Distinct rows of ``designs`` that are not in ``seen`` (both index matrices; rows compared as
    bytes, since a large space's ordinals overflow 64 bits)."""
    known = {row.tobytes() for row in np.ascontiguousarray(seen, dtype=np.int64)}
    keep = []
    for i, row in enumerate(np.ascontiguousarray(designs, dtype=np.int64)):
        key = row.tobytes()
        if key not in known:
            known.add(key)
            keep.append(i)
    return designs[keep]


def write_rows(path: Path, env, env_id: str, name: str, designs: np.ndarray, evaluations=None) -> None:
    sim = env.simulator
    evaluations = sim.evaluate_batch(designs) if evaluations is None else evaluations
    run = RunInfo.from_env(env, env_id, run_id=name, agent=name, hyperparameters={}, seed=None)
    with TrajectoryWriter(path, space=sim.space, metrics=sim.metrics, run=run, chunk_rows=len(designs)) as w:
        w.append_batch(start_step=1, designs=designs, evaluations=evaluations,
                       rewards=env.objective.batch(evaluations), wall_time=0.0)


def learning_curve(env_id: str, kwargs: dict, sizes: list[int], args: argparse.Namespace, workdir: Path) -> list:
    """Test-split and fresh-design RMSE (% of range) of proxies trained on the first N of ``max(sizes)``
    random designs (seed 0), scored on ``--test`` fresh random designs none of them saw."""
    env = make_env(env_id, kwargs)
    sim, space = env.simulator, env.simulator.space
    pool = space.sample_batch(np.random.default_rng(0), max(sizes), "random")
    evaluations = sim.evaluate_batch(pool)
    fresh = unseen(space.sample_batch(np.random.default_rng(12345), args.test, "random"), pool)
    write_rows(workdir / "curve-fresh", env, env_id, "fresh", fresh)
    out = []
    for n in sizes:
        data = workdir / f"curve-{n}"
        write_rows(data, env, env_id, f"first-{n}", pool[:n], evaluations.take(np.arange(n))
                   if hasattr(evaluations, "take") else _first(evaluations, n))
        model = train_proxy(data, sim, env_id=env_id, env_kwargs=kwargs, seed=0)
        out.append({"rows": n, "test": model.report, "fresh": model.score(workdir / "curve-fresh")})
        print(f"  {n:,} designs: " + ", ".join(f"{m['metric']} {m['rmse_pct_range']:.2f}%"
                                               for m in model.report["metrics"] if m["rmse_pct_range"] is not None),
              file=sys.stderr, flush=True)
    return out


def _first(evaluations, n: int):
    from simulators.core import BatchEvaluation

    return BatchEvaluation(metrics={k: v[:n] for k, v in evaluations.metrics.items()},
                           feasible=evaluations.feasible[:n], reasons=list(evaluations.reasons[:n]))


def bench_env(env_id: str, kwargs: dict, args: argparse.Namespace, workdir: Path) -> dict:
    env = make_env(env_id, kwargs)
    sim = env.simulator
    space = sim.space
    data = workdir / f"{env_id.replace('/', '_')}-train"
    summary = collect(env, env_id, data, args.train, method="random", seed=0)
    t0 = time.perf_counter()
    model = train_proxy(data, sim, env_id=env_id, env_kwargs=kwargs, seed=0)
    train_s = time.perf_counter() - t0
    model_dir = model.save(workdir / f"{env_id.replace('/', '_')}-model")
    proxy = ProxySimulator(model_dir, simulator=sim)

    from archgym.dataset import load_arrays

    seen, _, _ = load_arrays(data, space)
    rng = np.random.default_rng(12345)
    sets = {
        "space": unseen(space.sample_batch(rng, args.test, "random"), seen),
        "trajectory": unseen(hill_climb(env, args.walks, args.steps, rng), seen),
    }
    accuracy = {}
    for name, designs in sets.items():
        path = workdir / f"{env_id.replace('/', '_')}-{name}"
        write_rows(path, env, env_id, name, designs)
        accuracy[name] = model.score(path)

    # fresh designs for every timed repetition: a simulator that caches results (DRAM) must not be
    # timed on designs it has already seen
    single_sets = iter(space.decode_indices_batch(space.sample_batch(np.random.default_rng(7 + k), args.single,
                                                                     "random")) for k in range(3))
    sim_single = best_time(lambda: [sim.evaluate(d) for d in next(single_sets)]) / args.single
    single_designs = space.decode_indices_batch(space.sample_batch(np.random.default_rng(7), args.single, "random"))
    proxy_single = best_time(lambda: [proxy.evaluate(d) for d in single_designs]) / len(single_designs)
    batch = sets["space"]
    sim_batch = best_time(lambda: sim.evaluate_batch(batch)) / len(batch)
    proxy_batch = best_time(lambda: proxy.evaluate_batch(batch)) / len(batch)
    return {
        "env": env_id, "workload": sim.workload, "train_rows": args.train,
        "collect_seconds": summary.seconds, "train_seconds": train_s,
        "trees": {m.metric: m.trees or 0 for m in model.manifest.models},
        "accuracy": accuracy, "held_out_rows": {k: len(v) for k, v in sets.items()},
        "speed_us": {"sim_single": sim_single * 1e6, "proxy_single": proxy_single * 1e6,
                     "sim_batch": sim_batch * 1e6, "proxy_batch": proxy_batch * 1e6, "batch_size": len(batch)},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", "-e", action="append", help="env id (repeatable; default: every registered env)")
    parser.add_argument("--workload", "-w", help="workload for every env given with --env")
    parser.add_argument("--kwarg", "-k", action="append", metavar="KEY=VALUE", help="env keyword (with --env)")
    parser.add_argument("--train", type=int, default=20_000, help="random training designs (default 20000)")
    parser.add_argument("--test", type=int, default=5_000, help="random held-out designs (default 5000)")
    parser.add_argument("--walks", type=int, default=20, help="hill-climbing walks for the trajectory set")
    parser.add_argument("--steps", type=int, default=100, help="steps per walk")
    parser.add_argument("--single", type=int, default=200, help="designs timed one at a time")
    parser.add_argument("--max-rmse-range", type=float, metavar="PCT",
                        help="fail when a metric's RMSE on the space set exceeds PCT %% of its range")
    parser.add_argument("--curve", metavar="N,N,...",
                        help="instead: the learning curve of the first --env, RMSE vs training designs")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args()
    if args.curve:
        return curve_main(args)

    env_ids = [resolve_env_id(e) for e in args.env] if args.env else list(archgym.ENVIRONMENTS)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for env_id in env_ids:
            kwargs = env_kwargs_from_args(args, env_id) if args.env else {}
            print(f"{env_id}: collecting {args.train:,} designs and training ...", file=sys.stderr, flush=True)
            results.append(bench_env(env_id, kwargs, args, Path(tmp)))

    rows, failures = [], []
    for r in results:
        for set_name, score in r["accuracy"].items():
            for m in score["metrics"]:
                def f(v, fmt):
                    return "n/a" if v is None else format(v, fmt)
                rows.append((r["env"], r["workload"], f"{set_name} ({score['rows']:,})", m["metric"], m["transform"],
                             f(m["rmse_pct_range"], ".2f"), f(m["rmse_pct_mean"], ".2f"), f(m["mape_pct"], ".2f"),
                             f(m["r2"], ".4f"), f(m["kendall_tau"], ".4f")))
                if (args.max_rmse_range is not None and set_name == "space" and m["rmse_pct_range"] is not None
                        and m["rmse_pct_range"] > args.max_rmse_range):
                    failures.append(f"{r['env']} {m['metric']}: RMSE {m['rmse_pct_range']:.2f}% of range "
                                    f"> {args.max_rmse_range}%")
    print(f"Proxy accuracy on held-out designs (trained on {args.train:,} random designs; "
          "RMSE as % of the held-out range / mean, MAPE in %)")
    print(table(rows, ("env", "workload", "held-out set", "metric", "target", "RMSE %range", "RMSE %mean", "MAPE %",
                       "R^2", "tau")))
    feasibility = []
    for r in results:
        for set_name, score in r["accuracy"].items():
            f = score["feasibility"]
            if f["kind"] == "classifier":
                recall = "n/a" if f["infeasible_recall"] is None else f"{f['infeasible_recall']:.3f}"
                feasibility.append((r["env"], set_name, f"{score['feasible_rows']:,} of {score['rows']:,}",
                                    f"{f['accuracy']:.3f}", recall))
    if feasibility:
        print("\nFeasibility classifier (envs whose training designs were not all feasible)")
        print(table(feasibility, ("env", "held-out set", "feasible", "accuracy", "infeasible caught")))
    speed = []
    for r in results:
        s = r["speed_us"]
        speed.append((r["env"], f"{s['sim_single']:.1f}", f"{s['proxy_single']:.1f}",
                      f"{s['sim_single'] / s['proxy_single']:.2f}x", f"{s['sim_batch']:.2f}", f"{s['proxy_batch']:.2f}",
                      f"{s['sim_batch'] / s['proxy_batch']:.2f}x", f"{r['train_seconds']:.1f} s"))
    print("\nSpeed per design (us); speed-up = simulator time / proxy time (>1: the proxy is faster)")
    print(table(speed, ("env", "sim single", "proxy single", "speed-up", "sim batch", "proxy batch", "speed-up",
                        "train time")))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    if failures:
        print("\nFAILED the RMSE bar:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    return 0


def curve_main(args: argparse.Namespace) -> int:
    env_id = resolve_env_id(args.env[0] if args.env else "archgym/DRAM-v0")
    kwargs = env_kwargs_from_args(args, env_id) if args.env else {}
    sizes = sorted(int(n) for n in args.curve.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{env_id}: learning curve over {sizes} random designs ...", file=sys.stderr, flush=True)
        curve = learning_curve(env_id, kwargs, sizes, args, Path(tmp))
    metrics = [m["metric"] for m in curve[0]["test"]["metrics"] if m["rmse_pct_range"] is not None]
    rows = []
    for c in curve:
        for name in ("test", "fresh"):
            by = {m["metric"]: m["rmse_pct_range"] for m in c[name]["metrics"]}
            rows.append((f"{c['rows']:,}", f"{name} ({c[name]['rows']:,})", *(f"{by[m]:.2f}" for m in metrics)))
    print(f"RMSE as % of range, {env_id}: the proxy's test split, and {args.test:,} fresh random designs")
    print(table(rows, ("designs", "held-out set", *metrics)))
    if args.json:
        Path(args.json).write_text(json.dumps(curve, indent=2))
    failures = [f"{m['metric']} {m['rmse_pct_range']:.2f}%" for c in curve for m in c["test"]["metrics"]
                if args.max_rmse_range is not None and c["rows"] == args.train and m["rmse_pct_range"] is not None
                and m["rmse_pct_range"] > args.max_rmse_range]
    if failures:
        print(f"\nFAILED the RMSE bar at {args.train:,} designs: " + ", ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
