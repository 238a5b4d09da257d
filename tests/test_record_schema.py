"""One schema for every run record: the committed ones match it, and nothing is written that does not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cifar_lessons.errors import RecordError
from cifar_lessons.records.schema import SCHEMA_PATH, record_problems

RESULTS = Path(__file__).resolve().parent.parent / "results"
COMMITTED = sorted(RESULTS.glob("*/record.json"))


def test_the_schema_is_a_valid_json_schema():
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.validators.validator_for(schema).check_schema(schema)


@pytest.mark.parametrize("path", COMMITTED, ids=[p.parent.name for p in COMMITTED])
def test_every_committed_record_matches_the_schema(path):
    assert record_problems(json.loads(path.read_text())) == []


def test_every_kind_of_run_has_the_same_shape():
    records = [json.loads(p.read_text()) for p in COMMITTED]
    kinds = {r["kind"] for r in records}
    assert {"recipe", "grad-cam", "solution-notebook", "fashion-mnist", "detection", "segmentation"} <= kinds
    for r in records:
        assert isinstance(r["weights"], dict) and isinstance(r["timing"]["run_seconds"], int | float)
        assert r["made_by"]["commit"] and r["made_by"]["command"]


def _valid() -> dict:
    return json.loads(COMMITTED[0].read_text())


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda r: r.pop("weights"), "'weights' is a required property"),
        (lambda r: r.__setitem__("weights", "none: trained from scratch"), "weights: 'none: trained"),
        (lambda r: r["timing"].pop("run_seconds"), "timing: 'run_seconds' is a required property"),
        (lambda r: r.pop("made_by"), "'made_by' is a required property"),
        (lambda r: r.__setitem__("stage", "tuned-ish"), "stage: 'tuned-ish' is not one of"),
        (lambda r: r.__setitem__("extra", 1), "Additional properties are not allowed ('extra'"),
    ],
)
def test_a_record_that_differs_is_described_in_one_line_each(change, expected):
    record = _valid()
    change(record)
    problems = record_problems(record)
    assert len(problems) == 1 and expected in problems[0], problems


def test_save_record_refuses_a_record_that_does_not_match(tmp_path):
    from cifar_lessons.records.store import save_record

    record = _valid()
    for key in ("producer", "written"):
        record.pop(key)
    record["weights"] = "none: trained from scratch"
    with pytest.raises(RecordError, match="does not match record.schema.json: weights"):
        save_record(tmp_path / "run", record=record, history={}, model=None, metrics={})
    assert not (tmp_path / "run").exists()
    record["weights"] = _valid()["weights"]
    save_record(tmp_path / "run", record=record, history={}, model=None, metrics={})
    assert record_problems(json.loads((tmp_path / "run" / "record.json").read_text())) == []


def test_a_study_trained_from_scratch_in_a_chapter_writes_a_full_record():
    """No weights, no whole-run clock and no command (a chapter's run): the record still has all three."""
    from dataclasses import asdict, dataclass

    from cifar_lessons.studies import study_record, timing

    @dataclass
    class Config:
        epochs: int = 2

        def to_dict(self):
            return asdict(self)

    record = study_record(
        "detection", "a CNN", Config(), epochs=2, parameters=10, data={"n_train": 5, "n_test": 5},
        timing=timing(12.0), made_by=None,
    )
    record |= {"producer": "cifar_lessons", "written": "2026-12-03T00:00:00+00:00"}
    assert record_problems(record) == []
    assert record["weights"]["pretrained"] is False and record["weights"]["backbone"] is None
    assert record["timing"]["run_seconds"] == 12.0
    assert record["made_by"]["command"] == "the book's chapter"


def _trial() -> dict:
    """A search trial's record: the recipe's, stopped before the test set (stage tuned), with its trial block."""
    record = _valid() | {"kind": "trial", "stage": "tuned"}
    record["trial"] = {"id": "3", "tuner_id": "tuner0", "search": "search",
                       "hyperparameters": {"label_smoothing": 0.1}, "objective": "val_accuracy",
                       "val_accuracy": 0.5, "val_loss": 1.2}
    return record


def test_a_search_trial_record_carries_its_trial_and_is_never_evaluated():
    """kind trial (cifar_lessons.tuning): the trial's values and validation score are required, and
    a trial record is a tuned stage, not a full one (the test set is never evaluated in a search)."""
    assert record_problems(_trial()) == []
    missing = _trial()
    missing.pop("trial")
    assert any("'trial' is a required property" in p for p in record_problems(missing))
    evaluated = _trial() | {"stage": "full"}
    assert any(p.startswith("stage:") for p in record_problems(evaluated))
    no_score = _trial()
    no_score["trial"].pop("val_accuracy")
    assert any("'val_accuracy' is a required property" in p for p in record_problems(no_score))
    assert record_problems(_valid() | {"trial": _trial()["trial"]}) == []  # the key is known to the schema
