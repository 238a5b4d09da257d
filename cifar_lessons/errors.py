"""User-facing errors.

Every mistake a user can make (a wrong path, a bad option, a weights file that does not fit)
raises a subclass of :class:`CifarLessonsError`. The command line prints its message on one
line and exits non-zero, without a traceback; anything else is a bug and keeps its traceback.
"""


class CifarLessonsError(Exception):
    """Base class for errors caused by the user's input rather than by a bug."""


class ConfigError(CifarLessonsError, ValueError):
    """An option has a value the recipe cannot use (unknown profile, n <= 0, ...)."""


class DataError(CifarLessonsError):
    """The data source is missing, truncated, unreadable or not CIFAR-10 shaped."""


class WeightsError(CifarLessonsError):
    """Pretrained weights could not be obtained, or do not fit the backbone."""


class RecordError(CifarLessonsError):
    """A run record cannot be written (folder exists) or read back (incomplete)."""
