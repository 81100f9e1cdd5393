"""Networks: the flow velocity field, the critic and the Gaussian actor (all MLPs)."""

from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {"silu": nn.SiLU, "tanh": nn.Tanh, "relu": nn.ReLU, "elu": nn.ELU}


def mlp(sizes: Sequence[int], activation: str, out_gain: float = 1.0) -> nn.Sequential:
    """Linear layers with ``activation`` between them (none after the last); orthogonal init."""
    act = ACTIVATIONS[activation]
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = i == len(sizes) - 2
        layers.append(_init(nn.Linear(n_in, n_out), out_gain if last else math.sqrt(2)))
        if not last:
            layers.append(act())
    return nn.Sequential(*layers)


def _init(layer: nn.Linear, gain: float) -> nn.Linear:
    nn.init.orthogonal_(layer.weight, gain)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
    return layer


class TimeEmbedding(nn.Module):
    """``[sin(π·2^k·τ), cos(π·2^k·τ)]`` for k < dim/2."""

    def __init__(self, dim: int = 8):
        super().__init__()
        if dim % 2:
            raise ValueError(f"time embedding size must be even, got {dim}")
        self.register_buffer("freqs", math.pi * 2.0 ** torch.arange(dim // 2, dtype=torch.float32))

    def forward(self, tau: torch.Tensor) -> torch.Tensor:
        angles = tau * self.freqs  # [..., 1] * [dim/2]
        return torch.cat([angles.sin(), angles.cos()], dim=-1)


class VelocityField(nn.Module):
    """``v_θ(x, τ, o)``: observation, noisy action and time in, a velocity of the action's size out.

    The first layer is split into observation, action and time parts so that a sampler can encode
    the observation once and reuse it for every integration step (same maths as one layer on the
    concatenation).
    """

    def __init__(self, obs_dim: int, act_dim: int, hidden: Sequence[int], activation: str = "silu", time_dim: int = 8):
        super().__init__()
        if not hidden:
            raise ValueError("the velocity field needs at least one hidden layer")
        h = hidden[0]
        self.time_embedding = TimeEmbedding(time_dim)
        self.obs_in = _init(nn.Linear(obs_dim, h), math.sqrt(2))
        self.act_in = _init(nn.Linear(act_dim, h, bias=False), math.sqrt(2))
        self.time_in = _init(nn.Linear(time_dim, h, bias=False), math.sqrt(2))
        self.trunk = nn.Sequential(ACTIVATIONS[activation](), mlp([*hidden, act_dim], activation, out_gain=0.01))
        self._tau_tables: dict[tuple, torch.Tensor] = {}

    def encode_obs(self, obs: torch.Tensor) -> torch.Tensor:
        return self.obs_in(obs)

    def pair_input(self, x: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
        """``[x, embed(τ)]``, the parameter-free input of the action and time layers (τ broadcasts over x)."""
        emb = self.time_embedding(tau)
        return torch.cat([x, emb.expand(*x.shape[:-1], emb.shape[-1])], dim=-1)

    def time_code(self, tau: torch.Tensor) -> torch.Tensor:
        """``time_in(embed(τ))``: the time layer's share of the first hidden layer."""
        return self.time_in(self.time_embedding(tau))

    def velocity_at(self, obs_code: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
        """``velocity`` from ``pair_input(x, τ)`` computed beforehand, the action and time layers as one matmul:
        the training update's form (its pairs are fixed for a whole rollout)."""
        w = torch.cat([self.act_in.weight, self.time_in.weight], dim=1)
        return self.trunk(obs_code + pairs @ w.t())

    def velocity(self, obs_code: torch.Tensor, x: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
        # separate layers, not velocity_at: in the exported graph an evaluation takes 11 µs this way, 16 with the concat
        return self.trunk(obs_code + self.act_in(x) + self.time_code(tau))

    def forward(self, obs: torch.Tensor, x: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
        """``obs [B, O]``, ``x [B, A]``, ``tau [B, 1]`` (normalised observations) → ``[B, A]``."""
        return self.velocity(self.encode_obs(obs), x, tau)

    def field(self, obs: torch.Tensor, times: Sequence[float] = ()) -> Callable[[torch.Tensor, float], torch.Tensor]:
        """``v(x, τ)`` for a fixed batch of observations, as the integrators expect.

        For sampling without gradients it computes the observation code once and the time codes of ``times``
        (the τ the integrator will ask for: ``integrators.eval_times``) in one batched pass, folds each into a
        bias, and per call runs the action layer as one ``addmm`` and the trunk's layers without module
        dispatch: the same maths as ``forward`` with about half the kernels per step. Other τ work too.
        """
        code = self.encode_obs(obs)
        tau = lambda t: torch.full((1, 1), t, dtype=code.dtype, device=code.device)  # noqa: E731
        if torch.is_grad_enabled():
            return lambda x, t: self.velocity(code, x, tau(t))
        w_act = self.act_in.weight.t()
        trunk = _plain_layers(self.trunk)
        row = {t: i for i, t in enumerate(times)}
        biases = code + self.time_code(self._tau_table(times, code)) if times else None  # [n, B, H]

        def v(x: torch.Tensor, t: float) -> torch.Tensor:
            i = row.get(t)
            bias = biases[i] if i is not None else code + self.time_code(tau(t))
            h = torch.addmm(bias, x, w_act)
            for layer in trunk:
                h = layer(h)
            return h

        return v

    def _tau_table(self, times: Sequence[float], like: torch.Tensor) -> torch.Tensor:
        """``times`` as a ``[n, 1, 1]`` tensor on ``like``'s device, kept: a constant that CUDA graph replays reuse
        (a host-to-device copy cannot be captured; the warm-up calls before a capture create it)."""
        key = (tuple(times), like.device, like.dtype)
        taus = self._tau_tables.get(key)
        if taus is None:
            taus = self._tau_tables[key] = torch.tensor(times, dtype=like.dtype).reshape(-1, 1, 1).to(like.device)
        return taus


def _plain_layers(net: nn.Module) -> list[Callable[[torch.Tensor], torch.Tensor]]:
    """``net``'s leaf layers in order as plain calls, for no-grad use: a ``Linear`` becomes one ``addmm``
    with its weight transposed once, an activation its ``forward`` (no hooks, no nested dispatch)."""
    layers: list[Callable[[torch.Tensor], torch.Tensor]] = []
    for m in net.modules():
        if isinstance(m, nn.Linear) and m.bias is not None:
            layers.append(lambda h, b=m.bias, wt=m.weight.t(): torch.addmm(b, h, wt))
        elif not isinstance(m, nn.Sequential):
            layers.append(m.forward)
    return layers


class Critic(nn.Module):
    def __init__(self, obs_dim: int, hidden: Sequence[int], activation: str = "silu"):
        super().__init__()
        self.net = mlp([obs_dim, *hidden, 1], activation, out_gain=1.0)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs).squeeze(-1)


class GaussianActor(nn.Module):
    """Mean MLP with a state-independent log standard deviation (CleanRL style)."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: Sequence[int], activation: str = "silu", init_log_std: float = 0.0):
        super().__init__()
        self.mean = mlp([obs_dim, *hidden, act_dim], activation, out_gain=0.01)
        self.log_std = nn.Parameter(torch.full((act_dim,), float(init_log_std)))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.mean(obs)

    def distribution(self, obs: torch.Tensor) -> torch.distributions.Normal:
        mean = self.mean(obs)
        # no argument validation: its checks read values back to the host (a sync per call on a GPU)
        return torch.distributions.Normal(mean, self.log_std.exp().expand_as(mean), validate_args=False)
