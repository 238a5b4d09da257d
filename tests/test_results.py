"""The committed full-size results (results/): complete, traceable, and what the book's tables show."""

import json
import shutil

import numpy as np
import pytest

from cifar_lessons.book import caveats, recipe_changes
from cifar_lessons.config import RunConfig, make_config
from cifar_lessons.errors import RecordError
from cifar_lessons.records import load_record
from cifar_lessons.results import (COMMITTED_FILES, EXTRA, LADDER, check_committed, committed, ladder_rows,
                                   results_root)

from conftest import REPO

RESULTS = REPO / "results"
# The CIFAR-10 recipe's records; the Fashion-MNIST chapter's (fashion-*) are checked in test_fashion.py,
# the Grad-CAM chapter's (gradcam-*) in test_grad_cam_study.py.
NAMES = sorted(p.name for p in RESULTS.iterdir() if p.is_dir() and not p.name.startswith(("fashion-", "gradcam-"))) \
    if RESULTS.is_dir() else []


def test_the_checkout_reads_its_own_results_folder(monkeypatch):
    monkeypatch.delenv("CIFAR_LESSONS_RESULTS", raising=False)
    assert results_root() == RESULTS


def test_every_step_of_the_ladder_has_a_committed_record():
    assert {s.record for s in LADDER + EXTRA} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_each_committed_record_is_a_whole_full_size_run_that_says_what_made_it(name):
    record = load_record(RESULTS / name, model=False)
    check_committed(record)  # files, no model, made_by, history length, confusion matrix, wall time
    assert sorted(p.name for p in record.path.iterdir()) == sorted(COMMITTED_FILES)
    c, d = record.config, record.data
    assert (c["n"], d["n_train"], d["n_val"], d["n_test"]) == (10_000, 9_000, 1_000, 10_000)
    assert record.record["made_by"]["command"].startswith("python -m cifar_lessons run ")
    assert "+changes" not in record.record["made_by"]["commit"], "made by uncommitted code"
    assert f"--out runs/measured/{name} " in record.record["made_by"]["command"]
    assert record.weights["pretrained"] or c["backbone"] == "resnet50"
    assert sum(map(sum, record.metrics["confusion_matrix"])) == 10_000


def test_ladder_rows_are_read_from_the_records():
    rows = ladder_rows()
    assert [r["record"] for r in rows] == [s.record for s in LADDER]
    for row, step in zip(rows, LADDER):
        metrics = json.loads((RESULTS / step.record / "metrics.json").read_text())
        expected = metrics["without_flip_test"]["accuracy"] if step.single_pass else metrics["accuracy"]
        assert row["test accuracy"] == f"{expected:.1%}"
        timing = json.loads((RESULTS / step.record / "record.json").read_text())["timing"]
        assert row["wall time"] == f"{timing['run_seconds'] / 60:.1f} min"


@pytest.fixture
def copy_of_a_record(tmp_path):
    source = RESULTS / LADDER[0].record
    target = tmp_path / LADDER[0].record
    shutil.copytree(source, target)
    return target


@pytest.mark.parametrize("damage, message", [
    (lambda p: (p / "metrics.json").unlink(), "is not an evaluated run"),
    (lambda p: (p / "model.keras").write_bytes(b"x"), "holds model.keras"),
    (lambda p: _edit(p, "record.json", lambda r: r.pop("made_by")), "does not say which commit and command"),
    (lambda p: _edit(p, "history.json", lambda h: h["history"]["val_accuracy"].pop()), "history shorter"),
    (lambda p: _edit(p, "record.json", lambda r: r["timing"].pop("run_seconds")), "has no wall time"),
])
def test_an_incomplete_record_is_refused(copy_of_a_record, damage, message):
    damage(copy_of_a_record)
    with pytest.raises(RecordError, match=message):
        committed(copy_of_a_record.name, root=copy_of_a_record.parent)


def _edit(folder, name, change):
    data = json.loads((folder / name).read_text())
    change(data)
    (folder / name).write_text(json.dumps(data))


def test_the_better_profile_is_not_called_quick_on_its_run_card():
    better = make_config("better", env={})
    notes = " ".join(caveats(better, None, {"pretrained": True, "weights": "imagenet", "description": "x"}))
    assert "Quick profile" not in notes and "Not the seed recipe" in notes
    assert recipe_changes(better) == ["fine-tuning at 0.0001 with a cosine decay", "random flips and crops",
                                      "mirrored test images", "128-pixel input", "3-epoch head phase"]
    assert recipe_changes(RunConfig()) == [] and recipe_changes(make_config("quick", env={})) == []
