"""Data-parallel training: two CPU ranks over gloo stay bit-identical; statistics merge exactly."""

import csv
import os
import signal
import socket
import subprocess
import sys

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from fpo_core.checkpoint import load_checkpoint
from fpo_core.distributed import Comm
from fpo_core.normalize import RunningNorm
from fpo_core.trainer import Trainer

from .helpers import logged_updates, tiny_config, wait_while_running


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank(rank: int, world: int, port: int, tmp: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    comm = Comm(rank, world)
    trainer = Trainer(tiny_config(os.path.join(tmp, "run"), total_steps=1024, algo="fpo"), comm)
    seen = []
    merge = trainer.update_obs_norm
    trainer.update_obs_norm = lambda obs: (seen.append(obs.clone()), merge(obs))[1]
    trainer.train()
    params = [p.detach().clone() for p in [*trainer.policy.parameters(), *trainer.critic.parameters()]]
    torch.save({"params": params, "policy": trainer.policy.state_dict(), "norm": trainer.obs_norm.state_dict(), "seen": torch.cat(seen),
                "return_stats": trainer.reward_scaler.stats.clone()}, os.path.join(tmp, f"rank{rank}.pt"))
    comm.barrier()  # as fpo train does: no rank destroys the group while another still uses it
    comm.close()


def test_two_gloo_ranks_stay_identical_and_merge_statistics(tmp_path):
    mp.spawn(_rank, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    assert not torch.equal(r0["seen"], r1["seen"]), "each rank must step its own environments"
    assert all(torch.equal(a, b) for a, b in zip(r0["params"], r1["params"])), "parameters diverged across ranks"
    for k in ("mean", "var", "count"):
        assert torch.equal(r0["norm"][k], r1["norm"][k])
    assert torch.equal(r0["return_stats"], r1["return_stats"]), "every rank must scale rewards by the same return std"
    assert r0["return_stats"][0].item() == 2 * 1024 // 2, "the return statistics count every rank's env steps"
    union = RunningNorm(r0["seen"].shape[1])
    union.update(torch.cat([r0["seen"], r1["seen"]]))
    assert r0["norm"]["count"].item() == union.count.item() == 2 * r0["seen"].shape[0]
    assert torch.allclose(r0["norm"]["mean"], union.mean) and torch.allclose(r0["norm"]["var"], union.var)
    ckpt = load_checkpoint(tmp_path / "run")
    assert ckpt["global_step"] == 1024  # steps count every rank's environments
    assert all(torch.equal(v, r0["policy"][k]) for k, v in ckpt["policy"].items()), "rank 0 writes its own networks"


TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
SMALL = ["--num-envs", "2", "--num-steps", "64", "--num-minibatches", "2", "--update-epochs", "1", "--no-progress",
         "--no-tensorboard", "--eval-episodes", "0"]


def test_torchrun_launches_the_cli_and_a_single_process_resumes_it(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cli = ["-m", "fpo_core.cli", "train", *SMALL, "--run-dir", str(tmp_path / "run")]
    r = subprocess.run([*TORCHRUN, *cli, "--total-steps", "1024"], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.count("run directory") == 1, "only rank 0 reports"
    assert load_checkpoint(tmp_path / "run")["global_step"] == 1024
    # one process has half the batch per update: the run still ends at its step budget, and the rate anneals over steps
    r = subprocess.run([sys.executable, *cli, "--total-steps", "2048", "--resume"], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert load_checkpoint(tmp_path / "run")["global_step"] == 2048
    with open(tmp_path / "run" / "metrics.csv") as f:
        rows = [(int(row["global_step"]), float(row["lr"])) for row in csv.DictReader(f)]
    resumed = [(step, lr) for step, lr in rows if step > 1024]
    assert [step for step, _ in resumed] == list(range(1152, 2049, 128))
    for step, lr in resumed:  # each update's rate: 3e-4 · (1 − steps before it / 2048)
        assert abs(lr - 3e-4 * (1 - (step - 128) / 2048)) < 1e-12, rows


def test_sigterm_to_torchrun_stops_every_rank_with_a_checkpoint(tmp_path):
    """Preemption (SLURM and torchrun forward SIGTERM): all ranks finish the same update, rank 0 saves it."""
    run = tmp_path / "run"
    cmd = [*TORCHRUN, "-m", "fpo_core.cli", "train", *SMALL, "--total-steps", "1000000", "--checkpoint-every", "1000",
           "--run-dir", str(run)]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env={**os.environ, "OMP_NUM_THREADS": "1"}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    wait_while_running(proc, lambda: logged_updates(run) >= 2)
    assert proc.poll() is None, proc.stderr.read()[-3000:]
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert err.count("with a checkpoint: continue with") == 1, err[-3000:]  # rank 0 reports, as everywhere
    assert err.count("stopping after this update") == 1 and "Ctrl-C again" not in err, err[-3000:]  # torchrun: SIGTERM, soft
    with open(run / "metrics.csv") as f:
        last = int(list(csv.DictReader(f))[-1]["global_step"])
    assert load_checkpoint(run)["global_step"] == last > 0


def _children(pid: int) -> list[int]:
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except (FileNotFoundError, ProcessLookupError):  # exited meanwhile
            continue
        if int(stat.rpartition(")")[2].split()[1]) == pid:  # field 4, after the parenthesised command name
            found.append(int(entry))
    return found


def test_ranks_left_by_a_killed_torchrun_save_and_stop(tmp_path):
    """SIGKILL (or an OOM kill) of torchrun's agent leaves its ranks running as orphans: they stop after the update
    with a checkpoint instead of training on unseen and holding the run directory."""
    run = tmp_path / "run"
    cmd = [*TORCHRUN, "-m", "fpo_core.cli", "train", *SMALL, "--total-steps", "1000000", "--checkpoint-every", "1000",
           "--run-dir", str(run)]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env={**os.environ, "OMP_NUM_THREADS": "1"}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    ranks: list[int] = []
    try:
        wait_while_running(proc, lambda: logged_updates(run) >= 2)
        assert proc.poll() is None, proc.stderr.read()[-3000:]
        ranks = _children(proc.pid)
        assert len(ranks) == 2, ranks
        proc.kill()
        _, err = proc.communicate(timeout=120)  # the ranks hold stderr open until they exit
        assert "torchrun (pid" in err and err.count("with a checkpoint: continue with") == 1, err[-3000:]
        with open(run / "metrics.csv") as f:
            last = int(list(csv.DictReader(f))[-1]["global_step"])
        assert load_checkpoint(run)["global_step"] == last > 0
    finally:
        for pid in ranks:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_ranks_seed_disjoint_envs_also_with_more_than_a_thousand_per_rank():
    from fpo_core.config import TrainConfig
    from fpo_core.trainer import first_env_seed

    for num_envs in (16, 1500):
        cfg = TrainConfig(num_envs=num_envs, seed=3)
        seeds = [set(range(first_env_seed(cfg, rank, 0), first_env_seed(cfg, rank, 0) + num_envs)) for rank in range(4)]
        assert sum(map(len, seeds)) == len(set().union(*seeds)), num_envs
    assert first_env_seed(TrainConfig(seed=3), 2, 5) == 3 + 2000 + 7919 * 5  # unchanged below 1000 envs: runs resume alike


def _diverging_rank(rank: int, world: int, port: int, tmp: str) -> None:
    """Rank 1's value loss overflows in the second update (its own data); rank 0's stays finite."""
    import datetime

    from fpo_core.errors import TrainingDiverged

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world, timeout=datetime.timedelta(seconds=60))
    comm = Comm(rank, world)
    trainer = Trainer(tiny_config(os.path.join(tmp, "run"), total_steps=2048, algo="fpo"), comm)
    update, calls = trainer.update, []

    def overflowing(batch, gen=None):
        stats = update(batch, gen)
        calls.append(1)
        return {**stats, "value_loss": float("inf")} if rank == 1 and len(calls) == 2 else stats

    trainer.update = overflowing
    try:
        trainer.train()
        outcome = "trained on"
    except TrainingDiverged as e:
        outcome = str(e)
    with open(os.path.join(tmp, f"rank{rank}.txt"), "w") as f:
        f.write(outcome)
    comm.barrier()
    comm.close()


def test_every_rank_stops_when_one_rank_diverges(tmp_path):
    """Losses are each rank's own: without agreement rank 0 would train on alone (or hang in the next all-reduce)."""
    mp.spawn(_diverging_rank, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    r0, r1 = ((tmp_path / f"rank{r}.txt").read_text() for r in (0, 1))
    assert "value_loss not finite" in r1, r1
    assert "training diverged in update 2" in r0 and "another rank" in r0, r0


def _rank_left_alone(rank: int, world: int, port: int, tmp: str) -> None:
    """Rank 0 refuses the run directory (it holds a run) and leaves; rank 1 is left waiting at the set-up barrier."""
    import datetime

    from fpo_core.errors import FpoError

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world, timeout=datetime.timedelta(seconds=60))
    try:
        Trainer(tiny_config(os.path.join(tmp, "run")), Comm(rank, world))
        outcome = "started"
    except FpoError as e:  # what the CLI prints as one line; anything else is a traceback on every rank left
        outcome = f"{type(e).__name__}: {e}"
    with open(os.path.join(tmp, f"rank{rank}.txt"), "w") as f:
        f.write(outcome)
    dist.destroy_process_group()


def test_the_ranks_left_by_a_failed_rank_stop_with_one_line(tmp_path):
    from fpo_core.checkpoint import LATEST

    (tmp_path / "run" / LATEST).parent.mkdir(parents=True)
    (tmp_path / "run" / LATEST).write_bytes(b"")
    mp.spawn(_rank_left_alone, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    r0, r1 = ((tmp_path / f"rank{r}.txt").read_text() for r in (0, 1))
    assert r0.startswith("UsageError") and "already holds a run" in r0, r0
    assert r1.startswith("RankLost: rank 1 lost the other ranks in barrier") and "\n" not in r1, r1
