"""Quantized-network cost model: per-layer weight/activation bit widths on a variable-precision accelerator.

``QuantSimulator`` costs a mixed-precision bit assignment of a network (BOPs, model size, latency and
energy on a BitFusion-style or bit-serial accelerator with a DRAM roofline) and predicts its top-1
accuracy from HAWQ-V3's published Hessian data. Modules: ``networks`` (which layer table a name
means, per-layer counts), ``hardware`` (the two accelerators, PE synthesis figures), ``accuracy``
(the Hessian-weighted perturbation proxy and its calibration), ``simulator`` (the ``Simulator``).
"""

from __future__ import annotations

from simulators.quant.accuracy import (
    CALIBRATION_CONFIGS,
    EXTRA_HELD_OUT_CONFIGS,
    HELD_OUT_CONFIGS,
    AccuracyModel,
    DropCurve,
    hawq_config_bits,
    hawq_data,
)
from simulators.quant.hardware import (
    ACCELERATORS,
    BIT_WIDTHS,
    PE_SYNTHESIS,
    Accelerator,
    bitfusion_perf_factor,
    pe_array_area_mm2,
)
from simulators.quant.networks import NETWORKS, LayerArrays, layer_arrays, parameter_stem, resolve_network
from simulators.quant.simulator import METRICS, QuantSimulator, accuracy_model

__all__ = [
    "ACCELERATORS",
    "BIT_WIDTHS",
    "CALIBRATION_CONFIGS",
    "EXTRA_HELD_OUT_CONFIGS",
    "HELD_OUT_CONFIGS",
    "METRICS",
    "NETWORKS",
    "PE_SYNTHESIS",
    "Accelerator",
    "AccuracyModel",
    "DropCurve",
    "LayerArrays",
    "QuantSimulator",
    "accuracy_model",
    "bitfusion_perf_factor",
    "hawq_config_bits",
    "hawq_data",
    "layer_arrays",
    "parameter_stem",
    "pe_array_area_mm2",
    "resolve_network",
]
