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


def test_a_scene_recalled_after_an_outputs_edit_sends_on_its_own_route(tmp_path):
    """The Outputs tab's edit closed the output it replaced, though the scenes kept it for
    their route: a scene routed there and recalled afterwards sent on a closed socket, every
    datagram of the rest of the show failed (counted, never said)."""
    import json
    import socket

    from gesturemap.gui.session import WindowEngine

    from ..stage_helpers import (
        float_msg,
        osc_message,
        osc_messages,
        osc_receiver,
        project_with_scenes,
        wait_for,
    )

    folder = project_with_scenes(tmp_path / "p")
    rx_a, rx_b = osc_receiver(), osc_receiver()
    port_a, port_b = rx_a.getsockname()[1], rx_b.getsockname()[1]
    saved = json.loads((folder / "project.json").read_text())
    saved["outputs"] = {"port": port_a}
    for scene in saved["scenes"]:
        scene["outputs"] = {"port": port_a}
    (folder / "project.json").write_text(json.dumps(saved))
    engine = WindowEngine(Project.load(folder), osc_in=("127.0.0.1", 0), trainer="thread",
                          project_dir=folder).start()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def frames_reach(rx) -> bool:  # noqa: ANN001
        for _ in range(20):
            tx.sendto(float_msg("/wek/inputs", 0.1, 0.1), ("127.0.0.1", engine.osc_port))
        return len(osc_messages(rx, lambda m: len(m) >= 20, 5)) >= 20

    try:
        wait_for(lambda: engine.scenes.ready, 30)
        reached = [frames_reach(rx_a)]
        engine.command("set_output_settings", {"port": port_b})  # the Outputs tab's Apply
        reached.append(frames_reach(rx_b))
        tx.sendto(osc_message("/gesturemap/scene", "plain"), ("127.0.0.1", engine.osc_port))
        wait_for(lambda: engine.stats()["scenes"]["current"] == "plain")
        reached.append(frames_reach(rx_a))  # the scene's own route: port A again
        errors = engine.stats()["output_send_errors"]
    finally:
        engine.stop()
        tx.close()
        rx_a.close()
        rx_b.close()
    assert reached == [True, True, True] and errors == 0


def test_the_outputs_tab_says_when_its_host_does_not_resolve(qtbot, tmp_path):
    """A mistyped host while the model runs: every message was dropped (the terminal said
    "cannot resolve" every 2 s) and the Outputs tab went on saying "sending to" it."""
    from .windows import mislabelled_pad_project, open_window

    project, _ = mislabelled_pad_project()
    window = open_window(qtbot, project, tmp_path / "p")
    qtbot.waitUntil(lambda: window.engine.running and window.engine.stats().get("frames_out", 0) > 0,
                    timeout=30000)
    panel = window.outputs_panel
    panel.host.setText("no-such-host.invalid")  # .invalid never resolves (RFC 2606)
    panel.apply_button.click()
    qtbot.waitUntil(lambda: panel.status.text().startswith(
        "not sending to no-such-host.invalid:12000: "), timeout=10000)
    assert "does not resolve" in panel.status.text()
    panel.host.setText("127.0.0.1")
    panel.apply_button.click()
    qtbot.waitUntil(lambda: panel.status.text() == "sending to 127.0.0.1:12000", timeout=10000)
    window.close()
