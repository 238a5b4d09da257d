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


class TrainingError(CifarLessonsError):
    """Training diverged (a NaN or infinite loss): the model is not a result."""


def in_notebook() -> bool:
    """True inside a Jupyter kernel or Colab, where advice must not name command-line flags.

    A running kernel, not an imported module: a program that merely imports ``ipykernel`` (a test
    runner executing notebooks, say) is still a command line.
    """
    import sys

    if "google.colab" in sys.modules:
        return True
    ipython = sys.modules.get("IPython") if "ipykernel" in sys.modules else None
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and hasattr(shell, "kernel")


def how_to_set(option: str, value: str) -> str:
    """How the user sets ``option`` where they are: a flag on the command line, a variable in a notebook.

    The environment variable is read when a chapter calls ``chapter_config()``, so in a notebook
    setting it in a cell before that call is enough (chapter 1 shows the first cell).
    """
    var = f"CIFAR_LESSONS_{option.upper()}"
    if in_notebook():
        return f'os.environ["{var}"] = "{value}" (in a cell before chapter_config())'
    return f"--{option.replace('_', '-')} {value} (or {var}={value})"
