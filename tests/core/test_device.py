"""HostToDevice: the rollout's observations reach the device as float32, through one reused buffer."""

import numpy as np
import pytest
import torch

from fpo_core.device import HostToDevice

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
def test_arrays_arrive_as_float32_in_the_same_tensor(device):
    stage = HostToDevice((2, 3), torch.device(device))
    first = stage(np.arange(6, dtype=np.float64).reshape(2, 3) + 0.5)
    assert first.dtype == torch.float32 and first.device.type == device
    torch.testing.assert_close(first.cpu(), torch.arange(6, dtype=torch.float32).reshape(2, 3) + 0.5)
    second = stage(np.full((2, 3), -1.0))
    assert second is first and torch.equal(second.cpu(), torch.full((2, 3), -1.0))
