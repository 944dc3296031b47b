"""Regenerate the bundled layer tables in ``simulators/workloads/data/`` from architecture descriptions.

Run ``python scripts/make_layer_tables.py``. The tables are data; this script documents how they were
made (standard ImageNet 224x224 inputs, batch 1; BERT-base with sequence length 128). The tests check
their totals against published parameter and MAC counts, not against this script.
"""

from __future__ import annotations

from pathlib import Path

from simulators.workloads import Layer, write_csv

DATA = Path(__file__).resolve().parent.parent / "simulators" / "workloads" / "data"


def conv(name, hw, cin, cout, k, stride=1, pad=None, groups=1, bias=False, norm=True):
    pad = k // 2 if pad is None else pad
    return Layer(name, "conv", in_h=hw, in_w=hw, in_c=cin, out_c=cout, kernel_h=k, kernel_w=k, stride=stride,
                 padding=pad, groups=groups, bias=bias, norm=norm)


def fc(name, cin, cout, m=1, bias=True, norm=False):
    return Layer(name, "gemm", m=m, n=cout, k=cin, bias=bias, norm=norm)


def alexnet():
    return [
        conv("conv1", 224, 3, 64, 11, stride=4, pad=2, bias=True, norm=False),
        conv("conv2", 27, 64, 192, 5, bias=True, norm=False),
        conv("conv3", 13, 192, 384, 3, bias=True, norm=False),
        conv("conv4", 13, 384, 256, 3, bias=True, norm=False),
        conv("conv5", 13, 256, 256, 3, bias=True, norm=False),
        fc("fc6", 256 * 6 * 6, 4096), fc("fc7", 4096, 4096), fc("fc8", 4096, 1000),
    ]


def vgg16():
    layers, hw, cin = [], 224, 3
    for stage, (cout, reps) in enumerate(((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)), start=1):
        for r in range(1, reps + 1):
            layers.append(conv(f"conv{stage}_{r}", hw, cin, cout, 3, bias=True, norm=False))
            cin = cout
        hw //= 2
    return layers + [fc("fc6", 512 * 7 * 7, 4096), fc("fc7", 4096, 4096), fc("fc8", 4096, 1000)]


def resnet18():
    layers = [conv("conv1", 224, 3, 64, 7, stride=2)]
    hw, cin = 56, 64
    for stage, cout in enumerate((64, 128, 256, 512), start=1):
        for block in range(2):
            stride = 2 if stage > 1 and block == 0 else 1
            pre = f"layer{stage}.{block}"
            layers.append(conv(f"{pre}.conv1", hw, cin, cout, 3, stride=stride))
            out_hw = hw // stride
            layers.append(conv(f"{pre}.conv2", out_hw, cout, cout, 3))
            if stride != 1 or cin != cout:
                layers.append(conv(f"{pre}.downsample", hw, cin, cout, 1, stride=stride, pad=0))
            hw, cin = out_hw, cout
    return layers + [fc("fc", 512, 1000)]


def resnet50(stride_on_3x3: bool = True):
    layers = [conv("conv1", 224, 3, 64, 7, stride=2)]
    hw, cin = 56, 64
    for stage, (blocks, width) in enumerate(((3, 64), (4, 128), (6, 256), (3, 512)), start=1):
        for block in range(blocks):
            stride = 2 if stage > 1 and block == 0 else 1
            s1, s3 = (1, stride) if stride_on_3x3 else (stride, 1)
            pre = f"layer{stage}.{block}"
            layers.append(conv(f"{pre}.conv1", hw, cin, width, 1, stride=s1, pad=0))
            mid = hw // s1
            layers.append(conv(f"{pre}.conv2", mid, width, width, 3, stride=s3))
            out_hw = hw // stride
            layers.append(conv(f"{pre}.conv3", out_hw, width, 4 * width, 1, pad=0))
            if block == 0:
                layers.append(conv(f"{pre}.downsample", hw, cin, 4 * width, 1, stride=stride, pad=0))
            hw, cin = out_hw, 4 * width
    return layers + [fc("fc", 2048, 1000)]


def mobilenet_v2():
    layers = [conv("features.0", 224, 3, 32, 3, stride=2)]
    hw, cin, idx = 112, 32, 1
    for t, c, n, s in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                       (6, 320, 1, 1)):
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = cin * t
            pre = f"features.{idx}"
            if t != 1:
                layers.append(conv(f"{pre}.expand", hw, cin, hidden, 1, pad=0))
            layers.append(conv(f"{pre}.depthwise", hw, hidden, hidden, 3, stride=stride, groups=hidden))
            hw = (hw + 2 - 3) // stride + 1
            layers.append(conv(f"{pre}.project", hw, hidden, c, 1, pad=0))
            cin, idx = c, idx + 1
    layers.append(conv(f"features.{idx}", hw, cin, 1280, 1, pad=0))
    return layers + [fc("classifier", 1280, 1000)]


def bert_base(seq: int = 128, d: int = 768, d_ff: int = 3072, heads: int = 12, depth: int = 12):
    vocab, positions, types = 30522, 512, 2
    layers = [Layer("embeddings", "params", extra_params=(vocab + positions + types) * d + 2 * d)]
    dh = d // heads
    for i in range(depth):
        pre = f"encoder.{i}"
        layers += [
            fc(f"{pre}.query", d, d, m=seq), fc(f"{pre}.key", d, d, m=seq), fc(f"{pre}.value", d, d, m=seq),
            Layer(f"{pre}.scores", "gemm", m=seq, n=seq, k=dh, repeat=heads, weighted=False),
            Layer(f"{pre}.context", "gemm", m=seq, n=dh, k=seq, repeat=heads, weighted=False),
            fc(f"{pre}.output", d, d, m=seq, norm=True),
            fc(f"{pre}.ffn1", d, d_ff, m=seq), fc(f"{pre}.ffn2", d_ff, d, m=seq, norm=True),
        ]
    return layers + [fc("pooler", d, d)]


TABLES = {
    "alexnet": alexnet, "vgg16": vgg16, "resnet18": resnet18, "resnet50": resnet50,
    "resnet50_v1": lambda: resnet50(stride_on_3x3=False), "mobilenet_v2": mobilenet_v2, "bert_base": bert_base,
}


def main() -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    for name, build in TABLES.items():
        layers = build()
        write_csv(layers, DATA / f"{name}.csv")
        macs = sum(x.macs for x in layers)
        params = sum(x.params for x in layers)
        print(f"{name:14s} {len(layers):4d} layers {macs:>16,d} MACs {params:>13,d} params")


if __name__ == "__main__":
    main()
