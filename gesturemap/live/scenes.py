"""Scenes on stage: recalling a project's named mappings between two frames, with a crossfade.

A recall (OSC ``/gesturemap/scene NAME`` or ``/gesturemap/scene INDEX``, a MIDI program
change, the window) swaps the engine's model, output route and synth mapping between two
frames, as a retrain's model is swapped in. Everything a recall needs is made ahead, off the
frame path, on the engine's I/O thread: each scene's model streams (its spotting stream, its
kernels loaded) and its OSC output. A stream is used by one recall only, then dropped: a
fresh one is prepared on the I/O thread behind it, so a stream still fading out is never the
one fading in (A -> B -> A within one fade).

During the crossfade (:attr:`Project.scene_fade_s`, default 0.5 s), both the old and the new
stream step on every frame (:class:`CrossfadeStream`): the class label, likelihoods and
events are the new mapping's at once, the regression output moves linearly from the old
mapping's to the new one's. The crossfading stream is not lean, so its frames take the plain
path (neither the lean reply nor the compiled one); when the fade ends the engine installs the
new stream itself, and those paths come back.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np

from ..errors import GesturemapError
from ..models.base import frame_dim
from ..outputs.osc import OSCOutput
from .compiled import pack
from .frame_path import model_stream

log = logging.getLogger("gesturemap.live.scenes")

__all__ = ["CrossfadeStream", "SceneCommands", "SceneRuntime"]

#: Streams kept ready per scene: one for the next recall, one for the recall after it while
#: the I/O thread prepares the next.
READY_STREAMS = 2


class CrossfadeStream:
    """Two model streams stepped together over ``fade_s`` seconds: the new one's results,
    with the regression output moving linearly from the old stream's to the new one's.

    ``on_done(self)`` is called once, from the first step at or past the fade's end (the
    engine then installs the new stream between two frames). Any other attribute is the new
    stream's (its labels, its spotter).

    ``clock`` gives the time of the frame being stepped (the engine's: the frame's own stamp):
    the fade starts at the first frame it steps and its weights follow the frames' times, not
    when the engine's thread got to them, so a replay of the session's log, stepping the same
    frames with the same times, fades through the very same values.
    """

    #: a crossfade builds a Result per frame: the plain path takes its frames
    lean = False

    def __init__(self, old: Any, new: Any, fade_s: float,
                 on_done: Callable[[CrossfadeStream], None],
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.old, self.new = old, new
        self.fade_s = float(fade_s)
        self._on_done = on_done
        self._clock = clock
        self._t0: float | None = None  # the first frame's time
        self.done = False

    def weight(self) -> float:
        """How far the fade is, 0 (the old mapping) .. 1 (the new one)."""
        if self.fade_s <= 0.0:
            return 1.0
        now = self._clock()
        if self._t0 is None:
            self._t0 = now
        return min(1.0, max(0.0, (now - self._t0) / self.fade_s))

    def step(self, frame: np.ndarray) -> Any:
        """One feature frame through both streams; the new stream's result, its ``output``
        the old one's and the new one's mixed by :meth:`weight`."""
        a = self.weight()
        if a >= 1.0:
            r = self.new.step(frame)
            if not self.done:
                self.done = True
                self._on_done(self)
            return r
        before = self.old.step(frame).output
        r = self.new.step(frame)
        after = r.output
        if before is None or after is None or np.shape(before) != np.shape(after):
            return r  # nothing continuous to fade between: the new mapping at once
        return dataclasses.replace(r, output=before + a * (after - before))

    def reset(self) -> None:
        self.old.reset()
        self.new.reset()

    def current(self) -> Any:
        return self.new.current()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.new, name)


class _Held:
    """The output a crossfade had reached when another recall came, held where it was: the
    next fade starts from it, so fades never nest (each would step every stream before it,
    and a controller re-sending scenes faster than they fade would stack them without end)."""

    def __init__(self, output: Any) -> None:
        self._result = SimpleNamespace(output=output)

    def step(self, frame: np.ndarray) -> Any:
        return self._result

    def reset(self) -> None:
        pass


def _output_key(settings: dict[str, Any]) -> str:
    return json.dumps(settings, sort_keys=True, default=str)


class SceneRuntime:
    """A running engine's scenes: what each recall needs, prepared on the I/O thread, and
    the recall itself (engine thread, between two frames).

    Parameters
    ----------
    engine : gesturemap.live.engine.Engine
    osc_out : (host, port) or None
        The engine's ``osc_out`` (the command line's ``--osc-out``): it routes every scene's
        outputs, as it routes the project's.
    """

    def __init__(self, engine: Any, osc_out: tuple[str, int] | None) -> None:
        self.engine = engine
        self._osc_out = osc_out
        #: scene name -> streams ready for its next recalls (engine thread takes, I/O refills)
        self._streams: dict[str, list[Any]] = {}
        #: output settings (JSON) -> its OSC output; the engine's own first
        self._outputs: dict[str, Any] = {}
        self._scenes: tuple[Any, ...] = ()
        self.ready = False
        #: the scene recalled last (None: the project as it was opened)
        self.current: str | None = None
        self.recalls = 0
        #: recalls of a scene the project does not have (refused)
        self.unknown = 0
        #: recalls whose stream was not ready: they wait for the I/O thread's next one (the
        #: last recall of a burst wins)
        self.cold_recalls = 0
        #: recalls of the scene already playing, with nothing to change (ignored)
        self.repeats = 0
        self._pending: str | None = None
        #: scene name -> why its synth mapping cannot play (a sound file missing): found on
        #: the I/O thread as the engine starts, said then, and its recalls refused
        self._unplayable: dict[str, str] = {}
        #: outputs the engine stopped sending on that a scene's route may still recall
        self._retired: list[Any] = []
        #: the project's scenes changed while the I/O thread was preparing them from the
        #: scenes as they were: followed as soon as those are taken (:meth:`take_ready`)
        self._changed_while_preparing = False

    # -- off the frame path -------------------------------------------------------------------
    def _route(self, outputs: dict[str, Any] | None) -> dict[str, Any]:
        settings = dict(outputs or {})
        if self._osc_out is not None:
            settings["host"], settings["port"] = self._osc_out[0], int(self._osc_out[1])
        return settings

    def _stream(self, scene: Any) -> Any:
        """A stream for a recall of ``scene`` (I/O thread), packed for the compiled path
        here: the recall, or the end of its fade, then installs it with no packing between
        two frames."""
        stream = model_stream(SimpleNamespace(model=scene.model), scene.trained, warm=True)
        pack(stream)
        return stream

    def prepare(self) -> None:
        """Every scene's streams and outputs (I/O thread); the engine takes them between two
        frames (``_scenes_ready``)."""
        engine = self.engine
        scenes = tuple(getattr(engine.project, "scenes", ()))
        own = self._route(getattr(engine.project, "outputs", None))
        outputs = {_output_key(own): engine.output}
        streams: dict[str, list[Any]] = {}
        if engine.synth is not None:
            self._unplayable = _unplayable(scenes, engine.synth.base_dir)
        for scene in scenes:
            streams[scene.name] = [self._stream(scene) for _ in range(READY_STREAMS)]
            key = _output_key(self._route(scene.outputs))
            if key not in outputs:
                outputs[key] = OSCOutput(self._route(scene.outputs))
        engine.command("_scenes_ready", scenes, streams, outputs)

    def refill(self, scene: Any) -> None:
        """Another stream for ``scene``'s next recall (I/O thread)."""
        stream = self._stream(scene)
        self.engine.command("_scene_stream", scene.name, stream, scene)

    def close(self) -> None:
        """Close the outputs made for scenes (the engine closes the one it sends on)."""
        for output in [*self._outputs.values(), *self._retired]:
            if output is not self.engine.output:
                output.close()

    def retire(self, output: Any) -> None:
        """``output`` is no longer the engine's (engine thread: the window's Outputs tab
        replaced it). Closed, unless a scene's route holds it, or the scenes are still being
        prepared with it: a recall of that scene sends on it again, and a closed output would
        fail every send of the rest of the show. Those close with the scenes."""
        preparing = not self.ready and bool(getattr(self.engine.project, "scenes", None))
        if preparing or any(o is output for o in self._outputs.values()):
            self._retired.append(output)
        else:
            output.close()

    # -- engine thread ------------------------------------------------------------------------
    def take_ready(self, scenes: tuple[Any, ...], streams: dict[str, list[Any]],
                   outputs: dict[str, Any]) -> None:
        self._scenes, self._streams, self._outputs = scenes, streams, outputs
        self.ready = True
        if self._changed_while_preparing:
            self._changed_while_preparing = False
            self.follow_project()
        for scene in scenes:  # said at the start, before the show, not at the first recall
            wrong = self._misfit(scene)
            if wrong is not None:
                self.engine._errlog(f"scene {scene.name}", "%s", wrong)
        if self._pending is not None:
            name, self._pending = self._pending, None
            self._recall_waiting(name)

    def add_stream(self, name: str, stream: Any, made_for: Any = None) -> None:
        """A stream made on the I/O thread (:meth:`refill`) for the scene ``made_for``, ready
        for a recall of ``name``; dropped, and another made, if that scene's model has been
        changed since (its classes renamed, its second opinions trained: :func:`_same_streams`):
        a recall must play the scene as it is now."""
        scene = next((s for s in self._scenes if s.name == name), None)
        if made_for is not None and scene is not None and not _same_streams(made_for, scene):
            self.engine._io.put(lambda: self.refill(scene))
            return
        ready = self._streams.get(name)
        if ready is not None and len(ready) < READY_STREAMS:
            ready.append(stream)
        if self._pending is not None and self._streams.get(self._pending):
            pending, self._pending = self._pending, None
            self._recall_waiting(pending)  # the recall that waited for this stream

    def add_outputs(self, outputs: dict[str, Any]) -> None:
        """Outputs made on the I/O thread for routes the scenes have now
        (:meth:`follow_project`); one made twice for a route is closed."""
        for key, output in outputs.items():
            if self._outputs.setdefault(key, output) is not output:
                output.close()

    def follow_project(self) -> None:
        """The project's scenes were changed in place (engine thread: a class renamed, or
        renamed back, relabels every scene that plays it, its per-class settings and the
        number its outputs send it as): the engine's copies follow, so that a recall plays
        the class by the name the window shows and the patch now listens for, not by the one
        the engine started with. Each changed scene's ready streams are made again on the
        I/O thread, after any output its new route needs (a recall meanwhile waits for them,
        as a recall faster than the I/O thread does). A scene playing plays on as loaded until
        it is recalled again or the model retrains, as the project's own model does after a
        rename."""
        if not self.ready:  # the I/O thread prepares the scenes as they were: follow after
            self._changed_while_preparing = True
            return
        engine = self.engine
        now = {s.name: s for s in getattr(engine.project, "scenes", ())}
        changed = [now[s.name] for s in self._scenes
                   if s.name in now and now[s.name].trained is not s.trained]
        if not changed:
            return
        names = {s.name for s in changed}
        self._scenes = tuple(now[s.name] if s.name in names else s for s in self._scenes)
        routes = {_output_key(self._route(s.outputs)): s.outputs for s in changed}
        missing = {k: o for k, o in routes.items() if k not in self._outputs}

        def make_outputs() -> None:  # I/O thread: opening a socket is off the frame path
            engine.command("_scene_outputs",
                           {k: OSCOutput(self._route(o)) for k, o in missing.items()})

        if missing:
            engine._io.put(make_outputs)
        for scene in changed:
            self._remake_streams(scene)

    def _remake_streams(self, scene: Any) -> None:
        """``scene``'s ready streams dropped and made again on the I/O thread (engine
        thread): its next recall waits for one."""
        self._streams[scene.name] = []
        for _ in range(READY_STREAMS):
            self.engine._io.put(lambda: self.refill(scene))

    def _recall_waiting(self, name: str) -> None:
        """The recall of ``name`` that waited for its streams: refused as a recall, if it is
        (under ``scene``, as the sender sent it, never under the command that made it ready)."""
        try:
            self.recall(name)
        except GesturemapError as exc:
            self.engine._refuse("scene", exc)

    def _misfit(self, scene: Any) -> str | None:
        """Why ``scene``'s model cannot take the project's feature frames (None: it can, or
        the frames' size is not known yet): every frame would fail in it. Or why its synth
        mapping cannot play: recalled, its model would run while the synth went on with the
        mapping before, an error counted in the middle of the show."""
        if scene.name in self._unplayable:
            return self._unplayable[scene.name]
        want = getattr(self.engine.path.state, "output_dim", None)
        got = frame_dim(scene.trained)
        if want is None or got == want:
            return None
        return (f"scene {scene.name!r} cannot be recalled: its model takes {got} values per "
                f"frame and the project's features give {want} (it was trained before the "
                "sensor or the features changed): train that mapping again and save it as the "
                "scene anew")

    def _find(self, which: Any) -> Any:
        """The scene ``which`` names (its name, or its 0-based index), else raise. A scene
        left out as the project opened keeps its index (the scenes after it keep theirs: a
        program change never recalls the section after the one meant), and is refused."""
        project = self.engine.project
        order = (project.scene_order() if hasattr(project, "scene_order")
                 else [(s.name, None) for s in getattr(project, "scenes", ())])
        names = [name for name, _ in order]
        if isinstance(which, float) and which.is_integer():
            which = int(which)
        found = None
        if isinstance(which, int) and not isinstance(which, bool):
            if 0 <= which < len(order):
                found = order[which]
        elif isinstance(which, str) and which in names:
            found = order[names.index(which)]
        if found is not None and found[1] is None:
            return found[0]
        self.unknown += 1
        if found is not None:
            raise GesturemapError(f"scene {found[0]!r} was left out as the project opened: "
                                  f"{found[1]:.300}")
        asked = "no scene named" if which is None else f"no scene {which!r:.60}"
        raise GesturemapError(f"{asked} (scenes: {', '.join(names) or 'none'}; "
                              "by name or by index from 0)")

    def recall(self, which: Any) -> None:
        """Recall the scene ``which`` (engine thread, between two frames): its stream fades in
        over the project's ``scene_fade_s``, its output route and synth mapping apply at once.

        Raises
        ------
        GesturemapError
            If the project has no such scene (counted in :attr:`unknown`).
        """
        name = self._find(which)
        if not self.ready:  # the I/O thread is still preparing: recalled as soon as it is done
            self._pending = name
            return
        scene = next((s for s in self._scenes if s.name == name), None)
        if scene is None:  # saved after the engine started: not prepared
            raise GesturemapError(f"scene {name!r} was saved after the engine started; "
                                  "restart to recall it")
        wrong = self._misfit(scene)
        if wrong is not None:  # refused: the mapping playing plays on, never a deaf engine
            raise GesturemapError(wrong)
        engine = self.engine
        if name == self.current and engine.model is scene.trained:
            self._pending = None  # a controller re-sending the scene it plays: nothing to do
            self.repeats += 1
            return
        ready = self._streams.setdefault(name, [])
        if not ready:  # recalled faster than the I/O thread prepares: never built here
            self.cold_recalls += 1
            self._pending = name
            return
        self._pending = None
        new = ready.pop(0)
        engine._io.put(lambda: self.refill(scene))
        old = engine.stream
        if isinstance(old, CrossfadeStream):  # mid-fade: the next fade starts where it is
            last = engine.last_result
            old = _Held(None if last is None else last.output)
        fade_s = float(getattr(engine.project, "scene_fade_s", 0.0))
        engine._mapping_changed(f"scene {name!r} was recalled")
        project = engine.project
        if hasattr(project, "play_scene"):  # its saves keep the project's own mapping
            project.play_scene(scene)
        else:
            project.model, project.outputs = scene.model, scene.outputs
        output = self._outputs.get(_output_key(self._route(scene.outputs)))
        if output is not None:
            wanted = float((scene.outputs or {}).get("reject_below", 0.0))
            if output.settings.reject_below != wanted:
                # the window's slider sets it in place, on an output scenes of the same
                # route share: each recall sends by its own scene's threshold
                output.settings = dataclasses.replace(output.settings, reject_below=wanted)
            engine.use_output(output)
        if old is not None and fade_s > 0 and engine.running:
            fader = CrossfadeStream(old, new, fade_s,
                                    lambda f: engine.command("_scene_faded", f),
                                    clock=lambda: engine.frame_t)
            engine._set_model(scene.trained, stream=fader)
        else:
            engine._set_model(scene.trained, stream=new)
        spotter = getattr(engine.stream, "spotter", None)
        if spotter is not None:  # thresholds and costs set for the scene since it was made
            try:
                engine._retune(spotter)
            except GesturemapError as exc:
                engine._count_error(exc, "scene spotting settings")
        synth = engine.synth
        if synth is not None:
            # none saved: the default for the scene's model (the synth follows its kind)
            mapping = (scene.outputs or {}).get("synth")
            engine._io.put(lambda: synth.set_mapping(mapping))
        self.current = name
        self.recalls += 1
        # the first input row the recalled mapping answers: where a replay recalls it too
        engine._log_event("scene", name=name, frame=engine._next_log_row())

    def _playing_scene(self) -> Any:
        """The scene whose model plays (:meth:`playing`), as the engine keeps it, or None."""
        name = self.playing()
        return next((s for s in self._scenes if s.name == name), None)

    def _keep(self, scene: Any, set_in_project: Callable[[str, Any], Any], value: Any,
              **changes: Any) -> Any:
        """``scene`` with ``changes``, set for the scene playing: in the engine's copy (its
        next recall plays them) and, by ``set_in_project(name, value)``, in the project
        (saved in its entry), unless the project's scene of that name is another one now.
        Returns the engine's new copy."""
        try:
            if self.engine.project.scene(scene.name).trained is scene.trained:
                set_in_project(scene.name, value)
        except KeyError:
            pass  # removed from the project meanwhile: only the engine's copy keeps them
        kept = dataclasses.replace(scene, **changes)
        self._scenes = tuple(kept if s is scene else s for s in self._scenes)
        return kept

    def spotting_set(self) -> None:
        """Spotting thresholds, costs or second opinions were set (engine thread:
        ``/gesturemap/costs``, a rehearsal's Apply, the second opinions trained in the
        Rehearsal tab) while the scene recalled last plays its own model: they are that
        scene's mapping's, so the scene keeps them (in the project, saved with it, and played
        by its next recall) instead of losing them at the next recall (a save writes the
        project's own mapping, not the scene's). The project as opened, or a model retrained
        since the recall, is no scene's: nothing is kept then."""
        engine = self.engine
        scene = self._playing_scene()
        if scene is None:
            return
        own = scene.model.get("spotting")
        if not isinstance(own, dict):
            return  # a scene without spotting: its streams spot nothing to retune
        playing = (engine.project.model or {}).get("spotting") or {}
        spotting = dict(own)
        for key in ("thresholds", "costs", "verifier", "detector"):  # what the engine sets
            if playing.get(key) is None:
                spotting.pop(key, None)
            else:
                spotting[key] = playing[key]
        kept = self._keep(scene, engine.project.set_scene_spotting, spotting,
                          model={**scene.model, "spotting": spotting})
        if not _same_streams(scene, kept):
            # a recall retunes thresholds and costs, but its ready streams spot without
            # new second opinions: made again on the I/O thread
            self._remake_streams(kept)

    def outputs_set(self) -> None:
        """The project's outputs were set (engine thread: the window's Outputs tab, its
        rejection slider, its Synth tab) while the scene recalled last plays its own model:
        the window showed that scene's outputs, so the edit is the scene's, as its spotting
        settings are (:meth:`spotting_set`): kept in the project, saved in its entry, and
        sent by its next recall, instead of lost at the next recall (a save writes the
        project's own mapping, not the scene's). The project as opened, or a model retrained
        since the recall, is no scene's: the edit is the project's own then."""
        engine = self.engine
        scene = self._playing_scene()
        outputs = engine.project.outputs
        if scene is None or outputs == scene.outputs:
            return
        self._keep(scene, engine.project.set_scene_outputs, outputs, outputs=outputs)
        # the output the edit made sends them now (made off the frame path, by the edit): the
        # scene's next recall sends on it again
        self._outputs.setdefault(_output_key(self._route(outputs)), engine.output)

    def faded(self, fader: Any) -> None:
        """The crossfade ``fader`` ended: its new stream runs alone (engine thread), unless
        another recall came since."""
        engine = self.engine
        if engine.path.stream is fader:
            engine.path.stream = fader.new  # the same stream goes on: no reset
            engine._build_wire()

    def playing(self) -> str | None:
        """The scene whose model plays (recalled, and no training has replaced its model
        since), else None: the project's own mapping plays."""
        scene = next((s for s in self._scenes if s.name == self.current), None)
        return None if scene is None or self.engine.model is not scene.trained else scene.name

    def stats(self) -> dict[str, Any]:
        return {"current": self.current, "playing": self.playing(),
                "names": [s.name for s in self._scenes],
                "recalls": self.recalls, "unknown": self.unknown,
                "cold_recalls": self.cold_recalls, "repeats": self.repeats,
                "pending": self._pending,
                "fading": isinstance(self.engine.path.stream, CrossfadeStream)}


class SceneCommands:
    """The engine's scene commands (mixed into :class:`gesturemap.live.engine.Engine`; run on
    the engine thread, between two frames), all handed to its :class:`SceneRuntime`."""

    scenes: SceneRuntime

    def _cmd_scene(self, which: Any = None) -> None:
        """``/gesturemap/scene NAME`` or ``INDEX``: recall a scene (one argument: a message
        with more, ``chorus verse``, is refused rather than read as its first)."""
        self.scenes.recall(which)

    def _cmd__scenes_ready(self, scenes: tuple[Any, ...], streams: dict[str, list[Any]],
                           outputs: dict[str, Any]) -> None:
        self.scenes.take_ready(scenes, streams, outputs)

    def _cmd__scene_stream(self, name: str, stream: Any, made_for: Any = None) -> None:
        self.scenes.add_stream(name, stream, made_for)

    def _cmd__scene_outputs(self, outputs: dict[str, Any]) -> None:
        self.scenes.add_outputs(outputs)

    def _cmd__scene_faded(self, fader: CrossfadeStream) -> None:
        self.scenes.faded(fader)


def _same_streams(made_for: Any, scene: Any) -> bool:
    """Whether a stream made for the scene ``made_for`` plays ``scene``: the same trained
    model and second opinions. Thresholds and costs need no new stream (a recall retunes its
    spotter): a controller's knob turning them while the scene plays must not keep the
    scene's next streams from ever being ready."""
    if made_for.trained is not scene.trained:
        return False
    before = (made_for.model or {}).get("spotting") or {}
    now = (scene.model or {}).get("spotting") or {}
    return all(before.get(k) is now.get(k) for k in ("verifier", "detector"))


def _unplayable(scenes: tuple[Any, ...], base_dir: Any) -> dict[str, str]:
    """Scene name -> why the synth cannot play its mapping (I/O thread: reads sound files'
    headers), for the scenes whose sounds are missing, unreadable or empty."""
    from ..synth.sounds import check_mapping_sounds

    wrong = {}
    for scene in scenes:
        try:
            check_mapping_sounds((scene.outputs or {}).get("synth") or {}, base_dir)
        except GesturemapError as exc:
            wrong[scene.name] = (f"scene {scene.name!r} cannot be recalled: its synth mapping "
                                 f"cannot play: {exc} Put the file back, or save the scene "
                                 "anew with another sound, and start again")
    return wrong
