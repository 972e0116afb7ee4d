"""The one way gesturemap opens a file it reads: a project, a take, a model, a session log,
an import (ARFF, Wekinator, XMM), a sensor profile or a preset.

Every file is opened without blocking and checked before a byte is read: a regular file (a
device such as ``/dev/zero``, a FIFO that would block for ever or a socket is refused), of at
most a stated size, inside a stated folder when one is given (then not through a link). Text is
read line by line with a bound on each line, so a file of a gigabyte without a line break
costs a bounded buffer and an error naming the line, never the machine's memory.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from ..errors import FormatError

__all__ = ["MAX_IMPORT_BYTES", "MAX_LINE_BYTES", "not_a_folder", "open_regular_file",
           "read_at_most", "read_regular_file", "text_lines"]

PathLike = str | os.PathLike[str]

#: The largest file imported from another program (an ARFF, Wekinator's DTW examples): far
#: above any recorded training set.
MAX_IMPORT_BYTES = 2 << 30
#: The longest line a text file may have (a log row of thousands of channels is far shorter).
MAX_LINE_BYTES = 4 << 20


def not_a_folder(path: PathLike, what: str) -> str:
    """Why ``path`` cannot be opened as ``what`` (a folder of files): a mistyped path is said
    not to exist, a file given for the folder to be a file."""
    why = "is not a folder" if os.path.lexists(path) else "does not exist"
    return f"{path} {why}: {what} is a folder of files."


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def open_regular_file(path: PathLike, *, max_bytes: int,
                      inside: PathLike | None = None) -> IO[bytes]:
    """Open ``path`` for reading in binary if it is a regular file of at most ``max_bytes``;
    refuse anything else before reading a byte.

    Parameters
    ----------
    path : str or os.PathLike
    max_bytes : int
        The largest size accepted.
    inside : str or os.PathLike, optional
        A folder the file must be in once every link is resolved; the file itself must then
        not be a symbolic link (a shared project must not read files from elsewhere).

    Returns
    -------
    file object
        Binary, positioned at the start; close it (``with``).

    Raises
    ------
    FormatError
        If the file is missing, unreadable, not a regular file (a device, a FIFO, a socket),
        larger than ``max_bytes``, a link, or outside ``inside``.
    """
    where = os.fspath(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    if inside is not None:
        flags |= getattr(os, "O_NOFOLLOW", 0)
        if Path(path).is_symlink() or not _inside(Path(path), Path(inside)):
            raise FormatError(
                f"{where} is a link or lies outside {os.fspath(inside)}: only the folder's own "
                "files are read. Copy the file into the folder instead of linking it."
            )
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise FormatError(f"{where} does not exist.") from None
    except OSError as error:
        raise FormatError(f"cannot read {where}: {error.strerror or error}.") from error
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):  # (not "a device, a FIFO or a socket": said so)
            raise FormatError(f"{where} is a folder: give a file.")
        if not stat.S_ISREG(info.st_mode):
            raise FormatError(
                f"{where} is not a regular file (a device, a FIFO or a socket); it was not read."
            )
        if info.st_size > max_bytes:
            raise FormatError(
                f"{where} is {info.st_size} bytes, more than the {max_bytes} accepted here; it "
                "is damaged or not a file of this kind."
            )
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)  # a regular file: reads never wait on a writer
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_at_most(handle: IO[bytes], n: int) -> bytes:
    """Up to ``n`` bytes of ``handle`` (to its end if sooner), read a block at a time: a
    file object's ``read(n)`` allocates ``n`` bytes first, which a bound of gigabytes makes
    a failure on a small machine whatever the file's size."""
    blocks, got = [], 0
    while got < n and (block := handle.read(min(1 << 20, n - got))):
        blocks.append(block)
        got += len(block)
    return b"".join(blocks)


def read_regular_file(path: PathLike, *, max_bytes: int, inside: PathLike | None = None) -> bytes:
    """Read a whole file that is a regular file of at most ``max_bytes``, refusing anything
    else (see :func:`open_regular_file`).

    Raises
    ------
    FormatError
        If the file is missing, unreadable, not a regular file, too large (also if it grew
        while being read), a link, or outside ``inside``.
    """
    where = os.fspath(path)
    with open_regular_file(path, max_bytes=max_bytes, inside=inside) as handle:
        try:
            # read(n) allocates n bytes before reading: asked for the file's size, not the
            # bound (2 GiB for a take), which a small machine cannot give however small the
            # file; a file that grows meanwhile is read on a block at a time, to the bound
            size = os.fstat(handle.fileno()).st_size
            data = handle.read(size + 1)
            if len(data) > size:
                data += read_at_most(handle, max_bytes + 1 - len(data))
        except OSError as error:
            raise FormatError(f"cannot read {where}: {error.strerror or error}.") from error
    if len(data) > max_bytes:  # it grew while being read
        raise FormatError(f"{where} is more than the {max_bytes} bytes accepted here.")
    return data


@contextmanager
def text_lines(path: PathLike, *, max_bytes: int, max_line: int = MAX_LINE_BYTES,
               inside: PathLike | None = None, encoding: str = "utf-8") -> Iterator[Iterator[str]]:
    """The lines of a regular text file (see :func:`open_regular_file`), one at a time, each
    ending with ``"\\n"`` (a ``"\\r\\n"`` too), except a last line without its line break;
    undecodable bytes become U+FFFD. A line longer than ``max_line`` bytes stops the reading
    with a :class:`FormatError` naming it, before more than that is held.

    Use as ``with text_lines(path, max_bytes=...) as lines: for line in lines: ...``.
    """
    where = os.fspath(path)
    with open_regular_file(path, max_bytes=max_bytes, inside=inside) as handle:

        def lines() -> Iterator[str]:
            number = 0
            while True:
                try:
                    raw = handle.readline(max_line + 1)
                except OSError as error:
                    raise FormatError(f"cannot read {where}: {error.strerror or error}.") from error
                if not raw:
                    return
                number += 1
                if len(raw) > max_line:
                    raise FormatError(
                        f"{where}: line {number} is longer than {max_line} bytes; the file is "
                        "damaged or not of this kind.")
                if raw.endswith(b"\r\n"):
                    raw = raw[:-2] + b"\n"
                yield raw.decode(encoding, errors="replace")

        yield lines()
