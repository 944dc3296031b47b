"""Bundled layer tables against published totals; the conv-to-GEMM lowering; user layer files."""

from __future__ import annotations

import numpy as np
import pytest

from simulators.systolic import load_workload
from simulators.workloads import Layer, available, load_network, write_csv

# Published counts (torchvision / Hugging Face; HAWQ's PyTorchCV ResNet-50 v1). Parameters include
# biases, batch-norm scale/shift and, for BERT, embeddings, layer norms and the pooler.
PUBLISHED = {
    "alexnet": (61_100_840, "0.71"),  # torchvision: 61.1 M params, 0.71 GFLOPS (MACs)
    "vgg16": (138_357_544, "15.4703"),
    "resnet18": (11_689_512, "1.8141"),
    "resnet50": (25_557_032, "4.0892"),  # torchvision v1.5 (stride on the 3x3)
    "resnet50_v1": (25_557_032, "3.86"),  # HAWQ-V3 FP BOPs 3951 G = 32 x 32 x MACs: 3.858 G
    "mobilenet_v2": (3_504_872, "0.3008"),
    "bert_base": (109_482_240, "11.17"),  # bert-base-uncased, sequence length 128
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_parameter_and_mac_totals(name):
    net = load_workload(name)
    params, giga_macs = PUBLISHED[name]
    assert net.params == params
    decimals = len(giga_macs.split(".")[1])  # compare at the published precision
    assert round(net.macs / 1e9, decimals) == float(giga_macs)


def test_every_bundled_table_is_listed():
    assert set(available()) == set(PUBLISHED)


def test_resnet18_layers_match_the_published_per_layer_figures():
    net = {layer.name: layer for layer in load_workload("resnet18")}
    assert (net["conv1"].params, net["conv1"].macs) == (9408 + 128, 118_013_952)
    assert net["layer1.0.conv1"].weights == 36864 and net["layer1.0.conv1"].macs == 115_605_504
    assert net["layer2.0.downsample"].weights == 8192 and net["layer2.0.downsample"].macs == 6_422_528
    assert net["layer4.1.conv2"].weights == 2_359_296
    assert (net["fc"].params, net["fc"].macs) == (513_000, 512_000)


def test_bert_layer_shapes():
    net = {layer.name: layer for layer in load_workload("bert_base")}
    assert net["encoder.0.query"].macs == 128 * 768 * 768  # 75.5 M
    assert net["encoder.0.scores"].macs == 128 * 128 * 768  # L^2 d over 12 heads
    assert net["encoder.0.scores"].params == 0
    assert net["encoder.0.ffn1"].macs == 128 * 768 * 3072  # 302 M
    per_layer = sum(v.macs for k, v in net.items() if k.startswith("encoder.0."))
    assert per_layer == 931_135_488


def test_conv_lowering_to_gemm():
    conv = Layer("c", "conv", in_h=56, in_w=56, in_c=64, out_c=128, kernel_h=3, kernel_w=3, stride=2, padding=1)
    assert (conv.out_h, conv.out_w) == (28, 28)
    assert conv.gemm == (28 * 28, 128, 3 * 3 * 64, 1)
    dw = Layer("dw", "conv", in_h=14, in_w=14, in_c=96, out_c=96, kernel_h=3, kernel_w=3, padding=1, groups=96)
    assert dw.gemm == (196, 1, 9, 96)  # one GEMM per channel
    assert dw.macs == 196 * 9 * 96 and dw.weights == 9 * 96
    odd = Layer("o", "conv", in_h=7, in_w=9, in_c=3, out_c=5, kernel_h=3, kernel_w=2, stride=2)
    assert (odd.out_h, odd.out_w) == (3, 4)  # floor((7-3)/2)+1, floor((9-2)/2)+1
    gemm = Layer("g", "gemm", m=10, n=20, k=30, repeat=4, weighted=False)
    assert gemm.gemm == (10, 20, 30, 4) and gemm.params == 0
    assert gemm.input_activations == 4 * (10 * 30 + 30 * 20) and gemm.output_activations == 4 * 10 * 20


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "conv", "in_h": 0, "in_w": 8, "in_c": 3, "out_c": 4, "kernel_h": 3, "kernel_w": 3},
         "in_h must be a positive integer, got 0"),
        ({"kind": "gemm", "m": 4, "n": -2, "k": 3}, "n must be a positive integer, got -2"),
        ({"kind": "conv", "in_h": 8, "in_w": 8, "in_c": 3, "out_c": 4, "groups": 2}, "groups=2 must divide"),
        ({"kind": "conv", "in_h": 2, "in_w": 8, "in_c": 3, "out_c": 4, "kernel_h": 5}, "kernel height 5 exceeds"),
        ({"kind": "pool"}, "kind must be one of"),
        ({"kind": "gemm", "m": 2.5, "n": 2, "k": 2}, "m must be an integer"),
        # 64-bit counts overflowed: utilization -0.24 and a reward, exit 0
        ({"kind": "gemm", "m": 10**8, "n": 10**8, "k": 10**8}, r"1e\+24 multiply-accumulates, more than the 2.81e\+14"),
        ({"kind": "params", "extra_params": 2**49}, r"5.63e\+14 parameters, more than"),
    ],
)
def test_bad_layers_name_the_field(fields, message):
    with pytest.raises(ValueError, match=message):
        Layer("bad", **fields)


def test_a_layer_at_the_size_limit_costs_without_overflow():
    """2**48 multiply-accumulates, the most a layer may have: every cost positive and utilization in (0, 1]
    on random designs, with numpy's overflow warnings made errors."""
    from simulators.systolic import SystolicSimulator
    from simulators.workloads import MAX_LAYER_SIZE, Network

    net = Network("edge", (Layer("g", "gemm", m=2**16, n=2**16, k=2**16),))
    assert net.layers[0].macs == MAX_LAYER_SIZE
    sim = SystolicSimulator(workload=net)
    with np.errstate(all="raise"):
        m = sim.evaluate_batch(sim.space.sample_batch(np.random.default_rng(0), 500, "random")).metrics
    assert (m["utilization"] > 0).all() and (m["utilization"] <= 1).all()
    assert all((m[k] > 0).all() and np.isfinite(m[k]).all() for k in ("latency", "energy", "cycles"))


def test_user_csv_and_yaml_layer_files(tmp_path):
    layers = [Layer("a", "conv", in_h=8, in_w=8, in_c=3, out_c=4, kernel_h=3, kernel_w=3, padding=1, bias=True),
              Layer("b", "gemm", m=1, n=10, k=256, bias=True)]
    write_csv(layers, tmp_path / "net.csv")
    net = load_network(tmp_path / "net.csv")
    assert list(net) == layers and net.name == "net"
    (tmp_path / "net.yaml").write_text(
        "name: tiny\nlayers:\n  - {name: a, kind: conv, in_h: 8, in_w: 8, in_c: 3, out_c: 4, kernel_h: 3,"
        " kernel_w: 3, padding: 1, bias: true}\n  - {name: b, kind: gemm, m: 1, n: 10, k: 256, bias: true}\n")
    net = load_network(str(tmp_path / "net.yaml"))
    assert list(net) == layers and net.name == "tiny"
    assert net.macs == 8 * 8 * 4 * 27 + 2560


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.csv", "name,kind,m,n,k\nx,gemm,1,2\n", "bad.csv, line 2: field 'k'|line 2"),
        ("bad2.csv", "name,kind,m,n,k\nx,gemm,1,2,zero\n", "line 2: k must be an integer, got 'zero'"),
        ("bad3.csv", "name,kind,depth\nx,gemm,1\n", "header must name columns"),
        ("bad4.csv", "name,kind,m,n,k\nx,gemm,1,2,3,4\n", "line 2: more cells than header"),
        ("bad.yaml", "layers: [{name: x, kind: gemm, m: 1, n: 2}]\n", "layer 0: m must|layer 0: n must|k must"),
        ("bad2.yaml", "layers: [{name: x, kind: gemm, m: 1, n: 2, k: 3, colour: red}]\n", "unknown field"),
        ("bad3.yaml", "{{{", "not valid YAML"),
    ],
)
def test_malformed_layer_files_are_clear_errors(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_network(path)


def test_unknown_workload_lists_the_bundled_ones():
    with pytest.raises(ValueError, match="unknown workload 'resnet99'.*resnet18"):
        load_workload("resnet99")
    with pytest.raises(ValueError, match="does not exist"):
        load_workload("missing.csv")
