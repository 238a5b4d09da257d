"""The recipe search (``python -m cifar_lessons tune``, cifar_lessons.tuning) on a tiny search.

Sixty 32-pixel images, random weights, one head epoch on cached features and no fine-tuning: each
trial is the recipe's two phases in seconds. The space has 8 combinations and the budget is 4
trials, so the oracle must choose; the test set is never evaluated. Once in one process, killed in
its second trial and started again; once as a chief and two workers, three processes on this
machine that share the trials through KerasTuner's own gRPC oracle.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO

from cifar_lessons.records.schema import record_problems

MAX_TRIALS = 4
SPACE = ["--space", "head_learning_rate=0.001,0.01", "--space", "label_smoothing=0,0.1",
         "--space", "head_epochs=1,2", "--space", "augment=false"]


def tune_args(data: Path, folder: Path, *more: str) -> list[str]:
    return ["tune", "--data", str(data), "--weights", "none", "--backbone", "efficientnet_lite0",
            "--image-size", "32", "--n", "40", "--batch-size", "8", "--fine-tune-epochs", "0", "--fine-tune-lr", "1e-5",
            *SPACE, "--max-trials", str(MAX_TRIALS), "--dir", str(folder), "--verbose", "0", *more]


def environment(**more: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KERASTUNER_")}
    return {**env, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1", **more}


def run(args: list[str], timeout: int = 600, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cifar_lessons", *args], capture_output=True, text=True,
                          timeout=timeout, env=environment(**env))


def trial_records(project: Path) -> dict[str, dict]:
    """Every trial's record.json, by trial id."""
    return {p.parent.parent.name.removeprefix("trial_"): json.loads(p.read_text())
            for p in sorted(project.glob("trial_*/record/record.json"))}


def started(output: str) -> list[str]:
    """The trials a process started, from its ``<tuner>: trial <id> starts`` lines."""
    return [line.split()[2] for line in output.splitlines() if " starts: " in line and ": trial " in line]


def check_search(project: Path, output: str) -> dict:
    """What every finished search must be: MAX_TRIALS trial records, each valid and once only, and the
    best of them reported and summarised."""
    records = trial_records(project)
    assert len(records) == MAX_TRIALS, sorted(records)
    for trial_id, r in records.items():
        assert record_problems(r) == [], (trial_id, record_problems(r))
        assert (r["kind"], r["stage"], r["trial"]["id"]) == ("trial", "tuned", trial_id)
        assert not (project / f"trial_{trial_id}" / "record" / "metrics.json").exists(), "the test set was evaluated"
    values = [json.dumps(r["trial"]["hyperparameters"], sort_keys=True) for r in records.values()]
    assert len(set(values)) == MAX_TRIALS, f"a combination was tried twice: {values}"
    summary = json.loads((project / "summary.json").read_text())
    assert [t["id"] for t in summary["trials"]] == sorted(records)
    assert all(t["status"] == "COMPLETED" for t in summary["trials"])
    best = max(records.values(), key=lambda r: r["trial"]["val_accuracy"])
    assert summary["best"]["val_accuracy"] == best["trial"]["val_accuracy"]
    assert f"best trial {summary['best']['id']}: validation accuracy {best['trial']['val_accuracy']:.4f}" in output
    assert "python -m cifar_lessons run " in output
    return records


def test_the_space_takes_the_package_backbones_and_the_commands_choices(tmp_path):
    """No TensorFlow: every value is read and checked before the search starts."""
    from cifar_lessons.backbones import BACKBONE_NAMES
    from cifar_lessons.config import make_config
    from cifar_lessons.errors import ConfigError
    from cifar_lessons.tuning import search_space

    base = make_config("quick", env={}, weights="none")
    space = search_space(base, [], {})
    assert space["backbone"] == list(BACKBONE_NAMES) and space["augment"] == [False, True]
    space = search_space(base, ["image-size=32,64,32", "augment=off"], {"backbone": "efficientnet_lite0"})
    assert "backbone" not in space and space["image_size"] == [32, 64] and space["augment"] == [False]
    weights = tmp_path / "w.weights.h5"
    weights.write_bytes(b"")
    assert search_space(make_config("quick", env={}, weights=str(weights)), [], {})["backbone"] == ["resnet50"]
    for args, fixed, message in ((["image_size=16"], {}, "image size must be at least 32"),
                                 (["backbone=vgg"], {}, "unknown backbone 'vgg'"),
                                 (["dropout=0.1"], {}, "with a knob among"),
                                 (["augment=maybe"], {}, "is not on or off"),
                                 (["head_epochs=1"], {"head_epochs": 2}, "keep one")):
        with pytest.raises(ConfigError, match=message):
            search_space(base, args, fixed)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    from conftest import write_class_tree

    return write_class_tree(tmp_path_factory.mktemp("tune_data"), train_per_class=6, test_per_class=1)


def test_a_search_in_one_process_records_its_trials_and_resumes_without_running_one_twice(data, tmp_path):
    args = tune_args(data, tmp_path)
    killed = run(args, CIFAR_LESSONS_TEST_KILL_AT_TRIAL="2")  # dies as its second trial starts
    assert killed.returncode == -9, killed.stdout[-2000:] + killed.stderr[-2000:]
    project = tmp_path / "search"
    first = trial_records(project)
    assert list(first) == ["0"] and started(killed.stdout) == ["0"], killed.stdout
    interrupted = json.loads((project / "trial_1" / "trial.json").read_text())["hyperparameters"]["values"]
    before = (project / "trial_0" / "record" / "record.json").stat().st_mtime_ns

    resumed = run(args)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    assert started(resumed.stdout) == ["1", "2", "3"], resumed.stdout  # trial 0 finished: not again
    records = check_search(project, resumed.stdout)
    assert (project / "trial_0" / "record" / "record.json").stat().st_mtime_ns == before
    assert records["1"]["trial"]["hyperparameters"] == interrupted, "the killed trial was not the one resumed"

    again = run(args)  # a finished search: nothing runs, the same best is reported
    assert again.returncode == 0 and started(again.stdout) == [], again.stdout
    assert trial_records(project) == records

    other = run([*args[:-2], "--seed", "7", "--verbose", "0"])
    assert other.returncode == 2 and "holds a search with other options (seed)" in other.stderr, other.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def distributed_search(data: Path, folder: Path, timeout: float = 900) -> dict[str, tuple[list[str], int, str]]:
    """A chief and two workers, the same command in three processes: ``{tuner id: (command, exit code, output)}``."""
    port = str(free_port())
    args = [sys.executable, "-m", "cifar_lessons", *tune_args(data, folder)]
    procs, logs = {}, {}
    for tuner_id in ("chief", "tuner0", "tuner1"):
        logs[tuner_id] = (folder / f"{tuner_id}.log").open("w+")
        env = environment(KERASTUNER_TUNER_ID=tuner_id, KERASTUNER_ORACLE_IP="127.0.0.1",
                          KERASTUNER_ORACLE_PORT=port)
        procs[tuner_id] = subprocess.Popen(args, stdout=logs[tuner_id], stderr=subprocess.STDOUT, text=True, env=env)
    deadline = time.monotonic() + timeout
    try:
        for proc in procs.values():
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    results = {}
    for tuner_id, log in logs.items():
        log.seek(0)
        env = f"KERASTUNER_TUNER_ID={tuner_id} KERASTUNER_ORACLE_IP=127.0.0.1 KERASTUNER_ORACLE_PORT={port}"
        results[tuner_id] = ([env, "python", *args[1:]], procs[tuner_id].returncode, log.read())
        log.close()
    return results


def test_a_distributed_search_shares_its_trials_between_two_workers(data, tmp_path):
    results = distributed_search(data, tmp_path)
    outputs = {k: out for k, (_, _, out) in results.items()}
    for tuner_id, (_, code, out) in results.items():
        assert code == 0, f"{tuner_id} exited {code}:\n{out[-3000:]}"
    assert started(outputs["chief"]) == [], "the chief serves the oracle and runs no trial"
    ran = {w: started(outputs[w]) for w in ("tuner0", "tuner1")}
    assert all(ran.values()), f"a worker ran no trial: {ran}"
    assert not set(ran["tuner0"]) & set(ran["tuner1"]), f"a trial ran on both workers: {ran}"
    assert sorted(ran["tuner0"] + ran["tuner1"]) == [str(i) for i in range(MAX_TRIALS)], ran
    for w in ("tuner0", "tuner1"):
        assert f"worker {w}: ran trials {', '.join(ran[w])}; the search is over" in outputs[w]
    records = check_search(tmp_path / "search", outputs["chief"])
    assert {i: r["trial"]["tuner_id"] for i, r in records.items()} == {i: w for w in ran for i in ran[w]}
