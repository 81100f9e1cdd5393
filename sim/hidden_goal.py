"""HiddenGoal: a 2-D point mass whose goal is one of two positions mirrored about the start; the side is hidden.

In the spirit of the FPO paper's under-conditioned task (§4.3). Each episode draws a goal axis
``u = (cos θ, sin θ)``, θ ~ U[0, π), and a hidden side ``s ∈ {−1, +1}``; the goal is ``s · R · u``,
one step away from the start, and its mirror image ``−s · R · u`` is a decoy. The policy observes
the axis and its position, never the side. Reaching the true goal ends the episode with reward +1
(the only reward, so the return is the success rate); reaching the decoy sends the point back to
the start, which looks exactly like the first try. A deterministic policy therefore repeats the
same choice and succeeds in half the episodes; one that samples ``+u`` or ``−u`` afresh at every
try (a bimodal action distribution, correlated across the two action dimensions) nearly always
succeeds within the 10-step limit, and the average of the two modes, standing still, never does.
"""

from __future__ import annotations

from typing import Optional

import gymnasium as gym
import numpy as np


class HiddenGoalEnv(gym.Env):
    """Action: a velocity in ``[−1, 1]²`` (times ``step_size`` per step); observation ``[cos θ, sin θ, x, y]``.

    ``info``: ``success``
    (reached the true goal this step), ``decoys`` (decoy hits so far) and ``goal`` (for analysis
    only, not observed). ``reset(options={"side": ±1, "theta": float})`` fixes the hidden side or the axis.
    """

    metadata = {"render_modes": [], "render_fps": 10}

    def __init__(self, goal_distance: float = 0.3, radius: float = 0.15, step_size: float = 0.3, arena: float = 1.0,
                 render_mode: Optional[str] = None):
        if not 0 < radius < goal_distance < arena:
            raise ValueError("HiddenGoal needs 0 < radius < goal_distance < arena")
        if render_mode is not None:
            raise ValueError(f"HiddenGoal does not render (render_mode {render_mode!r})")
        self.goal_distance, self.radius, self.step_size, self.arena = goal_distance, radius, step_size, arena
        self.action_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        high = np.array([1.0, 1.0, arena, arena], np.float32)
        self.observation_space = gym.spaces.Box(-high, high)
        self.pos = np.zeros(2)
        self.axis, self.side, self.decoys = np.array([1.0, 0.0]), 1, 0

    @property
    def goal(self) -> np.ndarray:
        return self.side * self.goal_distance * self.axis

    def obs(self) -> np.ndarray:
        return np.array([*self.axis, *self.pos], dtype=np.float32)

    def reset(self, *, seed: Optional[int] = None, options: Optional[dict] = None):
        super().reset(seed=seed)
        options = options or {}
        theta = float(options.get("theta", self.np_random.uniform(0.0, np.pi)))
        self.axis = np.array([np.cos(theta), np.sin(theta)])
        self.side = int(options.get("side", self.np_random.choice((-1, 1))))
        if self.side not in (-1, 1):
            raise ValueError(f"side must be -1 or +1, got {self.side}")
        self.pos, self.decoys = np.zeros(2), 0
        return self.obs(), {"success": False, "decoys": 0, "goal": self.goal}

    def step(self, action):
        move = np.clip(np.asarray(action, dtype=np.float64).reshape(2), -1.0, 1.0) * self.step_size
        self.pos = np.clip(self.pos + move, -self.arena, self.arena)
        success = bool(np.linalg.norm(self.pos - self.goal) <= self.radius)
        if not success and np.linalg.norm(self.pos + self.goal) <= self.radius:
            self.pos, self.decoys = np.zeros(2), self.decoys + 1
        info = {"success": success, "decoys": self.decoys, "goal": self.goal}
        return self.obs(), float(success), success, False, info
