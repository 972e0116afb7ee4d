"""Reading Wekinator's own files: its XML settings (no DTD, no entities: Wekinator never
writes them, and they are how an XML file reaches the network or grows without bound) and its
DTW examples. Every file goes through the one hardened reader (:mod:`gesturemap.utils.reading`)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from ...errors import FormatError
from ...utils.reading import MAX_IMPORT_BYTES, read_regular_file

#: The largest XML file of a Wekinator project read (its settings: a few kB).
MAX_XML_BYTES = 64 << 20

def read_xml(path: Path) -> ET.Element:
    raw = read_regular_file(path, max_bytes=MAX_XML_BYTES)
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
        raise FormatError(
            f"{path}: declares a DTD or entities, which Wekinator never writes; refused."
        )
    try:
        return ET.fromstring(raw)
    except ET.ParseError as error:
        raise FormatError(f"{path} is not a readable Wekinator XML file ({error}).") from None


def xml_text(element: ET.Element | None, tag: str, default: str | None = None) -> str | None:
    child = None if element is None else element.find(tag)
    if child is None:
        return default
    return child.text or ""


def xml_number(element: ET.Element, tag: str, default: float, where: str) -> float:
    text = xml_text(element, tag)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise FormatError(f"{where}: <{tag}> is {text!r}, not a number.") from None
    if not np.isfinite(value):
        raise FormatError(f"{where}: <{tag}> is {text!r}, not a finite number.")
    return value


def read_dtw_csv(path: Path, n_inputs: int, n_gestures: int) -> list[tuple[int, np.ndarray]]:
    """Wekinator's DTW examples: ``dims,gesture,f1[0],f2[0],...`` per line ('#' comments)."""
    examples = []
    # utf-8-sig: a byte-order mark (the file re-saved by a Windows editor) is not data
    text = read_regular_file(path, max_bytes=MAX_IMPORT_BYTES).decode("utf-8-sig",
                                                                       errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip().rstrip(",")
        if not line or line.startswith("#"):
            continue
        where = f"{path}, line {number}"
        try:
            values = [float(v) for v in line.split(",")]
        except ValueError:
            bad = next(i for i, v in enumerate(line.split(",")) if not _is_number(v))
            raise FormatError(f"{where}, column {bad + 1}: {line.split(',')[bad]!r} is not a "
                              "number.") from None
        if len(values) < 2 or values[0] != int(values[0]) or values[1] != int(values[1]):
            raise FormatError(f"{where}: expected the dimensions and the gesture number first.")
        dims, gesture = int(values[0]), int(values[1])
        frames = np.asarray(values[2:])
        if dims != n_inputs or frames.size == 0 or frames.size % dims:
            raise FormatError(
                f"{where}: {frames.size} values of {dims} dimensions; the "
                f"project has {n_inputs} inputs."
            )
        if not 1 <= gesture <= n_gestures:
            raise FormatError(f"{where}: gesture {gesture}; the project has {n_gestures}.")
        if not np.isfinite(frames).all():
            raise FormatError(f"{where}: a value is not finite.")
        examples.append((gesture, frames.reshape(-1, dims)))
    return examples


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
