"""Regression targets: a slider per output sets the values recorded with the next frames.

Wekinator's way of mapping by demonstration: set the sound parameters you want (hearing them,
when the outputs drive a synth), then move while recording; every frame of the take is stored
with the targets set at that moment. The panel sends the engine's ``set_outputs`` command (the
same as Wekinator's ``/wekinator/control/outputs``) with every output's value, as floats.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6 import QtCore, QtWidgets

from .keys import let_space_record

__all__ = ["TargetsPanel"]

#: Slider steps over the range.
_STEPS = 1000


class TargetsPanel(QtWidgets.QGroupBox):
    """One slider and one number box per regression output; hidden without outputs.

    Parameters
    ----------
    send : callable ``send(command, *args)``
        The engine's ``command``.
    low, high : float, default 0, 1
        The sliders' range (Wekinator's default for continuous outputs); the number boxes
        take any value.
    """

    def __init__(
        self,
        send: Callable[..., None],
        low: float = 0.0,
        high: float = 1.0,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__("Targets (recorded with each frame)", parent)
        self._send = send
        self.low, self.high = low, high
        self.names: list[str] = []
        self.sliders: list[QtWidgets.QSlider] = []
        self.boxes: list[QtWidgets.QDoubleSpinBox] = []
        #: rows the person set since the last take began: they do not follow the model
        self._pinned: set[int] = set()
        self._form = QtWidgets.QFormLayout(self)
        self.setVisible(False)

    def show_outputs(self, names: Sequence[str] | None, values: Sequence[float] = ()) -> None:
        """Build one row per output name (none: hide the panel)."""
        names = [str(n) for n in names or ()]
        if names == self.names:
            return
        while self._form.rowCount():
            self._form.removeRow(0)
        self.names, self.sliders, self.boxes = names, [], []
        self._pinned = set()
        for i, name in enumerate(names):
            slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
            slider.setRange(0, _STEPS)
            slider.setObjectName(f"target-{name}")
            box = QtWidgets.QDoubleSpinBox()
            box.setDecimals(3)
            box.setRange(-1e6, 1e6)
            box.setSingleStep((self.high - self.low) / 100)
            let_space_record(box)  # type a target, then Space records with it
            slider.valueChanged.connect(lambda v, i=i: self._slider_moved(i, v))
            box.valueChanged.connect(lambda v, i=i: self._box_changed(i, v))
            row = QtWidgets.QHBoxLayout()
            row.addWidget(slider, 1)
            row.addWidget(box)
            self._form.addRow(name, row)
            self.sliders.append(slider)
            self.boxes.append(box)
            self._set_row(i, float(values[i]) if i < len(values) else self.low)
        self.setVisible(bool(names))

    def values(self) -> list[float]:
        """The targets set now, one per output."""
        return [float(b.value()) for b in self.boxes]

    def set_values(self, values: Sequence[float]) -> None:
        """Set every target (as a person would, one after the other) and send them."""
        for i, v in enumerate(values[: len(self.boxes)]):
            self._set_row(i, float(v))
            self._pinned.add(i)
        self._emit()

    def follow(self, values: Sequence[float]) -> None:
        """Show the model's outputs while it runs (Wekinator's sliders do), without sending
        them; a row the person is moving or typing in is left alone, and so is a row the
        person set since the last take began (it holds until a take records it)."""
        for i, v in enumerate(list(values)[: len(self.boxes)]):
            if i in self._pinned or self.sliders[i].isSliderDown() or self.boxes[i].hasFocus():
                continue
            self._set_row(i, float(v))

    def send_current(self) -> None:
        """Send the targets shown now (what the take beginning now records); the rows the
        person set follow the model again once this take has them."""
        if self.boxes:
            self._emit()
        self._pinned.clear()

    def _set_row(self, i: int, value: float) -> None:
        box = self.boxes[i]
        box.blockSignals(True)
        box.setValue(value)
        box.blockSignals(False)
        self._set_slider(i, value)

    def _set_slider(self, i: int, value: float) -> None:
        slider = self.sliders[i]
        slider.blockSignals(True)
        frac = (value - self.low) / (self.high - self.low)
        slider.setValue(round(min(max(frac, 0.0), 1.0) * _STEPS))
        slider.blockSignals(False)

    def _slider_moved(self, i: int, step: int) -> None:
        self._pinned.add(i)
        box = self.boxes[i]
        box.blockSignals(True)
        box.setValue(self.low + (self.high - self.low) * step / _STEPS)
        box.blockSignals(False)
        self._emit()

    def _box_changed(self, i: int, value: float) -> None:
        self._pinned.add(i)
        # only the slider follows: setting the box's value back while it is typed in
        # rewrote its text under the cursor ("0.7" became "0.700", so "0.75" stayed 0.7)
        self._set_slider(i, value)
        self._emit()

    def _emit(self) -> None:
        self._send("set_outputs", *self.values())
