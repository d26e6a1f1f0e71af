# The building blocks, mirroring nas-navigator's engine (src/nas/ops, src/nas/supernet):
# "same" convolutions (padding = dilation * (kernel - 1) // 2), batch norm with eps 1e-5,
# stride-1 pools padded to keep the size (average excludes the padding), strided pools
# unpadded and floored, a node's value is the sum of its incoming edges' outputs.
import torch
from torch import nn
import torch.nn.functional as F

BN_EPS = 1e-5
BN_MOMENTUM = 0.1


def _put(parent, name, module):
    # Edge and block names (e.g. `n1~0`) become state_dict key parts as they are; stored
    # straight in `_modules` so no name can clash with an nn.Module attribute.
    if not name or "." in name:
        raise ValueError(f"`{name}` cannot name a torch module")
    parent._modules[name] = module


class BatchNorm(nn.Module):
    """BatchNorm2d with exactly the keys weight, bias, running_mean, running_var."""

    def __init__(self, channels):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))

    def forward(self, x):
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training, BN_MOMENTUM, BN_EPS)


class ConvUnit(nn.Module):
    """[ReLU] -> conv ("same" padding) -> [BN | bias] -> [ReLU]; keys conv.*, bn.*."""

    def __init__(self, cin, cout, kernel, stride=1, dilation=1, groups=1, batch_norm=True,
                 bias=None, relu_before=False, relu_after=False):
        super().__init__()
        if bias is None:
            bias = not batch_norm
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride,
                              padding=dilation * (kernel - 1) // 2, dilation=dilation,
                              groups=groups, bias=bias)
        self.bn = BatchNorm(cout) if batch_norm else None
        self.relu_before = relu_before
        self.relu_after = relu_after

    def forward(self, x):
        if self.relu_before:
            x = F.relu(x)
        y = self.conv(x)
        if self.bn is not None:
            y = self.bn(y)
        if self.relu_after:
            y = F.relu(y)
        return y


class SepConv(nn.Module):
    """Depthwise k x k (bias, no norm) -> pointwise 1x1 -> [BN | bias] -> [ReLU]."""

    def __init__(self, s):
        super().__init__()
        cin = s["cin"]
        self.depthwise = ConvUnit(cin, cin, s["kernel"], s["stride"], s["dilation"], cin,
                                  batch_norm=False)
        self.pointwise = ConvUnit(cin, s["cout"], 1, batch_norm=s["batch_norm"],
                                  relu_after=s["relu"])

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


class Pool(nn.Module):
    def __init__(self, mode, kernel, stride):
        super().__init__()
        self.mode, self.kernel, self.stride = mode, kernel, stride

    def forward(self, x):
        k, s = self.kernel, self.stride
        if k == 1 and s == 1:
            return x
        pad = k // 2 if (s == 1 and s != k) else 0
        if self.mode == "max":
            return F.max_pool2d(x, k, s, pad)
        return F.avg_pool2d(x, k, s, pad, count_include_pad=False)


class Identity(nn.Module):
    def forward(self, x):
        return x


class Zero(nn.Module):
    """Chose `none`: contributes nothing to the node it feeds."""

    def forward(self, x):
        return torch.zeros_like(x)


class Dense(nn.Module):
    """[BN -> ReLU] -> global average pool (images) -> [hidden -> ReLU] -> linear."""

    def __init__(self, s):
        super().__init__()
        self.bn = BatchNorm(s["features"]) if s["pre_bn"] else None
        last = s["features"]
        self.hidden = None
        if s["hidden"] > 0:
            self.hidden = nn.Linear(last, s["hidden"])
            last = s["hidden"]
        self.linear = nn.Linear(last, s["classes"])

    def forward(self, x):
        if self.bn is not None:
            x = F.relu(self.bn(x))
        if x.dim() == 4:
            x = x.mean(3).mean(2)
        if self.hidden is not None:
            x = F.relu(self.hidden(x))
        return self.linear(x)


class Residual(nn.Module):
    """NB201's reduction: ReLU-conv3x3-BN(stride) -> ReLU-conv3x3-BN, plus the shortcut
    avg-pool(stride, stride) -> conv 1x1 without bias or norm."""

    def __init__(self, s):
        super().__init__()
        cin, f, st = s["cin"], s["filters"], s["stride"]
        self.conv_a = ConvUnit(cin, f, 3, stride=st, relu_before=True)
        self.conv_b = ConvUnit(f, f, 3, relu_before=True)
        self.shortcut = ConvUnit(cin, f, 1, batch_norm=False, bias=False)
        self.stride = st

    def forward(self, x):
        main = self.conv_b(self.conv_a(x))
        pooled = x if self.stride == 1 else F.avg_pool2d(x, self.stride, self.stride)
        return main + self.shortcut(pooled)


def make_block(s):
    op = s["op"]
    if op == "conv":
        return ConvUnit(s["cin"], s["cout"], s["kernel"], s["stride"], s["dilation"],
                        s["groups"], batch_norm=s["batch_norm"],
                        relu_before=s["relu_before"], relu_after=s["relu_after"])
    if op == "sep_conv":
        return SepConv(s)
    if op == "pool":
        return Pool(s["mode"], s["kernel"], s["stride"])
    if op == "identity":
        return Identity()
    if op == "zero":
        return Zero()
    if op == "dense":
        return Dense(s)
    if op == "residual":
        return Residual(s)
    raise ValueError(f"unknown op {op}")


class Network(nn.Module):
    """The candidate: one ModuleDict per edge, keyed by edge name, holding its chosen block
    keyed by block label (or several parallel blocks, whose outputs are summed), so
    state_dict keys are `{edge}.{block}.{part}.{tensor}`."""

    def __init__(self, arch):
        super().__init__()
        self.input_node = arch["input"]
        self.output_node = arch["output"]
        self.node_shapes = arch["node_shapes"]
        self.steps = []
        for step in arch["steps"]:
            # Parallel blocks of one edge are consecutive steps sharing the edge's dict.
            blocks = self._modules.get(step["edge"])
            if blocks is None:
                blocks = nn.ModuleDict()
                _put(self, step["edge"], blocks)
            _put(blocks, step["block"], make_block(step["spec"]))
            self.steps.append((step["edge"], step["block"], step["from"], step["to"],
                               step["spec"]["op"] == "zero"))

    def _zeros(self, node, like):
        return like.new_zeros([like.shape[0]] + list(self.node_shapes[node]))

    def forward(self, x):
        values = {self.input_node: x}
        for edge, block, src, dst, zero in self.steps:
            if zero:
                continue
            h = values.get(src)
            if h is None:
                h = self._zeros(src, x)
            out = self._modules[edge][block](h)
            values[dst] = values[dst] + out if dst in values else out
        out = values.get(self.output_node)
        return self._zeros(self.output_node, x) if out is None else out
