"""Barycentric (heliocentric) velocity correction of a cube, as ORCS computes it.

The observation time comes from the cube's keywords — ``DATE-OBS`` (with ``TIME-OBS`` or
``UTSTART`` when it holds only a date), else ORB's ``obs_date`` (year, month, day) and
``hour_ut`` (hours, minutes, seconds), else ``MJD-OBS`` — and the target from ORB's
``target_ra``/``target_dec`` (degrees), ``TARGETR``/``TARGETD`` (sexagesimal), else the
WCS at the centre pixel. The observatory is CFHT, given explicitly (astropy's site
registry needs the internet). astropy's ``SkyCoord.radial_velocity_correction`` gives the
correction ``v_corr``; a measured velocity becomes ``v_helio = v + v_corr + v · v_corr / c``.
(ORB's ``date`` attribute is when the file was written, not the observation.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mirabelle.lines import C_KMS

CFHT_LON_DEG = -155.4681
CFHT_LAT_DEG = 19.8253
CFHT_HEIGHT_M = 4204.0


@dataclass(frozen=True)
class BarycentricCorrection:
    """The correction of one cube.

    Attributes
    ----------
    velocity_kms : v_corr (km/s), to add to observed velocities (see `heliocentric_velocity`).
    obstime_utc : ISO time of the observation used (UTC).
    time_source, target_source : the keywords they came from (shown by ``mirabelle info``).
    ra_deg, dec_deg : target position (ICRS, degrees).
    """

    velocity_kms: float
    obstime_utc: str
    time_source: str
    ra_deg: float
    dec_deg: float
    target_source: str


def heliocentric_velocity(velocity_kms, correction_kms: float):
    """Observed-frame velocities (km/s) → barycentric: ``v + v_corr + v · v_corr / c``."""
    velocity = np.asarray(velocity_kms, dtype=np.float64)
    return velocity + correction_kms + velocity * correction_kms / C_KMS


def barycentric_correction(cube) -> tuple[BarycentricCorrection | None, str]:
    """``(correction, '')`` for ``cube``, or ``(None, reason)`` when its date or target is unknown
    (cached on the cube)."""
    cached = getattr(cube, "_mirabelle_barycentric", None)
    if cached is None:
        cached = cube._mirabelle_barycentric = _compute(cube)
    return cached


def _compute(cube) -> tuple[BarycentricCorrection | None, str]:
    import astropy.units as u
    from astropy.coordinates import EarthLocation
    from astropy.utils import iers

    keywords = cube.keywords
    obstime, time_source = _observation_time(keywords)
    if obstime is None:
        return None, "no observation date (DATE-OBS, obs_date/hour_ut or MJD-OBS)"
    target, target_source = _target(keywords, cube)
    if target is None:
        return None, "no target coordinates (target_ra/target_dec, TARGETR/TARGETD or a celestial WCS)"
    location = EarthLocation.from_geodetic(lon=CFHT_LON_DEG * u.deg, lat=CFHT_LAT_DEG * u.deg,
                                           height=CFHT_HEIGHT_M * u.m)
    with iers.conf.set_temp("auto_download", False):  # works offline with astropy's bundled tables
        velocity = target.radial_velocity_correction(kind="barycentric", obstime=obstime, location=location)
    icrs = target.icrs
    return BarycentricCorrection(float(velocity.to_value(u.km / u.s)), obstime.isot, time_source,
                                 float(icrs.ra.deg), float(icrs.dec.deg), target_source), ""


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode(errors="replace").strip()
    return str(value).strip()


def _observation_time(keywords):
    import astropy.units as u
    from astropy.time import Time

    date = keywords.get("DATE-OBS")
    if date is not None and _text(date):
        text = _text(date)
        source = "DATE-OBS"
        if "T" not in text:
            for key in ("TIME-OBS", "UTSTART", "UT"):
                if key in keywords and _text(keywords[key]):
                    text, source = f"{text}T{_text(keywords[key])}", f"DATE-OBS + {key}"
                    break
        try:
            return Time(text, scale="utc"), source
        except ValueError:
            pass
    if "obs_date" in keywords:
        try:
            year, month, day = (int(v) for v in np.asarray(keywords["obs_date"]).ravel()[:3])
            hour = np.asarray(keywords.get("hour_ut", (0, 0, 0)), dtype=float).ravel()
            hour = np.concatenate([hour, np.zeros(3)])[:3]
            seconds = hour[0] * 3600 + hour[1] * 60 + hour[2]
            time = Time(f"{year:04d}-{month:02d}-{day:02d}T00:00:00", scale="utc") + seconds * u.s
            return time, "obs_date + hour_ut"
        except (TypeError, ValueError):
            pass
    if "MJD-OBS" in keywords:
        try:
            return Time(float(np.asarray(keywords["MJD-OBS"]).ravel()[0]), format="mjd", scale="utc"), "MJD-OBS"
        except (TypeError, ValueError):
            pass
    return None, ""


def _target(keywords, cube):
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    try:
        if "target_ra" in keywords and "target_dec" in keywords:
            ra, dec = (float(np.asarray(keywords[k]).ravel()[0]) for k in ("target_ra", "target_dec"))
            return SkyCoord(ra * u.deg, dec * u.deg, frame="icrs"), "target_ra/target_dec"
        if "TARGETR" in keywords and "TARGETD" in keywords:
            return (SkyCoord(_text(keywords["TARGETR"]), _text(keywords["TARGETD"]), unit=(u.hourangle, u.deg),
                             frame="icrs"), "TARGETR/TARGETD")
    except (TypeError, ValueError):
        pass
    if cube.wcs is not None:
        try:
            return cube.wcs.pixel_to_world(cube.nx // 2, cube.ny // 2), "WCS at the centre pixel"
        except Exception:  # astropy raises various types for odd frames
            pass
    return None, ""
