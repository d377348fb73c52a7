"""PyTorch peer of one spectrum-aware distillation step (tiny-ldm teacher -> tiny-sd student), for bench peer-distill-step.

The same networks as src/Worker/Models (CompVis openaimodel.UNetModel names, legacy QKV attention, WG-Down/WG-Up as
src/Worker/Spectral writes them), the same loss as src/Worker/Training (L_ddpm + 0.1 L_spatial + 0.1 L_freq,
docs/method.md) and the same step as DiffusionTrainer.TrainStep (per-step seeded draws, AdamW, clipping at 1.0, LitEma).

Run with Debian's python3-torch (/usr/bin/python3). Prints one JSON line when ready (parameter counts, taps and, with
--weights, the loss terms on the saved input), then serves stdin commands, one JSON line each:
  steps N     N timed training steps           -> {"steps": N, "seconds": [...]}
  phases N    N steps timed by phase            -> {"phases": {"teacher_forward": s, ...}}
  quit
"""
import argparse
import json
import math
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BANDS = 4
HAAR = torch.tensor([[0.5, 0.5, 0.5, 0.5],     # LL  (rows: bands, columns: taps 2*row + column of each 2x2 block)
                     [0.5, 0.5, -0.5, -0.5],   # LH
                     [0.5, -0.5, 0.5, -0.5],   # HL
                     [0.5, -0.5, -0.5, 0.5]])  # HH


def zero_module(module):
    for p in module.parameters():
        p.detach().zero_()
    return module


def timestep_embedding(t, dim, max_period=10000):
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(0, half, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class ResBlock(nn.Module):
    def __init__(self, channels, emb_channels, out_channels, groups):
        super().__init__()
        self.in_layers = nn.Sequential(nn.GroupNorm(groups, channels), nn.SiLU(), nn.Conv2d(channels, out_channels, 3, padding=1))
        self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(emb_channels, out_channels))
        self.out_layers = nn.Sequential(nn.GroupNorm(groups, out_channels), nn.SiLU(), nn.Dropout(0.0),
                                        zero_module(nn.Conv2d(out_channels, out_channels, 3, padding=1)))
        self.skip_connection = nn.Identity() if out_channels == channels else nn.Conv2d(channels, out_channels, 1)

    def forward(self, x, emb):
        h = self.in_layers(x)
        h = self.out_layers(h + self.emb_layers(emb)[..., None, None])
        return self.skip_connection(x) + h


class AttentionBlock(nn.Module):
    def __init__(self, channels, heads, groups):
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(groups, channels)
        self.qkv = nn.Conv1d(channels, channels * 3, 1)
        self.proj_out = zero_module(nn.Conv1d(channels, channels, 1))

    def forward(self, x):
        b, c = x.shape[:2]
        flat = x.reshape(b, c, -1)
        qkv = self.qkv(self.norm(flat))
        # QKVAttentionLegacy: heads split before q, k, v.
        width, length = qkv.shape[1], qkv.shape[2]
        ch = width // (3 * self.heads)
        q, k, v = qkv.reshape(b * self.heads, ch * 3, length).split(ch, dim=1)
        scale = 1 / math.sqrt(math.sqrt(ch))
        weight = torch.einsum("bct,bcs->bts", q * scale, k * scale)
        weight = torch.softmax(weight.float(), dim=-1).type(weight.dtype)
        attended = torch.einsum("bts,bcs->bct", weight, v).reshape(b, -1, length)
        return (flat + self.proj_out(attended)).reshape(x.shape)


class Downsample(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.op = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x):
        return self.op(x)


class Upsample(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class WaveletGate(nn.Module):
    """g = sigmoid(FFN(AvgPool(X))), FFN = Linear(C, C/4) -> SiLU -> Linear(C/4, 4C); (B, C, 4) gates, LL biased open."""

    def __init__(self, channels):
        super().__init__()
        self.channels = channels
        self.reduce = nn.Linear(channels, channels // 4)
        self.expand = nn.Linear(channels // 4, BANDS * channels)
        with torch.no_grad():
            self.expand.bias.fill_(-2.0)
            self.expand.bias[:channels].fill_(2.0)
        self.mean_gate_per_band = None

    def forward(self, x):
        gates = torch.sigmoid(self.expand(F.silu(self.reduce(x.mean((2, 3))))))
        per_band = gates.view(x.shape[0], BANDS, self.channels)
        with torch.no_grad():  # kept observable, as WaveletGate.Remember does
            self.mean_gate_per_band = per_band.mean((0, 2)).float()
        return per_band.transpose(1, 2)


class WaveletGated(nn.Module):
    """A wavelet-gated resampler: its gate's (B, C, 4 bands) gates as per-sample 2x2 kernels sum_b g_b K_b, (B, C, 4 taps)."""

    def __init__(self, channels):
        super().__init__()
        self.gate = WaveletGate(channels)

    def kernels(self, x):
        return self.gate(x).matmul(HAAR.to(x.dtype))


class WaveletGatedDownsample(WaveletGated):
    """WG-Down: sum_b g_b * DWT_b(X) as one depthwise stride-2 conv with a per-sample 2x2 kernel."""

    def forward(self, x):
        b, c, h, w = x.shape
        folded = F.conv2d(x.reshape(1, b * c, h, w), self.kernels(x).reshape(b * c, 1, 2, 2), None, 2, 0, 1, b * c)
        return folded.view(b, c, h // 2, w // 2)


class WaveletGatedUpsample(WaveletGated):
    """WG-Up: IDWT(g_LL X, g_LH X, g_HL X, g_HH X) as a batched 4x1 . 1xhw product and a pixel shuffle."""

    def forward(self, x):
        b, c, h, w = x.shape
        taps = self.kernels(x).unsqueeze(3).matmul(x.reshape(b, c, 1, h * w))
        return F.pixel_shuffle(taps.reshape(b, c * 4, h, w), 2)


class TimestepEmbedSequential(nn.Sequential):
    def forward(self, x, emb):
        for layer in self:
            x = layer(x, emb) if isinstance(layer, ResBlock) else layer(x)
        return x


class UNetModel(nn.Module):
    def __init__(self, model_channels, channel_mult, num_res_blocks, attention_ds, num_head_channels, groups,
                 wavelet_gating, in_channels=3, out_channels=3):
        super().__init__()
        self.model_channels = model_channels
        emb = model_channels * 4
        self.time_embed = nn.Sequential(nn.Linear(model_channels, emb), nn.SiLU(), nn.Linear(emb, emb))

        def res(cin, cout):
            return ResBlock(cin, emb, cout, groups)

        def attention(ch):
            return AttentionBlock(ch, ch // num_head_channels, groups)

        self.factors, self.channels = {}, {}  # decoder block name -> downsampling factor and channels of its output
        self.input_blocks = nn.ModuleList([TimestepEmbedSequential(nn.Conv2d(in_channels, model_channels, 3, padding=1))])
        skips, ch, ds = [model_channels], model_channels, 1
        for level, mult in enumerate(channel_mult):
            for _ in range(num_res_blocks):
                layers = [res(ch, mult * model_channels)]
                ch = mult * model_channels
                if ds in attention_ds:
                    layers.append(attention(ch))
                self.input_blocks.append(TimestepEmbedSequential(*layers))
                skips.append(ch)
            if level != len(channel_mult) - 1:
                ds *= 2
                self.input_blocks.append(TimestepEmbedSequential(WaveletGatedDownsample(ch) if wavelet_gating else Downsample(ch)))
                skips.append(ch)
        self.middle_block = TimestepEmbedSequential(res(ch, ch), attention(ch), res(ch, ch))
        self.output_blocks = nn.ModuleList()
        for level, mult in list(enumerate(channel_mult))[::-1]:
            for block in range(num_res_blocks + 1):
                layers = [res(ch + skips.pop(), mult * model_channels)]
                ch = mult * model_channels
                if ds in attention_ds:
                    layers.append(attention(ch))
                if level and block == num_res_blocks:
                    layers.append(WaveletGatedUpsample(ch) if wavelet_gating else Upsample(ch))
                    ds //= 2
                name = f"output_blocks.{len(self.output_blocks)}"
                self.output_blocks.append(TimestepEmbedSequential(*layers))
                self.factors[name], self.channels[name] = ds, ch
        self.out = nn.Sequential(nn.GroupNorm(groups, ch), nn.SiLU(), zero_module(nn.Conv2d(model_channels, out_channels, 3, padding=1)))
        # Default distillation taps: the last decoder block whose output is at each resolution.
        last = {}
        for name, factor in self.factors.items():
            last[factor] = name
        self.default_taps = list(last.values())

    def forward(self, x, t, taps=()):
        emb = self.time_embed(timestep_embedding(t, self.model_channels).to(x.dtype))
        skips, h, features = [], x, {}
        for block in self.input_blocks:
            h = block(h, emb)
            skips.append(h)
        h = self.middle_block(h, emb)
        for i, block in enumerate(self.output_blocks):
            h = block(torch.cat([h, skips.pop()], dim=1), emb)
            if f"output_blocks.{i}" in taps:
                features[f"output_blocks.{i}"] = h
        return self.out(h), features


def tiny_ldm():
    return UNetModel(32, (1, 2, 2), 2, (4,), 16, 8, wavelet_gating=False)


def tiny_sd():
    return UNetModel(16, (1, 2, 2), 2, (4,), 16, 8, wavelet_gating=True)


class FeatureAligners(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.aligners = nn.ModuleDict({tap.replace(".", "_"): nn.Conv2d(s, t, 1) for tap, (s, t) in channels.items()})

    def forward(self, tap, feature):
        return self.aligners[tap.replace(".", "_")](feature)


def ldm_linear_schedule(steps=1000, start=0.0015, end=0.0195):
    betas = torch.linspace(math.sqrt(start), math.sqrt(end), steps, dtype=torch.float64) ** 2
    alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
    return alphas_cumprod.sqrt(), (1.0 - alphas_cumprod).sqrt()


def frequency_weight(x0, height, width, alpha=1.0, epsilon=1e-2):
    """w = normalise((|FFT2(resize(x0))| + eps)^-alpha), channel mean, mean 1 per sample (FrequencyWeight.cs)."""
    with torch.no_grad():
        x = x0.float()
        if x.shape[2:] == (height, width):
            resized = x
        elif x.shape[2] >= height and x.shape[3] >= width:
            resized = F.adaptive_avg_pool2d(x, (height, width))
        else:
            resized = F.interpolate(x, (height, width), mode="bilinear", align_corners=False)
        weight = (torch.fft.fft2(resized, norm="ortho").abs() + epsilon).pow(-alpha).mean(1, keepdim=True)
        return weight / weight.mean((1, 2, 3), keepdim=True)


class Distillation:
    """DistillationObjective + SpectralDistillationLoss with the default weights."""

    def __init__(self, teacher, student, lambda_spatial=0.1, lambda_freq=0.1):
        self.teacher, self.student = teacher, student
        teacher_by_factor = {teacher.factors[tap]: tap for tap in teacher.default_taps}
        self.taps = [(tap, teacher_by_factor[student.factors[tap]]) for tap in student.default_taps]
        self.aligners = FeatureAligners({s: (student.channels[s], teacher.channels[t]) for s, t in self.taps})
        self.lambda_spatial, self.lambda_freq = lambda_spatial, lambda_freq
        self.sqrt_ac, self.sqrt_1mac = ldm_linear_schedule()
        teacher.eval()
        for p in teacher.parameters():
            p.requires_grad_(False)

    def loss(self, x0, t, noise):
        shape = (t.shape[0], 1, 1, 1)
        xt = self.sqrt_ac[t].to(x0.dtype).reshape(shape) * x0 + self.sqrt_1mac[t].to(x0.dtype).reshape(shape) * noise
        with torch.no_grad():
            teacher_out, teacher_features = self.teacher(xt, t, [t_ for _, t_ in self.taps])
        student_out, student_features = self.student(xt, t, [s for s, _ in self.taps])
        pairs = [(teacher_out, student_out)] + [(teacher_features[tt], self.aligners(s, student_features[s])) for s, tt in self.taps]
        ddpm = F.mse_loss(student_out, noise)
        spatial = sum(F.mse_loss(s, te.detach()) for te, s in pairs)
        frequency = 0
        for te, s in pairs:
            w = frequency_weight(x0, te.shape[2], te.shape[3])
            difference = torch.fft.fft2(te.detach().float(), norm="ortho") - torch.fft.fft2(s.float(), norm="ortho")
            frequency = frequency + (w * (difference.real.square() + difference.imag.square())).mean()
        total = ddpm + self.lambda_spatial * spatial + self.lambda_freq * frequency
        return {"loss": total, "loss_ddpm": ddpm, "loss_spatial": spatial, "loss_freq": frequency}


def step_seed(seed, step):
    """DiffusionTrainer.StepSeed (SplitMix64 of seed and step)."""
    mask = (1 << 64) - 1
    z = (seed * 0x9E3779B97F4A7C15 + step + 0x632BE59BD9B4E019) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return (z ^ (z >> 31)) & 0x7FFFFFFFFFFFFFFF


class Trainer:
    """DiffusionTrainer.TrainStep: seeded draws, the loss, AdamW (wd 0), clip at 1.0, LitEma over the student."""

    def __init__(self, distillation, steps, lr=2e-4, seed=0, ema_decay=0.9999):
        self.distillation, self.total_steps, self.base_lr, self.seed, self.ema_decay = distillation, steps, lr, seed, ema_decay
        self.parameters = [p for p in distillation.student.parameters() if p.requires_grad] + list(distillation.aligners.parameters())
        self.optimizer = torch.optim.AdamW(self.parameters, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
        self.ema = [(p, p.detach().clone()) for p in distillation.student.parameters() if p.requires_grad]
        self.step = 0

    def train_step(self, x0, clock=None):
        lap = clock or (lambda name: None)
        lr = self.base_lr * (1.0 - min(max(self.step / max(1, self.total_steps - 1), 0.0), 1.0))
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        generator = torch.Generator().manual_seed(step_seed(self.seed, self.step))
        t = torch.randint(0, 1000, (x0.shape[0],), generator=generator)
        noise = torch.randn(x0.shape, generator=generator)
        torch.rand((x0.shape[0],), generator=generator)  # label dropout draw (unused without classes)
        lap("draw")
        losses = self.distillation.loss(x0, t, noise)
        for name, value in losses.items():
            if not math.isfinite(value.item()):
                raise RuntimeError(f"{name} is not finite at step {self.step}")
        lap("forward_and_loss")
        self.optimizer.zero_grad(set_to_none=False)
        losses["loss"].backward()
        lap("backward")
        torch.nn.utils.clip_grad_norm_(self.parameters, 1.0)
        self.optimizer.step()
        decay = min(self.ema_decay, (1.0 + self.step + 1) / (10.0 + self.step + 1))
        with torch.no_grad():
            for parameter, shadow in self.ema:
                shadow.sub_((1.0 - decay) * (shadow - parameter))
        self.step += 1
        lap("optimizer_and_ema")


def read_safetensors(path):
    dtypes = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "I32": torch.int32}
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        raw = bytearray(data[8 + length + start:8 + length + end])
        tensors[name] = torch.frombuffer(raw, dtype=dtypes[entry["dtype"]]).reshape(entry["shape"]).clone()
    return tensors


def with_prefix(tensors, prefix):
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


def count(module):
    return sum(p.numel() for p in module.parameters())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--interop-threads", type=int, default=0, help="0 keeps PyTorch's default")
    parser.add_argument("--total-steps", type=int, default=1000, help="learning-rate schedule length")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--weights", help="safetensors with teacher.*, student.*, aligners.* and the check input x0, t, noise")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.interop_threads:
        torch.set_num_interop_threads(args.interop_threads)
    torch.manual_seed(args.seed)

    teacher, student = tiny_ldm(), tiny_sd()
    distillation = Distillation(teacher, student)
    ready = {"torch": torch.__version__, "threads": torch.get_num_threads(), "batch": args.batch,
             "params": {"teacher": count(teacher), "student": count(student), "aligners": count(distillation.aligners)},
             "taps": [list(pair) for pair in distillation.taps]}
    x0 = torch.rand(args.batch, 3, args.image_size, args.image_size) * 2 - 1
    if args.weights:
        saved = read_safetensors(args.weights)
        teacher.load_state_dict(with_prefix(saved, "teacher."), strict=True)
        student.load_state_dict(with_prefix(saved, "student."), strict=True)
        distillation.aligners.load_state_dict(with_prefix(saved, "aligners."), strict=True)
        x0 = saved["x0"]
        with torch.no_grad():
            losses = distillation.loss(saved["x0"], saved["t"], saved["noise"])
        ready["loss"] = {name: value.item() for name, value in losses.items()}
    trainer = Trainer(distillation, args.total_steps, seed=args.seed)
    student.train()
    print(json.dumps(ready), flush=True)

    for line in sys.stdin:
        command = line.split()
        if not command or command[0] == "quit":
            break
        steps = int(command[1])
        if command[0] == "steps":
            seconds = []
            for _ in range(steps):
                start = time.perf_counter()
                trainer.train_step(x0)
                seconds.append(time.perf_counter() - start)
            print(json.dumps({"steps": steps, "seconds": seconds}), flush=True)
        elif command[0] == "phases":
            totals = {}
            for _ in range(steps):
                mark = [time.perf_counter()]

                def lap(name):
                    now = time.perf_counter()
                    totals[name] = totals.get(name, 0.0) + now - mark[0]
                    mark[0] = now
                trainer.train_step(x0, lap)
            print(json.dumps({"steps": steps, "phases": {k: v / steps for k, v in totals.items()}}), flush=True)
        else:
            print(json.dumps({"error": f"unknown command {command[0]}"}), flush=True)


if __name__ == "__main__":
    main()
