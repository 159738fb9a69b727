"""Image export helpers: pyqtgraph's SVG exporter, fixed for the paths Qt 6.11+ writes."""

from __future__ import annotations

from pathlib import Path


def _fix_svg_exporter() -> None:
    """Let pyqtgraph's SVGExporter read the paths Qt 6.11+ writes (standalone ``Z`` tokens).

    pyqtgraph 0.14 parses every token of a path as ``x,y`` and fails on the close-path
    command Qt now writes on its own; closing is implied for fills and our outlines
    already return to their start, so the tokens are dropped before parsing. Idempotent.
    """
    import importlib

    module = importlib.import_module("pyqtgraph.exporters.SVGExporter")
    if getattr(module, "_mirabelle_path_fix", False):
        return
    original = module.correctCoordinates

    def correct_coordinates(node, defs, item, options):
        for path in node.getElementsByTagName("path"):
            tokens = [t.rstrip("Zz") for t in path.getAttribute("d").split()]
            path.setAttribute("d", " ".join(t for t in tokens if t))
        return original(node, defs, item, options)

    module.correctCoordinates = correct_coordinates
    module._mirabelle_path_fix = True


def save_scene_svg(scene_or_item, path: str | Path) -> Path:
    """Write a pyqtgraph scene (or item) as SVG with pyqtgraph's exporter (fixed for Qt 6.11+)."""
    import pyqtgraph.exporters as exporters

    _fix_svg_exporter()
    exporters.SVGExporter(scene_or_item).export(str(path))
    return Path(path)


def save_scene_image(scene, path: str | Path, width: int | None = None) -> Path:
    """Save a pyqtgraph scene (or item) as PNG (``width`` pixels wide when given), or as SVG by
    the suffix; raises ExportError with a sentence when nothing could be written."""
    from mirabelle.errors import ExportError

    path = Path(path)
    try:
        if path.suffix.lower() == ".svg":
            save_scene_svg(scene if hasattr(scene, "views") else scene.scene(), path)
        else:
            import pyqtgraph.exporters as exporters

            exporter = exporters.ImageExporter(scene)
            if width is not None:
                exporter.parameters()["width"] = int(width)
            exporter.export(str(path))
    except (OSError, ValueError) as exc:
        raise ExportError(f"{path}: expected a writable image file, found {exc}.") from exc
    if not path.exists():
        raise ExportError(f"{path}: expected the image to be written, found no file.")
    return path


def save_titled_plot(plot, widget, path: str | Path, title: str, width: int | None = None) -> Path:
    """Save the scene of ``widget`` (a GraphicsLayoutWidget) as :func:`save_scene_image` does, with
    ``title`` above ``plot`` in the file only: on screen the title stays out of the plot's room."""
    plot.setTitle(title, color=plot.getAxis("left").textPen().color())  # in the axes' ink, not pyqtgraph's grey
    for layout in (plot.layout, widget.ci.layout):  # the title's row is laid out now, not on the next event
        layout.activate()
    try:
        return save_scene_image(widget.scene(), path, width=width)
    finally:
        plot.setTitle(None)
        for layout in (plot.layout, widget.ci.layout):
            layout.activate()
