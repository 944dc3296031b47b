"""Sweep specs: validation names the key (before Ray starts), expansion is deterministic."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from archgym.config import SpecError, load_sweep, parse_sweep

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "configs" / "sweeps").glob("*.yaml"))

GOOD = {
    "name": "t",
    "env": {"id": "archgym/Systolic-v0", "kwargs": {"workload": "alexnet"}},
    "budget": 20,
    "seeds": [0, 1],
    "agents": {
        "random_walk": {},
        "ga": {"hyperparameters": {"population": {"grid": [4, 8]}, "mutation_prob": {"uniform": [0.1, 0.5]},
                                   "crossover_prob": 0.5}, "samples": 3},
        "aco": {"hyperparameters": {"evaporation": {"loguniform": [0.01, 1.0]}, "ant_count": {"choice": [2, 4]}}},
    },
    "tune": {"max_concurrent_trials": 2, "scheduler": {"type": "asha", "grace_period": 5}},
}


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_shipped_specs_are_valid(path):
    spec = load_sweep(path)
    trials = spec.trials()
    assert len(trials) == len({t.trial_id for t in trials}) > 0
    assert spec.run_dir.is_absolute()


def test_expansion(tmp_path):
    spec = parse_sweep(GOOD, base_dir=tmp_path)
    trials = spec.trials()
    by_agent = {a: [t for t in trials if t.agent == a] for a in ("random_walk", "ga", "aco")}
    assert len(by_agent["random_walk"]) == 2  # one setting x two seeds
    assert len(by_agent["ga"]) == 2 * 3 * 2  # grid 2 x samples 3 x seeds 2
    assert len(by_agent["aco"]) == 2  # samples defaults to 1
    ga = [t.hyperparameters for t in by_agent["ga"]]
    assert {h["population"] for h in ga} == {4, 8} and all(h["crossover_prob"] == 0.5 for h in ga)
    assert all(0.1 <= h["mutation_prob"] <= 0.5 for h in ga)
    assert all(0.01 <= t.hyperparameters["evaporation"] <= 1.0 for t in by_agent["aco"])
    assert [t.to_dict() for t in trials] == [t.to_dict() for t in parse_sweep(GOOD, base_dir=tmp_path).trials()]
    assert spec.run_dir == (tmp_path / "runs" / "t").resolve()
    again = parse_sweep(yaml.safe_load(yaml.safe_dump(spec.to_dict())))  # (safe_dump sorts the agents)
    assert sorted(map(str, (t.to_dict() for t in again.trials()))) == sorted(map(str, (t.to_dict() for t in trials)))


def bad(**changes):
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    for dotted, value in changes.items():
        node = data
        *parents, last = dotted.split("__")
        for key in parents:
            node = node[key]
        if value is KeyError:
            del node[last]
        else:
            node[last] = value
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (bad(budget=0), "budget: must be a positive integer, got 0"),
        (bad(budget=KeyError), "missing required key 'budget'"),
        (bad(colour="red"), "unknown key\\(s\\) \\['colour'\\]"),
        (bad(env={"id": "archgym/Nope-v0"}), "env.id: unknown environment 'archgym/Nope-v0'"),
        (bad(env__kwargs={"workload": "lenet"}), "env.kwargs: unknown workload 'lenet'"),
        (bad(agents__sa={}), "agents.sa: unknown agent 'sa'"),
        (bad(agents__ga__hyperparameters__populaton=4),
         "agents.ga.hyperparameters: unknown hyperparameter 'populaton'"),
        (bad(agents__ga__hyperparameters__population={"grid": [4, -1]}),
         "agents.ga.hyperparameters.population.grid: hyperparameter 'population': -1 is not allowed; "
             "expected an integer in \\[2, 100000\\]"),
        (bad(agents__ga__hyperparameters__population={"range": [4, 8]}), "population: a search dimension is one of"),
        (bad(agents__ga__hyperparameters__mutation_prob={"uniform": [0.5, 0.1]}), "needs low < high"),
        (bad(agents__aco__hyperparameters__evaporation={"loguniform": [0.0, 1.0]}), "needs low > 0"),
        (bad(agents__ga__hyperparameters__population={"loguniform": [2, 1e9]}),
         r"population.loguniform: hyperparameter 'population': 1000000000.0 is not allowed; expected an integer in "
         r"\[2, 100000\]"),
        (bad(agents__ga__samples=0), "agents.ga.samples: must be a positive integer"),
        (bad(seeds=[1, 1]), "seeds: must be distinct"),
        (bad(tune__cpus_per_trial=0), "tune.cpus_per_trial: must be a number in \\(0, 64\\]"),
        (bad(tune__scheduler={"type": "hyperband"}), "tune.scheduler: must be null or \\{type: asha"),
        (bad(tune__workers=3), "tune: unknown key\\(s\\) \\['workers'\\]"),
        (bad(optimum="yes"), "optimum: must be true or false"),
        (bad(env__kwargs=[1, 2]), r"env.kwargs: must map keyword names to values \(gym.make's keywords\), got "
                                  r"\[1, 2\]"),
        (bad(env__kwargs={1: 2}), "env.kwargs: must map keyword names to values"),
        (bad(name=""), "name: must be a non-empty name"),
        (bad(name=False), "name: must be a non-empty name"),
        (bad(agents__random_walk={"samples": 5}), r"agents.random_walk.samples: draws the random dimensions"),
        (bad(tune__scheduler={"type": "asha", "grace_period": 20}),
         r"tune.scheduler.grace_period: 20 is not below the budget \(20\)"),
        (bad(seeds=[2**63]), r"seeds: must be at most 9223372036854775807"),
        (bad(tune__scheduler={"type": "asha", "grace_period": 5, "reduction_factor": 1e12}),
         r"tune.scheduler.reduction_factor: .*\(1, 100000\]"),
        (bad(tune__max_failures=10**9), r"tune.max_failures: .*\[0, 100\]"),
        (bad(tune__report_every=20), r"tune.report_every: 20 is not below the budget \(20\): a trial reports only"),
        (bad(imports=["mylab.sims"]), r"imports: \['mylab.sims'\] would not be imported: .* here none"),
        (bad(imports=["simulators.systolic"], env__kwargs__simulator="simulators.quant:QuantSimulator"),
         r"imports: \['simulators.systolic'\] would not be imported: .* here \['simulators.quant'\]"),
        (bad(seeds=10**9), r"seeds: 1000000000 seeds is more trials than a sweep runs \(at most 100,000\)"),
        (bad(agents__ga__hyperparameters__population={"grid": list(range(2, 2000))}, agents__ga__samples=30,
             seeds=2), r"agents: the spec expands to 119,884 trials \(settings x seeds\), more than a sweep runs"),
    ],
)
def test_malformed_specs_name_the_key(data, message):
    with pytest.raises(SpecError, match=message):
        parse_sweep(data, source="spec.yaml")


def test_load_errors(tmp_path):
    with pytest.raises(SpecError, match="does not exist"):
        load_sweep(tmp_path / "missing.yaml")
    (tmp_path / "broken.yaml").write_text("agents: [")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_sweep(tmp_path / "broken.yaml")


def test_bad_spec_fails_before_ray_starts(tmp_path, capsys, monkeypatch):
    """`archgym sweep` on a malformed spec exits 2 naming the key, without touching Ray."""
    import archgym.tune
    from archgym.cli import main

    def no_ray(*args, **kwargs):
        raise AssertionError("Ray was started for a malformed spec")

    monkeypatch.setattr(archgym.tune, "start_ray", no_ray)
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(bad(budget=-5)))
    assert main(["sweep", str(path)]) == 2
    assert "budget: must be a positive integer" in capsys.readouterr().err


def test_resume_refuses_a_spec_that_differs_from_the_one_the_run_was_made_with(tmp_path, capsys, monkeypatch):
    """--resume runs the stored spec: an edited spec file (here a larger budget) would not be applied, so it
    is refused, naming the difference, before Ray starts."""
    import archgym.tune
    from archgym.cli import main
    from archgym.cli.sweeps import _resumable
    from archgym.runs import write_spec

    monkeypatch.setattr(archgym.tune, "start_ray", lambda *a, **k: pytest.fail("Ray started"))
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(dict(GOOD, run_dir=str(tmp_path / "run"))))
    spec = load_sweep(path)
    (tmp_path / "run").mkdir()
    write_spec(tmp_path / "run", spec)
    assert _resumable(load_sweep(path), path) == spec.run_dir  # the same spec: resumed
    path.write_text(yaml.safe_dump(dict(GOOD, run_dir=str(tmp_path / "run"), budget=GOOD["budget"] + 2)))
    assert main(["sweep", str(path), "--resume"]) == 2
    err = capsys.readouterr().err
    assert f"budget={GOOD['budget'] + 2}" in err and f"vs {GOOD['budget']}" in err
    assert "Resume with the run directory" in err


def test_settings_an_agent_refuses_together_fail_before_a_run_directory_exists(tmp_path, monkeypatch):
    """Each value passes on its own; the agent refuses the pair (ga: tournament_size 3 > population 2)."""
    import archgym.tune

    monkeypatch.setattr(archgym.tune, "start_ray", lambda *a, **k: pytest.fail("Ray started"))
    spec = parse_sweep(dict(GOOD, agents={"ga": {"hyperparameters": {"population": {"grid": [8, 2]}}}},
                            run_dir=str(tmp_path / "run")), source="spec.yaml")
    with pytest.raises(SpecError, match=r"agents.ga: setting 1 \{'population': 2\}: ga: tournament_size \(3\) must "
                                        r"be at most population \(2\)"):
        archgym.tune.run_sweep(spec)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(("changes", "message"), [
    # a search over a value every setting ignores: settings that differ in name only (a fake lottery spread)
    ({"agents": {"random_walk": {"hyperparameters": {"restart": {"uniform": [0.2, 1.0]}}, "samples": 3}}},
     r"agents.random_walk.hyperparameters.restart: the agent ignores it in every setting of this sweep: \(acts "
     r"only with mode 'local'; mode is 'uniform'\)"),
    # explore refuses a sequential env: every trial failed after Ray had started (exit 1)
    ({"env": {"id": "archgym/Systolic-v0", "kwargs": {"episode": "sequential"}}},
     r"spec.yaml: env: explore runs agents on one-step episodes"),
])
def test_a_sweep_its_trials_could_not_run_as_meant_fails_before_a_run_directory_exists(tmp_path, monkeypatch,
                                                                                       changes, message):
    import archgym.tune

    monkeypatch.setattr(archgym.tune, "start_ray", lambda *a, **k: pytest.fail("Ray started"))
    spec = parse_sweep({**GOOD, **changes, "run_dir": str(tmp_path / "run")}, source="spec.yaml")
    with pytest.raises(SpecError, match=message):
        archgym.tune.run_sweep(spec)
    assert not (tmp_path / "run").exists()


def test_a_run_directorys_spec_cannot_vouch_for_its_own_code(tmp_path, monkeypatch):
    """A spec file of your own lists the modules it may import; a run directory's spec.yaml (maybe handed
    over) cannot: report and resume import such a module only when it is trusted or imported first."""
    import sys

    from archgym.runs import load_run_spec, write_spec

    (tmp_path / "handmod.py").write_text("from pathlib import Path\nPath(__file__).with_name('ran').write_text('x')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "handmod", raising=False)
    data = dict(GOOD, env={"id": "handmod:archgym/Systolic-v0"}, imports=["handmod"], run_dir=str(tmp_path / "run"))
    with pytest.raises(SpecError, match=r"a run directory's spec cannot vouch for its own code: if you trust it, "
                                        r"pass --import handmod"):
        parse_sweep(data, source="run/spec.yaml", own_imports=False)
    assert not (tmp_path / "ran").exists()
    spec = parse_sweep(data, source="mine.yaml")  # your own spec file: its imports list is your consent
    assert (tmp_path / "ran").exists() and spec.env_module == "handmod"
    (tmp_path / "run").mkdir()
    write_spec(tmp_path / "run", spec)
    assert load_run_spec(tmp_path / "run").env_module == "handmod"  # imported now, so trusted


def test_a_sweep_may_fix_a_hyperparameter_that_acts_in_only_some_of_its_settings(tmp_path, monkeypatch):
    """explore refuses restart without mode=local (one run would ignore it); a grid over mode may fix it,
    and its trials run (each trial builds its agent itself, as Ray's worker does)."""
    from ray import tune

    import archgym
    from archgym.config import check_trial_agents
    from archgym.runs import read_trial, trial_path
    from archgym.tune import run_trial

    spec = parse_sweep(dict(GOOD, run_dir=str(tmp_path / "run"), agents={"random_walk": {"hyperparameters": {
        "mode": {"grid": ["uniform", "local"]}, "restart": 0.1}}}), source="spec.yaml")
    check_trial_agents(spec)
    trials = spec.trials()
    assert [t.hyperparameters["mode"] for t in trials] == ["uniform", "uniform", "local", "local"]
    with pytest.raises(ValueError, match="restart .acts only with mode 'local'; mode is 'uniform'"):
        archgym.explore("archgym/Systolic-v0", "random_walk", budget=2, seed=0, hyperparameters={"restart": 0.1})
    reports = []
    monkeypatch.setattr(tune, "report", reports.append)
    run_trial({"spec": spec.to_dict(), "trial": trials[0].to_dict()})
    record = read_trial(trial_path(spec.run_dir, trials[0].trial_id))
    assert (record.status, record.evaluations, record.hyperparameters["mode"]) == ("done", spec.budget, "uniform")
    assert reports[-1]["evaluations"] == spec.budget


def test_one_driver_per_run_directory_and_a_failed_start_leaves_nothing(tmp_path, monkeypatch):
    """Two sweeps given one run_dir mixed their trials (both exited 0): the driver holds a lock on the run
    directory for its whole run, new or resumed, and claims spec.yaml exclusively."""
    import archgym.tune as tune_mod
    from archgym.io import exclusive_lock
    from archgym.runs import DRIVER_LOCK, SPEC_FILE, write_spec

    run_dir = tmp_path / "a" / "run"
    spec = parse_sweep(dict(GOOD, run_dir=str(run_dir)), source="spec.yaml")

    def no_cluster(*args):
        raise ConnectionError("no Ray cluster at that address")

    monkeypatch.setattr(tune_mod, "start_ray", no_cluster)
    with pytest.raises(ConnectionError):
        tune_mod.run_sweep(spec, address="10.0.0.1:6379")
    assert not (tmp_path / "a").exists()  # the folders it made are gone again

    def too_small(spec):
        raise ValueError("tune.cpus_per_trial is 3.0 but the Ray cluster has 2 CPUs")

    monkeypatch.setattr(tune_mod, "start_ray", lambda *args: None)
    monkeypatch.setattr(tune_mod, "_check_resources", too_small)  # it left spec.yaml and a 'running' state
    with pytest.raises(ValueError, match="cluster has 2 CPUs"):
        tune_mod.run_sweep(spec)
    assert not (tmp_path / "a").exists()
    run_dir.mkdir(parents=True)
    (run_dir / "part-x-00000000-00000.parquet").write_bytes(b"")  # a dataset, say: not a sweep's to write into
    with pytest.raises(ValueError, match=r"run_dir .* is not a sweep's run directory but holds other files "
                                         r"\(part-x-00000000-00000.parquet\): give a new or empty directory"):
        tune_mod.run_sweep(spec)
    (run_dir / "part-x-00000000-00000.parquet").unlink()
    with exclusive_lock(run_dir / DRIVER_LOCK, "test"):  # another driver holds the run directory
        with pytest.raises(ValueError, match=f"run directory {run_dir} is in use by another process"):
            tune_mod.run_sweep(spec)
        assert not (run_dir / SPEC_FILE).exists()
        write_spec(run_dir, spec)
        with pytest.raises(ValueError, match="is in use by another process"):
            tune_mod.resume_sweep(run_dir)
    with pytest.raises(ValueError, match="already holds a sweep"):
        write_spec(run_dir, spec, exclusive=True)


def test_a_signal_during_the_optimum_is_an_interruption_of_the_sweep(tmp_path, monkeypatch):
    """The optimum is computed while the driver still holds the run directory; Ctrl-C there is reported
    as an interruption after every trial (the CLI then says how to finish), not a bare 'interrupted'."""
    import archgym.optimum as optimum_mod
    import archgym.tune as tune_mod
    from archgym.runs import SweepOutcome

    def interrupted(run_dir, progress=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(optimum_mod, "ensure_run_optimum", interrupted)
    outcome = tune_mod._with_optimum(SweepOutcome(run_dir=tmp_path, trials=[]), progress=False)
    assert (outcome.interrupted, outcome.optimum_interrupted) == ("SIGINT", True)
    done = tune_mod._with_optimum(SweepOutcome(run_dir=tmp_path, trials=[], interrupted="SIGTERM"), progress=False)
    assert not done.optimum_interrupted  # an interrupted sweep computes no optimum


def test_a_spec_that_already_ran_resumes_even_with_an_imports_entry_a_new_sweep_refuses():
    data = dict(GOOD, imports=["mylab.sims"])
    with pytest.raises(SpecError, match="would not be imported"):
        parse_sweep(data, source="spec.yaml")
    assert parse_sweep(data, source="spec.yaml", resuming=True).imports == ("mylab.sims",)


def test_an_embedded_ray_larger_than_the_machine_is_announced():
    """tune.num_cpus above the machine's CPUs runs more trials at once than it has cores: their wall
    times are then not comparable, so the sweep says so (unless max_concurrent_trials keeps it within)."""
    from archgym.tune import _oversubscription

    def tune(**kw):
        return parse_sweep({**GOOD, "tune": kw}).tune

    assert _oversubscription(tune(num_cpus=64), 2).startswith("tune.num_cpus is 64 but this machine has 2 CPUs: "
                                                             "Ray runs up to 64 trials at once")
    assert _oversubscription(tune(num_cpus=64, cpus_per_trial=16), 2).startswith("tune.num_cpus is 64 but this "
                                                                                 "machine has 2 CPUs: Ray runs up to 4")
    assert _oversubscription(tune(num_cpus=64, max_concurrent_trials=2), 2) is None
    assert _oversubscription(tune(num_cpus=2), 2) is None and _oversubscription(tune(), 2) is None
