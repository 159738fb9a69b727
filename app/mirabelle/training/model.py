"""The kinematics network (torch; training only) and its ONNX export.

Coarse-to-fine, all inside one graph whose input is the prepared spectrum (batch, L):

1. Coarse velocity: matched filters. For each velocity ``v_j`` that moves Hα by exactly ``j``
   model channels (j = −J..J, covering ±(vmax + 80 km/s)), three zero-mean unit-norm templates
   (gaussians of about the instrumental width) for Hα, the tied [NII] doublet and the [SII]
   doublet; ``score_j = Σ relu(x · t)²`` (the chi² reduction of a nonnegative fit of the three
   components, so a bright [NII]6583 does not capture Hα) and ``j* = argmax``.
2. Alignment: two windows are gathered at integer offsets: the Hα+[NII] window shifted by
   exactly ``j*`` channels (so its content only depends on the residual velocity) and the
   [SII] window shifted by ``round`` of the [SII] shift (its sub-channel remainder, known
   for each j, is passed as a feature together with ``v_j``).
3. Fine pass: a small MLP on the two windows predicts the residual velocity, the
   broadening, the log of their 1-sigma errors and a logit "this alignment is right" (its
   inputs: the two windows, the [SII] sub-channel offset, ``v_j``, and the matched-filter
   scores of this candidate and of the other);
   ``v = v_j + residual`` is added back in the graph. The MLP runs on two candidates: j1 (the
   argmax) and j2 (the best-scoring alias of j1: the shifts that put the Hα template on
   [NII]6583 or [NII]6548, ±1 channel), and the candidate with the larger logit wins — at
   SNR ~5 with [NII]6583 ≈ Hα the matched filter alone picks the wrong line ~1e-4 of the time.
   Output ``kinematics`` (batch, 4): v, broadening, v_err, b_err (km/s).
4. Models with ``fwhm_input`` read one more input column after the spectrum, the sinc FWHM in
   model channels, and give it to the MLP: the instrumental width need not be guessed from the
   line shape across the model's resolution range.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from mirabelle.lines import C_KMS, REST_NM, line_position_cm1, velocity_from_position
from mirabelle.lines import HALPHA_CM1 as HA

TEMPLATE_AMPS = {"NII6548": 0.4 / 2.95, "Halpha": 1.0, "NII6583": 0.4, "SII6716": 0.25, "SII6731": 0.2}
FWHM_CENTRE_CHANNELS = 2.0
"""Subtracted from the FWHM input (model channels: ~1.5-2.5 over a model's range) to centre it."""
V_SCALE = 20.0
B_SCALE = 25.0


def build_geometry(axis_spec, margin_cm1: float, vmax: float, template_width_cm1: float):
    """Numpy arrays defining the coarse stage and the windows (see module docstring)."""
    start, step, length = axis_spec
    axis = start + step * np.arange(length)
    jmax = int(np.ceil(HA * (vmax + 80.0) / C_KMS / step))
    js = np.arange(-jmax, jmax + 1)
    # j > 0: Hα moved to higher wavenumber (blueshift).
    v_j = velocity_from_position(REST_NM["Halpha"], HA + js * step)
    names = list(TEMPLATE_AMPS)
    bank = np.zeros((length, js.size))
    for col, v in enumerate(v_j):
        for name in names:
            pos = line_position_cm1(REST_NM[name], v)
            bank[:, col] += TEMPLATE_AMPS[name] * np.exp(-0.5 * ((axis - pos) / template_width_cm1) ** 2)
    # orthogonal to a constant and a slope: the continuum left after preprocessing is ignored
    basis = np.stack([np.ones(length), np.linspace(-1.0, 1.0, length)], axis=1)
    bank -= basis @ np.linalg.lstsq(basis, bank, rcond=None)[0]
    # Hα+[NII] window at v = 0, shifted by j channels.
    h_lo = line_position_cm1(REST_NM["NII6583"], 0.0) - margin_cm1
    h_hi = line_position_cm1(REST_NM["NII6548"], 0.0) + margin_cm1
    h0 = int(np.floor((h_lo - start) / step))
    wh = int(np.ceil((h_hi - start) / step)) - h0 + 1
    start_h = h0 + js
    s_lo = line_position_cm1(REST_NM["SII6731"], 0.0) - margin_cm1
    s_hi = line_position_cm1(REST_NM["SII6716"], 0.0) + margin_cm1
    s0 = int(np.floor((s_lo - start) / step))
    ws = int(np.ceil((s_hi - start) / step)) - s0 + 1
    s_shift = (line_position_cm1(REST_NM["SII6731"], v_j) - line_position_cm1(REST_NM["SII6731"], 0.0)) / step
    s_round = np.round(s_shift)
    start_s = s0 + s_round.astype(int)
    frac_s = s_shift - s_round
    if start_h.min() < 0 or start_s.min() < 0 or start_h.max() + wh > length or start_s.max() + ws > length:
        raise ValueError("model axis too short for the windows")
    # alias shifts: the coarse filter may put the Hα template on another line of the group
    gaps = [HA - 1e7 / REST_NM["NII6583"], 1e7 / REST_NM["NII6548"] - HA,
            1e7 / REST_NM["NII6548"] - 1e7 / REST_NM["NII6583"]]
    alias = sorted({sgn * (int(round(gp / step)) + d) for gp in gaps for sgn in (-1, 1) for d in (-1, 0, 1)})
    return dict(bank=bank.astype(np.float32), v_j=v_j.astype(np.float32), start_h=start_h, wh=wh,
                start_s=start_s, ws=ws, frac_s=frac_s.astype(np.float32), jmax=jmax,
                alias=np.array(alias, dtype=np.int64), chan_kms=float(step / HA * C_KMS))


class KinematicsNet(nn.Module):
    def __init__(self, geometry: dict, hidden=(256, 128), vmax: float = 800.0, fwhm_input: bool = False):
        super().__init__()
        g = geometry
        self.channels = int(g["bank"].shape[0])
        self.fwhm_input = bool(fwhm_input)  # a last input column holds the sinc FWHM (model channels)
        self.register_buffer("bank", torch.from_numpy(g["bank"]))
        self.register_buffer("v_j", torch.from_numpy(g["v_j"]))
        self.register_buffer("start_h", torch.from_numpy(g["start_h"].astype(np.int64)))
        self.register_buffer("start_s", torch.from_numpy(g["start_s"].astype(np.int64)))
        self.register_buffer("frac_s", torch.from_numpy(g["frac_s"]))
        self.register_buffer("ar_h", torch.arange(g["wh"], dtype=torch.int64))
        self.register_buffer("ar_s", torch.arange(g["ws"], dtype=torch.int64))
        self.register_buffer("alias", torch.from_numpy(g["alias"]))
        # j2 replaces j1 only when its logit is larger by this margin (set on validation data)
        self.register_buffer("alias_margin", torch.tensor(0.0))
        self.chan_kms = float(g["chan_kms"])
        self.vmax = float(vmax)
        n_in = g["wh"] + g["ws"] + 4 + self.fwhm_input
        layers = []
        for h in hidden:
            layers += [nn.Linear(n_in, h), nn.ReLU()]
            n_in = h
        layers.append(nn.Linear(n_in, 5))
        self.mlp = nn.Sequential(*layers)

    def candidates(self, x):
        """Coarse shift j1 (argmax of the matched filter) and j2 (best alias of j1)."""
        score = x @ self.bank
        j1 = torch.argmax(score, dim=1)
        k = self.v_j.shape[0]
        raw = j1.unsqueeze(1) + self.alias.unsqueeze(0)
        inside = (raw >= 0) & (raw <= k - 1)
        cand = torch.clamp(raw, 0, k - 1)
        # aliases off the grid never win (a clamped one would repeat an edge shift)
        alias_score = torch.where(inside, torch.gather(score, 1, cand), torch.full_like(score[:, :1], -1e30))
        best = torch.argmax(alias_score, dim=1, keepdim=True)
        j2 = torch.gather(cand, 1, best).squeeze(1)
        s1 = torch.gather(score, 1, j1.unsqueeze(1))
        s2 = torch.gather(score, 1, j2.unsqueeze(1))
        return j1, j2, s1, s2

    def features(self, x, j, s_own, s_other, fwhm=None):
        idx_h = self.start_h[j].unsqueeze(1) + self.ar_h.unsqueeze(0)
        idx_s = self.start_s[j].unsqueeze(1) + self.ar_s.unsqueeze(0)
        vj = self.v_j[j]
        parts = [torch.gather(x, 1, idx_h), torch.gather(x, 1, idx_s),
                 self.frac_s[j].unsqueeze(1), (vj / self.vmax).unsqueeze(1), s_own, s_other]
        if fwhm is not None:
            parts.append(fwhm - FWHM_CENTRE_CHANNELS)
        return torch.cat(parts, dim=1), vj

    def head(self, f, vj):
        o = self.mlp(f)
        v = vj + V_SCALE * o[:, 0]
        b = B_SCALE * (1.0 + o[:, 1])
        lv = torch.clamp(o[:, 2], -8.0, 6.0)
        lb = torch.clamp(o[:, 3], -8.0, 6.0)
        return v, b, lv, lb, o[:, 4], vj

    def forward_both(self, x):
        fwhm = x[:, self.channels:self.channels + 1] if self.fwhm_input else None
        x = x[:, :self.channels]
        j1, j2, s1, s2 = self.candidates(x)
        n = x.shape[0]
        # features gathered per candidate (no copy of x), one MLP pass on both
        f1, v1 = self.features(x, j1, s1, s2, fwhm)
        f2, v2 = self.features(x, j2, s2, s1, fwhm)
        out = self.head(torch.cat([f1, f2], 0), torch.cat([v1, v2], 0))
        return [t[:n] for t in out], [t[n:] for t in out]

    def forward_raw(self, x):
        c1, c2 = self.forward_both(x)
        use2 = c2[4] > c1[4] + self.alias_margin
        return tuple(torch.where(use2, a2, a1) for a1, a2 in zip(c1[:4], c2[:4]))

    def forward(self, x):
        v, b, lv, lb = self.forward_raw(x)
        return torch.stack([v, b, torch.exp(lv) * V_SCALE, torch.exp(lb) * B_SCALE], dim=1)


def export_onnx(net: KinematicsNet, length: int, path, card: dict | None = None):
    """Export to ONNX (input ``spectrum`` (batch, L), output ``kinematics`` (batch, 4)); embeds
    the card (without ``onnx_sha256``) in metadata_props ``mirabelle_card``."""
    import json

    import onnx

    import warnings

    net = net.eval()
    dummy = torch.zeros(2, length)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (dummy,), str(path), input_names=["spectrum"], output_names=["kinematics"],
                          dynamic_axes={"spectrum": {0: "batch"}, "kinematics": {0: "batch"}},
                          opset_version=17, dynamo=False)
    model = onnx.load(str(path))
    if card is not None:
        stub = {k: v for k, v in card.items() if k != "onnx_sha256"}
        del model.metadata_props[:]
        entry = model.metadata_props.add()
        entry.key = "mirabelle_card"
        entry.value = json.dumps(stub, sort_keys=True)
    onnx.save(model, str(path))
