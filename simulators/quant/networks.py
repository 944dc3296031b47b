"""Networks for the quantization model: which shared layer table a name means, and per-layer count arrays.

The layer tables live in ``simulators.workloads`` (one source of truth). This module only resolves the
quantization literature's names to those tables and turns a table into the numpy arrays the cost model
sums over. ``"resnet50"`` means ResNet-50 **v1** (stride on the first 1x1 of a downsampling block, the
bundled ``resnet50_v1`` table): HAWQ, HAQ and PyTorchCV, where every ResNet-50 accuracy figure used here
comes from, use that variant.

Operand roles per layer: the *weight* operand is quantized to ``b_w`` bits and the *input activation*
to ``b_a`` bits. A GEMM whose both operands are activations (attention ``Q K^T`` and ``A V``) has no
weights; its second operand (``K`` or ``V``) takes the ``b_w`` role, so it costs traffic at ``b_w`` bits
but adds nothing to the model size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from simulators.workloads import Network, load_network

#: env keyword value -> bundled layer table
NETWORKS: dict[str, str] = {
    "resnet18": "resnet18",
    "resnet50": "resnet50_v1",
    "mobilenet_v2": "mobilenet_v2",
    "vgg16": "vgg16",
    "bert_base": "bert_base",
}


def resolve_network(name: str) -> Network:
    """The layer table behind a quantization-env network name (``ValueError`` for an unknown one)."""
    if not isinstance(name, str) or name not in NETWORKS:
        raise ValueError(f"unknown network {name!r}; choose one of {list(NETWORKS)}")
    return load_network(NETWORKS[name])


def parameter_stem(layer_name: str) -> str:
    """A layer name as an identifier fragment: every non-word character becomes ``_``."""
    return re.sub(r"\W", "_", layer_name)


@dataclass(frozen=True)
class LayerArrays:
    """Per-layer counts of a network's compute layers, as aligned int64 arrays (one entry per layer).

    ``weights``: weight elements (quantized at ``b_w``; what the model size counts);
    ``operand_b``: elements of the ``b_w`` operand fetched from memory (the weights, or the second
    activation operand of an unweighted GEMM); ``inputs``: elements of the ``b_a`` operand;
    ``outputs``: output elements; ``gemm_m/n/k/count``: the GEMM lowering (``count`` independent
    ``m x k`` by ``k x n`` products). ``other_params`` counts parameters outside compute layers
    (embeddings), stored at a fixed width.
    """

    names: tuple[str, ...]
    macs: np.ndarray
    weights: np.ndarray
    operand_b: np.ndarray
    inputs: np.ndarray
    outputs: np.ndarray
    gemm_m: np.ndarray
    gemm_n: np.ndarray
    gemm_k: np.ndarray
    gemm_count: np.ndarray
    weighted: np.ndarray
    other_params: int

    def __len__(self) -> int:
        return len(self.names)


def layer_arrays(network: Network) -> LayerArrays:
    """Count arrays of ``network``'s compute layers (layers with MACs), in table order."""
    layers = network.compute_layers
    gemm = np.array([layer.gemm for layer in layers], dtype=np.int64)
    m, n, k, count = gemm.T
    weighted = np.array([layer.weighted for layer in layers], dtype=bool)
    weights = np.array([layer.weights for layer in layers], dtype=np.int64)
    operand_b = np.where(weighted, weights, k * n * count)
    # the b_a operand: for an unweighted GEMM, Layer.input_activations counts both operands
    inputs = np.array([layer.input_activations for layer in layers], dtype=np.int64)
    inputs = np.where(weighted, inputs, m * k * count)
    other = sum(layer.params for layer in network.layers if not layer.macs)
    return LayerArrays(
        names=tuple(layer.name for layer in layers),
        macs=np.array([layer.macs for layer in layers], dtype=np.int64),
        weights=weights,
        operand_b=operand_b,
        inputs=inputs,
        outputs=np.array([layer.output_activations for layer in layers], dtype=np.int64),
        gemm_m=m, gemm_n=n, gemm_k=k, gemm_count=count,
        weighted=weighted,
        other_params=int(other),
    )
