"""A spin box for values of any magnitude: flux-calibrated cubes hold ~1e-17 erg/s/cm²/Å, where a
QDoubleSpinBox with fixed decimals shows (and stores) 0.000 and takes no typed limit."""

from __future__ import annotations

import math

from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDoubleSpinBox, QWidget

SIGNIFICANT = 4
"""Significant digits shown."""
MAX_DECIMALS = 323
"""QDoubleSpinBox rounds every value to ``decimals``; 323 (its maximum) keeps any double."""


def format_number(value: float, significant: int = SIGNIFICANT) -> str:
    """``value`` in ``significant`` digits: plain for 0.001 ≤ |v| < 1e6, scientific otherwise."""
    if not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e6:  # fixed point, e.g. 28067, 105.3, 0.01234
        decimals = max(0, significant - 1 - math.floor(math.log10(abs(value))))
        text = f"{value:.{decimals}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    mantissa, exponent = f"{value:.{significant - 1}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def _parse(text: str) -> float | None:
    try:
        value = float(text.strip().replace("\u2212", "-").replace(",", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class NumberSpinBox(QDoubleSpinBox):
    """A QDoubleSpinBox that shows 4 significant digits (scientific notation for tiny or huge
    values), accepts typed numbers such as ``2.5e-17``, and steps by a tenth of the value's decade."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(MAX_DECIMALS)
        self.setRange(-1e300, 1e300)
        self.setKeyboardTracking(False)

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt override
        return format_number(value)

    def valueFromText(self, text: str) -> float:  # noqa: N802 - Qt override
        value = _parse(text)
        return self.value() if value is None else value

    def validate(self, text: str, pos: int):  # noqa: D102 - Qt override
        if _parse(text) is not None:
            return QValidator.State.Acceptable, text, pos
        partial = text.strip().lower().replace("\u2212", "-")
        allowed = set("0123456789+-.e")
        if all(ch in allowed for ch in partial):  # '', '-', '1e', '2.5e-' on the way to a number
            return QValidator.State.Intermediate, text, pos
        return QValidator.State.Invalid, text, pos

    def stepBy(self, steps: int) -> None:  # noqa: N802 - Qt override
        value = self.value()
        step = 10.0 ** (math.floor(math.log10(abs(value))) - 1) if value else self.singleStep()
        self.setValue(value + steps * step)
