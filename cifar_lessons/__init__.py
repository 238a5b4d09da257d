"""cifar_lessons: the helpers behind the cifar-lessons book.

Transfer learning on CIFAR-10: a pretrained ResNet50 base, frozen, under a two-layer
dense head (chapters 2-3), then fine-tuned as a whole at a low learning rate (chapter 4),
evaluated on the untouched test set (chapter 5). Every run writes a record (chapter 7); chapter 6 measures
how to do better.

Importing this package does not import TensorFlow; the submodules that need it do. It sets
``TF_CPP_MIN_LOG_LEVEL=2`` unless the user set it, before any of them can import TensorFlow
(see :mod:`cifar_lessons.quiet`).
"""

from importlib import metadata as _metadata

from .quiet import set_default_log_level

set_default_log_level()

try:
    # The version is written once, in pyproject.toml; the installed package's metadata carries it, and
    # scripts/set_install_source.py writes the same version into every chapter's install cell.
    __version__ = _metadata.version("cifar-lessons")
except _metadata.PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

from .config import PROFILES, RunConfig, make_config  # noqa: E402
from .errors import CifarLessonsError, ConfigError, DataError, RecordError, WeightsError  # noqa: E402

__all__ = [
    "PROFILES",
    "RunConfig",
    "make_config",
    "CifarLessonsError",
    "ConfigError",
    "DataError",
    "RecordError",
    "WeightsError",
]
