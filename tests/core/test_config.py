"""Config files and the resolved config every run writes."""

import dataclasses
from pathlib import Path

import pytest
import yaml

from fpo_core.cli import main
from fpo_core.config import TrainConfig
from fpo_core.errors import UsageError
from fpo_core.presets import preset


def test_config_file_sets_defaults_and_flags_override(tmp_path, capsys):
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text(yaml.safe_dump({"num_envs": 2, "num_steps": 32, "n_mc": 3, "total_steps": 64, "num_minibatches": 1}))
    run = tmp_path / "run"
    rc = main(["train", "--config", str(cfg_file), "--n-mc", "5", "--run-dir", str(run), "--no-progress",
               "--eval-episodes", "0", "--no-tensorboard"])
    assert rc == 0
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["num_envs"] == 2 and saved["n_mc"] == 5
    assert saved["clip_coef"] == 0.05  # the resolved per-algorithm default is written down
    # the written file is itself a valid config
    assert TrainConfig.values_from_yaml(run / "config.yaml")["n_mc"] == 5


def test_unknown_config_key_is_named(tmp_path, capsys):
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text("n_mcc: 3\n")
    assert main(["train", "--config", str(cfg_file)]) == 2
    assert f"unknown option(s) in {cfg_file}: n_mcc (did you mean n_mc?)" in capsys.readouterr().err


def test_unknown_config_keys_suggest_the_option_meant(tmp_path, capsys):
    """A flag's spelling (num-envs) and a typo name the option meant; a key YAML reads as a number was a traceback."""
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text("num-envs: 2\ntotl_steps: 64\n1: 2\nzzz: 3\n")
    assert main(["train", "--config", str(cfg_file)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and (f"unknown option(s) in {cfg_file}: 1, num-envs (did you mean num_envs?), totl_steps "
                                           f"(did you mean total_steps?), zzz; see `fpo train --help`") in err, err


def test_help_explains_options(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    assert "--n-mc" in out and "(τ, ε) pairs per action" in out and "--config" in out


def test_task_presets_apply_under_the_flags(tmp_path):
    """HalfCheetah gets its preset (8 envs × 256 steps); a flag still wins over the preset."""
    run = tmp_path / "run"
    rc = main(["train", "--env-id", "HalfCheetah-v5", "--num-minibatches", "2", "--total-steps", "2048", "--update-epochs", "1",
               "--run-dir", str(run), "--no-progress", "--eval-episodes", "0", "--no-tensorboard"])
    assert rc == 0
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["num_envs"] == 8 and saved["num_steps"] == 256 and saved["num_minibatches"] == 2


def _yaml(tmp_path, text: str):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return path


def test_config_values_are_checked_against_their_types(tmp_path):
    """YAML 1.1 reads 3e-4 and 1e5 as strings: numbers are read as numbers; a wrong type is named, not a traceback."""
    import pytest

    from fpo_core.errors import UsageError

    values = TrainConfig.values_from_yaml(_yaml(tmp_path, "learning_rate: 3e-4\ntotal_steps: 1e5\nactor_hidden: [32, 32]\n"
                                                          "reward_clip: None\ntarget_kl: null\n"))
    assert values == {"learning_rate": 3e-4, "total_steps": 100_000, "actor_hidden": (32, 32), "reward_clip": None,
                      "target_kl": None}
    assert type(values["total_steps"]) is int
    for text, message in [("num_envs: eight", "num_envs in .* must be an integer, got 'eight'"),
                          ("num_envs: 2.5", "must be an integer"),
                          ("algo: ppo", "algo in .* must be one of fpo, gaussian, dppo, got 'ppo'"),
                          ("activation: gelu", "activation in .* must be one of"),
                          ("squash: none", "squash in .* must be one of tanh, clip"),
                          ("actor_hidden: 64", "actor_hidden in .* must be a list of layer sizes"),
                          ("obs_norm: 'yes'", "obs_norm in .* must be true or false"),
                          ("env_id: 5", "env_id in .* must be a string")]:
        with pytest.raises(UsageError, match=message):
            TrainConfig.values_from_yaml(_yaml(tmp_path, text))


def test_partial_config_files_start_from_the_tasks_preset(tmp_path):
    from fpo_core.cli import train_config

    path = _yaml(tmp_path, "env_id: HalfCheetah-v5\nseed: 4\n")
    for argv in (["--config", str(path)], [f"--config={path}"]):
        cfg = train_config(argv)
        assert (cfg.env_id, cfg.seed, cfg.num_envs, cfg.loss_weighting) == ("HalfCheetah-v5", 4, 8, "velocity")
    assert train_config(["--config", str(_yaml(tmp_path, "env_id: HalfCheetah-v5\nnum_envs: 4\n"))]).num_envs == 4


def test_a_runs_config_yaml_starts_a_new_run(tmp_path):
    """A run's own config.yaml, reused with another seed, must not point at (or resume) that run."""
    from fpo_core.cli import train_config

    run = tmp_path / "run"
    (run).mkdir()
    saved = TrainConfig(run_dir=run, resume=True, n_mc=3).to_dict()
    assert "resume" not in saved and "config" not in saved
    saved["resume"] = True  # as runs resumed before 2026-11-27 wrote it
    (run / "config.yaml").write_text(yaml.safe_dump(saved))
    cfg = train_config(["--config", str(run / "config.yaml"), "--seed", "3"])
    assert not cfg.resume and cfg.run_dir is None and cfg.n_mc == 3 and cfg.seed == 3


def test_a_runs_config_reused_with_another_algo_names_the_defaults_it_carries(tmp_path, caplog):
    """A Gaussian run's config.yaml holds clip 0.2 and tanh: reused with --algo fpo they stay (the file sets them),
    and one warning names them with the flags for FPO's own (0.05, silu on HalfCheetah)."""
    from fpo_core.cli import train_config

    saved = TrainConfig(env_id="HalfCheetah-v5", algo="gaussian").resolved().to_dict()
    saved.update(activation="tanh", seed=5)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(saved))
    argv = ["--config", str(tmp_path / "config.yaml"), "--algo", "fpo", "--run-dir", str(tmp_path / "fpo")]
    with caplog.at_level("WARNING", logger="fpo"):
        cfg = train_config(argv).resolved()
    assert (cfg.algo, cfg.clip_coef, cfg.activation, cfg.seed) == ("fpo", 0.2, "tanh", 5)
    [warning] = caplog.messages
    assert "written for --algo gaussian" in warning and "--clip-coef 0.05" in warning and "--activation silu" in warning
    caplog.clear()
    with caplog.at_level("WARNING", logger="fpo"):  # given on the command line: nothing carried, nothing said
        train_config([*argv, "--clip-coef", "0.05", "--activation", "silu", "--loss-weighting", "velocity"])
        train_config(["--config", str(tmp_path / "config.yaml"), "--run-dir", str(tmp_path / "g")])  # same algo
    assert caplog.messages == []


def test_the_reuse_warning_leaves_out_what_the_new_algorithm_refuses(tmp_path, caplog):
    """An FPO run's loss weighting reused with --algo dppo is refused (it applies to FPO only): the warning does not
    say it stays, and names only what does."""
    from fpo_core.cli import train_config

    saved = dataclasses.replace(TrainConfig(env_id="HalfCheetah-v5", algo="fpo"), **preset("HalfCheetah-v5", "fpo"))
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(saved.resolved().to_dict()))
    with caplog.at_level("WARNING", logger="fpo"):
        cfg = train_config(["--config", str(tmp_path / "config.yaml"), "--algo", "dppo", "--run-dir", str(tmp_path / "d")])
    [warning] = caplog.messages
    assert "--clip-coef 0.2" in warning and "loss" not in warning, warning
    with pytest.raises(UsageError, match="--loss-weighting velocity .* applies to --algo fpo only"):
        cfg.resolved()


def test_config_files_do_not_mix_with_resume(tmp_path, capsys):
    path = _yaml(tmp_path, "n_mc: 3\n")
    assert main(["train", "--config", str(path), "--run-dir", str(tmp_path / "run"), "--resume"]) == 2
    assert "--config starts new runs" in capsys.readouterr().err


def test_runs_saved_with_a_retired_option_still_load(tmp_path):
    """Runs written before --env-groups was removed hold ``env_groups: 1``; it changed only speed, so it is dropped."""
    saved = {**TrainConfig(env_id="Hopper-v5").to_dict(), "env_groups": 1}
    assert TrainConfig.from_dict(saved).env_id == "Hopper-v5"
    (tmp_path / "old.yaml").write_text(yaml.safe_dump({"env_id": "Hopper-v5", "env_groups": 2}))
    assert TrainConfig.values_from_yaml(tmp_path / "old.yaml") == {"env_id": "Hopper-v5"}


def test_a_config_file_naming_another_config_file_is_refused(tmp_path, capsys):
    """``config:`` inside a config file was read as an option and ignored: the options of the file it names were lost."""
    other = _yaml(tmp_path, "n_mc: 3\n")
    path = tmp_path / "outer.yaml"
    path.write_text(f"config: {other}\nnum_envs: 2\n")
    tiny = ["--total-steps", "64", "--num-steps", "32", "--num-minibatches", "1", "--no-progress", "--eval-episodes", "0",
            "--no-tensorboard"]  # where the file is not refused, the run is short
    assert main(["train", "--config", str(path), "--run-dir", str(tmp_path / "run"), *tiny]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"config file {path} sets config: nested config files are not supported" in err, err
    assert not (tmp_path / "run").exists()


def test_gradient_clipping_can_be_turned_off(tmp_path, monkeypatch):
    """--max-grad-norm None: no clipping (inf used to mean that; options must now be finite)."""
    from torch import nn

    from fpo_core.trainer import Trainer

    from .helpers import tiny_config

    calls = []
    clip = nn.utils.clip_grad_norm_
    monkeypatch.setattr(nn.utils, "clip_grad_norm_", lambda *a, **k: (calls.append(1), clip(*a, **k))[1])
    Trainer(tiny_config(tmp_path / "off", max_grad_norm=None, total_steps=128)).train()
    assert not calls
    Trainer(tiny_config(tmp_path / "on", total_steps=128)).train()
    assert calls, "the default clips"


def test_a_tilde_in_paths_means_the_home_folder(tmp_path, monkeypatch):
    """The shell leaves ``--run-dir=~/runs`` (and YAML ``run_dir: ~/runs``) as written: the run went into a folder named
    ``~`` in the working directory, and its summary pointed at the home folder where nothing was."""
    from fpo_core.cli import EvalArgs, home, train_config

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert train_config(["--run-dir=~/runs/a"]).resolved().run_dir == tmp_path / "home" / "runs" / "a"
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "c.yaml").write_text("run_dir: ~/runs/b\nn_mc: 3\n")
    cfg = train_config(["--config", "~/c.yaml"]).resolved()
    assert cfg.run_dir == tmp_path / "home" / "runs" / "b" and cfg.n_mc == 3
    args = home(EvalArgs(path=Path("~/runs/a"), video=Path("~/v.mp4")))
    assert (args.path, args.video) == (tmp_path / "home" / "runs" / "a", tmp_path / "home" / "v.mp4")


def test_invalid_yaml_is_named_in_one_line(tmp_path, capsys):
    """PyYAML's own message spans lines (its context, the source line, a caret): the error said little on its first line."""
    for text, needle in (("seed:\t3\n", "found character '\\t' that cannot start any token at line 1, column 6 (YAML does not "
                                        "allow tabs: use spaces)"),
                         ('env_id: "abc\n', "while scanning a quoted scalar at line 1, column 9")):
        path = tmp_path / "c.yaml"
        path.write_text(text)
        assert main(["train", "--config", str(path), "--run-dir", str(tmp_path / "run")]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and f"config file {path} is not valid YAML: " in err and needle in err, err
