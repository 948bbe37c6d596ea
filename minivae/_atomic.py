"""Atomic file writes: every file minivae writes (models, downloads, caches, CLI tables) goes through here."""

import os
import tempfile

__all__ = ["write_atomic"]


def write_atomic(path, write):
    """Write ``path`` by calling ``write(fileobj)`` on a temporary file beside it, then renaming.

    The temporary file is unique (``tempfile.mkstemp`` in the target directory),
    so concurrent writers from threads or processes never share one, and its
    short name stays under the 255-byte limit however long ``path`` is. The
    data is flushed and fsynced before ``os.replace``: a reader sees the old
    file or the new one, never a torn one, and an interrupted write leaves no
    file behind.

    Parameters
    ----------
    path : pathlib.Path
        The final file; its directory must exist.
    write : callable
        ``write(fileobj)`` writes the whole content to a binary file object.

    Raises
    ------
    IsADirectoryError
        If ``path`` is an existing directory (before anything is written).
    """
    if path.is_dir():
        raise IsADirectoryError(f"cannot write {path}: it is a directory; give a file name")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".minivae-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
