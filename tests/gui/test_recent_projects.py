"""File > Open recent: the list read back as it was written, in a file of gesturemap's own
that the window never waits for (Qt offscreen, a real file, real second processes: one
holding Qt's settings lock, two writing the list at once)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6 import QtCore

from gesturemap.gui.recent import FORMAT, RecentProjects, read_recent, recent_file
from gesturemap.project.default import default_project

from .test_open_drawing import GapProbe
from .windows import open_window

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]

#: another gesturemap writing Qt's settings: their file's lock held until stdin closes
HOLD = textwrap.dedent("""
    import select, sys
    from PySide6 import QtCore
    lock = QtCore.QLockFile(sys.argv[1] + ".lock")
    assert lock.lock()
    print("held", flush=True)
    select.select([sys.stdin], [], [], 120)
    lock.unlock()
""")

#: another window remembering projects as fast as it can: argv[1] its name, argv[2] how many
WRITER = textwrap.dedent("""
    import sys
    from gesturemap.gui.recent import RecentProjects
    recent = RecentProjects()
    for i in range(int(sys.argv[2])):
        recent.remember(f"/{sys.argv[1]}/{i}")
        assert recent.flush(60.0)
""")


def entries(window) -> list[str]:  # noqa: ANN001
    """The projects the menu lists (its last entries are a separator and "Clear list")."""
    return [a.text() for a in window.recent_menu.actions()[:-2]]


def action(window, text: str):  # noqa: ANN001, ANN201
    return next(a for a in window.recent_menu.actions() if a.text() == text)


def legacy_settings(value) -> None:  # noqa: ANN001
    """Qt's settings as an older gesturemap left them."""
    settings = QtCore.QSettings("gesturemap", "gesturemap")
    settings.setValue("recent", value)
    settings.sync()


def test_the_list_lives_in_the_users_configuration_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    assert recent_file() == tmp_path / "cfg" / "gesturemap" / "recent.json"


def test_a_first_start_keeps_the_list_qts_settings_held(qtbot, tmp_path):
    """The list moves from Qt's settings to the file once; after that the settings are not
    read (a list of one folder there reads back as a bare string)."""
    only = tmp_path / "only"
    default_project().save(only)
    legacy_settings(str(only.resolve()))
    assert not recent_file().exists()
    window = open_window(qtbot, default_project(), tmp_path / "second", audio=False)
    assert entries(window) == [str((tmp_path / "second").resolve()), str(only.resolve())]
    window.close()
    assert read_recent(recent_file()) == [str((tmp_path / "second").resolve()),
                                          str(only.resolve())]
    legacy_settings(["/elsewhere"])
    assert RecentProjects().folders == read_recent(recent_file())


@pytest.mark.parametrize("content", [
    b"{\"format\": \"gesturemap.recent\", \"version\": 1, \"folders\": [\"/a\"",  # truncated
    b"\x00\xff garbage",
    b"[1, 2, 3]",
    b"{\"format\": \"something.else\", \"version\": 1, \"folders\": [\"/a\"]}",
    b"{\"format\": \"gesturemap.recent\", \"version\": 1, \"folders\": {\"a\": 1}}",
    b"{\"format\": \"gesturemap.recent\", \"version\": 1, \"folders\": [\"\", 3, null]}",
])
def test_a_damaged_file_lists_nothing_and_is_written_whole_again(qtbot, tmp_path, content):
    recent_file().parent.mkdir(parents=True, exist_ok=True)
    recent_file().write_bytes(content)
    assert RecentProjects().folders == []
    window = open_window(qtbot, default_project(), tmp_path / "p", audio=False)
    assert entries(window) == [str((tmp_path / "p").resolve())]
    assert window.recent_projects.flush(30.0)
    document = json.loads(recent_file().read_text(encoding="utf-8"))
    assert document == {"format": FORMAT, "version": 1,
                        "folders": [str((tmp_path / "p").resolve())]}
    window.close()


def test_a_project_whose_folder_is_gone_is_greyed_and_says_why(qtbot, tmp_path):
    gone, here = tmp_path / "gone", tmp_path / "here"
    default_project().save(gone)
    earlier = RecentProjects()  # a session before this one worked there
    earlier.remember(gone)
    assert earlier.flush(30.0)
    window = open_window(qtbot, default_project(), here, audio=False)
    assert entries(window) == [str(here.resolve()), str(gone.resolve())]
    assert action(window, str(gone.resolve())).isEnabled()
    shutil.rmtree(gone)
    window.recent_menu.aboutToShow.emit()  # as the menu opens
    missing, present = action(window, str(gone.resolve())), action(window, str(here.resolve()))
    assert not missing.isEnabled() and "missing" in missing.toolTip()
    assert present.isEnabled() and present.toolTip() in ("", present.text())
    window.close()


def test_clear_list_empties_the_menu_and_the_file(qtbot, tmp_path):
    window = open_window(qtbot, default_project(), tmp_path / "a", audio=False)
    assert window.save_to(tmp_path / "b")
    clear = window.recent_menu.actions()[-1]
    assert clear.text() == "Clear list" and clear.isEnabled()
    clear.trigger()
    assert entries(window) == []
    assert not window.recent_menu.actions()[-1].isEnabled()  # nothing left to clear
    assert window.recent_projects.flush(30.0)
    assert read_recent(recent_file()) == [] and RecentProjects().folders == []
    assert window.save_to(tmp_path / "c")  # and the list starts again
    assert entries(window) == [str((tmp_path / "c").resolve())]
    window.close()
    assert read_recent(recent_file()) == [str((tmp_path / "c").resolve())]


def test_two_windows_writing_at_once_leave_a_whole_file_the_last_one_wins(tmp_path, repo_dir):
    """Two processes remembering 40 projects each as fast as they can: every read of the file
    meanwhile is a whole list, and at the end it is what one of them wrote last."""
    first = RecentProjects()
    first.remember(tmp_path)  # (the file exists: Qt's settings are not read)
    assert first.flush(30.0)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, name, "40"], cwd=repo_dir,
                                stderr=subprocess.PIPE, text=True) for name in ("one", "two")]
    reads = 0
    while any(w.poll() is None for w in writers) or reads == 0:
        folders = read_recent(recent_file())  # a torn file would read as [] (and be logged)
        assert folders and all(f.startswith(("/one/", "/two/", str(tmp_path)))
                                for f in folders), folders
        reads += 1
    for w in writers:
        assert w.wait(timeout=120) == 0, w.stderr.read()
    final = read_recent(recent_file())
    assert final[0] in ("/one/39", "/two/39")
    assert not [n for n in os.listdir(recent_file().parent) if n != "recent.json"]  # no leftovers


@pytest.mark.alone  # a bound on the window's stall: other workers' load is not its own
def test_a_project_saved_while_another_gesturemap_holds_qts_settings_keeps_the_window_drawing(
        qtbot, tmp_path, repo_dir):
    """Saving (or opening) puts the project first in the menu and in the file with the window
    drawing on, the menu's folders checked, while Qt's settings file is locked by another."""
    window = open_window(qtbot, default_project(), tmp_path / "first", audio=False)
    path = QtCore.QSettings("gesturemap", "gesturemap").fileName()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, path], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=repo_dir)
    try:
        assert holder.stdout.readline().strip() == "held"
        probe = GapProbe(window)
        saved, gap = probe.during(lambda: window.save_to(tmp_path / "second"))
        assert saved
        # the menu shows it at once, whatever the file is doing
        assert entries(window)[:2] == [str((tmp_path / "second").resolve()),
                                       str((tmp_path / "first").resolve())]
        assert gap < 0.5, f"the window stood still {gap * 1e3:.0f} ms saving the recent list"
        # and the file follows while the other still holds Qt's lock
        assert window.recent_projects.flush(30.0), "the list waited for Qt's settings lock"
        assert read_recent(recent_file())[:2] == entries(window)[:2]
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    probe.timer.stop()
    window.close()
