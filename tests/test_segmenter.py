"""cifar_lessons.segmentation: scenes whose masks are the pasted pixels, the U-Net's shape, the classical masks."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import REPO, heavy_imports

from cifar_lessons.errors import ConfigError, RecordError
from cifar_lessons.records.committed import COMMITTED_FILES
from cifar_lessons.segmentation import classical as seg_classical
from cifar_lessons.segmentation import config as seg_config
from cifar_lessons.segmentation import figures as seg_figures
from cifar_lessons.segmentation import model as seg_model
from cifar_lessons.segmentation import record as seg_record
from cifar_lessons.segmentation import scenes as seg_scenes
from cifar_lessons.segmentation.metrics import mean_iou


def _garments(n=6, seed=0):
    """Garment-like 28x28 images: a bright rectangle with a faint rim (under the threshold) on 0."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 28, 28), np.uint8)
    for i in range(n):
        x[i, 3:25, 5:23] = 5  # faint: below GARMENT_THRESHOLD, so not pasted
        x[i, 5:23, 7:21] = rng.integers(150, 256, (18, 14))  # bright, like most garments
    return x, np.arange(n) % 10


# --------------------------------------------------------------------------- scenes
def test_the_mask_is_exactly_the_pasted_garment_pixels():
    garments, classes = _garments()
    scenes = seg_scenes.make_scenes(garments, classes, 12, 48, seed=1)
    assert scenes.images.shape == scenes.masks.shape == scenes.backgrounds.shape == (12, 48, 48)
    assert scenes.images.dtype == scenes.masks.dtype == np.uint8 and set(np.unique(scenes.masks)) <= {0, 1}
    inside = scenes.masks.astype(bool)
    # Outside the mask the scene is its background, pixel for pixel; inside, a garment's value (>= 16).
    np.testing.assert_array_equal(scenes.images[~inside], scenes.backgrounds[~inside])
    assert (scenes.images[inside] >= seg_config.GARMENT_THRESHOLD).all()
    assert inside.any(axis=(1, 2)).all(), "every scene holds a garment"
    # The faint rim (value 5) is never pasted and never in the mask: each garment is 18x14 = 252 px at most.
    assert 252 <= inside.sum(axis=(1, 2)).max() <= 2 * 252
    # The per-class labels agree with the mask and carry class + 1.
    assert ((scenes.labels > 0) == inside).all() and set(np.unique(scenes.labels)) <= set(range(11))


def test_paste_puts_the_garment_where_asked_and_labels_it():
    scene = np.full((40, 40), 77, np.uint8)
    labels = np.zeros_like(scene)
    garment = np.zeros((28, 28), np.uint8)
    garment[10, 12] = 200
    garment[11, 12] = seg_config.GARMENT_THRESHOLD - 1  # just under: stays background
    seg_scenes.paste(scene, labels, garment, 4, row=5, col=3)
    assert scene[15, 15] == 200 and labels[15, 15] == 4
    assert scene[16, 15] == 77 and labels[16, 15] == 0
    assert (labels > 0).sum() == 1 and (scene != 77).sum() == 1


def test_held_out_scenes_use_other_texture_rows_and_seeds_repeat():
    garments, classes = _garments()
    a = seg_scenes.make_scenes(garments, classes, 5, 48, seed=3)
    b = seg_scenes.make_scenes(garments, classes, 5, 48, seed=3)
    np.testing.assert_array_equal(a.images, b.images)
    rng = np.random.default_rng(0)
    for kind in seg_scenes.BACKGROUNDS:
        back = seg_scenes.background(kind, 48, rng, "test")
        assert back.shape == (48, 48) and back.dtype == np.uint8 and back.std() > 10, kind
    with pytest.raises(ConfigError, match="unknown background"):
        seg_scenes.background("plaid", 48, rng)


def test_otsu_fails_on_texture_but_not_on_a_plain_background():
    garments, classes = _garments()
    scenes = seg_scenes.make_scenes(garments, classes, 20, 48, seed=0)
    # On a plain dark background, the same garments are found perfectly by Otsu's threshold.
    plain = np.where(scenes.masks == 1, scenes.images, 0).astype(np.uint8)
    assert mean_iou(seg_classical.otsu_masks(plain), scenes.masks, 2) == 1.0
    assert mean_iou(seg_classical.otsu_masks(scenes.images), scenes.masks, 2) < 0.8


# --------------------------------------------------------------------------- the network and scores
def test_the_unet_gives_one_softmax_per_pixel_of_the_inputs_size():
    model = seg_model.unet(48, filters=(4, 8, 16), bottleneck=16)
    x = np.random.default_rng(0).random((2, 48, 48, 1)).astype(np.float32)
    out = np.asarray(model(x))
    assert out.shape == (2, 48, 48, 2)
    np.testing.assert_allclose(out.sum(-1), 1, rtol=1e-5)
    assert {"skip1", "skip2", "skip3"} <= {layer.name for layer in model.layers}
    assert seg_model.unet(32, num_classes=11, filters=(4, 8), bottleneck=8).output.shape[1:] == (32, 32, 11)
    with pytest.raises(ConfigError, match="divisible"):
        seg_model.unet(50)


def test_a_perfect_prediction_scores_one_and_otsu_on_noise_does_not():
    garments, classes = _garments()
    scenes = seg_scenes.make_scenes(garments, classes, 8, 48, seed=2)
    perfect = seg_model.scores(scenes.masks, scenes.masks)
    assert perfect["mean_iou"] == 1.0 and perfect["pixel_accuracy"] == 1.0
    assert seg_model.per_scene_iou(scenes.masks, scenes.masks).tolist() == [1.0] * 8
    empty = seg_model.scores(np.zeros_like(scenes.masks), scenes.masks)
    assert empty["iou_per_class"]["garment"] == 0.0 and empty["pixel_accuracy"] > 0.5  # accuracy flatters


@pytest.mark.parametrize("profile", ["quick", "seed", "better"])
def test_every_profile_trains_the_build_size_and_full_size_is_asked_for(profile):
    c = seg_config.segment_config(profile, env={})
    assert (c.n_train, c.n_val, c.n_test, c.epochs) == (800, 200, 300, 3) and c.profile == profile
    assert not c.full_size()
    full = seg_config.segment_config(profile, full_size=True, env={})
    assert full == seg_config.SegmentConfig(profile=profile) and full.full_size()
    assert seg_config.segment_config(profile, env={"CIFAR_LESSONS_FULL_SIZE": "TRUE"}) == full


def test_profiles_and_their_variable():
    assert seg_config.segment_config(env={}).profile == "seed"
    with pytest.raises(ConfigError, match="CIFAR_LESSONS_PROFILE"):
        seg_config.segment_config(env={"CIFAR_LESSONS_PROFILE": "fast"})
    with pytest.raises(ConfigError, match="CIFAR_LESSONS_FULL_SIZE"):
        seg_config.segment_config(env={"CIFAR_LESSONS_FULL_SIZE": "full"})


# --------------------------------------------------------------------------- classical
def test_watershed_splits_two_touching_discs():
    yy, xx = np.mgrid[:40, :60]
    mask = ((yy - 20) ** 2 + (xx - 20) ** 2 < 12 ** 2) | ((yy - 20) ** 2 + (xx - 41) ** 2 < 12 ** 2)
    from scipy import ndimage

    assert ndimage.label(mask)[1] == 1  # touching: one blob to a plain labelling
    labels = seg_classical.separate_touching(mask)
    assert labels.max() == 2 and labels[20, 20] != labels[20, 41] and (labels > 0).sum() == mask.sum()


def test_grabcut_finds_a_square_inside_its_rectangle():
    rgb = np.zeros((60, 60, 3), np.uint8)
    rgb[...] = (20, 120, 20)
    rgb[20:40, 20:40] = (230, 40, 40)
    mask = seg_classical.grabcut(rgb, (10, 10, 40, 40))
    truth = np.zeros((60, 60), bool)
    truth[20:40, 20:40] = True
    assert mean_iou(mask, truth) > 0.9


def test_overlay_tints_only_the_mask():
    grey = np.full((4, 4), 100, np.uint8)
    mask = np.zeros((4, 4), bool)
    mask[0, 0] = True
    out = seg_classical.overlay(grey, mask, colour=(200, 0, 0), alpha=0.5)
    assert out.shape == (4, 4, 3) and out[0, 0].tolist() == [150, 50, 50] and out[1, 1].tolist() == [100] * 3


def test_importing_segmenter_does_not_import_tensorflow():
    assert heavy_imports("import cifar_lessons.segmentation.model, cifar_lessons.segmentation.record") == []


# --------------------------------------------------------------------------- the committed record
RECORD = REPO / "results" / seg_config.COMMITTED


def test_an_incomplete_record_is_an_error(tmp_path):
    folder = tmp_path / seg_config.COMMITTED
    folder.mkdir()
    (folder / "record.json").write_text("{}")
    with pytest.raises(RecordError, match="lacks"):
        seg_record.committed_run(tmp_path)
    assert seg_record.committed_run(tmp_path / "nothing") is None


@pytest.mark.skipif(not RECORD.is_dir(), reason="the full-size record is not committed yet")
def test_the_committed_record_is_whole_full_size_and_meets_the_goal():
    rec = seg_record.check_record(RECORD)
    r, full = rec["record"], seg_config.SegmentConfig()
    assert sorted(p.name for p in RECORD.iterdir()) == sorted([*COMMITTED_FILES, seg_config.FIGURE])
    assert rec["figure"] is not None
    assert r["config"] == full.to_dict() | {"profile": r["config"]["profile"]} and r["epochs"] == full.epochs
    assert (r["data"]["n_train"], r["data"]["n_val"], r["data"]["n_test"]) == (full.n_train, full.n_val, full.n_test)
    assert r["data"]["official"] and "+changes" not in r["made_by"]["commit"]
    m = rec["metrics"]
    assert m["n_test"] == full.n_test
    assert m["unet"]["mean_iou"] >= seg_config.GOAL_MIOU  # the chapter's claim
    assert m["otsu"]["mean_iou"] < m["unet"]["mean_iou"] - 0.2  # ... and that Otsu fails where it does not
    assert r["timing"]["run_seconds"] <= 15 * 60
    assert json.loads((RECORD / "history.json").read_text())["history"]["val_miou"]
    # The chapter's notes quote the record: Otsu's best kind of background against the U-Net's worst.
    otsu, unet = m["otsu_miou_by_background"], m["unet_miou_by_background"]
    best_otsu, worst_unet = max(otsu, key=otsu.get), min(unet, key=unet.get)
    notes = (REPO / "book" / "10_segmentation.py").read_text().replace("\n# ", " ")  # markdown lines joined
    assert f"{best_otsu} at {otsu[best_otsu]:.2f}" in notes and f"worst ({worst_unet} at {unet[worst_unet]:.2f})" in notes


def test_examples_pick_typical_good_scenes_then_the_worst_and_the_figure_shows_them():
    garments, classes = _garments()
    scenes = seg_scenes.make_scenes(garments, classes, 10, 48, seed=4)
    pred = scenes.masks.copy()
    pred[3] = 0  # scene 3 is missed entirely (IoU 0), scene 7 half
    pred[7, :24] = 0
    iou = seg_model.per_scene_iou(pred, scenes.masks)
    picks = seg_figures.examples(pred, scenes.masks, good=2, worst=2)
    assert picks[2] == 3 and iou[picks[3]] == iou[7] < 1 and all(iou[i] == 1.0 for i in picks[:2])
    data = seg_scenes.SceneData(scenes, scenes, scenes, {"description": "test", "official": False})
    run = seg_model.SegmentRun(1, {}, [], 0.0, 0, predictions=pred)
    fig = seg_figures.predictions_figure(data, run, good=2, worst=2)
    assert len(fig.axes) == 4 * 4  # scene, true mask, U-Net, Otsu rows; four scenes
    assert fig.axes[0].get_title().startswith("good") and fig.axes[2].get_title() == "worst: IoU 0.00"
