"""PyTorch reference for the CompVis config cross-checks: the module tree of CompVis latent-diffusion
openaimodel.UNetModel (with attention.SpatialTransformer), built from a config YAML's unet_config.params with the same
argument defaults, module names and parameter shapes, written out here because Debian's torch has no ldm package.
Modules are built on the meta device, so an 859M-parameter UNet costs no memory.

usage: compvis_unet_reference.py CONFIG.yaml [KEY=VALUE ...]
    KEY=VALUE overrides a unet_config param (an int), e.g. model_channels=64.
    prints JSON {"parameters": N, "shapes": {compvis name: shape}} of model.diffusion_model.
"""
import json
import sys

import torch.nn as nn
import yaml

META = "meta"


def conv(cin, cout, k, stride=1, padding=0, dims=2):
    return (nn.Conv1d if dims == 1 else nn.Conv2d)(cin, cout, k, stride=stride, padding=padding, device=META)


def norm(c):
    return nn.GroupNorm(32, c, device=META)


class ResBlock(nn.Module):
    def __init__(self, ch, emb, out, use_scale_shift_norm, up=False, down=False):
        super().__init__()
        self.in_layers = nn.Sequential(norm(ch), nn.SiLU(), conv(ch, out, 3, padding=1))
        self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(emb, 2 * out if use_scale_shift_norm else out, device=META))
        self.out_layers = nn.Sequential(norm(out), nn.SiLU(), nn.Dropout(0.0), conv(out, out, 3, padding=1))
        self.skip_connection = nn.Identity() if out == ch else conv(ch, out, 1)


class AttentionBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.norm = norm(ch)
        self.qkv = conv(ch, 3 * ch, 1, dims=1)
        self.proj_out = conv(ch, ch, 1, dims=1)


class CrossAttention(nn.Module):
    def __init__(self, query_dim, heads, dim_head, context_dim=None):
        super().__init__()
        inner = heads * dim_head
        context_dim = context_dim or query_dim
        self.to_q = nn.Linear(query_dim, inner, bias=False, device=META)
        self.to_k = nn.Linear(context_dim, inner, bias=False, device=META)
        self.to_v = nn.Linear(context_dim, inner, bias=False, device=META)
        self.to_out = nn.Sequential(nn.Linear(inner, query_dim, device=META), nn.Dropout(0.0))


class GEGLU(nn.Module):
    def __init__(self, dim_in, dim_out):
        super().__init__()
        self.proj = nn.Linear(dim_in, dim_out * 2, device=META)


class FeedForward(nn.Module):
    def __init__(self, dim, mult=4):
        super().__init__()
        self.net = nn.Sequential(GEGLU(dim, dim * mult), nn.Dropout(0.0), nn.Linear(dim * mult, dim, device=META))


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim, heads, dim_head, context_dim):
        super().__init__()
        self.attn1 = CrossAttention(dim, heads, dim_head)
        self.ff = FeedForward(dim)
        self.attn2 = CrossAttention(dim, heads, dim_head, context_dim)
        self.norm1 = nn.LayerNorm(dim, device=META)
        self.norm2 = nn.LayerNorm(dim, device=META)
        self.norm3 = nn.LayerNorm(dim, device=META)


class SpatialTransformer(nn.Module):
    def __init__(self, ch, heads, dim_head, depth, context_dim):
        super().__init__()
        inner = heads * dim_head
        self.norm = nn.GroupNorm(32, ch, eps=1e-6, device=META)
        self.proj_in = conv(ch, inner, 1)
        self.transformer_blocks = nn.ModuleList([BasicTransformerBlock(inner, heads, dim_head, context_dim) for _ in range(depth)])
        self.proj_out = conv(inner, ch, 1)


class Downsample(nn.Module):
    def __init__(self, ch, use_conv):
        super().__init__()
        self.op = conv(ch, ch, 3, stride=2, padding=1) if use_conv else nn.AvgPool2d(2)


class Upsample(nn.Module):
    def __init__(self, ch, use_conv):
        super().__init__()
        if use_conv:
            self.conv = conv(ch, ch, 3, padding=1)


def unet(in_channels, model_channels, out_channels, num_res_blocks, attention_resolutions, channel_mult=(1, 2, 4, 8),
         conv_resample=True, num_classes=None, num_heads=-1, num_head_channels=-1, num_heads_upsample=-1,
         use_scale_shift_norm=False, resblock_updown=False, use_spatial_transformer=False, transformer_depth=1,
         context_dim=None, legacy=True, **ignored):
    if num_heads_upsample == -1:
        num_heads_upsample = num_heads
    emb = model_channels * 4
    root = nn.Module()
    root.time_embed = nn.Sequential(nn.Linear(model_channels, emb, device=META), nn.SiLU(), nn.Linear(emb, emb, device=META))
    if num_classes is not None:
        root.label_emb = nn.Embedding(num_classes, emb, device=META)

    def attention(ch, heads_for_attention_block):
        if num_head_channels == -1:
            heads, dim_head = num_heads, ch // num_heads
        else:
            heads, dim_head = ch // num_head_channels, num_head_channels
        if legacy:
            dim_head = ch // heads if use_spatial_transformer else num_head_channels
        if use_spatial_transformer:
            return SpatialTransformer(ch, heads, dim_head, transformer_depth, context_dim)
        return AttentionBlock(ch)  # its parameters do not depend on the head split

    root.input_blocks = nn.ModuleList([nn.Sequential(conv(in_channels, model_channels, 3, padding=1))])
    chans, ch, ds = [model_channels], model_channels, 1
    for level, mult in enumerate(channel_mult):
        for _ in range(num_res_blocks):
            layers = [ResBlock(ch, emb, mult * model_channels, use_scale_shift_norm)]
            ch = mult * model_channels
            if ds in attention_resolutions:
                layers.append(attention(ch, num_heads))
            root.input_blocks.append(nn.Sequential(*layers))
            chans.append(ch)
        if level != len(channel_mult) - 1:
            down = ResBlock(ch, emb, ch, use_scale_shift_norm, down=True) if resblock_updown else Downsample(ch, conv_resample)
            root.input_blocks.append(nn.Sequential(down))
            chans.append(ch)
            ds *= 2
    root.middle_block = nn.Sequential(ResBlock(ch, emb, ch, use_scale_shift_norm), attention(ch, num_heads),
                                      ResBlock(ch, emb, ch, use_scale_shift_norm))
    root.output_blocks = nn.ModuleList([])
    for level, mult in list(enumerate(channel_mult))[::-1]:
        for i in range(num_res_blocks + 1):
            layers = [ResBlock(ch + chans.pop(), emb, model_channels * mult, use_scale_shift_norm)]
            ch = model_channels * mult
            if ds in attention_resolutions:
                layers.append(attention(ch, num_heads_upsample))
            if level and i == num_res_blocks:
                layers.append(ResBlock(ch, emb, ch, use_scale_shift_norm, up=True) if resblock_updown else Upsample(ch, conv_resample))
                ds //= 2
            root.output_blocks.append(nn.Sequential(*layers))
    root.out = nn.Sequential(norm(ch), nn.SiLU(), conv(model_channels, out_channels, 3, padding=1))
    return root


def main():
    with open(sys.argv[1]) as f:
        params = dict(yaml.safe_load(f)["model"]["params"]["unet_config"]["params"])
    for override in sys.argv[2:]:
        key, value = override.split("=", 1)
        params[key] = int(value)
    model = unet(**params)
    shapes = {name: list(p.shape) for name, p in model.state_dict().items()}
    print(json.dumps({"parameters": sum(p.numel() for p in model.parameters()), "shapes": shapes}))


if __name__ == "__main__":
    main()
