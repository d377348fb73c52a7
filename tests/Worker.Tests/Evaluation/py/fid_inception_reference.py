"""pytorch-fid's FID Inception V3 (fid_inception_v3 with FIDInceptionA/C/E_1/E_2 on torchvision's Inception3) with a seeded
random state dict. Writes the weights (zip .pth, torchvision key names), an input batch in [0, 1] and the pool3 features."""
import sys

import torch
import torch.nn.functional as F
import torchvision
from torchvision.models.inception import InceptionA, InceptionC, InceptionE


class FIDInceptionA(InceptionA):
    def forward(self, x):
        pool = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False))
        return torch.cat([self.branch1x1(x), self.branch5x5_2(self.branch5x5_1(x)),
                          self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))), pool], 1)


class FIDInceptionC(InceptionC):
    def forward(self, x):
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = x
        for layer in (self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            d = layer(d)
        pool = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False))
        return torch.cat([self.branch1x1(x), b7, d, pool], 1)


class FIDInceptionE(InceptionE):
    def __init__(self, in_channels, max_pool):
        super().__init__(in_channels)
        self.max_pool = max_pool

    def forward(self, x):
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        d = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        if self.max_pool:  # FIDInceptionE_2
            pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
        else:  # FIDInceptionE_1
            pooled = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)
        return torch.cat([self.branch1x1(x), b3, d, self.branch_pool(pooled)], 1)


def fid_inception_v3():
    net = torchvision.models.inception_v3(num_classes=1008, aux_logits=False, init_weights=False)
    net.Mixed_5b = FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = FIDInceptionE(1280, max_pool=False)
    net.Mixed_7c = FIDInceptionE(2048, max_pool=True)
    return net


def pool3(net, x):
    """pytorch-fid InceptionV3 blocks 0-3 with resize_input and normalize_input."""
    x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
    x = 2 * x - 1
    for layer in (net.Conv2d_1a_3x3, net.Conv2d_2a_3x3, net.Conv2d_2b_3x3):
        x = layer(x)
    x = F.max_pool2d(x, kernel_size=3, stride=2)
    x = net.Conv2d_4a_3x3(net.Conv2d_3b_1x1(x))
    x = F.max_pool2d(x, kernel_size=3, stride=2)
    for name in ("Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c"):
        x = getattr(net, name)(x)
    return F.adaptive_avg_pool2d(x, (1, 1)).flatten(1)


def main(weights_path, data_path, seed):
    torch.manual_seed(seed)
    net = fid_inception_v3().eval()
    with torch.no_grad():
        # Variance-preserving random weights and non-trivial BatchNorm statistics, so every layer matters.
        for module in net.modules():
            if isinstance(module, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            elif isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.1, 0.1)
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
        state = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
        torch.save(state, weights_path)
        images = torch.rand(2, 3, 32, 32)
        torch.save({"images": images, "features": pool3(net, images)}, data_path)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
