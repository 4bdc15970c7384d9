"""A small ResNet composer classifier over piano rolls, in the spirit of Kim et al. 2020.

Module names matter: the ONNX export keeps them as scopes (`/layer3/...`), and concept-lens offers
the outputs of `conv1` (stem), `maxpool`, `layer1`..`layer4`, `avgpool` and `fc` as explainable layers.
"""
import torch
from torch import nn


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a skip connection (1x1 projection when the shape changes)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class PianoRollResNet(nn.Module):
    """Input [N, C, T, P] (time x pitch as a 2-D image); output class logits [N, classes]."""

    def __init__(self, classes, in_channels=1, widths=(16, 32, 64, 128), blocks=(1, 1, 1, 1), dropout=0.2,
                 time_pool=1):
        super().__init__()
        # time_pool > 1: max over that many frames first (20 fps -> 20/time_pool fps), so that every
        # later layer computes on time_pool times fewer positions (the ONNX input stays the same).
        self.prepool = nn.MaxPool2d((time_pool, 1)) if time_pool > 1 else None
        self.conv1 = nn.Conv2d(in_channels, widths[0], 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        # As in torchvision's ResNet stem: quarters the positions every later layer computes on
        # (about 3x faster training on this CPU), leaving layer4 at [128, 13, 3] for a 400x88 input.
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = widths[0]
        stages = []
        for i, (width, count) in enumerate(zip(widths, blocks)):
            stride = 1 if i == 0 else 2
            stages.append(nn.Sequential(*[BasicBlock(cin if j == 0 else width, width, stride if j == 0 else 1) for j in range(count)]))
            cin = width
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(cin, classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        if self.prepool is not None:
            x = self.prepool(x)
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(self.dropout(x))


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())
