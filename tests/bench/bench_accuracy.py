"""Accuracy benchmark of the shipped kinematics networks on frozen held-out sets.

    python tests/bench/bench_accuracy.py [--models DIR] [--only NAME] [--n N] [--n-limit M] [--n-peer K]

For each shipped model (one per resolving power, R 1000 … 9600): held-out spectra generated
with the frozen test seed of the model card (mirabelle.training.data) on the paper's
v ±200 km/s range (with the posterior-mean limit beside it), then on ±800 km/s, with
unsubtracted OH sky at a random systemic velocity (−1000…+5500 km/s) and with stellar
continua carrying broad Hα absorption; side by side, RMSE and bias per parameter per SNR bin
(5–10, 10–20, 20–30, all), and a summary table with the reference limits of
../shared/docs/cnn.md and the issue's targets:
* ours: the ONNX network (onnxruntime, 2 threads) on ``network.network_input`` output, with the
  1-sigma coverage of its errors;
* LUCI peers of the same resolution from ../shared/peers/luci-sn3 (when present; run as
  ``run_peer.PeerModel(...).predict(axis, spectrum, frame='air')`` on each pixel's own axis,
  NaN channels set to the spectrum's median), also with their mean velocity bias removed,
  and on the continuum-free subset (LUCI normalises by the maximum without removing the
  continuum, so spectra with a continuum are out of its training distribution);
* the posterior-mean limit: grid over velocity and broadening (uniform priors on the test
  ranges), amplitudes ([NII] doublet tied) and a linear continuum marginalised analytically
  (flat priors, known noise), computed with mirabelle.lines.profiles.sincgauss on the native
  channels within 25 (R5000) / 40 (R2000) cm⁻¹ of the lines (the far sinc wings, which carry
  almost no information, are left out) on the first M spectra.
Also prints ONNX throughput (spectra/s, 2 threads, batch 8192) with and without the preparation.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
PEERS = Path(os.environ.get("MIRABELLE_PEERS", ROOT.parent / "shared" / "peers" / "luci-sn3"))
if not PEERS.exists():
    PEERS = Path("/work/shared/peers/luci-sn3")

from mirabelle.inference.network import network_input  # noqa: E402
from mirabelle.lines import C_KMS, line_position_cm1  # noqa: E402
from mirabelle.lines.model import FREE_TO_LINES, REST  # noqa: E402
from mirabelle.lines.profiles import sincgauss  # noqa: E402
from mirabelle.training.data import HALPHA_CM1, PRESETS, generate  # noqa: E402

BINS = ((5, 10), (10, 20), (20, 30), (5, 30.0001))
BIN_NAMES = ("5-10", "10-20", "20-30", "all")


def onnx_session(path, threads=2):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def run_onnx(sess, x, batch=8192):
    return np.concatenate([sess.run(None, {"spectrum": x[i:i + batch]})[0] for i in range(0, len(x), batch)])


# ---------------------------------------------------------------- posterior-mean limit
def _loglike(values, axis, fwhm, sigma_noise, vgrid, bgrid):
    """log marginal likelihood on the (v, b) grid: amplitudes + linear continuum marginalised."""
    pos = line_position_cm1(REST[None, :], vgrid[:, None])  # (nv, 5)
    s = pos[:, None, :] * bgrid[None, :, None] / C_KMS  # (nv, nb, 5)
    prof = sincgauss(axis[None, None, None, :], pos[:, None, :, None], fwhm, s[..., None])
    free = np.einsum("vblm,lf->vbfm", prof, FREE_TO_LINES)  # (nv, nb, 4, m)
    t = (axis - axis.mean()) / max(np.ptp(axis) / 2, 1e-9)
    cont = np.broadcast_to(np.stack([np.ones_like(t), t]), free.shape[:2] + (2, axis.size))
    design = np.concatenate([free, cont], axis=2)  # (nv, nb, 6, m)
    normal = np.einsum("vbkm,vbjm->vbkj", design, design)
    normal += np.eye(6) * 1e-9 * np.trace(normal, axis1=2, axis2=3)[..., None, None]
    rhs = np.einsum("vbkm,m->vbk", design, values)
    coef = np.linalg.solve(normal, rhs[..., None])[..., 0]
    chi2 = values @ values - np.einsum("vbk,vbk->vb", coef, rhs)
    _, logdet = np.linalg.slogdet(normal)
    return -0.5 * chi2 / sigma_noise ** 2 - 0.5 * logdet


def _window_channels(axis, vlo, vhi, pad):
    lo = np.minimum(line_position_cm1(REST, vhi), line_position_cm1(REST, vlo))
    hi = np.maximum(line_position_cm1(REST, vhi), line_position_cm1(REST, vlo))
    keep = np.zeros(axis.size, bool)
    for a, b in zip(lo, hi):
        keep |= (axis >= a - pad) & (axis <= b + pad)
    return keep


def posterior_mean(values, axis, fwhm, sigma_noise, vrange, bmax, pad):
    """Posterior mean (v, b) and its std under uniform priors (module docstring)."""
    good = np.isfinite(values)
    values, axis = values[good], axis[good]
    keep = _window_channels(axis, -vrange, vrange, pad)
    bf = np.linspace(0, bmax, 41)
    # coarse pass over the whole prior
    vg = np.arange(-vrange, vrange + 1e-9, 4.0)
    bg = bf[::4]
    ll = _loglike(values[keep], axis[keep], fwhm, sigma_noise, vg, bg)
    pv = np.exp(ll - ll.max()).sum(axis=1)
    sel = np.nonzero(pv > 1e-7 * pv.max())[0]
    vlo, vhi = max(-vrange, vg[sel[0]] - 6.0), min(vrange, vg[sel[-1]] + 6.0)
    nv = int(min(160, max(30, (vhi - vlo) / 0.5)))
    vf = np.linspace(vlo, vhi, nv)
    keep = _window_channels(axis, vlo, vhi, pad)
    out = []
    for chunk in np.array_split(np.arange(nv), max(1, nv // 40)):
        out.append(_loglike(values[keep], axis[keep], fwhm, sigma_noise, vf[chunk], bf))
    ll = np.concatenate(out)
    p = np.exp(ll - ll.max())
    # trapezoid-like weights at the prior edges
    wv = np.ones(nv)
    wb = np.ones(bf.size)
    wb[[0, -1]] = 0.5
    if vlo <= -vrange + 1e-9:
        wv[0] = 0.5
    if vhi >= vrange - 1e-9:
        wv[-1] = 0.5
    p = p * wv[:, None] * wb[None, :]
    p /= p.sum()
    mv = float((p.sum(1) * vf).sum())
    mb = float((p.sum(0) * bf).sum())
    sv = float(np.sqrt((p.sum(1) * (vf - mv) ** 2).sum()))
    sb = float(np.sqrt((p.sum(0) * (bf - mb) ** 2).sum()))
    return mv, mb, sv, sb


# ---------------------------------------------------------------- table
def table_rows(label, pred, v, b, snr, with_cov=True):
    rows = []
    for (lo, hi), bn in zip(BINS, BIN_NAMES):
        m = (snr >= lo) & (snr < hi)
        if not m.any():
            continue
        ev, eb = pred[m, 0] - v[m], pred[m, 1] - b[m]
        row = [label, bn, int(m.sum()), np.sqrt(np.mean(ev ** 2)), ev.mean(), np.sqrt(np.mean(eb ** 2)), eb.mean()]
        if with_cov and pred.shape[1] >= 4:
            row += [np.mean(np.abs(ev) <= pred[m, 2]), np.mean(np.abs(eb) <= pred[m, 3])]
        else:
            row += [np.nan, np.nan]
        rows.append(row)
    return rows


def print_table(title, rows):
    print(f"\n{title}")
    print(f"{'estimator':46s} {'SNR':>6s} {'n':>5s} {'v rmse':>7s} {'v bias':>7s} {'b rmse':>7s} {'b bias':>7s} "
          f"{'cov v':>6s} {'cov b':>6s}")
    for r in rows:
        cov = "".join(f" {x:6.2f}" if np.isfinite(x) else "      -" for x in r[7:9])
        print(f"{r[0]:46s} {r[1]:>6s} {r[2]:5d} {r[3]:7.2f} {r[4]:7.2f} {r[5]:7.2f} {r[6]:7.2f}{cov}")


def peer_predict(path, te, idx):
    sys.path.insert(0, str(PEERS))
    from run_peer import PeerModel
    m = PeerModel(str(path))
    vals, axs, _ = native_rows(te)
    out = np.zeros((len(idx), 4))
    for k, i in enumerate(idx):
        y = np.nan_to_num(vals[i], nan=np.nanmedian(vals[i]))
        r = m.predict(axs[i], y[None, :], frame="air")
        out[k, 0], out[k, 1] = r["velocity"][0], r["broadening"][0]
        if "velocity_std" in r:
            out[k, 2], out[k, 3] = r["velocity_std"][0], r["broadening_std"][0]
    return out, m.is_mdn


def bench_set(model_path, preset_name, vrange, n, n_limit, n_peer, peers, seed_offset=0, variant="clean"):
    """Print the table of one test set; return a summary dict (RMSE over all SNR, limits)."""
    card = json.loads(Path(model_path).with_suffix(".json").read_text())
    preset = PRESETS[preset_name]
    seed = card["test"]["seed"] + seed_offset
    t0 = time.time()
    te = generate(n, preset, seed, test=True, vrange=vrange, keep_native=True, variant=variant)
    x = prepare_all(te, card)
    gen_s = time.time() - t0
    sess = onnx_session(model_path)
    pred = run_onnx(sess, x)
    v, b, snr = te["velocity"], te["broadening"], te["snr"]
    rows = table_rows(f"mirabelle {card['name']} v{card['version']}", pred, v, b, snr)
    summary = {"rmse": rows[-1][3::2][:2] if rows else (np.nan, np.nan), "coverage": rows[-1][7:9] if rows else ()}
    valid = valid_priors(te, card, pred)
    valid_rows = table_rows(f"  valid priors only ({valid.mean():.1%})", pred[valid], v[valid], b[valid], snr[valid])
    rows += valid_rows
    summary["valid"] = valid_rows[-1][3::2][:2]
    summary["valid_fraction"] = float(valid.mean())
    for p in peers:
        k = min(n_peer, n)
        out, mdn = peer_predict(p, te, np.arange(k))
        label = p.stem.replace("-predictor-i", "")
        rows += table_rows(f"LUCI {label} (air)", out, v[:k], b[:k], snr[:k], mdn)
        bias = np.mean(out[:, 0] - v[:k])
        out2 = out.copy()
        out2[:, 0] -= bias
        rows += table_rows(f"  same, v bias {bias:+.1f} removed", out2, v[:k], b[:k], snr[:k], mdn)
        # LUCI divides by the maximum without removing the continuum: show it on the
        # continuum-free spectra too (its own bias removed), next to ours on the same
        flat = te["cont_level"][:k] == 0
        bias0 = np.mean(out[flat, 0] - v[:k][flat])
        out3 = out[flat].copy()
        out3[:, 0] -= bias0
        rows += table_rows(f"  no-continuum subset, bias {bias0:+.1f} removed", out3, v[:k][flat], b[:k][flat],
                           snr[:k][flat], mdn)
        if p == peers[-1]:
            rows += table_rows("  mirabelle on that subset", pred[:k][flat], v[:k][flat], b[:k][flat], snr[:k][flat])
    if n_limit > 0:
        vals, axs, fw = native_rows(te)
        pad = max(25.0, 3.0 * HALPHA_CM1 / preset.r_test[0])
        t1 = time.time()
        k = min(n_limit, n)
        cache = Path(os.environ.get("MIRABELLE_BENCH_CACHE", "/tmp")) / f"limit-{preset_name}-{seed}-{vrange:g}-{n}-{k}.npy"
        if cache.exists():
            lim = np.load(cache)
        else:
            lim = np.array([posterior_mean(vals[i], axs[i], fw[i], 1.0 / snr[i], vrange, preset.bmax, pad)
                            for i in range(k)])
            np.save(cache, lim)
        k = len(lim)
        same = table_rows(f"ours on the same {k}", pred[:k], v[:k], b[:k], snr[:k])
        limit = table_rows(f"posterior-mean limit ({k})", lim, v[:k], b[:k], snr[:k])
        rows += same + limit
        summary["same"] = same[-1][3::2][:2]
        summary["limit"] = limit[-1][3::2][:2]
        print(f"(limit: {time.time() - t1:.0f} s for {k} spectra)", flush=True)
    print_table(f"{card['name']} on {n} held-out spectra (seed {seed}, {variant}): v ±{vrange:.0f} km/s, "
                f"b 0..{preset.bmax:.0f}, R {preset.r_test[0]:.0f}..{preset.r_test[1]:.0f}, SNR 5..30 "
                f"(generated + prepared in {gen_s:.0f} s)", rows)
    return summary


def valid_priors(te, card, pred) -> np.ndarray:
    """The priors the whole-cube runner keeps (no quality bit): Hα SNR ≥ 3 from the line solve
    at the predicted kinematics (in the observed frame, on the spectrum less its fitted OH sky, as
    ``runner._process`` does), velocity and broadening inside the model's ranges (± 1 sigma)."""
    from mirabelle.inference.linefit import LineSolver
    from mirabelle.inference.runner import SNR_THRESHOLD
    from mirabelle.lines import compose_velocities
    from mirabelle.lines.sky import sky_amplitudes
    v_lo, v_hi = card["ranges"]["velocity_kms"]
    b_hi = card["ranges"]["broadening_kms"][1]
    snr_halpha, edge, start = [], [], 0
    for values, axes, fwhm, vsys, sky in te["native"]:  # chunks differ in their channel count
        step = (axes[:, -1] - axes[:, 0]) / (axes.shape[1] - 1)
        vsys = np.broadcast_to(np.asarray(vsys, np.float64), (len(values),))
        chunk = pred[start:start + len(values)]
        observed = compose_velocities(vsys, chunk[:, 0].astype(np.float64))
        if sky is not None and card["input"].get("sky") == "fit":
            values = values - sky * sky_amplitudes(values, sky)[:, None].astype(np.float32)
        solver = LineSolver((step.min(), step.max()), (fwhm.min(), fwhm.max()),
                            (min(observed.min(), v_lo) - 100.0, max(observed.max(), v_hi) + 100.0), (0.0, 1.5 * b_hi))
        lines = solver.solve(values, axes[:, 0], step, fwhm, observed, chunk[:, 1])
        snr_halpha.append(lines.snr_halpha)
        edge.append(lines.edge)
        start += len(values)
    inside_v = (pred[:, 0] >= v_lo - pred[:, 2]) & (pred[:, 0] <= v_hi + pred[:, 2])
    inside_b = (pred[:, 1] >= -pred[:, 3]) & (pred[:, 1] <= b_hi + pred[:, 3])
    return (np.concatenate(snr_halpha) >= SNR_THRESHOLD) & inside_v & inside_b & ~np.concatenate(edge)


def native_rows(te):
    """Per-row lists (values, axis) and an array of fwhm from the chunked native spectra."""
    vals, axs, fws = [], [], []
    for values, axes, fwhm, _, _ in te["native"]:
        vals += list(values)
        axs += list(axes)
        fws.append(fwhm)
    return vals, axs, np.concatenate(fws)


def prepare_all(te, card):
    return np.concatenate([network_input(card, values, axes, vsys, sky, fwhm_cm1=fwhm)
                           for values, axes, fwhm, vsys, sky in te["native"]])


def throughput(model_path, n=131072):
    card = json.loads(Path(model_path).with_suffix(".json").read_text())
    from mirabelle.lines import axis_cm1
    ax = axis_cm1(2943.025792, 8, 840, 1.0374712)
    ax = ax[(ax > 14598) & (ax < 15440)]
    rng = np.random.default_rng(0)
    raw = (rng.normal(size=(n, ax.size)) + 10).astype(np.float32)
    sess = onnx_session(model_path)
    L = card["input"]["axis_cm1"][2] + bool(card["input"].get("fwhm_input"))
    x = rng.normal(size=(n, L)).astype(np.float32)
    run_onnx(sess, x[:8192])
    t = time.perf_counter()
    run_onnx(sess, x)
    net = n / (time.perf_counter() - t)
    t = time.perf_counter()
    for i in range(0, n, 8192):
        sess.run(None, {"spectrum": network_input(card, raw[i:i + 8192], ax, fwhm_cm1=3.165)})
    both = n / (time.perf_counter() - t)
    print(f"{card['name']}: ONNX network {net:,.0f} spectra/s; prepare + network {both:,.0f} spectra/s "
          f"(2 threads, batch 8192, {ax.size}-channel calibrated spectra)")


REFERENCE_LIMITS = {1000: (10.3, 13.3), 2000: (5.5, 9.8), 3000: (3.9, 6.1), 5000: (2.6, 3.3), 7000: (2.3, 2.5),
                    9600: (2.0, 2.0)}
"""Posterior-mean limits (velocity, broadening RMSE, km/s) of ../shared/docs/cnn.md and issue 10."""
PEERS_BY_MODEL = {"sn3-r5000": ["luci_r5000-predictor-i-sn3.onnx", "luci_r5000-predictor-i-mdn-sn3.onnx"],
                  "sn3-r2000": ["luci_r2000-predictor-i-sn3.onnx", "luci_r2000-predictor-i-mdn-sn3.onnx"]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--models", default=str(ROOT / "models"))
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--n-limit", type=int, default=120)
    ap.add_argument("--n-peer", type=int, default=0, help="spectra for the LUCI peers (0: skip them)")
    ap.add_argument("--only", default=None, help="a model name, e.g. sn3-r3000")
    ap.add_argument("--no-throughput", action="store_true")
    args = ap.parse_args(argv)
    models = Path(args.models)
    cards = [json.loads(p.read_text()) for p in sorted(models.glob("sn3-r*.json"))]
    cards.sort(key=lambda card: card["resolution_range"][0])
    summary = []
    for card in cards:
        name = card["name"]
        if args.only and args.only != name:
            continue
        path = models / f"{name}.onnx"
        preset = card["training"]["preset"]
        peers = [PEERS / p for p in PEERS_BY_MODEL.get(name, []) if (PEERS / p).exists()] if args.n_peer else []
        row = {"name": name, "r_test": PRESETS[preset].r_test}
        row["v200"] = bench_set(path, preset, 200.0, args.n, args.n_limit, args.n_peer, peers)
        for label, off, variant in (("v800", 1, "clean"), ("sky", 2, "sky"), ("stellar", 3, "stellar")):
            row[label] = bench_set(path, preset, PRESETS[preset].vmax, args.n, 0, 0, [], off, variant)
        summary.append(row)
        if not args.no_throughput:
            throughput(path)
    print("\nSummary, velocity / broadening RMSE (km/s) over SNR 5–30:")
    print(f"{'model':10s} {'R test':>11s} {'v ±200':>13s} {'valid (%)':>20s} {'ours (same)':>13s} {'limit':>13s} "
          f"{'ratio':>11s} {'ref. limit':>11s} {'v ±800':>13s} {'sky':>13s} {'sky valid':>13s} {'stellar':>13s} "
          f"{'stellar valid':>13s}")
    for row in summary:
        r_mid = 0.5 * sum(row["r_test"])
        ref = REFERENCE_LIMITS.get(min(REFERENCE_LIMITS, key=lambda r: abs(r - r_mid)), (np.nan, np.nan))
        v200 = row["v200"]
        same, limit = v200.get("same", (np.nan, np.nan)), v200.get("limit", (np.nan, np.nan))
        pair = lambda t: f"{t[0]:5.2f} / {t[1]:5.2f}"  # noqa: E731
        print(f"{row['name']:10s} {row['r_test'][0]:5.0f}–{row['r_test'][1]:<5.0f} {pair(v200['rmse']):>13s} "
              f"{pair(v200['valid']):>13s} ({v200['valid_fraction']:5.1%}) "
              f"{pair(same):>13s} {pair(limit):>13s} {same[0] / limit[0]:5.2f}/{same[1] / limit[1]:4.2f} "
              f"{ref[0]:5.1f}/{ref[1]:4.1f} {pair(row['v800']['rmse']):>13s} {pair(row['sky']['rmse']):>13s} "
              f"{pair(row['sky']['valid']):>13s} {pair(row['stellar']['rmse']):>13s} "
              f"{pair(row['stellar']['valid']):>13s}")


if __name__ == "__main__":
    main()
