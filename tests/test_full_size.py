"""The build size and full size of chapters 00b, 00c, 09 and 10: the variable, the records' cards,
the measure scripts (which make full-size records by default) and what the chapters say it costs."""

from __future__ import annotations

import importlib.util
import re

import pytest
from conftest import REPO

from cifar_lessons.config import ENV_FULL_SIZE, PROFILES, resolve_full_size
from cifar_lessons.detection import config as det_config
from cifar_lessons.detection import record as det_record
from cifar_lessons.detection import scenes as det_scenes
from cifar_lessons.errors import ConfigError
from cifar_lessons.fashion import scratch as fashion
from cifar_lessons.fashion import transfer as ft
from cifar_lessons.segmentation import config as seg_config
from cifar_lessons.segmentation import record as seg_record
from cifar_lessons.segmentation import scenes as seg_scenes

#: Each chapter's configuration function (and how the chapter calls it), its config class and the
#: committed records it shows.
CHAPTERS = {
    "00b_fashion_from_scratch": (fashion.fashion_config, "fashion.fashion_config", fashion.FashionConfig,
                                 list(fashion.COMMITTED.values())),
    "00c_fashion_transfer": (ft.transfer_config, "ft.transfer_config", ft.TransferConfig, [ft.COMMITTED]),
    "09_detection": (det_config.detector_config, "detector_config", det_config.DetectorConfig,
                     [det_config.COMMITTED]),
    "10_segmentation": (seg_config.segment_config, "segment_config", seg_config.SegmentConfig, [seg_config.COMMITTED]),
}


BUILD = {"CIFAR_LESSONS_BUILD": "1"}  # what make site sets while the chapters execute


@pytest.mark.parametrize("value, full", [
    ("0", False), ("false", False), ("No", False), (" no ", False),
    ("1", True), ("true", True), ("YES", True), ("True", True),
])
def test_the_variable_says_yes_or_no_in_a_build_and_out_of_it(value, full):
    assert resolve_full_size(None, {ENV_FULL_SIZE: value}) is full
    assert resolve_full_size(None, {ENV_FULL_SIZE: value, **BUILD}) is full


@pytest.mark.parametrize("value", [None, ""])
def test_unset_it_is_full_size_where_a_student_runs_and_the_build_size_in_the_book_build(value):
    env = {} if value is None else {ENV_FULL_SIZE: value}
    assert resolve_full_size(None, env) is True  # Colab, a student's Jupyter: the real run
    assert resolve_full_size(None, {**env, **BUILD}) is False  # make site: minutes, not half an hour
    assert resolve_full_size(None, {**env, "CIFAR_LESSONS_BUILD": "0"}) is True


def test_an_explicit_argument_wins_over_the_variable_even_a_bad_one():
    assert resolve_full_size(True, {}) is True
    assert resolve_full_size(False, {ENV_FULL_SIZE: "1"}) is False
    assert resolve_full_size(True, {ENV_FULL_SIZE: "maybe"}) is True


@pytest.mark.parametrize("value", ["maybe", "2", "full", "on"])
def test_any_other_value_is_a_one_line_error_naming_the_variable_and_the_accepted_values(value):
    with pytest.raises(ConfigError) as caught:
        resolve_full_size(None, {ENV_FULL_SIZE: value})
    message = str(caught.value)
    assert "\n" not in message and f"{ENV_FULL_SIZE}={value!r}" in message
    assert all(word in message for word in ("1", "true", "yes", "0", "false", "no", "unset"))


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_book_profile_trains_the_build_size_in_a_build_and_full_size_is_the_defaults(chapter):
    make, _, Config, _ = CHAPTERS[chapter]
    backbone = {"CIFAR_LESSONS_BACKBONE": "efficientnet_lite0"} if Config is ft.TransferConfig else {}
    assert make(env=backbone).full_size(), "outside the book's build (Colab, Jupyter) a chapter trains at full size"
    env = {**backbone, **BUILD}
    for profile in PROFILES:
        small = make(profile, env=env)
        assert small.profile == profile and not small.full_size() and small.size_name() == "build size"
        assert {k: getattr(small, k) for k in Config.build_size} == Config.build_size
        for full in (make(profile, full_size=True, env=env), make(profile, env={**env, ENV_FULL_SIZE: "1"})):
            assert full.full_size() and full.size_name() == "full size"
            assert full == Config(profile=profile, **({"backbone": "efficientnet_lite0"} if backbone else {}))
    assert make(env={**env, ENV_FULL_SIZE: "1"}, full_size=False).size_name() == "build size"
    with pytest.raises(ConfigError, match=ENV_FULL_SIZE):
        make(env={**env, ENV_FULL_SIZE: "maybe"})


def _card(chapter: str, rec: dict) -> str:
    return {"00b_fashion_from_scratch": fashion.record_card, "00c_fashion_transfer": ft.record_card,
            "09_detection": det_record.record_card, "10_segmentation": seg_record.record_card}[chapter](rec).data


def _record(name: str):
    check = {"fashion-dense": fashion.check_record, "fashion-cnn": fashion.check_record,
             ft.COMMITTED: ft.check_record, det_config.COMMITTED: det_record.check_record,
             seg_config.COMMITTED: seg_record.check_record}[name]
    path = REPO / "results" / name
    if not path.is_dir():
        pytest.skip(f"results/{name} is not measured yet")
    return check(path)


@pytest.mark.parametrize("module, make", [(det_record, det_config.detector_config), (seg_record, seg_config.segment_config)])
def test_the_detection_and_segmentation_cards_warn_at_the_build_size_only(module, make):
    source = {"official": True, "description": "Debian's copy"}
    small = module.run_card(make(env=BUILD), source).data
    assert "<b>Build size.</b>" in small and "CIFAR_LESSONS_FULL_SIZE=1" in small
    assert "<b>Run:</b> build size &middot;" in small and "Not the real result" in small
    full = module.run_card(make(full_size=True, env={}), source).data
    assert "Not the real result" not in full and "<b>Run:</b> full size &middot;" in full


@pytest.mark.parametrize("chapter, name", [(c, n) for c, (*_, names) in CHAPTERS.items() for n in names])
def test_a_committed_records_card_says_full_size_and_warns_of_nothing(chapter, name):
    """Records made before the build size existed say profile "seed" and hold full-size values: full size."""
    card = _card(chapter, _record(name))
    assert f"<b>Record {name}:</b> full size &middot;" in card
    assert "Not the real result" not in card and "Build size" not in card and "build size" not in card


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_each_chapter_says_how_to_train_at_full_size_and_what_its_records_took(chapter):
    """The one line that tells a reader how: the config call, the variable and the records' own wall time."""
    _, call, _, names = CHAPTERS[chapter]
    records = [_record(name) for name in names]
    minutes = sum(rec["record"]["timing"]["run_seconds"] for rec in records) / 60
    notes = " ".join((REPO / "book" / f"{chapter}.py").read_text().replace("\n# ", " ").split())
    assert "Opened in Colab or your own Jupyter, this chapter trains at full size" in notes
    assert f"`{call}(full_size=False)`" in notes, "how to ask for the small run"
    assert "`CIFAR_LESSONS_FULL_SIZE=1`" in notes and "whatever its profile" in notes
    said = re.search(r"about ([\d.]+) minutes on 2 CPU cores", notes)
    assert said and abs(float(said[1]) - minutes) <= 0.5, (said and said[0], f"{minutes:.1f} min")


# --------------------------------------------------------------------------- the measure scripts
class Stop(Exception):
    """Raised instead of loading data: the test needs only the configuration the script built."""


#: Each script: the module and name of the config function it calls, and of what it loads first.
SCRIPTS = {
    "measure_fashion": (fashion, "fashion_config", fashion, "load"),
    # The transfer script loads Fashion-MNIST through cifar_lessons.fashion.scratch.
    "measure_fashion_transfer": (ft, "transfer_config", fashion, "load"),
    "measure_detection": (det_config, "detector_config", det_scenes, "load_scenes"),
    "measure_segmentation": (seg_config, "segment_config", seg_scenes, "build_scenes"),
}


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _config_built(monkeypatch, name: str, argv: list[str]):
    """Run the script's ``main`` until it loads data; return the configuration it built (no training)."""
    module, make_name, loader_module, loader = SCRIPTS[name]
    built = []
    make = getattr(module, make_name)
    monkeypatch.setattr(module, make_name, lambda *a, **k: built.append(make(*a, **k)) or built[-1])

    def stop(*args, **kwargs):
        raise Stop

    monkeypatch.setattr(loader_module, loader, stop)
    monkeypatch.setenv(ENV_FULL_SIZE, "0")  # the scripts make full-size records whatever the book says
    monkeypatch.delenv("CIFAR_LESSONS_PROFILE", raising=False)
    with pytest.raises(Stop):
        _script(name).main(argv)
    return built[-1]


@pytest.mark.parametrize("name", SCRIPTS)
def test_a_measure_script_makes_a_full_size_record_by_default_and_tries_out_at_the_build_size(name, monkeypatch, tmp_path):
    full = _config_built(monkeypatch, name, ["--out", str(tmp_path)])
    assert full.full_size() and full.profile == "seed"
    assert full == type(full)(**({"backbone": full.backbone} if hasattr(full, "backbone") else {}))
    small = _config_built(monkeypatch, name, ["--profile", "quick", "--out", str(tmp_path)])
    assert small.size_name() == "build size" and small.profile == "quick"


@pytest.mark.parametrize("name", SCRIPTS)
def test_a_measure_script_refuses_a_build_size_run_into_results(name, monkeypatch, capsys):
    _, _, loader_module, loader = SCRIPTS[name]
    monkeypatch.setattr(loader_module, loader, lambda *a, **k: pytest.fail("the script went on to load data"))
    with pytest.raises(SystemExit) as exit:
        _script(name).main(["--profile", "quick"])
    assert exit.value.code == 2 and "results/ holds full-size runs only" in capsys.readouterr().err
