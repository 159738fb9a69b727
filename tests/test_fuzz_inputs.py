"""Hostile inputs (issue 13): each gives one sentence naming the file, never a traceback, in bounded
memory; the CLI boundary turns a surprise into one line; a closed pipe is quiet; HDF5 locking lets
plain h5py work beside an open cube. The full families run in tests/bench/bench_fuzz.py."""

import json
import resource
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from fuzz_cases import CASES, byte_flips, truncations

from mirabelle import cli
from mirabelle.cube import open_cube
from mirabelle.synthetic import write_synthetic_cube

# Readable despite the oddity: `info` succeeds (and says what it ignored).
READABLE = {"nan_crval1": "celestial WCS keyword CRVAL1", "inf_crpix2": "CRPIX2",
            "fits_inf_step": "cards STEP cannot be parsed", "data_all_nan": "", "calib_map_wrong_shape": "ignored",
            "fits_freq_axis": "", "fits_all_nan": ""}
EXPECTED = {
    "header_not_utf8": "where a number (the mirror step in nm) was expected",
    "data_external_link_missing": "external link to missing.hdf5",
    "data_soft_link_loop": "leads nowhere",
    "step_nb_2pow31": "expected 1 to 100,000 mirror steps",
    "declared_100000_square": "declares 100000 × 100000 pixels",
    "step_nb_below_channels": "40 channels but step_nb = 35",
    "base_axis_text": "has base_axis = '14000 to 15000': expected 40 wavenumbers",
    "step_1e-300": "expected a mirror step between",
    "one_channel": "has 1 channel",
    "fits_nan_cdelt3": "the CDELT3 card cannot be parsed ('NAN')",
    "fits_nan_crval3": "the CRVAL3 card cannot be parsed",
    "fits_cdelt3_text": "CDELT3 = 'abc'",
    "fits_bitpix_17": "BITPIX = 17",
    "fits_cunit3_pc": "outside the optical range",
    "fits_flipped_header_byte": "header is corrupt",
    "fits_truncated": "is truncated",
    "fits_declared_100000_square": "is truncated",
    "compound_attribute": "where a number",
    "data_strings": "expected float or complex",
    "truncated_hdf5": "truncated or corrupt",
    "hdf5_signature_only": "truncated or corrupt",
    "empty_file": "is empty",
}


def _info(path, capsys):
    status = cli.main(["info", str(path)])
    out, err = capsys.readouterr()
    return status, out, [line for line in err.splitlines() if line.strip()]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_hostile_file_is_one_sentence_naming_it(name, tmp_path, capsys):
    path = CASES[name](tmp_path)
    status, out, err = _info(path, capsys)
    assert status == 2 and out == "" and len(err) == 1, err
    assert err[0].startswith(f"mirabelle: error: {path}") and EXPECTED[name] in err[0], err[0]
    assert err[0].count(str(path)) == 1


@pytest.mark.parametrize("name", sorted(READABLE))
def test_an_odd_but_readable_file_is_described_with_its_warning(name, tmp_path, capsys):
    status, out, err = _info(CASES[name](tmp_path), capsys)
    assert status == 0 and err == [] and out.startswith("file")
    assert READABLE[name] in out


def test_random_flips_and_cuts_never_escape_the_sentences(tmp_path):
    """In one child process (an HDF5 crash must not take pytest down), a few corrupted copies."""
    good = tmp_path / "good.hdf5"
    write_synthetic_cube(good, 8, 6, seed=5)
    good_fits = CASES["fits_all_nan"](tmp_path)
    paths = byte_flips(good, tmp_path, 8) + truncations(good, tmp_path, 4)
    paths += byte_flips(good_fits, tmp_path, 6, seed=1) + truncations(good_fits, tmp_path, 3)
    script = (
        "import io, json, sys, contextlib\nfrom mirabelle import cli\nfor path in sys.argv[1:]:\n"
        "    err = io.StringIO()\n"
        "    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):\n"
        "        rc = cli.main(['info', path])\n"
        "    print(json.dumps([path, rc, err.getvalue()]), flush=True)\n")
    done = subprocess.run([sys.executable, "-c", script, *map(str, paths)], capture_output=True, text=True,
                          timeout=300)
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert done.returncode == 0 and len(results) == len(paths), done.stderr[-2000:]
    for path, status, err in results:
        assert status in (0, 2) and "Traceback" not in err and "internal error" not in err, (path, err)
        assert status == 0 or len(err.strip().splitlines()) == 1, (path, err)


def _limit_address_space():
    resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))


@pytest.mark.parametrize("name", ["step_nb_2pow31", "declared_100000_square", "fits_declared_100000_square"])
def test_declared_sizes_allocate_nothing_in_a_2gb_process(name, tmp_path):
    path = CASES[name](tmp_path)
    done = subprocess.run([sys.executable, "-m", "mirabelle", "info", str(path)], capture_output=True, text=True,
                          timeout=120, preexec_fn=_limit_address_space)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "MemoryError" not in done.stderr


def test_a_closed_pipe_ends_quietly(tmp_path):
    path = tmp_path / "cube.hdf5"
    write_synthetic_cube(path, 8, 6)
    done = subprocess.run(f"'{sys.executable}' -m mirabelle info '{path}' | true", shell=True, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == ""


def test_an_unexpected_exception_is_one_line_and_debug_shows_it(monkeypatch, capsys, tmp_path):
    from mirabelle.commands import info

    def broken(_args):
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(info, "run", broken)
    assert cli.main(["info", str(tmp_path / "x.hdf5")]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["mirabelle: internal error: ZeroDivisionError: float division by zero "
                   "(rerun with --debug for the traceback and report it)"]
    with pytest.raises(ZeroDivisionError):
        cli.main(["--debug", "info", str(tmp_path / "x.hdf5")])


def test_plain_h5py_works_beside_an_open_cube_in_both_orders(tmp_path):
    path = tmp_path / "cube.hdf5"
    write_synthetic_cube(path, 8, 6)
    with open_cube(path) as cube, h5py.File(path, "r") as plain:
        assert plain["data"].shape == cube.shape
    with h5py.File(path, "r") as plain, open_cube(path) as cube:
        assert plain["data"].shape == cube.shape
    with h5py.File(path, "r", locking=False) as plain, open_cube(path) as cube:
        assert plain["data"].shape == cube.shape


def test_a_writer_s_lock_is_respected_and_a_lockless_file_system_named(tmp_path, monkeypatch):
    path = tmp_path / "cube.hdf5"
    write_synthetic_cube(path, 8, 6)
    with h5py.File(path, "a"):
        done = subprocess.run([sys.executable, "-m", "mirabelle", "info", str(path)], capture_output=True,
                              text=True, timeout=120)
    assert done.returncode == 2 and "is locked by a program writing it" in done.stderr

    real = h5py.File

    def no_locks(name, mode="r", locking=None, **kwargs):
        if locking is not False:
            raise OSError("Unable to synchronously open file (unable to lock file, errno = 38, "
                          "error message = 'Function not implemented')")
        return real(name, mode, locking=locking, **kwargs)

    monkeypatch.setattr(h5py, "File", no_locks)
    with open_cube(path) as cube:
        assert any("refuses file locks (Function not implemented)" in w for w in cube.warnings)


def test_absorption_lines_give_no_valid_prior(tmp_path, capsys):
    """A sign-flipped cube: its lines are dips, and no pixel may pass as a confident emission prior."""
    path = tmp_path / "flipped.hdf5"
    write_synthetic_cube(path, 16, 12, seed=4)
    with h5py.File(path, "r+") as f:
        f["data"][...] = -f["data"][...]
        f["deep_frame"][...] = -f["deep_frame"][...]
    status = cli.main(["predict", str(path), "-o", str(tmp_path)])
    err = capsys.readouterr().err
    summary = tmp_path / "flipped_priors" / "summary.json"
    if status == 0:
        pixels = json.loads(summary.read_text())["pixels"]
        assert pixels["valid"] <= 0.02 * pixels["total"]
    else:
        assert status == 1 and "expected at least one pixel with a valid prior" in err
    assert "Traceback" not in err


def test_predict_on_an_all_nan_cube_is_one_sentence(tmp_path, capsys):
    path = tmp_path / "nan.hdf5"
    write_synthetic_cube(path, 8, 6, seed=1)
    with h5py.File(path, "r+") as f:
        f["data"][...] = np.nan
        del f["deep_frame"]
    assert cli.main(["predict", str(path), "-o", str(tmp_path)]) == 1
    lines = [line.split("\r")[-1] for line in capsys.readouterr().err.splitlines() if line.split("\r")[-1].strip()]
    assert len([line for line in lines if line.startswith("mirabelle")]) == 1 and str(path) in lines[-1]
    assert not Path(tmp_path / "nan_priors").exists()
