"""ONNX export: parity with the torch policy (every integrator and step count), fused graph, CLI, eval."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from fpo_core.actions import squash
from fpo_core.algorithms import build_policy
from fpo_core.checkpoint import LoadedPolicy, save_checkpoint
from fpo_core.cli import main
from fpo_core.config import TrainConfig
from fpo_core.envs import EnvSpec
from fpo_core.errors import PolicyFileError, UsageError
from fpo_core.export import export_policy
from fpo_core.integrators import INTEGRATORS
from fpo_core.normalize import RunningNorm
from fpo_core.runtime import FlowPolicy

SPEC = EnvSpec("Hopper-v5", 11, 3, [-1.0] * 3, [1.0] * 3, 0.008, ["thigh", "leg", "foot"])


def synthetic_checkpoint(path: Path, algo: str, squash_kind: str = "tanh") -> Path:
    """An untrained checkpoint with perturbed weights and normaliser statistics (no env steps needed)."""
    torch.manual_seed(1)
    cfg = TrainConfig(algo=algo, env_id=SPEC.env_id, squash=squash_kind, **({} if algo == "gaussian" else {"flow_steps": 4})
                      ).resolved()
    policy = build_policy(cfg, SPEC.obs_dim, SPEC.act_dim)
    with torch.no_grad():
        for p in policy.parameters():
            p.add_(0.3 * torch.randn_like(p))
    norm = RunningNorm(SPEC.obs_dim)
    norm.merge(torch.randn(SPEC.obs_dim, dtype=torch.float64), torch.rand(SPEC.obs_dim, dtype=torch.float64) + 0.5, 100.0)
    save_checkpoint(path, {"config": cfg.to_dict(), "env": dataclasses.asdict(SPEC), "policy": policy.state_dict(),
                           "obs_norm": norm.state_dict(), "global_step": 4096})
    return path


def torch_actions(loaded: LoadedPolicy, obs: np.ndarray, num_steps: int, integrator: str) -> np.ndarray:
    with torch.no_grad():
        raw = loaded.policy.sample(loaded.obs_norm(torch.as_tensor(obs, dtype=torch.float32)), "zero", num_steps, integrator)
    s = loaded.spec
    return squash(raw.numpy().astype(np.float64), np.asarray(s.action_low), np.asarray(s.action_high), loaded.config.squash)


@pytest.fixture(scope="module")
def exported(trained_run, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "policy.onnx"
    export_policy(trained_run, out, fused_steps=10, fused_integrator="rk4")
    return out


def test_trained_policy_parity_every_integrator_and_step_count(trained_run, exported):
    loaded, policy = LoadedPolicy.load(trained_run), FlowPolicy.load(exported)
    obs = np.random.default_rng(0).normal(size=(16, loaded.spec.obs_dim)) * 3
    for k in (1, 2, 5, 10):
        for method in INTEGRATORS:
            expected = torch_actions(loaded, obs, k, method)
            np.testing.assert_allclose(policy.act(obs, k, method, "zero"), expected, atol=1e-4, rtol=0)
            np.testing.assert_allclose(policy.act(obs[3], k, method, "zero"), expected[3], atol=1e-4, rtol=0)


def test_contract_records_the_training_run(trained_run, exported):
    loaded, c = LoadedPolicy.load(trained_run), FlowPolicy.load(exported).contract
    info = loaded.policy.deploy_info()
    assert (c.kind, c.algorithm, c.env_id, c.obs_dim, c.act_dim) == ("flow", "fpo", "InvertedPendulum-v5", 4, 1)
    assert (c.num_steps, c.integrator, c.noise) == (info["num_steps"], info["integrator"], info["noise"])
    assert c.control_period_s == pytest.approx(loaded.spec.dt) and c.training_steps == loaded.global_step
    assert (c.fused_steps, c.fused_integrator, c.fused_file) == (10, "rk4", "policy.fused.onnx")


@pytest.mark.parametrize("algo, squash_kind", [("dppo", "tanh"), ("fpo", "clip")])
def test_synthetic_flow_parity(tmp_path, algo, squash_kind):
    ckpt = synthetic_checkpoint(tmp_path / "ckpt.pt", algo, squash_kind)
    contract = export_policy(ckpt, tmp_path / "p.onnx")
    assert contract.algorithm == algo and contract.kind == "flow" and contract.squash == squash_kind
    loaded, policy = LoadedPolicy.load(ckpt), FlowPolicy.load(tmp_path / "p.onnx")
    obs = np.random.default_rng(1).normal(size=(8, SPEC.obs_dim)) * 2
    for k, method in [(1, "euler"), (4, "euler"), (3, "heun"), (2, "rk4")]:
        np.testing.assert_allclose(policy.act(obs, k, method, "zero"), torch_actions(loaded, obs, k, method), atol=1e-4, rtol=0)


def test_dppo_records_random_initial_noise(tmp_path):
    """ROS.md: ``noise`` is the training rollouts' initial noise. DPPO's rollouts always start from x0 ~ N(0, I)
    (``--init-noise`` is FPO's option), yet its exports said zero."""
    ckpt = synthetic_checkpoint(tmp_path / "ckpt.pt", "dppo")
    _, extras = LoadedPolicy.load(ckpt).policy.act(torch.zeros(64, SPEC.obs_dim))
    assert extras["chain"][:, 0].std() > 0.5  # the rollout's x0 is noise
    assert export_policy(ckpt, tmp_path / "d.onnx").noise == "random"


def test_gaussian_export_gives_the_mean_and_records_std(tmp_path):
    ckpt = synthetic_checkpoint(tmp_path / "ckpt.pt", "gaussian")
    contract = export_policy(ckpt, tmp_path / "g.onnx")
    loaded, policy = LoadedPolicy.load(ckpt), FlowPolicy.load(tmp_path / "g.onnx")
    assert contract.kind == "gaussian" and contract.output_names == ["action_mean"]
    np.testing.assert_allclose(contract.gaussian_std, loaded.policy.actor.log_std.exp().tolist(), rtol=1e-6)
    obs = np.random.default_rng(2).normal(size=(8, SPEC.obs_dim))
    np.testing.assert_allclose(policy.act(obs, noise="zero"), torch_actions(loaded, obs, 1, "euler"), atol=1e-4, rtol=0)
    policy.seed(5)
    noisy = policy.act(obs, noise="random")
    policy.seed(5)
    np.testing.assert_array_equal(policy.act(obs, noise="random"), noisy)
    with pytest.raises(UsageError, match="flow policy"):
        export_policy(ckpt, tmp_path / "g2.onnx", fused_steps=5)


def test_fused_graph_matches_the_step_loop(trained_run, exported):
    fused = FlowPolicy.load(exported)
    assert fused.contract.fused_steps == 10
    step_wise = FlowPolicy.load(exported)
    step_wise._fused = None  # force the loop over the velocity graph
    obs = np.random.default_rng(3).normal(size=(16, 4)) * 2
    np.testing.assert_allclose(fused.act(obs, 10, "rk4", "zero"), step_wise.act(obs, 10, "rk4", "zero"), atol=1e-5, rtol=0)
    fused.seed(7)
    step_wise.seed(7)
    np.testing.assert_allclose(fused.act(obs, 10, "rk4", "random"), step_wise.act(obs, 10, "rk4", "random"), atol=1e-5, rtol=0)


def test_every_metadata_value_is_json_also_the_fused_files_graph_role(tmp_path):
    """docs/ROS.md: one JSON-encoded value per key. A consumer without fpo that decodes every key failed on the fused
    file's bare ``graph_role`` = fused; files exported that way are still recognised as the fused companion."""
    ckpt = synthetic_checkpoint(tmp_path / "ckpt.pt", "fpo")
    export_policy(ckpt, tmp_path / "m.onnx", fused_steps=3)
    for name in ("m.onnx", "m.fused.onnx"):
        decoded = {p.key: json.loads(p.value) for p in onnx.load(tmp_path / name).metadata_props}
    assert decoded["graph_role"] == "fused"
    with pytest.raises(PolicyFileError, match="fused companion"):
        FlowPolicy.load(tmp_path / "m.fused.onnx")
    old = onnx.load(tmp_path / "m.fused.onnx")  # as exported before graph_role was JSON-encoded
    onnx.helper.set_model_props(old, {**{p.key: p.value for p in old.metadata_props}, "graph_role": "fused"})
    onnx.save(old, tmp_path / "old.fused.onnx")
    with pytest.raises(PolicyFileError, match="fused companion"):
        FlowPolicy.load(tmp_path / "old.fused.onnx")


def test_refuses_to_overwrite(tmp_path):
    ckpt = synthetic_checkpoint(tmp_path / "ckpt.pt", "fpo")
    export_policy(ckpt, tmp_path / "p.onnx")
    with pytest.raises(UsageError, match="already exists.*--overwrite"):
        export_policy(ckpt, tmp_path / "p.onnx")
    (tmp_path / "q.fused.onnx").write_bytes(b"keep me")
    with pytest.raises(UsageError, match="q.fused.onnx already exists"):
        export_policy(ckpt, tmp_path / "q.onnx", fused_steps=3)
    assert (tmp_path / "q.fused.onnx").read_bytes() == b"keep me" and not (tmp_path / "q.onnx").exists()
    export_policy(ckpt, tmp_path / "p.onnx", overwrite=True)


def test_cli_export_and_missing_checkpoint(tmp_path, capsys):
    ckpt = synthetic_checkpoint(tmp_path / "ckpt.pt", "fpo")
    assert main(["export", str(ckpt), "-o", str(tmp_path / "c.onnx"), "--fused-steps", "4", "--fused-integrator", "midpoint"]) == 0
    assert (tmp_path / "c.onnx").exists() and (tmp_path / "c.fused.onnx").exists()
    steps = FlowPolicy.load(tmp_path / "c.onnx").contract.training_steps  # a run still training exports its latest save
    assert f"after {steps:,} env steps" in capsys.readouterr().out
    assert main(["export", str(tmp_path / "missing"), "-o", str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "does not exist" in err and not (tmp_path / "m.onnx").exists()


def test_eval_through_export_matches_checkpoint(trained_run, exported, capsys):
    args = ["--episodes", "2", "--num-steps", "3", "--integrator", "heun"]
    assert main(["eval", str(trained_run), *args]) == 0
    from_checkpoint = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["eval", str(exported), *args]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == from_checkpoint


def test_a_step_count_no_deployment_runs_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    """K = 10⁹ (a slip of the finger) would integrate, or trace the fused graph, for days: one line at once instead."""
    import fpo_core.evaluate

    ckpt = synthetic_checkpoint(tmp_path / "ckpt.pt", "fpo")
    export_policy(ckpt, tmp_path / "p.onnx")
    monkeypatch.setattr(fpo_core.evaluate, "run_episodes", lambda *a, **k: pytest.fail("the episodes ran"))
    for path in (ckpt, tmp_path / "p.onnx"):
        assert main(["eval", str(path), "--num-steps", "1000000000"]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "--num-steps must be in 1..10,000" in err and "got 1000000000" in err, err
    monkeypatch.setattr(fpo_core.export.LoadedPolicy, "load", lambda *a, **k: pytest.fail("the checkpoint was loaded"))
    assert main(["export", str(ckpt), "-o", str(tmp_path / "f.onnx"), "--fused-steps", "1000000000"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--fused-steps must be in 1..10,000" in err and "got 1000000000" in err, err
    assert not (tmp_path / "f.onnx").exists()
