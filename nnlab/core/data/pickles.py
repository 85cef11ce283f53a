"""A restricted, bounded unpickler for CIFAR-10's python batches.

A pickle can name any importable callable, so a plain `pickle.load` of a file from the
internet runs whatever it names. `read_pickle` admits only what the format holds (dicts,
lists, strings, bytes, numpy arrays and dtypes) and refuses everything else before it is
constructed. It is bounded too: the file is read whole only below a size cap, the arrays
one file may build share one byte budget checked *before* numpy allocates them, and the
pure-Python unpickler keeps its memo in a dict (the C one grows an array to whatever index
a file names).
"""

from __future__ import annotations

import io
import pickle
from math import prod
from pathlib import Path

import numpy as np

from nnlab.errors import NnlabError

MAX_FILE_BYTES = 64 << 20  # a batch is 31 MB; a Python 3 protocol-2 copy of one up to twice that
MAX_ARRAY_BYTES = 10_000 * 3 * 32 * 32  # all arrays of one file together: one batch of images

_RECONSTRUCT = np.zeros(0).__reduce__()[0]  # numpy's _reconstruct, wherever this numpy keeps it


class ForeignObject(NnlabError):
    """A pickle names something a CIFAR batch never holds."""


class TooLarge(NnlabError):
    """A pickle asks for more memory than a CIFAR batch ever needs."""


def _latin1_bytes(text: str, encoding: str = "latin1") -> bytes:
    """How protocol-2 pickles written by Python 3 spell bytes: `_codecs.encode(text, 'latin1')`."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise ForeignObject(f"a _codecs.encode call with encoding {encoding!r}")
    return text.encode("latin1")


class _Budget:
    """Bytes the arrays of one file may still take."""

    def __init__(self, total: int):
        self.left = total

    def spend(self, shape, dtype) -> None:
        """Charge an array of `shape` and `dtype`; TooLarge past the budget or for odd shapes."""
        try:
            dtype = np.dtype(dtype)
            dims = tuple(int(d) for d in (shape if isinstance(shape, (tuple, list)) else (shape,)))
        except (TypeError, ValueError, OverflowError):
            raise ForeignObject(f"an array of shape {shape!r} and dtype {dtype!r}") from None
        if dtype.hasobject:
            raise ForeignObject("an array of Python objects")
        if len(dims) > 4 or any(d < 0 for d in dims):
            raise ForeignObject(f"an array of shape {dims}")
        size = prod(dims) * dtype.itemsize
        if size > self.left:
            raise TooLarge(f"an array of {size:,} bytes (shape {dims}, {dtype}) where a whole CIFAR-10 "
                           f"batch holds {MAX_ARRAY_BYTES:,}")
        self.left -= size


def _array_type(budget: _Budget) -> type:
    """An ndarray subclass whose construction and unpickled state are charged to `budget`."""

    class Capped(np.ndarray):
        def __new__(cls, shape, dtype=float, *args, **kwargs):
            budget.spend(shape, dtype)
            return super().__new__(cls, shape, dtype, *args, **kwargs)

        def __setstate__(self, state):
            if not isinstance(state, tuple) or len(state) not in (4, 5):
                raise ForeignObject("an ndarray state of an unknown form")
            shape, dtype = state[-4], state[-3]
            budget.spend(shape, dtype)
            super().__setstate__(state)

    return Capped


class _RestrictedUnpickler(pickle._Unpickler):  # the pure-Python one: its memo is a dict
    """Builds only dicts, lists, tuples, strings, numbers, bytes and bounded numpy arrays."""

    def __init__(self, file, budget: _Budget):
        super().__init__(file, encoding="latin1")  # Python 2's str (bytes) decode 1:1 as latin-1
        self.array = _array_type(budget)
        self.budget = budget
        self.allowed = {
            ("numpy.core.multiarray", "_reconstruct"): self.reconstruct,  # numpy < 2 names it so
            ("numpy._core.multiarray", "_reconstruct"): self.reconstruct,
            ("numpy", "ndarray"): self.array,
            ("numpy", "dtype"): np.dtype,
            ("_codecs", "encode"): _latin1_bytes,
        }

    def reconstruct(self, subtype, shape, dtype):
        """numpy's `_reconstruct`, only for arrays, charged to the budget before allocating."""
        if subtype is not self.array:
            raise ForeignObject(f"a _reconstruct call for {getattr(subtype, '__name__', subtype)!r}")
        self.budget.spend(shape, dtype)
        return _RECONSTRUCT(self.array, shape, dtype)

    def find_class(self, module: str, name: str):
        try:
            return self.allowed[(module, name)]
        except KeyError:
            raise ForeignObject(f"{module}.{name}") from None


def _plain(obj):
    """`obj` with every capped array turned back into a plain ndarray (dicts, lists, tuples)."""
    if isinstance(obj, np.ndarray):
        return obj.view(np.ndarray)
    if isinstance(obj, dict):
        return {_plain(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_plain(v) for v in obj)
    return obj


def read_pickle(path: Path, max_bytes: int = MAX_FILE_BYTES):
    """Unpickle `path` safely and within bounds.

    Raises NnlabError for a file that names a foreign object, asks for too much memory, is
    too large, or is corrupt or truncated; nothing outside the allow-list is ever imported
    or called.
    """
    fix = "Replace it with a genuine copy (`nnlab data import PATH`)"
    try:
        if not path.is_file():
            raise NnlabError(f"{path} is not a regular file. {fix}")
        size = path.stat().st_size
        if size > max_bytes:
            raise NnlabError(f"{path} is {size:,} bytes, more than a CIFAR-10 batch ({max_bytes:,} at most). {fix}")
        with open(path, "rb") as fh:
            data = fh.read()  # whole, and below the cap: unpickling a file object asks it for any length
        return _plain(_RestrictedUnpickler(io.BytesIO(data), _Budget(MAX_ARRAY_BYTES)).load())
    except ForeignObject as exc:
        raise NnlabError(f"{path} holds a foreign object ({exc.message}); CIFAR-10 batches hold only dicts, "
                         f"lists, bytes and numpy arrays, so it was refused unread. {fix}") from None
    except TooLarge as exc:
        raise NnlabError(f"{path} asks for {exc.message}; refused before allocating. {fix}") from None
    except NnlabError:
        raise
    except OSError as exc:
        raise NnlabError(f"cannot read {path}: {exc.strerror or exc}") from None
    except Exception as exc:  # unpickling garbage raises nearly any type; all mean a bad file
        text = str(exc).splitlines()[0][:120] if str(exc) else (
            "it ends early" if isinstance(exc, EOFError) else "no detail given")
        raise NnlabError(f"{path} is corrupt or truncated ({type(exc).__name__}: {text}); delete it and "
                         "import a good copy with `nnlab data import PATH`") from None
