"""Segmentation, chapter 10: classical masks and a small U-Net on made-up scenes.

- :mod:`~cifar_lessons.segmentation.metrics`: pixel accuracy, IoU and Dice per class (NumPy only);
- :mod:`~cifar_lessons.segmentation.unet`: classical masks, the scenes, the U-Net, its training and records;
- :mod:`~cifar_lessons.segmentation.figures`: training curves and scenes beside their masks.
"""
