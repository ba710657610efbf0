#!/usr/bin/env python3
"""Records PyTorch's numbers for typenet's fixture suite (tests/it/pytorch_fixtures.rs).

Run once, by hand, when a fixture is added or PyTorch's behaviour is to be rechecked; CI never
runs it (the JSON it writes is committed):

    python3 scripts/pytorch_fixtures.py            # writes tests/fixtures/pytorch/*.json

Needs `torch` and `numpy` (the CPU build is enough). Everything is float32 on the CPU with one
thread, from fixed seeds. Each record holds the inputs, the parameters, PyTorch's outputs and
gradients:
- layers: y = layer(x) and, for the scalar sum(y * gy) with a fixed upstream gradient gy, the
  gradients with respect to x and to every parameter;
- losses: the mean loss of outputs against targets and its gradient with respect to the
  outputs;
- optimizers: weights after each of a few steps from fixed weights, with fixed gradients.
Numbers are written with 9 significant digits, which reads back to the same float32.
"""

import json
import pathlib
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "pytorch"

torch.set_num_threads(1)
torch.set_default_dtype(torch.float32)


def nums(t):
    """A tensor as a flat list of float32 values (row-major), 9 significant digits."""
    a = t.detach().to(torch.float32).contiguous().view(-1).numpy()
    return [float("%.9g" % v) for v in a]


def shape(t):
    return list(t.shape)


def seeded(seed, *size, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*size, generator=g) * scale).to(torch.float32)


def layer_record(name, module, x, params):
    """Forward and backward of `module` on `x`; `params` names the parameters to record."""
    x = x.clone().requires_grad_(True)
    y = module(x)
    gy = seeded(1000 + len(name), *y.shape)
    (y * gy).sum().backward()
    rec = {
        "name": name,
        "x": nums(x),
        "x_shape": shape(x),
        "y": nums(y),
        "y_shape": shape(y),
        "gy": nums(gy),
        "grad_x": nums(x.grad),
        "params": {},
        "grad_params": {},
    }
    for pname in params:
        p = dict(module.named_parameters())[pname]
        rec["params"][pname] = nums(p)
        rec["grad_params"][pname] = nums(p.grad)
    return rec


def layers():
    out = []
    torch.manual_seed(0)
    lin = nn.Linear(5, 3)
    out.append(layer_record("linear", lin, seeded(1, 4, 5), ["weight", "bias"]))
    conv = nn.Conv2d(2, 3, 3)
    out.append(layer_record("conv2d", conv, seeded(2, 2, 2, 6, 6), ["weight", "bias"]))
    conv_sp = nn.Conv2d(2, 3, 3, stride=2, padding=1)
    out.append(layer_record("conv2d_stride2_pad1", conv_sp, seeded(3, 2, 2, 7, 7), ["weight", "bias"]))
    out.append(layer_record("maxpool2d_k2_s2", nn.MaxPool2d(2, 2), seeded(4, 2, 3, 6, 6), []))
    out.append(layer_record("maxpool2d_k3_s1_p1", nn.MaxPool2d(3, 1, 1), seeded(5, 2, 3, 5, 5), []))
    out.append(layer_record("avgpool2d_k2_s2", nn.AvgPool2d(2, 2), seeded(6, 2, 3, 6, 6), []))
    # count_include_pad=True (PyTorch's default): the divisor is always kernel²
    out.append(layer_record("avgpool2d_k3_s2_p1", nn.AvgPool2d(3, 2, 1), seeded(7, 2, 3, 7, 7), []))
    out.append(layer_record("flatten", nn.Flatten(), seeded(8, 2, 3, 4, 4), []))
    acts = [
        ("relu", nn.ReLU()),
        ("sigmoid", nn.Sigmoid()),
        ("tanh", nn.Tanh()),
        ("gelu", nn.GELU()),
        ("gelu_tanh", nn.GELU(approximate="tanh")),
        ("leaky_relu_0.01", nn.LeakyReLU(0.01)),
        ("softmax", nn.Softmax(dim=-1)),
        ("log_softmax", nn.LogSoftmax(dim=-1)),
    ]
    for i, (name, act) in enumerate(acts):
        x = seeded(20 + i, 3, 7, scale=2.0)
        out.append(layer_record(name, act, x, []))
    # batch norm in training mode: batch statistics, and the running statistics after one step
    bn = nn.BatchNorm1d(4)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([1.0, 0.5, -1.5, 2.0]))
        bn.bias.copy_(torch.tensor([0.0, 0.1, -0.2, 0.3]))
    bn.train()
    rec = layer_record("batchnorm1d_train", bn, seeded(30, 6, 4, scale=3.0) + 1.0, ["weight", "bias"])
    rec["running_mean"] = nums(bn.running_mean)
    rec["running_var"] = nums(bn.running_var)
    out.append(rec)
    out.extend(more_layers())
    return out


class Fn(nn.Module):
    """A parameter-free layer from a function (PyTorch has no module for some of dfdx's)."""

    def __init__(self, f):
        super().__init__()
        self.f = f

    def forward(self, x):
        return self.f(x)


def set_params(module, seed, scale=0.5):
    """Every parameter of `module` from a fixed seed (PyTorch's init would hide mistakes that
    ones and zeros do, e.g. a transposed weight)."""
    with torch.no_grad():
        for k, (_, p) in enumerate(sorted(module.named_parameters())):
            p.copy_(seeded(seed + k, *p.shape, scale=scale))


def norm_record(name, bn, x, train):
    """Batch norm with fixed scale, bias and running statistics, in training or inference mode;
    the record holds the running statistics before (`running_*_0`) and after the pass."""
    c = bn.num_features
    with torch.no_grad():
        bn.weight.copy_(seeded(200 + c, c, scale=0.7) + 1.0)
        bn.bias.copy_(seeded(210 + c, c, scale=0.3))
        bn.running_mean.copy_(seeded(220 + c, c, scale=0.5))
        bn.running_var.copy_(seeded(230 + c, c, scale=0.5).abs() + 0.5)
    mean0, var0 = nums(bn.running_mean), nums(bn.running_var)
    bn.train(train)
    rec = layer_record(name, bn, x, ["weight", "bias"])
    rec["running_mean_0"], rec["running_var_0"] = mean0, var0
    rec["running_mean"] = nums(bn.running_mean)
    rec["running_var"] = nums(bn.running_var)
    return rec


def mha_params(prefix, attn, m):
    """PyTorch's packed in-projection split into dfdx's w_q, w_k, w_v, then w_o: (values,
    gradients) keyed `{prefix}w_q.weight`, ..."""
    vals, grads = {}, {}
    w, b = attn.in_proj_weight, attn.in_proj_bias
    for k, part in enumerate(["w_q", "w_k", "w_v"]):
        rows = slice(k * m, (k + 1) * m)
        vals[f"{prefix}{part}.weight"] = nums(w[rows])
        vals[f"{prefix}{part}.bias"] = nums(b[rows])
        if w.grad is not None:
            grads[f"{prefix}{part}.weight"] = nums(w.grad[rows])
            grads[f"{prefix}{part}.bias"] = nums(b.grad[rows])
    vals[f"{prefix}w_o.weight"] = nums(attn.out_proj.weight)
    vals[f"{prefix}w_o.bias"] = nums(attn.out_proj.bias)
    if attn.out_proj.weight.grad is not None:
        grads[f"{prefix}w_o.weight"] = nums(attn.out_proj.weight.grad)
        grads[f"{prefix}w_o.bias"] = nums(attn.out_proj.bias.grad)
    return vals, grads


def more_layers():
    """The rest of the layers dfdx's and typenet's preludes export (records appended after the
    first ones, so those keep their numbers)."""
    out = []
    # batch norm over (N, C, H, W): a training step (batch statistics; running statistics
    # updated with PyTorch's unbiased variance) and inference (running statistics only)
    x = seeded(100, 4, 3, 5, 5, scale=2.0) + 0.5
    out.append(norm_record("batchnorm2d_train", nn.BatchNorm2d(3), x, True))
    out.append(norm_record("batchnorm2d_eval", nn.BatchNorm2d(3), x, False))
    out.append(norm_record("batchnorm1d_eval", nn.BatchNorm1d(4), seeded(101, 6, 4, scale=3.0), False))
    ln = nn.LayerNorm(6)
    set_params(ln, 110)
    out.append(layer_record("layernorm1d", ln, seeded(102, 4, 6, scale=2.0) + 1.0, ["weight", "bias"]))
    lin = nn.Linear(5, 3, bias=False)
    set_params(lin, 111)
    out.append(layer_record("unbiased_linear", lin, seeded(103, 4, 5), ["weight"]))
    pr = nn.PReLU()
    with torch.no_grad():
        pr.weight.fill_(0.3)
    out.append(layer_record("prelu", pr, seeded(104, 3, 7, scale=2.0), ["weight"]))
    pr1 = nn.PReLU(5)
    set_params(pr1, 112)
    out.append(layer_record("prelu1d", pr1, seeded(105, 4, 5, scale=2.0), ["weight"]))
    # dfdx's element-wise layers (Ln and Sqrt on positive inputs)
    pos = seeded(106, 3, 7).abs() + 0.2
    elementwise = [
        ("sin", torch.sin, seeded(107, 3, 7, scale=2.0)),
        ("cos", torch.cos, seeded(108, 3, 7, scale=2.0)),
        ("exp", torch.exp, seeded(109, 3, 7)),
        ("ln", torch.log, pos),
        ("sqrt", torch.sqrt, pos),
        ("square", torch.square, seeded(113, 3, 7, scale=2.0)),
        ("abs", torch.abs, seeded(114, 3, 7, scale=2.0)),
    ]
    for name, f, x in elementwise:
        out.append(layer_record(name, Fn(f), x, []))
    # global pools over each channel's map: (N, C, H, W) -> (N, C)
    xg = seeded(115, 2, 3, 4, 5)
    out.append(layer_record("avgpool_global", Fn(lambda t: t.mean(dim=(2, 3))), xg, []))
    out.append(layer_record("maxpool_global", Fn(lambda t: t.amax(dim=(2, 3))), xg, []))
    out.append(layer_record("minpool_global", Fn(lambda t: t.amin(dim=(2, 3))), xg, []))
    # upscaling: nearest (floor(i · in/out)) by an integer and a fractional factor, and dfdx's
    # bilinear, which is PyTorch's align_corners=True
    xu = seeded(116, 2, 2, 3, 4)
    near = lambda size: Fn(lambda t: F.interpolate(t, size=size, mode="nearest"))
    out.append(layer_record("upscale2d_nearest_6x8", near((6, 8)), xu, []))
    out.append(layer_record("upscale2d_nearest_5x7", near((5, 7)), xu, []))
    bil = Fn(lambda t: F.interpolate(t, size=(5, 7), mode="bilinear", align_corners=True))
    out.append(layer_record("upscale2d_bilinear_5x7", bil, xu, []))
    # a flat vector back into (C, H, W)
    out.append(layer_record("unflatten", nn.Unflatten(1, (2, 3, 4)), seeded(117, 2, 24), []))
    # Bias2D: one learned bias per channel
    class Bias2d(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.bias = nn.Parameter(seeded(118, c))

        def forward(self, t):
            return t + self.bias.view(1, -1, 1, 1)

    out.append(layer_record("bias2d", Bias2d(3), seeded(119, 2, 3, 2, 2), ["bias"]))
    # residual blocks: x + f(x), and f(x) + g(x)
    res_lin = nn.Linear(4, 4)
    set_params(res_lin, 120)
    out.append(layer_record("residual", Fn(lambda t: t + torch.relu(res_lin(t))), seeded(121, 3, 4), []))
    out[-1]["params"] = {"weight": nums(res_lin.weight), "bias": nums(res_lin.bias)}
    out[-1]["grad_params"] = {"weight": nums(res_lin.weight.grad), "bias": nums(res_lin.bias.grad)}
    # dfdx's multi-head self-attention (q = k = v = x), batch first: PyTorch's packed
    # in-projection is dfdx's w_q, w_k, w_v stacked
    m, heads = 8, 2
    attn = nn.MultiheadAttention(m, heads, batch_first=True)
    set_params(attn, 130)
    mha = Fn(lambda t: attn(t, t, t, need_weights=False)[0])
    rec = layer_record("multi_head_attention", mha, seeded(131, 2, 5, m), [])
    rec["params"], rec["grad_params"] = mha_params("", attn, m)
    out.append(rec)
    # dfdx's transformer encoder block: post-norm, ReLU feed-forward; dropout 0 (dfdx's
    # `forward` runs dropout as the identity)
    enc = nn.TransformerEncoderLayer(m, heads, dim_feedforward=16, dropout=0.0, batch_first=True)
    set_params(enc, 140, scale=0.3)
    enc.eval()
    rec = layer_record("transformer_encoder_block", enc, seeded(141, 2, 5, m), [])
    rec["params"], rec["grad_params"] = mha_params("self_attn.", enc.self_attn, m)
    for ours, theirs in [("norm1", enc.norm1), ("norm2", enc.norm2), ("ff.0", enc.linear1), ("ff.2", enc.linear2)]:
        for k in ["weight", "bias"]:
            p = getattr(theirs, k)
            rec["params"][f"{ours}.{k}"] = nums(p)
            rec["grad_params"][f"{ours}.{k}"] = nums(p.grad)
    out.append(rec)
    # dfdx's decoder block: post-norm self-attention, attention to the memory, feed-forward;
    # the memory is a constant (dfdx takes it without a tape)
    dec = nn.TransformerDecoderLayer(m, heads, dim_feedforward=16, dropout=0.0, batch_first=True)
    set_params(dec, 150, scale=0.3)
    dec.eval()
    mem = seeded(151, 2, 5, m)
    rec = layer_record("transformer_decoder_block", Fn(lambda t: dec(t, mem)), seeded(152, 2, 3, m), [])
    rec["mem"] = nums(mem)
    rec["params"], rec["grad_params"] = mha_params("self_attn.", dec.self_attn, m)
    vals, grads = mha_params("mh_attn.", dec.multihead_attn, m)
    rec["params"].update(vals)
    rec["grad_params"].update(grads)
    parts = [("norm1", dec.norm1), ("norm2", dec.norm2), ("norm3", dec.norm3), ("ff.0", dec.linear1), ("ff.2", dec.linear2)]
    for ours, theirs in parts:
        for k in ["weight", "bias"]:
            p = getattr(theirs, k)
            rec["params"][f"{ours}.{k}"] = nums(p)
            rec["grad_params"][f"{ours}.{k}"] = nums(p.grad)
    out.append(rec)
    # sequence layers: an embedding table (ids in, rows out), a learned position table added,
    # and the four poolings over the sequence, (N, S, M) -> (N, M)
    emb = nn.Embedding(7, 3)
    set_params(emb, 160)
    ids = torch.tensor([[1, 0, 6, 3], [2, 2, 5, 0]])
    y = emb(ids)
    gy = seeded(161, *y.shape)
    (y * gy).sum().backward()
    out.append({
        "name": "embedding",
        "x": [float(v) for v in ids.view(-1).tolist()],
        "y": nums(y),
        "gy": nums(gy),
        "params": {"weight": nums(emb.weight)},
        "grad_params": {"weight": nums(emb.weight.grad)},
    })

    class Positions(nn.Module):
        def __init__(self, length, width):
            super().__init__()
            self.weight = nn.Parameter(seeded(162, length, width))

        def forward(self, t):
            return t + self.weight

    out.append(layer_record("positional_embedding", Positions(4, 3), seeded(163, 2, 4, 3), ["weight"]))
    xs = seeded(164, 2, 5, 3)
    out.append(layer_record("seq_mean", Fn(lambda t: t.mean(dim=1)), xs, []))
    out.append(layer_record("seq_max", Fn(lambda t: t.amax(dim=1)), xs, []))
    out.append(layer_record("seq_first", Fn(lambda t: t[:, 0]), xs, []))
    out.append(layer_record("seq_last", Fn(lambda t: t[:, -1]), xs, []))
    return out


def loss_record(name, fn, y, t, target_kind):
    y = y.clone().requires_grad_(True)
    loss = fn(y, t)
    loss.backward()
    return {
        "name": name,
        "output": nums(y),
        "shape": shape(y),
        "target": [int(v) for v in t.tolist()] if target_kind == "classes" else nums(t),
        "target_kind": target_kind,
        "loss": float("%.9g" % loss.item()),
        "grad": nums(y.grad),
    }


def losses():
    out = []
    logits = seeded(40, 5, 4, scale=2.0)
    classes = torch.tensor([0, 3, 1, 2, 3])
    out.append(loss_record("sparse_categorical_crossentropy", nn.CrossEntropyLoss(), logits, classes, "classes"))
    probs = torch.softmax(seeded(41, 5, 4), dim=-1)
    out.append(loss_record("categorical_crossentropy", nn.CrossEntropyLoss(), logits, probs, "values"))
    y, t = seeded(42, 6, 3), seeded(43, 6, 3)
    out.append(loss_record("mean_squared_error", nn.MSELoss(), y, t, "values"))
    out.append(loss_record("mean_absolute_error", nn.L1Loss(), y, t, "values"))
    y2, t2 = seeded(44, 6, 3, scale=2.0), seeded(45, 6, 3)
    out.append(loss_record("huber_1", nn.HuberLoss(delta=1.0), y2, t2, "values"))
    out.append(loss_record("huber_0.5", nn.HuberLoss(delta=0.5), y2, t2, "values"))
    p = torch.sigmoid(seeded(46, 6, 2, scale=2.0))
    bt = (seeded(47, 6, 2) > 0).to(torch.float32)
    out.append(loss_record("binary_crossentropy", nn.BCELoss(), p, bt, "values"))
    # saturated probabilities: BCELoss clamps each log at -100 and keeps a 1/max(p(1-p), 1e-12) gradient
    ps = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.25, 0.9], [1e-9, 1.0 - 1e-7]])
    ts = torch.tensor([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    out.append(loss_record("bce_loss_saturated", nn.BCELoss(), ps, ts, "values"))
    z = seeded(48, 6, 2, scale=3.0)
    out.append(loss_record("binary_crossentropy_with_logits", nn.BCEWithLogitsLoss(), z, bt, "values"))
    return out


def optimizer_record(name, make, steps=5, n=8):
    w0 = seeded(50, n, scale=0.01)
    grads = [seeded(60 + k, n) for k in range(steps)]
    w = w0.clone().requires_grad_(True)
    opt = make([w])
    after = []
    for g in grads:
        opt.zero_grad()
        w.grad = g.clone()
        opt.step()
        after.append(nums(w))
    return {"name": name, "w0": nums(w0), "grads": [nums(g) for g in grads], "after": after}


def optimizers():
    o = torch.optim
    specs = [
        ("sgd", lambda p: o.SGD(p, lr=0.1)),
        ("sgd_momentum", lambda p: o.SGD(p, lr=0.1, momentum=0.9)),
        ("sgd_nesterov", lambda p: o.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
        ("sgd_momentum_weight_decay", lambda p: o.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01)),
        ("adam", lambda p: o.Adam(p, lr=0.01)),
        ("adam_defaults", lambda p: o.Adam(p)),
        ("adam_weight_decay", lambda p: o.Adam(p, lr=0.01, weight_decay=0.1)),
        ("adamw", lambda p: o.AdamW(p, lr=0.01, weight_decay=0.1)),
        ("rmsprop", lambda p: o.RMSprop(p)),
        ("rmsprop_centered_momentum", lambda p: o.RMSprop(p, lr=0.01, momentum=0.9, centered=True)),
        ("rmsprop_weight_decay", lambda p: o.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1)),
    ]
    return [optimizer_record(name, make) for name, make in specs]


def conv_dilated():
    """Dilated convolutions: the kernel's taps `dilation` apart."""
    out = []
    torch.manual_seed(0)
    conv = nn.Conv2d(2, 3, 3, dilation=2)
    out.append(layer_record("conv2d_dilation2", conv, seeded(40, 2, 2, 9, 9), ["weight", "bias"]))
    conv = nn.Conv2d(2, 3, 3, stride=2, padding=2, dilation=2)
    x = seeded(41, 2, 2, 8, 7)
    out.append(layer_record("conv2d_stride2_pad2_dilation2", conv, x, ["weight", "bias"]))
    conv = nn.Conv2d(3, 2, 2, padding=1, dilation=3)
    out.append(layer_record("conv2d_k2_pad1_dilation3", conv, seeded(42, 1, 3, 6, 5), ["weight", "bias"]))
    return out


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    meta = {"torch": torch.__version__, "numpy": np.__version__, "dtype": "float32"}
    for name, records in [("layers", layers()), ("losses", losses()), ("optimizers", optimizers()),
                          ("conv_dilated", conv_dilated())]:
        path = OUT / f"{name}.json"
        text = json.dumps({"recorded_with": meta, "records": records}, separators=(",", ":"))
        path.write_text(text + "\n")
        print(f"{path}: {len(records)} records, {len(text)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
