"""``launch/policy.launch.py`` run against stand-ins for ``launch`` and ``launch_ros`` that record what it builds.

The real stack is not installable from PyPI (``test_policy_launch.py`` runs it where ROS 2 is installed); this
checks the adapter's wiring everywhere: arguments declared, values handed to ``describe``, nodes built from it.
"""

from __future__ import annotations

import runpy
import sys
import types
from pathlib import Path

import pytest

from fpo_ros.launch_config import ARGUMENTS, describe

LAUNCH_FILE = Path(__file__).resolve().parents[2] / "launch" / "policy.launch.py"


class _Recorded:
    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


@pytest.fixture
def launch_stand_ins(monkeypatch):
    """Fake ``launch``/``launch_ros`` modules; ``LaunchConfiguration(name).perform(ctx)`` reads ``ctx[name]``."""
    class LaunchConfiguration:
        def __init__(self, name):
            self.name = name

        def perform(self, context):
            return context[self.name]

    mods = {name: types.ModuleType(name) for name in ("launch", "launch.actions", "launch.substitutions",
                                                      "launch_ros", "launch_ros.actions")}
    mods["launch"].LaunchContext = dict
    mods["launch"].LaunchDescription = _Recorded
    for name in ("DeclareLaunchArgument", "OpaqueFunction", "Shutdown"):
        setattr(mods["launch.actions"], name, type(name, (_Recorded,), {}))
    mods["launch.substitutions"].LaunchConfiguration = LaunchConfiguration
    mods["launch_ros.actions"].Node = type("Node", (_Recorded,), {})
    for name, mod in mods.items():
        monkeypatch.setitem(sys.modules, name, mod)
    return runpy.run_path(str(LAUNCH_FILE))["generate_launch_description"]


def test_the_launch_file_builds_the_described_nodes(launch_stand_ins):
    (actions,) = launch_stand_ins().args
    *declared, opaque = actions
    assert [d.args[0] for d in declared] == [a.name for a in ARGUMENTS]
    assert all(d.kwargs["default_value"] == a.default for d, a in zip(declared, ARGUMENTS))
    values = {a.name: a.default for a in ARGUMENTS} | {"model_path": "m.onnx", "use_sim": "true", "episodes": "2",
                                                       "num_steps": "4", "action_topic": "cmd"}
    nodes = opaque.kwargs["function"](values)
    for node, d in zip(nodes, describe(values), strict=True):
        kw = node.kwargs
        assert (kw["package"], kw["executable"], kw["name"]) == (d.package, d.executable, d.name)
        assert kw["parameters"] == [d.parameters] and kw["remappings"] == d.remappings
        assert ("on_exit" in kw) == d.ends_launch
    policy, sim = nodes
    assert policy.kwargs["parameters"][0]["num_steps"] == 4 and ("action", "cmd") in policy.kwargs["remappings"]
    assert type(sim.kwargs["on_exit"]).__name__ == "Shutdown", "after its episodes the sim must end the launch"
