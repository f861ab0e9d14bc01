"""secrets_layout.files.write_atomically: the one way a report, `init`'s files and a preview cache entry are written.

All or nothing, in the destination's folder, never over a file that exists unless asked, and no temporary
file left behind whatever fails (writing, setting permissions, placing, or an interrupt).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from secrets_layout import files
from secrets_layout.files import write_atomically

OLD = b"old content\n"
NEW = b"new content\n"


@pytest.mark.parametrize(("existing", "replace", "raised", "content"), [
    pytest.param(None, False, None, NEW, id="new-file"),
    pytest.param(None, True, None, NEW, id="new-file-with-replace"),
    pytest.param(OLD, False, FileExistsError, OLD, id="existing-file-refused"),
    pytest.param(OLD, True, None, NEW, id="existing-file-replaced-when-asked"),
])
def test_a_file_is_written_whole_or_refused(tmp_path: Path, existing: bytes | None, replace: bool,
                                            raised: type[Exception] | None, content: bytes):
    target = tmp_path / "report.txt"
    if existing is not None:
        target.write_bytes(existing)
    if raised is None:
        write_atomically(target, NEW, replace=replace)
    else:
        with pytest.raises(raised):
            write_atomically(target, NEW, replace=replace)
    assert target.read_bytes() == content
    assert sorted(path.name for path in tmp_path.iterdir()) == ["report.txt"], "no temporary file left"


def _fails(*arguments, **keywords):
    raise OSError(28, "No space left on device")


def _interrupted(*arguments, **keywords):
    raise KeyboardInterrupt


@pytest.mark.parametrize(("existing", "replace", "step", "failure", "raised"), [
    pytest.param(None, False, "chmod", _fails, OSError, id="new-file-setting-permissions-fails"),
    pytest.param(OLD, True, "chmod", _fails, OSError, id="existing-file-setting-permissions-fails"),
    pytest.param(None, False, "link", _fails, OSError, id="new-file-linking-fails"),
    pytest.param(None, False, "link", _interrupted, KeyboardInterrupt, id="new-file-interrupted-while-linking"),
    pytest.param(None, True, "replace", _fails, OSError, id="new-file-with-replace-renaming-fails"),
    pytest.param(OLD, True, "replace", _fails, OSError, id="existing-file-renaming-fails"),
    pytest.param(OLD, True, "replace", _interrupted, KeyboardInterrupt, id="existing-file-interrupted-while-renaming"),
])
def test_a_failure_mid_write_leaves_the_old_file_and_nothing_else(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   existing: bytes | None, replace: bool, step: str,
                                                                   failure, raised: type[BaseException]):
    target = tmp_path / "report.txt"
    if existing is not None:
        target.write_bytes(existing)
    before = sorted(path.name for path in tmp_path.iterdir())
    monkeypatch.setattr(os, step, failure)
    with pytest.raises(raised):
        write_atomically(target, NEW, replace=replace)
    monkeypatch.undo()
    assert sorted(path.name for path in tmp_path.iterdir()) == before
    if existing is not None:
        assert target.read_bytes() == existing


def test_a_failure_while_writing_the_content_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The disk fills up mid-write: the half-written temporary is removed."""
    real_fdopen = os.fdopen

    class FullDisk:
        def __init__(self, stream):
            self.stream = stream

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            self.stream.close()

        def write(self, data: bytes) -> int:
            self.stream.write(data[:3])
            self.stream.flush()
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fdopen", lambda *arguments, **keywords: FullDisk(real_fdopen(*arguments, **keywords)))
    with pytest.raises(OSError, match="No space left"):
        write_atomically(tmp_path / "report.txt", NEW, replace=False)
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_the_temporary_is_beside_the_destination_and_named_as_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Same folder (placing is a rename, never a copy across file systems); the preview cache names its
    temporaries so that it can recognise the ones a killed preview left (engine/cache.py, _TEMPORARY_NAME)."""
    seen = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda source, target: seen.append(Path(source)) or real_replace(source, target))
    (tmp_path / "cache").mkdir()
    write_atomically(tmp_path / "cache" / "entry.json", NEW, replace=True, prefix=".abc.", suffix=".tmp")
    [temporary] = seen
    assert temporary.parent == tmp_path / "cache"
    assert temporary.name.startswith(".abc.") and temporary.name.endswith(".tmp")


@pytest.mark.parametrize(("existing_mode", "expected"), [
    pytest.param(None, 0o644, id="new-file-gets-what-the-umask-allows"),
    pytest.param(0o600, 0o600, id="replaced-file-keeps-its-permissions"),
    pytest.param(0o640, 0o640, id="replaced-file-keeps-other-permissions"),
])
def test_permissions(tmp_path: Path, existing_mode: int | None, expected: int):
    target = tmp_path / "report.txt"
    if existing_mode is not None:
        target.write_bytes(OLD)
        target.chmod(existing_mode)
    previous = os.umask(0o022)
    try:
        write_atomically(target, NEW, replace=True)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(target.stat().st_mode) == expected


def test_a_file_created_after_the_check_is_not_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Another process creates the file between staging and placing: without `replace` it stays."""
    target = tmp_path / "report.txt"
    real_stage = files.stage_file

    def stage_then_race(*arguments, **keywords):
        staged = real_stage(*arguments, **keywords)
        target.write_bytes(OLD)
        return staged

    monkeypatch.setattr(files, "stage_file", stage_then_race)
    with pytest.raises(FileExistsError):
        write_atomically(target, NEW, replace=False)
    assert target.read_bytes() == OLD
    assert sorted(path.name for path in tmp_path.iterdir()) == ["report.txt"]
