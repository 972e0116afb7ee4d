"""The dataset browser: every take, by class, with a small plot; delete and relabel with undo;
select a take to overlay it on the live plot, play it back through the current model. A take
recorded while the sensor was away shows ⚠ beside its length, and says when in its tooltip.

Edits go to the engine as commands (:class:`~gesturemap.gui.session.WindowEngine`) through a
:class:`QUndoStack`, so Ctrl+Z / Ctrl+Shift+Z undo and redo them. Undoing a deletion puts the
take's data back under a new id (ids are never reused, see :class:`~gesturemap.project.Project`).
"Play" sends ``play_take``: the engine replays the take's frames through its frame path at
their recorded timing, so the monitor shows the model's answer as it would live.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from ..project import describe_gaps
from .colours import class_colours
from .session import TakeRef
from .thumbnails import ThumbnailDrawer

__all__ = ["DatasetBrowser", "DeleteClass", "DeleteTake", "RelabelTake", "RenameClass"]

_THUMB = QtCore.QSize(150, 44)


class DeleteTake(QtGui.QUndoCommand):
    """Delete one take (redo) / put it back (undo)."""

    def __init__(self, send: Callable[..., None], take: Any, on_change: Callable[[], None]):
        super().__init__(f"delete {take.id} ({take.label})")
        self.ref = TakeRef(take.id)
        self._send = send
        self._on_change = on_change

    def redo(self) -> None:
        self._send("remove_take", self.ref)
        self._on_change()

    def undo(self) -> None:
        self._send("restore_take", self.ref)
        self._on_change()


class RelabelTake(QtGui.QUndoCommand):
    """Give a take another class (redo) / its old one back (undo)."""

    def __init__(
        self, send: Callable[..., None], take: Any, label: Any, on_change: Callable[[], None]
    ):
        super().__init__(f"relabel {take.id} {take.label} → {label}")
        self.ref = TakeRef(take.id)
        self._send = send
        self._old, self._new = take.label, label
        self._on_change = on_change

    def redo(self) -> None:
        self._send("relabel_take", self.ref, self._new)
        self._on_change()

    def undo(self) -> None:
        self._send("relabel_take", self.ref, self._old)
        self._on_change()


class RenameClass(QtGui.QUndoCommand):
    """Give a class another name (redo) / its old one back (undo), its takes with it. On
    the undo stack with the take edits, so that a deletion or a relabelling undone after a
    rename finds the class by the name it had then (it brought the old name back as a
    class of its own).

    ``on_change(old, new)`` is called after each, with the names as the list shows them.
    """

    def __init__(self, send: Callable[..., None], old: Any, new: Any,
                 on_change: Callable[[str, str], None]):
        super().__init__(f"rename class {old} → {new}")
        self._send = send
        self._old, self._new = old, new
        self._on_change = on_change

    def redo(self) -> None:
        self._send("rename_class", self._old, self._new)
        self._on_change(str(self._old), str(self._new))

    def undo(self) -> None:
        self._send("rename_class", self._new, self._old)
        self._on_change(str(self._new), str(self._old))


class DeleteClass(QtGui.QUndoCommand):
    """Delete a class and its takes (redo) / bring them back (undo): the class in its place
    in the list (``index``; the class list is what the musician reads while recording, and
    the default colours follow it), its takes from the project's trash under their own ids.
    On the undo stack with the take edits: Ctrl+Z after a class deletion undid the edit
    before it instead (a rename given back, or a take of the deleted class restored alone,
    bringing the class back with that one take).
    """

    def __init__(self, send: Callable[..., None], label: Any, take_ids: list[str],
                 on_change: Callable[[], None], index: int | None = None):
        super().__init__(f"delete class {label} ({len(take_ids)} takes)")
        self._send = send
        self._label, self._ids, self._index = label, list(take_ids), index
        self._on_change = on_change

    def redo(self) -> None:
        self._send("remove_class", self._label)
        self._on_change()

    def undo(self) -> None:
        self._send("add_class", self._label, self._index)
        if self._ids:  # (the engine refuses a restore of nothing)
            self._send("restore_takes", list(self._ids))
        self._on_change()


class DatasetBrowser(QtWidgets.QWidget):
    """A tree of classes and their takes, with a thumbnail per take.

    Parameters
    ----------
    send : callable ``send(command, *args)``
        The engine's :meth:`~gesturemap.live.engine.Engine.command`.
    undo_stack : QUndoStack
    on_change : callable
        Called after every edit (the window retrains when it retrains automatically).

    Signals
    -------
    take_selected(str)
        The id of the take selected alone ("" when none or several are).
    """

    take_selected = QtCore.Signal(str)

    def __init__(
        self,
        send: Callable[..., None],
        undo_stack: QtGui.QUndoStack,
        on_change: Callable[[], None],
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._send = send
        self.undo_stack = undo_stack
        self._on_change = on_change
        self._shown: tuple[Any, ...] = ()
        self._takes: dict[str, Any] = {}
        # each take's thumbnail by (id, colour, frames): a take's frames never change under
        # its id, so a refresh draws only the takes new or recoloured since the last one (all
        # of them took seconds on the GUI thread at 150 takes of 60 channels, after each take)
        self._icons: dict[tuple[str, str, int], QtGui.QIcon] = {}
        # drawn on a worker thread: a project of many long takes opened with the window
        # standing still for seconds while they were drawn; each item says "loading…" until
        # its thumbnail arrives, and can be selected, played or deleted meanwhile
        self._drawer = ThumbnailDrawer(_THUMB, self)
        self._drawer.drawn.connect(self._thumbnail_drawn)
        self._waiting: dict[tuple[str, str, int], QtWidgets.QTreeWidgetItem] = {}
        self.colours: dict[str, QtGui.QColor] = {}
        self.tree = QtWidgets.QTreeWidget()
        self.tree.setHeaderLabels(["take", "frames", "plot"])
        self.tree.setIconSize(_THUMB)
        self.tree.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setColumnWidth(0, 150)
        self.tree.setColumnWidth(1, 60)
        self.delete_button = QtWidgets.QPushButton("Delete")
        self.delete_button.setShortcut(QtGui.QKeySequence.StandardKey.Delete)
        self.delete_button.clicked.connect(self.delete_selected)
        self.relabel_box = QtWidgets.QComboBox()
        self.relabel_box.setToolTip("Class to give the selected takes")
        self.relabel_button = QtWidgets.QPushButton("Relabel")
        self.relabel_button.clicked.connect(
            lambda: self.relabel_selected(self.relabel_box.currentText())
        )
        self.play_button = QtWidgets.QPushButton("▶ Play")
        self.play_button.setToolTip("Play the selected take back through the current model")
        self.play_button.clicked.connect(self.play_selected)
        self.speed = QtWidgets.QComboBox()
        self.speed.addItems(["×0.25", "×0.5", "×1", "×2"])
        self.speed.setCurrentText("×1")
        self.speed.setToolTip("Playback speed: slower to watch the model follow the gesture")
        self.stop_button = QtWidgets.QPushButton("■")
        self.stop_button.setToolTip("Stop playing back")
        self.stop_button.clicked.connect(lambda: self._send("stop_play"))
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        undo = QtWidgets.QToolButton()
        undo.setDefaultAction(undo_stack.createUndoAction(self, "Undo"))
        redo = QtWidgets.QToolButton()
        redo.setDefaultAction(undo_stack.createRedoAction(self, "Redo"))
        buttons = QtWidgets.QHBoxLayout()
        for w in (
            self.play_button,
            self.speed,
            self.stop_button,
            self.delete_button,
            self.relabel_box,
            self.relabel_button,
            undo,
            redo,
        ):
            buttons.addWidget(w)
        buttons.addStretch(1)
        self.summary = QtWidgets.QLabel()
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)

    def refresh(self, project: Any) -> None:
        """Show the project's takes; rebuilt only when they changed."""
        takes = project.takes
        classes = project.classes
        colours = class_colours(project)
        key = (
            tuple((t.id, t.label) for t in takes),
            tuple(classes),
            tuple(c.name() for c in colours.values()),
        )
        # the engine's project may hand out new take objects for the same takes: keep the
        # current ones, even when nothing shown changes
        self._takes = {t.id: t for t in takes}
        if key == self._shown:
            return
        self._shown = key
        self.colours = colours
        selected = [t.id for t in self.selected_takes()]
        expanded = {
            self.tree.topLevelItem(i).text(0)
            for i in range(self.tree.topLevelItemCount())
            if self.tree.topLevelItem(i).isExpanded()
        } or None
        self.tree.blockSignals(True)
        self.tree.clear()
        icons, self._icons = self._icons, {}
        self._waiting = {}
        jobs: dict[tuple[str, str, int], tuple[Any, QtGui.QColor]] = {}
        for label in classes:
            colour = colours[str(label)]
            mine = [t for t in takes if t.label == label]
            top = QtWidgets.QTreeWidgetItem([str(label), str(len(mine)), ""])
            top.setForeground(0, colour)
            top.setData(0, QtCore.Qt.ItemDataRole.UserRole, None)
            self.tree.addTopLevelItem(top)
            for take in mine:
                # a take recorded while the sensor was away is marked, never cut or hidden
                length = f"{take.length} ⚠" if take.gaps else str(take.length)
                item = QtWidgets.QTreeWidgetItem([take.id, length, ""])
                if take.gaps:
                    why = (f"{describe_gaps(take.gaps)}: its frames have a hole there "
                           "(delete it and record it again if it matters)")
                    for column in (0, 1):
                        item.setToolTip(column, why)
                item.setData(0, QtCore.Qt.ItemDataRole.UserRole, take.id)
                key = (take.id, colour.name(), take.length)
                icon = icons.get(key)
                if icon is None:
                    item.setText(2, "loading…")
                    self._waiting[key] = item
                    jobs[key] = (take.inputs, colour)
                else:
                    self._icons[key] = icon  # only the takes shown now are kept
                    item.setIcon(2, icon)
                item.setSizeHint(2, _THUMB + QtCore.QSize(4, 4))
                top.addChild(item)
                item.setSelected(take.id in selected)
            top.setExpanded(expanded is None or str(label) in expanded)
        self.tree.blockSignals(False)
        self._drawer.want(jobs)
        self._selection_changed()
        self.tree.setColumnWidth(2, _THUMB.width() + 30)
        current = self.relabel_box.currentText()
        self.relabel_box.clear()
        self.relabel_box.addItems([str(c) for c in classes])
        if current:
            self.relabel_box.setCurrentText(current)
        self.summary.setText(
            f"{len(takes)} takes in {len(classes)} classes ({sum(t.length for t in takes)} frames)"
        )

    def close_thumbnails(self) -> None:
        """Stop drawing thumbnails, the drawing thread ended (the window is closing)."""
        self._drawer.close()

    @property
    def thumbnails_pending(self) -> int:
        """Thumbnails of the takes shown still being drawn."""
        return len(self._waiting)

    def _thumbnail_drawn(self, key: tuple[str, str, int], image: QtGui.QImage) -> None:
        self._drawer.done(key)
        item = self._waiting.pop(key, None)
        if item is None:  # a take no longer shown, or shown in another colour
            return
        icon = QtGui.QIcon(QtGui.QPixmap.fromImage(image)) if not image.isNull() else None
        item.setText(2, "")
        if icon is not None:
            self._icons[key] = icon
            item.setIcon(2, icon)

    def select_take(self, take_id: str) -> None:
        """Select the take with this id (as a click would)."""
        items = self.tree.findItems(
            take_id, QtCore.Qt.MatchFlag.MatchExactly | QtCore.Qt.MatchFlag.MatchRecursive, 0
        )
        self.tree.clearSelection()
        for item in items:
            item.setSelected(True)

    def _selection_changed(self) -> None:
        takes = self.selected_takes()
        take_id = takes[0].id if len(takes) == 1 else ""
        if take_id != getattr(self, "_selected_id", None):
            self._selected_id = take_id
            self.take_selected.emit(take_id)

    def take(self, take_id: str) -> Any:
        """The take shown with this id, or None."""
        return self._takes.get(take_id)

    def play_selected(self) -> None:
        """Play the selected take back through the current model (the engine's ``play_take``)."""
        takes = self.selected_takes()
        if takes:
            self._send("play_take", takes[0].id, float(self.speed.currentText().lstrip("×")))

    def selected_takes(self) -> list[Any]:
        ids = [it.data(0, QtCore.Qt.ItemDataRole.UserRole) for it in self.tree.selectedItems()]
        return [self._takes[i] for i in ids if i in self._takes]

    def delete_selected(self) -> None:
        takes = self.selected_takes()
        if not takes:
            return
        self.undo_stack.beginMacro(f"delete {len(takes)} takes")
        for take in takes:
            self.undo_stack.push(DeleteTake(self._send, take, self._on_change))
        self.undo_stack.endMacro()

    def relabel_selected(self, text: str) -> None:
        takes = self.selected_takes()
        if not takes or not text:
            return
        label: Any = text
        if isinstance(takes[0].label, int):  # a project of numbered classes
            label = int(text)
        self.undo_stack.beginMacro(f"relabel {len(takes)} takes as {text}")
        for take in takes:
            if take.label != label:
                self.undo_stack.push(RelabelTake(self._send, take, label, self._on_change))
        self.undo_stack.endMacro()
