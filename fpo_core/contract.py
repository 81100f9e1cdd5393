"""The deployment contract an exported policy carries in its ONNX metadata (no torch needed).

Layout: one ``metadata_props`` entry per field, the key is the field name and the value is the
field JSON-encoded. Graph outputs are always *unsquashed*; the runtime applies ``squash``.
A fused K-step sampler lives in a second file next to the main one (``fused_file``), because ONNX
Runtime evaluates a whole graph whatever outputs are asked for; it carries the same metadata plus
``GRAPH_ROLE_KEY``: ``FUSED_ROLE`` (``"fused"`` JSON-encoded).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from fpo_core import __version__
from fpo_core.actions import SQUASHES
from fpo_core.errors import PolicyFileError, UsageError
from fpo_core.integrators import INTEGRATORS

if TYPE_CHECKING:
    from fpo_core.checkpoint import LoadedPolicy

FORMAT_VERSION = 1
TIME_CONVENTION = "tau=0 noise, tau=1 action"
KINDS = ("flow", "gaussian")
NOISES = ("zero", "random")
ALGORITHMS = ("fpo", "gaussian", "dppo")
FLOW_IO = (["observation", "x", "tau"], ["velocity"])
GAUSSIAN_IO = (["observation"], ["action_mean"])
FUSED_IO = (["observation", "x0"], ["action"])
GRAPH_ROLE_KEY = "graph_role"
FUSED_ROLE = json.dumps("fused")
"""``GRAPH_ROLE_KEY``'s value in a fused file, JSON-encoded like every other value (older exports held a bare ``fused``,
which ``is_fused`` still recognises)."""
CONTROL_PERIOD_S = (1e-4, 3600.0)
"""The control periods a deployment can run: 10 kHz (the policy node's highest rate) to an hour."""
MAX_NUM_STEPS = 10_000
"""The most integration steps a deployment (the policy node, ``fpo demo``'s ROS part) accepts per action; ``fpo eval
--num-steps`` and ``fpo export --fused-steps`` take no more."""


def is_fused(meta: dict[str, str]) -> bool:
    """Whether ``metadata_props`` are a fused companion graph's (JSON ``"fused"``, or the bare ``fused`` of older exports)."""
    return meta.get(GRAPH_ROLE_KEY) in (FUSED_ROLE, "fused")


def check_step_count(num_steps: int, option: str) -> None:
    """Refuse a step count ``option`` gave that no deployment runs: a slip such as 10⁹ would integrate, or trace a fused
    graph, for days."""
    if not 1 <= num_steps <= MAX_NUM_STEPS:
        raise UsageError(f"{option} must be in 1..{MAX_NUM_STEPS:,} (integration steps K per action), got {num_steps}")


@dataclass
class PolicyContract:
    """Everything a deployment needs to run an exported policy; see the module docstring for the layout.

    ``input_names``/``output_names`` name the main graph: flow ``v(observation, x, tau) → velocity``,
    gaussian ``observation → action_mean``. The fused graph (``fused_file``, when ``fused_steps`` is
    set) is ``(observation, x0) → action``: the unsquashed ``x_1`` after ``fused_steps`` steps of
    ``fused_integrator``. Observations are raw: the normaliser is inside every graph.
    """

    kind: str
    obs_dim: int
    act_dim: int
    action_low: list[float]
    action_high: list[float]
    squash: str
    num_steps: int
    integrator: str
    noise: str
    control_period_s: float
    env_id: str
    algorithm: str
    training_steps: int
    joint_names: list[str]
    input_names: list[str]
    output_names: list[str]
    gaussian_std: Optional[list[float]] = None
    fused_steps: Optional[int] = None
    fused_integrator: Optional[str] = None
    fused_file: Optional[str] = None
    time_convention: str = TIME_CONVENTION
    package_version: str = __version__
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``PolicyFileError`` naming the first field that is inconsistent."""
        problems = [
            (self.format_version == FORMAT_VERSION, f"format_version {self.format_version!r} is not {FORMAT_VERSION}"),
            (self.kind in KINDS, f"kind {self.kind!r} is not one of {KINDS}"),
            (self.algorithm in ALGORITHMS, f"algorithm {self.algorithm!r} is not one of {ALGORITHMS}"),
            (self.squash in SQUASHES, f"squash {self.squash!r} is not one of {SQUASHES}"),
            (self.integrator in INTEGRATORS, f"integrator {self.integrator!r} is not one of {INTEGRATORS}"),
            (self.noise in NOISES, f"noise {self.noise!r} is not one of {NOISES}"),
            (self.time_convention == TIME_CONVENTION, f"time_convention {self.time_convention!r} is not {TIME_CONVENTION!r}"),
            (_pos_int(self.obs_dim) and _pos_int(self.act_dim), f"obs_dim {self.obs_dim!r} and act_dim {self.act_dim!r} must be integers >= 1"),
            (_pos_int(self.num_steps), f"num_steps {self.num_steps!r} must be an integer >= 1"),
            (_numbers(self.action_low, self.act_dim) and _numbers(self.action_high, self.act_dim)
             and all(lo <= hi for lo, hi in zip(self.action_low, self.action_high)),
             f"action_low and action_high must be {self.act_dim} finite numbers each, low <= high"),
            (isinstance(self.joint_names, list) and len(self.joint_names) == self.act_dim
             and all(isinstance(n, str) for n in self.joint_names), f"joint_names must be {self.act_dim} strings"),
            (self.gaussian_std is None or (_numbers(self.gaussian_std, self.act_dim) and all(s > 0 for s in self.gaussian_std)),
             f"gaussian_std must be {self.act_dim} finite numbers > 0"),
            (_number(self.control_period_s) and CONTROL_PERIOD_S[0] <= self.control_period_s <= CONTROL_PERIOD_S[1],
             f"control_period_s {self.control_period_s!r} must be a number in [{CONTROL_PERIOD_S[0]:g}, "
             f"{CONTROL_PERIOD_S[1]:g}] seconds"),
            (isinstance(self.training_steps, int) and not isinstance(self.training_steps, bool) and self.training_steps >= 0,
             f"training_steps {self.training_steps!r} must be an integer >= 0"),
            (isinstance(self.env_id, str) and self.env_id != "", f"env_id {self.env_id!r} must be a gymnasium id"),
            ((self.fused_steps is None) == (self.fused_integrator is None) == (self.fused_file is None),
             "fused_steps, fused_integrator and fused_file must be all set or all null"),
            (self.fused_steps is None or (_pos_int(self.fused_steps) and self.fused_integrator in INTEGRATORS and self.kind == "flow"),
             f"fused graph ({self.fused_steps!r} steps of {self.fused_integrator!r}) needs a flow policy, steps >= 1 and a known integrator"),
        ]
        for ok, message in problems:
            if not ok:
                raise PolicyFileError(f"invalid policy contract: {message}")

    def to_metadata(self) -> dict[str, str]:
        """ONNX ``metadata_props``: field name → JSON-encoded value."""
        return {k: json.dumps(v) for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_metadata(cls, meta: dict[str, str]) -> "PolicyContract":
        """Parse and validate ``metadata_props``; keys that are not fields are ignored."""
        if "format_version" not in meta:
            raise PolicyFileError("the model has no fpo metadata (format_version missing); export it with `fpo export RUN -o FILE.onnx`")
        version = _decode("format_version", meta["format_version"])
        if version != FORMAT_VERSION:
            raise PolicyFileError(f"the model has fpo metadata format_version {version!r}; this fpo {__version__} reads version "
                                  f"{FORMAT_VERSION}: re-export it with this fpo, or install the fpo that wrote it")
        names = [f.name for f in dataclasses.fields(cls)]
        missing = [n for n in names if n not in meta]
        if missing:
            raise PolicyFileError(f"the model's fpo metadata lacks {', '.join(missing)}; re-export it with `fpo export`")
        values = {n: _decode(n, meta[n]) for n in names}
        try:
            return cls(**values)
        except TypeError as e:
            raise PolicyFileError(f"the model's fpo metadata is malformed ({e}); re-export it with `fpo export`") from None

    @classmethod
    def from_loaded(cls, loaded: "LoadedPolicy", fused_steps: Optional[int] = None, fused_integrator: Optional[str] = None,
                    fused_file: Optional[str] = None) -> "PolicyContract":
        """The contract of a checkpointed policy (``fpo_core.checkpoint.LoadedPolicy``)."""
        info, spec, kind = loaded.policy.deploy_info(), loaded.spec, loaded.policy.kind
        inputs, outputs = FLOW_IO if kind == "flow" else GAUSSIAN_IO
        return cls(
            kind=kind, obs_dim=spec.obs_dim, act_dim=spec.act_dim, action_low=[float(a) for a in spec.action_low],
            action_high=[float(a) for a in spec.action_high], squash=loaded.config.squash, num_steps=int(info["num_steps"]),
            integrator=info["integrator"], noise=info["noise"], control_period_s=float(spec.dt), env_id=spec.env_id,
            algorithm=loaded.config.algo, training_steps=int(loaded.global_step), joint_names=list(spec.joint_names),
            input_names=list(inputs), output_names=list(outputs), gaussian_std=info.get("gaussian_std"),
            fused_steps=fused_steps, fused_integrator=fused_integrator, fused_file=fused_file,
        )


def _pos_int(n: object) -> bool:
    return isinstance(n, int) and not isinstance(n, bool) and n >= 1


def _number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _numbers(xs: object, n: int) -> bool:
    return isinstance(xs, list) and len(xs) == n and all(map(_number, xs))


def _decode(key: str, value: str) -> object:
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        raise PolicyFileError(f"the model's fpo metadata {key!r} is not valid JSON ({value!r}); re-export it with `fpo export`") from None
