"""The map registry: every map Mirabelle shows, reads out and exports, declared once.

Each :class:`MapSpec` says how to get the map's ``[x, y]`` array from the
:class:`~mirabelle.inference.maps.KinematicMaps` of a run, its unit and label, its default
colour map and limits, whether the viewer hides pixels without a usable prior, its file
name in the priors folder and whether it is an ORCS prior. The overlay menu, the colour
bar, the status-bar readout, the click result and the export all iterate :data:`MAPS`, so
adding a map is adding one entry here (a map that needs a new solver output also needs
that output stored by the runner).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mirabelle.inference.maps import KinematicMaps
from mirabelle.lines import LINE_LABELS, LINE_NAMES

Window = tuple[slice, slice]
"""A block of pixels ``(x slice, y slice)``; ``ALL`` is the whole map."""
ALL: Window = (slice(None), slice(None))


@dataclass(frozen=True)
class MapSpec:
    """One map: where its values come from and how it is shown and written.

    Attributes
    ----------
    name : identifier used by the state, the settings and ``mirabelle screenshot --map``.
    label : overlay menu and colour bar text, with the unit.
    short : status-bar readout prefix.
    unit : FITS ``BUNIT`` and readout unit ('' when none).
    source : ``source(maps, window)`` → the map's values in ``window`` (a view or a new array).
    colormap : default colour map of the overlay.
    stretch : automatic overlay limits: 'percentile' (2–98 %), 'centred' (symmetric about
        the median, for diverging maps) or fixed ``(low, high)``.
    masked : the viewer, readout and click hide pixels without a usable prior (export
        writes every computed value, with ``quality.fits`` beside).
    export : file name in the priors folder (None: not exported).
    prior : an ORCS prior (exported NaN-free, nearest valid value filled in).
    error : name of the map holding this one's 1-sigma error (readout ``±``).
    readout : always shown in the readout (else only while it is the overlay).
    digits : decimals in the readout.
    description : FITS header comment of the exported file.
    flux : a line flux: its unit is the cube's (`mirabelle.cube.units.line_flux_maps`
        converts ``maps.fluxes`` to it), not ``unit``.
    """

    name: str
    label: str
    short: str
    unit: str
    source: Callable[[KinematicMaps, Window], np.ndarray]
    colormap: str = "viridis"
    stretch: str | tuple[float, float] = "percentile"
    masked: bool = False
    export: str | None = None
    prior: bool = False
    error: str | None = None
    readout: bool = False
    digits: int = 1
    description: str = ""
    flux: bool = False


def _field(name: str):
    return lambda maps, window: getattr(maps, name)[window]


def _heliocentric(maps, window):
    from mirabelle.cube.heliocentric import heliocentric_velocity

    if maps.barycentric_kms is None:
        return np.full(maps.velocity[window].shape, np.nan, np.float32)
    return heliocentric_velocity(maps.velocity[window], maps.barycentric_kms).astype(np.float32)


def _flux(line: str):
    index = LINE_NAMES.index(line)
    return lambda maps, window: maps.fluxes[window + (index,)]


def _flux_map(line: str, name: str | None = None) -> MapSpec:
    label = LINE_LABELS[line]
    return MapSpec(name or f"flux_{line.lower()}", f"{label} flux", f"F({label})", "", _flux(line),
                   colormap="inferno", masked=True, export=f"flux_{line}.fits",
                   description=f"{line} line flux", flux=True)


def _diagnostic(name: str, log: bool):
    """A ratio of `mirabelle.analysis.ratios` (Hα-SNR masked) from the run's line fluxes, log10 when asked."""
    def source(maps, window):
        from mirabelle.analysis.ratios import RATIOS, electron_density_cm3, line_ratio

        fluxes = {line: maps.fluxes[window + (i,)] for i, line in enumerate(LINE_NAMES)}
        snr = {"Halpha": maps.snr_halpha[window]}
        if name == "electron_density":
            values = electron_density_cm3(line_ratio(fluxes, *RATIOS["sii_doublet"], snr))
        else:
            values = line_ratio(fluxes, *RATIOS[name], snr)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log10(values) if log else values
    return source


MAPS: tuple[MapSpec, ...] = (
    MapSpec("velocity", "Velocity (km/s)", "v", "km/s", _field("velocity"), colormap="coolwarm",
            stretch="centred", masked=True, export="velocity.fits", prior=True, error="velocity_err",
            readout=True, description="velocity prior, invalid pixels filled"),
    MapSpec("broadening", "Broadening σ (km/s)", "σ", "km/s", _field("broadening"), masked=True,
            export="broadening.fits", prior=True, error="broadening_err", readout=True,
            description="broadening (sigma) prior"),
    MapSpec("velocity_err", "Velocity error (km/s)", "δv", "km/s", _field("velocity_err"), colormap="magma",
            masked=True, export="velocity_err.fits", prior=True, description="1-sigma velocity uncertainty"),
    MapSpec("broadening_err", "Broadening error (km/s)", "δσ", "km/s", _field("broadening_err"),
            colormap="magma", masked=True, export="broadening_err.fits", prior=True,
            description="1-sigma broadening uncertainty"),
    MapSpec("velocity_helio", "Heliocentric velocity (km/s)", "v☉", "km/s", _heliocentric, colormap="coolwarm",
            stretch="centred", masked=True, description="barycentric velocity (velocity + HELIOCOR)"),
    MapSpec("snr_halpha", "Hα SNR", "SNR", "", _field("snr_halpha"), colormap="inferno",
            export="snr_halpha.fits", readout=True, description="Halpha amplitude / residual noise"),
    _flux_map("Halpha", name="flux_halpha"),
    MapSpec("double_score", "Double-component score", "double", "", _field("double_score"),
            colormap="plasma", stretch=(0.0, 1.0), export="double_score.fits", readout=True, digits=2,
            description="double-component score 0..1"),
    _flux_map("NII6548"),
    _flux_map("NII6583"),
    _flux_map("SII6716"),
    _flux_map("SII6731"),
    MapSpec("log_nii_halpha", "log [NII]6583/Hα (dex)", "log N2", "dex", _diagnostic("nii_halpha", True),
            colormap="RdBu_r", masked=True, digits=2, description="log10 [NII]6583/Halpha flux ratio"),
    MapSpec("log_sii_halpha", "log [SII]6716+6731/Hα (dex)", "log S2", "dex", _diagnostic("sii_halpha", True),
            colormap="RdBu_r", masked=True, digits=2, description="log10 ([SII]6716+6731)/Halpha flux ratio"),
    MapSpec("sii_doublet", "[SII]6716/6731", "S2 ratio", "", _diagnostic("sii_doublet", False),
            colormap="viridis", stretch=(0.4, 1.5), masked=True, digits=2, export="sii_doublet.fits",
            description="[SII]6716/6731 flux ratio"),
    MapSpec("log_electron_density", "log n_e [SII] (cm⁻³, 10⁴ K)", "log n_e", "dex(cm-3)",
            _diagnostic("electron_density", True), colormap="magma", masked=True, digits=2,
            description="log10 electron density from [SII]6716/6731 at 1e4 K (PyNeb)"),
)
MAP_NAMES: tuple[str, ...] = tuple(spec.name for spec in MAPS)
_BY_NAME = {spec.name: spec for spec in MAPS}


def map_spec(name: str) -> MapSpec:
    """The registry entry of map ``name`` (KeyError names the known maps)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"expected a map name among {', '.join(MAP_NAMES)}; found {name!r}") from None


def map_array(maps: KinematicMaps | None, name: str, window: Window = ALL) -> np.ndarray | None:
    """Float32 copy of map ``name`` in ``window``: NaN where not computed, and where no prior
    is usable for a masked map (what the viewer shows)."""
    if maps is None:
        return None
    spec = map_spec(name)
    data = np.array(spec.source(maps, window), dtype=np.float32)
    hidden = ~maps.valid_mask(window) if spec.masked else ~maps.done[window]
    data[hidden] = np.nan
    return data


def map_value(maps: KinematicMaps | None, name: str, x: int, y: int) -> float | None:
    """Pixel (x, y) of :func:`map_array` (None where it is NaN or nothing is computed)."""
    data = map_array(maps, name, (slice(x, x + 1), slice(y, y + 1)))
    if data is None:
        return None
    value = float(data[0, 0])
    return value if np.isfinite(value) else None


def auto_limits(name: str, data: np.ndarray, sample: np.ndarray | None = None) -> tuple[float, float]:
    """Overlay limits of map ``name`` following its ``stretch`` (``sample``: finite values to use)."""
    stretch = map_spec(name).stretch
    if not isinstance(stretch, str):
        return (float(stretch[0]), float(stretch[1]))
    values = data[np.isfinite(data)] if sample is None else sample
    if values.size == 0:
        return (0.0, 1.0)
    low, high = (float(v) for v in np.percentile(values, [2.0, 98.0]))
    if stretch == "centred":
        mid = float(np.median(values))
        half = max(high - mid, mid - low, 1.0)
        return (mid - half, mid + half)
    if not high > low:
        high = low + 1.0
    return (low, high)
