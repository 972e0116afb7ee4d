"""The main window: sensor pad and live plot, classes, recording, training, monitor.

The window never runs in the frame path (docs/architecture.md, "The one-way data flow"): the
pad puts frames into the engine's queue, a 30 Hz timer reads the engine's latest state (input ring,
last result, counters) and redraws, and every change to the project is an engine command.
With a project folder the engine saves each take as it ends and each edit at once (autosave);
"unsaved changes" are those made since the last Save or Save As, or an untitled project whose
takes live only in its autosave folder.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from ..live.prepare import PREPARING
from ..project import Project
from .colours import WINDOW_STYLE
from .controls import TRAINING_COMMANDS, WindowControls, refusal_line
from .dataset import DatasetBrowser, DeleteClass, RenameClass
from .files import WindowFiles, wait_drawing
from .garbage import collect_as_before, collect_in_gui_thread
from .keys import let_space_record
from .monitor import Monitor
from .pad import MousePad
from .panels import ModelPanel, OutputsPanel
from .plots import EventTimeline, SignalPlot, class_colour
from .quality import DistinctMeter, QualityPanel, QualityWorker, WhyStrip, WindowQuality
from .recent import RecentProjects
from .rehearsal import RehearsalPanel, WindowRehearsal
from .remote import EngineProcess
from .search_status import RESET_KEYS, search_text
from .sensor_panel import SensorPanel
from .session import WindowEngine
from .stage import StageView
from .synth_panel import SynthPanel, audio_advice, audio_light
from .targets import TargetsPanel

__all__ = ["MainWindow"]

#: Seconds without a frame after which the sensor counts as disconnected.
SENSOR_TIMEOUT_S = 0.5
#: A project opened trained is reviewed this long after opening (or when the tab is shown).
INITIAL_REVIEW_MS = 10000
#: Engine processes restarted within a minute before the window stops trying (a crash loop).
MAX_RESTARTS_PER_MINUTE = 3
#: What the audio lights say when the window was opened with --no-audio.
NO_AUDIO = "off (opened with --no-audio)"
#: What they say when the engine runs on a thread of the window: the synth lives only in the
#: engine's own process, so nothing sounds here either.
NO_SYNTH_IN_WINDOW = "off (engine inside the window: no built-in synth)"
#: The monitor's caption while the model runs and no frame has come yet.
WAITING_FOR_FRAMES = "running: waiting for the sensor's first frame"


class MainWindow(WindowControls, WindowFiles, WindowQuality, WindowRehearsal,
                 QtWidgets.QMainWindow):
    """The gesturemap window on one project.

    Parameters
    ----------
    project : Project
    folder : path, optional
        Where the project lives (opened from, or saved to). None: an untitled project.
    autosave_dir : path, optional
        Where an untitled project's takes and edits are saved as they happen (a new, empty
        folder); ignored when ``folder`` is given.
    osc_in : (host, port) or None, default None
        Also listen for OSC frames and Wekinator's control messages there.
    trainer : "process" or "thread", default "process"
        Where training runs.
    engine : "process" or "thread", default "process"
        Where the engine runs: in a process of its own (:mod:`gesturemap.gui.remote`), so
        that the window's painting never delays the frames, or on a thread of the window's
        process (simpler to debug; outputs then wait behind the window's Python work).
    """

    def __init__(
        self,
        project: Project,
        folder: str | Path | None = None,
        *,
        autosave_dir: str | Path | None = None,
        osc_in: tuple[str, int] | None = None,
        trainer: str = "process",
        audio: bool | dict[str, Any] = True,
        engine: str = "process",
    ) -> None:
        super().__init__()
        if engine not in ("process", "thread"):
            raise ValueError(f"engine must be 'process' or 'thread', not {engine!r}")
        # before any of the window's threads start: none of them may free its Qt objects
        collect_in_gui_thread()
        self._collecting_here = True
        self._engine_mode = engine
        self.folder = Path(folder) if folder else None
        self.autosave_dir = None if self.folder else (Path(autosave_dir) if autosave_dir else None)
        self._osc_in = osc_in
        self._trainer = trainer
        #: play the project's synth mapping on the built-in synth (a dict: audio settings)
        self._audio = audio
        #: why the synth could not start (no audio device...), or None
        self.audio_error: str | None = None
        self.engine: Any = None  # an EngineProcess or a WindowEngine
        self._engine_started = False
        #: what the window is doing while one engine stops and the next starts ("opening
        #: the project…"), or None: the timers then read neither engine
        self._switching: str | None = None
        self._close_when_switched = False
        self.undo_stack = QtGui.QUndoStack(self)
        self._saved_edits = 0
        self._count_in_left = 0
        self._record_started: float | None = None
        #: the class of the take being recorded (picking another one meanwhile changes it not)
        self._recording_class: str | None = None
        #: one per Space pressed: the count-in and fixed-length timers of another do nothing
        self._recording_serial = 0
        #: start and stop recording commands the window sent (see _engine_recording)
        self._record_commands_sent = 0
        self._train_sent: float | None = None
        #: the edit whose retrain is awaited, when the training line names it ("that was X
        #: undone"), else None
        self._awaited_edit: str | None = None
        #: train commands the window sent (each with its number, to know its refusal)
        self._trains_sent = 0
        self._train_count = 0
        self._errors_at_train = 0
        self.last_train_ms: float | None = None
        self.last_stop_to_running_ms: float | None = None
        self._stop_sent: float | None = None
        #: the engine's count of refused stops when the window last stopped a take (None:
        #: none since): a refusal beyond it is that take's, said whenever it comes
        self._stops_refused: int | None = None
        #: the training line's last refusal (no frame in the take, no take to train), kept
        #: under a first start's preparation progress until the next take or training
        self._refused_line: str | None = None
        self._rate_hz = 0.0
        self._rate_mark = (time.perf_counter(), 0)
        self._labels: list[str] = []
        self._label_sent: str | None = None
        #: how often the engine process died and was restarted (see _check_engine)
        self.engine_restarts = 0
        self._restarts: list[float] = []
        self._gave_up = False
        self.stage: StageView | None = None
        self.stage_shortcuts: list[QtGui.QShortcut] = []
        #: the takes' review and the live explanations, in a worker process (gui/quality.py)
        self.quality_worker = QualityWorker()
        self._why_at = 0.0
        self._highlight_key: Any = None
        self._opened = 0  # projects opened in this window: a review says which it was about
        #: File > Open recent (read once here; written off the window's thread, gui/recent.py)
        self.recent_projects = RecentProjects()
        self._discarded: Path | None = None  # (gui/files.py)
        try:
            self._build()
            self._open_engine(project)
        except BaseException:  # no window after all: collection goes back as it was
            self._collecting_here = False
            collect_as_before()
            raise
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(33)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self._retrain_timer = QtCore.QTimer(self, singleShot=True, interval=150)
        self._retrain_timer.timeout.connect(self._auto_retrain)
        self.resize(1280, 780)

    # -- building -------------------------------------------------------------------------------
    def _build(self) -> None:  # noqa: PLR0915 - builds the window's widgets in reading order
        self.setStyleSheet(WINDOW_STYLE)
        # left: classes and recording
        self.classes = QtWidgets.QListWidget()
        self.classes.setToolTip("The class to record: pick it here (double-click renames)")
        self.classes.currentRowChanged.connect(self._class_picked)
        self.classes.itemDoubleClicked.connect(lambda _: self.rename_class())
        add = QtWidgets.QPushButton("Add")
        add.clicked.connect(lambda: self.add_class())
        rename = QtWidgets.QPushButton("Rename")
        rename.clicked.connect(lambda: self.rename_class())
        delete = QtWidgets.QPushButton("Delete")
        delete.clicked.connect(lambda: self.delete_class())
        class_buttons = QtWidgets.QHBoxLayout()
        colour = QtWidgets.QPushButton("Colour")
        colour.setToolTip("Pick the class's colour (list, monitor, dataset, plots)")
        colour.clicked.connect(lambda: self.recolour_class())
        for b in (add, rename, colour, delete):
            class_buttons.addWidget(b)
        self.record_button = QtWidgets.QPushButton("● Record  (space)")
        self.record_button.setCheckable(True)
        self.record_button.setMinimumHeight(48)
        self.record_button.clicked.connect(lambda checked: self.toggle_recording())
        self.count_in = QtWidgets.QSpinBox(suffix=" s count-in")
        self.count_in.setRange(0, 5)
        self.take_length = QtWidgets.QDoubleSpinBox(suffix=" s takes")
        self.take_length.setRange(0.0, 30.0)
        self.take_length.setSpecialValueText("takes: until stopped")
        for box in (self.count_in, self.take_length):  # set one, then Space records
            let_space_record(box)
        self.auto_train = QtWidgets.QCheckBox("retrain after each take")
        self.auto_train.setChecked(True)
        self.train_button = QtWidgets.QPushButton("Train now")
        self.train_button.clicked.connect(self._train_clicked)
        self.run_button = QtWidgets.QPushButton("Run")
        self.run_button.setCheckable(True)
        self.run_button.clicked.connect(self._run_clicked)
        self.train_status = QtWidgets.QLabel("not trained")
        self.train_status.setWordWrap(True)
        #: what the background model search (gm.auto) chose, and its CV score
        self.search_status = QtWidgets.QLabel("")
        self.search_status.setWordWrap(True)
        self.sensor_status = QtWidgets.QLabel("")
        self.sensor_status.setWordWrap(True)
        left = QtWidgets.QWidget()
        lv = QtWidgets.QVBoxLayout(left)
        lv.addWidget(QtWidgets.QLabel("<b>Classes</b>"))
        lv.addWidget(self.classes, 1)
        lv.addLayout(class_buttons)
        self.targets = TargetsPanel(self.engine_command)  # regression: targets while recording
        lv.addWidget(self.targets)
        lv.addSpacing(8)
        lv.addWidget(self.record_button)
        lv.addWidget(self.count_in)
        lv.addWidget(self.take_length)
        lv.addWidget(self.auto_train)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.train_button)
        row.addWidget(self.run_button)
        lv.addLayout(row)
        lv.addWidget(self.train_status)
        lv.addWidget(self.search_status)
        lv.addSpacing(8)
        lv.addWidget(QtWidgets.QLabel("<b>Sensor</b>"))
        lv.addWidget(self.sensor_status)
        self.plot_features = QtWidgets.QCheckBox("plot the features (pipeline output)")
        lv.addWidget(self.plot_features)
        left.setMinimumWidth(230)
        left.setMaximumWidth(300)
        # centre: tabs
        self.pad = MousePad(lambda frame: self.engine.queue.put(frame))
        self.plot = SignalPlot()
        # the gestures spotted (with spotting on), on the plot's time axis
        self.timeline = EventTimeline(self.plot.seconds)
        self.timeline.setXLink(self.plot)
        live = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        live.addWidget(self.pad)
        live.addWidget(self.plot)
        live.addWidget(self.timeline)
        live.setSizes([420, 260, 54])
        self.dataset = DatasetBrowser(self.engine_command, self.undo_stack, self._takes_edited)
        self.dataset.take_selected.connect(self._overlay_take)
        self.sensor_panel = SensorPanel(self.set_sensor_settings)
        self.model_panel = ModelPanel(self.set_model_settings)
        self.outputs_panel = OutputsPanel(self.set_output_settings)
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.addTab(live, "Live")
        self.tabs.addTab(self.dataset, "Dataset")
        self.quality = QualityPanel()
        self.quality.take_clicked.connect(self._quality_take_clicked)
        self.tabs.addTab(self.quality, "Quality")
        self.tabs.currentChanged.connect(
            lambda _: self._initial_review() if self.tabs.currentWidget() is self.quality
            else None)
        # the rehearsal audit: false triggers on ordinary movement, thresholds within a budget
        self.rehearsal = RehearsalPanel()
        self._connect_rehearsal()
        self.tabs.addTab(self.rehearsal, "Rehearsal")
        self.tabs.addTab(self.model_panel, "Model")
        self.tabs.addTab(self.outputs_panel, "Outputs")
        self.synth_panel = SynthPanel(self.set_synth_mapping)
        self.tabs.addTab(self.synth_panel, "Synth")
        self.audio_light = QtWidgets.QLabel("audio: —")
        self.statusBar().addPermanentWidget(self.audio_light)
        self.tabs.addTab(self.sensor_panel, "Sensor")
        # right: monitor
        self.monitor = Monitor(threshold_control=True)
        self.monitor.threshold_changed.connect(self.set_rejection_threshold)
        self.monitor.setMinimumWidth(300)
        self.why = WhyStrip(self.correct_last_gesture)
        self.distinct = DistinctMeter()  # the vocabulary guide, while a take is recorded
        right = QtWidgets.QWidget()
        rv = QtWidgets.QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addWidget(self.monitor, 1)
        rv.addWidget(self.distinct)
        rv.addWidget(self.why)
        splitter = QtWidgets.QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(self.tabs)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        # one minimum width whatever the page (the live plot's own minimum changes with the
        # page shown, and the splitter moved the tab bar sideways when switching tabs)
        self.tabs.setMinimumWidth(600)
        # at 1280 px the tabs get what the left column (at most 300 px) does not use
        splitter.setSizes([290, 690, 300])
        self.setCentralWidget(splitter)
        self._menus()

    def _menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self.recent_menu = QtWidgets.QMenu("Open &recent", self)
        self.recent_menu.setToolTipsVisible(True)  # (why a project is greyed)
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        for text, key, slot in (
            ("&New…", QtGui.QKeySequence.StandardKey.New, self.new_project_dialog),
            ("&Open…", QtGui.QKeySequence.StandardKey.Open, self.open_dialog),
            ("&Save", QtGui.QKeySequence.StandardKey.Save, self.save),
            ("Save &as…", QtGui.QKeySequence.StandardKey.SaveAs, self.save_as_dialog),
            ("&Quit", QtGui.QKeySequence.StandardKey.Quit, self.close),
        ):
            action = file.addAction(text)
            # every binding of the platform (Redo is Ctrl+Y and Ctrl+Shift+Z on Linux; one
            # shortcut kept only the first); Quit has none on some platforms: Ctrl+Q there
            bindings = QtGui.QKeySequence.keyBindings(key)
            if not bindings and text == "&Quit":
                bindings = [QtGui.QKeySequence("Ctrl+Q")]
            action.setShortcuts(bindings)
            action.triggered.connect(slot)
            if text == "&Open…":
                file.addMenu(self.recent_menu)
        edit = bar.addMenu("&Edit")
        undo = self.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcuts(QtGui.QKeySequence.StandardKey.Undo)
        redo = self.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcuts(QtGui.QKeySequence.StandardKey.Redo)
        edit.addAction(undo)
        edit.addAction(redo)
        view = bar.addMenu("&View")
        stage = view.addAction("&Stage view")
        stage.setShortcut(QtGui.QKeySequence("F11"))
        stage.triggered.connect(self.show_stage)
        # the project's scenes: Ctrl+1..Ctrl+9 recall the first nine from anywhere in the
        # window, as a program change or /gesturemap/scene does on stage
        self.scenes_menu = bar.addMenu("S&cenes")
        self.scenes_menu.aboutToShow.connect(self._fill_scenes)
        self.scene_shortcuts = []
        for index in range(9):
            shortcut = QtGui.QShortcut(QtGui.QKeySequence(f"Ctrl+{index + 1}"), self)
            shortcut.setContext(QtCore.Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(lambda i=index: self.recall_scene(i))
            self.scene_shortcuts.append(shortcut)
        self._fill_scenes()
        # space records from anywhere in the window: hands stay on the sensor
        self.record_shortcut, *self.reset_shortcuts = self._performance_keys(self)
        # "that was X": the last gesture was the class picked on the left
        self.correct_shortcut = QtGui.QShortcut(QtGui.QKeySequence("C"), self)
        self.correct_shortcut.setContext(QtCore.Qt.ShortcutContext.WindowShortcut)
        self.correct_shortcut.activated.connect(self.correct_last_gesture)
        self._fill_recent()

    def _performance_keys(self, window: QtWidgets.QWidget) -> list[QtGui.QShortcut]:
        """Space records; F5 and PageDown (what page-turner pedals send) reset the model's
        stream as a gesture starts. Made for the main window and again for the stage view:
        that is a window of its own, and a shortcut fires only while its own window is in
        front, so on stage a pedal did nothing."""
        keys = [("Space", self.toggle_recording)] + [(k, self.reset_stream) for k in RESET_KEYS]
        shortcuts = []
        for key, slot in keys:
            shortcut = QtGui.QShortcut(QtGui.QKeySequence(key), window)
            shortcut.setContext(QtCore.Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)
            shortcuts.append(shortcut)
        return shortcuts

    # -- scenes ---------------------------------------------------------------------------------
    def scene_names(self) -> list[str]:
        """The names of the scenes the engine can recall (those of the project it opened)."""
        stats = self.engine.stats() if self.engine is not None else {}
        return list((stats.get("scenes") or {}).get("names") or [])

    def recall_scene(self, which: int | str) -> bool:
        """Recall a scene (its index from 0, or its name) on the engine, with the project's
        crossfade; False when the project has no such scene (nothing sent)."""
        names = self.scene_names()
        name = names[which] if isinstance(which, int) and 0 <= which < len(names) else which
        if self.engine is None or name not in names:
            self.statusBar().showMessage(
                "no scene there: save scenes with gesturemap scene DIR save NAME", 4000)
            return False
        self.engine.command("scene", name)
        self.statusBar().showMessage(f"scene {name}", 3000)
        return True

    def _fill_scenes(self) -> None:
        """The Scenes menu, as the menu opens: one entry per scene, the one playing checked."""
        menu = self.scenes_menu
        menu.clear()
        names = self.scene_names()
        stats = self.engine.stats() if self.engine is not None else {}
        # the scene whose model plays, not the last recalled: a model trained since is the
        # project's own mapping, and no scene plays
        current = (stats.get("scenes") or {}).get("playing")
        for index, name in enumerate(names):
            action = menu.addAction(f"&{index + 1}  {name}" if index < 9 else name)
            action.setCheckable(True)
            action.setChecked(name == current)
            if index < 9:
                action.setShortcut(QtGui.QKeySequence(f"Ctrl+{index + 1}"))
                # the window's own shortcuts recall it: the menu's would take the key twice
                action.setShortcutContext(QtCore.Qt.ShortcutContext.WidgetShortcut)
            action.triggered.connect(lambda _checked=False, n=name: self.recall_scene(n))
        if not names:
            none = menu.addAction("no scenes: gesturemap scene DIR save NAME")
            none.setEnabled(False)

    # -- the engine -----------------------------------------------------------------------------
    def _open_engine(self, project: Project, drawing: bool = False) -> None:
        """Start an engine on ``project`` and show it. ``drawing``: the window goes on
        drawing while the engine process starts (a spawn and its imports take seconds) and
        says it is opening. Raises when the engine cannot start; :attr:`engine` is then
        still the one before."""
        self._opened += 1
        self.quality.clear()
        self.why.reset()  # the project before's decision and takes are not this one's
        self.distinct.reset()
        self._clear_rehearsal()
        self._reviewed_trainings = 0  # a new engine has trained none
        # a take, a count-in or a training of the engine before are none of this one's: the
        # window neither waits for them nor starts a take here when a count-in ends
        self._end_recording_state()
        self._train_sent = None
        self._stop_sent = None
        if self.folder is None and self.autosave_dir is None:
            self.autosave_dir = Path(tempfile.mkdtemp(prefix="gesturemap-untitled-"))
        folder = self.folder or self.autosave_dir
        first = self._first_pick(project)
        if self._engine_mode == "process":
            # painting never delays the real-time path: the engine has its own process
            engine: Any = EngineProcess(
                project,
                project_dir=folder,
                osc_in=self._osc_in,
                trainer=self._trainer,
                audio=self._audio,
                label=first,
            )
        else:
            engine = WindowEngine(
                project, project_dir=folder, osc_in=self._osc_in, trainer=self._trainer
            )
        if drawing:
            self._in_background("opening the project…", engine.start)
        else:
            engine.start()
        self.engine = engine
        self._engine_started = True
        self._record_commands_sent = 0  # a new engine has applied none
        # the engine process starts with the first pick current: sent again, it could undo a
        # class a sensor set over OSC (Wekinator's outputs) in the meantime
        self._label_sent = None if self._engine_mode != "process" or first is None else str(first)
        if self._engine_mode != "process" and not (folder / "project.json").exists():
            self.engine.command("save", folder)
        self._saved_edits = 0
        self.undo_stack.clear()
        self.plot.set_channels(
            project.input_names or [f"in{i + 1}" for i in range(project.input_dim or 0)]
        )
        self.model_panel.show_settings(project.model)
        self.outputs_panel.show_settings(project.outputs)
        self.audio_error = getattr(self.engine, "audio_error", None)
        self.synth_panel.show_mapping(
            (project.outputs or {}).get("synth"),
            project.classes,
            len(project.output_names or []),
            folder,
            (project.model or {}).get("kind"),
            self.synth_panel.ranges_of(project),
        )
        self._train_count = 0
        self._refresh_classes()
        self.run_button.setChecked(self.engine.running)
        self.train_status.setText("trained model loaded" if self.engine.model is not None
                                  else "not trained")
        self._update_title()
        if self.folder is not None:
            self._remember_recent(self.folder)
        if self.engine.model is not None and self.project.takes:
            # a project opened trained: reviewed when its Quality tab is first shown, or a
            # little later (the worker's start-up costs CPU: not while the window opens)
            QtCore.QTimer.singleShot(INITIAL_REVIEW_MS, self, self._initial_review)

    def _in_background(self, doing: str, job: Callable[[], Any]) -> None:
        """Run ``job`` (an engine's start or stop) on a worker thread while the window goes
        on drawing, saying what it is ``doing``; raise what ``job`` raised.

        The window's timers and repaints go on (the system never calls it "not responding");
        the user's clicks and keys wait until the job is done, so none reaches an engine that
        is stopping or not yet running.
        """
        done, errors = threading.Event(), []

        def run() -> None:
            try:
                job()
            except BaseException as exc:  # raised again on the window's thread
                errors.append(exc)
            finally:
                done.set()

        self._switching = doing
        self.monitor.caption.setText(doing)
        self.train_status.setText(doing)
        QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.CursorShape.BusyCursor)
        threading.Thread(target=run, name="gesturemap-open", daemon=True).start()
        try:
            # no timeout of its own: an engine's start and stop have theirs
            wait_drawing(done, float("inf"))
        finally:
            QtWidgets.QApplication.restoreOverrideCursor()
            self._switching = None
        if self._close_when_switched:  # closed meanwhile: now that an engine is whole
            self._close_when_switched = False
            QtCore.QTimer.singleShot(0, self, self.close)
        if errors:
            raise errors[0]

    def engine_command(self, name: str, *args: Any) -> None:
        """Send a command to the engine (never blocks)."""
        self.engine.command(name, *args)

    @property
    def project(self) -> Project:
        return self.engine.project

    @property
    def modified(self) -> bool:
        """Changes since the last save (or an untitled project with takes or edits)."""
        if self.folder is None:
            return bool(self.project.takes) or self.engine.edits > 0
        return self.engine.edits != self._saved_edits

    # -- classes --------------------------------------------------------------------------------
    def _refresh_classes(self) -> None:
        classes = [str(c) for c in self.project.classes]
        current = self.current_class()
        if [self.classes.item(i).text() for i in range(self.classes.count())] != classes:
            self.classes.blockSignals(True)
            self.classes.clear()
            for i, name in enumerate(classes):
                item = QtWidgets.QListWidgetItem(name)
                item.setForeground(class_colour(i))
                self.classes.addItem(item)
            self.classes.blockSignals(False)
            row = classes.index(current) if current in classes else (0 if classes else -1)
            self.classes.setCurrentRow(row)
        self._class_picked(self.classes.currentRow())

    def _first_pick(self, project: Project) -> Any:
        """The class a newly opened project shows picked (the one it had, else the first)."""
        current = self.current_class() if hasattr(self, "classes") else None
        for c in project.classes:
            if str(c) == current:
                return c
        return project.classes[0] if project.classes else None

    def current_class(self) -> str | None:
        item = self.classes.currentItem()
        return item.text() if item is not None else None

    def _label(self, text: str) -> Any:
        """The label as the project stores it (an int in a project of numbered classes)."""
        for c in self.project.classes:
            if str(c) == text:
                return c
        if self.project.classes and isinstance(self.project.classes[0], int):
            return int(text)
        return text

    def _numbered_name(self, text: str) -> str | None:
        """A new class name as a project of numbered classes (Wekinator's) takes it: the
        number as it is shown ("04" → "4"); None (said in the status bar) when it is not a
        whole number. Other projects take any name."""
        if not (self.project.classes and isinstance(self.project.classes[0], int)):
            return text
        try:
            return str(int(text))
        except ValueError:
            self.statusBar().showMessage(
                f"{text!r}: this project's classes are numbers (as Wekinator's): name the "
                "class by a whole number", 10000)
            return None

    def _class_picked(self, row: int) -> None:
        text = self.current_class()
        # only a change is sent: a class set over OSC (Wekinator's outputs) is not overridden
        if text is not None and text != self._label_sent:
            self._label_sent = text
            self.engine_command("set_label", self._label(text))

    def add_class(self, name: str | None = None) -> None:
        """Add a class (asks for its name unless given) and pick it for recording."""
        if name is None:
            name, ok = QtWidgets.QInputDialog.getText(self, "Add a class", "name:")
            if not ok:
                return
        name = self._numbered_name(name.strip()) if name.strip() else None
        if not name:
            return
        if name in [str(c) for c in self.project.classes]:  # picked, as if it were new
            self.classes.setCurrentRow([str(c) for c in self.project.classes].index(name))
            self.statusBar().showMessage(f"there is a class {name!r} already: picked", 6000)
            return
        self.engine_command("add_class", self._label(name))
        self._pending_pick = name
        self.statusBar().showMessage(f"class {name!r} added", 4000)  # (a refusal before: gone)

    def rename_class(self, old: str | None = None, new: str | None = None) -> None:
        old = old or self.current_class()
        if old is None:
            return
        if new is None:
            new, ok = QtWidgets.QInputDialog.getText(self, "Rename the class", "name:", text=old)
            if not ok:
                return
        new = self._numbered_name(new.strip()) if new.strip() else None
        if new is None:
            return
        if new != old and new in [str(c) for c in self.project.classes]:
            self.statusBar().showMessage(
                f"not renamed: there is a class {new!r} already; choose another name", 10000)
            return
        if new and new != old:  # Ctrl+Z gives the old name back
            self.undo_stack.push(RenameClass(self.engine_command, self._label(old),
                                             self._label(new), self._class_renamed))
            # a refusal of an earlier try stayed on the status bar, beside the new name
            self.statusBar().showMessage(f"{old!r} renamed {new!r} (Ctrl+Z undoes)", 4000)

    def _class_renamed(self, old: str, new: str) -> None:
        """A class renamed (or renamed back by Undo): picked, and the model retrained."""
        if self._recording_class == old:  # the take under way is of the class renamed
            self._recording_class = new
        self._pending_pick = new
        self._takes_edited()

    def delete_class(self, name: str | None = None, confirm: bool = True) -> None:
        name = name or self.current_class()
        if name is None:
            return
        ids = [t.id for t in self.project.takes if str(t.label) == name]
        n = len(ids)
        # the take being recorded is of it: dropped with it (the engine stops recording)
        recorded = self._record_started is not None and self._recording_class == name
        if (
            confirm
            and (n or recorded)
            and QtWidgets.QMessageBox.question(
                self, "Delete the class",
                f"Delete {name!r} and its {n} takes"
                + (", and drop the take being recorded?" if recorded else "?"),
            )
            != QtWidgets.QMessageBox.StandardButton.Yes
        ):
            return
        if recorded:
            self._end_recording_state()
        # Ctrl+Z brings the class back with its takes (the take being recorded stays dropped)
        names = [str(c) for c in self.project.classes]
        index = names.index(name) if name in names else None
        self.undo_stack.push(DeleteClass(self.engine_command, self._label(name), ids,
                                         self._takes_edited, index))

    # -- recording ------------------------------------------------------------------------------
    def reset_stream(self) -> None:
        """A gesture starts now: the engine resets the model's stream (as OSC
        /gesturemap/reset does)."""
        self.engine.command("reset")

    def toggle_recording(self) -> None:
        """Start a take (after the count-in) or stop the one going on."""
        if self._engine_recording() or self._record_started is not None or self._count_in_left:
            self.stop_recording()
        else:
            self.start_recording()

    def _engine_recording(self) -> bool:
        """Whether the engine records, as far as the window can know: the engine's state (a
        take may start from OSC or a pedal), unless that state predates a start or stop the
        window sent (a Space pressed again right after a stop, before the engine published
        it): then the window's own."""
        engine = self.engine
        if engine.record_commands < self._record_commands_sent:
            return self._record_started is not None
        return bool(engine.recording)

    def start_recording(self) -> None:
        if self.rehearsal.record.isChecked():  # Space by habit, in the middle of a rehearsal
            # its frames never become a take (a take would retrain the model it audits)
            self.train_status.setText("not recorded: a rehearsal is being recorded, and its "
                                      "frames never become a take; stop it first (Rehearsal "
                                      "tab)")
            self.record_button.setChecked(False)
            return
        label = self.current_class()
        if label is None and not self.project.output_names:  # a regression needs no class
            self.train_status.setText("add a class first")
            self.record_button.setChecked(False)
            return
        self.record_button.setChecked(True)
        self._recording_serial += 1
        if self.count_in.value() > 0:
            self._count_in_left = self.count_in.value()
            self._count_in_tick(self._recording_serial)
        else:
            self._begin_take(self._recording_serial)

    # the count-in's ticks and a fixed-length take's end are timers that outlive a Space
    # pressed meanwhile: each belongs to one press (its serial) and does nothing for another
    def _count_in_tick(self, serial: int) -> None:
        if not self._count_in_left or serial != self._recording_serial:
            return
        self.monitor.big.setText(str(self._count_in_left))
        self._count_in_left -= 1
        if self._count_in_left:
            QtCore.QTimer.singleShot(1000, self, lambda: self._count_in_tick(serial))
        else:
            QtCore.QTimer.singleShot(1000, self, lambda: self._begin_take(serial))

    def _begin_take(self, serial: int) -> None:
        if serial != self._recording_serial or not self.record_button.isChecked():
            return  # cancelled during the count-in
        # the take records the targets shown (they may have followed the model's outputs)
        self.targets.send_current()
        self._refused_line = None
        self._recording_class = self.current_class()
        self.engine_command("start_recording", self._label(self._recording_class or ""))
        self._record_commands_sent += 1
        self._record_started = time.perf_counter()
        self.pad.recording = True
        if self.take_length.value() > 0:
            QtCore.QTimer.singleShot(int(self.take_length.value() * 1000), self,
                                     lambda: self._fixed_length_end(serial))

    def _fixed_length_end(self, serial: int) -> None:
        if (serial == self._recording_serial and self._record_started is not None
                and self._engine_recording()):
            self.stop_recording()

    def stop_recording(self) -> None:
        """Stop the take going on (or the count-in), and retrain when the window retrains
        after each take."""
        started = self._record_started
        # a take begun elsewhere (a pedal, an OSC client's startRecording) stops here too
        elsewhere = started is None and not self._count_in_left and self._engine_recording()
        self._end_recording_state()
        if started is None and not elsewhere:
            return
        self._stop_sent = time.perf_counter()
        self._stops_refused = self._refused_count("stop_recording")
        self.engine_command("stop_recording")
        self._record_commands_sent += 1
        if self.auto_train.isChecked() or self._retrain_timer.isActive():
            self._retrain_timer.stop()  # (an edit's retrain, held for the take: this one)
            self.train()

    def _end_recording_state(self) -> None:
        """The window's side of a recording ends: no count-in, no take under way."""
        self._count_in_left = 0
        self._recording_serial += 1  # a count-in's or a fixed length's timer: for nothing now
        self._record_started = None
        self._recording_class = None
        self.record_button.setChecked(False)
        self.pad.recording = False

    # -- training and running -------------------------------------------------------------------
    def train(self) -> None:
        """Retrain now (off the real-time path); running goes on with the old model."""
        self._refused_line = None
        self._trains_sent += 1
        self._await_training(self._trains_sent)
        self.engine_command("train", self._trains_sent)
        self.train_status.setText("training…")

    def _await_training(self, token: int | None = None) -> None:
        """Watch for the training a command starts: done, failed, or refused (no takes…).
        ``token``: the one :meth:`train` sent its command with (None: a correction's)."""
        self._train_sent = time.perf_counter()
        self._awaited_token = token
        self._awaited_edit = None
        self._train_count = self.engine.trainings
        self._errors_at_train = self.engine.errors
        self._refused_at_train = dict(self.engine.stats().get("refused") or {})
        self._failures_seen = None  # what this training brings is said by _check_training

    def _refusal(self) -> tuple[str, str] | None:
        """A train or correct the engine refused since :meth:`_await_training`: (its name,
        why), or None."""
        stats = self.engine.stats()
        for name, (count, why) in (stats.get("refused") or {}).items():
            if name not in TRAINING_COMMANDS:  # the others are said on their own
                continue
            if count > (getattr(self, "_refused_at_train", {}).get(name) or (0, ""))[0]:
                if name == "train":  # the refusal of this training, not of one before it
                    # (the engine's counters come a moment late: one applied just before
                    # may be counted only now)
                    own = [w for t, w in stats.get("train_refusals") or []
                           if t == getattr(self, "_awaited_token", None)]
                    if not own:
                        continue
                    why = own[-1]
                return name, str(why).removeprefix(f"{name}: ")
        return None

    def _superseded_refusal(self, stats: dict[str, Any]) -> bool:
        """Whether the engine's last refused training is one the window asked for before
        its last Train (said no more: the training after it is what plays)."""
        refusals = stats.get("train_refusals") or []
        return bool(refusals) and refusals[-1][0] not in (None, self._trains_sent)

    def _takes_edited(self) -> None:
        if self.auto_train.isChecked():
            self._retrain_timer.start()  # one retrain after a burst of edits

    def _auto_retrain(self) -> None:
        if self._record_started is not None or self._engine_recording():
            # a retrain now would cut the take under way in two (the engine trains on the
            # take so far and records on into another, as Wekinator trains mid-recording):
            # asked again until the take ends, which retrains it all (or, a take stopped
            # elsewhere, the next look here does)
            self._retrain_timer.start()
            return
        if self.project.takes:
            self.train()

    def _train_clicked(self) -> None:
        """Train now; during a take, once it ends (a training now would cut it in two, as an
        edit's would: see _auto_retrain)."""
        if self._record_started is not None or self._engine_recording():
            self._retrain_timer.start()
            self.train_status.setText("trains once the take ends")
            return
        self.train()

    def _run_clicked(self, checked: bool) -> None:
        self.engine_command("start_running" if checked else "stop_running")

    def set_model_settings(self, settings: dict[str, Any]) -> None:
        self.engine_command("set_model_settings", settings)
        if self.project.takes:
            self._retrain_timer.stop()
            self._auto_retrain()  # (after the take under way, if one is)

    def set_synth_mapping(self, settings: dict[str, Any]) -> None:
        """Send the synth panel's mapping to the engine (saved, and played from now on)."""
        self.engine_command("set_synth_mapping", settings)

    def _update_audio(self) -> None:
        stats = self.engine.stats()
        # no synth by design: opened with --no-audio, or the engine on a thread of the window
        off = ("no-audio" if self._audio is False
               else "thread" if self._engine_mode == "thread" else False)
        self.synth_panel.show_audio(stats, self.audio_error, off)
        self.synth_panel.show_refusal(stats)
        state, detail = audio_light(stats, self.audio_error)
        no_synth = self._no_synth()
        if no_synth:
            detail = no_synth
        self.audio_light.setText(f"audio: {detail}" + (" (Synth tab: what to do)"
                                                        if self.audio_error else ""))
        self.audio_light.setToolTip(audio_advice(self.audio_error) if self.audio_error
                                    else self._no_audio_why() if no_synth else "")
        self.audio_light.setProperty("state", state)
        # the stage view's light, unless there is no synth (then it shows the OSC output)
        has_synth = "audio_callbacks" in stats or self.audio_error
        self._audio_state = (state, detail) if has_synth else None

    def _no_synth(self) -> str | None:
        """What the audio lights say when nothing can sound in this window by design (opened
        with --no-audio, or its engine on a thread of the window), else None."""
        if self._audio is False:
            return NO_AUDIO
        if self._engine_mode == "thread":
            return NO_SYNTH_IN_WINDOW
        return None

    def _no_audio_why(self) -> str:
        """The audio lights' tooltip when nothing can sound in this window by design."""
        out = self.engine.output.settings
        why = ("Opened with --no-audio: the built-in synth does not play." if self._audio is False
               else "The engine runs inside the window, which has no built-in synth: "
                    "nothing sounds here.")
        return (f"{why} The model's outputs still go out over OSC to {out.host}:{out.port} "
                "(and MIDI, if set up).")

    def set_output_settings(self, settings: dict[str, Any]) -> None:
        self.engine_command("set_output_settings", settings)
        self.outputs_panel.status.setText(f"sending to {settings['host']}:{settings['port']}")

    # -- the timer ------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the engine's latest state and redraw (30 times a second)."""
        if self._switching is not None:
            return  # one engine stopping, the next starting: neither is read meanwhile
        now = time.perf_counter()
        self._check_engine(now)
        engine = self.engine
        pick = getattr(self, "_pending_pick", None)
        self._refresh_classes()
        if pick is not None and pick in [str(c) for c in self.project.classes]:
            self.classes.setCurrentRow([str(c) for c in self.project.classes].index(pick))
            self._pending_pick = None
        times, values = self._plot_ring().latest(int(self.plot.seconds * 200))
        if len(times):
            self.plot.show_frames(times, values, now, self._record_started)
        try:  # an engine thread may append meanwhile: then show them at the next refresh
            events = tuple(getattr(engine, "recent_events", ()))
            self.timeline.show_events(events, now, getattr(engine, "events_spotted", 0),
                                      [str(c) for c in self.project.classes])
        except RuntimeError:
            pass
        self._check_training(now)
        model = engine.model
        self._labels = [str(lb) for lb in getattr(model, "labels_", None) or []]
        result = engine.last_result if engine.running else None
        self.monitor.show_result(result, self._labels)
        # with no result to show, why (on the stage view too): a project opened with its
        # model, the sensor not sending yet, said "not running: record a few takes, then
        # train" (or the last project's likelihood)
        idle = ("not running" if model is None else "stopped: press Run") if not engine.running \
            else WAITING_FOR_FRAMES if result is None else None
        if idle is not None:
            self.monitor.caption.setText(idle)
        if engine.recording:
            self.monitor.caption.setText(
                f"recording {self._recording_class or self.current_class()} — "
                f"{now - (self._record_started or now):.1f} s"
            )
        self.dataset.refresh(self.project)
        self._refresh_quality(now)
        self._refresh_rehearsal(now)
        self._refresh_controls(now)
        if now - self._rate_mark[0] >= 0.5:
            self._update_rate(now)
            self._update_audio()
        if self.stage is not None and self.stage.isVisible():
            self.stage.monitor.show_result(result, self._labels)
            if idle is not None:
                self.stage.monitor.caption.setText(idle)
            self._update_lights(now)
        self._update_title()

    def _refused_count(self, name: str) -> int:
        return int(((self.engine.stats().get("refused") or {}).get(name) or (0, ""))[0])

    def _check_stop_refused(self) -> bool:
        """Whether the take just stopped was refused (no frame came): said on the training
        line whenever the refusal comes, before or after the training that followed it,
        which then is not awaited (it trained on the takes there were)."""
        if self._stops_refused is None:
            return False
        count, why = (self.engine.stats().get("refused") or {}).get("stop_recording") or (0, "")
        if count <= self._stops_refused:
            return False
        self._stops_refused = None
        self._train_sent = self._stop_sent = None
        self._refused_line = refusal_line("stop_recording", why)
        self.train_status.setText(self._refused_line)
        return True

    def _check_training(self, now: float) -> None:
        engine = self.engine
        if self._check_stop_refused():
            return
        if self._train_sent is None:
            # once a model plays, its "trained in" line stays: the preparation that goes on
            # behind it (a first start) is no longer what the performer waits for
            if engine.model is None:
                self._show_preparation(engine.training_progress)
            return
        if engine.trainings > self._train_count:
            self._train_sent = None
            self.last_train_ms = engine.last_train_ms
            text = f"trained in {self.last_train_ms:.0f} ms"
            if self._stop_sent is not None:
                # the first frame after the swap runs the new model: this is what a performer
                # waits for between the end of a take and the new model answering
                self.last_stop_to_running_ms = (now - self._stop_sent) * 1e3
                text += f" · take → new model {self.last_stop_to_running_ms:.0f} ms"
                self._stop_sent = None
            # what the training warned about (e.g. a GVF class's uneven takes), one per line
            text += "".join(f"\n⚠ {w}" for w in getattr(engine, "train_warnings", ()))
            self.train_status.setText(text)
            self._request_review()
            self.model_panel.cost.setText(f"retrain time: {self.last_train_ms:.0f} ms")
            spotting = (engine.project.model or {}).get("spotting") or {}  # a retrain may drop
            self.model_panel.spotting.show_verifier(  # a verifier that no longer fits
                spotting.get("verifier"), engine.stats().get("verifier_removed"))
            self.model_panel.spotting.show_detector(  # likewise a detector
                spotting.get("detector"), engine.stats().get("detector_removed"))
            if not engine.running:
                engine.command("start_running")
            self.run_button.setChecked(True)
        elif (refused := self._refusal()) is not None:
            self._train_sent = None
            if refused[0] == "correct":
                self._correction_refused()
            self._refused_line = (("nothing to correct: " if refused[0] == "correct"
                                   else "not trained: ") + refused[1]
                                  + ("\nthe last model plays on" if engine.model else ""))
            self.train_status.setText(self._refused_line)
        elif self._awaited_edit and engine.model is None and not self.project.takes:
            # the project's only take undone: the engine dropped the model, trains nothing
            self._train_sent = None
            self.train_status.setText(f"{self._awaited_edit}: no takes left, so no model")
        elif engine.errors > self._errors_at_train and now - self._train_sent > 0.2:
            self._train_sent = None
            self.train_status.setText("training failed (see the log); the old model runs on")
        else:
            progress = engine.training_progress
            done = f"{progress[0]:.0%} ({progress[1]}) · " if progress else ""
            if progress and progress[1].startswith(PREPARING):  # the take waits for it
                done = f"{progress[1]} · "
            self.train_status.setText(f"training… {done}{(now - self._train_sent) * 1e3:.0f} ms")

    def _show_preparation(self, progress: tuple[float, str] | None) -> None:
        """Before any training: what the training process is doing on a machine's first start
        (compiling the project's kernels), and that it is ready once it is done."""
        preparing = progress is not None and progress[1].startswith(PREPARING)
        # a refusal said meanwhile (a take with no frame, Train with no take) stays under the
        # progress: replaced by it at the next tick, it was never read
        refused = self._refused_line
        if preparing:
            self._preparation_shown = True
            self.train_status.setText(progress[1] + (f"\n{refused}" if refused else ""))
        elif getattr(self, "_preparation_shown", False):
            self._preparation_shown = False
            self.train_status.setText(refused or "ready: record a take")

    def _update_rate(self, now: float) -> None:
        t0, n0 = self._rate_mark
        frames = self.engine.frames_in
        self._rate_hz = (frames - n0) / (now - t0)
        self._rate_mark = (now, frames)
        s = self.engine.stats()
        self._check_failures(s)
        self.search_status.setText(search_text(s.get("search"), s.get("resets")))
        self.sensor_status.setText(
            f"{'mouse pad' if self.pad.active else 'no pad'}"
            f"{' + OSC :' + str(self.engine.osc_port) if self.engine.osc_port else ''}\n"
            f"{self._rate_hz:.0f} frames/s · dropped {s['dropped_frames']} · "
            f"bad {s['bad_packets']}{self._bad_now(s)}\n"
            f"step p50 {s['step_us_p50'] or 0:.0f} µs · latency p99 "
            f"{(s['latency_us_p99'] or 0) / 1e3:.2f} ms"
        )

    #: the sensors' count of bad packets at the last look
    _bad_seen = 0

    def _bad_now(self, stats: dict[str, Any]) -> str:
        """Why packets are refused, while they are (": refused a frame of 5 values; expected
        3" after a sensor's width changed), else nothing: the count alone, "bad 105", only
        the terminal said why, and the model sat on its last class."""
        sources = (stats.get("sources") or {}).values()
        bad = sum(int(src.get("bad_packets") or 0) for src in sources)
        seen, self._bad_seen = self._bad_seen, bad
        if bad < seen:  # another engine (a project opened): its counts start again
            seen = 0
        if bad <= seen:
            return ""
        why = [str(src["last_bad"]) for src in sources if src.get("last_bad")]
        return f" — {why[-1]}" if why else ""

    def _update_lights(self, now: float) -> None:
        assert self.stage is not None
        ring = self.engine.ring
        last = ring.times[(ring.count - 1) % ring.capacity] if ring.count else None
        if last is not None and now - last < SENSOR_TIMEOUT_S:
            self.stage.sensor.set_state("ok", f"{self._rate_hz:.0f} Hz")
        else:
            self.stage.sensor.set_state("bad", "no frames")
        if self.engine.running and self.engine.model is not None:
            self.stage.model.set_state("ok", f"{len(self._labels)} classes")
        else:
            self.stage.model.set_state("warn" if self.engine.model else "off", "not running")
        no_synth = self._no_synth()
        if no_synth:  # nothing sounds here, by design: grey, never green for OSC
            self.stage.audio.set_state("off", no_synth)
            self.stage.audio.setToolTip(self._no_audio_why())
            return
        if getattr(self, "_audio_state", None) is not None:  # the built-in synth
            self.stage.audio.set_state(*self._audio_state)
            return
        out = self.engine.output
        errors = getattr(out, "send_errors", 0)
        self.stage.audio.set_state(
            "ok" if not errors else "warn",
            f"OSC {out.settings.host}:{out.settings.port}"
            + (f" · {errors} errors" if errors else ""),
        )

    def _update_title(self) -> None:
        where = str(self.folder) if self.folder else "untitled"
        self.setWindowTitle(
            f"gesturemap — {self.project.name} ({where})" + (" *" if self.modified else "")
        )

    # -- stage view -----------------------------------------------------------------------------
    def show_stage(self, full_screen: bool = True) -> StageView:
        if self.stage is None:
            self.stage = StageView()
            self.stage_shortcuts = self._performance_keys(self.stage)
        if full_screen:
            self.stage.showFullScreen()
        else:
            self.stage.show()
        self._update_lights(time.perf_counter())
        return self.stage

    def _check_engine(self, now: float) -> None:
        """Restart an engine process that died (a crash in a library, killed by the system):
        it loads the project from its folder, where every completed take and edit was saved,
        and the performance goes on. A crash loop stops after a few restarts a minute."""
        if self._engine_mode != "process" or not self._engine_started or self.engine.alive:
            return
        recent = [t for t in self._restarts if now - t < 60.0]
        if len(recent) >= MAX_RESTARTS_PER_MINUTE:
            if not self._gave_up:
                self._gave_up = True
                self.train_status.setText(
                    "the engine keeps stopping: not restarted again (see the log); the "
                    "project's takes are saved in its folder"
                )
            return
        folder = self.folder or self.autosave_dir
        try:
            project, _ = self._read_drawing(folder)
            try:
                self._close_engine()
            except Exception:  # the dead process's last error: it is restarted anyway
                pass
            self._open_engine(project, drawing=True)  # the window draws on meanwhile
        except Exception as exc:
            self._restarts = [*recent, now]
            self.train_status.setText(f"the engine stopped and could not be restarted: {exc}")
            return
        self._restarts = [*recent, now]
        self.engine_restarts += 1
        self.train_status.setText(
            f"the engine stopped unexpectedly and was restarted ({self.engine_restarts}×); "
            "every completed take is kept"
        )

    def _close_engine(self, drawing: bool = False) -> None:
        """Stop the engine (it finishes its saves); ``drawing``: the window goes on drawing
        meanwhile (a process's stop takes up to a second)."""
        if self._engine_started:
            self.pad.stop()
            self._engine_started = False
            if drawing:
                self._in_background("closing the project…", self.engine.stop)
            else:
                self.engine.stop()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 - Qt's name
        if self._switching is not None:  # closed as soon as the engine under way is whole
            self._close_when_switched = True
            event.ignore()
            return
        if not self._maybe_save():
            event.ignore()
            return
        self._end_recording_state()  # a count-in under way begins no take once closed
        self.timer.stop()
        self.dataset.close_thumbnails()  # its thread ends before the window's objects go
        self.quality_worker.close()
        self._forget_second_progress()  # a training cut short leaves no file behind
        if self.rehearsal.record.isChecked():  # a rehearsal under way is kept, as a take is
            self.rehearsal.record.setChecked(False)
        self._close_engine()
        self._drop_discarded()  # an untitled project discarded as the window closes
        self.recent_projects.flush()  # the project just opened or saved is listed next time
        if self.stage is not None:
            self.stage.close()
        if self._collecting_here:  # (Qt may close a closed window again)
            self._collecting_here = False
            collect_as_before()
        super().closeEvent(event)
