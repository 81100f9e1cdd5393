"""The GridWorld of the FPO paper (§4.1): a 25×25 grid, continuous actions, goals on the top and bottom rows.

The agent sits on a cell ``(x, y) ∈ {0..size − 1}²``; row ``y = size − 1`` (top) and row ``y = 0`` (bottom) are goals.
Reaching either ends the episode with reward +1 (the only reward: sparse). The middle of the grid is
a saddle point, equidistant to both goal rows, where an optimal policy is bimodal (up or down).
"""

from __future__ import annotations

from typing import Literal, Optional

import gymnasium as gym
import numpy as np

Start = Literal["random", "saddle"]
TOP, BOTTOM, NONE = 1, -1, 0


class GridWorldEnv(gym.Env):
    """Action in ``[−1, 1]²``, rounded per axis to a move of −1, 0 or +1 cell; observation: the cell scaled to ``[−1, 1]²``.

    Whole cells keep the middle row exactly equidistant to both goals, so up and down are equally good there.
    ``start="random"`` (default, for training) draws the start cell uniformly over the non-goal rows,
    ``"saddle"`` starts at the middle. ``info["goal"]`` is ``1`` (top), ``-1`` (bottom) or ``0``.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, size: int = 25, start: Start = "random", render_mode: Optional[str] = None):
        if size < 3 or size % 2 == 0:
            raise ValueError(f"GridWorld size must be odd and >= 3 (a middle row), got {size}")
        if start not in ("random", "saddle"):
            raise ValueError(f"unknown start {start!r}: choose random or saddle")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"unsupported render_mode {render_mode!r}: use rgb_array or None")
        self.size, self.start, self.render_mode = size, start, render_mode
        self.top = float(size - 1)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.pos = np.full(2, self.top / 2)

    @property
    def saddle(self) -> np.ndarray:
        """The middle of the grid (position)."""
        return np.full(2, self.top / 2)

    def obs(self) -> np.ndarray:
        return (2.0 * self.pos / self.top - 1.0).astype(np.float32)

    def goal(self) -> int:
        """Which goal row the agent is on: ``TOP``, ``BOTTOM`` or ``NONE``."""
        return TOP if self.pos[1] >= self.top else BOTTOM if self.pos[1] <= 0.0 else NONE

    def reset(self, *, seed: Optional[int] = None, options: Optional[dict] = None):
        super().reset(seed=seed)
        if self.start == "saddle":
            self.pos = self.saddle
        else:
            self.pos = np.array([self.np_random.integers(0, self.size), self.np_random.integers(1, self.size - 1)], dtype=float)
        return self.obs(), {"goal": NONE}

    def step(self, action):
        move = np.rint(np.clip(np.asarray(action, dtype=np.float64).reshape(2), -1.0, 1.0))
        self.pos = np.clip(self.pos + move, 0.0, self.top)
        goal = self.goal()
        return self.obs(), float(goal != NONE), goal != NONE, False, {"goal": goal}

    def render(self) -> Optional[np.ndarray]:
        """An RGB image: goal rows green, the agent red, 8 pixels per cell (top row at the top)."""
        if self.render_mode != "rgb_array":
            return None
        cell = 8
        img = np.full((self.size * cell, self.size * cell, 3), 255, np.uint8)
        img[:cell], img[-cell:] = (120, 200, 120), (120, 200, 120)
        col, row = self.pos.astype(int)
        r = self.size - 1 - row
        img[r * cell:(r + 1) * cell, col * cell:(col + 1) * cell] = (220, 40, 40)
        return img
