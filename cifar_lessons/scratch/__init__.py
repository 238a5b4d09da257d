"""Transfer or from scratch, measured: a small CIFAR-10 CNN from random weights against the frozen
ImageNet base with a head, on the same 10,000 training images and the same 10,000 test images.

``model`` builds the network from scratch, ``study`` trains and records both kinds of run, ``figures``
draws them from their committed records (``results/scratch-*`` and ``results/head-lite0-*``, made by
``scripts/measure_scratch_vs_transfer.py``). Taught in chapter 7 (takeaways), whose figure it draws;
chapter 1 and the presentation quote its records.
"""
