"""A distributed recipe search on one machine, its output kept: ``results/tune_distributed.txt``.

The search of ``tests/test_tune.py`` (sixty 32-pixel images, random weights, 4 trials of 8
combinations), run by the same helper: a chief and two workers, three processes sharing the trials
through KerasTuner's gRPC oracle on 127.0.0.1. Writes each process's command, exit status and
output, and which worker ran which trial.

    .venv/bin/python benchmarks/tune_distributed.py
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from conftest import write_class_tree  # noqa: E402
from test_tune import distributed_search, started, trial_records  # noqa: E402

OUT = REPO / "benchmarks" / "results" / "tune_distributed.txt"
TF_LOG = re.compile(r"^([IWE]\d{4} |WARNING: All log messages before absl)")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = write_class_tree(tmp / "data", train_per_class=6, test_per_class=1)
        folder = tmp / "tune"
        folder.mkdir()
        start = time.perf_counter()
        results = distributed_search(data, folder)
        seconds = time.perf_counter() - start
        records = trial_records(folder / "search")
        summary = json.loads((folder / "search" / "summary.json").read_text())
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    lines = [
        "# A recipe search on one machine, a chief and two workers: benchmarks/tune_distributed.py",
        f"# commit {commit}; {seconds:.0f} s wall time on 2 CPU cores shared with other work",
        "# data: sixty 32-pixel images made by tests/conftest.py (write_class_tree), random weights",
        "# TensorFlow's start-up log lines (absl's I0000, W0000, E0000 ...) are left out of each output",
        "",
    ]
    for tuner_id, (command, code, output) in results.items():
        shown = " ".join(str(a).replace(str(tmp), "$TMP") for a in command)
        kept = [line for line in output.replace(str(tmp), "$TMP").splitlines() if not TF_LOG.match(line)]
        lines += [f"## {tuner_id}: exit status {code}", f"$ {shown}", *kept, ""]
    lines += ["## trials", "trial  worker  validation accuracy  values"]
    for trial_id, r in records.items():
        t = r["trial"]
        lines.append(f"{trial_id:>5}  {t['tuner_id']:>6}  {t['val_accuracy']:>19.4f}  {t['hyperparameters']}")
    ran = {w: started(results[w][2]) for w in ("tuner0", "tuner1")}
    lines += [
        "",
        f"trials started per worker: {ran}",
        f"best: {summary['best']['id']}, validation accuracy {summary['best']['val_accuracy']:.4f}",
    ]
    OUT.write_text("\n".join(lines) + "\n")
    print(OUT.read_text())


if __name__ == "__main__":
    main()
