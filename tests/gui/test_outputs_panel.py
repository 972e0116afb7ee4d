"""The outputs panel: OSC host, port and the class rejection reach the running engine."""

from __future__ import annotations

import time

from gesturemap.gui.panels import OutputsPanel
from gesturemap.gui.session import WindowEngine
from gesturemap.project import Project


def test_the_outputs_panel_sets_host_port_and_rejection(qtbot):
    engine = WindowEngine(Project("out", model="hhmm"), osc_in=None, trainer="thread").start()
    try:
        panel = OutputsPanel(lambda s: engine.command("set_output_settings", s))
        qtbot.addWidget(panel)
        panel.show_settings(engine.project.outputs)
        assert panel.reject.text() == "off"
        panel.port.setValue(12345)
        panel.reject.setValue(0.5)
        panel.apply_button.click()
        deadline = time.monotonic() + 5
        while engine.output.settings.port != 12345 and time.monotonic() < deadline:
            qtbot.wait(20)
        assert engine.output.settings.port == 12345
        assert engine.output.settings.reject_below == 0.5
        assert engine.project.outputs["reject_below"] == 0.5
        again = OutputsPanel(lambda s: None)
        qtbot.addWidget(again)
        again.show_settings(engine.project.outputs)
        assert again.settings() == engine.project.outputs
    finally:
        engine.stop()


def test_the_outputs_panel_turns_gesturemaps_own_messages_on_and_off(qtbot):
    """Off by default (the port carries what Wekinator sends); the check box turns them on,
    on the outputs' port or a port of their own."""
    engine = WindowEngine(Project("out", model="hhmm"), osc_in=None, trainer="thread").start()
    try:
        panel = OutputsPanel(lambda s: engine.command("set_output_settings", s))
        qtbot.addWidget(panel)
        panel.show_settings(engine.project.outputs)
        assert not panel.extras.isChecked() and engine.output.settings.extras_on == []
        panel.extras.setChecked(True)
        panel.extras_port.setValue(12346)
        panel.apply_button.click()
        deadline = time.monotonic() + 5
        while not engine.output.settings.extras_on and time.monotonic() < deadline:
            qtbot.wait(20)
        assert "label" in engine.output.settings.extras_on
        assert engine.output.settings.extras_target == ("127.0.0.1", 12346)
        assert engine.project.outputs["extras"] == {"port": 12346}
        again = OutputsPanel(lambda s: None)
        qtbot.addWidget(again)
        again.show_settings(engine.project.outputs)
        assert again.extras.isChecked() and again.extras_port.value() == 12346
        again.extras.setChecked(False)
        assert again.settings()["extras"] is False
    finally:
        engine.stop()
