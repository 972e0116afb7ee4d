"""The sensor panel: which sensor feeds the engine, and how it is doing.

Transport (the mouse pad, OSC, serial), a sensor profile from ``sensors/``, and for OSC the
interface, port and address to listen on, for serial the device and the line format. "Apply"
sends the settings (a JSON dict) with the engine's ``set_sensor`` command: the engine saves them
in the project and reopens its source. The status line reads the engine's ``stats()``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6 import QtWidgets

from ..sources.profiles import SensorProfile, list_profiles, load_profile
from .panels import SettingsPanel

__all__ = ["SensorPanel"]

TRANSPORTS = ("mouse", "osc", "serial")
#: The profile a transport starts on when picked: Wekinator's /wek/inputs on 6448 is what
#: most apps, tutorials and patches send (and what ``gesturemap run`` listens for), and the
#: text sketch in sensors/firmware is the serial one a musician has flashed. Alphabetical
#: order put FaceOSC's face-tracker addresses on port 8338 first, and a phone sending
#: /wek/inputs was heard by nothing.
DEFAULT_PROFILES = {"mouse": "mouse", "osc": "wekinator", "serial": "arduino-imu-text"}


def _profiles() -> dict[str, SensorProfile]:
    out = {}
    for name in list_profiles():
        try:
            out[name] = load_profile(name)
        except Exception:  # a damaged file is left out of the list, not fatal to the window
            continue
    return out


class SensorPanel(SettingsPanel):
    """Edit the project's sensor settings; "Apply" sends them.

    Parameters
    ----------
    apply : callable ``apply(settings)``
        Receives the settings dict (see :func:`~gesturemap.gui.session.build_sensor_source`).
    """

    def __init__(
        self, apply: Callable[[dict[str, Any]], None], parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(apply, parent)
        self.profiles = _profiles()
        self.transport = QtWidgets.QComboBox()
        self.transport.addItems(TRANSPORTS)
        self.profile = QtWidgets.QComboBox()
        self.description = QtWidgets.QLabel()
        self.description.setWordWrap(True)
        self.description.setStyleSheet("color: #a0aec0")
        self.host = QtWidgets.QLineEdit("127.0.0.1")
        self.host.setToolTip("127.0.0.1: this machine only; 0.0.0.0: open to the network")
        self.port = QtWidgets.QSpinBox()
        self.port.setRange(0, 65535)
        self.port.setToolTip("0 picks a free port")
        self.address = QtWidgets.QLineEdit()
        self.device = QtWidgets.QComboBox()
        self.device.setEditable(True)
        self.framing = QtWidgets.QComboBox()
        self.framing.addItems(("text", "binary"))
        self.status = QtWidgets.QLabel("")
        self.status.setWordWrap(True)
        self.osc_box = QtWidgets.QGroupBox("OSC in")
        osc = QtWidgets.QFormLayout(self.osc_box)
        osc.addRow("listen on", self.host)
        osc.addRow("port", self.port)
        osc.addRow("address", self.address)
        self.serial_box = QtWidgets.QGroupBox("serial")
        serial = QtWidgets.QFormLayout(self.serial_box)
        serial.addRow("device", self.device)
        serial.addRow("format", self.framing)
        top = QtWidgets.QFormLayout()
        top.addRow("sensor", self.transport)
        top.addRow("profile", self.profile)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.description)
        layout.addWidget(self.osc_box)
        layout.addWidget(self.serial_box)
        layout.addWidget(self.apply_button)
        layout.addWidget(self.status)
        layout.addStretch(1)
        self.transport.currentTextChanged.connect(self._transport_picked)
        self.profile.currentTextChanged.connect(self._profile_picked)
        self._transport_picked(self.transport.currentText())

    # -- showing ------------------------------------------------------------------------------
    def show_settings(self, settings: dict[str, Any] | None) -> None:
        """Show the project's sensor settings (None: the mouse pad)."""
        self._settings = dict(settings or {"transport": "mouse", "profile": "mouse"})
        s = self._settings
        profile = self.profiles.get(str(s.get("profile")))
        transport = s.get("transport") or (profile.transport if profile else "mouse")
        self.transport.setCurrentText(str(transport))
        self._transport_picked(str(transport))
        if profile is not None:
            self.profile.setCurrentText(profile.name)
        self._profile_picked(self.profile.currentText())
        if "host" in s:
            self.host.setText(str(s["host"]))
        if s.get("port") is not None:
            self.port.setValue(int(s["port"]))
        if s.get("address"):
            self.address.setText(str(s["address"]))
        if s.get("device"):
            self.device.setCurrentText(str(s["device"]))
        if s.get("framing"):
            self.framing.setCurrentText(str(s["framing"]))

    def show_status(self, stats: dict[str, Any]) -> None:
        """Show the sensor's health from the engine's ``stats()``."""
        error = stats.get("sensor_error")
        if error:
            self.status.setText(f"<span style='color:#fc8181'>not open: {error}</span>")
            return
        sources = stats.get("sources") or {}
        lines = []
        for name, s in sources.items():
            if not s.get("connected"):
                state = "waiting"
            elif not s.get("frames_in"):  # a port listening is open, not yet a sensor heard
                state = "open, nothing received yet"
            else:
                state = "connected"
            lines.append(
                f"{name}: {state} · {s.get('rate_hz') or 0:.0f} Hz · "
                f"dropped {s.get('dropped_frames', 0)} · bad {s.get('bad_packets', 0)}"
            )
        self.status.setText("<br>".join(lines) or "the mouse pad (Live tab) is the sensor")

    def _transport_picked(self, transport: str) -> None:
        names = [n for n, p in self.profiles.items() if p.transport == transport]
        first = DEFAULT_PROFILES.get(transport)
        if first in names:  # the usual one on top, where the list opens
            names.remove(first)
            names.insert(0, first)
        self.profile.blockSignals(True)
        self.profile.clear()
        self.profile.addItems(names)
        self.profile.blockSignals(False)
        self.osc_box.setVisible(transport == "osc")
        self.serial_box.setVisible(transport == "serial")
        if transport == "serial" and not self.device.count():
            self._fill_devices()
        self._profile_picked(self.profile.currentText())

    def _profile_picked(self, name: str) -> None:
        profile = self.profiles.get(name)
        if profile is None:
            self.description.setText("")
            return
        self.description.setText(profile.description)
        if profile.osc is not None:
            self.port.setValue(profile.osc.port)
            own = profile.osc.addresses
            self.address.setEnabled(len(own) == 1)
            self.address.setText(own[0][0] if len(own) == 1 else "")
            self.address.setPlaceholderText("" if len(own) == 1 else "the profile's addresses")
        if profile.serial is not None:
            self.framing.setCurrentText(profile.serial.framing)
            self.device.lineEdit().setPlaceholderText(profile.serial.device_hint)

    def _fill_devices(self) -> None:
        try:
            from serial.tools import list_ports

            ports = [p.device for p in list_ports.comports()]
        except Exception:  # no pyserial tools: type the device's path
            ports = []
        self.device.addItems(ports)

    # -- reading ------------------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        """The settings shown, as a JSON dict (the project's other sensor keys are kept)."""
        transport = self.transport.currentText()
        out = {
            k: v
            for k, v in self._settings.items()
            if k not in ("transport", "profile", "host", "port", "address", "device", "framing")
        }
        out["transport"] = transport
        out["profile"] = self.profile.currentText() or None
        if transport == "osc":
            out["host"] = self.host.text().strip() or "127.0.0.1"
            out["port"] = int(self.port.value())
            if self.address.isEnabled() and self.address.text().strip():
                out["address"] = self.address.text().strip()
        elif transport == "serial":
            out["device"] = self.device.currentText().strip()
            out["framing"] = self.framing.currentText()
        profile = self.profiles.get(out["profile"] or "")
        if profile is not None:
            out["rate_hz"] = profile.rate_hz
        return out
