"""Loading CIFAR-10 (and Fashion-MNIST) from Keras's download or from a local copy.

Taught in chapter 1 (the dataset). Images come back as ``uint8`` arrays of shape
``(N, 32, 32, 3)`` with values 0-255, and labels always as a flat ``int64`` vector of class
indices, so every model here uses sparse categorical cross-entropy.

Sources, chosen by :func:`load_cifar10`:

* ``None`` (default): ``keras.datasets.cifar10.load_data()``, the official download.
* The official python-batch folder ``cifar-10-batches-py`` or ``cifar-10-python.tar.gz``.
* A class-folder tree ``train/<class>/*`` and ``test/<class>/*`` of PNG or JPEG files,
  or a ``.tar.gz`` of one (such as ``../shared/data/cifar10-jpeg.tar.gz``).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import io
import os
import pickle
import shutil
import tarfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .config import ENV_DATA
from .errors import ConfigError, DataError, how_to_set
from .files import exclusive_lock, sha256_of

#: CIFAR-10 class names in Keras's label order 0-9.
CLASS_NAMES: tuple[str, ...] = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

#: Fashion-MNIST class names in Keras's label order 0-9.
FASHION_MNIST_CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

#: sha256 of the official ``cifar-10-python.tar.gz``; Keras checks it on download.
OFFICIAL_ARCHIVE_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"

#: sha256 of each batch file in the official archive. Not published by the dataset's authors (they
#: give the archive's MD5 only); these are the digests that several independent projects pin for the
#: files of ``cifar-10-python.tar.gz`` (sha256 6d958be0... above), and they agree with one another.
#: A folder is called official only if all six files match.
OFFICIAL_BATCH_SHA256 = {
    "data_batch_1": "54636561a3ce25bd3e19253c6b0d8538147b0ae398331ac4a2d86c6d987368cd",
    "data_batch_2": "766b2cef9fbc745cf056b3152224f7cf77163b330ea9a15f9392beb8b89bc5a8",
    "data_batch_3": "0f00d98ebfb30b3ec0ad19f9756dc2630b89003e10525f5e148445e82aa6a1f9",
    "data_batch_4": "3f7bb240661948b8f4d53e36ec720d8306f5668bd0071dcb4e6c947f78e9682b",
    "data_batch_5": "d91802434d8376bbaeeadf58a737e3a1b12ac839077e931237e0dcd43adcb154",
    "test_batch": "f53d8d457504f7cff4ea9e021afcf0e0ad8e24a91f3fc42091b8adef61157831",
}

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")

#: Size limits on files read from a data source, checked before a file is read into memory. The
#: official batch files are about 31 MB each (``data_batch_1`` is 31,035,704 bytes); a 32x32 PNG or
#: JPEG is a few kB. A file or archive member above its limit is no CIFAR-10 file and is refused, so
#: a crafted archive cannot make the loader allocate gigabytes.
MAX_BATCH_BYTES = 64 << 20
MAX_IMAGE_BYTES = 1 << 20
#: The JPEG archive holds 60,022 entries (60,000 images and their folders); a tar.gz of millions of
#: empty headers costs little on disk but a TarInfo each in memory, so listing stops past this many.
MAX_ARCHIVE_MEMBERS = 250_000

BATCH_FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
_BATCH_FILES = BATCH_FILES


@dataclass(frozen=True)
class DataSource:
    """Where a dataset came from, written into every run record and run card."""

    kind: str  # keras-download | python-batches | python-archive | class-folders | class-folders-archive
    #            (Fashion-MNIST: keras-download | debian-copy | keras-cache)
    path: str | None
    sha256: str | None
    official: bool
    description: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class CifarData:
    """A loaded dataset: raw ``uint8`` images, flat integer labels and where they came from."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    source: DataSource


def listing_sha256(root: str | os.PathLike, names: Iterable[str]) -> str:
    """One hash for a set of files in a folder: the sha256 of their ``sha256sum`` listing.

    The listing is one ``<sha256>  <relative path>`` line per file, sorted by path, so anyone can
    check it: ``(cd DIR && find . -type f -printf '%P\\n' | LC_ALL=C sort | xargs -d '\\n' sha256sum) |
    sha256sum``.
    """
    root = Path(root)
    lines = "".join(f"{sha256_of(root / name)}  {name}\n" for name in sorted(names))
    return hashlib.sha256(lines.encode()).hexdigest()


def load_cifar10(source: str | os.PathLike | None = None, *, n: int = 10_000, seed: int = 42) -> CifarData:
    """Load CIFAR-10 and keep the first ``n`` training images; the test set stays whole.

    ``source=None`` reads ``CIFAR_LESSONS_DATA`` and, if that is unset, downloads with Keras.
    The official archive and batches keep their official order, so the first ``n`` are the
    same images Keras gives. A class-folder tree is sorted by class on disk, so it is
    shuffled with ``seed`` *before* the limit: its first ``n`` are a random, roughly
    balanced sample, and its order differs from the official archive's.
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n <= 0:
        raise ConfigError(f"n must be a positive number of training images, got {n!r}")
    if source is None:
        source = os.environ.get(ENV_DATA) or None
    if source is None:
        (x_tr, y_tr), (x_te, y_te), src = _load_keras_download(n)
    else:
        path = Path(source).expanduser()
        if not path.exists():
            raise DataError(f"data path {str(path)!r} does not exist")
        (x_tr, y_tr), (x_te, y_te), src = _load_local(path, n=n, seed=seed)
    if n > len(x_tr):
        raise DataError(f"n={n} but the source holds only {len(x_tr)} training images")
    return CifarData(
        x_train=x_tr[:n],
        y_train=y_tr[:n],
        x_test=x_te,
        y_test=y_te,
        class_names=CLASS_NAMES,
        source=src,
    )


def validation_size(n_images: int, fraction: float) -> int:
    """How many of ``n_images`` training images :func:`split_validation` holds out."""
    if not 0 < fraction < 1:
        raise ConfigError(f"validation fraction must be between 0 and 1, got {fraction}")
    n_val = max(1, int(round(n_images * fraction)))
    if n_val >= n_images:
        raise ConfigError(f"cannot hold out {n_val} validation images from {n_images} training images")
    return n_val


def split_validation(train_images: np.ndarray, train_labels: np.ndarray, fraction: float = 0.1):
    """Hold out the last ``fraction`` of the training images (in random order already) to
    validate on; never the test set, which would make the final test figure optimistic."""
    n_val = validation_size(len(train_images), fraction)
    fit_images, fit_labels = train_images[:-n_val], train_labels[:-n_val]
    val_images, val_labels = train_images[-n_val:], train_labels[-n_val:]
    return (fit_images, fit_labels), (val_images, val_labels)


# --------------------------------------------------------------------------- Keras download
def download_cifar10(n: int = 10_000):
    """CIFAR-10 from Keras (downloaded once, then read from ~/.keras): the first ``n``
    training images and all 10,000 test images."""
    import keras  # here: importing cifar_lessons.data stays free of TensorFlow

    (train_images, train_labels), (test_images, test_labels) = keras.datasets.cifar10.load_data()
    # Keras gives each label as a row of one number, shape (50000, 1): one flat vector of
    # class indices 0-9 is simpler to index, and sparse cross-entropy takes it as it is.
    train_labels = train_labels.reshape(-1).astype("int64")
    test_labels = test_labels.reshape(-1).astype("int64")
    # The official order is already random: the first n are a fair sample of all classes.
    return (train_images[:n], train_labels[:n]), (test_images, test_labels)


def _load_keras_download(n: int):
    try:
        with keras_cache_lock():
            train, test = download_cifar10(n)
    except Exception as exc:  # network failures surface as plain Exception from get_file
        raise DataError(
            f"could not download CIFAR-10 with Keras "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}). "
            f"Offline, give a local copy with {how_to_set('data', 'PATH')} "
            "(the python-batch folder/archive or a class-folder tree/archive)"
        ) from exc
    src = DataSource(
        kind="keras-download",
        path=None,
        sha256=OFFICIAL_ARCHIVE_SHA256,
        official=True,
        description="official CIFAR-10 archive via keras.datasets.cifar10.load_data() "
        "(sha256 checked by Keras)",
    )
    return train, test, src


# --------------------------------------------------------------------------- local sources
def _load_local(path: Path, *, n: int, seed: int):
    if path.is_dir():
        if (path / "cifar-10-batches-py").is_dir():
            path = path / "cifar-10-batches-py"
        if (path / "data_batch_1").exists():
            train, test = _read_batches(lambda name: _read_file(path / name, MAX_BATCH_BYTES), str(path))
            official = all(sha256_of(path / name) == digest for name, digest in OFFICIAL_BATCH_SHA256.items())
            return (
                train,
                test,
                DataSource(
                    "python-batches",
                    str(path),
                    listing_sha256(path, BATCH_FILES),
                    official,
                    f"official CIFAR-10 python batches in {path}"
                    if official
                    else f"CIFAR-10 python batches in {path} (not the official files' hashes)",
                ),
            )
        root = _class_root([p.relative_to(path).as_posix() for p in path.iterdir()])
        if root is None:
            raise DataError(
                f"{path} is neither a cifar-10-batches-py folder nor a class-folder tree "
                "with train/<class>/ and test/<class>/"
            )
        files = _scan_dir(path)
        train, test = _read_class_folders(
            files,
            lambda names: {rel: _read_file(path / rel, MAX_IMAGE_BYTES) for rel in names},
            n=n,
            seed=seed,
            where=str(path),
        )
        return (
            train,
            test,
            DataSource(
                "class-folders",
                str(path),
                listing_sha256(path, files),
                False,
                f"class-folder image tree {path} (shuffled with seed {seed}; not the official archive)",
            ),
        )
    if path.name.endswith((".tar.gz", ".tgz", ".tar")):
        return _load_archive(path, n=n, seed=seed)
    raise DataError(f"{path} is not a folder or a .tar.gz archive")


def _read_file(path: Path, limit: int) -> bytes:
    """A file's bytes, refused (one line, naming it) if it is larger than any real one of its kind."""
    size = path.stat().st_size
    if size > limit:
        raise DataError(
            f"{path} is {size:,} bytes, larger than any CIFAR-10 file of its kind ({limit:,}); refused"
        )
    return path.read_bytes()


def _list_members(tar: tarfile.TarFile, path: Path) -> dict[str, tarfile.TarInfo]:
    """The archive's regular files by name, refusing oversized members and absurd member counts.

    Checked header by header, as ``tarfile`` reads them: a member that claims gigabytes is refused
    before its contents are decompressed or read.
    """
    members: dict[str, tarfile.TarInfo] = {}
    for count, member in enumerate(tar, start=1):
        if count > MAX_ARCHIVE_MEMBERS:
            raise DataError(
                f"{path} has more than {MAX_ARCHIVE_MEMBERS:,} entries, far more than CIFAR-10's "
                "60,000 images; refused"
            )
        if not member.isfile():
            continue
        name = member.name.lstrip("./")
        limit = MAX_IMAGE_BYTES if name.lower().endswith(IMAGE_SUFFIXES) else MAX_BATCH_BYTES
        if member.size > limit:
            raise DataError(
                f"{path}: member {name} claims {member.size:,} bytes, more than any CIFAR-10 file of its "
                f"kind ({limit:,}); refused"
            )
        members[name] = member
    return members


def _load_archive(path: Path, *, n: int, seed: int):
    digest = sha256_of(path)
    try:
        with tarfile.open(path, "r:*") as tar:
            members = _list_members(tar, path)

            def read(name: str) -> bytes:
                return tar.extractfile(members[name]).read()

            def read_many(names) -> dict[str, bytes]:
                # In archive order: a .tar.gz is one compressed stream, and reading members
                # out of order would decompress it again from the start for each of them.
                wanted = sorted(set(names), key=lambda name: members[name].offset)
                return {name: read(name) for name in wanted}

            batch = next((name for name in members if name.endswith("data_batch_1")), None)
            if batch is not None:
                prefix = batch[: -len("data_batch_1")]
                train, test = _read_batches(
                    lambda name: read(prefix + name), str(path), names=set(members), prefix=prefix
                )
                official = digest == OFFICIAL_ARCHIVE_SHA256
                return (
                    train,
                    test,
                    DataSource(
                        "python-archive",
                        str(path),
                        digest,
                        official,
                        "official CIFAR-10 archive cifar-10-python.tar.gz"
                        if official
                        else f"CIFAR-10 python-batch archive {path.name} (not the official file's hash)",
                    ),
                )
            train, test = _read_class_folders(list(members), read_many, n=n, seed=seed, where=str(path))
            return (
                train,
                test,
                DataSource(
                    "class-folders-archive",
                    str(path),
                    digest,
                    False,
                    f"class-folder image archive {path.name} "
                    f"(shuffled with seed {seed}; not the official archive)",
                ),
            )
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise DataError(
            f"{path} is truncated or not a valid tar archive ({type(exc).__name__}: {exc})"
        ) from exc


def _read_batches(
    read: Callable[[str], bytes], where: str, names: Iterable[str] | None = None, prefix: str = ""
):
    if names is not None:
        missing = [b for b in _BATCH_FILES if prefix + b not in names]
    else:
        missing = [b for b in _BATCH_FILES if not (Path(where) / b).exists()]
    if missing:
        raise DataError(f"{where} lacks the CIFAR-10 batch files: {', '.join(missing)}")

    def load(name: str):
        try:
            blob = read(name)
        except OSError as exc:
            raise DataError(f"batch file {name} in {where} is unreadable ({_first_line(exc)})") from exc
        try:
            d = _BatchUnpickler(io.BytesIO(blob)).load()
        except _Refused as exc:
            raise DataError(
                f"batch file {name} in {where} is refused: it asks for {exc}, which no CIFAR-10 batch "
                "holds (it may be crafted to run code; nothing of it was run)"
            ) from None
        except Exception as exc:
            raise DataError(f"batch file {name} in {where} is unreadable ({_first_line(exc)})") from exc
        try:
            data = np.asarray(d[b"data"], dtype=np.uint8)
            labels = np.asarray(d[b"labels"], dtype=np.int64)
            x = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        except Exception as exc:
            raise DataError(f"batch file {name} in {where} is unreadable ({_first_line(exc)})") from exc
        if len(x) != len(labels):
            raise DataError(f"batch file {name} in {where} has {len(x)} images but {len(labels)} labels")
        return x, labels

    parts = [load(b) for b in _BATCH_FILES[:5]]
    x_tr = np.concatenate([p[0] for p in parts])
    y_tr = np.concatenate([p[1] for p in parts])
    return (x_tr, y_tr), load("test_batch")


class _Refused(pickle.UnpicklingError):
    """A batch file named a global :class:`_BatchUnpickler` does not admit; the message is ``module.name``."""


def _latin1_bytes(text: str, encoding: str = "latin1") -> bytes:
    """``_codecs.encode`` as Python 3 uses it to pickle ``bytes`` at protocol 2, and nothing more."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise pickle.UnpicklingError("_codecs.encode used for something other than bytes")
    return text.encode("latin1")


#: Every global a CIFAR-10 batch file may name. The official files (Python 2, protocol 2) are a dict
#: of byte strings, lists of ints and byte strings, and one array, rebuilt by NumPy's ``_reconstruct``
#: from ``ndarray`` and ``dtype``. NumPy 2 renamed ``numpy.core`` to ``numpy._core``, and Python 3
#: pickles arrays at protocol 5 with ``_frombuffer``, so a batch someone wrote with Python 3 reads too.
#: None of these runs anything but NumPy's own array construction.
_NUMPY_GLOBALS = frozenset(
    {(f"numpy.{core}.multiarray", "_reconstruct") for core in ("core", "_core")}
    | {(f"numpy.{core}.numeric", "_frombuffer") for core in ("core", "_core")}
    | {("numpy", "ndarray"), ("numpy", "dtype")}
)


class _BatchUnpickler(pickle.Unpickler):
    """Reads a CIFAR-10 batch file without ever importing or calling anything else the file names.

    ``pickle`` calls whatever global a file names, which is how a crafted "dataset" runs a shell
    command. Here :meth:`find_class` admits only :data:`_NUMPY_GLOBALS` and the ``_codecs.encode``
    that Python 3 writes for ``bytes`` at protocol 2 (Python's documented way to restrict globals);
    anything else raises :class:`_Refused` before it is imported. Byte strings stay bytes
    (``encoding="bytes"``), as the official files need under Python 3.
    """

    def __init__(self, file: io.BytesIO) -> None:
        super().__init__(file, encoding="bytes")

    def find_class(self, module: str, name: str) -> object:
        if (module, name) == ("_codecs", "encode"):
            return _latin1_bytes
        if (module, name) not in _NUMPY_GLOBALS:
            raise _Refused(f"{module}.{name}")
        # The module as this NumPy names it: numpy.core is a deprecated alias in NumPy 2.
        for candidate in (module.replace("numpy.core.", "numpy._core."), module):
            try:
                return getattr(importlib.import_module(candidate), name)
            except (ImportError, AttributeError):
                continue
        raise pickle.UnpicklingError(f"this NumPy has no {module}.{name}")


def _first_line(exc: BaseException) -> str:
    """``Type: message`` on one line: the command line's errors never span lines."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _scan_dir(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _splits(names: Iterable[str]) -> dict[str, set[str]]:
    """For each prefix ('' or one folder deep), which of ``train/`` and ``test/`` sit under it."""
    tops: dict[str, set[str]] = {}
    for name in names:
        parts = name.strip("/").split("/")
        for depth in (0, 1):
            if len(parts) > depth and parts[depth] in ("train", "test"):
                prefix = "/".join(parts[:depth])
                tops.setdefault(prefix, set()).add(parts[depth])
                break
    return tops


def _class_root(names: Iterable[str]) -> str | None:
    """Find the prefix under which ``train/`` and ``test/`` sit ('' or one folder deep)."""
    for prefix, splits in sorted(_splits(names).items(), key=lambda kv: len(kv[0])):
        if splits == {"train", "test"}:
            return prefix
    return None


def _read_class_folders(
    names: list[str], read_many: Callable[[list[str]], dict[str, bytes]], *, n: int, seed: int, where: str
):
    root = _class_root(names)
    if root is None:
        found = sorted(_splits(names).items(), key=lambda kv: len(kv[0]))
        if found:  # the folders exist, but one split holds no file (e.g. empty test/<class>/ folders)
            prefix, splits = found[0]
            missing = ({"train", "test"} - splits).pop()
            raise DataError(f"{where} has no images under {prefix + '/' if prefix else ''}{missing}/")
        raise DataError(f"{where} has no train/<class>/ and test/<class>/ folders")
    start = len(root) + 1 if root else 0
    by_split: dict[str, list[tuple[str, str]]] = {"train": [], "test": []}
    classes_seen: dict[str, set[str]] = {"train": set(), "test": set()}
    for name in sorted(names):
        if root and not name.startswith(root + "/"):
            continue
        parts = name[start:].split("/")
        if len(parts) != 3 or parts[0] not in by_split:
            continue
        split, cls, fname = parts
        classes_seen[split].add(cls)
        if fname.lower().endswith(IMAGE_SUFFIXES):
            by_split[split].append((cls, name))
    for split, seen in classes_seen.items():
        if seen != set(CLASS_NAMES):
            missing = sorted(set(CLASS_NAMES) - seen)
            extra = sorted(seen - set(CLASS_NAMES))
            raise DataError(
                f"the class folders under {split}/ in {where} do not match the ten CIFAR-10 classes"
                + (f"; missing: {', '.join(missing)}" if missing else "")
                + (f"; unexpected: {', '.join(extra)}" if extra else "")
            )
    index = {c: i for i, c in enumerate(CLASS_NAMES)}
    train = by_split["train"]
    if n > len(train):
        raise DataError(f"n={n} but {where} holds only {len(train)} training images")
    order = np.random.default_rng(seed).permutation(len(train))[:n]
    chosen = [train[i] for i in order]

    blobs = read_many([name for _, name in chosen + by_split["test"]])

    def decode(items):
        x = np.empty((len(items), 32, 32, 3), dtype=np.uint8)
        for i, (_, name) in enumerate(items):
            x[i] = _decode_image(blobs[name], name)
        y = np.array([index[c] for c, _ in items], dtype=np.int64)
        return x, y

    return decode(chosen), decode(by_split["test"])


def _decode_image(data: bytes, name: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            # The header gives the size; a file declaring 20000x20000 is refused before it is
            # decoded into a gigabyte of pixels.
            if img.size != (32, 32):
                raise DataError(f"image {name} is {img.size[0]}x{img.size[1]}, but CIFAR-10 images are 32x32")
            img.load()
            arr = np.asarray(img.convert("RGB"))
    except UnidentifiedImageError as exc:
        raise DataError(f"image {name} is unreadable (not an image file PIL can decode)") from exc
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise DataError(f"image {name} is unreadable ({_first_line(exc)})") from exc
    return arr


# --------------------------------------------------------------------------- Fashion-MNIST
def keras_home() -> Path:
    """Keras's cache folder (``$KERAS_HOME`` or ``~/.keras``), where its downloads live.

    Keras has no public accessor. Its private one is asked first, because ``get_file`` uses that
    very value (fixed when Keras was imported); should it move, Keras's documented rule is used.
    """
    try:
        from keras.src.backend.config import keras_home as private_keras_home
    except ImportError:
        if "KERAS_HOME" in os.environ:
            return Path(os.environ["KERAS_HOME"])
        base = os.path.expanduser("~")
        return Path(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    return Path(private_keras_home())


@contextlib.contextmanager
def keras_cache_lock():
    """Let one loader at a time write to and read from Keras's dataset cache.

    ``make site`` executes two chapters at once (``scripts/execute_chapters.py``), and Keras 3's
    ``get_file`` extracts CIFAR-10's archive again on every call: two kernels loading at once
    would read a folder the other is rewriting (Fashion-MNIST's files are copied into the same
    cache). An exclusive lock on a file beside the datasets makes them take turns.
    """
    folder = keras_home() / "datasets"
    folder.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(folder / ".cifar_lessons.lock"):
        yield


#: Where Debian's ``dataset-fashion-mnist`` package puts the original files.
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)


#: MD5 of each Fashion-MNIST file's *contents* (decompressed). The dataset's authors publish the MD5s
#: of their .gz files; Debian's package recompressed them (other .gz bytes, the same contents), so the
#: check is on the contents, whose MD5s several independent projects pin and agree on.
FASHION_MNIST_CONTENT_MD5 = {
    "train-labels-idx1-ubyte.gz": "9018921c3c673c538a1fc5bad174d6f9",
    "train-images-idx3-ubyte.gz": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "t10k-labels-idx1-ubyte.gz": "15d484375f8d13e6eb1aabb0c3f46965",
    "t10k-images-idx3-ubyte.gz": "8181f5470baa50b63fa0f6fddb340f0a",
}


def _official_fashion_files(folder: Path) -> bool:
    """True if the four files in ``folder`` hold exactly the official Fashion-MNIST contents."""
    import gzip

    for name, digest in FASHION_MNIST_CONTENT_MD5.items():
        h = hashlib.md5()
        try:
            with gzip.open(folder / name, "rb") as f:
                while block := f.read(1 << 20):
                    h.update(block)
        except (OSError, EOFError, zlib.error):
            return False
        if h.hexdigest() != digest:
            return False
    return True


def load_fashion_mnist(*, local_dir: str | os.PathLike | None = None):
    """Fashion-MNIST through ``keras.datasets.fashion_mnist.load_data()`` (the course's baseline).

    Offline, the four original files (Debian's ``dataset-fashion-mnist`` installs them in
    ``/usr/share/datasets/fashion-mnist``) are copied into Keras's cache first; Keras does
    not check a hash for them, so its own loader then reads the real data with no network.
    Returns ``((x_train, y_train), (x_test, y_test))`` with flat ``int64`` labels; use
    :func:`load_fashion_mnist_with_source` to learn where they came from.
    """
    train, test, _ = load_fashion_mnist_with_source(local_dir=local_dir)
    return train, test


def load_fashion_mnist_with_source(*, local_dir: str | os.PathLike | None = None):
    """:func:`load_fashion_mnist` and a :class:`DataSource` saying which files Keras read.

    A page must say where its numbers came from (the chapter "A network from scratch on
    Fashion-MNIST" shows it in its run card): Keras's own download, or Debian's copy placed in
    Keras's cache (now or by an earlier run). Either way the files' contents are checked against
    the official ones, so ``official`` is true only for the real dataset. Nothing else is ever
    tried: with neither the local files nor a network, this raises a one-line :class:`DataError`.
    One loader at a time uses Keras's cache (:func:`keras_cache_lock`).
    """
    with keras_cache_lock():
        return _fashion_mnist_with_source(local_dir)


def _fashion_mnist_with_source(local_dir: str | os.PathLike | None):
    import keras

    local = Path(local_dir) if local_dir is not None else DEBIAN_FASHION_MNIST
    where = "Debian's dataset-fashion-mnist" if local == DEBIAN_FASHION_MNIST else "the local files"
    cache = keras_home() / "datasets" / "fashion-mnist"
    cached = all((cache / f).exists() for f in FASHION_MNIST_FILES)
    copied = False
    if local.is_dir() and not cached:
        missing = [f for f in FASHION_MNIST_FILES if not (local / f).exists()]
        if missing:
            raise DataError(f"{local} lacks the Fashion-MNIST files: {', '.join(missing)}")
        cache.mkdir(parents=True, exist_ok=True)
        for f in FASHION_MNIST_FILES:
            shutil.copyfile(local / f, cache / f)
        copied = True
    try:
        (x_tr, y_tr), (x_te, y_te) = keras.datasets.fashion_mnist.load_data()
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise DataError(
            f"could not load Fashion-MNIST ({type(exc).__name__}: {first}). Offline, install Debian's "
            "dataset-fashion-mnist package (apt-get install dataset-fashion-mnist) or pass local_dir= "
            "with the four original .gz files."
        ) from exc
    digest = listing_sha256(cache, FASHION_MNIST_FILES)
    official = _official_fashion_files(cache)
    if copied:
        kind, text = "debian-copy", f"{where} ({local}) copied into Keras's cache"
    elif cached and local.is_dir() and listing_sha256(local, FASHION_MNIST_FILES) == digest:
        kind, text = "debian-copy", f"{where} ({local}), copied into Keras's cache by an earlier run"
    elif cached:
        kind, text = "keras-cache", f"the files already in Keras's cache ({cache}), from an earlier download"
    else:
        kind, text = "keras-download", f"Keras's download into its cache ({cache})"
    text += ", read by keras.datasets.fashion_mnist.load_data(); " + (
        "the official Fashion-MNIST contents" if official else "NOT the official Fashion-MNIST contents"
    )
    source = DataSource(kind=kind, path=str(cache), sha256=digest, official=official, description=text)
    return (x_tr, y_tr.astype(np.int64)), (x_te, y_te.astype(np.int64)), source
