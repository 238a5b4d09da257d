"""Object detection, chapter 9, on scenes the book builds from Fashion-MNIST garments.

- :mod:`~cifar_lessons.detection.metrics`: boxes, IoU, non-maximum suppression, mAP (NumPy only);
- :mod:`~cifar_lessons.detection.model`: the scenes, the grid detector, its training and records;
- :mod:`~cifar_lessons.detection.figures`: boxes on scenes, IoU, NMS and AP per class, drawn.
"""
