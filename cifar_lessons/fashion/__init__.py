"""Fashion-MNIST, the course's first networks (chapters 00b and 00c).

- :mod:`~cifar_lessons.fashion.scratch`: a dense network and a small CNN trained from scratch;
- :mod:`~cifar_lessons.fashion.transfer`: an ImageNet backbone transferred to grey 28x28 garments.
"""
