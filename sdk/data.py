"""Load user data for calibration, training and evaluation: `.npz`, `.npy`, or a folder of images.

- `.npz`: array `x` (required) and `y` (optional labels).
- `.npy`: inputs only.
- a directory with one sub-folder per class (sorted names → labels 0..C-1), images inside (PNG, JPEG, BMP);
  decoded with Pillow to float32 in [0, 1], channels-last. Images directly in the folder: inputs only.

numpy (and Pillow for images) only: the device side can use it too.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DataError, ModelNotFoundError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


@dataclass
class Dataset:
    x: np.ndarray
    y: np.ndarray | None
    path: str
    class_names: list[str] | None = None

    def __post_init__(self) -> None:
        # NaN or Inf anywhere poisons calibration ranges (an all-NaN set made a float model labelled int8, one
        # +Inf crashed TensorFlow) and makes every comparison false (validate printed "max abs error nan" and
        # PASS): refused here, where every path, array and (x, y) given to any command becomes a Dataset
        for name, arr in (("x", self.x), ("y", self.y)):
            if arr is None or np.asarray(arr).dtype.kind not in "fc":
                continue
            bad = ~np.isfinite(np.asarray(arr))
            if bad.any():
                where = np.argwhere(bad)[0]
                raise DataError(
                    f"data {self.path!r}: array {name!r} holds {int(bad.sum())} non-finite value(s) (NaN or Inf), "
                    f"the first at index {tuple(int(i) for i in where)} of shape {np.asarray(arr).shape}",
                    hint="remove or replace those samples (e.g. numpy.nan_to_num, or drop them) and pass the data "
                    "again")

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def take(self, n: int | None) -> Dataset:
        if n is None or n >= len(self):
            return self
        return Dataset(self.x[:n], None if self.y is None else self.y[:n], self.path, self.class_names)


def check_data_path(path: str | os.PathLike) -> Path:
    """The path of a data set that exists and has a form load_data reads (checked before any work)."""
    p = Path(path)
    if not p.exists():
        raise ModelNotFoundError(
            f"data path {str(p)!r} does not exist",
            hint="pass an .npz (arrays x, y), an .npy, or a folder with one sub-folder of images per class",
        )
    if not p.is_dir() and p.suffix.lower() not in (".npz", ".npy"):
        raise DataError(
            f"data file {str(p)!r} has suffix {p.suffix.lower() or '(none)'!r}; allowed: .npz, .npy, or an image "
            "folder", hint="save arrays with numpy.savez(path, x=inputs, y=labels)",
        )
    return p


def load_data(path: str | os.PathLike) -> Dataset:
    p = check_data_path(path)
    if p.is_dir():
        return _load_image_folder(p)
    suffix = p.suffix.lower()
    if suffix == ".npz":
        return _load_npz(p)
    return Dataset(_as_samples(_np_load(p), p, "x"), None, str(p))  # .npy (check_data_path allows no other)


def _np_load(p: Path):
    try:
        return np.load(p, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"cannot read {str(p)!r} as numpy data: {exc}", hint="re-save it with numpy") from None


def _load_npz(p: Path) -> Dataset:
    archive = _np_load(p)
    with archive:
        names = list(archive.files)
        if "x" not in names:
            raise DataError(
                f"{str(p)!r} has arrays {names}; an 'x' array (inputs) is required, 'y' (labels) optional",
                hint="save with numpy.savez(path, x=inputs, y=labels)",
            )
        x = _as_samples(archive["x"], p, "x")
        y = archive["y"] if "y" in names else None
    if y is not None:
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] > 1:  # one-hot labels
            y = y.argmax(axis=1)
        y = y.reshape(-1)
        if y.shape[0] != x.shape[0]:
            raise DataError(
                f"{str(p)!r}: 'x' has {x.shape[0]} samples but 'y' has {y.shape[0]} labels",
                hint="x and y must have the same first dimension",
            )
    return Dataset(x, y, str(p))


def _as_samples(arr: np.ndarray, p: Path, name: str) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.dtype == object or arr.ndim == 0:
        raise DataError(f"{str(p)!r}: array {name!r} has dtype {arr.dtype} and shape {arr.shape}; "
                        "a numeric array with samples on the first axis is required")
    if arr.shape[0] == 0:
        raise DataError(f"{str(p)!r}: array {name!r} is empty (shape {arr.shape})", hint="provide samples")
    return arr


def _load_image_folder(p: Path) -> Dataset:
    classes = sorted(d.name for d in p.iterdir() if d.is_dir() and not d.name.startswith("."))
    # no class sub-folders: a flat folder of unlabelled images (calibration, or training with --distill)
    groups = [(label, p / name) for label, name in enumerate(classes)] if classes else [(None, p)]
    from PIL import Image

    images, labels, shape = [], [], None
    for label, folder in groups:
        for f in sorted(folder.iterdir()):
            if f.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            try:
                with Image.open(f) as im:
                    arr = np.asarray(im.convert("L" if im.mode in ("L", "1", "I;16") else "RGB"), np.float32)
            except OSError as exc:
                raise DataError(f"cannot decode image {str(f)!r}: {exc}", hint="remove or replace it") from None
            arr = arr[..., None] if arr.ndim == 2 else arr
            if shape is None:
                shape = arr.shape
            elif arr.shape != shape:
                raise DataError(
                    f"image {str(f)!r} has shape {arr.shape}, the first image had {shape}",
                    hint="resize all images to the model's input size first",
                )
            images.append(arr / 255.0)
            labels.append(label)
    if not images:
        raise DataError(f"image folder {str(p)!r} has {f'class folders {classes} but ' if classes else ''}no images "
                        f"({', '.join(IMAGE_SUFFIXES)})",
                        hint="arrange images as FOLDER/<class name>/<image>.png (labelled) or FOLDER/<image>.png")
    y = np.asarray(labels, np.int64) if classes else None
    return Dataset(np.stack(images).astype(np.float32), y, str(p), classes or None)


def check_labels(y, classes: int, where: str) -> None:
    """Class-index labels must lie in 0..classes-1 (scoring others would report a silent 0% accuracy)."""
    y = np.asarray(y)
    if classes > 1 and y.ndim == 1 and y.size and y.dtype.kind in "iu" and (y.min() < 0 or y.max() >= classes):
        raise DataError(f"{where}: labels range over [{int(y.min())}, {int(y.max())}] but the model has "
                        f"{classes} outputs", hint=f"labels must be class indices 0..{classes - 1}")


def check_against_input(data: Dataset, shape: tuple[int, ...], what: str = "model input") -> np.ndarray:
    """Return data.x shaped like the model input (batch axis first); clear error when it cannot be."""
    want = tuple(int(d) for d in shape[1:])
    got = tuple(data.x.shape[1:])
    if got == want:
        return data.x
    if int(np.prod(got)) == int(np.prod(want)) and -1 not in want:
        return data.x.reshape((data.x.shape[0], *want))
    raise DataError(
        f"data {data.path!r} has samples of shape {got}; the {what} expects {want}",
        hint="reshape or resize the data to the model's input shape",
    )
