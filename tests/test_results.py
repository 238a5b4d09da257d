"""The committed full-size results (results/): complete, traceable, and what the book's tables show."""

import json
import re
import shutil

import pytest
from conftest import REPO

from cifar_lessons.config import RunConfig, make_config
from cifar_lessons.display.cards import caveats, recipe_changes
from cifar_lessons.errors import RecordError
from cifar_lessons.records.committed import (
    COMMITTED_FILES,
    EXTRA,
    LADDER,
    check_committed,
    committed,
    ladder_rows,
    made_by_problems,
    read_record,
    results_root,
)
from cifar_lessons.records.store import load_record

RESULTS = REPO / "results"
# The CIFAR-10 project's records, checked here; every other chapter's family of records is checked
# by that chapter's own tests. A folder that belongs to no family fails below, so none goes unchecked.
OTHER_FAMILIES = {"fashion-": "test_fashion.py", "fashion-transfer": "test_fashion_transfer.py",
                  "segmentation-": "test_segmenter.py", "detection-": "test_detector.py",
                  "gradcam-": "test_grad_cam_study.py", "solution-": "test_student_notebooks.py",
                  "scratch-": "test_scratch.py", "head-lite0-": "test_scratch.py"}
CIFAR_FAMILIES = ("lite0-", "lite1-", "lite2-", "resnet50-")
#: Records whose run started while the working tree had edits (their commit keeps its "+changes"
#: mark), each with what the edits were and why they cannot have changed what the run computed.
EXPLAINED_CHANGES = {
    "lite1-112-better": "started at 0bdc58d while tests, chapter 6's page and display/frontier.py (which a "
    "run does not import) were being edited; the one edit to code a run imports, training.py in 4d8a1bf, "
    "lays out train_head's and fine_tune's signatures and renames **fit_options to **fit: the same computation",
}
FOLDERS = sorted(p.name for p in RESULTS.iterdir() if p.is_dir()) if RESULTS.is_dir() else []
NAMES = [n for n in FOLDERS if n.startswith(CIFAR_FAMILIES)]


def test_every_committed_folder_belongs_to_a_family_that_a_test_checks():
    stray = [n for n in FOLDERS if not n.startswith(CIFAR_FAMILIES + tuple(OTHER_FAMILIES))]
    assert not stray, f"results/ folders no test checks: {stray}"
    for family, test_file in OTHER_FAMILIES.items():
        if any(n.startswith(family) for n in FOLDERS):
            assert (REPO / "tests" / test_file).is_file(), f"{family}* records need {test_file}"


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
    commit = record.record["made_by"]["commit"]
    assert "+changes" not in commit or name in EXPLAINED_CHANGES, "made by uncommitted code"
    if name in EXPLAINED_CHANGES:
        assert commit.startswith(EXPLAINED_CHANGES[name].split(" at ")[1][:7]), (name, commit)
    # the run's folder is the record's name, wherever the run wrote it
    assert re.search(rf"--out (\S*/)?{re.escape(name)} ", record.record["made_by"]["command"])
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


def test_the_ladder_in_results_readme_is_the_records():
    """results/README.md's table: the ladder's rows, then the runs beside it, every figure the record's."""
    text = (RESULTS / "README.md").read_text()
    section = text[text.index("## Doing better"):text.index("\n## ", text.index("## Doing better"))]
    table = [[cell.strip() for cell in line.strip().strip("|").split("|")]
             for line in section.splitlines() if line.startswith("| ") and line.rstrip().endswith("` |")]
    expected = ladder_rows() + [{**row, "gain": ""} for row in ladder_rows(EXTRA)]
    assert [row[-1].strip("`") for row in table] == [r["record"] for r in expected]
    for row, want in zip(table, expected):
        assert row[1:] == [want["input"], want["epochs"], want["test accuracy"], want["gain"], want["wall time"],
                           f"`{want['record']}`"], row


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
                                      "128-pixel input", "3-epoch head phase"]
    assert recipe_changes(RunConfig()) == [] and recipe_changes(make_config("quick", env={})) == []


# read_record: the shared first checks of the Fashion-MNIST, transfer, detection and segmentation records.
FILES = ("record.json", "history.json", "metrics.json")
WHOLE = {"kind": "toy", "model": "cnn", "made_by": {"commit": "abc123", "command": "python scripts/measure_toy.py"}}


def toy_record(folder, **record):
    folder.mkdir()
    for name, data in zip(FILES, ({**WHOLE, **record}, {"history": {}}, {"accuracy": 0.5})):
        (folder / name).write_text(json.dumps(data))
    return folder


def read_toy(folder):
    return read_record(folder, FILES, what="toy", script="measure_toy.py", kind={"kind": "toy", "model": ("cnn", "mlp")})


def test_read_record_gives_every_file_by_name_and_no_problems_for_a_whole_record(tmp_path):
    rec, problems = read_toy(toy_record(tmp_path / "toy-1"))
    assert problems == []
    assert rec == {"record": WHOLE, "history": {"history": {}}, "metrics": {"accuracy": 0.5}}


@pytest.mark.parametrize("damage, message", [
    (lambda p: (p / "metrics.json").unlink(), r"^toy record \S*toy-1 lacks metrics\.json$"),
    (lambda p: [(p / f).unlink() for f in ("history.json", "metrics.json")], r"lacks history\.json, metrics\.json$"),
    (lambda p: (p / "history.json").write_text("{not json"), r"^toy record \S*toy-1 is corrupt: "),
])
def test_read_record_refuses_a_missing_or_corrupt_file_in_one_line(tmp_path, damage, message):
    folder = toy_record(tmp_path / "toy-1")
    damage(folder)
    with pytest.raises(RecordError, match=message) as caught:
        read_toy(folder)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("record, problems", [
    ({"made_by": {"command": "python scripts/measure_toy.py"}}, ["does not say which commit and command made it"]),
    ({"made_by": {"commit": "", "command": "python scripts/measure_toy.py"}}, ["does not say which commit and command made it"]),
    ({"made_by": {"commit": "abc123", "command": "python scripts/measure_other.py"}},
     ["does not say which commit and command made it"]),
    ({"made_by": {"commit": "abc123", "command": None}}, ["does not say which commit and command made it"]),
    ({"made_by": None}, ["does not say which commit and command made it"]),
    ({"model": "resnet"}, ["is not a toy run"]),
    ({"kind": "other", "model": "resnet"}, ["is not a toy run"]),
    ({"kind": "other", "made_by": {}}, ["is not a toy run", "does not say which commit and command made it"]),
])
def test_read_record_names_a_wrong_kind_and_a_record_that_does_not_say_what_made_it(tmp_path, record, problems):
    assert read_toy(toy_record(tmp_path / "toy-1", **record))[1] == problems


def test_made_by_problems_wants_a_commit_and_the_script_in_the_command():
    assert made_by_problems(WHOLE, "measure_toy.py") == []
    assert made_by_problems({}, "measure_toy.py") == ["does not say which commit and command made it"]
    assert made_by_problems(WHOLE, "measure_fashion.py") == ["does not say which commit and command made it"]


def test_measured_by_names_the_command_its_settings_and_warns_on_a_dirty_source(monkeypatch, capsys):
    import cifar_lessons.records.committed as results_module

    monkeypatch.setenv("CIFAR_LESSONS_BACKBONE", "efficientnet_lite0")
    monkeypatch.delenv("CIFAR_LESSONS_WEIGHTS", raising=False)
    monkeypatch.setattr(results_module, "source_commit", lambda: "abc123")
    made_by = results_module.measured_by("measure_x.py", ["cnn", "--out", "/tmp/a b"],
                                         env=("CIFAR_LESSONS_BACKBONE", "CIFAR_LESSONS_WEIGHTS"))
    assert made_by == {"commit": "abc123", "command": "CIFAR_LESSONS_BACKBONE=efficientnet_lite0 python "
                                                      "scripts/measure_x.py cnn --out '/tmp/a b'"}
    assert capsys.readouterr().out == ""
    assert results_module.made_by_problems({"made_by": made_by}, "measure_x.py") == []
    monkeypatch.setattr(results_module, "source_commit", lambda: "abc123+changes")
    assert results_module.measured_by("measure_x.py")["command"] == "python scripts/measure_x.py"
    assert "WARNING: the source is not a clean commit (abc123+changes)" in capsys.readouterr().out


def test_a_study_s_record_asked_for_as_the_recipe_s_is_one_clear_line():
    """committed() reads the recipe's records; another kind (a study's) gets one line saying so, not a KeyError."""
    with pytest.raises(RecordError) as caught:
        committed("scratch-cnn-32")
    assert str(caught.value).startswith("committed record scratch-cnn-32 is a scratch-vs-transfer run")
    assert "\n" not in str(caught.value)
