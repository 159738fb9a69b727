"""Synthetic SN3 training / test spectra, built with the project's own line model.

Every spectrum is made the way a SITELLE pixel is, then fed through
``mirabelle.inference.network.network_input`` (``preprocess.prepare``, and the sinc FWHM column
for presets with ``fwhm_input``) exactly as inference does:

* Instrument: step 2943.025792 nm (M31 header), order 8; per spectrum a resolving power
  R (at Hα rest) and a calibration ``corr`` ~ U(1.00, 1.05) (per-pixel off-axis angle),
  a ZPD fraction ~ U(0.15, 0.25); ``step_nb`` and ``zpd_index`` are the integers that give
  R at that corr (the true R is recomputed after rounding). The spectrum is sampled on that
  pixel's own axis ``axis_cm1(step, order, step_nb, corr)`` (channels around the model
  axis only) with the sinc FWHM ``sinc_fwhm_cm1(step, step_nb, zpd_index, corr)``.
* Lines: ``mirabelle.lines.fast.fast_sincgauss`` (the exact sincgauss within 1e-4) for the
  five SN3 lines with one velocity and
  broadening (relativistic Doppler, air rest wavelengths, as ``lines.model.line_templates``).
* Velocity: with probability 1/2 U(−200, 200) km/s, else U(−800, 800) km/s (so the paper's
  ±200 range holds ~62% of the set). Broadening (gaussian sigma): U(0, 50) km/s.
* R: U(preset ``r_train``): overlapping ranges from R 850 to 10600 (``PRESETS``).
* Amplitudes (peak, spectrum units): Hα = 1; [NII]6583/Hα = 10^U(−1.3, 0.1) (0.05..1.26:
  HII regions to diffuse ionised gas); [NII]6548 = [NII]6583 / NII_AMPLITUDE_RATIO;
  ([SII]6716+[SII]6731)/Hα = 10^U(−1.3, 0.0) (0.05..1.0); [SII]6716/6731 = U(1.0, 1.45).
* Noise: gaussian, sigma = 1/SNR with SNR (on Hα peak) U(5, 30) with probability 0.6, else
  log-uniform 5..100.
* Continuum: level U(0, 0.2) w.p. 0.5, U(0, 3) w.p. 0.3, 0 w.p. 0.2, plus a linear slope
  across the model axis of U(−0.3, 0.3) × (level + 0.05) per 500 cm⁻¹.
* Stellar continuum (w.p. 0.3, replacing the above): level U(0.3, 5) × Hα, slope
  U(−0.5, 0.5) × level per 500 cm⁻¹, and a broad Hα absorption: gaussian of sigma
  U(5, 25) Å, depth U(0, 1/3) × level, centred on Hα at the gas velocity + N(0, 100) km/s.
* Frame: the spectrum is made in the OBSERVER frame of a source whose systemic velocity is
  ``vsys`` (0 w.p. 0.3, else U(−1000, 5500) km/s): the lines are at
  ``compose_velocities(vsys, v)`` and ``prepare(..., vsys_kms=vsys)`` brings them back to the
  network frame, as inference does with the cube's systemic velocity; the SN3 filter edges
  (card ``band_cm1``, observer frame) therefore move across the model axis.
* Sky (w.p. 0.6): the unresolved OH spectrum (``mirabelle.lines.sky``, Hanuschik 2003, pure
  sinc of the pixel's FWHM, observer frame), its brightest SN3 line at U(0, 4) × Hα.
* NaN channels: at each end of the sampled band independently w.p. 0.07, 1..20 channels.

Training uses the noise-free spectra (``generate_clean``) and draws fresh noise every epoch
(``noisy_prepared``), so the network cannot memorise noise. Test sets (frozen seeds, see ``PRESETS``) draw velocity U(−200, 200) or U(−800, 800),
broadening U(0, 50), R in the preset's ``r_test`` range, SNR U(5, 30), same line ratios and
the plain continuum, no sky, vsys 0 (``variant="clean"``, comparable with earlier models);
``variant="sky"`` adds the sky at U(0.5, 4) × Hα with vsys U(−1000, 5500); ``"stellar"``
makes every continuum stellar (level U(0.5, 5) × Hα). Seeds: train = seed, validation =
seed + 1, test = the preset's fixed test seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mirabelle.inference.network import network_input
from mirabelle.lines import C_KMS, HALPHA_CM1, NII_AMPLITUDE_RATIO, REST_NM, SN3_BAND_NM, compose_velocities
from mirabelle.lines import doppler_factor, line_position_cm1
from mirabelle.lines.model import REST
from mirabelle.lines.fast import fast_sincgauss
from mirabelle.lines.sky import sky_spectrum

STEP_NM = 2943.025792
ORDER = 8
CONT_PAD_CM1 = 35.0  # line-free ends of the model axis, for the continuum fit
BAND_CM1 = [round(1e7 / SN3_BAND_NM[1], 3), round(1e7 / SN3_BAND_NM[0], 3)]  # SN3 filter, observer frame
VSYS_RANGE_KMS = (-1000.0, 5500.0)
ANGSTROM_CM1 = 1e8 / (10 * REST_NM["Halpha"]) ** 2  # 1 Å in cm⁻¹ at Hα
MAX_DOPPLER = float(doppler_factor(VSYS_RANGE_KMS[0]))


@dataclass(frozen=True)
class Preset:
    name: str
    r_train: tuple[float, float]
    r_test: tuple[float, float]
    model_step_cm1: float
    margin_cm1: float  # window half-margin around the line groups
    vmax: float = 800.0
    bmax: float = 50.0
    train_size: int = 200_000
    epochs: int = 24
    test_seed: int = 90_001
    test_size: int = 5000
    hidden: tuple[int, ...] = (384, 192)
    template_scale: float = 1.0  # width of the coarse matched-filter gaussians, × default
    window_margin_cm1: float | None = None  # fine-pass window margin (default: margin_cm1)
    cls_weight: float = 1.0  # weight of the alignment classifier's loss
    align_tol_channels: float = 1.6  # a coarse shift this close to the truth is a right alignment
    normalisation: str = "baseline-max"
    sky_fit: bool = True  # prepare() fits and subtracts the OH sky
    fwhm_input: bool = False  # the network reads each spectrum's sinc FWHM (inference.network.network_input)
    # smooth baseline removed by prepare(): a broader one costs the lines less (the matched filter
    # loses ~10 % SNR at 10 cm⁻¹ at R 5000, ten times more false peaks at SNR 5) and still takes
    # out most of a stellar Hα absorption (sigma 12-58 cm⁻¹); measured on the coarse stage. The
    # shipped models use 30-45 cm⁻¹: against 20-25, their test-set broadening RMSE is 4-8 % lower
    # (R 5000: 4.07 -> 3.85 km/s); on stellar continua the networks then miss 5-12 spectra in 5000
    # (noise peaks, aliases) rather than 0-4
    baseline_sigma_cm1: float = 20.0


PRESETS = {
    # Overlapping resolving-power ranges cover R 850-10600 with no gap; model steps follow the
    # native channel width (about 0.66 sinc FWHM) at the top of each range. Sizes and epochs fit
    # the 2-core CPU budget (one torch thread, about 10-20 min per model on a shared machine).
    "sn3-r1000": Preset("sn3-r1000", (850, 1500), (950, 1050), 5.0, 45.0, window_margin_cm1=60.0,
                        train_size=40_000, epochs=10, align_tol_channels=4.0, template_scale=0.8,
                        hidden=(256, 128), baseline_sigma_cm1=40.0),
    "sn3-r2000": Preset("sn3-r2000", (1400, 2700), (1800, 2000), 3.0, 32.0, window_margin_cm1=40.0,
                        train_size=300_000, epochs=24, template_scale=0.8, hidden=(512, 256),
                        baseline_sigma_cm1=45.0, fwhm_input=True),
    "sn3-r3000": Preset("sn3-r3000", (2500, 3900), (2900, 3100), 2.4, 24.0, window_margin_cm1=32.0,
                        train_size=300_000, epochs=24, hidden=(512, 256), fwhm_input=True, baseline_sigma_cm1=40.0),
    "sn3-r5000": Preset("sn3-r5000", (3700, 6000), (4800, 5000), 1.6, 20.0, window_margin_cm1=32.0,
                        train_size=300_000, epochs=24, cls_weight=2.0, hidden=(512, 256), fwhm_input=True,
                        baseline_sigma_cm1=35.0),
    "sn3-r7000": Preset("sn3-r7000", (5800, 8300), (6900, 7100), 1.2, 16.0, window_margin_cm1=24.0,
                        train_size=200_000, epochs=20, cls_weight=2.0, hidden=(384, 192), fwhm_input=True,
                        baseline_sigma_cm1=35.0),
    "sn3-r9600": Preset("sn3-r9600", (8000, 10600), (9500, 9700), 0.9, 14.0, window_margin_cm1=20.0,
                        train_size=200_000, epochs=20, cls_weight=2.0, hidden=(384, 192), fwhm_input=True,
                        baseline_sigma_cm1=30.0),
    "smoke": Preset("smoke", (4400, 5400), (4800, 5000), 1.8, 20.0, train_size=400, epochs=1,
                    test_size=200, hidden=(32, 16)),
}


def r_to_setup(r, corr, zpd_frac):
    """Integer step_nb, zpd_index giving resolving power ~r (at Hα rest) for this corr."""
    mpd_steps = np.asarray(r) * 1.20671 * corr / (HALPHA_CM1 * 2.0 * STEP_NM * 1e-7)
    step_nb = np.round(mpd_steps / (1.0 - zpd_frac)).astype(int)
    zpd = step_nb - np.round(mpd_steps).astype(int)
    return step_nb, zpd


def model_axis_spec(preset: Preset):
    """[start, step, length] of the model axis: the line windows at every coarse shift."""
    step = preset.model_step_cm1
    lo = line_position_cm1(REST_NM["SII6731"], preset.vmax) - preset.margin_cm1 - 6 * step - CONT_PAD_CM1
    hi = line_position_cm1(REST_NM["NII6548"], -preset.vmax) + preset.margin_cm1 + 6 * step + CONT_PAD_CM1
    start = math.floor(lo / step) * step
    length = int(math.ceil((hi - start) / step)) + 1
    return [float(start), float(step), length]


def draw_params(rng, n, preset: Preset, test: bool = False, vrange: float | None = None, variant: str = "clean"):
    """Random physical parameters for n spectra (distributions in the module docstring)."""
    if variant not in ("clean", "sky", "stellar"):
        raise ValueError(f"unknown test variant {variant!r}")
    p = {}
    if test:
        vr = preset.vmax if vrange is None else vrange
        p["velocity"] = rng.uniform(-vr, vr, n)
        p["r"] = rng.uniform(*preset.r_test, n)
        p["snr"] = rng.uniform(5, 30, n)
    else:
        wide = rng.random(n) < 0.5
        p["velocity"] = np.where(wide, rng.uniform(-preset.vmax, preset.vmax, n), rng.uniform(-200, 200, n))
        p["r"] = rng.uniform(*preset.r_train, n)
        paper = rng.random(n) < 0.6
        p["snr"] = np.where(paper, rng.uniform(5, 30, n), np.exp(rng.uniform(np.log(5), np.log(100), n)))
    p["broadening"] = rng.uniform(0, preset.bmax, n)
    p["corr"] = rng.uniform(1.0, 1.05, n)
    p["zpd_frac"] = rng.uniform(0.15, 0.25, n)
    n2 = 10 ** rng.uniform(-1.3, 0.1, n)
    s2 = 10 ** rng.uniform(-1.3, 0.0, n)
    rs = rng.uniform(1.0, 1.45, n)
    p["amplitudes"] = np.stack([n2 / NII_AMPLITUDE_RATIO, np.ones(n), n2, s2 * rs / (1 + rs), s2 / (1 + rs)], 1)
    u = rng.random(n)
    level = np.where(u < 0.5, rng.uniform(0, 0.2, n), np.where(u < 0.8, rng.uniform(0, 3, n), 0.0))
    slope = rng.uniform(-0.3, 0.3, n) * (level + 0.05) / 500.0  # per cm-1
    stellar = (rng.random(n) < 0.3) if not test else np.full(n, variant == "stellar")
    star_level = rng.uniform(0.5 if test else 0.3, 5.0, n)
    p["cont_level"] = np.where(stellar, star_level, level)
    p["cont_slope"] = np.where(stellar, rng.uniform(-0.5, 0.5, n) * star_level / 500.0, slope)
    p["abs_depth"] = np.where(stellar, rng.uniform(0.0, 1.0 / 3.0, n) * star_level, 0.0)
    p["abs_sigma_cm1"] = rng.uniform(5.0, 25.0, n) * ANGSTROM_CM1
    p["abs_velocity"] = p["velocity"] + rng.normal(0.0, 100.0, n)
    if test:
        sky = variant == "sky"
        p["vsys"] = rng.uniform(*VSYS_RANGE_KMS, n) if sky else np.zeros(n)
        p["sky_peak"] = rng.uniform(0.5, 4.0, n) if sky else np.zeros(n)
    else:
        p["vsys"] = np.where(rng.random(n) < 0.3, 0.0, rng.uniform(*VSYS_RANGE_KMS, n))
        p["sky_peak"] = np.where(rng.random(n) < 0.6, rng.uniform(0.0, 4.0, n), 0.0)
    p["nan_lo"] = np.where(rng.random(n) < 0.07, rng.integers(1, 21, n), 0)
    p["nan_hi"] = np.where(rng.random(n) < 0.07, rng.integers(1, 21, n), 0)
    return p


def clean_native(params, preset: Preset, m: int | None = None, spec=None):
    """Noise-free spectra on each pixel's own axis (lines + continuum).

    Returns dict: values (n, m) float64, start, dstep (n,) (axis = start + dstep · (k0 + k)),
    k0 (n,), fwhm (n,), r_true (n,).
    """
    spec = model_axis_spec(preset) if spec is None else spec
    factor = doppler_factor(params["vsys"])  # observed / network-frame wavenumber
    lo = (spec[0] - 3 * preset.model_step_cm1) * factor
    hi = (spec[0] + spec[1] * (spec[2] - 1) + 3 * preset.model_step_cm1) * factor
    step_nb, zpd = r_to_setup(params["r"], params["corr"], params["zpd_frac"])
    corr = params["corr"]
    dstep = corr * 1e7 / (2.0 * STEP_NM * step_nb)
    start = corr * 1e7 / (2.0 * STEP_NM) * ORDER + dstep * (ORDER % 2)
    if m is None:
        m = int(math.ceil(np.max((hi - lo) / dstep))) + 3
    k0 = np.floor((lo - start) / dstep).astype(int)
    axes = start[:, None] + dstep[:, None] * (k0[:, None] + np.arange(m)[None, :])
    fwhm = 1.20671 / (2.0 * STEP_NM * (step_nb - zpd) * 1e-7) * corr  # = sinc_fwhm_cm1, vectorised
    observed = compose_velocities(params["vsys"], params["velocity"])
    pos = line_position_cm1(REST[None, :], observed[:, None])  # (n, 5)
    sig = pos * params["broadening"][:, None] / C_KMS
    prof = fast_sincgauss(axes, pos, fwhm, sig)  # the exact sincgauss within 1e-4 of the peak, 20× faster
    values = np.einsum("nlk,nl->nk", prof, params["amplitudes"])
    centre = (0.5 * (lo + hi))[:, None]
    values += params["cont_level"][:, None] + params["cont_slope"][:, None] * (axes - centre)
    stars = np.nonzero(params["abs_depth"] > 0)[0]
    if stars.size:
        star_velocity = compose_velocities(params["vsys"][stars], params["abs_velocity"][stars])
        dip = line_position_cm1(REST_NM["Halpha"], star_velocity)
        values[stars] -= params["abs_depth"][stars, None] * np.exp(
            -0.5 * ((axes[stars] - dip[:, None]) / params["abs_sigma_cm1"][stars, None]) ** 2)
    # the unit sky of every pixel: added at its peak, and what prepare() fits and subtracts
    sky = sky_spectrum(axes, fwhm) if preset.sky_fit or params["sky_peak"].any() else None
    if sky is not None:
        values += params["sky_peak"][:, None] * sky
    return dict(values=values, axes=axes, start=start, dstep=dstep, k0=k0, fwhm=fwhm, r_true=HALPHA_CM1 / fwhm,
                sky=sky if preset.sky_fit else None)


def add_noise(values, snr, nan_lo, nan_hi, rng):
    """Gaussian noise of sigma 1/SNR and NaN band-edge channels, in place; returns values."""
    values += rng.normal(0.0, 1.0, values.shape) / snr[:, None]
    m = values.shape[1]
    cols = np.arange(m)[None, :]
    values[cols < nan_lo[:, None]] = np.nan
    values[cols >= m - nan_hi[:, None]] = np.nan
    return values


def native_spectra(params, preset: Preset, rng, spec=None):
    """Noisy spectra on each pixel's own axis: returns (values (n, m), axes (n, m), fwhm (n,), r (n,),
    unit sky (n, m) or None)."""
    c = clean_native(params, preset, spec=spec)
    values = add_noise(c["values"], params["snr"], params["nan_lo"], params["nan_hi"], rng)
    return values, c["axes"], c["fwhm"], c["r_true"], c["sky"]


def max_channels(preset: Preset) -> int:
    """Native channels covering the model axis at the finest sampling the preset can draw."""
    spec = model_axis_spec(preset)
    span = spec[1] * (spec[2] - 1) + 6 * preset.model_step_cm1
    step_nb, _ = r_to_setup(np.array([preset.r_train[1] * 1.002]), np.array([1.0]), np.array([0.25]))
    dstep = 1e7 / (2.0 * STEP_NM * (step_nb[0] + 1))
    return int(math.ceil(span * MAX_DOPPLER / dstep)) + 4


def generate_clean(n, preset: Preset, seed: int, chunk: int = 2000) -> dict:
    """Noise-free training spectra (native, float32) + what is needed to add fresh noise and
    prepare them each epoch (:func:`noisy_prepared`)."""
    rng = np.random.default_rng(seed)
    params = draw_params(rng, n, preset)
    m = max_channels(preset)
    out = {k: params[k] for k in ("velocity", "broadening", "snr", "nan_lo", "nan_hi", "r", "cont_level", "vsys",
                                  "sky_peak", "abs_depth")}
    out["values"] = np.empty((n, m), np.float32)
    if preset.sky_fit:
        out["sky"] = np.empty((n, m), np.float32)
    for key in ("start", "dstep", "r_true", "fwhm"):
        out[key] = np.empty(n)
    out["k0"] = np.empty(n, np.int64)
    for i in range(0, n, chunk):
        sub = {k: v[i:i + chunk] for k, v in params.items()}
        c = clean_native(sub, preset, m=m)
        out["values"][i:i + chunk] = c["values"]
        if preset.sky_fit:
            out["sky"][i:i + chunk] = c["sky"]
        for key in ("start", "dstep", "k0", "r_true", "fwhm"):
            out[key][i:i + chunk] = c[key]
    out["y"] = np.stack([params["velocity"], params["broadening"]], 1).astype(np.float32)
    return out


def noisy_prepared(clean: dict, rng, card=None, preset: Preset | None = None, chunk: int = 20000) -> np.ndarray:
    """Fresh noise (and the fixed NaN edges) on the clean spectra, then the network's input:
    (n, L) float32 (L + 1 with the FWHM column)."""
    card = make_card_stub(preset) if card is None else card
    n, m = clean["values"].shape
    xs = []
    ks = np.arange(m)[None, :]
    for i in range(0, n, chunk):
        sl = slice(i, i + chunk)
        values = clean["values"][sl].astype(np.float64)
        add_noise(values, clean["snr"][sl], clean["nan_lo"][sl], clean["nan_hi"][sl], rng)
        axes = clean["start"][sl, None] + clean["dstep"][sl, None] * (clean["k0"][sl, None] + ks)
        sky = clean["sky"][sl] if "sky" in clean else None
        xs.append(network_input(card, values.astype(np.float32), axes, clean["vsys"][sl], sky,
                                fwhm_cm1=clean["fwhm"][sl]))
    return np.concatenate(xs)


def continuum_ranges(preset: Preset):
    """cm⁻¹ ranges of the model axis that no line (± margin) reaches at any velocity of the
    preset: below [SII]6731, between [SII]6716 and [NII]6583, above [NII]6548."""
    start, step, length = model_axis_spec(preset)
    end = start + step * (length - 1)
    m = preset.margin_cm1
    r = [[start, line_position_cm1(REST_NM["SII6731"], preset.vmax) - m],
         [line_position_cm1(REST_NM["SII6716"], -preset.vmax) + m, line_position_cm1(REST_NM["NII6583"], preset.vmax) - m],
         [line_position_cm1(REST_NM["NII6548"], -preset.vmax) + m, end]]
    return [[round(float(a), 3), round(float(b), 3)] for a, b in r]


def make_card_stub(preset: Preset) -> dict:
    inputs = {"axis_cm1": model_axis_spec(preset), "normalisation": preset.normalisation,
              "continuum_cm1": continuum_ranges(preset), "band_cm1": BAND_CM1}
    if preset.normalisation == "baseline-max":
        inputs["baseline_sigma_cm1"] = preset.baseline_sigma_cm1
    if preset.sky_fit:
        inputs["sky"] = "fit"
    if preset.fwhm_input:
        inputs["fwhm_input"] = "sinc FWHM in model channels (network frame), one column after the spectrum"
    return {"input": inputs}


def generate(n, preset: Preset, seed: int, test: bool = False, vrange=None, chunk: int = 2000,
             keep_native: bool = False, variant: str = "clean"):
    """n prepared spectra: dict with x (n, L) float32 (the network's input: L + 1 with the FWHM
    column), y (n, 2) float32 [v, b] (network frame), and the params; ``native`` (with ``keep_native``): (values, axes, fwhm, vsys, unit sky) per chunk."""
    rng = np.random.default_rng(seed)
    params = draw_params(rng, n, preset, test=test, vrange=vrange, variant=variant)
    card = make_card_stub(preset)
    xs, natives = [], []
    r_true = np.empty(n)
    for i in range(0, n, chunk):
        sub = {k: v[i:i + chunk] for k, v in params.items()}
        values, axes, fwhm, r, sky = native_spectra(sub, preset, rng)
        r_true[i:i + chunk] = r
        xs.append(network_input(card, values, axes, sub["vsys"], sky, fwhm_cm1=fwhm))
        if keep_native:
            natives.append((values, axes, fwhm, sub["vsys"], sky))
    out = dict(params)
    out["x"] = np.concatenate(xs) if xs else np.zeros((0, card["input"]["axis_cm1"][2] + preset.fwhm_input), np.float32)
    out["y"] = np.stack([params["velocity"], params["broadening"]], 1).astype(np.float32)
    out["r_true"] = r_true
    if keep_native:
        out["native"] = natives
    return out
