"""The data folders shipped with gesturemap: sensor profiles, ready projects (presets) and
examples (patches that talk to ``gesturemap run``, a training set)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["examples_dir", "presets_dir", "sensors_dir"]

_PACKAGE_DIR = Path(__file__).resolve().parents[1]  # gesturemap/


def _data_dir(name: str) -> Path:
    """Find a data folder: inside the installed package, else at the source checkout's root."""
    installed = _PACKAGE_DIR / name
    if installed.is_dir():
        return installed
    checkout = _PACKAGE_DIR.parent / name
    if checkout.is_dir() and (checkout.parent / "pyproject.toml").is_file():
        return checkout
    raise FileNotFoundError(
        f"gesturemap's {name}/ folder is missing: looked in {installed} (installed package) "
        f"and {checkout} (source checkout). Reinstall gesturemap."
    )


def sensors_dir() -> Path:
    """The folder of sensor profiles shipped with gesturemap.

    Returns
    -------
    pathlib.Path
        ``gesturemap/sensors`` inside the installed package, or ``sensors/`` at the root of the
        source checkout when running from one (editable installs).

    Raises
    ------
    FileNotFoundError
        If neither exists (a broken installation).
    """
    return _data_dir("sensors")


def presets_dir() -> Path:
    """The folder of ready projects shipped with gesturemap.

    Returns
    -------
    pathlib.Path
        ``gesturemap/presets`` inside the installed package, or ``presets/`` at the root of the
        source checkout when running from one (editable installs).

    Raises
    ------
    FileNotFoundError
        If neither exists (a broken installation).
    """
    return _data_dir("presets")


def examples_dir() -> Path:
    """The folder of examples shipped with gesturemap: a Pure Data and a Max patch that talk
    to ``gesturemap run``, and a small XMM training set (``air-drums.xmm.json``).

    Returns
    -------
    pathlib.Path
        ``gesturemap/examples`` inside the installed package, or ``examples/`` at the root of
        the source checkout when running from one (editable installs).

    Raises
    ------
    FileNotFoundError
        If neither exists (a broken installation).

    Examples
    --------
    >>> import gesturemap as gm
    >>> ds = gm.Dataset.from_xmm(gm.examples_dir() / "air-drums.xmm.json")
    >>> ds.input_dim
    6
    """
    return _data_dir("examples")
