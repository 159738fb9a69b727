"""The emission scene of a synthetic SN3 cube: kinematics, line amplitudes, continuum, laser map.

A field of view of the SITELLE detector (2048 × 2064 pixels) seen by an ``nx × ny`` cube
whose pixels span ``scale = 2048 / nx`` detector pixels each (a binned cube). On it: an
inclined rotating disk (systemic velocity, rotation curve, small turbulent velocity
field), diffuse ionised gas with high [NII]/Hα and [SII]/Hα, compact bright HII regions
with low ratios and narrower lines, patches where a second kinematic component is seen
along the line of sight, stars and a disk in the continuum, and NaN borders. All maps
are ``[x, y]`` (`mirabelle.orientation`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mirabelle.lines.constants import LINE_NAMES, NII_AMPLITUDE_RATIO

DETECTOR = (2048, 2064)
"""SITELLE detector size (x, y), unbinned pixels."""
THETA_CENTRE_DEG = 9.5
"""Off-axis angle of the interferometer beam at the detector centre (degrees)."""
THETA_CORNER_DEG = 15.5
"""Off-axis angle at the detector corners (degrees)."""
DIFFUSE_HALPHA = 40.0
"""Peak Hα amplitude (counts) of the diffuse gas at the disk centre."""

HALPHA, NII6548, NII6583, SII6716, SII6731 = (LINE_NAMES.index(n) for n in
                                              ("Halpha", "NII6548", "NII6583", "SII6716", "SII6731"))


@dataclass
class Truth:
    """What a synthetic cube holds; maps are ``[x, y]``, component 2 is the fainter one.

    Attributes
    ----------
    velocity, broadening : (nx, ny) float32, component 1 velocity and gaussian broadening, km/s.
    velocity2, broadening2 : (nx, ny) float32, component 2 (NaN where ``double`` is False).
    double : (nx, ny) bool, pixels with a second kinematic component.
    amplitudes, amplitudes2 : (nx, ny, 5) float32, peak amplitude of each line (``LINE_NAMES``
        order, counts) of components 1 and 2 (0 where absent).
    continuum : (nx, ny) float32, flat continuum level, counts per channel.
    valid : (nx, ny) bool, False on the NaN borders.
    corr : (nx, ny) float64, wavenumber correction ``calib_map / nm_laser``.
    noise_sigma : float, gaussian noise per channel (counts; 0 for a noise-free cube).
    snr : float, requested Hα SNR (median over valid pixels of Hα amplitude / noise).
    seed : int, random seed of the scene and the noise.
    resolution : float, resolving power at Hα at the reference (centre) pixel.
    """

    velocity: np.ndarray
    broadening: np.ndarray
    velocity2: np.ndarray
    broadening2: np.ndarray
    double: np.ndarray
    amplitudes: np.ndarray
    amplitudes2: np.ndarray
    continuum: np.ndarray
    valid: np.ndarray
    corr: np.ndarray
    noise_sigma: float
    snr: float
    seed: int
    resolution: float

    @property
    def snr_map(self) -> np.ndarray:
        """(nx, ny) Hα SNR of component 1 (amplitude / noise; inf without noise)."""
        with np.errstate(divide="ignore"):
            return self.amplitudes[..., HALPHA] / np.float32(self.noise_sigma)


def detector_coordinates(nx: int, ny: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Detector pixel coordinates of the cube pixels' centres: X (nx, 1), Y (1, ny), scale.

    ``scale = 2048 / nx`` detector pixels per cube pixel, the same along x and y, the
    cube centred on the detector.
    """
    scale = DETECTOR[0] / nx
    x = DETECTOR[0] / 2 + (np.arange(nx) + 0.5 - nx / 2) * scale
    y = DETECTOR[1] / 2 + (np.arange(ny) + 0.5 - ny / 2) * scale
    return x[:, None], y[None, :], scale


def corr_map(nx: int, ny: int) -> np.ndarray:
    """(nx, ny) wavenumber correction ``1/cos θ`` of a radial off-axis angle field.

    θ grows from ``THETA_CENTRE_DEG`` at the detector centre to ``THETA_CORNER_DEG`` at
    its corners as ``θ² = θc² + (θk² − θc²) (ρ/ρk)²`` (ρ: distance to the centre).
    """
    x, y, _ = detector_coordinates(nx, ny)
    rho2 = ((x - DETECTOR[0] / 2) ** 2 + (y - DETECTOR[1] / 2) ** 2) / ((DETECTOR[0] / 2) ** 2 + (DETECTOR[1] / 2) ** 2)
    tc, tk = np.radians(THETA_CENTRE_DEG), np.radians(THETA_CORNER_DEG)
    theta = np.sqrt(tc**2 + (tk**2 - tc**2) * rho2)
    return 1.0 / np.cos(theta)


def _smooth_field(rng, u: np.ndarray, v: np.ndarray, modes: int = 12, scale: float = 3.0) -> np.ndarray:
    """Random smooth field of zero mean and unit-order amplitude on field coordinates (u, v)."""
    out = np.zeros(np.broadcast_shapes(u.shape, v.shape), dtype=np.float32)
    for _ in range(modes):
        k = rng.normal(0.0, scale, 2)
        out += np.cos(k[0] * u + k[1] * v + rng.uniform(0, 2 * np.pi)).astype(np.float32)
    return out / np.sqrt(modes / 2)


def _blobs(shape, centres, sigmas, peaks) -> np.ndarray:
    """Sum of circular gaussians (centres, sigmas in cube pixels) rendered in local windows."""
    out = np.zeros(shape, dtype=np.float32)
    for (cx, cy), sigma, peak in zip(centres, sigmas, peaks):
        half = int(np.ceil(4 * sigma)) + 1
        x0, x1 = max(int(cx) - half, 0), min(int(cx) + half + 1, shape[0])
        y0, y1 = max(int(cy) - half, 0), min(int(cy) + half + 1, shape[1])
        if x0 >= x1 or y0 >= y1:
            continue
        gx = np.exp(-0.5 * ((np.arange(x0, x1) - cx) / sigma) ** 2)
        gy = np.exp(-0.5 * ((np.arange(y0, y1) - cy) / sigma) ** 2)
        out[x0:x1, y0:y1] += (peak * gx[:, None] * gy[None, :]).astype(np.float32)
    return out


def make_scene(nx: int, ny: int, *, seed: int = 0, systemic_velocity: float = -180.0,
               rotation_amplitude: float = 100.0, double_fraction: float = 0.08,
               n_hii: int = 60) -> dict:
    """Kinematics, amplitudes and continuum maps of the scene (no noise, no instrument).

    Parameters
    ----------
    nx, ny : cube size in pixels.
    seed : random seed.
    systemic_velocity : km/s (M33: −180).
    rotation_amplitude : projected rotation velocity on the flat part of the curve, km/s.
    double_fraction : approximate fraction of the valid field with two components.
    n_hii : number of HII regions over the full detector field.

    Returns
    -------
    dict of the `Truth` map fields (velocity … valid, corr).
    """
    rng = np.random.default_rng(seed)
    x, y, scale = detector_coordinates(nx, ny)
    # field coordinates: detector centre at 0, about ±1 at the edges
    u = (x - DETECTOR[0] / 2) / (DETECTOR[0] / 2)
    v = (y - DETECTOR[1] / 2) / (DETECTOR[0] / 2)
    shape = (nx, ny)

    # inclined rotating disk, slightly off-centre
    incl, pa = np.radians(rng.uniform(45, 60)), rng.uniform(0, np.pi)
    du, dv = u - rng.uniform(-0.1, 0.1), v - rng.uniform(-0.1, 0.1)
    major = du * np.cos(pa) + dv * np.sin(pa)
    minor = (-du * np.sin(pa) + dv * np.cos(pa)) / np.cos(incl)
    radius = np.hypot(major, minor)
    cos_phi = major / np.maximum(radius, 1e-6)
    curve = rotation_amplitude * (1.0 - np.exp(-radius / 0.25))
    velocity = systemic_velocity + curve * cos_phi + 6.0 * _smooth_field(rng, u, v, scale=6.0)

    # HII regions: placed along the disk, sigma 8-35 detector pixels, 3-30 x the diffuse gas
    centres = rng.normal(0.0, 0.45, (n_hii, 2)) * (DETECTOR[0] / 2 / scale) + [nx / 2 - 0.5, ny / 2 - 0.5]
    sigmas = np.maximum(rng.uniform(8, 35, n_hii) / scale, 0.6)
    hii = _blobs(shape, centres, sigmas, DIFFUSE_HALPHA * rng.uniform(3, 30, n_hii))

    disk = np.exp(-radius / 0.6).astype(np.float32)
    diffuse = DIFFUSE_HALPHA * disk * (0.75 + 0.25 * np.tanh(_smooth_field(rng, u, v, scale=8.0)))
    halpha = diffuse + hii
    w = hii / halpha  # HII-region weight in [0, 1)

    broadening = np.clip(38.0 + 6.0 * _smooth_field(rng, u, v) - 22.0 * w, 10.0, 50.0)
    nii_ratio = np.clip(0.55 - 0.4 * w + 0.04 * _smooth_field(rng, u, v), 0.1, 0.6)
    sii_ratio = np.clip(0.45 - 0.32 * w + 0.04 * _smooth_field(rng, u, v), 0.08, 0.6)  # (6716+6731)/Hα
    doublet = np.clip(1.42 - 0.3 * w, 1.0, 1.45)  # 6716/6731: low density in the diffuse gas
    amplitudes = _line_amplitudes(halpha, nii_ratio, sii_ratio, doublet)

    # second component: a few patches, offset 60-150 km/s, 30-80 % of component 1 in Hα
    n_patch = max(2, int(round(double_fraction / 0.02)))
    patch_centres = np.column_stack([rng.uniform(0.15, 0.85, n_patch) * nx, rng.uniform(0.15, 0.85, n_patch) * ny])
    patch_sigma = np.sqrt(double_fraction * nx * ny / n_patch / (2 * np.pi * np.log(4.0)))  # profile > 1/4
    profile = np.zeros(shape, dtype=np.float32)
    offset = np.zeros(shape, dtype=np.float32)
    for (cx, cy), dv_patch in zip(patch_centres, rng.uniform(60, 150, n_patch) * rng.choice([-1, 1], n_patch)):
        g = _blobs(shape, [(cx, cy)], [patch_sigma], [1.0])
        take = g > profile
        profile[take], offset[take] = g[take], dv_patch
    border = max(2, int(round(0.03 * min(nx, ny))))
    valid = np.zeros(shape, dtype=bool)
    valid[border:nx - border, border:ny - border] = True
    valid &= np.hypot(u, v) < 1.3  # vignetted corners
    double = (profile > 0.25) & valid
    fraction2 = np.where(double, (0.3 + 0.5 * profile) * rng.uniform(0.8, 1.0), 0.0)
    velocity2 = np.where(double, velocity + offset, np.nan)
    broadening2 = np.where(double, np.clip(30.0 + 10.0 * _smooth_field(rng, u, v), 20.0, 50.0), np.nan)
    amplitudes2 = _line_amplitudes(halpha * fraction2, np.clip(nii_ratio + 0.05, 0.1, 0.6),
                                   np.clip(sii_ratio + 0.05, 0.08, 0.6), doublet)

    stars = _blobs(shape, rng.uniform(0, 1, (40, 2)) * [nx, ny],
                   np.full(40, max(2.5 / scale, 0.6)), rng.uniform(20, 400, 40))
    continuum = 8.0 * disk + stars

    f32 = np.float32
    return dict(velocity=velocity.astype(f32), broadening=broadening.astype(f32),
                velocity2=velocity2.astype(f32), broadening2=broadening2.astype(f32), double=double,
                amplitudes=amplitudes, amplitudes2=amplitudes2, continuum=continuum.astype(f32),
                valid=valid, corr=corr_map(nx, ny))


def _line_amplitudes(halpha, nii_ratio, sii_ratio, doublet) -> np.ndarray:
    """(nx, ny, 5) float32 amplitudes from Hα, [NII]6583/Hα, ([SII]6716+6731)/Hα and 6716/6731."""
    out = np.zeros(halpha.shape + (5,), dtype=np.float32)
    out[..., HALPHA] = halpha
    out[..., NII6583] = halpha * nii_ratio
    out[..., NII6548] = out[..., NII6583] / NII_AMPLITUDE_RATIO
    out[..., SII6731] = halpha * sii_ratio / (1.0 + doublet)
    out[..., SII6716] = out[..., SII6731] * doublet
    return out
