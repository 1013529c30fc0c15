"""Writing a file into a report directory without ever following a symbolic link.

A report directory may be shared (/tmp/reports, a CI cache): whoever can write there could put a
link where the run writes `h1.ckl` and have the run overwrite any file the auditor can write.
So every artifact is written into a new temporary file beside its final name (created with
O_EXCL, which never opens an existing file or link) and then renamed over that name: a link
there is replaced, the file it pointed to is untouched. The folders between the report
directory and the file must be real directories, never links.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

# Read once, at import (single-threaded): os.umask can only be read by setting it.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


class NotAFolder(OSError):
    """A symbolic link or a file where the report directory needs a folder."""


@contextlib.contextmanager
def replacing(path: Path, *, binary: bool = False) -> Iterator[IO[Any]]:
    """A stream into a new temporary file beside `path` (UTF-8 text unless `binary`), renamed
    over `path` once the block ends without error, so a link at `path` is replaced, never
    followed, and a file written in pieces (a fleet's results.json) never stands half-written
    at its name. The file gets the mode a plain write would give it (0666 less the umask)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                         suffix=".tmp")
    try:
        os.fchmod(handle, 0o666 & ~_UMASK)
        stream = (os.fdopen(handle, "wb") if binary
                  else os.fdopen(handle, "w", encoding="utf-8", newline="\n"))
        with stream:
            yield stream
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def replace_file(path: Path, data: bytes) -> Path:
    """Write `data` to `path` the way `replacing` does."""
    with replacing(path, binary=True) as stream:
        stream.write(data)
    return path


def real_folder(root: Path, relative: Path) -> Path:
    """`root / relative`, every folder of it below `root` made if missing and checked to be a
    real directory (NotAFolder otherwise). `root` itself is the user's choice, link or not."""
    folder = root
    for part in relative.parts:
        folder = folder / part
        with contextlib.suppress(FileExistsError):
            folder.mkdir()
        if folder.is_symlink() or not folder.is_dir():
            kind = "a symbolic link" if folder.is_symlink() else "a file"
            raise NotAFolder(f"{folder} is {kind}, where the run writes a folder of its reports")
    return folder


def path_below(root: Path, relative: str | Path) -> Path:
    """`root / relative` for a path inside the report directory, its folders made and checked
    to be real directories."""
    relative = Path(relative)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise ValueError(f"{relative} is not a path inside the report directory")
    return real_folder(root, relative.parent) / relative.name


def write_below(root: Path, relative: str | Path, data: bytes) -> Path:
    """Write one artifact at `root / relative` (a path inside the report directory) without
    following any link on the way."""
    return replace_file(path_below(root, relative), data)
