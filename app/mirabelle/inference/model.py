"""Load a kinematics model (ONNX + JSON card), check it against its card, and pick one for a cube."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mirabelle.errors import ModelError
from mirabelle.inference.preprocess import model_axis
from mirabelle.package_data import models_dir

OUTPUT_NAMES = ("velocity_kms", "broadening_kms", "velocity_err_kms", "broadening_err_kms")
"""Columns of the model output ``kinematics`` (batch, 4), all km/s."""
CARD_METADATA_KEY = "mirabelle_card"
DEFAULT_BATCH = 8192
"""Spectra per onnxruntime call: large enough to amortise the call, small enough for cache."""


@dataclass(frozen=True)
class ModelFiles:
    """Where a model comes from: its card (dict), the ONNX bytes and a label for messages."""

    card: dict
    onnx_bytes: bytes
    label: str
    path: str | None


class KinematicsModel:
    """A checked ONNX kinematics network and its card.

    Attributes
    ----------
    card : dict
        The model card (``name, version, filter, resolution_range, input, ranges, ...``).
    name, version, sha256 : str
        Taken from the card; ``sha256`` is the verified hash of the ONNX bytes.
    path : str or None
        The ONNX file on disk, ``None`` for a model read from package resources in a zip.
    files : ModelFiles
        The card and ONNX bytes the model was built from.
    axis_cm1 : ndarray (L,)
        The model's input wavenumber axis, cm⁻¹.
    threads : int
        onnxruntime intra-op threads.
    """

    def __init__(self, files: ModelFiles, threads: int | None = None):
        import onnxruntime as ort

        self.card = files.card
        self.files = files  # kept so the model can be shipped to other processes (cluster workers)
        self.name = str(files.card.get("name", Path(files.label).stem))
        self.version = str(files.card.get("version", ""))
        self.path = files.path
        self.threads = int(threads or os.cpu_count() or 1)
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle pool threads sleep instead of spinning: the runner overlaps tiles in threads and
        # the GUI needs the cores between calls.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = ort.InferenceSession(files.onnx_bytes, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelError(f"{files.label}: expected a valid ONNX model, onnxruntime refused it ({exc}).") from exc
        self.sha256 = hashlib.sha256(files.onnx_bytes).hexdigest()
        self._check(files.label)
        self.axis_cm1 = model_axis(self.card)

    def _check(self, label: str) -> None:
        card = self.card
        if card.get("onnx_sha256") != self.sha256:
            raise ModelError(
                f"{label}: expected ONNX sha256 {card.get('onnx_sha256')} from its card, "
                f"found {self.sha256} (the model file changed or belongs to another card)."
            )
        try:
            length = int(card["input"]["axis_cm1"][2])
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise ModelError(f"{label}: expected card input.axis_cm1 = [start, step, length], found {card.get('input')}.") from exc
        inputs = {i.name: i for i in self._session.get_inputs()}
        if list(inputs) != ["spectrum"]:
            raise ModelError(f"{label}: expected one ONNX input named 'spectrum', found {sorted(inputs)}.")
        onnx_length = inputs["spectrum"].shape[-1]
        extra = int(self.reads_fwhm)  # the FWHM column (inference.network.network_input)
        if onnx_length != length + extra:
            raise ModelError(
                f"{label}: expected the ONNX input length to equal the card axis length {length}"
                + (" + 1 (the FWHM column)" if extra else "") + f", found {onnx_length}."
            )
        outputs = [o.name for o in self._session.get_outputs()]
        if "kinematics" not in outputs:
            raise ModelError(f"{label}: expected an ONNX output named 'kinematics', found {outputs}.")
        embedded = self._session.get_modelmeta().custom_metadata_map.get(CARD_METADATA_KEY)
        if embedded is None:
            raise ModelError(f"{label}: expected the card in the ONNX metadata key '{CARD_METADATA_KEY}', found none.")
        expected = {k: v for k, v in card.items() if k != "onnx_sha256"}
        found = json.loads(embedded)
        found.pop("onnx_sha256", None)
        if json.loads(json.dumps(expected)) != found:
            differing = sorted(k for k in set(expected) | set(found) if expected.get(k) != found.get(k))
            raise ModelError(
                f"{label}: expected the card beside the model to match the card embedded in the ONNX file, "
                f"found differences in {differing}."
            )

    @property
    def input_length(self) -> int:
        """Number of spectrum channels L of the input (a FWHM column follows them when `reads_fwhm`)."""
        return int(self.axis_cm1.size)

    @property
    def reads_fwhm(self) -> bool:
        """Whether the network reads each spectrum's instrumental FWHM (card ``input.fwhm_input``)."""
        return bool(self.card["input"].get("fwhm_input"))

    def predict(self, prepared: np.ndarray, batch: int = DEFAULT_BATCH) -> np.ndarray:
        """Run the network on prepared spectra.

        Parameters
        ----------
        prepared : ndarray (N, L) float32, or (N, L + 1) for models that read the FWHM
            Output of :func:`mirabelle.inference.network.network_input`.
        batch : int
            Rows per onnxruntime call.

        Returns
        -------
        ndarray (N, 4) float32
            velocity, broadening, velocity error, broadening error (km/s), see ``OUTPUT_NAMES``.
        """
        prepared = np.ascontiguousarray(prepared, dtype=np.float32)
        n = prepared.shape[0]
        out = np.empty((n, 4), np.float32)
        for start in range(0, n, batch):
            feed = {"spectrum": prepared[start:start + batch]}
            out[start:start + batch] = self._session.run(["kinematics"], feed)[0]
        return out

    def __repr__(self) -> str:
        return f"KinematicsModel({self.name!r}, version={self.version!r}, sha256={self.sha256[:12]}…)"


def _read_files(name_or_path: str | os.PathLike) -> ModelFiles:
    text = os.fspath(name_or_path)
    path = Path(text)
    if path.suffix in (".onnx", ".json") or path.exists() or os.sep in text:
        onnx_path = path.with_suffix(".onnx")
        card_path = path.with_suffix(".json")
        for needed in (onnx_path, card_path):
            if not needed.is_file():
                raise ModelError(f"{needed}: expected a model file (ONNX and its JSON card side by side), found none.")
        return ModelFiles(_parse_card(card_path.read_text(), card_path), onnx_path.read_bytes(),
                          str(onnx_path), str(onnx_path))
    folder = models_dir()
    card_file = folder.joinpath(f"{text}.json")
    onnx_file = folder.joinpath(f"{text}.onnx")
    if not (card_file.is_file() and onnx_file.is_file()):
        names = ", ".join(card["name"] for card in available_models()) or "none"
        raise ModelError(f"model '{text}': expected a shipped model name or a path to an .onnx file, "
                         f"found neither (shipped: {names}).")
    return ModelFiles(_parse_card(card_file.read_text(), card_file), onnx_file.read_bytes(),
                      f"model '{text}'", os.fspath(onnx_file) if isinstance(onnx_file, Path) else None)


def _parse_card(text: str, where) -> dict:
    try:
        card = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelError(f"{where}: expected a JSON model card, found invalid JSON ({exc}).") from exc
    if not isinstance(card, dict) or "input" not in card:
        raise ModelError(f"{where}: expected a model card object with an 'input' entry, found {type(card).__name__}.")
    return card


def load_model(name_or_path: str | os.PathLike, threads: int | None = None) -> KinematicsModel:
    """Load a shipped model by name (``'sn3-r5000'``) or an ONNX file path with its card beside it.

    Parameters
    ----------
    name_or_path : str or path
        A shipped model name (looked up only via :func:`mirabelle.package_data.models_dir`) or
        a path to ``NAME.onnx`` (or ``NAME.json``) with both files side by side.
    threads : int, optional
        onnxruntime intra-op threads; default all cores.

    Raises
    ------
    ModelError
        Missing files, a hash or input-axis mismatch between ONNX and card, or a card that
        differs from the one embedded in the ONNX metadata.
    """
    return KinematicsModel(_read_files(name_or_path), threads=threads)


def available_models() -> list[dict]:
    """Cards (dicts) of the shipped models that have both files, sorted by name."""
    cards = []
    folder = models_dir()
    for entry in folder.iterdir():
        if entry.name.endswith(".json") and folder.joinpath(entry.name[:-5] + ".onnx").is_file():
            try:
                cards.append(_parse_card(entry.read_text(), entry.name))
            except ModelError:
                continue
    return sorted(cards, key=lambda card: str(card.get("name", "")))


def cube_resolution(cube) -> float:
    """Resolving power at Hα of a cube: median of its resolution map (dimensionless)."""
    return float(np.nanmedian(cube.resolution_map()))


def require_sn3(cube) -> None:
    """Raise ModelError unless ``cube`` is an SN3 cube (every shipped model is an SN3 model)."""
    if not cube.is_sn3:
        raise ModelError(f"{getattr(cube, 'path', 'cube')}: expected an SN3 cube for the kinematics models, "
                         f"found filter '{cube.filter_name}'.")


def card_for_resolution(resolution: float, cards: list[dict], label: str = "cube") -> dict:
    """The card whose ``resolution_range`` holds ``resolution`` (R at Hα); when several do, the
    one whose range centre is nearest.

    Raises
    ------
    ModelError
        No card holds it: the sentence gives the resolving power and the ranges served.
    """
    inside = [card for card in cards if card["resolution_range"][0] <= resolution <= card["resolution_range"][1]]
    if not inside:
        if not cards:
            raise ModelError(f"{label}: expected a shipped SN3 model, found none.")
        ranges = ", ".join(f"{card['name']} R {card['resolution_range'][0]:g}–{card['resolution_range'][1]:g}"
                           for card in sorted(cards, key=lambda card: card["resolution_range"][0]))
        lowest = min(card["resolution_range"][0] for card in cards)
        highest = max(card["resolution_range"][1] for card in cards)
        raise ModelError(f"{label}: expected a resolving power at Hα between {lowest:g} and {highest:g} "
                         f"(the models' ranges: {ranges}), found R = {resolution:.0f}.")
    return min(inside, key=lambda card: abs(resolution - 0.5 * sum(card["resolution_range"])))


def shipped_model_name(cube) -> str:
    """Name of the shipped SN3 model whose ``resolution_range`` holds the cube's resolving power at Hα
    (:func:`card_for_resolution`).

    Raises
    ------
    ModelError
        The cube's resolution lies outside every model's range.
    """
    cards = [card for card in available_models() if str(card.get("filter", "SN3")).upper() == "SN3"]
    return str(card_for_resolution(cube_resolution(cube), cards, str(getattr(cube, "path", "cube")))["name"])


def select_model(cube, threads: int | None = None) -> KinematicsModel:
    """Load the shipped model for ``cube`` (:func:`require_sn3`, then :func:`shipped_model_name`).

    Uncached; the CLI and the GUI use :func:`mirabelle.session.choose_model`.
    """
    require_sn3(cube)
    return load_model(shipped_model_name(cube), threads=threads)
