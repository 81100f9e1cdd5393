"""fpo_core: Flow Policy Optimization for MuJoCo, with ONNX export and a torch-free runtime."""

__version__ = "0.1.0"
