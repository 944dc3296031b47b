"""Env ids outside the built-ins: plug-ins (entry-point group ``archgym.envs``) and ``module:id`` ids in every
command, sweep specs and proxy training; float ranges with levels end to end; and the ids in Ray's registry,
where RLlib's env runners find them."""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import gymnasium as gym
import pytest

import agents
import archgym
from archgym.cli import main
from archgym.config import parse_sweep
from archgym.registry import register_envs

ROOT = Path(__file__).resolve().parent.parent

PLUGIN_MODULE = '''
"""A lab's own cache models (a test plug-in)."""
from simulators.core import Choice, DesignSpace, Direction, Evaluation, FloatRange, IntRange, Metric, Simulator


class L2CacheSimulator(Simulator):
    metrics = (Metric("latency", "s", Direction.MINIMIZE), Metric("area", "mm^2", Direction.MINIMIZE))

    def __init__(self, workload: str = "stream") -> None:
        self.workload = workload
        self.space = DesignSpace([IntRange("size_kb", 64, 1024, power_of_two=True),
                                  IntRange("ways", 2, 16, step=2), Choice("policy", ["lru", "random"])])

    def default_targets(self):
        return {"latency": 3e-9, "area": 2.0}

    def _evaluate(self, design):
        miss = 0.3 * (design["size_kb"] / 64) ** -0.5 * (1 + 1 / design["ways"])
        miss *= 1.1 if design["policy"] == "random" else 1.0
        return Evaluation({"latency": 1e-9 * (1 + 0.05 * design["ways"]) + miss * 20e-9,
                           "area": 0.002 * design["size_kb"] * (1 + 0.03 * design["ways"])})


class TunedCacheSimulator(L2CacheSimulator):
    """The same cache with a supply voltage: a float range on a grid of 6 levels."""

    def __init__(self, workload: str = "stream") -> None:
        super().__init__(workload)
        self.space = DesignSpace([*self.space, FloatRange("vdd", 0.6, 1.1, levels=6, unit="V")])

    def _evaluate(self, design):
        e = super()._evaluate({k: v for k, v in design.items() if k != "vdd"})
        slow = (1.1 / design["vdd"]) ** 1.5
        return Evaluation({"latency": e.metrics["latency"] * slow, "area": e.metrics["area"]})
'''

REGISTERING_MODULE = '''
import gymnasium
if "mylab/Registered-v0" not in gymnasium.registry:
    gymnasium.register("mylab/Registered-v0", entry_point="archgym.envs:make_design_env",
                       kwargs={"simulator": "mylab_envs.cache:L2CacheSimulator"})
'''

ENTRY_POINTS = """\
[archgym.envs]
mylab/L2Cache-v0 = mylab_envs.cache:L2CacheSimulator
mylab/TunedCache-v0 = mylab_envs.cache:TunedCacheSimulator
not an id = mylab_envs.cache:L2CacheSimulator
"""


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    """An installed distribution ``mylab-envs`` with two envs in the ``archgym.envs`` group (on sys.path)."""
    site = tmp_path_factory.mktemp("site")
    (site / "mylab_envs").mkdir()
    (site / "mylab_envs" / "__init__.py").write_text("")
    (site / "mylab_envs" / "cache.py").write_text(PLUGIN_MODULE)
    (site / "mylab_envs" / "registers.py").write_text(REGISTERING_MODULE)
    info = site / "mylab_envs-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mylab-envs\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    with pytest.warns(UserWarning, match="skipping the archgym.envs plug-in 'not an id'"):
        register_envs()
    yield site
    sys.path.remove(str(site))
    for env_id in ("mylab/L2Cache-v0", "mylab/TunedCache-v0", "mylab/Registered-v0"):
        gym.registry.pop(env_id, None)
    for name in [m for m in sys.modules if m.startswith("mylab_envs")]:
        del sys.modules[name]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def test_plugins_are_listed_and_made_by_id(plugin, capsys):
    assert {"mylab/L2Cache-v0", "mylab/TunedCache-v0"} <= set(archgym.registry.plugin_envs())
    out = run(capsys, "list")
    assert "mylab/L2Cache-v0" in out and "L2CacheSimulator" in out and "mylab/TunedCache-v0" in out
    assert "continuous" in out  # the tuned cache has a float knob
    data = json.loads(run(capsys, "list", "--json"))
    assert [e["id"] for e in data["environments"]][:4] == list(archgym.ENVIRONMENTS)
    out = run(capsys, "list", "--env", "L2Cache")  # a short form, as for the built-ins
    assert "mylab/L2Cache-v0 (L2CacheSimulator)" in out and "default targets (stream)" in out
    env = gym.make("mylab/TunedCache-v0")
    assert env.action_space.nvec.tolist() == [5, 8, 2, 6]  # the float range's 6 levels are one more head
    out = run(capsys, "evaluate", "mylab/L2Cache-v0", "-d", "size_kb=256", "ways=4")
    assert "size_kb" in out and "reward:" in out


def test_every_command_takes_a_plugin_env(plugin, capsys, tmp_path):
    data, model = tmp_path / "data", tmp_path / "model"
    for agent in ("ga", "aco", "random_walk"):  # ga and aco need a finite grid: the levels give one
        result = json.loads(run(capsys, "explore", "mylab/TunedCache-v0", "-a", agent, "-b", "24", "--json",
                                "--log", str(data)))
        assert result["evaluations"] == 24 and result["env_id"] == "mylab/TunedCache-v0"
        vdd = result["best_design"]["vdd"]
        if agent == "random_walk":  # samples the range itself, and explore evaluates exactly what it asks
            assert 0.6 <= vdd <= 1.1
        else:
            assert round(vdd, 6) in {round(0.6 + 0.1 * i, 6) for i in range(6)}
    assert agents.get("ppo")(gym.make("mylab/TunedCache-v0").unwrapped.space, seed=0).space.indexable
    optimum = json.loads(run(capsys, "optimum", "mylab/L2Cache-v0", "--json"))
    assert optimum["designs"] == 5 * 8 * 2
    run(capsys, "collect", "mylab/TunedCache-v0", "-n", "300", "--out", str(data), "--quiet")
    out = json.loads(run(capsys, "proxy", "train", str(data), "--env", "mylab/TunedCache-v0", "--out", str(model),
                         "--json"))
    assert out["env"] == "mylab/TunedCache-v0"
    env = gym.make("mylab/TunedCache-v0", backend="proxy", proxy=str(model))
    env.reset(seed=0)
    assert env.step(env.action_space.sample())[4]["feasible"]
    result = json.loads(run(capsys, "explore", "mylab_envs.registers:mylab/Registered-v0", "-a", "random_walk",
                            "-b", "5", "--json"))
    assert result["env_id"] == "mylab/Registered-v0"


def test_sweep_specs_take_plugin_and_module_ids(plugin, tmp_path):
    base = {"name": "mylab", "budget": 10, "agents": {"random_walk": {}}, "run_dir": str(tmp_path / "run")}
    assert parse_sweep({**base, "env": "mylab/L2Cache-v0"}).env_id == "mylab/L2Cache-v0"
    module_id = {"id": "mylab_envs.registers:mylab/Registered-v0"}
    with pytest.raises(ValueError, match=r"list it under 'imports: \[mylab_envs.registers\]'"):
        parse_sweep({**base, "env": module_id})  # importing a module runs its code: only when the spec says so
    spec = parse_sweep({**base, "env": module_id, "imports": ["mylab_envs.registers"]})
    assert spec.env_id == "mylab/Registered-v0" and spec.env_module == "mylab_envs.registers"
    unused = r"imports: \['mylab_envs'\] would not be imported: .*\['mylab_envs.registers'\]"
    with pytest.raises(ValueError, match=unused):
        parse_sweep({**base, "env": module_id, "imports": ["mylab_envs.registers", "mylab_envs"]})
    # what a Ray worker does with the spec: parse it again in a process that never imported the module
    code = ("import json, sys; from archgym.config import parse_sweep; "
            "print(parse_sweep(json.loads(sys.argv[1])).env_id)")
    data = {**spec.to_dict(), "run_dir": str(tmp_path / "run")}
    out = subprocess.run([sys.executable, "-c", code, json.dumps(data)], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin), str(ROOT)])}).stdout
    assert out.strip() == "mylab/Registered-v0"
    with pytest.raises(ValueError, match="env.id: unknown environment 'mylab/Nothing-v0'"):
        parse_sweep({**base, "env": "mylab/Nothing-v0"})


def test_a_fresh_process_registers_plugins_and_ray_ids(plugin):
    """``import archgym`` registers plug-ins; importing Ray's registry afterwards registers every design env
    there (without a running Ray: the registry holds them until ray.init)."""
    code = textwrap.dedent("""
        import sys, gymnasium, archgym
        assert "ray" not in sys.modules
        print("mylab/TunedCache-v0" in gymnasium.registry)
        from ray.tune.registry import ENV_CREATOR, _global_registry
        print([i for i in ("archgym/SoC-v0", "mylab/L2Cache-v0") if _global_registry.contains(ENV_CREATOR, i)])
        make = _global_registry.get(ENV_CREATOR, "mylab/L2Cache-v0")
        print(make({"workload": "random"}).unwrapped.simulator.workload)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin), str(ROOT)])})
    assert proc.stdout.split("\n")[:3] == ["True", "['archgym/SoC-v0', 'mylab/L2Cache-v0']", "random"]
    assert "skipping the archgym.envs plug-in 'not an id'" in proc.stderr


# --- RLlib (a PPO build on a plain id with a remote env runner is docs/clients.md's example, tested) ---

def test_the_module_form_works_in_a_process_that_never_imported_archgym(ray_session):
    """``"archgym:archgym/Systolic-v0"``, RLlib's other way in: gymnasium imports archgym itself."""
    import uuid

    import ray

    def make_in_worker():
        import sys

        import gymnasium

        fresh = "archgym" not in sys.modules
        envs = gymnasium.make_vec("archgym:archgym/Systolic-v0", num_envs=1)
        return fresh, envs.num_envs

    # a runtime env of its own gives the task a new worker process
    task = ray.remote(make_in_worker).options(runtime_env={"env_vars": {"ARCHGYM_TEST": uuid.uuid4().hex}})
    assert ray.get(task.remote()) == (True, 1)


def test_a_built_in_id_made_with_another_simulator_is_refused(plugin, capsys, monkeypatch):
    """`-k simulator=...` on archgym/Systolic-v0, or a module that registers the built-in id again, ran a lab's
    simulator and recorded its evaluations as Systolic-v0's (exit 0). A built-in id now makes only its own
    simulator (or the proxy of it); anything else is refused naming the simulator and the way to a new id."""
    assert main(["evaluate", "archgym/Systolic-v0", "-k", "simulator=mylab_envs.cache:L2CacheSimulator"]) == 2
    err = capsys.readouterr().err
    assert "simulator: archgym/Systolic-v0 is archgym's simulators.systolic:SystolicSimulator env, but this one " \
           "was made with mylab_envs.cache:L2CacheSimulator" in err and "gymnasium.register('mylab/Name-v0'" in err
    with pytest.raises(ValueError, match="simulator: archgym/DRAM-v0 is archgym's"):
        gym.make("archgym/DRAM-v0", simulator="simulators.systolic:SystolicSimulator")
    again = dataclasses.replace(gym.registry["mylab/L2Cache-v0"], id="archgym/Quant-v0")
    monkeypatch.setitem(gym.registry, "archgym/Quant-v0", again)  # the id registered again by other code
    with pytest.raises(ValueError, match="Quant-v0 is archgym's simulators.quant:QuantSimulator env"):
        gym.make("archgym/Quant-v0")
    assert gym.make("archgym/Systolic-v0", simulator="simulators.systolic:SystolicSimulator").spec.id \
        == "archgym/Systolic-v0"  # its own simulator, named
