import json

import pytest

from cifar_lessons.cli import main
from cifar_lessons.config import RunConfig, make_config, resolve_profile
from cifar_lessons.errors import ConfigError


def test_seed_profile_is_exactly_the_recipe():
    c = make_config("seed", env={})
    assert (c.n, c.image_size, c.backbone, c.weights, c.head_epochs, c.fine_tune_epochs) == \
        (10_000, 32, "resnet50", "imagenet", 10, 10)
    assert c.head[0] > c.head[1] and c.data is None
    q = make_config("quick", env={})
    assert q.n < c.n and q.head_epochs < 10 and q.image_size == 32 and q.backbone == "resnet50"


def test_environment_fills_what_options_leave_open(tmp_path):
    (tmp_path / "x.tar.gz").write_bytes(b"")  # the data path must exist: it is checked with the options
    env = {"CIFAR_LESSONS_PROFILE": "quick", "CIFAR_LESSONS_BACKBONE": "efficientnetb0",
           "CIFAR_LESSONS_DATA": str(tmp_path / "x.tar.gz"), "CIFAR_LESSONS_WEIGHTS": "None"}
    c = make_config(env=env)
    assert (c.profile, c.backbone, c.data, c.weights) == ("quick", "efficientnetb0", str(tmp_path / "x.tar.gz"), "none")
    c = make_config("seed", env=env, backbone="resnet50")
    assert (c.profile, c.backbone) == ("seed", "resnet50")
    assert RunConfig.from_dict(c.to_dict()) == c
    assert c.key != make_config("seed", env=env).key


def test_command_line_options_override_environment_and_profile(monkeypatch):
    from cifar_lessons.cli import build_parser, config_from_args

    monkeypatch.setenv("CIFAR_LESSONS_BACKBONE", "efficientnetb0")
    monkeypatch.setenv("CIFAR_LESSONS_PROFILE", "quick")
    c = config_from_args(build_parser().parse_args(["run", "--augment", "--image-size", "96", "--n", "500"]))
    assert (c.profile, c.backbone, c.augment, c.image_size, c.n) == ("quick", "efficientnetb0", True, 96, 500)
    c = config_from_args(build_parser().parse_args(["run", "--backbone", "resnet50"]))
    assert (c.backbone, c.augment, c.n) == ("resnet50", False, 2_000)


def run_cli(args, capsys):
    code = main(["run", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_runs_end_to_end_with_random_weights(png_tree, tmp_path, capsys):
    out_dir = tmp_path / "rec"
    code, out, err = run_cli(["--profile", "quick", "--data", str(png_tree), "--weights", "none", "--n", "30",
                              "--head-epochs", "1", "--fine-tune-epochs", "1", "--batch-size", "8",
                              "--out", str(out_dir), "--verbose", "0"], capsys)
    assert code == 0, err
    assert "test accuracy:" in out and f"record written to {out_dir}" in out
    assert "warning: random weights" in out
    record = json.loads((out_dir / "record.json").read_text())
    assert record["config"]["profile"] == "quick" and record["config"]["n"] == 30
    assert record["data"]["path"] == str(png_tree) and record["weights"]["weights"] == "none"
    assert set(record["timing"]) == {"head_seconds", "fine_tune_seconds", "evaluate_seconds", "run_seconds"}
    assert record["timing"]["run_seconds"] >= sum(v for k, v in record["timing"].items() if k != "run_seconds")
    # which code and which command made it, so a committed figure can be made again
    assert record["made_by"]["command"].startswith("python -m cifar_lessons run --profile quick --data ")
    assert f"--out {out_dir}" in record["made_by"]["command"]
    assert len(record["made_by"]["commit"].split("+")[0]) == 40
    metrics = json.loads((out_dir / "metrics.json").read_text())
    assert metrics["n_test"] == 20 and 0 <= metrics["accuracy"] <= 1
    assert len(metrics["confusion_matrix"]) == 10 and set(metrics["per_class"]) >= {"cat", "dog"}
    history = json.loads((out_dir / "history.json").read_text())
    assert history["phase2_start"] == 1 and len(history["history"]["loss"]) == 2
    assert (out_dir / "model.keras").stat().st_size > 1_000_000


@pytest.fixture
def truncated(jpeg_tree_tar, tmp_path):
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(jpeg_tree_tar.read_bytes()[:2000])
    return cut


@pytest.mark.parametrize(
    "args, message",
    [
        (["--profile", "huge"], "unknown profile 'huge'"),
        (["--backbone", "vgg16"], "unknown backbone 'vgg16'"),
        (["--image-size", "16"], "image size must be at least 32"),
        (["--n", "0"], "n must be a positive number"),
        (["--n", "61"], "holds only 60 training images"),
        (["--data", "/no/such/place"], "data path '/no/such/place' does not exist"),
        (["--data", "TRUNCATED"], "truncated or not a valid tar archive"),
        (["--weights", "/no/such.weights.h5"], "weights file '/no/such.weights.h5' does not exist"),
        (["--out", "EXISTING"], "already exists"),
        (["--fine-tune-lr", "0"], "the fine-tuning learning rate (--fine-tune-lr) must be a positive number"),
        (["--fine-tune-lr", "nan"], "the fine-tuning learning rate (--fine-tune-lr) must be a positive number"),
    ],
)
def test_each_bad_input_gets_one_clear_line(args, message, png_tree, truncated, tmp_path, capsys):
    (tmp_path / "existing").mkdir()
    args = [{"TRUNCATED": str(truncated), "EXISTING": str(tmp_path / "existing")}.get(a, a) for a in args]
    base = {"--profile": "quick", "--data": str(png_tree), "--weights": "none", "--n": "20",
            "--out": str(tmp_path / "new")}
    for flag, value in base.items():
        if flag not in args:
            args += [flag, value]
    code, out, err = run_cli(args, capsys)
    assert code == 2
    assert err.startswith("error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "new").exists()


def test_weights_file_for_another_backbone_is_refused(png_tree, tmp_path, capsys):
    from cifar_lessons.models import build_base

    path = tmp_path / "b0.weights.h5"
    build_base("efficientnetb0", weights=None).save_weights(path)
    code, _, err = run_cli(["--profile", "quick", "--data", str(png_tree), "--weights", str(path),
                            "--n", "20", "--out", str(tmp_path / "new")], capsys)
    assert code == 2 and "does not fit resnet50" in err
    assert not (tmp_path / "new").exists()


def test_config_errors_are_value_errors_too():
    with pytest.raises(ConfigError):
        make_config("seed", env={}, head=(128, 128))


def test_better_profile_is_the_measured_winner_and_seed_is_untouched():
    better = make_config("better", env={})
    assert (better.head_epochs, better.fine_tune_epochs, better.fine_tune_learning_rate, better.fine_tune_schedule,
            better.augment, better.image_size, better.flip_test) == (3, 10, 1e-4, "cosine", True, 128, False)
    assert (better.n, better.backbone, better.head, better.dropout) == (10_000, "resnet50", (256, 128), 0.3)
    seed = make_config("seed", env={})
    assert (seed.fine_tune_learning_rate, seed.fine_tune_schedule, seed.augment, seed.flip_test) == \
        (1e-5, "constant", False, False)
    # every option the ladder of chapter 6 uses can be set on its own
    from cifar_lessons.cli import build_parser, config_from_args

    c = config_from_args(build_parser().parse_args(
        ["run", "--profile", "seed", "--fine-tune-lr", "1e-4", "--schedule", "cosine", "--flip-test"]))
    assert (c.fine_tune_learning_rate, c.fine_tune_schedule, c.flip_test, c.augment) == (1e-4, "cosine", True, False)


def test_a_bad_schedule_in_a_config_gets_one_line():
    with pytest.raises(ConfigError, match="schedule must be one of constant, cosine"):
        make_config("seed", env={}, fine_tune_schedule="step")


# resolve_profile: the one way the recipe and every chapter with its own profiles read CIFAR_LESSONS_PROFILE.
CHAPTER_PROFILES = {"seed": {}, "tiny": {}}


def test_resolve_profile_takes_the_argument_then_the_variable_then_seed():
    assert resolve_profile(None, {}, CHAPTER_PROFILES) == "seed"
    assert resolve_profile(None, {"CIFAR_LESSONS_PROFILE": "tiny"}, CHAPTER_PROFILES) == "tiny"
    assert resolve_profile("seed", {"CIFAR_LESSONS_PROFILE": "tiny"}, CHAPTER_PROFILES) == "seed"
    assert resolve_profile(None, {"CIFAR_LESSONS_PROFILE": ""}, CHAPTER_PROFILES) == "seed"


def test_resolve_profile_reads_the_process_environment_when_given_none(monkeypatch):
    monkeypatch.setenv("CIFAR_LESSONS_PROFILE", "tiny")
    assert resolve_profile(None, None, CHAPTER_PROFILES) == "tiny"


def test_an_unknown_profile_from_the_variable_is_one_line_naming_the_variable():
    with pytest.raises(ConfigError) as caught:
        resolve_profile(None, {"CIFAR_LESSONS_PROFILE": "fast"}, CHAPTER_PROFILES)
    assert str(caught.value) == ("unknown profile 'fast'; choose one of: seed, tiny "
                                 "(set by the environment variable CIFAR_LESSONS_PROFILE)")


@pytest.mark.parametrize("env", [{}, {"CIFAR_LESSONS_PROFILE": "tiny"}, {"CIFAR_LESSONS_PROFILE": "fast"}])
def test_an_unknown_profile_from_the_argument_does_not_blame_the_variable(env):
    with pytest.raises(ConfigError) as caught:
        resolve_profile("huge", env, CHAPTER_PROFILES)
    assert str(caught.value) == "unknown profile 'huge'; choose one of: seed, tiny"


def test_make_config_resolves_its_profile_the_same_way():
    with pytest.raises(ConfigError, match=r"^unknown profile 'fast'; choose one of: seed, quick, better "
                                          r"\(set by the environment variable CIFAR_LESSONS_PROFILE\)$") as caught:
        make_config(env={"CIFAR_LESSONS_PROFILE": "fast"})
    assert caught.value.field == "profile"
    with pytest.raises(ConfigError, match=r"^unknown profile 'huge'; choose one of: seed, quick, better$"):
        make_config("huge", env={"CIFAR_LESSONS_PROFILE": "quick"})
    assert make_config(env={"CIFAR_LESSONS_PROFILE": "quick"}).profile == "quick"
