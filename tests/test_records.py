import json
import os

import numpy as np
import pytest
from conftest import minimal_record

from cifar_lessons.config import make_config
from cifar_lessons.data import load_cifar10
from cifar_lessons.errors import RecordError
from cifar_lessons.recipe import head_stage, new_model, save_stage, stage_dir
from cifar_lessons.records.store import load_record, save_record
from cifar_lessons.training import TwoPhaseHistory


@pytest.fixture(scope="module")
def small(png_tree):
    config = make_config("quick", env={}, data=str(png_tree), weights="none", n=20, backbone="efficientnetb0",
                         head=(32, 16), batch_size=8, head_epochs=1, fine_tune_epochs=1)
    return config, load_cifar10(config.data, n=config.n, seed=config.seed), new_model(config)


def test_record_survives_save_and_reload(small, tmp_path):
    config, data, model = small
    history = TwoPhaseHistory({"loss": [2.0, 1.5], "val_loss": [2.1, 1.9]}, phase2_start=1,
                              seconds={"head": 1.0, "fine_tune": 2.0})
    probs = np.random.default_rng(0).dirichlet(np.ones(10), size=len(data.x_test)).astype(np.float32)
    rec = save_stage(tmp_path / "run", config, data, "full", model, history, {"accuracy": 0.5}, probs)
    again = load_record(tmp_path / "run")
    assert again.config == config.to_dict()
    assert again.data["kind"] == "class-folders" and again.data["n_test"] == 20
    assert again.data["n_train"] + again.data["n_val"] == 20
    assert again.weights["weights"] == "none" and again.weights["pretrained"] is False
    assert TwoPhaseHistory.from_dict(again.history) == history
    assert again.metrics == {"accuracy": 0.5}
    assert again.record["timing"] == {"head_seconds": 1.0, "fine_tune_seconds": 2.0, "run_seconds": 3.0}
    assert {"tensorflow", "keras", "numpy"} <= set(again.record["environment"]["packages"])
    assert again.record["environment"]["device"]
    np.testing.assert_allclose(again.predictions(), probs)
    x = data.x_test[:4].astype("float32")
    np.testing.assert_allclose(rec.load_model().predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert not again.load_model().get_layer("efficientnetb0").trainable


def test_existing_folder_is_refused_unless_overwrite(small, tmp_path):
    config, data, model = small
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "keep.txt").write_text("mine")
    with pytest.raises(RecordError, match="already exists"):
        save_stage(tmp_path / "run", config, data, "head", model, TwoPhaseHistory())
    with pytest.raises(RecordError, match="not a run record"):  # a user's folder is never replaced
        save_stage(tmp_path / "run", config, data, "head", model, TwoPhaseHistory(), overwrite=True)
    assert (tmp_path / "run" / "keep.txt").exists()
    (tmp_path / "run" / "keep.txt").unlink()
    save_stage(tmp_path / "other", config, data, "head", model, TwoPhaseHistory())
    save_stage(tmp_path / "other", config, data, "head", model, TwoPhaseHistory(), overwrite=True)  # a record is
    assert sorted(os.listdir(tmp_path)) == ["other", "run"]


def test_failed_write_leaves_nothing_behind(small, tmp_path, monkeypatch):
    _, _, model = small
    from cifar_lessons.records import store as records

    def full_disk(model, path):
        """The model's save fails after record.json and history.json are already written."""
        assert (path.parent / "record.json").exists()
        raise OSError("disk full")

    monkeypatch.setattr(records, "_save_without_optimizer", full_disk)
    with pytest.raises(OSError, match="disk full"):
        save_record(tmp_path / "run", record=minimal_record(), history={}, model=model)
    assert os.listdir(tmp_path) == []


def test_incomplete_record_is_reported(tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "record.json").write_text(json.dumps({}))
    with pytest.raises(RecordError, match="incomplete: missing history.json, model.keras"):
        load_record(tmp_path / "r")
    with pytest.raises(RecordError, match="no run record"):
        load_record(tmp_path / "nothing")


def test_head_stage_is_made_once_then_loaded(small, tmp_path):
    config, data, _ = small
    model, history = head_stage(config, data, verbose=0, root=tmp_path)
    assert (stage_dir(config, "head", tmp_path) / "model.keras").exists()
    again, history2 = head_stage(config, data, verbose=0, root=tmp_path)
    assert history2 == history
    x = data.x_test[:3].astype("float32")
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
