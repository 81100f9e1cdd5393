"""Torch-free inference for exported policies (numpy + onnxruntime), shared by ``fpo eval`` and ROS.

``FlowPolicy.load(path)`` validates the file against its contract; ``act(obs)`` normalises (inside
the graph), integrates the flow with the training code's integrators and squashes into the box.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Optional

import numpy as np
import onnxruntime as ort

from fpo_core import integrators
from fpo_core.actions import squash
from fpo_core.contract import FUSED_IO, GRAPH_ROLE_KEY, NOISES, PolicyContract, is_fused
from fpo_core.errors import InvalidInputError, PolicyFileError

_EXPORT_HINT = "export it with `fpo export RUN_DIR -o policy.onnx`"


def session_options(intra_op_threads: int = 1) -> ort.SessionOptions:
    """Low-latency CPU options: few threads, sequential execution, all graph optimisations."""
    so = ort.SessionOptions()
    so.intra_op_num_threads = intra_op_threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    return so


def open_session(path: Path, intra_op_threads: int = 1) -> tuple[ort.InferenceSession, dict[str, str]]:
    """An ONNX Runtime session and its metadata, with ``PolicyFileError`` for unreadable files."""
    path = Path(path)
    if path.is_dir():
        raise PolicyFileError(f"policy file {path} is a directory (a run directory?): pass the .onnx file; {_EXPORT_HINT}")
    if not path.is_file():
        raise PolicyFileError(f"policy file {path} does not exist; {_EXPORT_HINT}")
    try:
        sess = ort.InferenceSession(str(path), session_options(intra_op_threads), providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own exception types (InvalidProtobuf, Fail, ...)
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise PolicyFileError(f"{path} is not a readable ONNX model (truncated, corrupt or another format?): {first}; "
                              f"re-export it with `fpo export`") from None
    return sess, dict(sess.get_modelmeta().custom_metadata_map)


def is_onnx_model(path: Path) -> bool:
    """Whether ``path`` looks like an ONNX model whatever its name: a serialised ModelProto starts with its ir_version
    field (tag byte 0x08, then a small version number); a torch checkpoint starts with a zip or pickle header. Loading
    it (``FlowPolicy.load``) still says whether it is a readable model."""
    try:
        with open(path, "rb") as f:
            head = f.read(2)
    except OSError:
        return False
    return len(head) == 2 and head[0] == 0x08 and 1 <= head[1] < 0x80


def check_io(sess: ort.InferenceSession, path: Path, inputs: list[str], outputs: list[str], sizes: dict[str, int]) -> None:
    """Raise ``PolicyFileError`` unless the graph's float inputs/outputs have these names and last-dim sizes."""
    for kind, args, names in (("inputs", sess.get_inputs(), inputs), ("outputs", sess.get_outputs(), outputs)):
        if [a.name for a in args] != names:
            raise PolicyFileError(f"{path}: graph {kind} {[a.name for a in args]} disagree with the metadata {names}; "
                                  "the file was edited or mixed with another export: re-export it with `fpo export`")
        for a in args:
            shape = a.shape
            if a.type != "tensor(float)" or len(shape) != 2 or shape[1] != sizes[a.name]:
                raise PolicyFileError(f"{path}: graph {kind[:-1]} {a.name!r} is {a.type} {shape}, but the metadata implies "
                                      f"float [batch, {sizes[a.name]}]; re-export it with `fpo export`")


class FlowPolicy:
    """An exported policy (flow or Gaussian) ready to act; build it with ``FlowPolicy.load``.

    Not thread-safe (``act`` reuses preallocated buffers): give each thread its own instance.
    """

    def __init__(self, path: Path, sess: ort.InferenceSession, contract: PolicyContract, fused: Optional[ort.InferenceSession]):
        self.path = path
        self.contract = contract
        self._sess = sess
        self._fused = fused
        self._bindings: dict[str, Binding] = {}
        self._low = np.asarray(contract.action_low, dtype=np.float64)
        self._high = np.asarray(contract.action_high, dtype=np.float64)
        self._std = None if contract.gaussian_std is None else np.asarray(contract.gaussian_std, dtype=np.float32)
        self._rng = np.random.default_rng()
        self.last_latency_s = float("nan")
        """Wall time of the latest ``act`` call (inference only, seconds)."""

    @classmethod
    def load(cls, path: Path | str, intra_op_threads: int = 1) -> "FlowPolicy":
        """Open and validate an exported policy (and its fused companion file, if it has one)."""
        path = Path(path)
        sess, meta = open_session(path, intra_op_threads)
        if is_fused(meta):
            raise PolicyFileError(f"{path} is the fused companion graph of an export; load the main .onnx file next to it")
        try:
            c = PolicyContract.from_metadata(meta)
        except PolicyFileError as e:
            raise PolicyFileError(f"{path}: {e}") from None
        sizes = {"observation": c.obs_dim, "x": c.act_dim, "tau": 1, "velocity": c.act_dim, "action_mean": c.act_dim,
                 "x0": c.act_dim, "action": c.act_dim}
        check_io(sess, path, c.input_names, c.output_names, sizes)
        fused = None
        if c.fused_file is not None:
            fused_path = path.parent / c.fused_file
            if not fused_path.is_file():
                raise PolicyFileError(f"{path} refers to its fused graph {c.fused_file}, which is not next to it; copy both "
                                      "files together, or re-export without --fused-steps")
            fused, fused_meta = open_session(fused_path, intra_op_threads)
            if {k: v for k, v in fused_meta.items() if k != GRAPH_ROLE_KEY} != {k: v for k, v in meta.items() if k != GRAPH_ROLE_KEY}:
                raise PolicyFileError(f"{fused_path} is not the fused graph of {path} (metadata differ); re-export both with `fpo export`")
            check_io(fused, fused_path, *FUSED_IO, sizes)
        return cls(path, sess, c, fused)

    def seed(self, seed: int) -> None:
        """Reseed the generator of random initial noise (``noise="random"``): same seed, same actions."""
        self._rng = np.random.default_rng(seed)

    def act(self, obs: np.ndarray, num_steps: Optional[int] = None, integrator: Optional[str] = None,
            noise: Optional[str] = None) -> np.ndarray:
        """Squashed float64 action(s) for one observation ``[obs_dim]`` → ``[act_dim]`` or a batch ``[B, obs_dim]`` → ``[B, act_dim]``.

        Steps and integrator default to the contract's (the training values); noise defaults to
        ``zero``, the deterministic sampler that deploys best (FPO++). The fused graph is used when
        the steps and integrator match it.
        """
        start = time.perf_counter()
        c = self.contract
        steps = c.num_steps if num_steps is None else num_steps
        method = c.integrator if integrator is None else integrator
        noise = "zero" if noise is None else noise
        try:
            integrators.check(method, steps)
        except ValueError as e:
            raise InvalidInputError(str(e)) from None
        if noise not in NOISES:
            raise InvalidInputError(f"unknown noise {noise!r}: choose one of {', '.join(NOISES)}")
        o = self.observation(obs)
        if c.kind == "gaussian":
            raw = self._bind("main", self._sess, o).run()
            if noise == "random":
                raw += self._std * self._rng.standard_normal(raw.shape, dtype=np.float32)
        else:
            raw = self._sample(o, steps, method, noise)
        action = squash(raw.astype(np.float64), self._low, self._high, c.squash)
        self.last_latency_s = time.perf_counter() - start
        return action[0] if np.ndim(obs) == 1 else action

    def observation(self, obs: np.ndarray) -> np.ndarray:
        """``obs`` as the model's float32 ``[batch, obs_dim]`` input; ``InvalidInputError`` naming what is wrong
        (shape, NaN or inf, or a value beyond float32's range, which the cast would turn into inf)."""
        n = self.contract.obs_dim
        try:
            with np.errstate(over="ignore"):
                o = np.asarray(obs, dtype=np.float32)
        except (TypeError, ValueError):
            raise InvalidInputError(f"observation must be numbers of shape [{n}] or [batch, {n}], got {type(obs).__name__}") from None
        if o.ndim == 1:
            o = o.reshape(1, -1)
        if o.ndim != 2 or o.shape[1] != n or o.shape[0] < 1:
            raise InvalidInputError(f"observation has shape {np.shape(obs)}; expected [{n}] or [batch, {n}] for {self.contract.env_id}")
        if not np.isfinite(o).all():
            raise InvalidInputError("observation contains NaN, inf or values beyond float32's range (±3.4e38); "
                                    "check the sensor/state source before calling act")
        return o

    def _bind(self, key: str, sess: ort.InferenceSession, obs: np.ndarray) -> "Binding":
        """The cached binding of ``sess`` for this batch size, with ``obs`` copied in."""
        bound = self._bindings.get(key)
        if bound is None or bound.batch != obs.shape[0]:
            bound = self._bindings[key] = Binding(sess, obs.shape[0])
        bound.inputs["observation"][...] = obs
        return bound

    def _sample(self, obs: np.ndarray, steps: int, method: str, noise: str) -> np.ndarray:
        b, c = obs.shape[0], self.contract
        x0 = self._rng.standard_normal((b, c.act_dim), dtype=np.float32) if noise == "random" else np.zeros((b, c.act_dim), np.float32)
        if self._fused is not None and steps == c.fused_steps and method == c.fused_integrator:
            bound = self._bind("fused", self._fused, obs)
            bound.inputs["x0"][...] = x0
            return bound.run()
        bound = self._bind("main", self._sess, obs)
        x_in, tau_in, run = bound.inputs["x"], bound.inputs["tau"], bound.run

        def v(x: np.ndarray, t: float) -> np.ndarray:
            x_in[...] = x
            tau_in.fill(t)
            return run()

        return integrators.integrate(v, x0, steps, method)


class Binding:
    """Preallocated float32 input/output buffers bound to a session for one batch size.

    Half the cost of ``session.run`` at batch 1: no per-call feed conversion or name checks.
    Fill ``inputs`` in place, then ``run()`` returns a fresh copy of the (single) output.
    """

    def __init__(self, sess: ort.InferenceSession, batch: int):
        self.batch = batch
        self.inputs = {a.name: np.zeros((batch, a.shape[1]), np.float32) for a in sess.get_inputs()}
        out = sess.get_outputs()[0]
        self._out = np.zeros((batch, out.shape[1]), np.float32)
        self._io = sess.io_binding()
        for name, arr in self.inputs.items():
            self._io.bind_input(name, "cpu", 0, np.float32, list(arr.shape), arr.ctypes.data)
        self._io.bind_output(out.name, "cpu", 0, np.float32, list(self._out.shape), self._out.ctypes.data)
        self._run = partial(sess.run_with_iobinding, self._io)

    def run(self) -> np.ndarray:
        self._run()
        return self._out.copy()
