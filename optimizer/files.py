"""Atomic output: a folder or file appears complete or not at all.

Output folders are written to a temporary sibling and renamed into place; an existing folder is
replaced only with ``force=True`` (the old one is moved aside first and removed after the rename,
so an interrupted run never leaves a half-written result).  Single files go through a temporary
file in the same directory and :func:`os.replace`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from .errors import UsageError

#: A text cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every text cell that a spreadsheet would read as a formula prefixed by an
    apostrophe (the OWASP rule for CSV; spokehub's reader drops the apostrophe again, so inputs
    written this way round-trip).  Numbers are left alone: -5 stays a number."""
    out = df
    for col in df.columns:
        if df[col].dtype.kind not in "OSU" and str(df[col].dtype) not in ("str", "string"):
            continue
        values = df[col]
        hit = values.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_START))
        if hit.any():
            if out is df:
                out = df.copy()
            out[col] = out[col].astype(object)
            out.loc[hit, col] = "'" + values[hit].astype(str)
    return out


def csv_text(df: pd.DataFrame, **kw) -> str:
    """A table as CSV text, formula-looking cells neutralised (see :func:`neutralise`)."""
    return neutralise(df).to_csv(index=False, **kw)


def _umask() -> int:
    # os.umask can only be read by setting it; restored at once
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def publish(tmp: str | Path, target: str | Path) -> None:
    """Rename a finished temporary file into place, with the permissions a plain open() would give."""
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600
    os.replace(tmp, target)


def check_target(path: Path, force: bool) -> None:
    """Refuse to overwrite ``path`` unless ``force``, and refuse a place that cannot be written
    (both exit code 2 in the CLI), before any work is done."""
    path = Path(path)
    if path.exists() and not force:
        raise UsageError(f"{path} already exists; pass --force to replace it")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise UsageError(f"cannot write {path}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write {path}: the folder {parent} is not writable")


@contextlib.contextmanager
def _writing(path: Path) -> Iterator[None]:
    """OS errors while writing become usage errors naming the place (a read-only mount, a full
    disk, a file where a folder should be), never "internal error"."""
    try:
        yield
    except UsageError:
        raise
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}" + (f" ({exc.filename})" if exc.filename else "")) from exc


@contextlib.contextmanager
def atomic_folder(path: str | Path, force: bool = False) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces ``path`` in one rename."""
    target = Path(path)
    check_target(target, force)
    with _writing(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        # mkdtemp creates 0700; a result folder gets the permissions mkdir would give it
        os.chmod(tmp, 0o777 & ~_umask())
        with _writing(target):
            yield tmp
            old = None
            if target.exists():
                old = target.parent / f".{target.name}.old-{os.getpid()}"
                os.replace(target, old)
            os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_text_atomic(path: str | Path, text: str | bytes, force: bool = True) -> Path:
    """Write one file via a temporary file + rename."""
    target = Path(path)
    check_target(target, force)
    with _writing(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.tmp-", dir=target.parent)
    try:
        with _writing(target):
            with os.fdopen(fd, "wb") as fh:
                fh.write(text.encode("utf-8") if isinstance(text, str) else text)
            publish(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target


@contextlib.contextmanager
def temporary_sibling(path: Path, suffix: str) -> Iterator[str]:
    """A temporary file beside ``path`` for writers that need a file name (workbooks, figures),
    published to ``path`` on success; OS errors are usage errors naming the place."""
    path = Path(path)
    with _writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
        os.close(fd)
    try:
        with _writing(path):
            yield tmp
            publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
