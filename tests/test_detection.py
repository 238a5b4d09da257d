"""cifar_lessons.detection.metrics: every expected number below is worked out by hand in a comment.

Boxes are (x1, y1, x2, y2) with area (x2 - x1) * (y2 - y1). The cases are chosen so that the
usual wrong turns give a different number: the VOC "+1" pixel convention, suppressing at
IoU >= threshold instead of >, 11-point instead of all-point AP, no interpolation, matching
a ground-truth box twice.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import heavy_imports

from cifar_lessons.detection.metrics import (
    area_under_pr,
    average_precision,
    average_precision_per_class,
    batched_nms,
    box_area,
    iou,
    iou_matrix,
    match_detections,
    mean_average_precision,
    nms,
    precision_recall,
)

SQUARE = [0, 0, 2, 2]  # area 4


# --- IoU -----------------------------------------------------------------------------------

def test_iou_of_two_squares_offset_by_one_is_one_seventh():
    # (0,0,2,2) and (1,1,3,3): each area 2*2 = 4; they share the unit square (1,1,2,2), area 1.
    # union = 4 + 4 - 1 = 7, IoU = 1/7. (With the "+1" convention: areas 9, overlap 4, 4/14 = 2/7.)
    assert iou(SQUARE, [1, 1, 3, 3]) == pytest.approx(1 / 7)
    assert iou([1, 1, 3, 3], SQUARE) == pytest.approx(1 / 7)


def test_iou_identical_disjoint_touching_contained():
    assert iou(SQUARE, SQUARE) == 1.0
    assert iou([0.5, 1.5, 3.25, 4], [0.5, 1.5, 3.25, 4]) == 1.0
    assert iou(SQUARE, [5, 5, 7, 7]) == 0.0           # far apart
    assert iou(SQUARE, [2, 0, 4, 2]) == 0.0           # sharing the edge x = 2: zero-width overlap
    assert iou(SQUARE, [2, 2, 3, 3]) == 0.0           # sharing one corner
    assert iou(SQUARE, [0, 3, 2, 5]) == 0.0           # overlapping in x only, not in y
    # (1,1,2,2), area 1, inside (0,0,4,4), area 16: overlap 1, union 16, IoU 1/16.
    assert iou([0, 0, 4, 4], [1, 1, 2, 2]) == pytest.approx(1 / 16)


def test_zero_area_boxes_give_zero_not_nan():
    # A point (1,1,1,1) and a line (1,0,1,2) lie inside the square but have no area: overlap 0.
    for degenerate in ([1, 1, 1, 1], [1, 0, 1, 2], [0, 1, 2, 1]):
        assert iou(SQUARE, degenerate) == 0.0
        assert iou(degenerate, degenerate) == 0.0    # union 0: defined as 0, not 0/0
    assert iou(SQUARE, [3, 3, 1, 1]) == 0.0           # flipped corners: zero area, not negative
    assert box_area([SQUARE, [1, 1, 1, 1], [3, 3, 1, 1], [0, 0, 3, 0.5]]).tolist() == [4, 0, 0, 1.5]
    with np.errstate(all="raise"):                   # and no 0/0 warning on the way
        assert iou_matrix([[1, 1, 1, 1]], [[1, 1, 1, 1]]).tolist() == [[0.0]]


def test_iou_matrix_equals_pairwise_iou():
    a = np.array([SQUARE, [1, 1, 3, 3], [0, 0, 4, 4], [1, 1, 1, 1]], dtype=float)
    b = np.array([[1, 1, 3, 3], [2, 0, 4, 2], [0.5, 0.5, 1.5, 2.5]], dtype=float)
    m = iou_matrix(a, b)
    assert m.shape == (4, 3)
    for i in range(4):
        for j in range(3):
            assert m[i, j] == pytest.approx(iou(a[i], b[j]))
    # One cell by hand: (0,0,2,2) with (0.5,0.5,1.5,2.5): overlap 1 x 1.5 = 1.5, areas 4 and 2,
    # union 4.5, IoU 1/3.
    assert m[0, 2] == pytest.approx(1 / 3)
    assert iou_matrix(a, np.zeros((0, 4))).shape == (4, 0)
    assert iou_matrix([], b).shape == (0, 3)


def test_iou_refuses_boxes_that_are_not_four_numbers():
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        iou_matrix([[0, 0, 1]], [SQUARE])
    with pytest.raises(ValueError, match="shape"):
        iou([0, 0, 1, 1, 2], SQUARE)


def test_iou_equals_pixel_mask_iou_for_whole_pixel_boxes():
    """A check from outside: paint each box's pixels and count them, as segmentation does.

    Under the continuous convention the box (x1, y1, x2, y2) with whole-number corners covers
    exactly the pixels [y1:y2, x1:x2], so its IoU is the IoU of two pixel masks. With the "+1"
    convention it would cover [y1:y2+1, x1:x2+1] and this test would fail.
    """
    rng = np.random.default_rng(0)
    corners = rng.integers(0, 12, (40, 2, 2))
    boxes = np.concatenate([corners.min(axis=1), corners.max(axis=1)], axis=1)  # some have zero area

    def mask(box):
        m = np.zeros((12, 12), dtype=bool)
        m[box[1]:box[3], box[0]:box[2]] = True
        return m

    m = iou_matrix(boxes, boxes)
    for i in range(40):
        for j in range(40):
            a, b = mask(boxes[i]), mask(boxes[j])
            union = (a | b).sum()
            assert m[i, j] == pytest.approx((a & b).sum() / union if union else 0.0)


# --- NMS -----------------------------------------------------------------------------------

def test_nms_keeps_the_best_of_each_cluster():
    boxes = [SQUARE,          # 0: score 0.9, kept first
             [0, 0, 2, 1.9],  # 1: IoU with box 0 = 3.8/4 = 0.95 > 0.5: suppressed
             [10, 10, 12, 12],  # 2: far away: kept
             [1, 1, 3, 3]]    # 3: IoU with box 0 = 1/7 <= 0.5: kept
    scores = [0.9, 0.8, 0.7, 0.95]
    # Order by score: 3 (0.95), 0 (0.9), 1 (0.8), 2 (0.7). Box 0 vs kept box 3: 1/7, kept.
    # Box 1 vs box 3: overlap (1,1,2,1.9) = 0.9, union 3.8 + 4 - 0.9 = 6.9, IoU 0.13; vs box 0: 0.95, gone.
    assert nms(boxes, scores, 0.5).tolist() == [3, 0, 2]
    assert nms(boxes, scores, 0.1).tolist() == [3, 2]      # now 1/7 > 0.1 too: box 0 goes
    assert nms(boxes, scores, 1.0).tolist() == [3, 0, 1, 2]  # nothing exceeds 1: all kept, by score


def test_nms_keeps_a_box_whose_iou_equals_the_threshold():
    # (0,0,2,2) and (0,0,2,1): overlap = the lower box, area 2; union 4; IoU exactly 0.5.
    boxes, scores = [SQUARE, [0, 0, 2, 1]], [0.9, 0.8]
    assert iou(*boxes) == 0.5
    assert nms(boxes, scores, 0.5).tolist() == [0, 1]  # suppressed only when IoU > 0.5
    assert nms(boxes, scores, 0.49).tolist() == [0]


def test_nms_is_greedy_a_suppressed_box_suppresses_nothing():
    # A chain: A overlaps B, B overlaps C, A and C do not overlap. B is suppressed by A, so it
    # cannot suppress C: the answer is A and C. (Suppressing "by any higher box" would drop C.)
    a, b, c = [0, 0, 4, 2], [1, 0, 5, 2], [2, 0, 6, 2]  # IoU(a, b) = IoU(b, c) = 6/10, IoU(a, c) = 4/12
    assert iou(a, b) == pytest.approx(0.6) and iou(a, c) == pytest.approx(1 / 3)
    assert nms([a, b, c], [0.9, 0.8, 0.7], 0.5).tolist() == [0, 2]


def test_nms_ties_go_to_the_box_listed_first_and_empty_input_is_empty():
    # Same score, same box: the first listed is kept, the second suppressed (IoU 1 > 0.5).
    assert nms([SQUARE, SQUARE, [5, 5, 6, 6]], [0.5, 0.5, 0.5], 0.5).tolist() == [0, 2]
    assert nms([[5, 5, 6, 6], SQUARE, SQUARE], [0.5, 0.5, 0.5], 0.5).tolist() == [0, 1]
    empty = nms(np.zeros((0, 4)), np.zeros(0))
    assert empty.shape == (0,) and empty.dtype == np.int64
    assert nms([], []).tolist() == []
    with pytest.raises(ValueError, match="2 boxes but 1 scores"):
        nms([SQUARE, SQUARE], [0.5])


def test_batched_nms_suppresses_only_within_a_class():
    boxes = [SQUARE, [0, 0, 2, 1.9], [0, 0, 2, 1.9], [10, 10, 11, 11]]
    scores = [0.9, 0.8, 0.85, 0.6]
    labels = [0, 0, 1, 0]
    # Class 0: box 0 suppresses box 1 (IoU 0.95), box 3 stays; class 1: box 2 alone.
    # Together by score: 0 (0.9), 2 (0.85), 3 (0.6).
    assert batched_nms(boxes, scores, labels, 0.5).tolist() == [0, 2, 3]
    assert nms(boxes, scores, 0.5).tolist() == [0, 3]  # without classes, box 2 goes too
    assert batched_nms([], [], []).tolist() == []


# --- average precision ---------------------------------------------------------------------

def image(boxes=(), scores=(), labels=()):
    return {"boxes": np.array(boxes, dtype=float).reshape(-1, 4), "scores": np.array(scores, dtype=float),
            "labels": np.array(labels, dtype=int)}


def truth(boxes=(), labels=()):
    return {"boxes": np.array(boxes, dtype=float).reshape(-1, 4), "labels": np.array(labels, dtype=int)}


# Two images, one class, one object in each.
GT = [truth([[0, 0, 10, 10]], [0]), truth([[20, 20, 30, 30]], [0])]


def test_ap_worked_by_hand_tp_fp_tp():
    detections = [
        image([[50, 50, 60, 60], [0, 0, 10, 10]], [0.8, 0.9], [0, 0]),  # a miss (0.8), a hit (0.9)
        image([[21, 20, 31, 30]], [0.7], [0]),  # overlap 9*10 = 90, union 110: IoU 0.82, a hit
    ]
    # Ranked by score over both images: 0.9 TP, 0.8 FP, 0.7 TP; 2 ground-truth boxes.
    #   after 1: precision 1/1, recall 1/2
    #   after 2: precision 1/2, recall 1/2
    #   after 3: precision 2/3, recall 2/2
    # Envelope (best precision at this recall or beyond): 1 up to recall 1/2, then 2/3.
    # All-point AP = (1/2 - 0) * 1 + (1 - 1/2) * 2/3 = 0.5 + 0.3333 = 0.8333.
    # (11-point AP: recalls 0, .1, ..., .5 -> 1, six points; .6 ... 1 -> 2/3, five points:
    #  (6 + 5 * 2/3) / 11 = 0.8485, so this test tells the two apart.)
    scores, is_tp, n = match_detections(detections, GT, 0)
    assert scores.tolist() == [0.9, 0.8, 0.7] and is_tp.tolist() == [True, False, True] and n == 2
    precision, recall = precision_recall(is_tp, n)
    np.testing.assert_allclose(precision, [1, 1 / 2, 2 / 3])
    np.testing.assert_allclose(recall, [1 / 2, 1 / 2, 1])
    assert average_precision(detections, GT, 0) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    assert mean_average_precision(detections, GT, num_classes=1) == pytest.approx(5 / 6)


def test_interpolation_is_all_point_and_takes_the_best_precision_to_the_right():
    # Ranking of 5 detections against 3 ground-truth boxes: TP, FP, FP, TP, TP.
    #   precision 1, 1/2, 1/3, 2/4, 3/5;  recall 1/3, 1/3, 1/3, 2/3, 1
    # Envelope at recall 1/3: max(1, ...) = 1; at 2/3: max(1/2, 3/5) = 3/5; at 1: 3/5.
    #   all-point interpolated AP = 1/3 * 1 + 1/3 * 3/5 + 1/3 * 3/5 = 11/15 = 0.7333
    #   without interpolation:      1/3 * 1 + 1/3 * 1/2 + 1/3 * 3/5 = 0.7
    #   11-point: 0, .1, .2, .3 -> 1; .4 ... 1.0 -> 3/5:  (4 + 7 * 3/5) / 11 = 0.7455
    precision, recall = precision_recall([True, False, False, True, True], 3)
    assert area_under_pr(precision, recall) == pytest.approx(11 / 15)
    assert area_under_pr(precision, recall, interpolate=False) == pytest.approx(0.7)


def test_uninterpolated_area_matches_scikit_learn():
    # scikit-learn's average_precision_score is the uninterpolated sum; it counts recall over
    # the positives among the scored items, so every ground-truth box here is detected, and
    # scores are distinct (scikit-learn groups tied scores into one threshold, we do not).
    from sklearn.metrics import average_precision_score

    rng = np.random.default_rng(1)
    for _ in range(5):
        is_tp = rng.random(40) < 0.4
        scores = np.sort(rng.random(40))[::-1]
        precision, recall = precision_recall(is_tp, int(is_tp.sum()))
        assert area_under_pr(precision, recall, interpolate=False) == pytest.approx(
            average_precision_score(is_tp, scores))


def test_with_tied_scores_the_uninterpolated_area_and_scikit_learn_differ():
    """The docstring's caveat: scikit-learn takes tied scores as one threshold, our ranking does not."""
    from sklearn.metrics import average_precision_score

    is_tp, scores = np.array([True, True, False]), np.array([0.9, 0.5, 0.5])
    precision, recall = precision_recall(is_tp, 2)
    assert area_under_pr(precision, recall, interpolate=False) == pytest.approx(1.0)  # the true one ranked first
    assert average_precision_score(is_tp, scores) == pytest.approx(0.5 + 0.5 * 2 / 3)


def test_a_second_detection_of_the_same_object_is_a_false_positive():
    detections = [image([[0, 0, 10, 10], [0, 0, 10, 9]], [0.9, 0.8], [0, 0]), image()]
    # Image 0: both detections overlap its box (IoU 1 and 0.9); the first takes it, the second
    # finds it used: TP, FP. Image 1's box is never found. Precision 1, 1/2; recall 1/2, 1/2.
    # AP = 1/2 * 1 = 0.5. (Letting the duplicate match again would give recall 1: AP 1.)
    _, is_tp, n = match_detections(detections, GT, 0)
    assert is_tp.tolist() == [True, False] and n == 2
    assert average_precision(detections, GT, 0) == pytest.approx(0.5)


def test_a_match_needs_the_same_image_and_the_same_class():
    # Image 1's box, reported in image 0 (where nothing is there): a false positive.
    # Image 0's box, found exactly but labelled class 1: not a match for class 0.
    detections = [image([[20, 20, 30, 30], [0, 0, 10, 10]], [0.9, 0.8], [0, 1]), image()]
    _, is_tp, n = match_detections(detections, GT, 0)
    assert is_tp.tolist() == [False] and n == 2
    assert average_precision(detections, GT, 0) == 0.0
    # Class 1 has no ground truth: its AP is undefined (NaN) and left out of the mean, so the
    # mean is class 0's 0.0, not (0 + 0) / 2 nor NaN.
    ap = average_precision_per_class(detections, GT, num_classes=2)
    assert ap[0] == 0.0 and np.isnan(ap[1])
    assert mean_average_precision(detections, GT, num_classes=2) == 0.0


def test_two_classes_are_averaged():
    gt = [truth([[0, 0, 10, 10], [40, 40, 50, 50]], [0, 1]), truth([[20, 20, 30, 30]], [0])]
    detections = [
        image([[0, 0, 10, 10], [50, 50, 60, 60], [40, 40, 50, 50], [0, 0, 10, 10]],
              [0.9, 0.8, 0.6, 0.95], [0, 0, 1, 1]),
        image([[20, 20, 30, 30]], [0.7], [0]),
    ]
    # Class 0 is the worked case above (TP 0.9, FP 0.8, TP 0.7): AP 5/6.
    # Class 1, one box: ranked 0.95 (on image 0's class-0 object: IoU 0 with the class-1 box,
    # FP), then 0.6 (TP). Precision 0, 1/2; recall 0, 1. AP = 1 * 1/2 = 0.5.
    # mAP = (5/6 + 1/2) / 2 = 2/3.
    ap = average_precision_per_class(detections, gt, num_classes=2)
    np.testing.assert_allclose(ap, [5 / 6, 1 / 2])
    assert mean_average_precision(detections, gt, num_classes=2) == pytest.approx(2 / 3)
    # A third class with no ground truth is left out: still 2/3 (counted as 0 it would be 4/9).
    assert mean_average_precision(detections, gt, num_classes=3) == pytest.approx(2 / 3)


def test_iou_threshold_is_inclusive_for_matching():
    gt = [truth([SQUARE], [0])]
    detections = [image([[0, 0, 2, 1]], [0.9], [0])]  # IoU exactly 0.5 (see the NMS edge case)
    assert average_precision(detections, gt, 0, iou_threshold=0.5) == 1.0
    assert average_precision(detections, gt, 0, iou_threshold=0.75) == 0.0


def test_a_detection_takes_the_best_unmatched_box_coco_rule():
    # Two objects side by side: P (0,0,10,10) and Q (4,0,14,10), IoU(P, Q) = 60/140.
    # Detection 1 (0.9) sits on P exactly: takes P. Detection 2 (0.8) is (2,0,12,10):
    # IoU with P = 80/120 = 0.667, with Q = 80/120 = 0.667 -- tie, first listed wins -- but P is
    # taken, so it takes Q (0.667 >= 0.5): TP. AP = 1.
    # (The VOC devkit would look only at the highest-IoU box, P, find it taken, and call it FP.)
    gt = [truth([[0, 0, 10, 10], [4, 0, 14, 10]], [0, 0])]
    detections = [image([[0, 0, 10, 10], [2, 0, 12, 10]], [0.9, 0.8], [0, 0])]
    _, is_tp, _ = match_detections(detections, gt, 0)
    assert is_tp.tolist() == [True, True]
    assert average_precision(detections, gt, 0) == 1.0
    # Among unmatched boxes the highest IoU wins: detection (3,0,13,10) has IoU 70/130 with P
    # and 90/110 with Q, so it takes Q, leaving P for the next detection (0,0,10,10).
    detections = [image([[3, 0, 13, 10], [0, 0, 10, 10]], [0.9, 0.8], [0, 0])]
    assert match_detections(detections, gt, 0)[1].tolist() == [True, True]


def test_missing_detections_and_missing_ground_truth():
    assert average_precision([image(), image()], GT, 0) == 0.0   # objects, no detections: 0
    empty = [truth(), truth()]
    detections = [image([SQUARE], [0.9], [0]), image()]
    assert np.isnan(average_precision(detections, empty, 0))       # nothing to find: undefined
    assert np.isnan(mean_average_precision(detections, empty, num_classes=3))


def test_inputs_are_checked():
    with pytest.raises(ValueError, match="2 images of detections but 1"):
        mean_average_precision([image(), image()], [truth()], num_classes=1)
    with pytest.raises(ValueError, match="label outside 0..1"):
        mean_average_precision([image([SQUARE], [0.5], [2])], [truth()], num_classes=2)
    with pytest.raises(ValueError, match="1 boxes but 2 scores"):
        mean_average_precision([image([SQUARE], [0.5, 0.4], [0])], [truth()], num_classes=1)


def test_importing_detection_does_not_import_tensorflow():
    assert heavy_imports("import cifar_lessons.detection.metrics") == []
