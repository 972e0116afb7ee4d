"""The dataset browser: every take, by class, with a small plot; delete and relabel with undo.

Edits go to the engine as commands (:class:`~gesturemap.gui.session.WindowEngine`) through a
:class:`QUndoStack`, so Ctrl+Z / Ctrl+Shift+Z undo and redo them. Undoing a deletion puts the
take's data back under a new id (ids are never reused, see :class:`~gesturemap.project.Project`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from .plots import class_colour, take_pixmap
from .session import TakeRef

__all__ = ["DatasetBrowser", "DeleteTake", "RelabelTake"]

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


class DatasetBrowser(QtWidgets.QWidget):
    """A tree of classes and their takes, with a thumbnail per take.

    Parameters
    ----------
    send : callable ``send(command, *args)``
        The engine's :meth:`~gesturemap.engine.Engine.command`.
    undo_stack : QUndoStack
    on_change : callable
        Called after every edit (the window retrains when it retrains automatically).
    """

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
        undo = QtWidgets.QToolButton()
        undo.setDefaultAction(undo_stack.createUndoAction(self, "Undo"))
        redo = QtWidgets.QToolButton()
        redo.setDefaultAction(undo_stack.createRedoAction(self, "Redo"))
        buttons = QtWidgets.QHBoxLayout()
        for w in (self.delete_button, self.relabel_box, self.relabel_button, undo, redo):
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
        key = (tuple((t.id, t.label) for t in takes), tuple(classes))
        if key == self._shown:
            return
        self._shown = key
        self._takes = {t.id: t for t in takes}
        expanded = {
            self.tree.topLevelItem(i).text(0)
            for i in range(self.tree.topLevelItemCount())
            if self.tree.topLevelItem(i).isExpanded()
        } or None
        self.tree.clear()
        for index, label in enumerate(classes):
            mine = [t for t in takes if t.label == label]
            top = QtWidgets.QTreeWidgetItem([str(label), str(len(mine)), ""])
            top.setForeground(0, class_colour(index))
            top.setData(0, QtCore.Qt.ItemDataRole.UserRole, None)
            self.tree.addTopLevelItem(top)
            for take in mine:
                item = QtWidgets.QTreeWidgetItem([take.id, str(take.length), ""])
                item.setData(0, QtCore.Qt.ItemDataRole.UserRole, take.id)
                item.setIcon(2, QtGui.QIcon(take_pixmap(take.inputs, _THUMB, class_colour(index))))
                item.setSizeHint(2, _THUMB + QtCore.QSize(4, 4))
                top.addChild(item)
            top.setExpanded(expanded is None or str(label) in expanded)
        self.tree.setColumnWidth(2, _THUMB.width() + 30)
        current = self.relabel_box.currentText()
        self.relabel_box.clear()
        self.relabel_box.addItems([str(c) for c in classes])
        if current:
            self.relabel_box.setCurrentText(current)
        self.summary.setText(
            f"{len(takes)} takes in {len(classes)} classes ({sum(t.length for t in takes)} frames)"
        )

    def select_take(self, take_id: str) -> None:
        """Select the take with this id (as a click would)."""
        items = self.tree.findItems(
            take_id, QtCore.Qt.MatchFlag.MatchExactly | QtCore.Qt.MatchFlag.MatchRecursive, 0
        )
        self.tree.clearSelection()
        for item in items:
            item.setSelected(True)

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
