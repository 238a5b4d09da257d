"""The one package that is not a folder of its own name: ``results/`` ships as ``cifar_lessons.measured``.

Everything else is in ``pyproject.toml``. The package list is found, not written out, so a new
subpackage cannot fall out of the wheel; ``pyproject.toml`` alone cannot both find packages and add
a package mapped from another folder, hence this file.
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["cifar_lessons", "cifar_lessons.*"]), "cifar_lessons.measured"])
