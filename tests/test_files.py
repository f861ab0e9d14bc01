"""secrets_layout.files: what a message says of a file that cannot be used.

The errors are the ones the system really raises (a real link loop, a real missing file, ...), so
the words are checked against what Linux reports; the last test alone makes one up, to pin that the
words follow the errno and not the platform's (possibly translated) text.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secrets_layout.files import UnreadableFile, brief_problem, check_regular


def _loop(folder: Path) -> Path:
    link = folder / "loop.yaml"
    link.symlink_to(link)
    return link


def _under_a_file(folder: Path) -> Path:
    (folder / "plain").write_text("")
    return folder / "plain" / "inside.yaml"


def _folder(folder: Path) -> Path:
    (folder / "sub").mkdir()
    return folder / "sub"


def _fifo(folder: Path) -> Path:
    os.mkfifo(folder / "pipe.yaml")
    return folder / "pipe.yaml"


@pytest.mark.parametrize(("make", "brief"), [
    (_loop, "a loop of symbolic links"),
    (lambda folder: folder / "missing.yaml", "no such file"),
    (_under_a_file, "a part of this path is a file, not a folder"),
], ids=["link loop", "missing", "under a file"])
def test_the_brief_problem_of_an_os_error_is_its_cause_without_the_fix(tmp_path, make, brief):
    with pytest.raises(OSError) as raised:
        os.stat(make(tmp_path))
    assert brief_problem(raised.value) == brief


def test_the_brief_problem_of_another_os_error_is_its_system_text():
    with pytest.raises(OSError) as raised:
        os.rmdir("/")  # EBUSY (or EPERM in a container): no fix of ours to leave out
    assert brief_problem(raised.value) == (raised.value.strerror or "").lower()


@pytest.mark.parametrize(("make", "brief"), [
    (_loop, "a loop of symbolic links"),
    (_folder, "a folder, not a regular file"),
    (_fifo, "a FIFO (named pipe), not a regular file"),
    (lambda folder: Path("/dev/null"), "a character device, not a regular file"),
], ids=["link loop", "folder", "FIFO", "device"])
def test_the_brief_problem_of_an_unreadable_file_is_its_problem_without_the_fix(tmp_path, make, brief):
    with pytest.raises(UnreadableFile) as raised:
        check_regular(make(tmp_path))
    assert ";" in raised.value.problem  # the full problem names its fix; the brief one does not
    assert brief_problem(raised.value) == brief


def test_an_unreadable_file_made_from_an_os_error_names_the_file_and_the_fix(tmp_path):
    with pytest.raises(OSError) as raised:
        os.stat(_loop(tmp_path))
    unreadable = UnreadableFile.of(tmp_path / "loop.yaml", raised.value)
    assert str(unreadable) == f"{tmp_path}/loop.yaml: a loop of symbolic links; point the link at a real file"
    assert unreadable.errno is None  # str() is the message for the user, not "[Errno 40] ..."


@given(st.text())
def test_a_brief_problem_is_the_problem_up_to_its_first_semicolon(problem):
    brief = brief_problem(UnreadableFile("f.yaml", problem))
    assert ";" not in brief
    assert problem.startswith(brief)
    assert brief == problem or problem[len(brief)] == ";"


def test_the_errno_of_a_missing_file_is_what_the_words_are_chosen_by():
    """The words follow the errno, not the text of the platform's strerror."""
    assert brief_problem(OSError(errno.ENOENT, "Datei nicht gefunden")) == "no such file"
