"""The data layer: MNIST, Fashion-MNIST and CIFAR-10 from a data dir, the embedded digits,
resident uint8 tensors and batches.

Modules, each with one job, importing only downwards (no cycles):
  splits     Split, Dataset, Batches, to_float: resident tensors and mini-batches
  specs      the canonical files: names, md5 sums, sizes, download URLs
  cache      the data dir and the user cache for read-only data dirs
  atomic     bounded writes that leave no partial file, even on Ctrl-C or SIGTERM
  idx        MNIST-format files, checked before anything is allocated
  pickles    the restricted, bounded unpickler for CIFAR batches
  cifar      CIFAR-10 batches and the canonical tar.gz
  digits     scikit-learn's digits at 28x28, needing no files
  fetch      downloads through torchvision, offline detection
  importing  `nnlab data status` and `nnlab data import`
  loading    load_dataset, the one entry point for experiments

Every file nnlab did not write itself is treated as hostile: see each module's docstring.
"""

from nnlab.core.data.atomic import md5sum
from nnlab.core.data.cache import default_data_dir, extraction_root, is_writable, user_cache
from nnlab.core.data.cifar import read_batch
from nnlab.core.data.fetch import DOWNLOAD_TIMEOUT_S, offline
from nnlab.core.data.importing import FileStatus, import_archives, import_extracted, status
from nnlab.core.data.loading import LOADERS, load_dataset
from nnlab.core.data.specs import DATASET_NAMES, ArchiveSpec, archive_spec
from nnlab.core.data.splits import Batches, Dataset, Split, Transform, to_float

__all__ = [
    "ArchiveSpec", "Batches", "DATASET_NAMES", "DOWNLOAD_TIMEOUT_S", "Dataset", "FileStatus", "LOADERS",
    "Split", "Transform", "archive_spec", "default_data_dir", "extraction_root", "import_archives",
    "import_extracted", "is_writable", "load_dataset", "md5sum", "offline", "read_batch", "status",
    "to_float", "user_cache",
]
