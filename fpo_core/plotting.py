"""Learning-curve plots from a run's ``metrics.csv`` (no W&B needed)."""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot_learning_curve(metrics_csv: Path, out_png: Path, title: str = "") -> None:
    steps, returns = [], []
    with open(metrics_csv) as f:
        for row in csv.DictReader(f):
            r = float(row.get("episode_return") or "nan")
            if r == r:
                steps.append(int(row["global_step"]))
                returns.append(r)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(steps, returns)
    ax.set_xlabel("environment steps")
    ax.set_ylabel("episodic return (recent mean)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out_png, dpi=100)
    plt.close(fig)
