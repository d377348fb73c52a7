"""PyTorch reference for the first-stage cross-check: the Encoder/Decoder of CompVis latent-diffusion
(ldm/modules/diffusionmodules/model.py), taming's VectorQuantizer2 and the KL autoencoder's posterior mean,
written out here because Debian's torch has no ldm package.

usage: first_stage_reference.py count                      -> prints the parameter count of every named config
       first_stage_reference.py run CONFIG WEIGHTS DATA OUT
           WEIGHTS: safetensors-free .pth state dict (CompVis names) written by the test
           DATA: .pth with tensor x (B,3,H,W); OUT: .pth with z (encode) and x (decode of z)
"""
import sys
import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIGS = {
    "vq-f4": dict(kind="vq", ch=128, ch_mult=(1, 2, 4), num_res_blocks=2, attn_resolutions=(), z_channels=3, embed_dim=3, n_embed=8192, resolution=256),
    "vq-f8": dict(kind="vq", ch=128, ch_mult=(1, 2, 2, 4), num_res_blocks=2, attn_resolutions=(32,), z_channels=4, embed_dim=4, n_embed=16384, resolution=256),
    "kl-f8": dict(kind="kl", ch=128, ch_mult=(1, 2, 4, 4), num_res_blocks=2, attn_resolutions=(), z_channels=4, embed_dim=4, resolution=256),
    "kl-f4": dict(kind="kl", ch=128, ch_mult=(1, 2, 4), num_res_blocks=2, attn_resolutions=(), z_channels=3, embed_dim=3, resolution=256),
    "tiny-kl": dict(kind="kl", ch=32, ch_mult=(1, 2), num_res_blocks=1, attn_resolutions=(), z_channels=3, embed_dim=3, resolution=32),
}


def normalize(c):
    return nn.GroupNorm(32, c, eps=1e-6, affine=True)


def swish(x):
    return x * torch.sigmoid(x)


class Upsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 1, 1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Downsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 2, 0)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1), mode="constant", value=0))


class ResnetBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.norm1 = normalize(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1)
        self.norm2 = normalize(cout)
        self.dropout = nn.Dropout(0.0)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.same = cin == cout
        if not self.same:
            self.nin_shortcut = nn.Conv2d(cin, cout, 1, 1, 0)

    def forward(self, x):
        h = self.conv1(swish(self.norm1(x)))
        h = self.conv2(self.dropout(swish(self.norm2(h))))
        return (x if self.same else self.nin_shortcut(x)) + h


class AttnBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.norm = normalize(c)
        self.q = nn.Conv2d(c, c, 1)
        self.k = nn.Conv2d(c, c, 1)
        self.v = nn.Conv2d(c, c, 1)
        self.proj_out = nn.Conv2d(c, c, 1)

    def forward(self, x):
        h_ = self.norm(x)
        q, k, v = self.q(h_), self.k(h_), self.v(h_)
        b, c, h, w = q.shape
        q = q.reshape(b, c, h * w).permute(0, 2, 1)
        k = k.reshape(b, c, h * w)
        w_ = torch.bmm(q, k) * (int(c) ** (-0.5))
        w_ = F.softmax(w_, dim=2)
        v = v.reshape(b, c, h * w)
        h_ = torch.bmm(v, w_.permute(0, 2, 1)).reshape(b, c, h, w)
        return x + self.proj_out(h_)


class Encoder(nn.Module):
    def __init__(self, ch, ch_mult, num_res_blocks, attn_resolutions, resolution, z_channels, double_z, **_):
        super().__init__()
        self.num_resolutions, self.num_res_blocks = len(ch_mult), num_res_blocks
        self.conv_in = nn.Conv2d(3, ch, 3, 1, 1)
        curr_res, in_ch_mult = resolution, (1,) + tuple(ch_mult)
        self.down = nn.ModuleList()
        for i_level in range(self.num_resolutions):
            block, attn = nn.ModuleList(), nn.ModuleList()
            block_in, block_out = ch * in_ch_mult[i_level], ch * ch_mult[i_level]
            for _ in range(num_res_blocks):
                block.append(ResnetBlock(block_in, block_out))
                block_in = block_out
                if curr_res in attn_resolutions:
                    attn.append(AttnBlock(block_in))
            down = nn.Module()
            down.block, down.attn = block, attn
            if i_level != self.num_resolutions - 1:
                down.downsample = Downsample(block_in)
                curr_res //= 2
            self.down.append(down)
        self.mid = nn.Module()
        self.mid.block_1 = ResnetBlock(block_in, block_in)
        self.mid.attn_1 = AttnBlock(block_in)
        self.mid.block_2 = ResnetBlock(block_in, block_in)
        self.norm_out = normalize(block_in)
        self.conv_out = nn.Conv2d(block_in, 2 * z_channels if double_z else z_channels, 3, 1, 1)

    def forward(self, x):
        h = self.conv_in(x)
        for i_level in range(self.num_resolutions):
            for i_block in range(self.num_res_blocks):
                h = self.down[i_level].block[i_block](h)
                if len(self.down[i_level].attn) > 0:
                    h = self.down[i_level].attn[i_block](h)
            if i_level != self.num_resolutions - 1:
                h = self.down[i_level].downsample(h)
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(h)))
        return self.conv_out(swish(self.norm_out(h)))


class Decoder(nn.Module):
    def __init__(self, ch, ch_mult, num_res_blocks, attn_resolutions, resolution, z_channels, **_):
        super().__init__()
        self.num_resolutions, self.num_res_blocks = len(ch_mult), num_res_blocks
        block_in = ch * ch_mult[-1]
        curr_res = resolution // 2 ** (self.num_resolutions - 1)
        self.conv_in = nn.Conv2d(z_channels, block_in, 3, 1, 1)
        self.mid = nn.Module()
        self.mid.block_1 = ResnetBlock(block_in, block_in)
        self.mid.attn_1 = AttnBlock(block_in)
        self.mid.block_2 = ResnetBlock(block_in, block_in)
        self.up = nn.ModuleList()
        for i_level in reversed(range(self.num_resolutions)):
            block, attn = nn.ModuleList(), nn.ModuleList()
            block_out = ch * ch_mult[i_level]
            for _ in range(num_res_blocks + 1):
                block.append(ResnetBlock(block_in, block_out))
                block_in = block_out
                if curr_res in attn_resolutions:
                    attn.append(AttnBlock(block_in))
            up = nn.Module()
            up.block, up.attn = block, attn
            if i_level != 0:
                up.upsample = Upsample(block_in)
                curr_res *= 2
            self.up.insert(0, up)
        self.norm_out = normalize(block_in)
        self.conv_out = nn.Conv2d(block_in, 3, 3, 1, 1)

    def forward(self, z):
        h = self.conv_in(z)
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(h)))
        for i_level in reversed(range(self.num_resolutions)):
            for i_block in range(self.num_res_blocks + 1):
                h = self.up[i_level].block[i_block](h)
                if len(self.up[i_level].attn) > 0:
                    h = self.up[i_level].attn[i_block](h)
            if i_level != 0:
                h = self.up[i_level].upsample(h)
        return self.conv_out(swish(self.norm_out(h)))


class VectorQuantizer2(nn.Module):
    def __init__(self, n_e, e_dim):
        super().__init__()
        self.embedding = nn.Embedding(n_e, e_dim)
        self.embedding.weight.data.uniform_(-1.0 / n_e, 1.0 / n_e)

    def forward(self, z):
        z = z.permute(0, 2, 3, 1).contiguous()
        flat = z.view(-1, self.embedding.weight.shape[1])
        d = torch.sum(flat ** 2, dim=1, keepdim=True) + torch.sum(self.embedding.weight ** 2, dim=1) - \
            2 * torch.einsum("bd,dn->bn", flat, self.embedding.weight.t())
        z_q = self.embedding(torch.argmin(d, dim=1)).view(z.shape)
        return z_q.permute(0, 3, 1, 2).contiguous()


class Autoencoder(nn.Module):
    def __init__(self, kind, embed_dim, n_embed=None, **dd):
        super().__init__()
        self.kind = kind
        self.encoder = Encoder(double_z=kind == "kl", **dd)
        self.decoder = Decoder(**dd)
        z = dd["z_channels"]
        if kind == "vq":
            self.quantize = VectorQuantizer2(n_embed, embed_dim)
            self.quant_conv = nn.Conv2d(z, embed_dim, 1)
        else:
            self.quant_conv = nn.Conv2d(2 * z, 2 * embed_dim, 1)
        self.post_quant_conv = nn.Conv2d(embed_dim, z, 1)

    def encode(self, x):
        h = self.quant_conv(self.encoder(x))
        return h if self.kind == "vq" else torch.chunk(h, 2, dim=1)[0]

    def decode(self, z):
        if self.kind == "vq":
            z = self.quantize(z)
        return self.decoder(self.post_quant_conv(z))


def main():
    if sys.argv[1] == "count":
        for name, config in CONFIGS.items():
            print(name, sum(p.numel() for p in Autoencoder(**config).parameters()))
        return
    _, _, name, weights, data, out = sys.argv
    torch.set_num_threads(1)
    model = Autoencoder(**CONFIGS[name])
    model.load_state_dict(torch.load(weights), strict=True)
    model.eval()
    x = torch.load(data)["x"]
    with torch.no_grad():
        z = model.encode(x)
        decoded = model.decode(z)
    torch.save({"z": z.contiguous().clone(), "x": decoded.contiguous().clone()}, out)


if __name__ == "__main__":
    main()
