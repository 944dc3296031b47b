"""Ask/tell agents and the explore loop: exact budgets, reproducibility, plug-ins, clear errors."""

from __future__ import annotations

import json
import sys
import textwrap

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import agents
import archgym
from agents import Agent, Hyperparameter
from agents.aco import AntColony
from agents.genetic import GeneticAlgorithm
from archgym.explore import ExploreResult
from simulators.core import Choice, DesignSpace, Evaluation, FloatRange, IntRange

ASK_TELL = ["random_walk", "bayesopt", "ga", "aco", "nsga2"]
FAST = {"bayesopt": {"n_initial_points": 5, "n_points": 200}}


@pytest.fixture(scope="module")
def env():
    return gym.make("archgym/Systolic-v0", workload="resnet18")


def test_registry_lists_the_builtin_agents():
    assert {"random_walk", "bayesopt", "ga", "aco", "ppo", "nsga2"} <= set(agents.available())
    assert agents.get("ga") is GeneticAlgorithm
    with pytest.raises(ValueError, match="unknown agent 'sa'.*random_walk"):
        agents.get("sa")


@pytest.mark.parametrize("name", ASK_TELL)
@pytest.mark.parametrize("budget", [1, 37])
def test_budget_is_exact(env, name, budget):
    result = archgym.explore(env, name, budget=budget, seed=3, hyperparameters=FAST.get(name))
    assert isinstance(result, ExploreResult)
    assert result.evaluations == budget == len(result.history) == len(result.rewards) == len(result.records)
    assert [r.step for r in result.records] == list(range(1, budget + 1))
    assert np.all(np.diff(result.history) >= 0)
    assert result.best_reward == result.rewards.max() == result.history[-1]
    best = result.records[int(np.argmax(result.rewards))]
    assert result.best_design == best.design and result.best_metrics == best.metrics
    assert env.unwrapped.space.validate(result.best_design) == result.best_design


@pytest.mark.parametrize("name", ASK_TELL)
def test_same_seed_same_history(env, name):
    runs = [archgym.explore(env, name, budget=40, seed=s, hyperparameters=FAST.get(name)) for s in (5, 5, 6)]
    assert np.array_equal(runs[0].rewards, runs[1].rewards)
    assert [r.design for r in runs[0].records] == [r.design for r in runs[1].records]
    assert not np.array_equal(runs[0].rewards, runs[2].rewards)


@pytest.mark.parametrize(
    ("name", "hyper", "message"),
    [
        ("ga", {"population": -4}, r"ga: hyperparameter 'population': -4 is not allowed; expected an integer in \[2, "),
        ("ga", {"population": 8, "elites": 8}, "elites \\(8\\) must be smaller than population"),
        ("ga", {"crossover_prob": 1.5}, "'crossover_prob': 1.5 is not allowed; expected a number in \\[0, 1\\]"),
        ("bayesopt", {"base_estimator": "SVM"},
         "'base_estimator': 'SVM' is not allowed; expected one of 'GP', 'RF', 'ET', 'GBRT'"),
        ("bayesopt", {"acq_optimizer": "lbfgs", "base_estimator": "ET"}, "lbfgs' needs base_estimator 'GP'"),
        ("aco", {"ant_count": 0}, "'ant_count': 0 is not allowed; expected a positive integer"),
        ("aco", {"evaporation": "fast"}, "'evaporation': 'fast' is not allowed; expected a number in"),
        ("random_walk", {"mode": "levy"}, "'mode': 'levy' is not allowed; expected one of"),
        ("random_walk", {"temperature": 1}, "unknown hyperparameter\\(s\\) \\['temperature'\\]"),
        ("ga", {"population": 2.5}, "'population': 2.5 is not allowed; expected an integer"),
        ("nsga2", {"population": 30}, "nsga2: population must be a multiple of 4"),
        ("nsga2", {"log_scale": "yes"}, "'log_scale': 'yes' is not allowed"),
        ("bayesopt", {"refit_growth": -0.1}, "'refit_growth': -0.1 is not allowed; expected a non-negative number"),
        # sizes that are built at once have a ceiling: 10**12 individuals used to hang ga and exhaust memory
        ("ga", {"population": 10**12}, r"'population': 1000000000000 is not allowed; expected an integer in \[2, "),
        ("nsga2", {"population": 10**12}, r"expected an integer in \[4, 100000\]"),
        ("bayesopt", {"n_points": 10**12}, r"'n_points': 1000000000000 is not allowed; expected an integer in \[10, 1"),
        ("bayesopt", {"n_trees": 10**12}, r"'n_trees': 1000000000000 is not allowed; expected an integer in \[1, "),
    ],
)
def test_bad_hyperparameters_are_clear_errors(env, name, hyper, message):
    with pytest.raises(ValueError, match=message):
        agents.get(name)(env.unwrapped.space, seed=0, **hyper)


def test_bad_seed_and_ask():
    space = DesignSpace([IntRange("x", 0, 3)])
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 9223372036854775807\]"):
        agents.get("aco")(space, seed=-1)
    with pytest.raises(ValueError, match="ask\\(n\\) needs a positive integer"):
        agents.get("aco")(space, seed=0).ask(0)
    with pytest.raises(ValueError, match="needs a discrete design space"):
        agents.get("ga")(DesignSpace([FloatRange("x", 0, 1)]))


def test_explore_errors(env):
    with pytest.raises(ValueError, match="budget must be a positive integer"):
        archgym.explore(env, "random_walk", budget=0)
    other = agents.get("random_walk")(DesignSpace([IntRange("x", 0, 3)]), seed=0)
    with pytest.raises(ValueError, match="different design space"):
        archgym.explore(env, other, budget=3)
    with pytest.raises(ValueError, match="needs an archgym DesignEnv"):
        archgym.explore(gym.make("CartPole-v1"), "random_walk", budget=3)
    with pytest.raises(ValueError, match="hyperparameters only apply"):
        archgym.explore(env, other, budget=3, hyperparameters={"mode": "local"})


def test_explore_by_env_id_with_log_and_callback():
    seen, logged = [], []

    class Sink:
        def append(self, **row):
            logged.append(row)

    result = archgym.explore("archgym/Systolic-v0", "ga", budget=50, seed=1, env_kwargs={"workload": "alexnet"},
                             log=Sink(), callback=lambda rec, res: seen.append((rec.step, res.evaluations)))
    assert result.env_id == "archgym/Systolic-v0" and result.workload == "alexnet"
    assert [row["step"] for row in logged] == list(range(1, 51))
    assert all(isinstance(row["evaluation"], Evaluation) for row in logged)
    assert seen == [(i, i) for i in range(1, 51)]
    assert result.summary()["evaluations"] == 50


def test_target_met_at_counts_evaluations():
    env = gym.make("archgym/Systolic-v0", targets={"latency": 1.0})  # every design meets it
    result = archgym.explore(env, "random_walk", budget=5, seed=0)
    assert result.target_met_at == 1 and result.best_reward == 1.0


# -- agent internals ----------------------------------------------------------------------------------


def small_space() -> DesignSpace:
    return DesignSpace([IntRange("a", 0, 9), Choice("b", ["x", "y", "z"]), IntRange("c", 1, 64, power_of_two=True),
                        Choice("d", [True])])


@settings(max_examples=50, deadline=None)
@given(rewards=st.lists(st.floats(-1e9, 1e9), min_size=1, max_size=80), seed=st.integers(0, 100))
def test_aco_pheromone_stays_positive_for_any_reward_sign(rewards, seed):
    aco = AntColony(small_space(), seed=seed, ant_count=4, evaporation=1.0)
    for r in rewards:
        design = aco.ask(1)
        aco.tell(design, [r], [Evaluation({})])
    assert all(np.all(tau > 0) for tau in aco.pheromone)


def test_aco_converges_on_the_best_design():
    space = small_space()
    aco = AntColony(space, seed=0, ant_count=8, evaporation=0.3, greediness=0.8)
    target = {"a": 7, "b": "z", "c": 16, "d": True}
    for _ in range(40):
        designs = aco.ask(8)
        aco.tell(designs, [-sum(d[k] != target[k] for k in target) for d in designs], [Evaluation({})] * 8)
    picks = aco.ask(20)
    assert sum(p == target for p in picks) >= 10


def test_ga_genomes_reach_every_value():
    space = small_space()
    ga = GeneticAlgorithm(space, seed=0, population=10, mutation_prob=1.0)
    seen = {name: set() for name in space.names}
    for _ in range(30):
        designs = ga.ask(10)
        for d in designs:
            for k, v in d.items():
                seen[k].add(v)
        ga.tell(designs, [float(d["a"]) for d in designs], [Evaluation({})] * 10)
    for p in space:
        assert seen[p.name] == set(p.values)


def test_ga_improves_over_generations():
    space = small_space()
    ga = GeneticAlgorithm(space, seed=1, population=12)
    first = None
    for _ in range(15):
        designs = ga.ask(12)
        rewards = [d["a"] + np.log2(d["c"]) for d in designs]
        first = first if first is not None else np.mean(rewards)
        ga.tell(designs, rewards, [Evaluation({})] * 12)
    assert np.mean(rewards) > first + 3


def test_bayesopt_handles_mixed_spaces():
    space = DesignSpace([IntRange("a", 0, 9), Choice("b", ["x", "y"]), FloatRange("v", 0.1, 10, log=True),
                         Choice("fixed", [4])])
    bo = agents.get("bayesopt")(space, seed=0, n_initial_points=3, n_points=100)
    for _ in range(8):
        d = bo.ask(1)
        assert space.validate(d[0]) == d[0]
        bo.tell(d, [-(d[0]["a"] - 3) ** 2 - abs(np.log(d[0]["v"]))], [Evaluation({})])
    assert bo.result_points == 8
    batch = bo.ask(3)
    assert len(batch) == 3


def test_bayesopt_forest_predictions_are_scikit_optimizes_and_leaves_learn_between_refits():
    from skopt.learning import ExtraTreesRegressor, RandomForestRegressor

    from agents.bayesopt import _ForestPredictor

    rng = np.random.default_rng(0)
    x, y, c = rng.random((120, 6)), rng.random(120), rng.random((300, 6))
    for cls in (ExtraTreesRegressor, RandomForestRegressor):
        forest = cls(n_estimators=12, min_samples_leaf=3, random_state=0).fit(x, y)
        want_mean, want_std = forest.predict(c, return_std=True)
        got_mean, got_std = _ForestPredictor(forest).predict(c, return_std=True)
        np.testing.assert_allclose(got_mean, want_mean, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(got_std, want_std, rtol=1e-9, atol=1e-12)
    # fitted on 80 points and told the other 40: each leaf's mean and variance are those of all 120 it holds
    forest = ExtraTreesRegressor(n_estimators=5, min_samples_leaf=3, random_state=0).fit(x[:80], y[:80])
    model = _ForestPredictor(forest)
    model.update(x[80:], y[80:])
    mean, second = np.zeros(len(c)), np.zeros(len(c))
    for tree in forest.estimators_:
        held, asked = tree.apply(x.astype(np.float32)), tree.apply(c.astype(np.float32))
        leaf_mean = np.array([y[held == leaf].mean() for leaf in asked])
        mean += leaf_mean / 5
        second += (np.array([y[held == leaf].var() for leaf in asked]) + leaf_mean**2) / 5
    got_mean, got_std = model.predict(c, return_std=True)
    np.testing.assert_allclose(got_mean, mean, atol=1e-12)
    np.testing.assert_allclose(got_std, np.sqrt(np.maximum(second - mean**2, 0)), atol=1e-9)


def test_bayesopt_refits_on_its_schedule():
    space = small_space()

    def fits(growth):
        bo = agents.get("bayesopt")(space, seed=0, n_initial_points=5, n_points=50, refit_growth=growth, n_trees=5,
                                    random_fraction=0.0)
        for _ in range(60):
            d = bo.ask(1)
            bo.tell(d, [float(d[0]["a"])], [Evaluation({})])
        return bo.fits

    assert fits(0.0) == 55  # after every evaluation once the 5 initial designs are told
    # growth 0.5: fitted on 5, 8, 12, 18, 27 and 41 evaluations (each time 50% more, rounded up)
    assert fits(0.5) == 6


@pytest.mark.parametrize("hyper", [{"acq_optimizer": "sampling"}, {"acq_optimizer": "sampling", "acq_func": "gp_hedge"},
                                   {"acq_optimizer": "lbfgs", "base_estimator": "GP"}, {"base_estimator": "GBRT"},
                                   {"base_estimator": "RF", "acq_func": "LCB"}, {"acq_func": "PI"}])
def test_bayesopt_other_settings_search_mixed_spaces(hyper):
    """Every surrogate and acquisition setting proposes valid, fresh designs (GP with lbfgs and gp_hedge through
    scikit-optimize's own Optimizer)."""
    space = DesignSpace([IntRange("a", 0, 9), Choice("b", ["x", "y", "z"]), FloatRange("v", 0.1, 10, log=True),
                         Choice("fixed", [4])])
    bo = agents.get("bayesopt")(space, seed=0, n_initial_points=3, n_points=30, **hyper)
    rewards = []
    for _ in range(7):
        d = bo.ask(1)
        assert space.validate(d[0]) == d[0]
        rewards.append(-(d[0]["a"] - 3) ** 2 - abs(np.log(d[0]["v"])))
        bo.tell(d, rewards[-1:], [Evaluation({})])
    assert bo.result_points == 7 and len({tuple(sorted(x.items())) for x in bo.ask(3)}) == 3


def test_objectives_are_metrics_told_by_explore(env):
    from simulators.core import Direction, Metric

    agent = agents.get("nsga2")(env.unwrapped.space, seed=0, population=8)
    archgym.explore(env, agent, budget=16, seed=0)
    targets = [t.metric for t in env.unwrapped.objective.targets]
    assert [m.name for m in agent.objectives] == targets == ["latency", "energy", "area"]
    assert all(m.direction is Direction.MINIMIZE for m in agent.objectives)
    rw = agents.get("random_walk")(env.unwrapped.space, seed=0)
    with pytest.raises(ValueError, match="objectives must be simulators.core.Metric objects"):
        rw.set_objectives(["latency"])
    with pytest.raises(ValueError, match="name a metric twice"):
        rw.set_objectives([Metric("x", ""), Metric("x", "")])
    with pytest.raises(ValueError, match="before the search starts"):
        agent.set_objectives(agent.objectives)


def test_nsga2_refuses_evaluations_without_its_objectives():
    from simulators.core import Metric

    nsga2 = agents.get("nsga2")(small_space(), seed=0, population=4)
    nsga2.set_objectives([Metric("cost", ""), Metric("size", "")])
    designs = nsga2.ask(4)
    with pytest.raises(ValueError, match="nsga2: the evaluation has no metric 'size'"):
        nsga2.tell(designs, [0.0] * 4, [Evaluation({"cost": 1.0})] * 4)


def test_nsga2_ranks_infeasible_designs_last_and_skips_repeats():
    from simulators.core import Metric

    space = DesignSpace([IntRange("a", 0, 3), IntRange("b", 0, 3)])  # 16 designs
    nsga2 = agents.get("nsga2")(space, seed=1, population=8)
    nsga2.set_objectives([Metric("a", ""), Metric("b", "")])
    seen = []
    for _ in range(2):
        designs = nsga2.ask(8)
        seen += [tuple(d.values()) for d in designs[:]]
        evaluations = [Evaluation({"a": float(d["a"]), "b": float(d["b"])}, feasible=d["a"] + d["b"] > 1,
                                  reason=None if d["a"] + d["b"] > 1 else "too small") for d in designs]
        nsga2.tell(designs, [0.0] * 8, evaluations)
    # the survivors: feasible ones first (the front a + b = 2), infeasible ones only to fill
    survivors = [tuple(m) for m in nsga2._population]
    feasible = [s for s in survivors if sum(s) > 1]
    assert survivors[: len(feasible)] == feasible
    assert len(set(seen[8:]) & set(seen[:8])) <= 2  # offspring are re-mutated away from evaluated designs


def test_random_walk_local_moves_one_knob():
    space = small_space()
    rw = agents.get("random_walk")(space, seed=0, mode="local", restart=0.0)
    start = rw.ask(1)
    rw.tell(start, [1.0], [Evaluation({})])
    for d in rw.ask(20):
        assert sum(d[k] != start[0][k] for k in d) == 1


# -- plug-ins ------------------------------------------------------------------------------------------


class Greedy(Agent):
    """A user's agent: always proposes the design with every knob at its largest value."""

    name = "greedy"
    hyperparameters = {"step": Hyperparameter(1, int, 1, None)}

    def ask(self, n=1):
        return [self.space.decode_indices(self.space.nvec - 1) for _ in range(n)]

    def tell(self, designs, rewards, evaluations):
        pass


def test_registered_class_runs_through_explore(env):
    agents.register("greedy-test", Greedy)
    assert "greedy-test" in agents.available()
    result = archgym.explore(env, "greedy-test", budget=4, seed=0)
    assert result.evaluations == 4 and result.best_design["rows"] == 256
    with pytest.raises(ValueError, match="built-in agent"):
        agents.register("ga", Greedy)


def test_entry_point_plugin_from_another_package(tmp_path, monkeypatch, env):
    """A third-party package declares ``[project.entry-points."archgym.agents"]``; we find it unmodified."""
    pkg = tmp_path / "mylab_agents"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(textwrap.dedent('''
        from agents import Agent

        class Corner(Agent):
            name = "corner"

            def ask(self, n=1):
                return [self.space.decode_indices([0] * len(self.space)) for _ in range(n)]

            def tell(self, designs, rewards, evaluations):
                pass
    '''))
    dist = tmp_path / "mylab_agents-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mylab-agents\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[archgym.agents]\ncorner = mylab_agents:Corner\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "corner" in agents.available()
    cls = agents.get("corner")
    assert cls.__module__ == "mylab_agents"
    result = archgym.explore(env, "corner", budget=3, seed=0)
    assert result.best_design["rows"] == 4
    (dist / "entry_points.txt").write_text("[archgym.agents]\nbroken = mylab_agents:Missing\n")
    with pytest.raises(ValueError, match="agent plug-in 'broken'.*failed to load"):
        agents.get("broken")
    sys.modules.pop("mylab_agents", None)


def test_plugins_named_like_built_ins_are_ignored_aloud_and_broken_ones_listed_as_such(tmp_path, monkeypatch,
                                                                                       capsys):
    from archgym.cli import main
    from archgym.registry import plugin_envs

    dist = tmp_path / "clash-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: clash\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[archgym.agents]\nga = clash_mod:FakeGA\nbroken = clash_mod:Missing\n"
                                           "[archgym.envs]\narchgym/Systolic-v0 = clash_mod:Fake\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.warns(UserWarning, match="ignoring the archgym.agents plug-in 'ga' = 'clash_mod:FakeGA': 'ga' is "
                                         "a built-in agent"):
        assert agents.get("ga") is agents.get("ga") and "broken" in agents.available()
    with pytest.warns(UserWarning, match="ignoring the archgym.envs plug-in 'archgym/Systolic-v0'"):
        assert "archgym/Systolic-v0" not in plugin_envs()
    assert main(["list", "--json"]) == 0  # (each clash is warned about once per process)
    data = json.loads(capsys.readouterr().out)
    assert "broken" not in data["agents"] and "failed to load" in data["agents_failed"]["broken"]
    assert main(["list"]) == 0
    assert "\nagent plug-in 'broken' (clash_mod:Missing) failed to load: " in capsys.readouterr().out


@pytest.mark.parametrize(("batch", "message"), [(0, "batch_size 0; it must be an integer >= 1"),
                                                 (None, "batch_size None")])
def test_explore_refuses_an_agent_batch_size_that_would_never_finish(env, batch, message):
    agent = Greedy(env.unwrapped.space, seed=0)
    type(agent).batch_size = property(lambda self: batch)
    try:
        with pytest.raises(RuntimeError, match=message):
            archgym.explore(env, agent, budget=3, seed=0)
    finally:
        del type(agent).batch_size


def test_an_agents_invalid_design_is_the_agents_fault(env):
    class Wild(Greedy):
        def ask(self, n=1):
            return [dict(self.space.decode_indices(self.space.nvec - 1), rows=3) for _ in range(n)]

    with pytest.raises(RuntimeError, match="agent 'greedy' proposed a design its space does not allow: .*'rows'"):
        archgym.explore(env, Wild(env.unwrapped.space, seed=0), budget=2, seed=0)


def test_aco_restart_resets_the_trails_after_stagnation_and_keeps_the_best():
    space = small_space()
    aco = AntColony(space, seed=0, ant_count=4, restart=3)
    best = {"a": 7, "b": "z", "c": 16, "d": True}
    aco.tell([best] + aco.ask(3), [1.0, 0.0, 0.0, 0.0], [Evaluation({})] * 4)  # an iteration that improves
    for stale in (1, 2, 3):  # then three that do not
        aco.tell(aco.ask(4), [0.0] * 4, [Evaluation({})] * 4)
        uniform = all(np.all(tau == tau[0]) for tau in aco.pheromone)
        assert uniform == (stale == 3)
    aco.tell(aco.ask(4), [0.0] * 4, [Evaluation({})] * 4)  # the next update reinforces the kept best again
    assert all(tau[i] == tau.max() > np.min(tau) for tau, i in zip(aco.pheromone, space.encode_indices(best))
               if len(tau) > 1)
