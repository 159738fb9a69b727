"""Trained kinematics models (ONNX) and their JSON model cards."""
