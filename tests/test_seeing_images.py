"""Module 1 as the course promises it: the chapter Seeing images shows, with OpenCV on real photos,
cropping and regions of interest, drawing, geometric transforms, morphology, connected components and
contours (counting the coins), and writing images to files (issue 25, item 5)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from conftest import executed_chapter, printed_text

REPO = Path(__file__).resolve().parents[1]
CHAPTER = REPO / "book" / "00_seeing_images.ipynb"

#: What the course asks for, and the OpenCV calls that teach it.
TOPICS = {
    "cropping and regions of interest": ["astronaut[30:230, 150:330]", "np.shares_memory", ".copy()"],
    "drawing boxes and text": ["cv2.rectangle", "cv2.putText", "cv2.circle"],
    "geometric transforms": ["cv2.flip", "cv2.getRotationMatrix2D", "cv2.warpAffine", "cv2.getAffineTransform",
                             "cv2.getPerspectiveTransform", "cv2.warpPerspective"],
    "morphology": ["cv2.getStructuringElement", "cv2.MORPH_OPEN", "cv2.MORPH_CLOSE", "cv2.erode"],
    "connected components and contours": ["cv2.connectedComponentsWithStats", "cv2.findContours",
                                          "cv2.drawContours"],
    "writing images to files": ["cv2.imwrite", "cv2.IMWRITE_JPEG_QUALITY"],
}


def code() -> str:
    nb = nbformat.read(CHAPTER, as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code" and "exercises" not in c.metadata.get("tags", []))


@pytest.mark.parametrize("topic", TOPICS)
def test_the_chapter_teaches_each_topic_with_opencv_in_its_own_cells(topic):
    missing = [call for call in TOPICS[topic] if call not in code()]
    assert missing == [], f"{topic}: {missing}"


def test_the_coins_are_counted_and_the_images_written_in_the_build():
    """The executed chapter prints its own count and the files it wrote read back as written (PNG) or not (JPEG)."""
    text = printed_text(executed_chapter("00_seeing_images"))
    assert "components;" in text and "of at least 100 pixels" in text
    assert "coins.png" in text and "same pixels as written: True" in text
    assert "coins.jpg" in text and "same pixels as written: False" in text


def test_the_detection_chapter_runs_opencvs_hog_people_detector_with_nms_and_tells_what_it_found():
    """Module 4 on a real photo: the pretrained HOG people detector that ships with OpenCV, with the
    chapter's NMS; the prose says it finds nobody at the default threshold, which the output must show."""
    source = (REPO / "book" / "09_detection.py").read_text()
    assert "cv2.HOGDescriptor_getDefaultPeopleDetector()" in source and "detection.nms(*people[-0.5]" in source
    assert "At OpenCV's default threshold the detector finds nobody" in source
    text = printed_text(executed_chapter("09_detection"))
    assert "'threshold 0.0': 0," in text and "| after NMS:" in text
