"""Bad input exits non-zero with one line that names the problem (no traceback)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from .helpers import TINY


def fpo(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fpo_core.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    "args,needle",
    [
        (["train", "--env-id", "HalfCheeta-v5"], "unknown environment id 'HalfCheeta-v5'"),
        (["train", "--env-id", "CartPole-v1"], "Discrete action space"),
        (["train", "--n-mc", "0"], "--n-mc must be >= 1"),
        (["train", "--clip-coef", "0"], "--clip-coef must be > 0"),
        (["train", "--clip-coef", "-0.1"], "--clip-coef must be > 0"),
        (["train", "--integrator", "verlet"], "--integrator 'verlet' is unknown"),
        (["train", "--num-minibatches", "3"], "must divide the batch"),
        (["train", "--reward-clip", "0"], "--reward-clip must be > 0"),
        (["train", "--flow-target", "executed"], "needs --squash clip"),
        (["train", "--algo", "gaussian", "--squash", "clip", "--flow-target", "executed"], "--algo fpo only"),
        (["train", "--algo", "fpo", "--ent-coef", "0.01"], "--ent-coef 0.01 (from the command line or its --config file) applies to --algo gaussian only"),
        (["train", "--seed", "-1"], "--seed must be in [0, 2**31)"),
        (["train", "--actor-hidden", "-5", "64"], "layer sizes must be >= 1"),
        (["train", "--max-grad-norm", "0"], "--max-grad-norm must be > 0 (or None: no clipping)"),
        (["train", "--learning-rate", "inf"], "--learning-rate must be a finite number, got inf"),
        (["train", "--reward-scale", "inf"], "--reward-scale must be a finite number, got inf"),
        (["train", "--reward-scale", "10"], "--reward-scale 10.0 (from the command line or its --config file) has no effect while --reward-norm is on"),
        (["train", "--algo", "gaussian", "--init-log-std", "nan"], "--init-log-std must be a finite number, got nan"),
        (["train", "--algo", "gaussian", "--init-log-std", "100"], "--init-log-std must be in [-10, 10]"),
        (["train", "--algo", "dppo", "--dppo-sigma", "inf"], "--dppo-sigma must be a finite number, got inf"),
        (["train", "--algo", "gaussian", "--n-mc", "16"], "--n-mc 16 (from the command line or its --config file) applies to --algo fpo only, not gaussian"),
        (["train", "--algo", "dppo", "--integrator", "rk4"], "--integrator rk4 (from the command line or its --config file) applies to --algo fpo only"),
        (["train", "--algo", "gaussian", "--flow-steps", "3"], "--flow-steps 3 (from the command line or its --config file) applies to --algo fpo and dppo only"),
        (["train", "--algo", "fpo", "--dppo-sigma", "0.1"], "--dppo-sigma 0.1 (from the command line or its --config file) applies to --algo dppo only"),
        (["train", "--algo", "dppo", "--init-log-std", "-1"], "--init-log-std -1.0 (from the command line or its --config file) applies"),
        (["train", "--eval-episodes", "-1"], "--eval-episodes must be >= 0"),
        (["train", "--device", "mps"], "unknown device 'mps'"),
        (["eval", "no/such/run"], "does not exist"),
        (["train", "--config", "missing.yaml"], "config file missing.yaml does not exist"),
    ],
)
def test_bad_input_is_named(tmp_path, args, needle):
    r = fpo(args[0], *TINY, *args[1:], "--run-dir", str(tmp_path / "run"), cwd=tmp_path) if args[0] == "train" else fpo(*args, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert needle in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "run").exists(), "a run that cannot start must not leave its run directory behind"


def test_corrupt_checkpoint_is_named(tmp_path):
    bad = tmp_path / "latest.pt"
    bad.write_bytes(b"\x00not a checkpoint" * 10)
    r = fpo("eval", str(bad), cwd=tmp_path)
    assert r.returncode == 2 and "not a readable fpo checkpoint" in r.stderr and "Traceback" not in r.stderr


def test_truncated_checkpoint_is_named(tmp_path):
    from fpo_core.trainer import Trainer

    from .helpers import tiny_config

    Trainer(tiny_config(tmp_path / "run", total_steps=128)).train()
    ckpt = tmp_path / "run" / "checkpoints" / "latest.pt"
    ckpt.write_bytes(ckpt.read_bytes()[:500])
    r = fpo("eval", str(tmp_path / "run"), cwd=tmp_path)
    assert r.returncode == 2 and "truncated, corrupt" in r.stderr and "Traceback" not in r.stderr


def test_unwritable_run_dir_is_named(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a directory should be")
    r = fpo("train", *TINY, "--run-dir", str(blocker / "run"), cwd=tmp_path)
    assert r.returncode == 2 and "cannot write to run directory" in r.stderr and "Traceback" not in r.stderr


def test_existing_run_is_not_overwritten(tmp_path):
    args = ["train", *TINY, "--run-dir", str(tmp_path / "run")]
    assert fpo(*args, cwd=tmp_path).returncode == 0
    r = fpo(*args, cwd=tmp_path)
    assert r.returncode == 2 and "--resume" in r.stderr


def test_eval_writes_a_video_headless(tmp_path):
    from fpo_core.trainer import Trainer

    from .helpers import tiny_config

    Trainer(tiny_config(tmp_path / "run", total_steps=128)).train()
    r = fpo("eval", str(tmp_path / "run"), "--episodes", "1", "--video", str(tmp_path / "ep.mp4"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "ep.mp4").stat().st_size > 1000
    bad = fpo("eval", str(tmp_path / "run"), "--video", str(tmp_path / "ep.avi2"), cwd=tmp_path)
    assert bad.returncode == 2 and "use a name ending in .mp4 or .gif" in bad.stderr


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory) -> dict[str, Path]:
    from fpo_core.trainer import Trainer

    from .helpers import tiny_config

    root = tmp_path_factory.mktemp("runs")
    return {algo: Path(Trainer(tiny_config(root / algo, algo=algo, total_steps=128)).train()["run_dir"])
            for algo in ("fpo", "gaussian")}


@pytest.mark.parametrize("args,needle", [
    (["eval", "{fpo}", "--num-steps", "0"], "--num-steps must be in 1..10,000 (integration steps K per action), got 0"),
    (["eval", "{fpo}", "--integrator", "rk5"], "unknown integrator 'rk5'"),
    (["eval", "{fpo}", "--env-id", "HalfCheetah-v5"], "the policy was trained on InvertedPendulum-v5 with 4 and 1"),
    (["eval", "{fpo}", "--seed", "-1"], "--seed must be in [0, 2**31)"),
    (["eval", "{fpo}", "--video", "{tmp}/v.txt"], "use a name ending in .mp4 or .gif"),
    (["eval", "{gaussian}", "--num-steps", "2"], "apply to flow policies"),
    (["eval", "{fpo}/config.yaml"], "not a readable fpo checkpoint"),
    (["export", "{fpo}", "-o", "{tmp}/p.pt"], "name the model *.onnx"),
    (["export", "{fpo}", "-o", "{fpo}/config.yaml/p.onnx"], "cannot write"),
    (["export", "{fpo}", "-o", "{tmp}/p.onnx", "--fused-integrator", "foo"], "unknown integrator 'foo'"),
    (["export", "{fpo}", "-o", "{tmp}/p.onnx", "--fused-integrator", "rk4"], "only --fused-steps K writes"),
    (["export", "{fpo}", "-o", "{tmp}/p.onnx", "--fused-integrator=rk4"], "only --fused-steps K writes"),
    (["gridworld", "--fpo-run", "{fpo}", "--gaussian-run", "{gaussian}"], "the saddle plot needs a fpo_sim/GridWorld-v0 run"),
    (["gridworld", "--steps", "0"], "--steps must be >= 1"),
    (["gridworld", "--out", "{fpo}/config.yaml"], "config.yaml is a file; choose a folder for the two runs and saddle.png"),
    (["demo", "--run-dir", "{fpo}"], "already holds a run; choose another --run-dir"),
])
def test_bad_input_to_eval_export_and_tools_is_named(tiny_runs, tmp_path, capsys, args, needle):
    from fpo_core.cli import main

    assert main([a.format(tmp=tmp_path, **tiny_runs) for a in args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err, err


NO_TORCH = """
import sys
class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "torch":
            raise ModuleNotFoundError("torch is not installed (blocked by the test)")
sys.meta_path.insert(0, NoTorch())
"""


def test_gridworld_refuses_a_run_of_the_other_algorithm(tmp_path, capsys):
    from fpo_core.cli import main
    from fpo_core.trainer import Trainer

    from .helpers import tiny_config

    runs = {algo: Trainer(tiny_config(tmp_path / algo, env_id="fpo_sim/GridWorld-v0", algo=algo, total_steps=128)).train()["run_dir"]
            for algo in ("fpo", "gaussian")}
    for args, needle in ((["--fpo-run", runs["fpo"], "--gaussian-run", runs["fpo"]], f"--gaussian-run {runs['fpo']} was trained with --algo fpo"),
                         (["--fpo-run", runs["gaussian"]], f"--fpo-run {runs['gaussian']} was trained with --algo gaussian")):
        assert main(["gridworld", "--out", str(tmp_path / "out"), *map(str, args)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and needle in err and "--algo" in err, err
    assert not (tmp_path / "out").exists()  # refused before training or plotting


@pytest.mark.parametrize("flag", [["--num-steps", "3"], ["--integrator", "rk4"]])
def test_flow_options_are_refused_for_an_exported_gaussian_policy(tiny_runs, tmp_path, capsys, flag):
    from fpo_core.cli import main
    from fpo_core.export import export_policy

    export_policy(tiny_runs["gaussian"], tmp_path / "g.onnx")
    assert main(["eval", str(tmp_path / "g.onnx"), "--episodes", "1", *flag]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "apply to flow policies" in err and "gaussian policy" in err, err


@pytest.mark.parametrize("name", ["p.onnx", "model.bin"])
def test_export_of_an_exported_model_says_what_it_is(tiny_runs, tmp_path, capsys, name):
    from fpo_core.cli import main
    from fpo_core.export import export_policy

    export_policy(tiny_runs["fpo"], tmp_path / "p.onnx")
    (tmp_path / "p.onnx").rename(tmp_path / name)
    assert main(["export", str(tmp_path / name), "-o", str(tmp_path / "again.onnx")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{tmp_path / name} is an exported ONNX model" in err, err
    assert "a run directory or a .pt checkpoint" in err and not (tmp_path / "again.onnx").exists()


@pytest.mark.parametrize("name", ["CI.ONNX", "model.bin"])
def test_eval_takes_an_onnx_model_whatever_its_suffix(tiny_runs, tmp_path, capsys, name):
    from fpo_core.cli import main

    assert main(["export", str(tiny_runs["fpo"]), "-o", str(tmp_path / "P.ONNX")]) == 0
    (tmp_path / "P.ONNX").rename(tmp_path / name)
    assert main(["eval", str(tmp_path / name), "--episodes", "1"]) == 0, capsys.readouterr().err
    assert "return over 1 episodes" in capsys.readouterr().out


def test_eval_of_an_exported_model_needs_no_torch(tiny_runs, tmp_path):
    from fpo_core.export import export_policy

    export_policy(tiny_runs["fpo"], tmp_path / "p.onnx")
    code = NO_TORCH + ("from fpo_core.cli import main; "
                       f"sys.exit(main(['eval', {str(tmp_path / 'p.onnx')!r}, '--episodes', '1', '--num-steps', '2']))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "return over 1 episodes" in r.stdout, r.stderr


def test_a_video_of_an_env_that_cannot_render_is_refused(tmp_path, capsys):
    from fpo_core.cli import main
    from fpo_core.trainer import Trainer

    from .helpers import tiny_config

    run = Trainer(tiny_config(tmp_path / "hg", env_id="fpo_sim/HiddenGoal-v0", total_steps=128)).train()["run_dir"]
    assert main(["eval", run, "--episodes", "1", "--video", str(tmp_path / "v.mp4")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "cannot record a video of fpo_sim/HiddenGoal-v0" in err, err


def test_a_video_path_that_is_a_directory_is_refused_before_the_episodes(tiny_runs, tmp_path, capsys):
    from fpo_core.cli import main

    (tmp_path / "d.mp4").mkdir()
    assert main(["eval", str(tiny_runs["fpo"]), "--episodes", "1", "--video", str(tmp_path / "d.mp4")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "d.mp4: it is an existing directory" in err, err


def test_a_video_folder_that_only_looks_writable_is_refused(tiny_runs, monkeypatch, capsys):
    """As root, os.access says every folder is writable (here: /proc, where no file can be created)."""
    import os

    from fpo_core.cli import main

    monkeypatch.setattr(os, "access", lambda *a, **k: True)
    assert main(["eval", str(tiny_runs["fpo"]), "--episodes", "1", "--video", "/proc/v.mp4"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "/proc is not a writable folder" in err, err


def test_a_video_that_cannot_be_written_is_named(tiny_runs, tmp_path, monkeypatch, capsys):
    import imageio

    from fpo_core.cli import main

    def full_disk(*a, **k):
        raise BrokenPipeError(32, "Broken pipe")  # what imageio's ffmpeg writer raises when ffmpeg cannot open the file

    monkeypatch.setattr(imageio, "mimsave", full_disk)
    assert main(["eval", str(tiny_runs["fpo"]), "--episodes", "1", "--video", str(tmp_path / "v.mp4")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"cannot write video {tmp_path / 'v.mp4'}" in err and "--video" in err, err


def test_a_video_needing_a_missing_render_dependency_names_the_extra(tmp_path, monkeypatch):
    from gymnasium.envs.classic_control.pendulum import PendulumEnv
    from gymnasium.error import DependencyNotInstalled

    from fpo_core.errors import UsageError
    from fpo_core.evaluate import run_episodes

    def no_pygame(self):  # what PendulumEnv.render raises where pygame is not installed
        raise DependencyNotInstalled('pygame is not installed, run `pip install "gymnasium[classic_control]"`')

    monkeypatch.setattr(PendulumEnv, "render", no_pygame)
    with pytest.raises(UsageError, match=r'pip install "gymnasium\[classic_control\]"'):
        run_episodes("Pendulum-v1", lambda obs: np.zeros(1), 1, 0, tmp_path / "v.mp4")


@pytest.mark.parametrize("command", ["eval", "export"])
def test_a_file_that_is_no_checkpoint_names_what_to_pass(tmp_path, capsys, command):
    """torch's own first line ("101", "pop from empty list") says nothing a user can act on: the message says what works."""
    from fpo_core.cli import main

    (tmp_path / "notes.txt").write_text("hello\n")
    assert main([command, str(tmp_path / "notes.txt")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not a readable fpo checkpoint" in err, err
    assert "pass a run directory or a .pt checkpoint written by `fpo train`" in err, err


def test_a_reward_scale_from_a_config_file_names_the_file_and_its_keys(tmp_path):
    """An earlier run's config.yaml may hold reward_scale 10 with reward_norm on (it trained as with 1): `--config` of it
    is refused like a flag, and the message says it may come from the file and which keys to change there."""
    from fpo_core.cli import train_config
    from fpo_core.errors import UsageError

    old = tmp_path / "config.yaml"
    old.write_text("env_id: InvertedPendulum-v5\nreward_norm: true\nreward_scale: 10.0\n")
    with pytest.raises(UsageError) as e:
        train_config(["--config", str(old), "--run-dir", str(tmp_path / "new")]).resolved()
    assert "--config file" in str(e.value) and "reward_norm: false" in str(e.value) and "reward_scale: 1.0" in str(e.value)
    cfg = train_config(["--config", str(old), "--no-reward-norm", "--run-dir", str(tmp_path / "new")]).resolved()
    assert cfg.reward_scale == 10.0 and not cfg.reward_norm


def test_an_unknown_command_suggests_the_one_meant_and_the_version_is_printed(capsys):
    """`fpo trian` listed the commands without naming the one meant; `fpo --version` was an unknown command."""
    from fpo_core import __version__
    from fpo_core.cli import main

    assert main(["trian"]) == 2
    assert capsys.readouterr().err.splitlines()[0] == "fpo: unknown command 'trian'; did you mean `fpo train`?"
    for flag in ("--version", "-V"):
        assert main([flag]) == 0
        assert capsys.readouterr().out.strip() == f"fpo {__version__}"
