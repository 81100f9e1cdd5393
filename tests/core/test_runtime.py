"""The torch-free runtime: file validation, input errors, seeded noise, no torch import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

from fpo_core.errors import InvalidInputError, PolicyFileError
from fpo_core.export import export_policy
from fpo_core.runtime import FlowPolicy
from tests.core.test_export import SPEC, synthetic_checkpoint


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("runtime")
    export_policy(synthetic_checkpoint(d / "ckpt.pt", "fpo"), d / "p.onnx", fused_steps=3, fused_integrator="euler")
    return d / "p.onnx"


def edited(src: Path, dst: Path, **meta: str | None) -> Path:
    """A copy of ``src`` with metadata entries replaced (``None`` deletes one)."""
    model = onnx.load(str(src))
    props = {p.key: p.value for p in model.metadata_props}
    props.update(meta)
    onnx.helper.set_model_props(model, {k: v for k, v in props.items() if v is not None})
    onnx.save(model, str(dst))
    return dst


def test_runtime_does_not_import_torch(exported):
    code = (f"import sys; from fpo_core.runtime import FlowPolicy; p = FlowPolicy.load({str(exported)!r}); "
            f"p.act([0.0] * {SPEC.obs_dim}); assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_act_shapes_defaults_and_bounds(exported):
    p = FlowPolicy.load(exported)
    obs = np.random.default_rng(0).normal(size=(5, SPEC.obs_dim))
    batch = p.act(obs, noise="zero")
    assert batch.shape == (5, SPEC.act_dim) and batch.dtype == np.float64
    assert p.act(obs[2], noise="zero").shape == (SPEC.act_dim,)
    np.testing.assert_allclose(p.act(obs[2], noise="zero"), batch[2], atol=1e-6)
    assert np.all(batch >= -1.0) and np.all(batch <= 1.0)
    assert p.contract.noise == "random" and p.last_latency_s > 0
    # deployment defaults to the deterministic sampler, whatever noise training used
    np.testing.assert_array_equal(p.act(obs), batch)


def test_random_noise_is_reproducible_with_a_seed(exported):
    p = FlowPolicy.load(exported)
    obs = np.zeros(SPEC.obs_dim)
    for steps in (3, 5):  # fused graph and step-wise loop
        p.seed(11)
        a = [p.act(obs, steps, noise="random") for _ in range(3)]
        p.seed(11)
        b = [p.act(obs, steps, noise="random") for _ in range(3)]
        p.seed(12)
        c = p.act(obs, steps, noise="random")
        np.testing.assert_array_equal(a, b)
        assert not np.allclose(a[0], a[1]) and not np.allclose(a[0], c)


def test_bad_files(exported, tmp_path):
    good = exported.read_bytes()
    (tmp_path / "junk.onnx").write_bytes(np.random.default_rng(0).bytes(4096))
    (tmp_path / "cut.onnx").write_bytes(good[: len(good) // 2])
    cases = {
        tmp_path / "absent.onnx": "does not exist.*fpo export",
        tmp_path: "is a directory.*pass the .onnx file",
        tmp_path / "junk.onnx": "not a readable ONNX model",
        tmp_path / "cut.onnx": "not a readable ONNX model",
        edited(exported, tmp_path / "nover.onnx", format_version=None): "no fpo metadata.*fpo export",
        edited(exported, tmp_path / "v9.onnx", format_version="9"): "format_version 9.*re-export",
        edited(exported, tmp_path / "obs.onnx", obs_dim=str(SPEC.obs_dim + 1)): "observation.*re-export",
        edited(exported, tmp_path / "names.onnx", input_names='["obs", "x", "tau"]'): "disagree with the metadata",
        edited(exported, tmp_path / "act0.onnx", act_dim="0", gaussian_std="[]"): "act_dim 0 must be",
        edited(exported, tmp_path / "slow.onnx", control_period_s="1e308"): r"control_period_s 1e\+308 must be",
        edited(exported, tmp_path / "fast.onnx", control_period_s="1e-12"): "control_period_s 1e-12 must be",
        edited(exported, tmp_path / "nofused.onnx", fused_file='"gone.onnx"'): "gone.onnx, which is not next to it",
        exported.with_name("p.fused.onnx"): "fused companion",
    }
    for path, match in cases.items():
        with pytest.raises(PolicyFileError, match=match):
            FlowPolicy.load(path)


@pytest.mark.parametrize(
    "obs, kwargs, match",
    [
        (np.zeros(SPEC.obs_dim + 1), {}, r"shape \(12,\)"),
        (np.zeros((2, 3, SPEC.obs_dim)), {}, "expected"),
        (np.zeros((0, SPEC.obs_dim)), {}, "expected"),
        (np.full(SPEC.obs_dim, np.nan), {}, "NaN, inf"),
        (np.array([np.inf] + [0.0] * (SPEC.obs_dim - 1)), {}, "NaN, inf"),
        (np.array([1e300] + [0.0] * (SPEC.obs_dim - 1)), {}, "beyond float32's range"),
        (np.zeros(SPEC.obs_dim), {"integrator": "leapfrog"}, "unknown integrator"),
        (np.zeros(SPEC.obs_dim), {"num_steps": 0}, "num_steps must be an integer >= 1"),
        (np.zeros(SPEC.obs_dim), {"num_steps": -1}, "num_steps must be an integer >= 1"),
        (np.zeros(SPEC.obs_dim), {"noise": "pink"}, "unknown noise"),
        (["a"] * SPEC.obs_dim, {}, "must be numbers"),
    ],
)
def test_bad_inputs_at_act(exported, obs, kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        FlowPolicy.load(exported).act(obs, **kwargs)


def test_a_numpy_integer_step_count_is_a_step_count(exported):
    """K read from a numpy array or config (np.int64) is an integer: it acts like the same Python int."""
    p = FlowPolicy.load(exported)
    obs = np.random.default_rng(1).normal(size=SPEC.obs_dim)
    for k in (3, 5):  # the fused graph and the step-wise loop
        np.testing.assert_array_equal(p.act(obs, np.int64(k), "heun"), p.act(obs, k, "heun"))
