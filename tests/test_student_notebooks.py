"""The student's notebooks: the starter's checks catch what is wrong, the solution runs and passes them.

* Every check in ``cifar_lessons.checks`` is shown to fail on wrong inputs of its step (a trainable base,
  validation images that are test images, preprocessing applied twice, ...) and to pass on right ones.
* The starter, its TODOs unfilled, runs top to bottom and every check says "not done yet".
* The solution runs offline at the quick size, with the starter's own check cells run right after the
  step each one checks: all ten say "looks right".
"""

from __future__ import annotations

import re

import keras
import nbformat
import numpy as np
import pytest
from conftest import REPO, SHARED_CIFAR, heavy_imports
from nbclient import NotebookClient

from cifar_lessons import checks

BOOK = REPO / "book"
OFFLINE = {"CIFAR_LESSONS_PROFILE": "quick", "CIFAR_LESSONS_DATA": str(SHARED_CIFAR),
           "CIFAR_LESSONS_BACKBONE": "efficientnet_lite0", "CIFAR_LESSONS_WEIGHTS": "imagenet"}
RNG = np.random.default_rng(0)


def verdict(capsys, result: checks.Verdict) -> checks.Verdict:
    """The verdict, after checking that exactly its one line was printed."""
    printed = capsys.readouterr().out
    assert printed == result.message + "\n" and "\n" not in result.message
    return result


def wrong(capsys, result: checks.Verdict, *words: str) -> None:
    v = verdict(capsys, result)
    assert v.status == "wrong", v.message
    assert v.message.startswith(f"✗ step {v.step}: ")
    for word in words:
        assert word in v.message, v.message


def right(capsys, result: checks.Verdict) -> None:
    v = verdict(capsys, result)
    assert v.ok and v.message == f"✓ step {v.step} looks right", v.message


# --------------------------------------------------------------------------- data steps (1-4)
@pytest.fixture
def data():
    """Small stand-ins for CIFAR-10: distinct random images, labels 0-9, a test set apart."""
    x = RNG.integers(0, 256, (80, 32, 32, 3), dtype=np.uint8)
    y = np.arange(80) % 10
    test = RNG.integers(0, 256, (20, 32, 32, 3), dtype=np.uint8)
    return {"all_x": x, "all_y": y.reshape(-1, 1).astype(np.uint8), "test_x": test, "test_y": np.arange(20) % 10,
            "train_x": x[:50], "train_y": y[:50]}


def test_step1_passes_the_data_as_loaded_and_fails_wrong_shapes_scaled_pixels_and_labels(data, capsys):
    def run(all_x=data["all_x"], all_y=data["all_y"], test_x=data["test_x"], test_y=data["test_y"]):
        return checks.step1(all_x, all_y, test_x, test_y, n_train=80, n_test=20)

    right(capsys, run())
    right(capsys, run(all_y=data["all_y"].reshape(-1)))
    wrong(capsys, run(all_x=data["all_x"][:, :16]), "shape", "32x32")
    wrong(capsys, run(test_x=data["test_x"][:10], test_y=data["test_y"][:10]), "10 images", "20")
    wrong(capsys, run(all_x=data["all_x"] / 255.0), "0-255")
    wrong(capsys, run(all_y=data["all_y"][:70]), "70 labels for 80 images")
    wrong(capsys, run(all_y=data["all_y"].astype(np.int64) + 1), "0-9")


def test_step2_fails_the_wrong_count_the_wrong_images_and_labels_cut_differently(data, capsys):
    x, y = data["all_x"], data["all_y"]
    right(capsys, checks.step2(x[:50], y[:50], x, y, n=50))
    wrong(capsys, checks.step2(x[:40], y[:40], x, y, n=50), "40 images", "50")
    wrong(capsys, checks.step2(x[-50:], y[-50:], x, y, n=50), "not the first 50")
    shuffled = RNG.permutation(50)
    wrong(capsys, checks.step2(x[:50], y[:50][shuffled], x, y, n=50), "do not belong")


def split(data, n_val=5):
    x, y = data["train_x"], data["train_y"]
    return {"fit_images": x[:-n_val], "fit_labels": y[:-n_val], "val_images": x[-n_val:], "val_labels": y[-n_val:],
            "train_images": x, "train_labels": y, "test_images": data["test_x"]}


def test_step3_fails_validation_on_the_test_set_overlapping_the_fit_set_or_mislabelled(data, capsys):
    good = split(data)
    right(capsys, checks.step3(**good))
    as_test = {**good, "val_images": data["test_x"][:5], "val_labels": data["test_y"][:5]}
    wrong(capsys, checks.step3(**as_test), "are test images")
    overlapping = {**good, "fit_images": data["train_x"], "fit_labels": data["train_y"]}
    wrong(capsys, checks.step3(**overlapping), "also in fit_images")
    too_small = split(data, n_val=1)
    wrong(capsys, checks.step3(**too_small), "2%", "about 10%")
    mislabelled = {**good, "val_labels": (good["val_labels"] + 1) % 10}
    wrong(capsys, checks.step3(**mislabelled), "val_labels do not belong")
    partial = {**good, "fit_images": good["fit_images"][:-3], "fit_labels": good["fit_labels"][:-3]}
    wrong(capsys, checks.step3(**partial), "together")


def test_step4_tells_not_applied_applied_twice_and_scaled_first_apart(data, capsys):
    from keras.applications.resnet50 import preprocess_input

    s = split(data)
    images = {"fit_images": s["fit_images"], "val_images": s["val_images"], "test_images": s["test_images"]}

    def run(how):
        inputs = {name.replace("images", "inputs"): how(x) for name, x in images.items()}
        return checks.step4(preprocess_input, **images, **inputs)

    once = lambda x: preprocess_input(x.astype("float32"))  # noqa: E731
    right(capsys, run(once))
    wrong(capsys, run(lambda x: x.astype("float32")), "raw pixels", "not applied")
    wrong(capsys, run(lambda x: preprocess_input(once(x))), "preprocessed twice")
    wrong(capsys, run(lambda x: preprocess_input(x / 255.0)), "scaled to 0-1 before")
    wrong(capsys, run(lambda x: x / 255.0), "only scaled to 0-1")
    wrong(capsys, run(lambda x: once(x).astype("uint8")), "uint8")
    wrong(capsys, run(lambda x: once(x)[::-1]), "same order")
    # preprocess_input changes a float array in place: checking must leave the student's arrays as they were
    floats = {name: x.astype("float32") for name, x in images.items()}
    before = {name: x.copy() for name, x in floats.items()}
    right(capsys, checks.step4(preprocess_input, **floats, **{n.replace("images", "inputs"): once(x) for n, x in images.items()}))
    assert all(np.array_equal(floats[name], before[name]) for name in images)


# --------------------------------------------------------------------------- model steps (5-10)
def small_base(pretrained: bool = True, size: int = 32) -> keras.Model:
    """A stand-in for ResNet50 without its top: convolutions with BatchNorm, a 4-D feature map out."""
    inputs = keras.Input((size, size, 3))
    x = keras.layers.Conv2D(4, 3, strides=4)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.Conv2D(6, 3, strides=4)(x)
    x = keras.layers.BatchNormalization()(x)
    base = keras.Model(inputs, x, name="small_base")
    if pretrained:  # ImageNet weights come with learnt BatchNorm statistics, not the initial 0 and 1
        for layer in base.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.moving_mean.assign(np.full(layer.moving_mean.shape, 0.5, "float32"))
                layer.moving_variance.assign(np.full(layer.moving_variance.shape, 2.0, "float32"))
    base.trainable = False
    return base


def with_head(base, hidden=(16, 8), classes=10, activation="softmax", pool=True):
    inputs = keras.Input((32, 32, 3))
    x = base(inputs, training=False)
    if pool:
        x = keras.layers.GlobalAveragePooling2D()(x)
    for width in hidden:
        x = keras.layers.Dense(width, activation="relu")(x)
    return keras.Model(inputs, keras.layers.Dense(classes, activation=activation)(x))


def compiled(model, rate, loss=None):
    model.compile(optimizer=keras.optimizers.Adam(rate), loss=loss or keras.losses.SparseCategoricalCrossentropy(),
                  metrics=["accuracy"])
    return model


def fit(model, epochs, validation=True):
    x = RNG.normal(size=(32, 32, 32, 3)).astype("float32")
    y = np.arange(32) % 10
    return model.fit(x, y, validation_data=(x[:8], y[:8]) if validation else None, epochs=epochs, batch_size=16,
                     verbose=0)


def unfreeze(base, batchnorm_too=False):
    base.trainable = True
    for layer in base.layers:
        if isinstance(layer, keras.layers.BatchNormalization) and not batchnorm_too:
            layer.trainable = False


def test_step5_fails_a_trainable_base_the_wrong_input_size_a_top_and_random_weights(capsys):
    right(capsys, checks.step5(small_base()))
    trainable = small_base()
    trainable.trainable = True
    wrong(capsys, checks.step5(trainable), "trainable")
    wrong(capsys, checks.step5(small_base(size=64)), "(None, 64, 64, 3)")
    pretrained = small_base()
    with_top = keras.Model(pretrained.inputs, keras.layers.Flatten()(pretrained.outputs[0]))
    with_top.trainable = False
    wrong(capsys, checks.step5(with_top), "classifier")
    wrong(capsys, checks.step5(small_base(pretrained=False)), "random")


def test_step6_fails_wrong_outputs_activations_hidden_layers_and_a_missing_base(capsys):
    base = small_base()
    right(capsys, checks.step6(with_head(base), base))
    wrong(capsys, checks.step6(with_head(base, classes=100), base), "100 numbers", "10 classes")
    wrong(capsys, checks.step6(with_head(base, activation="relu"), base), "relu", "softmax")
    wrong(capsys, checks.step6(with_head(base, activation="sigmoid"), base), "sigmoid")
    wrong(capsys, checks.step6(with_head(base, pool=False), base), "output has shape")
    wrong(capsys, checks.step6(with_head(base, hidden=(16,)), base), "1 hidden Dense", "2")
    wrong(capsys, checks.step6(with_head(small_base()), base), "not a layer of model")


def test_step7_fails_a_trainable_base_no_validation_the_wrong_epochs_rate_or_loss(capsys):
    base = small_base()
    model = compiled(with_head(base), 1e-3)
    history = fit(model, 2)
    right(capsys, checks.step7(model, base, history, epochs=2))
    wrong(capsys, checks.step7(model, base, history, epochs=10), "2 epochs", "10")
    wrong(capsys, checks.step7(model, base, fit(model, 2, validation=False), epochs=2), "no validation")
    wrong(capsys, checks.step7(with_head(base), base, history, epochs=2), "not compiled")
    slow = compiled(with_head(base), 1e-5)
    wrong(capsys, checks.step7(slow, base, fit(slow, 1), epochs=1), "learning rate 1e-05")
    logits = compiled(with_head(base), 1e-3, keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    wrong(capsys, checks.step7(logits, base, fit(logits, 1), epochs=1), "softmax", "logits")
    loose = small_base()
    loose_model = compiled(with_head(loose), 1e-3)
    loose.trainable = True
    wrong(capsys, checks.step7(loose_model, loose, fit(loose_model, 1), epochs=1), "base is trainable")


def test_step8_fails_trainable_batchnorm_a_frozen_base_no_recompile_and_the_wrong_rate(capsys):
    def phase1():
        base = small_base()
        model = compiled(with_head(base), 1e-3)
        fit(model, 1)
        return base, model

    base, model = phase1()
    wrong(capsys, checks.step8(model, base), "still frozen")
    unfreeze(base)
    wrong(capsys, checks.step8(model, base), "not compiled again")
    compiled(model, 1e-5)
    right(capsys, checks.step8(model, base))

    base, model = phase1()
    unfreeze(base, batchnorm_too=True)
    compiled(model, 1e-5)
    wrong(capsys, checks.step8(model, base), "2 of the base's 2 BatchNormalization layers are trainable")

    base, model = phase1()
    unfreeze(base)
    compiled(model, 1e-3)
    wrong(capsys, checks.step8(model, base), "learning rate is 0.001", "1e-05")

    base, model = phase1()
    unfreeze(base)
    base.layers[1].trainable = False
    compiled(model, 1e-5)
    wrong(capsys, checks.step8(model, base), "still frozen", base.layers[1].name)


def test_step9_fails_batchnorm_trained_the_wrong_epochs_and_no_validation(capsys):
    base = small_base()
    model = compiled(with_head(base), 1e-3)
    fit(model, 1)
    unfreeze(base)
    compiled(model, 1e-5)
    wrong(capsys, checks.step9(model, base, [0.5, 0.6], epochs=2), "what fit returns")
    history = fit(model, 2)
    right(capsys, checks.step9(model, base, history, epochs=2))
    wrong(capsys, checks.step9(model, base, history, epochs=10), "ran 2 epochs")
    wrong(capsys, checks.step9(model, base, fit(model, 2, validation=False), epochs=2), "no validation")
    for layer in base.layers:
        layer.trainable = True
    wrong(capsys, checks.step9(model, base, history, epochs=2), "BatchNormalization")
    compiled(model, 1e-5)
    unfreeze(base)
    wrong(capsys, checks.step9(model, base, history, epochs=2), "has not trained since")


def test_step10_fails_chance_accuracy_swapped_figures_and_the_validation_figures(capsys):
    history = keras.callbacks.History()
    history.history = {"loss": [1.0], "val_loss": [1.25], "val_accuracy": [0.55]}
    right(capsys, checks.step10(1.3, 0.54, history))
    right(capsys, checks.step10(1.3, 0.54))
    wrong(capsys, checks.step10(0.54, 1.3, history), "swapped")
    wrong(capsys, checks.step10(2.3, 0.1, history), "chance")
    wrong(capsys, checks.step10(1.25, 0.55, history), "validation figures")
    wrong(capsys, checks.step10([1.3, 0.5], 0.54), "two numbers")


@pytest.mark.parametrize("step", range(1, 11))
def test_every_check_says_not_done_yet_for_none_and_never_raises_on_nonsense(step, capsys):
    function = getattr(checks, f"step{step}")
    arity = function.__code__.co_argcount
    todo = verdict(capsys, function(*[None] * arity))
    assert todo.status == "todo" and todo.message.startswith(f"… step {step}: not done yet (")
    if step == 4:  # its first argument is the preprocessing function
        nonsense = verdict(capsys, function(lambda x: x, *["nonsense"] * (arity - 1)))
    else:
        nonsense = verdict(capsys, function(*["nonsense"] * arity))
    assert nonsense.status == "wrong" and "\n" not in nonsense.message, nonsense.message


def test_the_checks_name_what_is_wrong_never_the_code_that_fixes_it():
    """Every text a check can report, read from its source: no Keras call, assignment or slice in it."""
    import ast

    tree = ast.parse((REPO / "cifar_lessons" / "checks.py").read_text())
    texts = [node.value for call in ast.walk(tree)
             if isinstance(call, ast.Call) and getattr(call.func, "id", None) in ("_Wrong", "_Todo")
             for node in ast.walk(call) if isinstance(node, ast.Constant) and isinstance(node.value, str)]
    assert len(texts) > 50
    for text in texts:
        for code in ("trainable = ", "trainable=False", "load_data", "[:", "preprocess_input(", ".compile(", "Adam(",
                     "GlobalAveragePooling2D", "validation_data", "layers.BatchNormalization", "include_top"):
            assert code not in text, f"{code!r} in {text!r}"


def test_the_checks_import_neither_tensorflow_nor_keras():
    assert heavy_imports("import cifar_lessons.checks") == []


# --------------------------------------------------------------------------- the notebooks
def execute(nb: nbformat.NotebookNode, tmp_path) -> nbformat.NotebookNode:
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(BOOK)}}).execute()
    return nb


def printed(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stdout")


def check_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("check.step")]


def test_the_starter_has_a_todo_and_then_a_check_for_each_of_the_ten_steps():
    nb = nbformat.read(BOOK / "project_starter.ipynb", as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    todos = [i for i, c in enumerate(cells) if "# TODO step" in c.source]
    assert [re.search(r"TODO step (\d+)", cells[i].source).group(1) for i in todos] == [str(n) for n in range(1, 11)]
    for n, i in enumerate(todos, start=1):
        assert "# Hint:" in cells[i].source
        assert cells[i + 1].source.startswith(f"check.step{n}("), f"step {n}'s TODO is not followed by its check"
    assert len(check_cells(nb)) == 10


def test_the_starter_runs_as_it_is_and_every_check_says_not_done_yet(tmp_path, monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    nb = execute(nbformat.read(BOOK / "project_starter.ipynb", as_version=4), tmp_path)
    lines = [printed(c).strip() for c in check_cells(nb)]
    assert len(lines) == 10
    for n, line in enumerate(lines, start=1):
        assert line.startswith(f"… step {n}: not done yet ("), line


def solution_with_the_starters_checks() -> nbformat.NotebookNode:
    """The solution, with each of the starter's check cells right after the step it checks."""
    solution = nbformat.read(BOOK / "project_solution.ipynb", as_version=4)
    checks_by_step = {int(re.match(r"check\.step(\d+)", c.source).group(1)): c
                      for c in check_cells(nbformat.read(BOOK / "project_starter.ipynb", as_version=4))}
    cells, step = [], None
    for cell in solution.cells:
        heading = re.match(r"## Step (\d+)\.", cell.source) if cell.cell_type == "markdown" else None
        if heading or (cell.cell_type == "markdown" and cell.source.startswith("## ")):
            if step:  # the previous step ends here
                cells.append(nbformat.v4.new_code_cell(checks_by_step.pop(step).source))
            step = int(heading.group(1)) if heading else None
        cells.append(cell)
    cells.append(nbformat.v4.new_code_cell(checks_by_step.pop(step).source))
    assert not checks_by_step, f"no step in the solution for checks {sorted(checks_by_step)}"
    # the starter's own settings cell has the import; the solution is plain Keras and does not
    cells.insert(1, nbformat.v4.new_code_cell("from cifar_lessons import checks as check"))
    solution.cells = cells
    return solution


@pytest.mark.skipif(not SHARED_CIFAR.exists(), reason="needs ../shared/data/cifar10-jpeg.tar.gz")
def test_the_solution_runs_offline_at_the_quick_size_and_passes_every_check_of_the_starter(tmp_path, monkeypatch):
    for key, value in {**OFFLINE, "TF_CPP_MIN_LOG_LEVEL": "2"}.items():
        monkeypatch.setenv(key, value)
    nb = execute(solution_with_the_starters_checks(), tmp_path)
    out = [printed(c).strip() for c in nb.cells if c.cell_type == "code"]
    assert sum(line.startswith("This run: ") for line in out) == 1
    (run,) = [line for line in out if line.startswith("This run: ")]
    assert str(SHARED_CIFAR) in run and "efficientnet_lite0 with imagenet weights" in run and "quick size" in run
    verdicts = [printed(c).strip() for c in check_cells(nb)]
    assert verdicts == [f"✓ step {n} looks right" for n in range(1, 11)]
    assert re.search(r"^test accuracy \d+\.\d% ± 0\.\d% on 10,000 images", out[-2], re.M), out[-2]
    figures = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(figures) == 1, "the learning curves"


def test_the_solution_says_which_run_it_is_and_refuses_an_unknown_size(monkeypatch, capsys):
    """Online defaults with no variable set (Colab: full size); quick when asked, and in the site build unless
    full size is asked for; an unknown size is an error, never a silent full run."""
    nb = nbformat.read(BOOK / "project_solution.ipynb", as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    (settings,) = [i for i, source in enumerate(code) if "CIFAR_LESSONS_PROFILE" in source]
    whole = "\n".join(code)
    assert "keras.datasets.cifar10.load_data()" in whole
    assert 'keras.applications.ResNet50(weights="imagenet", include_top=False, input_shape=(32, 32, 3))' in whole
    assert "keras.applications.resnet50.preprocess_input" in whole

    def run(**env):
        for key in (*OFFLINE, "CIFAR_LESSONS_BUILD", "CIFAR_LESSONS_FULL_SIZE"):
            monkeypatch.delenv(key, raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        namespace = {}
        for source in code[settings - 1:settings + 1]:  # the course's numbers, then the run's settings
            exec(compile(source, "settings", "exec"), namespace)
        return capsys.readouterr().out

    assert run().strip() == ("This run: CIFAR-10 from the Keras download; base resnet50 with imagenet weights; "
                             "full size (10,000 images, 10 + 10 epochs)")
    quick = "quick size (500 images, 2 + 2 epochs): not the real result"
    assert quick in run(CIFAR_LESSONS_PROFILE="quick")
    assert quick in run(CIFAR_LESSONS_BUILD="1"), "the site build runs it at the quick size"
    assert "full size (10,000 images" in run(CIFAR_LESSONS_BUILD="1", CIFAR_LESSONS_FULL_SIZE="1")
    with pytest.raises(ValueError, match="'fast'"):
        run(CIFAR_LESSONS_PROFILE="fast")


# --------------------------------------------------------------------------- the full-size record
SOLUTION_RECORD = REPO / "results" / "solution-lite0-32"
SEED_RECORD = REPO / "results" / "lite0-32-seed"
SAME_RECIPE = ("n", "image_size", "backbone", "weights", "head", "dropout", "head_epochs", "fine_tune_epochs",
               "head_learning_rate", "fine_tune_learning_rate", "batch_size", "validation_fraction", "seed")


def test_the_solutions_full_size_record_is_whole_and_runs_the_packages_seed_recipe_on_the_same_data():
    import json

    from cifar_lessons.records.committed import read_record

    rec, problems = read_record(SOLUTION_RECORD, ("record.json", "history.json", "metrics.json"), what="solution",
                                script="measure_solution.py", kind={"kind": "solution-notebook", "stage": "full"})
    assert problems == []
    record, history, metrics = rec["record"], rec["history"], rec["metrics"]
    seed = json.loads((SEED_RECORD / "record.json").read_text())
    assert "+changes" not in record["made_by"]["commit"], "made by uncommitted code"
    assert {k: record["config"][k] for k in SAME_RECIPE} == {k: seed["config"][k] for k in SAME_RECIPE}
    assert record["config"]["profile"] == "seed" and record["weights"]["pretrained"]
    assert record["data"]["sha256"] == seed["data"]["sha256"]
    assert [record["data"][k] for k in ("n_train", "n_val", "n_test")] == [9_000, 1_000, 10_000]
    assert history["phase2_start"] == 10 and all(len(v) == 20 for v in history["history"].values())
    assert sum(map(sum, metrics["confusion_matrix"])) == metrics["n_test"] == 10_000
    # the accuracy from the saved predictions is the one the notebook's own evaluate printed
    assert abs(metrics["accuracy"] - metrics["notebook_evaluate"]["accuracy"]) < 1e-3
    # within a point of the package's own run of the same recipe: the notebook is the recipe, not an approximation
    seed_accuracy = json.loads((SEED_RECORD / "metrics.json").read_text())["accuracy"]
    assert abs(metrics["accuracy"] - seed_accuracy) <= 0.01
