"""The project's chapters show the Keras code that runs: every function a chapter shows with
``show_code`` is one the recipe calls, and every Keras call of the course recipe is on a page.

Also the recipe's data flow (one validation split a run) and its source commit, read once a run
starts and never at import.
"""

from __future__ import annotations

import ast
import functools
import importlib
import subprocess
import sys
import textwrap

import jupytext
import numpy as np
import pytest
from conftest import REPO, heavy_imports

PROJECT = ["01_dataset", "02_architecture", "03_training_the_head", "04_fine_tuning", "05_evaluation",
           "06_doing_better", "07_takeaways"]

#: Every Keras call of the course recipe, and the chapter whose page shows it (its code cells and
#: the functions it shows). Each entry: the chapter and the fragments that must all appear there.
COURSE_CALLS = {
    "keras.datasets.cifar10.load_data()": ("01_dataset", ["keras.datasets.cifar10.load_data()"]),
    "the first 10,000 training images": ("01_dataset", ["train_images[:n]", "train_labels[:n]"]),
    "a validation split of the training images": ("01_dataset", ["split_validation(", "val_images"]),
    "ResNet50's preprocess_input (0-255)": ("02_architecture",
                                            ["keras.applications.resnet50.preprocess_input(", "0-255"]),
    'ResNet50(weights="imagenet", include_top=False, input_shape=(32, 32, 3))': (
        "02_architecture",
        ["keras.applications.ResNet50(", 'weights="imagenet"', "include_top=False", "input_shape=(", "(32, 32, 3)"]),
    "the head's two Dense layers": ("02_architecture",
                                    ["GlobalAveragePooling2D", "keras.layers.Dense(units", "two hidden Dense layers",
                                     "keras.layers.Dense(", 'activation="softmax"']),
    "base_model.trainable = False": ("03_training_the_head", ["base_model.trainable = False"]),
    "compile": ("03_training_the_head", ["model.compile(", "keras.optimizers.Adam(learning_rate)",
                                         "SparseCategoricalCrossentropy()"]),
    "fit with a validation split": ("03_training_the_head", ["model.fit(train_data, validation_data=val_data"]),
    "unfreezing, BatchNorm kept frozen (keras-team/keras#20285)": (
        "04_fine_tuning", ["base_model.trainable = True", "keras.layers.BatchNormalization", "layer.trainable = False",
                           "keras-team/keras#20285"]),
    "compiling again at a low rate": ("04_fine_tuning", ["compile_classifier(model, learning_rate", "1e-5"]),
    "evaluate": ("05_evaluation", ["model.evaluate("]),
}


def chapter_source(name: str) -> str:
    return (REPO / "book" / f"{name}.py").read_text()


def shown_functions(name: str) -> list:
    """The functions chapter ``name`` passes to ``show_code``, resolved through its imports."""
    tree = ast.parse(chapter_source(name))
    imported = {alias.asname or alias.name: (node.module, alias.name)
                for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
                for alias in node.names}
    shown = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "show_code":
            for arg in node.args:
                assert isinstance(arg, ast.Name), f"{name}: show_code takes imported functions by name"
                module, attr = imported[arg.id]
                shown.append(getattr(importlib.import_module(module), attr))
    return shown


def page_code(name: str) -> str:
    """What a reader of chapter ``name`` sees as code: its visible code cells and the shown sources."""
    from cifar_lessons.display.code import source_of

    nb = jupytext.read(REPO / "book" / f"{name}.py")
    cells = [c.source for c in nb.cells if c.cell_type == "code" and "remove-cell" not in c.metadata.get("tags", [])]
    return "\n".join(cells + [source_of(f) for f in shown_functions(name)])


@pytest.mark.parametrize("call", list(COURSE_CALLS))
def test_each_keras_call_of_the_course_is_on_its_chapters_page(call):
    chapter, fragments = COURSE_CALLS[call]
    code = page_code(chapter)
    missing = [f for f in fragments if f not in code]
    assert not missing, f"{chapter} does not show {call}: missing {missing}"


def test_every_project_chapter_shows_code_from_the_package():
    for name in PROJECT:
        assert shown_functions(name), f"{name} shows none of the recipe's functions"


def test_what_a_chapter_shows_is_the_source_as_written():
    from cifar_lessons.display.code import ShownCode
    from cifar_lessons.training import train_head

    shown = ShownCode(train_head)
    assert shown.source == textwrap.dedent(__import__("inspect").getsource(train_head)).rstrip()
    assert shown.caption == "cifar_lessons/training.py: train_head"
    page = shown._repr_html_()
    assert "cifar_lessons/training.py" in page and "base_model" in page and "<span" in page  # highlighted


def test_shown_code_fits_a_slide():
    """Lines short enough not to wrap on a slide (17.5 px code, 1050 px wide), few enough for one."""
    from cifar_lessons.display.code import source_of

    for name in PROJECT:
        for func in shown_functions(name):
            lines = source_of(func).splitlines()
            assert len(lines) <= 24, f"{func.__qualname__}: {len(lines)} lines do not fit one slide"
            long = [line for line in lines if len(line) > 97]
            assert not long, f"{func.__qualname__}: lines over 97 characters: {long}"


# --------------------------------------------------------------------------- the run calls what is shown
def spy_on(functions, monkeypatch) -> set:
    """Replace every module-level reference to each function in ``cifar_lessons`` by a wrapper that
    notes its call; returns the set of qualified names called."""
    called: set[str] = set()
    for func in functions:
        @functools.wraps(func)
        def wrapper(*args, _func=func, **kwargs):
            called.add(f"{_func.__module__}.{_func.__qualname__}")
            return _func(*args, **kwargs)

        for module in [m for n, m in sys.modules.items() if n.startswith("cifar_lessons") and m]:
            for attr, value in list(vars(module).items()):
                if value is func:
                    monkeypatch.setattr(module, attr, wrapper)
    return called


@pytest.fixture
def online_keras(monkeypatch):
    """Keras's two downloads, as a user online gets them, made offline: a few CIFAR-like images, and
    ResNet50 built with random weights where ImageNet's were asked for."""
    import keras

    rng = np.random.default_rng(0)
    train = (rng.integers(0, 256, (60, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, (60, 1), dtype=np.uint8))
    test = (rng.integers(0, 256, (30, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, (30, 1), dtype=np.uint8))
    monkeypatch.setattr(keras.datasets.cifar10, "load_data", lambda: (train, test))
    resnet50 = keras.applications.ResNet50
    asked = []
    monkeypatch.setattr(keras.applications, "ResNet50",
                        lambda **kw: (asked.append(kw), resnet50(**{**kw, "weights": None}))[1])
    monkeypatch.delenv("CIFAR_LESSONS_DATA", raising=False)
    return asked


def test_the_recipe_run_online_calls_every_function_the_chapters_show(online_keras, tmp_path, monkeypatch):
    """The seed recipe's code path (Keras's downloads, ResNet50, cached features for the head), as
    a chapter's stages and the command line run it, calls each function chapters 01-05 show."""
    from cifar_lessons import recipe
    from cifar_lessons.config import make_config

    shown = {f for name in PROJECT[:5] for f in shown_functions(name)}
    assert len(shown) >= 10, "chapters 01-05 show the recipe's functions"
    called = spy_on(shown, monkeypatch)
    config = make_config("quick", env={}, data=None, n=40, batch_size=8, head=(32, 16), head_epochs=1,
                         fine_tune_epochs=1)
    assert config.backbone == "resnet50" and config.weights == "imagenet"
    recipe.run_recipe(config, tmp_path / "run", verbose=0, log=lambda *a: None)
    missing = {f"{f.__module__}.{f.__qualname__}" for f in shown} - called
    assert not missing, f"shown in a chapter but not run by the recipe: {sorted(missing)}"
    assert online_keras[0] == {"weights": "imagenet", "include_top": False, "input_shape": (32, 32, 3)}


def test_chapters_6_and_7_show_what_the_better_recipe_runs(png_tree, tmp_path, monkeypatch):
    from cifar_lessons import recipe
    from cifar_lessons.config import make_config

    shown = {f for name in PROJECT[5:] for f in shown_functions(name)}
    assert shown, "chapters 6 and 7 show the recipe's functions"
    called = spy_on(shown, monkeypatch)
    config = make_config("better", env={}, data=str(png_tree), weights="none", backbone="efficientnet_lite0",
                         n=20, batch_size=8, head=(32, 16), head_epochs=1, fine_tune_epochs=1, image_size=32)
    recipe.run_recipe(config, tmp_path / "run", verbose=0, log=lambda *a: None)
    missing = {f"{f.__module__}.{f.__qualname__}" for f in shown} - called
    assert not missing, f"shown in chapter 6 or 7 but not run by the better recipe: {sorted(missing)}"


# --------------------------------------------------------------------------- one split, one commit
def test_a_run_splits_once_and_names_the_commit_it_started_from(png_tree, tmp_path, monkeypatch):
    from cifar_lessons import recipe
    from cifar_lessons.config import make_config

    splits = []
    split_validation = recipe.split_validation
    monkeypatch.setattr(recipe, "split_validation", lambda *a: (splits.append(1), split_validation(*a))[1])
    commits = iter(["a" * 40, "b" * 40])
    monkeypatch.setattr(recipe, "source_commit", lambda: next(commits))
    recipe.run_commit.cache_clear()
    try:
        config = make_config("quick", env={}, data=str(png_tree), weights="none", backbone="efficientnet_lite0",
                             n=20, batch_size=8, head=(32, 16), head_epochs=1, fine_tune_epochs=1)
        record = recipe.run_recipe(config, tmp_path / "run", verbose=0, log=lambda *a: None)
        assert len(splits) == 1
        assert record.record["made_by"]["commit"] == "a" * 40
        assert record.data["n_val"] == 2 and record.data["n_train"] == 18
        assert recipe.record_header(config, recipe.load_data(config), "full")["made_by"]["commit"] == "a" * 40
    finally:
        recipe.run_commit.cache_clear()


def test_importing_the_recipe_runs_no_git():
    probe = textwrap.dedent("""
        import subprocess
        calls = []
        run = subprocess.run
        subprocess.run = lambda args, *a, **k: (calls.append(list(args)), run(args, *a, **k))[1]
        import cifar_lessons.recipe, cifar_lessons.cli
        print([c for c in calls if c and c[0] == "git"])
    """)
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_showing_code_and_loading_data_import_no_tensorflow():
    assert heavy_imports("import cifar_lessons.display, cifar_lessons.display.code, cifar_lessons.data") == []
