"""Segmentation, taught in the chapter Segmentation (``book/10_segmentation``): classical masks, then a
small U-Net on made-up scenes whose masks are exact.

- :mod:`~cifar_lessons.segmentation.metrics`: pixel accuracy, IoU and Dice per class (NumPy only);
- :mod:`~cifar_lessons.segmentation.config`: what the training computes, at build size or full size;
- :mod:`~cifar_lessons.segmentation.classical`: Otsu, watershed, GrabCut, overlays;
- :mod:`~cifar_lessons.segmentation.scenes`: garments on textures, with exact masks;
- :mod:`~cifar_lessons.segmentation.model`: the U-Net, its training and its scores;
- :mod:`~cifar_lessons.segmentation.record`: its run record, run card and tables;
- :mod:`~cifar_lessons.segmentation.figures`: training curves and scenes beside their masks.
"""
