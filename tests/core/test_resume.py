"""A run killed with SIGKILL and resumed finishes its budget with intact files and restored state."""

import csv
import dataclasses
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from fpo_core.checkpoint import LATEST, LoadedPolicy, load_checkpoint, save_checkpoint
from fpo_core.config import TrainConfig
from fpo_core.errors import UsageError
from fpo_core.trainer import Trainer

from .helpers import logged_updates, tiny_config, wait_while_running

ARGS = ["--total-steps", "8192", "--num-envs", "4", "--num-steps", "64", "--num-minibatches", "2", "--update-epochs", "2",
        "--checkpoint-every", "2", "--no-progress", "--eval-episodes", "0", "--no-tensorboard", "--seed", "5"]


def test_sigkill_then_resume_finishes_the_budget(tmp_path):
    run = tmp_path / "run"
    # a checkpoint every 4 updates (the last value wins): the kill falls 1-2 updates after one, so metrics.csv holds
    # rows past the checkpoint that the resume must drop
    cmd = [sys.executable, "-m", "fpo_core.cli", "train", *ARGS, "--checkpoint-every", "4", "--run-dir", str(run)]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ckpt = run / "checkpoints" / "latest.pt"

    def past_a_checkpoint() -> bool:
        if not ckpt.exists():
            return False
        saved = load_checkpoint(run)["iteration"]
        return saved >= 4 and 1 <= logged_updates(run) - saved <= 2

    wait_while_running(proc, past_a_checkpoint)
    assert proc.poll() is None, f"training ended before it could be killed: {proc.stderr.read().decode()}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed = load_checkpoint(run)
    assert 0 < killed["global_step"] < 8192
    assert logged_updates(run) > killed["iteration"], "the kill came at a checkpoint: nothing logged after it to drop"

    resumed = subprocess.run([*cmd, "--resume"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    final = load_checkpoint(run)
    assert final["global_step"] == 8192 and final["iteration"] == 32
    with open(run / "metrics.csv") as f:
        steps = [int(r["global_step"]) for r in csv.DictReader(f)]
    assert steps == sorted(set(steps)) and steps[-1] == 8192, "metrics must not repeat or skip after a resume"
    assert steps == list(range(256, 8193, 256))
    assert not list(run.glob("checkpoints/*.tmp")), "no temporary checkpoint files may be left behind"
    LoadedPolicy.load(run)  # the final checkpoint is complete and loads


def test_a_run_directory_in_use_is_refused_and_left_alone(tmp_path):
    """A second training in a running run's directory (a new run or a resume) is refused before it touches anything:
    without the lock, a run that has not saved yet looks abandoned and its logs would be removed."""
    run = tmp_path / "run"
    args = [*ARGS, "--checkpoint-every", "1000"]  # the last value wins: no checkpoint until the end
    proc = subprocess.Popen([sys.executable, "-m", "fpo_core.cli", "train", *args, "--run-dir", str(run)], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_while_running(proc, lambda: logged_updates(run) >= 1)
        assert proc.poll() is None, f"training ended too early: {proc.stderr.read().decode()}"
        with pytest.raises(UsageError, match=rf"in use by another fpo train \(pid {proc.pid}\)"):
            Trainer(tiny_config(run))
        assert logged_updates(run) >= 1 and (run / "config.yaml").exists(), "the running run's files were touched"
    finally:
        proc.kill()
        proc.wait()
    Trainer(tiny_config(run, total_steps=128)).train()  # the lock ends with its process
    assert load_checkpoint(run)["global_step"] == 128


def test_a_trainer_that_cannot_start_leaves_the_run_directory_free(tmp_path):
    """A refused resume in a long-lived process (a notebook, a test session) must not keep the run locked."""
    run = tmp_path / "run"
    Trainer(tiny_config(run, total_steps=128)).train()
    with pytest.raises(UsageError, match="changes learning_rate"):
        Trainer(tiny_config(run, total_steps=256, resume=True, learning_rate=1e-3))
    resumed = subprocess.run([sys.executable, "-m", "fpo_core.cli", "train", "--run-dir", str(run), "--resume", "--total-steps",
                              "256", "--no-progress"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert load_checkpoint(run)["global_step"] == 256


@pytest.mark.parametrize("resume", [False, True])
def test_a_trainer_that_cannot_start_closes_its_environments(tmp_path, monkeypatch, resume):
    """Async env workers are processes: a Trainer that fails while setting up (here: its networks, or a resume's
    restore) must not leave them running in a long-lived process."""
    import fpo_core.trainer as trainer_module

    run = tmp_path / "run"
    if resume:
        Trainer(tiny_config(run, total_steps=128)).train()
    made = []
    make_vec_env = trainer_module.make_vec_env
    monkeypatch.setattr(trainer_module, "make_vec_env", lambda *a, **k: made.append(make_vec_env(*a, **k)) or made[-1])

    def boom(*_):
        raise RuntimeError("boom")

    monkeypatch.setattr(Trainer if resume else trainer_module, "_restore" if resume else "build_policy", boom)
    with pytest.raises(RuntimeError, match="boom"):
        Trainer(tiny_config(run, total_steps=256, resume=resume))
    assert len(made) == 1 and made[0][0].closed


def test_resume_restores_optimiser_normaliser_and_rng(tmp_path):
    run = tmp_path / "run"
    first = Trainer(tiny_config(run, total_steps=256))
    first.train()
    saved = load_checkpoint(run)
    second = Trainer(tiny_config(run, total_steps=512, resume=True))
    assert second.global_step == 256 and second.iteration == 2
    assert second.obs_norm.count.item() == saved["obs_norm"]["count"].item() == 256
    assert torch.equal(second.obs_norm.mean, saved["obs_norm"]["mean"])
    opt = second.ppo.optimizer.state_dict()
    assert opt["state"][0]["step"] == saved["optimizer"]["state"][0]["step"]
    assert torch.equal(torch.get_rng_state(), saved["rng"]["torch"])
    assert saved["reward_scaler"]["ret"].abs().sum() > 0 and not second.reward_scaler.ret.any(), \
        "the envs restart their episodes: no discounted return may carry over"
    assert torch.equal(second.reward_scaler.stats, saved["reward_scaler"]["stats"])
    second.train()
    assert load_checkpoint(run)["global_step"] == 512


def test_cli_resume_keeps_the_runs_budget_unless_a_flag_changes_it(tmp_path):
    from fpo_core.cli import main

    run = tmp_path / "run"
    flags = ["--no-progress", "--no-tensorboard", "--eval-episodes", "0"]
    assert main(["train", "--total-steps", "1024", "--num-envs", "2", "--num-steps", "64", "--num-minibatches", "2",
                 "--update-epochs", "1", "--run-dir", str(run), *flags]) == 0
    # `--resume` alone continues with the run's own settings (not the CLI defaults) ...
    assert main(["train", "--run-dir", str(run), "--resume", *flags]) == 0
    assert load_checkpoint(run)["global_step"] == 1024
    # ... and a flag extends it
    assert main(["train", "--run-dir", str(run), "--resume", "--total-steps", "2048", *flags]) == 0
    ckpt = load_checkpoint(run)
    assert ckpt["global_step"] == 2048 and ckpt["config"]["num_envs"] == 2
    # the checkpoint, not config.yaml, says what the run is: a run copied back without it (or with a broken one) resumes
    for config_yaml in ("", "{not yaml"):
        (run / "config.yaml").unlink()
        if config_yaml:
            (run / "config.yaml").write_text(config_yaml)
        assert main(["train", "--run-dir", str(run), "--resume", "--total-steps", str(load_checkpoint(run)["global_step"] + 128),
                     *flags]) == 0
    assert load_checkpoint(run)["config"]["num_envs"] == 2


def test_a_run_saved_with_an_option_its_algorithm_ignores_still_resumes(tmp_path):
    """Before new runs refused them, such options were recorded (a Gaussian run with n_mc 16): the run still resumes."""
    from fpo_core.cli import main

    run = tmp_path / "run"
    Trainer(tiny_config(run, algo="gaussian", total_steps=128)).train()
    ckpt = load_checkpoint(run)
    ckpt["config"]["n_mc"] = 16
    save_checkpoint(run / LATEST, {k: v for k, v in ckpt.items() if k not in ("format", "version")})
    assert main(["train", "--run-dir", str(run), "--resume", "--total-steps", "256", "--no-progress"]) == 0
    assert load_checkpoint(run)["global_step"] == 256


def test_a_moved_run_resumes_where_it_now_lives(tmp_path):
    Trainer(tiny_config(tmp_path / "old", total_steps=256)).train()
    (tmp_path / "old").rename(tmp_path / "new")  # e.g. copied back from another machine
    Trainer(tiny_config(tmp_path / "new", total_steps=512, resume=True)).train()
    assert not (tmp_path / "old").exists(), "nothing may be written to the run's old location"
    ckpt = load_checkpoint(tmp_path / "new")
    assert ckpt["global_step"] == 512 and Path(ckpt["config"]["run_dir"]) == tmp_path / "new"


def test_a_gpu_run_resumes_on_a_machine_without_one(tmp_path):
    run = tmp_path / "run"
    Trainer(tiny_config(run, total_steps=256)).train()
    ckpt = load_checkpoint(run)
    ckpt["config"]["device"] = "cuda"  # as if trained on a GPU machine and copied here
    save_checkpoint(run / LATEST, {k: v for k, v in ckpt.items() if k not in ("format", "version")})
    resumed = Trainer(tiny_config(run, total_steps=512, resume=True, device="cpu"))  # the device comes from this command
    assert resumed.device.type == "cpu" and resumed.global_step == 256
    resumed.train()
    assert load_checkpoint(run)["global_step"] == 512


def test_tensorboard_keeps_every_step_across_a_resume(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = tmp_path / "run"
    Trainer(tiny_config(run, total_steps=256, tensorboard=True)).train()
    Trainer(tiny_config(run, total_steps=512, tensorboard=True, resume=True)).train()
    events = EventAccumulator(str(run / "tb"))
    events.Reload()
    assert [e.step for e in events.Scalars("train/lr")] == [128, 256, 384, 512]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device: the device's RNG state exists only there")
def test_a_gpu_run_resumes_its_device_noise_stream(tmp_path):
    run = tmp_path / "run"
    Trainer(tiny_config(run, total_steps=256, device="cuda")).train()
    saved = load_checkpoint(run)["rng"]["cuda"]
    Trainer(tiny_config(run, total_steps=512, resume=True, device="cuda"))
    assert torch.equal(torch.cuda.get_rng_state(), saved), "a resumed GPU run would replay the seed's noise"


def test_ctrl_c_saves_the_last_update_and_the_run_resumes(tmp_path):
    """SIGINT stops after the current update with a checkpoint (none was due yet: --checkpoint-every 1000)."""
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "fpo_core.cli", "train", *ARGS, "--checkpoint-every", "1000", "--run-dir", str(run)]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    metrics = run / "metrics.csv"
    wait_while_running(proc, lambda: logged_updates(run) >= 2)
    assert proc.poll() is None, f"training ended before it could be interrupted: {proc.stderr.read()}"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    saved = load_checkpoint(run)
    assert "with a checkpoint: continue with" in err and f"{saved['global_step']:,} env steps" in err
    assert "stopping after this update to save a checkpoint (Ctrl-C again to stop at once" in err, err
    with open(metrics) as f:
        assert int(list(csv.DictReader(f))[-1]["global_step"]) == saved["global_step"], "the saved update is the last logged"
    resumed = subprocess.run([*cmd, "--resume"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert load_checkpoint(run)["global_step"] == 8192


def test_resume_refuses_flags_it_would_ignore(tmp_path):
    from fpo_core.cli import main

    run = tmp_path / "run"
    flags = ["--run-dir", str(run), "--no-progress", "--no-tensorboard", "--eval-episodes", "0"]
    assert main(["train", "--total-steps", "256", "--num-envs", "2", "--num-steps", "64", "--num-minibatches", "2",
                 "--update-epochs", "1", *flags]) == 0
    with pytest.raises(UsageError, match=r"changes learning_rate 0\.0003 → 0\.001; num_envs 2 → 4: drop those options"):
        Trainer(dataclasses.replace(TrainConfig.from_dict(load_checkpoint(run)["config"]), resume=True, learning_rate=1e-3,
                                    num_envs=4))
    assert main(["train", "--resume", "--learning-rate", "0.001", *flags]) == 2
    assert load_checkpoint(run)["global_step"] == 256


def test_resuming_a_finished_run_trains_nothing_and_keeps_its_config(tmp_path, caplog):
    run = tmp_path / "run"
    Trainer(tiny_config(run, total_steps=256)).train()
    before = (run / "config.yaml").read_text()
    plot_time = (run / "learning_curve.png").stat().st_mtime_ns
    summary = Trainer(tiny_config(run, total_steps=128, resume=True, eval_episodes=2)).train()
    assert "nothing to train" in caplog.text
    assert (run / "config.yaml").read_text() == before and load_checkpoint(run)["global_step"] == 256
    # nothing trained: no speed to report (it said 0 steps/s), no evaluation or plot made again
    assert "steps_per_s" not in summary and "eval_after" not in summary
    assert (run / "learning_curve.png").stat().st_mtime_ns == plot_time


def test_a_fresh_run_replaces_the_logs_of_one_killed_before_its_first_checkpoint(tmp_path):
    run = tmp_path / "run"
    (run / "tb").mkdir(parents=True)
    (run / "metrics.csv").write_text("global_step,iteration\n1024,1\n2048,2\n")
    TrainConfig(run_dir=run).write_yaml(run / "config.yaml")
    Trainer(tiny_config(run, total_steps=256, tensorboard=True)).train()
    with open(run / "metrics.csv") as f:
        assert [int(r["global_step"]) for r in csv.DictReader(f)] == [128, 256]


def test_a_fresh_run_refuses_a_folder_of_files_it_did_not_write(tmp_path):
    """Another tool's config.yaml, metrics.csv and tb/ are neither removed nor overwritten."""
    run = tmp_path / "project"
    (run / "tb").mkdir(parents=True)
    (run / "tb" / "events.out").write_text("theirs")
    (run / "metrics.csv").write_text("epoch,loss\n1,0.5\n")
    (run / "config.yaml").write_text("model: resnet50\n")
    with pytest.raises(UsageError, match="holds files fpo did not write .*choose another --run-dir"):
        Trainer(tiny_config(run, total_steps=128))
    assert (run / "tb" / "events.out").read_text() == "theirs" and (run / "config.yaml").read_text() == "model: resnet50\n"
    assert sorted(p.name for p in run.iterdir()) == ["config.yaml", "metrics.csv", "tb"], "nothing of fpo's is left there"
