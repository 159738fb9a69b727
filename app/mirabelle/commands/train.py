"""Train a kinematics network on synthetic SN3 spectra and export it (needs the [train] extra).

Presets (``mirabelle.training.data.PRESETS``): sn3-r1000 (R 850..1500), sn3-r2000 (1400..2700),
sn3-r3000 (2500..3900), sn3-r5000 (3700..6000), sn3-r7000 (5800..8300), sn3-r9600 (8000..10600),
smoke (a few hundred spectra, one epoch, for CI). Writes <out>/<name>.onnx and <out>/<name>.json (the model card).
"""

from __future__ import annotations

PRESET_NAMES = ("sn3-r1000", "sn3-r2000", "sn3-r3000", "sn3-r5000", "sn3-r7000", "sn3-r9600", "smoke")
"""The keys of ``mirabelle.training.data.PRESETS`` (listed here so that --help needs no numpy)."""


def add_arguments(parser) -> None:
    parser.add_argument("--preset", required=True, choices=PRESET_NAMES, help="what to train")
    parser.add_argument("--out", default=None, help="output folder (default: ./models)")
    parser.add_argument("--size", type=int, default=None, help="training spectra (default: the preset's)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs (default: the preset's)")
    parser.add_argument("--seed", type=int, default=0, help="training seed (validation uses seed + 1)")
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads for torch (default 1: the small matmuls train ~4x faster on one "
                             "thread than on two on a 2-core machine)")
    parser.add_argument("--cache", default=None, help="folder to cache generated spectra in (optional)")


def run(args) -> int:
    from mirabelle.errors import MirabelleError

    try:
        import torch  # noqa: F401
        import onnx  # noqa: F401
    except ImportError as exc:
        raise MirabelleError(f"training needs the [train] extra (torch, onnx); importing failed: {exc}") from exc
    from pathlib import Path

    from mirabelle.training.train import train

    out = Path(args.out) if args.out else Path.cwd() / "models"
    if args.size is not None and args.size < 50:
        raise MirabelleError(f"--size must be at least 50 spectra, got {args.size}")
    if args.epochs is not None and args.epochs < 1:
        raise MirabelleError(f"--epochs must be at least 1, got {args.epochs}")

    def log(msg):
        print(msg, flush=True)

    card = train(args.preset, out, size=args.size, epochs=args.epochs, seed=args.seed,
                 threads=args.threads, cache_dir=args.cache, log=log)
    m = card["test"]["metrics"]
    print(f"{card['name']}: velocity RMSE {m['velocity_rmse']:.2f} km/s, broadening RMSE "
          f"{m['broadening_rmse']:.2f} km/s on the held-out set; wrote {out}")
    return 0
