"""Hostile cube files (issue 13's families), written small into a folder: each case is a name and a
function ``make(folder) -> path``. The test suite runs a representative subset; the fuzz benchmark
(tests/bench/bench_fuzz.py) runs them all plus random byte flips and truncations of good files."""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np
from astropy.io import fits

from cube_files import M31, write_fits_cube, write_orb_cube

NX, NY = 6, 5
NZ = 40


def _orb(folder: Path, name: str, attrs=None, drop=(), nz: int = NZ, **kwargs) -> Path:
    path = folder / f"{name}.hdf5"
    params = dict(M31, step_nb=nz + 10, zpd_index=8)
    write_orb_cube(path, NX, NY, params=params, nz=nz, extra_attrs=attrs, drop=drop, **kwargs)
    return path


def _edit(path: Path, edit) -> Path:
    with h5py.File(path, "r+") as f:
        edit(f)
    return path


def _fits(folder: Path, name: str, cards: dict | None = None, drop=(), nz: int = NZ, data=None) -> Path:
    path = folder / f"{name}.fits"
    base = dict(CTYPE3="WAVENUMBER", CUNIT3="cm-1", CRVAL3=14600.0, CDELT3=2.0, CRPIX3=1.0,
                FILTER="SN3", STEP=2943.025792, ORDER=8, STEP_NB=NZ + 10, ZPDINDEX=8)
    base.update(cards or {})
    for key in drop:
        base.pop(key, None)
    values = np.random.default_rng(0).normal(10, 1, (NX, NY, nz)).astype(np.float32) if data is None else data
    write_fits_cube(path, values, base)
    return path


def _patch_card(path: Path, key: str, text: str) -> Path:
    """Overwrite the value field of FITS card ``key`` with raw ``text`` (what astropy would refuse)."""
    raw = bytearray(path.read_bytes())
    for start in range(0, 2880 * 4, 80):
        if raw[start:start + 8].decode("ascii", "replace").strip() == key:
            raw[start + 10:start + 30] = text.rjust(20).encode("ascii")[:20]
            break
    else:
        raise KeyError(key)
    path.write_bytes(bytes(raw))
    return path


def _declared_huge_hdf5(folder: Path, name: str, shape, step_nb: int) -> Path:
    path = folder / f"{name}.hdf5"
    with h5py.File(path, "w") as f:
        f.create_dataset("data", shape=shape, dtype=np.float32, chunks=(8, 8, min(shape[2], 64)))
        f.attrs.update(dict(M31, step_nb=step_nb, zpd_index=8, filter_name="SN3"))
    return path


def _header_dataset(f, value: bytes) -> None:
    cards = np.array([[b"STEP", value, b"", b"float"], [b"OBJECT", b"\xff\xfe\x80", b"", b"str"]], dtype="S16")
    f.create_dataset("header", data=cards)


HDF5_CASES = {
    "nan_crval1": lambda d: _orb(d, "nan_crval1", attrs={"CRVAL1": np.nan}),
    "inf_crpix2": lambda d: _orb(d, "inf_crpix2", attrs={"CRPIX2": np.inf}),
    "header_not_utf8": lambda d: _edit(_orb(d, "header_not_utf8", drop=("step",)),
                                       lambda f: _header_dataset(f, b"\xff\xfe2943")),
    "compound_attribute": lambda d: _edit(_orb(d, "compound_attribute"), lambda f: f.attrs.__setitem__(
        "step", np.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")]))),
    "data_external_link_missing": lambda d: _edit(_orb(d, "data_external_link_missing"), lambda f: (
        f.__delitem__("data"), f.__setitem__("data", h5py.ExternalLink("missing.hdf5", "/data")))),
    "data_soft_link_loop": lambda d: _edit(_orb(d, "data_soft_link_loop"), lambda f: (
        f.__delitem__("data"), f.__setitem__("data", h5py.SoftLink("/loop")),
        f.__setitem__("loop", h5py.SoftLink("/data")))),
    "step_nb_2pow31": lambda d: _orb(d, "step_nb_2pow31", attrs={"step_nb": 2**31}),
    "step_nb_1e12": lambda d: _orb(d, "step_nb_1e12", attrs={"step_nb": 1e12}, with_base_axis=False),
    "declared_100000_square": lambda d: _declared_huge_hdf5(d, "declared_100000_square", (100000, 100000, 50), 60),
    "step_nb_below_channels": lambda d: _orb(d, "step_nb_below_channels", attrs={"step_nb": NZ - 5}),
    "base_axis_text": lambda d: _orb(d, "base_axis_text", attrs={"base_axis": "14000 to 15000"}),
    "step_1e-300": lambda d: _orb(d, "step_1e-300", attrs={"step": 1e-300}),
    "zpd_beyond_step_nb": lambda d: _orb(d, "zpd_beyond_step_nb", attrs={"zpd_index": 10**6}),
    "one_channel": lambda d: _orb(d, "one_channel", nz=1),
    "data_is_group": lambda d: _edit(_orb(d, "data_is_group"), lambda f: (
        f.__delitem__("data"), f.create_group("data"))),
    "data_strings": lambda d: _edit(_orb(d, "data_strings"), lambda f: (
        f.__delitem__("data"), f.create_dataset("data", data=np.full((NX, NY, NZ), b"x", dtype="S1")))),
    "data_all_nan": lambda d: _orb(d, "data_all_nan", values=np.full((NX, NY, NZ), np.nan, np.float32)),
    "calib_map_wrong_shape": lambda d: _orb(d, "calib_map_wrong_shape", calib_map=np.ones((2, 2))),
    "order_negative": lambda d: _orb(d, "order_negative", attrs={"order": -3}),
    "truncated_hdf5": lambda d: _truncate(_orb(d, "truncated_hdf5"), 0.6),
}

FITS_CASES = {
    "fits_nan_cdelt3": lambda d: _patch_card(_fits(d, "fits_nan_cdelt3"), "CDELT3", "NAN"),
    "fits_inf_step": lambda d: _patch_card(_fits(d, "fits_inf_step"), "STEP", "INF"),
    "fits_nan_crval3": lambda d: _patch_card(_fits(d, "fits_nan_crval3"), "CRVAL3", "NaN"),
    "fits_cdelt3_text": lambda d: _fits(d, "fits_cdelt3_text", {"CDELT3": "abc"}),
    "fits_bitpix_17": lambda d: _patch_card(_fits(d, "fits_bitpix_17"), "BITPIX", "17"),
    "fits_freq_axis": lambda d: _fits(d, "fits_freq_axis", {"CTYPE3": "FREQ", "CUNIT3": "Hz", "CRVAL3": 4.4e14,
                                                            "CDELT3": 6e10}),
    "fits_cunit3_pc": lambda d: _fits(d, "fits_cunit3_pc", {"CUNIT3": "pc"}),
    "fits_one_channel": lambda d: _fits(d, "fits_one_channel", nz=1),
    "fits_flipped_header_byte": lambda d: _flip(_fits(d, "fits_flipped_header_byte"), 85, 0x80),
    "fits_truncated": lambda d: _truncate(_fits(d, "fits_truncated"), 0.7),
    "fits_declared_100000_square": lambda d: _patch_card(_patch_card(
        _fits(d, "fits_declared_100000_square"), "NAXIS1", "100000"), "NAXIS2", "100000"),
    "fits_zero_cdelt3": lambda d: _fits(d, "fits_zero_cdelt3", {"CDELT3": 0.0}),
    "fits_2d": lambda d: _fits_2d(d),
    "fits_all_nan": lambda d: _fits(d, "fits_all_nan", data=np.full((NX, NY, NZ), np.nan, np.float32)),
}

OTHER_CASES = {
    "empty_file": lambda d: _bytes(d, "empty_file.hdf5", b""),
    "text_file": lambda d: _bytes(d, "text_file.fits", b"hello, not a cube\n"),
    "hdf5_signature_only": lambda d: _bytes(d, "hdf5_signature_only.hdf5", b"\x89HDF\r\n\x1a\n" + b"\0" * 100),
    "fits_signature_only": lambda d: _bytes(d, "fits_signature_only.fits", b"SIMPLE  =" + b" " * 71),
    "a_folder": lambda d: _folder(d),
    "missing_file": lambda d: d / "missing.hdf5",
}

CASES = {**HDF5_CASES, **FITS_CASES, **OTHER_CASES}


def _fits_2d(folder: Path) -> Path:
    path = folder / "fits_2d.fits"
    fits.PrimaryHDU(np.zeros((NY, NX), np.float32)).writeto(path)
    return path


def _bytes(folder: Path, name: str, payload: bytes) -> Path:
    path = folder / name
    path.write_bytes(payload)
    return path


def _folder(folder: Path) -> Path:
    path = folder / "a_folder.hdf5"
    path.mkdir()
    return path


def _truncate(path: Path, fraction: float) -> Path:
    size = os.path.getsize(path)
    os.truncate(path, int(size * fraction))
    return path


def _flip(path: Path, offset: int, mask: int) -> Path:
    raw = bytearray(path.read_bytes())
    raw[offset % len(raw)] ^= mask
    path.write_bytes(bytes(raw))
    return path


def byte_flips(good: Path, folder: Path, count: int, seed: int = 0) -> list[Path]:
    """``count`` copies of ``good`` with one random byte changed each (header region weighted)."""
    rng = np.random.default_rng(seed)
    raw = good.read_bytes()
    out = []
    for index in range(count):
        changed = bytearray(raw)
        limit = len(raw) if index % 3 == 0 else min(len(raw), 8192)
        changed[int(rng.integers(0, limit))] = int(rng.integers(0, 256))
        path = folder / f"flip{index:04d}_{good.name}"
        path.write_bytes(bytes(changed))
        out.append(path)
    return out


def truncations(good: Path, folder: Path, count: int) -> list[Path]:
    """``count`` copies of ``good`` cut at evenly spread lengths."""
    raw = good.read_bytes()
    out = []
    for index, length in enumerate(np.linspace(1, len(raw) - 1, count).astype(int)):
        path = folder / f"cut{index:04d}_{good.name}"
        path.write_bytes(raw[:length])
        out.append(path)
    return out
