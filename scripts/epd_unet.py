# SPDX-License-Identifier: MIT
"""A diffusers-compatible UNet2DModel written in plain torch (build-time tool).

The module tree and parameter names follow diffusers' UNet2DModel exactly, so a
state dict saved from here loads into diffusers with strict key matching and a
checkpoint from diffusers loads here.  Only what pixel-space checkpoints use is
supported: DownBlock2D, AttnDownBlock2D, UpBlock2D, AttnUpBlock2D,
UNetMidBlock2D, positional time embedding, silu.  Used by scripts/train-unet
(the shipped Fashion-MNIST model) and the test-fixture generator; never needed
to run the app.
"""

import json
import math
import struct

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

DEFAULT_CONFIG = {
    "_class_name": "UNet2DModel",
    "sample_size": None,
    "in_channels": 3,
    "out_channels": 3,
    "center_input_sample": False,
    "time_embedding_type": "positional",
    "time_embedding_dim": None,
    "freq_shift": 0,
    "flip_sin_to_cos": True,
    "down_block_types": ["DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"],
    "mid_block_type": "UNetMidBlock2D",
    "up_block_types": ["AttnUpBlock2D", "AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D"],
    "block_out_channels": [224, 448, 672, 896],
    "layers_per_block": 2,
    "mid_block_scale_factor": 1,
    "downsample_padding": 1,
    "downsample_type": "conv",
    "upsample_type": "conv",
    "dropout": 0.0,
    "act_fn": "silu",
    "attention_head_dim": 8,
    "norm_num_groups": 32,
    "attn_norm_num_groups": None,
    "norm_eps": 1e-5,
    "resnet_time_scale_shift": "default",
    "add_attention": True,
    "class_embed_type": None,
    "num_class_embeds": None,
    "num_train_timesteps": None,
}


def timestep_embedding(t, dim, flip_sin_to_cos, shift, max_period=10000):
    half = dim // 2
    exponent = -math.log(max_period) * torch.arange(half, dtype=torch.float32) / (half - shift)
    emb = t[:, None].float() * torch.exp(exponent)[None, :]
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)
    if flip_sin_to_cos:
        emb = torch.cat([emb[:, half:], emb[:, :half]], dim=-1)
    if dim % 2 == 1:
        emb = F.pad(emb, (0, 1, 0, 0))
    return emb


class TimestepEmbedding(nn.Module):
    def __init__(self, cin, dim):
        super().__init__()
        self.linear_1 = nn.Linear(cin, dim)
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, x):
        return self.linear_2(F.silu(self.linear_1(x)))


class ResnetBlock2D(nn.Module):
    def __init__(self, cin, cout, temb, groups, eps, shift_mode, out_scale=1.0):
        super().__init__()
        self.shift_mode = shift_mode
        self.out_scale = out_scale
        self.norm1 = nn.GroupNorm(groups, cin, eps=eps)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, 2 * cout if shift_mode == "scale_shift" else cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=eps)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x)))
        t = self.time_emb_proj(F.silu(emb))[:, :, None, None]
        if self.shift_mode == "scale_shift":
            scale, shift = torch.chunk(t, 2, dim=1)
            h = self.norm2(h) * (1 + scale) + shift
        else:
            h = self.norm2(h + t)
        h = self.conv2(F.silu(h))
        if self.conv_shortcut is not None:
            x = self.conv_shortcut(x)
        return (x + h) / self.out_scale


class Attention(nn.Module):
    def __init__(self, channels, head_dim, groups, eps, out_scale=1.0):
        super().__init__()
        self.heads = channels // head_dim
        self.head_dim = head_dim
        self.out_scale = out_scale
        self.group_norm = nn.GroupNorm(groups, channels, eps=eps) if groups else None
        inner = self.heads * head_dim
        self.to_q = nn.Linear(channels, inner)
        self.to_k = nn.Linear(channels, inner)
        self.to_v = nn.Linear(channels, inner)
        self.to_out = nn.ModuleList([nn.Linear(inner, channels), nn.Dropout(0.0)])

    def forward(self, x):
        b, c, hgt, wid = x.shape
        h = x.view(b, c, hgt * wid)
        if self.group_norm is not None:
            h = self.group_norm(h)
        h = h.transpose(1, 2)

        def split(t):
            return t.view(b, -1, self.heads, self.head_dim).transpose(1, 2)

        q, k, v = split(self.to_q(h)), split(self.to_k(h)), split(self.to_v(h))
        w = torch.softmax((q @ k.transpose(-1, -2)) / math.sqrt(self.head_dim), dim=-1)
        o = (w @ v).transpose(1, 2).reshape(b, -1, self.heads * self.head_dim)
        o = self.to_out[0](o).transpose(1, 2).reshape(b, c, hgt, wid)
        return (o + x) / self.out_scale


class Downsample2D(nn.Module):
    def __init__(self, channels, padding):
        super().__init__()
        self.padding = padding
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=padding)

    def forward(self, x):
        if self.padding == 0:
            x = F.pad(x, (0, 1, 0, 1))  # diffusers' asymmetric pad
        return self.conv(x)


class Upsample2D(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class DownBlock(nn.Module):
    def __init__(self, attn, cin, cout, temb, n, groups, eps, shift, head_dim, downsample, pad):
        super().__init__()
        self.resnets = nn.ModuleList(
            [ResnetBlock2D(cin if i == 0 else cout, cout, temb, groups, eps, shift) for i in range(n)])
        if attn:
            self.attentions = nn.ModuleList([Attention(cout, head_dim, groups, eps) for _ in range(n)])
        self.downsamplers = nn.ModuleList([Downsample2D(cout, pad)]) if downsample else None

    def forward(self, x, emb):
        outs = []
        attns = getattr(self, "attentions", None)
        for i, res in enumerate(self.resnets):
            x = res(x, emb)
            if attns is not None:
                x = attns[i](x)
            outs.append(x)
        if self.downsamplers is not None:
            x = self.downsamplers[0](x)
            outs.append(x)
        return x, outs


class UpBlock(nn.Module):
    def __init__(self, attn, cin, prev, cout, temb, n, groups, eps, shift, head_dim, upsample):
        super().__init__()
        res = []
        for i in range(n):
            skip = cin if i == n - 1 else cout
            rin = prev if i == 0 else cout
            res.append(ResnetBlock2D(rin + skip, cout, temb, groups, eps, shift))
        self.resnets = nn.ModuleList(res)
        if attn:
            self.attentions = nn.ModuleList([Attention(cout, head_dim, groups, eps) for _ in range(n)])
        self.upsamplers = nn.ModuleList([Upsample2D(cout)]) if upsample else None

    def forward(self, x, skips, emb):
        attns = getattr(self, "attentions", None)
        for i, res in enumerate(self.resnets):
            x = res(torch.cat([x, skips.pop()], dim=1), emb)
            if attns is not None:
                x = attns[i](x)
        if self.upsamplers is not None:
            x = self.upsamplers[0](x)
        return x


class MidBlock(nn.Module):
    def __init__(self, ch, temb, groups, attn_groups, eps, shift, head_dim, add_attention, scale):
        super().__init__()
        self.add_attention = add_attention
        self.resnets = nn.ModuleList([ResnetBlock2D(ch, ch, temb, groups, eps, shift, scale) for _ in range(2)])
        if add_attention:
            self.attentions = nn.ModuleList([Attention(ch, head_dim, attn_groups, eps, scale)])

    def forward(self, x, emb):
        x = self.resnets[0](x, emb)
        if self.add_attention:
            x = self.attentions[0](x)
        return self.resnets[1](x, emb)


SUPPORTED_DOWN = ("DownBlock2D", "AttnDownBlock2D")
SUPPORTED_UP = ("UpBlock2D", "AttnUpBlock2D")


class UNet2DModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        cfg = dict(DEFAULT_CONFIG)
        cfg.update(config)
        self.config = cfg
        ch = list(cfg["block_out_channels"])
        groups, eps = cfg["norm_num_groups"], cfg["norm_eps"]
        shift = cfg["resnet_time_scale_shift"]
        n = cfg["layers_per_block"]
        temb = cfg["time_embedding_dim"] or ch[0] * 4
        assert cfg["time_embedding_type"] == "positional" and cfg["act_fn"] == "silu"
        assert cfg["class_embed_type"] is None and cfg["num_class_embeds"] is None

        def head_dim(c):
            return cfg["attention_head_dim"] if cfg["attention_head_dim"] is not None else c

        self.conv_in = nn.Conv2d(cfg["in_channels"], ch[0], 3, padding=1)
        self.time_embedding = TimestepEmbedding(ch[0], temb)
        self.down_blocks = nn.ModuleList()
        cout = ch[0]
        for i, kind in enumerate(cfg["down_block_types"]):
            assert kind in SUPPORTED_DOWN, kind
            cin, cout = cout, ch[i]
            self.down_blocks.append(DownBlock(kind == "AttnDownBlock2D", cin, cout, temb, n, groups, eps, shift,
                                              head_dim(cout), i < len(ch) - 1, cfg["downsample_padding"]))
        attn_groups = cfg["attn_norm_num_groups"]
        if attn_groups is None:
            attn_groups = groups if shift == "default" else None
        self.mid_block = MidBlock(ch[-1], temb, groups, attn_groups, eps, shift, head_dim(ch[-1]),
                                  cfg["add_attention"], cfg["mid_block_scale_factor"])
        rch = ch[::-1]
        self.up_blocks = nn.ModuleList()
        cout = rch[0]
        for i, kind in enumerate(cfg["up_block_types"]):
            assert kind in SUPPORTED_UP, kind
            prev, cout = cout, rch[i]
            cin = rch[min(i + 1, len(ch) - 1)]
            self.up_blocks.append(UpBlock(kind == "AttnUpBlock2D", cin, prev, cout, temb, n + 1, groups, eps,
                                          shift, head_dim(cout), i < len(ch) - 1))
        self.conv_norm_out = nn.GroupNorm(groups, ch[0], eps=eps)
        self.conv_out = nn.Conv2d(ch[0], cfg["out_channels"], 3, padding=1)

    def forward(self, x, t):
        cfg = self.config
        if cfg["center_input_sample"]:
            x = 2 * x - 1.0
        t = t.reshape(-1) * torch.ones(x.shape[0], dtype=torch.float32)
        emb = self.time_embedding(timestep_embedding(t, cfg["block_out_channels"][0],
                                                     cfg["flip_sin_to_cos"], cfg["freq_shift"]))
        x = self.conv_in(x)
        skips = [x]
        for block in self.down_blocks:
            x, outs = block(x, emb)
            skips += outs
        x = self.mid_block(x, emb)
        for block in self.up_blocks:
            x = block(x, skips, emb)
        return self.conv_out(F.silu(self.conv_norm_out(x)))


# --- the scheduler and the sigma wrapper (k-diffusion's discrete eps wrapper) ---

def alphas_cumprod(sched):
    n = sched.get("num_train_timesteps", 1000)
    b0, b1 = sched.get("beta_start", 0.0001), sched.get("beta_end", 0.02)
    kind = sched.get("beta_schedule", "linear")
    if kind == "linear":
        betas = np.linspace(b0, b1, n, dtype=np.float64)
    elif kind == "scaled_linear":
        betas = np.linspace(b0 ** 0.5, b1 ** 0.5, n, dtype=np.float64) ** 2
    elif kind == "squaredcos_cap_v2":
        f = lambda t: math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
        betas = np.array([min(1 - f((i + 1) / n) / f(i / n), 0.999) for i in range(n)])
    else:
        raise ValueError(kind)
    return np.cumprod(1.0 - betas)


def sigmas_of(sched):
    a = alphas_cumprod(sched)
    return np.sqrt((1 - a) / a)


def sigma_to_t(sigma, sigmas):
    """Fractional timestep by linear interpolation in log sigma."""
    ls = np.log(sigmas)
    s = np.clip(np.log(sigma), ls[0], ls[-1])
    hi = np.clip(np.searchsorted(ls, s), 1, len(ls) - 1)
    lo = hi - 1
    w = (s - ls[lo]) / (ls[hi] - ls[lo])
    return lo + w


def denoise(model, sched, x, sigma):
    """D(x, sigma) in float64 arithmetic around a float32 network."""
    sigmas = sigmas_of(sched)
    sigma = np.asarray(sigma, dtype=np.float64)
    t = sigma_to_t(sigma, sigmas)
    c_in = 1.0 / np.sqrt(sigma ** 2 + 1.0)
    xin = torch.from_numpy((x * c_in[:, None, None, None]).astype(np.float32))
    with torch.no_grad():
        out = model(xin, torch.from_numpy(t.astype(np.float32))).double().numpy()
    kind = sched.get("prediction_type", "epsilon")
    s = sigma[:, None, None, None]
    if kind == "epsilon":
        return x - s * out
    if kind == "v_prediction":
        return x / (1 + s ** 2) - s / np.sqrt(1 + s ** 2) * out
    if kind == "sample":
        return out
    raise ValueError(kind)


# --- safetensors, written by hand (the format is a length, a JSON header, raw data) ---

_DT = {"F32": (np.float32, 4), "F16": (np.float16, 2)}


def save_safetensors(path, tensors, dtype="F32", metadata=None):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        arr = tensors[name].detach().float().contiguous()
        if dtype == "BF16":
            bits = arr.numpy().view(np.uint32)
            # round to nearest even, as torch does
            bits = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
            raw = bits.tobytes()
        else:
            raw = arr.numpy().astype(_DT[dtype][0]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = data[a:b]
        if info["dtype"] == "BF16":
            arr = (np.frombuffer(raw, np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            arr = np.frombuffer(raw, _DT[info["dtype"]][0]).astype(np.float32)
        out[name] = torch.from_numpy(arr.reshape(info["shape"]).copy())
    return out


def legacy_names(state):
    """Rename attention weights to diffusers' legacy names (query/key/value/proj_attn)."""
    rename = {"to_q": "query", "to_k": "key", "to_v": "value", "to_out.0": "proj_attn"}
    out = {}
    for k, v in state.items():
        for new, old in rename.items():
            if f".attentions." in k and f".{new}." in k:
                k = k.replace(f".{new}.", f".{old}.")
        out[k] = v
    return out
