"""GAE against a hand computation, across an episode boundary."""

import numpy as np
import torch

from fpo_core.rollout import RolloutBuffer, gae


def test_gae_matches_a_hand_computation():
    g, lam = 0.9, 0.5
    r, v, d, last = [1.0, 2.0, 3.0], [0.5, 1.0, 1.5], [0.0, 1.0, 0.0], 2.0  # the episode ends after step 1
    d2 = 3.0 + g * last - 1.5
    d1 = 2.0 - 1.0  # no bootstrap past the end of an episode
    d0 = 1.0 + g * 1.0 - 0.5
    expected = [d0 + g * lam * d1, d1, d2]  # and no advantage flows back across it
    col = lambda x: torch.tensor(x).unsqueeze(1)  # noqa: E731  [T, N=1]
    adv = gae(col(r), col(v), col(d), torch.tensor([last]), g, lam)
    torch.testing.assert_close(adv.squeeze(1), torch.tensor(expected))


def test_buffer_batch_returns_are_advantages_plus_values():
    buf = RolloutBuffer(num_steps=2, num_envs=3, obs_dim=1, act_dim=1, device=torch.device("cpu"))
    for t in range(2):
        buf.store(buf.index[t], torch.full((3, 1), float(t)), torch.zeros(3, 1), torch.full((3,), 0.5), {"logp": torch.zeros(3)})
        buf.add_env(t, np.array([1.0, 2.0, 3.0]), np.array([False, t == 0, False]))
    batch = buf.finish(torch.zeros(3), 0.99, 0.95)
    assert len(batch) == 6 and batch.extras["logp"].shape == (6,)
    torch.testing.assert_close(batch.returns, batch.advantages + batch.values)
    # env 1's episode ended at step 0, so its step-0 advantage is its one-step TD error: 2 − 0.5
    assert batch.advantages[1].item() == 1.5
