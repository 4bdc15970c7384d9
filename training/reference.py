"""The reference models (models/*.onnx) as PyTorch modules, for autograd fixtures and benchmarks.

Their ONNX exports fold each BatchNorm into the convolution before it, so the folded weights go
into training/model.py's PianoRollResNet with every BatchNorm set to the identity plus the folded
bias (eps 0, mean 0, variance 1, weight 1). The logits then equal the ONNX model's (checked by
test/model/autodiff.test.ts against onnxruntime).
"""
import json

import onnx
import torch
from onnx import numpy_helper
from torch import nn

from model import PianoRollResNet


def load_reference(path):
    """A PianoRollResNet holding the ONNX model's weights (BN folded: BN = identity + bias)."""
    proto = onnx.load(path)
    labels = json.loads({p.key: p.value for p in proto.metadata_props}["concept_lens.labels"])
    inits = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in proto.graph.initializer}
    model = PianoRollResNet(len(labels)).eval()
    for m in model.modules():
        if isinstance(m, nn.ReLU):
            m.inplace = False  # retain_grad needs the pre-activation tensors intact
    loaded = 0
    for node in proto.graph.node:
        if node.op_type == "Conv":
            # /layer2/layer2.0/downsample/downsample.0/Conv -> layer2.0.downsample.0
            scopes = node.name.split("/")[1:-1]
            path_ = ".".join(s.split(".")[-1] if i and s.startswith(scopes[i - 1] + ".") else s for i, s in enumerate(scopes))
            conv = model.get_submodule(path_)
            parent, leaf = path_.rsplit(".", 1) if "." in path_ else ("", path_)
            owner = model.get_submodule(parent) if parent else model
            bn = owner[1] if leaf == "0" else getattr(owner, {"conv1": "bn1", "conv2": "bn2"}[leaf])
            conv.weight.data.copy_(inits[node.input[1]])
            bn.eps = 0.0
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0)
            bn.weight.data.fill_(1.0)
            bn.bias.data.copy_(inits[node.input[2]])
            loaded += 1
        elif node.op_type == "Gemm":
            model.fc.weight.data.copy_(inits[node.input[1]])
            model.fc.bias.data.copy_(inits[node.input[2]])
            loaded += 1
    assert loaded == 13, f"{path}: loaded {loaded} layers"
    return model, labels


def resnet_with_layers(model, x):
    """Logits and the tensors `model inspect` lists (named as it names them), grads retained."""
    acts = {"input": x}
    h = model.conv1(x)
    acts["conv1"] = h = model.bn1(h)
    acts["relu"] = h = model.relu(h)
    acts["maxpool"] = h = model.maxpool(h)
    for name in ("layer1", "layer2", "layer3", "layer4"):
        acts[name] = h = getattr(model, name)(h)
    acts["avgpool"] = h = model.avgpool(h)
    acts["Flatten"] = h = torch.flatten(h, 1)
    for t in acts.values():
        t.retain_grad()
    return model.fc(model.dropout(h)), acts
