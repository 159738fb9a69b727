"""Training of the kinematics networks (needs the optional [train] extra: torch, onnx).

Never imported at run time. ``data`` builds synthetic SN3 spectra with ``mirabelle.lines``
and prepares them with ``mirabelle.inference.network.network_input`` (exactly as inference);
``model`` holds the coarse-to-fine network and its ONNX export; ``train`` the loop, the
held-out tests and the model card. Entry point: ``mirabelle train --preset ...``.
"""
