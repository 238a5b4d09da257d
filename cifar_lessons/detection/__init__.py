"""Object detection, taught in the chapter Detection (``book/09_detection``), on scenes the book builds
from Fashion-MNIST garments.

- :mod:`~cifar_lessons.detection.metrics`: boxes, IoU, non-maximum suppression, mAP (NumPy only);
- :mod:`~cifar_lessons.detection.config`: what the detector computes, at build size or full size;
- :mod:`~cifar_lessons.detection.scenes`: the scenes and their exact boxes;
- :mod:`~cifar_lessons.detection.targets`: boxes to the grid's targets and back;
- :mod:`~cifar_lessons.detection.model`: the grid detector, its loss, training and evaluation;
- :mod:`~cifar_lessons.detection.record`: its run record and run card;
- :mod:`~cifar_lessons.detection.haar`: OpenCV's pretrained Haar cascades, a classic detector;
- :mod:`~cifar_lessons.detection.figures`: boxes on scenes, IoU, NMS and AP per class, drawn.
"""
