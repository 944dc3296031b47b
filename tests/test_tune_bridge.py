"""Ray Tune bridges: agents as Searchers, Searchers as agents, and explore_on_ray (evaluations as trials)."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from ray import tune
from ray.tune.search import Searcher
from ray.tune.search.sample import Categorical, Float, Integer

import agents
import archgym
from agents.tune_bridge import AgentSearcher, SearcherAgent, evaluation_from_result, tune_space
from archgym.cluster import _evaluate_design, explore_on_ray
from simulators.core import Choice, DesignSpace, FloatRange, IntRange

ENV_ID = "archgym/Systolic-v0"


def _space() -> DesignSpace:
    return gym.make(ENV_ID).unwrapped.space


class _RandomSearcher(Searcher):
    """A minimal seeded Tune searcher (no library): samples the Tune space it is given."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self.rng = np.random.default_rng(seed)
        self.space: dict | None = None
        self.completed: dict[str, float] = {}

    def set_search_properties(self, metric, mode, config, **spec) -> bool:
        self._metric, self._mode, self.space = metric, mode, config
        return True

    def suggest(self, trial_id):
        return {k: d.sample(random_state=self.rng) for k, d in self.space.items()}

    def on_trial_complete(self, trial_id, result=None, error=False) -> None:
        self.completed[trial_id] = result[self.metric]


class _Recording(agents.get("random_walk")):
    """The random walk, remembering every tell call."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.told: list[tuple[list[dict], list[float]]] = []

    def tell(self, designs, rewards, evaluations) -> None:
        self.told.append(([dict(d) for d in designs], list(rewards)))
        super().tell(designs, rewards, evaluations)


# --------------------------------------------------------------------------------------------------
# The Tune space of a design space
# --------------------------------------------------------------------------------------------------

def test_tune_space_uses_indices_and_fixes_single_values():
    space = DesignSpace([IntRange("rows", 4, 64, power_of_two=True), Choice("dataflow", ["os", "ws", "is"]),
                         Choice("bits", [8]), FloatRange("f", 1e-3, 1.0, log=True),
                         FloatRange("g", 0.0, 1.0, levels=5)])
    ts = tune_space(space)
    assert set(ts) == {"rows", "dataflow", "f", "g"}  # "bits" has one value: fixed, not searched
    assert isinstance(ts["rows"], Integer) and (ts["rows"].lower, ts["rows"].upper) == (0, 5)  # 4..64: 5 values
    assert isinstance(ts["dataflow"], Categorical) and ts["dataflow"].categories == [0, 1, 2]
    assert isinstance(ts["f"], Float) and (ts["f"].lower, ts["f"].upper) == (1e-3, 1.0)
    assert isinstance(ts["g"], Float)  # a float range is searched by value, levels or not

    agent = SearcherAgent(space, seed=0, searcher=_RandomSearcher(0))
    for design in agent.ask(50):
        assert space.validate(design) == design and design["bits"] == 8


def test_evaluation_from_a_flattened_trial_result():
    ev = evaluation_from_result({"reward": 0.5, "feasible": False, "reason": "too big",
                                 "metrics/latency": 2.0, "metrics/area": float("nan")})
    assert ev.metrics["latency"] == 2.0 and np.isnan(ev.metrics["area"])
    assert (ev.feasible, ev.reason) == (False, "too big")
    assert evaluation_from_result({"reward": 1.0}) == evaluation_from_result({"reward": 1.0, "reason": ""})


# --------------------------------------------------------------------------------------------------
# A Tune Searcher as an agent
# --------------------------------------------------------------------------------------------------

def test_any_searcher_acts_as_an_agent_with_exact_budget():
    env = gym.make(ENV_ID)
    runs = []
    for _ in range(2):
        searcher = _RandomSearcher(seed=3)
        runs.append(archgym.explore(env, SearcherAgent(_space(), seed=3, searcher=searcher), budget=23, seed=3))
        assert len(searcher.completed) == 23  # every asked design completed as a trial
        assert sorted(searcher.completed.values()) == sorted(runs[-1].rewards.tolist())
    assert runs[0].evaluations == 23 and np.array_equal(runs[0].rewards, runs[1].rewards)


def test_searcher_agent_errors():
    class _Configured(_RandomSearcher):
        def set_search_properties(self, metric, mode, config, **spec) -> bool:
            return False  # already has a space

    with pytest.raises(ValueError, match="already has a search space"):
        SearcherAgent(_space(), searcher=_Configured(0))
    with pytest.raises(ValueError, match="must be a ray.tune.search.Searcher"):
        SearcherAgent(_space(), searcher=object())
    with pytest.raises(ValueError, match="give a searcher"):
        SearcherAgent(_space(), seed=0)
    agent = SearcherAgent(_space(), seed=0, searcher=_RandomSearcher(0))
    with pytest.raises(ValueError, match="did not ask for"):
        agent.tell([_space().sample(np.random.default_rng(0))], [0.5], [None])


def test_searcher_agents_listed_only_when_their_library_is_installed():
    for name, (library, _) in agents.TUNE_SEARCHERS.items():
        assert (name in agents.available()) == (importlib.util.find_spec(library) is not None), name


@pytest.mark.parametrize("name", ["optuna", "hyperopt", "nevergrad"])
def test_ray_searcher_as_agent_through_explore(name):
    library = agents.TUNE_SEARCHERS[name][0]
    pytest.importorskip(library, reason=f"optional Tune searcher library {library}")
    env = gym.make(ENV_ID)
    runs = [archgym.explore(env, name, budget=25, seed=s) for s in (4, 4, 5)]
    assert all(r.evaluations == 25 and len(r.history) == 25 for r in runs)
    assert runs[0].agent == name
    assert np.array_equal(runs[0].rewards, runs[1].rewards)  # seeded
    assert not np.array_equal(runs[0].rewards, runs[2].rewards)


@pytest.mark.parametrize("name", ["optuna", "hyperopt"])
def test_seeds_beyond_32_bits_work_and_repeat(name):
    """Optuna's samplers and HyperOpt take 32-bit seeds; archgym's are 63-bit (numpy's message used to
    surface, naming no agent, or a sweep trial failed in Ray)."""
    pytest.importorskip(agents.TUNE_SEARCHERS[name][0])
    env = gym.make(ENV_ID)
    runs = [archgym.explore(env, name, budget=6, seed=s, progress=False) for s in (2**32 + 5, 2**32 + 5, 2**63 - 1)]
    assert np.array_equal(runs[0].rewards, runs[1].rewards)
    assert all(r.evaluations == 6 for r in runs)


def test_optuna_bad_hyperparameters():
    pytest.importorskip("optuna", reason="optional Tune searcher library optuna")
    with pytest.raises(ValueError, match="'sampler': .* is not allowed; expected one of"):
        agents.get("optuna")(_space(), seed=0, sampler="cmaes")
    with pytest.raises(ValueError, match="'n_startup_trials': .* is not allowed; expected a non-negative integer"):
        agents.get("optuna")(_space(), seed=0, n_startup_trials=-1)


# --------------------------------------------------------------------------------------------------
# An agent as a Tune Searcher
# --------------------------------------------------------------------------------------------------

def test_agent_searcher_tells_whole_batches_in_ask_order():
    agent = agents.get("aco")(_space(), seed=0, ant_count=3)
    told = []
    original_tell = agent.tell
    agent.tell = lambda d, r, e: (told.append((list(d), list(r))), original_tell(d, r, e))
    batches = []
    searcher = AgentSearcher(agent, budget=7, on_batch=lambda d, r, e: batches.append(list(r)))
    configs = {f"t{i}": searcher.suggest(f"t{i}") for i in range(3)}
    assert searcher.suggest("t3") is None  # waits for the batch before asking again
    for i, tid in enumerate(["t2", "t0", "t1"]):  # finish out of order
        searcher.on_trial_complete(tid, {"reward": float(tid[1:]), "metrics": 1})
        assert len(told) == (1 if i == 2 else 0)
    assert told[0] == ([configs["t0"], configs["t1"], configs["t2"]], [0.0, 1.0, 2.0])
    for i in range(3, 6):
        assert isinstance(searcher.suggest(f"t{i}"), dict)
    searcher.on_trial_complete("t3", {"reward": 3.0})
    searcher.on_trial_complete("t4", error=True)  # a failed trial is left out of the tell
    searcher.on_trial_complete("t5", {"reward": 5.0})
    assert told[1][1] == [3.0, 5.0] and batches == [[0.0, 1.0, 2.0], [3.0, 5.0]]
    last = searcher.suggest("t6")  # the budget leaves one design
    assert isinstance(last, dict) and searcher.suggest("t7") is None
    searcher.on_trial_complete("t6", {"reward": 6.0})
    assert searcher.suggest("t8") == Searcher.FINISHED
    assert (searcher.asked, searcher.told) == (7, 6)


def test_agent_searcher_min_mode_and_errors(tmp_path):
    agent = _Recording(_space(), seed=1)
    searcher = AgentSearcher(agent, metric="latency", mode="min")
    cfg = searcher.suggest("a")
    searcher.on_trial_complete("a", {"latency": 2.5})
    assert agent.told == [([cfg], [-2.5])]  # agents maximise
    searcher.save(str(tmp_path / "s.pkl"))
    again = AgentSearcher(_Recording(_space(), seed=9))
    again.restore(str(tmp_path / "s.pkl"))
    assert again.asked == 1 and again.agent.told == agent.told
    with pytest.raises(ValueError, match="trains on the environment itself"):
        AgentSearcher(agents.get("ppo")(_space(), seed=0))
    with pytest.raises(ValueError, match="mode must be 'max' or 'min'"):
        AgentSearcher(agent, mode="maximise")
    with pytest.raises(ValueError, match="budget must be a positive integer"):
        AgentSearcher(agent, budget=0)


def test_agent_searcher_refuses_a_metric_tune_config_contradicts_and_says_when_ray_gave_none():
    """AgentSearcher(metric="latency", mode="min") under TuneConfig(metric="reward", mode="max") ended on
    reward/max without a word; and with an empty param_space Ray never passes TuneConfig's metric on, so the
    searcher ranked by reward while Tune ranked by latency. The first is refused, the second warned about."""
    agent = _Recording(_space(), seed=1)
    searcher = AgentSearcher(agent, metric="latency", mode="min")
    with pytest.raises(ValueError, match="AgentSearcher was made with metric='latency', but TuneConfig says "
                                         "metric='reward': give it in one place"):
        searcher.set_search_properties("reward", "max", {"tag": 1})
    with pytest.raises(ValueError, match="made with mode='min', but TuneConfig says mode='max'"):
        searcher.set_search_properties("latency", "max", {"tag": 1})
    assert searcher.set_search_properties("latency", "min", {"tag": 1})  # the same in both places
    unset = AgentSearcher(_Recording(_space(), seed=1))
    assert unset.set_search_properties("latency", "min", {"tag": 1}) and (unset.metric, unset.mode) == ("latency",
                                                                                                         "min")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        unset.suggest("a")  # told by Ray: nothing to warn about
        searcher.suggest("a")  # both given here
    with pytest.warns(UserWarning, match=r"ranks trials by 'reward' \(max\), its default: Ray tells a searcher "
                                         "TuneConfig's metric and mode only when param_space is not empty"):
        AgentSearcher(_Recording(_space(), seed=1)).suggest("a")


@pytest.mark.timeout(300)
def test_agent_searcher_drives_a_tuner_to_the_exact_trial_count(ray_session, tmp_path):
    ga = agents.get("ga")(_space(), seed=2, population=4)
    told = []
    searcher = AgentSearcher(ga, budget=10, batch_size=4, on_batch=lambda d, r, e: told.extend(zip(d, r, e)))
    trainable = tune.with_parameters(_evaluate_design, env_id=ENV_ID, env_kwargs={})
    tuner = tune.Tuner(trainable, tune_config=tune.TuneConfig(search_alg=searcher, num_samples=10, reuse_actors=True),
                       run_config=tune.RunConfig(storage_path=str(tmp_path), name="ga", verbose=0))
    results = tuner.fit()
    assert len(results) == 10 and not results.errors
    assert (searcher.asked, searcher.told) == (10, 10) and len(told) == 10
    # what the agent was told is what the simulator says about each design, evaluated here
    env = gym.make(ENV_ID)
    for design, reward, evaluation in told:
        env.reset()
        _, expected, _, _, info = env.step(env.unwrapped.design_to_action(design))
        assert reward == expected and evaluation.feasible == info["feasible"]
        assert evaluation.metrics == pytest.approx(info["metrics"], nan_ok=True)
    assert sorted(r.metrics["reward"] for r in results) == sorted(r for _, r, _ in told)


# --------------------------------------------------------------------------------------------------
# explore_on_ray
# --------------------------------------------------------------------------------------------------

@pytest.mark.timeout(300)
def test_explore_on_ray_matches_explore(ray_session, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = explore_on_ray(ENV_ID, "ga", 8, seed=5, hyperparameters={"population": 4}, storage_path="tune-runs")
    local = archgym.explore(ENV_ID, "ga", 8, seed=5, hyperparameters={"population": 4})
    assert result.evaluations == 8 and len(result.history) == 8
    assert (result.agent, result.env_id, result.hyperparameters) == ("ga", ENV_ID, local.hyperparameters)
    assert [r.design for r in result.records] == [r.design for r in local.records]
    assert np.array_equal(result.rewards, local.rewards) and result.best_reward == local.best_reward
    assert result.best_metrics == local.best_metrics
    assert any(Path(tmp_path, "tune-runs").iterdir())  # a relative storage path lands under the cwd it had


def test_explore_on_ray_errors():
    with pytest.raises(ValueError, match="trains on the environment itself"):
        explore_on_ray(ENV_ID, "ppo", 4)
    with pytest.raises(ValueError, match="budget must be a positive integer"):
        explore_on_ray(ENV_ID, "random_walk", 0)
    with pytest.raises(ValueError, match="cpus_per_trial must be a positive number"):
        explore_on_ray(ENV_ID, "random_walk", 4, cpus_per_trial=0)
    with pytest.raises(ValueError, match="env_id must be a registered env id string"):
        explore_on_ray(gym.make(ENV_ID), "random_walk", 4)


@pytest.mark.timeout(300)
def test_explore_on_ray_refuses_trials_bigger_than_the_cluster(ray_session):
    with pytest.raises(ValueError, match="more than the cluster's 2 CPUs"):
        explore_on_ray(ENV_ID, "random_walk", 4, cpus_per_trial=3)


def test_a_cluster_trial_evaluates_exactly_the_float_it_is_given(monkeypatch):
    """explore_on_ray's trial stepped design_to_action, which rounds a float knob to its levels, and then
    recorded the unrounded design with the rounded design's metrics."""
    import math

    from agents.testing import ToySimulator

    if "test/ToyFloat-v0" not in gym.registry:
        gym.register("test/ToyFloat-v0", entry_point="archgym.envs:make_design_env",
                     kwargs={"simulator": "agents.testing:ToySimulator"})
    reports = []
    monkeypatch.setattr(tune, "report", reports.append)
    design = {"kind": "b", "mode": "hi", "size": 4, "count": 6, "scale": 1.2345, "fixed": 1}  # off its 5 levels
    _evaluate_design(design, env_id="test/ToyFloat-v0", env_kwargs={"targets": {"cost": 1.0}})
    assert reports[0]["metrics"]["cost"] == ToySimulator().evaluate(design).metrics["cost"] == abs(math.log2(1.2345))
