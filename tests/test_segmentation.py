"""cifar_lessons.segmentation.metrics: one 4x4 mask worked by hand, and the edge cases around it."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import heavy_imports

from cifar_lessons.segmentation.metrics import (
    confusion,
    dice_per_class,
    iou_per_class,
    mean_dice,
    mean_iou,
    pixel_accuracy,
)

TARGET = np.array([[0, 0, 1, 1],
                   [0, 0, 1, 1],
                   [2, 2, 2, 2],
                   [2, 2, 2, 2]])
PRED = np.array([[0, 0, 0, 1],
                 [0, 1, 1, 1],
                 [2, 2, 2, 2],
                 [2, 2, 1, 2]])
# By class (target pixels / predicted pixels / both):
#   class 0: target 4, predicted 4 ((0,0) (0,1) (0,2) (1,0)), both 3 -> IoU 3 / (4 + 4 - 3) = 3/5
#   class 1: target 4, predicted 5 ((0,3) (1,1) (1,2) (1,3) (3,2)), both 3 -> IoU 3 / (4 + 5 - 3) = 1/2
#   class 2: target 8, predicted 7 (all but (3,2)), both 7 -> IoU 7 / (8 + 7 - 7) = 7/8
#   class 3: in neither mask -> NaN
# Correct pixels: 3 + 3 + 7 = 13 of 16.
# Confusion, rows = target, columns = prediction:
#   target 0: (0,0) (0,1) (1,0) -> 0, (1,1) -> 1          [3, 1, 0, 0]
#   target 1: (0,2) -> 0, the other three -> 1          [1, 3, 0, 0]
#   target 2: (3,2) -> 1, the other seven -> 2           [0, 1, 7, 0]
#   target 3: none                                     [0, 0, 0, 0]


def test_confusion_rows_are_the_target():
    cm = confusion(PRED, TARGET, 4)
    assert cm.tolist() == [[3, 1, 0, 0], [1, 3, 0, 0], [0, 1, 7, 0], [0, 0, 0, 0]]
    assert cm.sum() == 16


def test_pixel_accuracy_worked_by_hand():
    assert pixel_accuracy(PRED, TARGET) == pytest.approx(13 / 16)


def test_iou_per_class_worked_by_hand_and_an_absent_class_is_nan():
    per_class = iou_per_class(PRED, TARGET, 4)
    np.testing.assert_allclose(per_class[:3], [3 / 5, 1 / 2, 7 / 8])
    assert np.isnan(per_class[3])
    # mIoU over the three present classes: (0.6 + 0.5 + 0.875) / 3 = 0.6583.
    # (Counting class 3 as 0 would give 0.4938, as 1 would give 0.7438.)
    assert mean_iou(PRED, TARGET, 4) == pytest.approx((3 / 5 + 1 / 2 + 7 / 8) / 3)
    assert mean_iou(PRED, TARGET, 4) == mean_iou(PRED, TARGET, 3)  # the extra class changes nothing


def test_dice_worked_by_hand():
    # Dice = 2 * both / (target + predicted): class 0: 6/8, class 1: 6/9, class 2: 14/15.
    per_class = dice_per_class(PRED, TARGET, 4)
    np.testing.assert_allclose(per_class[:3], [3 / 4, 2 / 3, 14 / 15])
    assert np.isnan(per_class[3])
    assert mean_dice(PRED, TARGET, 4) == pytest.approx((3 / 4 + 2 / 3 + 14 / 15) / 3)
    iou = iou_per_class(PRED, TARGET, 3)
    np.testing.assert_allclose(dice_per_class(PRED, TARGET, 3), 2 * iou / (1 + iou))


def test_a_class_predicted_but_absent_from_the_target_scores_zero_not_nan():
    # Class 3 predicted at one pixel that is really class 2: class 3 has target 0, predicted 1,
    # both 0 -> IoU 0/1 = 0, and it counts in the mean.
    pred = PRED.copy()
    pred[2, 0] = 3
    per_class = iou_per_class(pred, TARGET, 4)
    assert per_class[3] == 0.0
    # class 2 now: predicted 6, both 6 -> 6 / (8 + 6 - 6) = 3/4.
    assert per_class[2] == pytest.approx(3 / 4)
    assert mean_iou(pred, TARGET, 4) == pytest.approx((3 / 5 + 1 / 2 + 3 / 4 + 0) / 4)


def test_perfect_prediction_scores_one():
    assert pixel_accuracy(TARGET, TARGET) == 1.0
    assert mean_iou(TARGET, TARGET, 5) == 1.0
    assert mean_dice(TARGET, TARGET, 5) == 1.0
    per_class = iou_per_class(TARGET, TARGET, 5)
    assert per_class[:3].tolist() == [1.0, 1.0, 1.0] and np.isnan(per_class[3:]).all()


def test_boolean_masks_are_the_binary_case():
    target = np.array([[True, True], [False, False]])
    pred = np.array([[True, False], [False, False]])
    # Foreground: target 2, predicted 1, both 1 -> IoU 1/2.
    # Background: target 2, predicted 3, both 2 -> IoU 2/3. Accuracy 3/4.
    np.testing.assert_allclose(iou_per_class(pred, target), [2 / 3, 1 / 2])
    assert confusion(pred, target).tolist() == [[2, 0], [1, 1]]
    assert pixel_accuracy(pred, target) == 0.75
    assert mean_iou(pred, target) == pytest.approx((2 / 3 + 1 / 2) / 2)
    with pytest.raises(ValueError, match="num_classes is needed"):
        iou_per_class(pred.astype(int), target.astype(int))


def test_masks_of_any_shape_pool_their_pixels():
    batch_pred, batch_target = np.stack([PRED, TARGET]), np.stack([TARGET, TARGET])
    # Pooled over the batch: class 0 target 8, predicted 8, both 7 -> 7/9 (not the mean of 3/5 and 1).
    assert iou_per_class(batch_pred, batch_target, 3)[0] == pytest.approx(7 / 9)
    assert confusion(batch_pred, batch_target, 3).tolist() == (confusion(PRED, TARGET, 3)
                                                              + confusion(TARGET, TARGET, 3)).tolist()
    np.testing.assert_allclose(iou_per_class(PRED.ravel(), TARGET.ravel(), 3), [3 / 5, 1 / 2, 7 / 8])
    assert pixel_accuracy(batch_pred.astype(np.uint8), batch_target.astype(np.uint8)) == pytest.approx(29 / 32)


def test_ignored_pixels_are_left_out():
    target = TARGET.copy()
    target[0, 2] = 255  # the only class-1 pixel predicted as 0 is now a border pixel
    pred = PRED.copy()
    # Class 0: target 4, predicted 3 (the ignored pixel no longer counts), both 3 -> 3/4.
    # Class 1: target 3, predicted 5, both 3 -> 3/5. Accuracy 13/15.
    per_class = iou_per_class(pred, target, 3, ignore_index=255)
    np.testing.assert_allclose(per_class, [3 / 4, 3 / 5, 7 / 8])
    assert pixel_accuracy(pred, target, ignore_index=255) == pytest.approx(13 / 15)
    pred[0, 2] = 255  # whatever the model says at an ignored pixel does not matter
    np.testing.assert_allclose(iou_per_class(pred, target, 3, ignore_index=255), per_class)
    with pytest.raises(ValueError, match="class outside 0..2"):
        iou_per_class(PRED, target, 3)  # without ignore_index, 255 is just a wrong label


def test_bad_masks_are_refused_with_a_reason():
    with pytest.raises(TypeError, match="argmax"):
        mean_iou(PRED.astype(float), TARGET, 3)
    with pytest.raises(ValueError, match="shape"):
        pixel_accuracy(PRED, TARGET[:2])
    with pytest.raises(ValueError, match="class outside 0..1"):
        confusion(PRED, TARGET, 2)
    assert np.isnan(pixel_accuracy(np.zeros(0, int), np.zeros(0, int)))
    assert np.isnan(mean_iou(np.zeros(0, int), np.zeros(0, int), 3))


def test_importing_segmentation_does_not_import_tensorflow():
    assert heavy_imports("import cifar_lessons.segmentation.metrics") == []
