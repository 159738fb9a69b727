"""Texts of the Help menu: the keyboard shortcuts and the About box with the model card."""

from __future__ import annotations

from html import escape

from mirabelle import __version__

SHORTCUTS = [
    ("Ctrl+O", "Open a cube (replaces the one shown; its flags are saved first)"),
    ("Ctrl+Q", "Quit"),
    ("Click / arrow keys", "Select a pixel / move the selection (Shift: 10 pixels)"),
    ("Scroll, drag", "Zoom, pan the image"),
    ("Home", "Show the whole image"),
    ("V", "Show or hide the map overlay"),
    ("1 … 7", "Overlay velocity, broadening, their errors, Hα SNR, Hα flux, double score"),
    ("0", "No overlay"),
    ("S", "Cycle the stretch (linear, sqrt, log, asinh)"),
    ("H", "Highlight high double-component score"),
    ("Ctrl+R", "Run the kinematics inference"),
    ("Shift+Esc", "Cancel the inference"),
    ("B, P, E", "Flag with the brush, polygon, eraser (again: stop)"),
    ("[ and ]", "Smaller / larger brush"),
    ("Ctrl+Z, Ctrl+Shift+Z", "Undo, redo flags"),
    ("Esc", "Cancel the polygon / leave flag mode"),
    ("Ctrl+E", "Export ORCS priors"),
    ("F1", "This list"),
]


def shortcuts_html() -> str:
    """The shortcut list as an HTML table."""
    rows = "".join(f"<tr><td><b>{escape(k)}</b></td><td>&nbsp;&nbsp;{escape(v)}</td></tr>" for k, v in SHORTCUTS)
    return f"<table>{rows}</table>"


def _metric(key: str, value) -> str:
    return f"{key} {value:.3g}" if isinstance(value, (int, float)) else f"{key} {value}"


def about_html(card: dict | None) -> str:
    """Version, purpose and the card of ``card`` (or of every shipped model when None)."""
    if card is None:
        try:
            from mirabelle.inference.model import available_models

            cards = available_models()
        except Exception:  # noqa: BLE001 - the About box must open whatever the models
            cards = []
    else:
        cards = [card]
    lines = [f"<h3>Mirabelle {__version__}</h3>",
             "<p>SITELLE spectral cubes, CNN kinematic priors for ORCS.</p>"]
    for c in cards:
        ranges = c.get("ranges") or {}
        metrics = (c.get("test") or {}).get("metrics", {}) or {}
        lines.append(
            f"<p><b>Model {escape(str(c.get('name', '?')))}</b> v{escape(str(c.get('version', '?')))} — "
            f"filter {escape(str(c.get('filter', '?')))}, resolution {c.get('resolution_range', '?')}<br>"
            f"velocity {ranges.get('velocity_kms', '?')} km/s, broadening {ranges.get('broadening_kms', '?')} km/s, "
            f"SNR {ranges.get('snr', '?')}<br>"
            f"trained on {(c.get('training') or {}).get('size', '?')} synthetic spectra; test: "
            f"{escape(', '.join(_metric(k, v) for k, v in metrics.items()) or '—')}<br>"
            f"sha256 {escape(str(c.get('onnx_sha256', '?'))[:16])}…</p>")
    if not cards:
        lines.append("<p>No kinematics model is installed.</p>")
    return "".join(lines)
