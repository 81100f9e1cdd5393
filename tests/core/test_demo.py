"""``fpo demo`` (README command 1) wires its flags into training and leaves a trained, exported run."""

import pytest
import yaml

from fpo_core.cli import main


def test_demo_trains_exports_and_passes_update_threads(tmp_path, capsys):
    run = tmp_path / "demo"
    assert main(["demo", "--total-steps", "1024", "--update-threads", "1", "--no-ros", "--run-dir", str(run)]) == 0
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["update_threads"] == 1 and saved["total_steps"] == 1024
    assert (run / "policy.onnx").stat().st_size > 0 and (run / "checkpoints").is_dir()
    assert "exported" in capsys.readouterr().out


@pytest.mark.parametrize("args,needle", [
    (["--ros-steps", "0"], "--ros-steps must be in 1..10,000"),
    (["--ros-steps", "10", "10001"], "got 10001"),
    (["--episodes", "0"], "--episodes must be >= 1, got 0"),
])
def test_demo_checks_the_ros_options_before_training(tmp_path, capsys, args, needle):
    run = tmp_path / "demo"
    assert main(["demo", "--total-steps", "1024", "--run-dir", str(run), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err, err
    assert not run.exists()  # refused before training wrote anything
