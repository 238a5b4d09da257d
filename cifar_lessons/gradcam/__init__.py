"""Grad-CAM, chapter 8 (Where the classifier looks).

- :mod:`~cifar_lessons.gradcam.method`: the method: which pixels made the classifier choose a class;
- :mod:`~cifar_lessons.gradcam.study`: the chapter's model, its two measured figures and its records;
- :mod:`~cifar_lessons.gradcam.figures`: images above or beside their Grad-CAM overlays.
"""
