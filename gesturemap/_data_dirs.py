"""The data folders shipped with gesturemap: sensor profiles and ready projects (presets)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["presets_dir", "sensors_dir"]

_PACKAGE_DIR = Path(__file__).resolve().parent


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
