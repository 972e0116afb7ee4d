"""File > Open recent: the list read back as it was written, and kept without the window's
thread waiting on the settings file (Qt offscreen, a real settings file, a real second
process holding its lock)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6 import QtCore

from gesturemap.project.default import default_project

from .test_open_drawing import GapProbe
from .windows import open_window

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]

#: the recent list as another process reads the settings file (this one's Qt keeps a copy)
READ = textwrap.dedent("""
    import json, sys
    from PySide6 import QtCore
    settings = QtCore.QSettings(sys.argv[1], QtCore.QSettings.Format.IniFormat)
    print(json.dumps(settings.value("recent")))
""")

#: another gesturemap writing the settings: Qt's lock on the file held until stdin closes
#: (at most 10 s)
HOLD = textwrap.dedent("""
    import select, sys
    from PySide6 import QtCore
    lock = QtCore.QLockFile(sys.argv[1] + ".lock")
    assert lock.lock()
    print("held", flush=True)
    select.select([sys.stdin], [], [], 10)
    lock.unlock()
""")


def recent_on_disk(repo_dir) -> list[str]:  # noqa: ANN001
    """The list in the settings file, as a window opened later reads it."""
    path = QtCore.QSettings("gesturemap", "gesturemap").fileName()
    done = subprocess.run([sys.executable, "-c", READ, path], capture_output=True, text=True,
                          cwd=repo_dir, timeout=60, check=True)
    value = json.loads(done.stdout)
    return [value] if isinstance(value, str) else value  # (one folder reads as a string)


def menu(window) -> list[str]:  # noqa: ANN001
    return [action.text() for action in window.recent_menu.actions()]


def test_one_recent_project_is_listed_as_one_entry(qtbot, tmp_path, repo_dir):
    """Qt's settings file gives a list of one folder back as that folder's name: the menu
    of the next start listed each of its characters ("/", "t", "m", "p"...)."""
    path = Path(QtCore.QSettings("gesturemap", "gesturemap").fileName())
    only = tmp_path / "only"
    default_project().save(only)
    path.parent.mkdir(parents=True, exist_ok=True)
    # as a first start that opened one project leaves it
    path.write_text(f"[General]\nrecent={only.resolve()}\n", encoding="utf-8")
    window = open_window(qtbot, default_project(), tmp_path / "second", audio=False)
    assert menu(window) == [str((tmp_path / "second").resolve()), str(only.resolve())]
    window.close()
    assert recent_on_disk(repo_dir) == [str((tmp_path / "second").resolve()),
                                        str(only.resolve())]


@pytest.mark.parametrize(("value", "folders"), [
    (None, []), (3, []), ("/b", ["/b"]), (["/a", "", 4, "/c"], ["/a", "/c"])])
def test_what_the_settings_hold_is_read_as_a_list_of_folders(value, folders):
    """A damaged or hand-edited settings file lists what it holds of folders, nothing else."""
    from gesturemap.gui.recent import recent_list

    assert recent_list(value) == folders


def test_a_project_saved_while_another_gesturemap_writes_the_settings_keeps_the_window_drawing(
        qtbot, tmp_path, repo_dir):
    window = open_window(qtbot, default_project(), tmp_path / "first", audio=False)
    path = QtCore.QSettings("gesturemap", "gesturemap").fileName()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, path], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=repo_dir)
    try:
        assert holder.stdout.readline().strip() == "held"
        probe = GapProbe(window)
        saved, gap = probe.during(lambda: window.save_to(tmp_path / "second"))
        assert saved
        # the menu shows it at once, whatever the file is doing
        assert menu(window)[:2] == [str((tmp_path / "second").resolve()),
                                    str((tmp_path / "first").resolve())]
        assert gap < 0.5, f"the window stood still {gap * 1e3:.0f} ms saving the recent list"
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    # the file follows once the other writer is done
    assert window.recent_projects.flush(30.0)
    assert recent_on_disk(repo_dir)[:2] == [str((tmp_path / "second").resolve()),
                                    str((tmp_path / "first").resolve())]
    probe.timer.stop()
    window.close()
