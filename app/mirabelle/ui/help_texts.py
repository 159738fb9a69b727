"""Texts of the Help menu: the keyboard shortcuts and the About box with the model card."""

from __future__ import annotations

from html import escape

from mirabelle import __version__

SHORTCUTS = [
    ("Ctrl+O", "Open a cube (replaces the one shown; its flags are saved first)"),
    ("Ctrl+Q", "Quit"),
    ("Click / arrow keys", "Select a pixel / move the selection (Shift: 10 pixels)"),
    ("Ctrl+drag", "Move the selection with the mouse (the spectrum follows)"),
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


MINUS = "\u2212"


def format_number(value, digits: int = 3) -> str:
    """A readable number: integers with thousands separators (200,000), others to ``digits``
    significant figures (2.54, 0.0251), a real minus sign; '—' for anything not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "—"
    if float(value).is_integer() and abs(value) < 1e15:
        text = f"{int(value):,}"
    else:
        text = f"{value:.{digits}g}"
    return text.replace("-", MINUS)


def format_range(values, unit: str = "", signed: bool = False) -> str:
    """``[lo, hi]`` as '4,400 – 5,400', or with ``signed`` '−800 … +800'; the unit after; '—' if absent."""
    if not isinstance(values, (list, tuple)) or len(values) != 2:
        return "—"
    lo, hi = (format_number(v) for v in values)
    if signed:
        lo, hi = (t if t.startswith((MINUS, "—")) or t == "0" else "+" + t for t in (lo, hi))
        text = f"{lo} … {hi}"
    else:
        text = f"{lo} – {hi}"
    return f"{text} {unit}".rstrip()


def _test_line(metrics: dict, quantity: str) -> str | None:
    """'RMSE 2.54 km/s, bias +0.03 km/s, 68 % within 1σ' from the card's ``<quantity>_*`` metrics."""
    parts = []
    if isinstance(metrics.get(f"{quantity}_rmse"), (int, float)):
        parts.append(f"RMSE {metrics[f'{quantity}_rmse']:.2f} km/s")
    if isinstance(metrics.get(f"{quantity}_bias"), (int, float)):
        parts.append(f"bias {metrics[f'{quantity}_bias']:+.2f} km/s".replace("-", MINUS))
    if isinstance(metrics.get(f"{quantity}_coverage"), (int, float)):
        parts.append(f"{100 * metrics[f'{quantity}_coverage']:.0f} % within 1σ")
    return ", ".join(parts) or None


def model_card_rows(card: dict) -> list[tuple[str, str]]:
    """The model card as (label, text) rows for people: ranges, set sizes, test metrics, hash."""
    ranges = card.get("ranges") or {}
    training = card.get("training") or {}
    test = card.get("test") or {}
    metrics = test.get("metrics") or {}
    rows = [
        ("Model", f"{card.get('name', '?')}, version {card.get('version', '?')}"),
        ("Filter", str(card.get("filter", "—"))),
        ("Resolving power", format_range(card.get("resolution_range"))),
        ("Velocity range", format_range(ranges.get("velocity_kms"), "km/s", signed=True)),
        ("Broadening range", format_range(ranges.get("broadening_kms"), "km/s")),
        ("Hα SNR range", format_range(ranges.get("snr"))),
    ]
    if training.get("size"):
        epochs = f", {format_number(training['epochs'])} epochs" if training.get("epochs") else ""
        rows.append(("Training set", f"{format_number(training['size'])} synthetic spectra{epochs}, "
                                     f"seed {training.get('seed', '?')}"))
    if test.get("size"):
        rows.append(("Test set", f"{format_number(test['size'])} held-out spectra, seed {test.get('seed', '?')}"))
    for quantity, label in (("velocity", "Velocity error"), ("broadening", "Broadening error")):
        line = _test_line(metrics, quantity)
        if line:
            rows.append((label, line))
    if card.get("onnx_sha256"):
        rows.append(("ONNX sha256", f"{str(card['onnx_sha256'])[:16]}…"))
    return rows


def about_html(card: dict | None) -> str:
    """Version, purpose and the card of ``card`` (or of every shipped model when None), as tables."""
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
        rows = "".join(f"<tr><td><b>{escape(label)}</b></td><td>&nbsp;&nbsp;{escape(text)}</td></tr>"
                       for label, text in model_card_rows(c))
        lines.append(f"<table>{rows}</table><br>")
    if not cards:
        lines.append("<p>No kinematics model is installed.</p>")
    return "".join(lines)
