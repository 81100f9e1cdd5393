"""Atomic writes (checkpoints, exported models): the old file survives a failed write; modes follow the umask."""

import os
import stat

import pytest
import torch

from fpo_core.atomic import write_atomic
from fpo_core.checkpoint import load_checkpoint, save_checkpoint
from fpo_core.export import export_policy

from .test_export import synthetic_checkpoint


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_checkpoint_and_exported_model_are_readable_by_other_users(tmp_path, umask_022):
    ckpt = synthetic_checkpoint(tmp_path / "ckpt.pt", "fpo")
    export_policy(ckpt, tmp_path / "p.onnx")
    for path in (ckpt, tmp_path / "p.onnx"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, f"{path.name}: a ROS node running as another user cannot read it"


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "f.bin"
    write_atomic(path, lambda f: f.write(b"old"))

    def fail(f):
        f.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_atomic(path, fail)
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["f.bin"]


class _FailsToPickle:
    """A payload entry torch.save meets after it has begun writing the file, as a full disk would interrupt it."""

    def __reduce__(self):
        raise RuntimeError("disk full")


def test_a_failed_checkpoint_save_keeps_the_previous_checkpoint(tmp_path):
    """save_checkpoint itself writes atomically: a run killed or failing mid-save still resumes from its last one."""
    path = tmp_path / "checkpoints" / "latest.pt"
    save_checkpoint(path, {"global_step": 128, "weights": torch.arange(1000.0)})
    with pytest.raises(RuntimeError, match="disk full"):
        save_checkpoint(path, {"global_step": 256, "weights": torch.zeros(1000), "broken": _FailsToPickle()})
    assert load_checkpoint(path)["global_step"] == 128
    assert [p.name for p in path.parent.iterdir()] == ["latest.pt"], "no temporary file may be left behind"
