"""Reading and writing the files named on the command line, safely.

Every file argument goes through here, so that:
- only regular files are read: a FIFO would block `open()` forever and /dev/zero never ends, so
  the type is checked with stat() before anything is opened, and again (fstat) on what was opened;
- a read is bounded, whatever the file claims to be;
- every failure is an `UnreadableFile` whose message names the real cause (a symbolic link loop,
  a FIFO, a folder, permission denied), never a generic "no such file";
- file names are escaped when printed: a name may hold a newline or an escape sequence, and a
  raw newline followed by `::error ...` would be read by GitHub Actions as a workflow command.
- an existing output file is only replaced when asked (`--force`), and never half-written
  (`write_atomically`, which `init` and the preview cache write through too).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from secrets_layout.errors import printable


class UnreadableFile(OSError):
    """A file argument that cannot be used; `str()` is the message for the user, naming the file."""

    def __init__(self, file: str | os.PathLike[str], problem: str):
        self.file = os.fspath(file)
        self.problem = problem
        super().__init__(f"{shown(self.file)}: {problem}")

    def __str__(self) -> str:
        return self.args[0]

    @classmethod
    def of(cls, file: str | os.PathLike[str], error: OSError) -> UnreadableFile:
        """The system's `error` on `file`, in the words of this module (the cause, then the fix)."""
        return cls(file, _problem(error))


def shown(file: str | os.PathLike[str]) -> str:
    """A file name as it may be printed: control characters escaped, never an empty string."""
    text = os.fspath(file)
    return printable(text) if text else "''"


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def brief_problem(error: OSError) -> str:
    """What is wrong with a file, in a few words, for a message that says its own fix: "permission
    denied", "a loop of symbolic links", "a FIFO (named pipe), not a regular file". Of an
    UnreadableFile, its problem up to the fix (problems read "cause; fix"); of any other OSError,
    the cause this module words it by (its errno), else the system's text."""
    problem = error.problem if isinstance(error, UnreadableFile) else _problem(error)
    return problem.partition(";")[0]


def _problem(error: OSError) -> str:
    """The cause of a system error on a file, then ("; ...") how to fix it where the fix is known."""
    if error.errno == errno.ELOOP:
        return "a loop of symbolic links; point the link at a real file"
    if error.errno == errno.ENOENT:
        return "no such file"
    if error.errno == errno.EACCES or error.errno == errno.EPERM:
        return "permission denied; make the file readable"
    if error.errno == errno.ENOTDIR:
        return "a part of this path is a file, not a folder"
    if error.errno == errno.ENAMETOOLONG:
        return "a name longer than the file system allows (file name too long); shorten the path"
    return (error.strerror or str(error)).lower()


def is_folder(path: str | os.PathLike[str]) -> bool:
    """Whether `path` is a folder; False for anything stat() refuses (`Path.is_dir` raises for some,
    such as a name too long), which check_regular then names."""
    return os.path.isdir(path)


def check_path(path: str | os.PathLike[str]) -> None:
    """UnreadableFile if the system refuses the path itself (too long, a loop, no permission to
    look): what a missing file or folder would be is left to the caller."""
    try:
        os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as error:
        if error.errno != errno.ENOTDIR:
            raise UnreadableFile.of(path, error) from None


def check_regular(file: str | os.PathLike[str]) -> os.stat_result:
    """stat() of a regular file; UnreadableFile for anything else (missing, a FIFO, a device, a loop)."""
    if os.fspath(file) == "":
        raise UnreadableFile(file, "an empty path; name a file")
    try:
        status = os.stat(file)
    except OSError as error:
        raise UnreadableFile.of(file, error) from None
    kind = _kind(status.st_mode)
    if kind is not None:
        raise UnreadableFile(file, f"{kind}, not a regular file; name a file")
    return status


def read_bytes(file: str | os.PathLike[str], limit: int) -> bytes:
    """Up to `limit + 1` bytes of a regular file (the caller decides what too large means)."""
    check_regular(file)
    try:
        # O_NONBLOCK: if the file was swapped for a FIFO since stat(), open() must not wait for a writer.
        descriptor = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as error:
        raise UnreadableFile.of(file, error) from None
    with os.fdopen(descriptor, "rb") as stream:
        kind = _kind(os.fstat(descriptor).st_mode)
        if kind is not None:
            raise UnreadableFile(file, f"{kind}, not a regular file; name a file")
        try:
            return stream.read(limit + 1)
        except OSError as error:
            raise UnreadableFile.of(file, error) from None


def _same_file(one: str | os.PathLike[str], other: str | os.PathLike[str]) -> bool:
    try:
        return os.path.samefile(one, other)
    except OSError:
        return False


def write_text(file: str | os.PathLike[str], text: str, *, force: bool, protected: Mapping[str, str] | None = None,
               dry_run: bool = False) -> None:
    """Write `text` to `file`: refused if it exists (unless `force`), if it is not a regular file, or
    if it is one of `protected` (the input being read, each path with what it is in words: never
    overwritten, even with --force).

    The text goes to a temporary file in the same folder first and replaces `file` by rename, so a
    failed write leaves the old file as it was.
    """
    target = Path(file)
    if os.fspath(file) == "":
        raise UnreadableFile(file, "an empty path; name a file")
    try:
        status = os.stat(target)
    except FileNotFoundError:
        status = None
    except OSError as error:
        raise UnreadableFile.of(file, error) from None
    if status is not None:
        kind = _kind(status.st_mode)
        if kind is not None:
            raise UnreadableFile(file, f"{kind}, not a regular file; name a file to write the report to")
        for other, what in (protected or {}).items():
            if _same_file(target, other):
                raise UnreadableFile(file, f"is {what} itself; write the report to another file")
        if not force:
            raise UnreadableFile(file, "already exists; pass --force to replace it, or choose another file")
    if dry_run:
        return
    # A symbolic link keeps pointing where it did: its target is what gets replaced.
    destination = Path(os.path.realpath(target))
    try:
        write_atomically(destination, text.encode("utf-8"), replace=force)
    except FileExistsError:
        # Not there a moment ago, there now: never replaced without --force.
        raise UnreadableFile(file, "already exists; pass --force to replace it, or choose another file") from None
    except OSError as error:
        raise UnreadableFile.of(file, error) from None


@dataclass(frozen=True)
class StagedFile:
    """A file's new content, written in full to a temporary file beside it, not yet in its place."""

    temporary: Path
    destination: Path

    def place(self, *, replace: bool) -> None:
        """Move the content into place in one step. Without `replace`, a file at the destination (even
        one created since it was checked) is never replaced: link() refuses it with FileExistsError."""
        if replace:
            os.replace(self.temporary, self.destination)
        else:
            os.link(self.temporary, self.destination)
            os.unlink(self.temporary)

    def discard(self) -> None:
        """Remove the temporary file, if it is still there."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.temporary)


def stage_file(destination: str | os.PathLike[str], data: bytes, *, prefix: str | None = None,
               suffix: str = "") -> StagedFile:
    """`data` written to a temporary file in the destination's folder (so placing it is a rename, never a
    copy across file systems), named `prefix` (default ".<name>.") + random characters + `suffix`, with
    the destination's permissions if it exists, else those a new file gets (0666 less the umask; mkstemp
    would give 0600). Nothing is left behind when writing fails."""
    destination = Path(destination)
    handle, temporary = tempfile.mkstemp(prefix=f".{destination.name}." if prefix is None else prefix, suffix=suffix,
                                         dir=destination.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, _permissions_for(destination))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return StagedFile(Path(temporary), destination)


def write_atomically(destination: str | os.PathLike[str], data: bytes, *, replace: bool, prefix: str | None = None,
                     suffix: str = "") -> None:
    """Write `data` to `destination` all or nothing: readers see the old file or the new one, never part of
    it, and a failure (or an interrupt) at any point leaves the old file as it was and no temporary file.
    Without `replace` an existing file is refused (FileExistsError). Any OSError is the system's.

    Not fsync'd: none of its callers (reports, `init`'s files, the preview cache) did, and each can be
    written again; a crash of the machine itself may leave the old content, never a mix.
    """
    staged = stage_file(destination, data, prefix=prefix, suffix=suffix)
    try:
        staged.place(replace=replace)
    except BaseException:
        staged.discard()
        raise


def _permissions_for(destination: Path) -> int:
    try:
        return stat.S_IMODE(os.stat(destination).st_mode)
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
