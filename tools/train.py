#!/usr/bin/python3
"""Train GuidingPainter on the CPU (EmojiOne and OpenMoji), and evaluate it in PyTorch.

Data: tools/build_dataset.py DATA (EmojiOne: train/color at 256; val128 for evaluation),
whose samples get a fresh synthetic sketch style (colour-step threshold, line width 1-3 px
at 256, line grey) from tools/make_sketch.py's line maps; and --pairs DIR
(tools/build_openmoji.py: the artist's line layer as the sketch, rendered at 256 and 128),
a --pairs-frac share of each batch. A sample is the whole picture at --size (EmojiOne's
256 render area-reduced, the pair's 128 render) or, with probability --crop-frac, a
--size crop of the 256 render, so the model sees both scales the app works at; every
sample may be flipped horizontally.

Recipe (shared/docs/MODEL.md): segmentation U-Net -> straight-through Gumbel-softmax
regions S (temperature decayed --tau-start -> --tau-end), one Nh per image from the
bounded geometric law (p = --p, Nc = 30), hints from the mean colour of regions 0..Nh-1,
colorizer on [X, C, M, S]; losses L1 x 30, "total variance" MSE x 5, 8-neighbour L1
smoothness of logits x 1, optional LSGAN PatchGAN x 0.2 (--gan-weight, default 0: off).
Deviations from the published recipe are flags; runs/EXPERIMENTS.md and
tools/TRAINING.md say which ones the shipped model uses and why.

Usage:
  nice -n 19 /usr/bin/python3 tools/train.py --name NAME [--steps N] [options]
  ... --name NAME --resume             continue runs/NAME/ckpt.pt with its saved options
  /usr/bin/python3 tools/train.py --eval-only runs/NAME/final.ckpt   PSNR table on val128

Outputs in runs/NAME/: log.txt (progress), ckpt.pt (resume state, saved atomically every
--ckpt-minutes), final.ckpt (Lightning layout: {"state_dict": {"generator.segmentator.*",
"generator.colorizer.*"[, "discriminator.*"]}, "hyper_parameters": {...}} for
tools/convert_checkpoint.py), eval.json; a summary row is appended to runs/EXPERIMENTS.md.
"""
import argparse
import json
import math
import os
import shlex
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

TOOLS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, TOOLS)
import make_sketch  # noqa: E402
import reference as ref  # noqa: E402

NC = ref.NUM_REGIONS
EVAL_KS = (0, 1, 2, 3, 5, 10, 20, 30)
ROOT = os.path.dirname(TOOLS)


# ============================================================================ data

def _png_names(d):
    return sorted(n for n in os.listdir(d) if n.endswith(".png") and not n.endswith(".tmp.png"))


class TrainSet:
    """EmojiOne training images held in memory as the inputs of the sketch style generator:
    edge strength (uint8) and thin dark strokes (bool) at 256, colour at 256."""

    def __init__(self, data_dir, log):
        cdir = os.path.join(data_dir, "train", "color")
        self.names = _png_names(cdir)
        cache = os.path.join(data_dir, "cache_train_256.pt")
        if os.path.exists(cache):
            blob = torch.load(cache)
            if blob["names"] == self.names:
                self.strength, self.thin, self.color = blob["strength"], blob["thin"], blob["color"]
                log(f"EmojiOne train set: {len(self.names)} images from {cache}")
                return
        t0 = time.time()
        st, th, co = [], [], []
        for n in self.names:
            rgb = make_sketch.load_rgb(os.path.join(cdir, n))
            if rgb.shape[:2] != (256, 256):
                raise ValueError(f"{os.path.join(cdir, n)}: {rgb.shape[1]} x {rgb.shape[0]}, expected 256 x 256")
            st.append(make_sketch.edge_strength(rgb))
            th.append(make_sketch.thin_dark(rgb))
            co.append(rgb.transpose(2, 0, 1))
        self.strength = torch.from_numpy(np.stack(st))
        self.thin = torch.from_numpy(np.stack(th))
        self.color = torch.from_numpy(np.stack(co))
        torch.save({"names": self.names, "strength": self.strength, "thin": self.thin,
                    "color": self.color}, cache + ".tmp")
        os.replace(cache + ".tmp", cache)
        log(f"EmojiOne train set: {len(self.names)} images prepared in {time.time() - t0:.0f} s, cached in {cache}")

    def __len__(self):
        return len(self.names)

    def batch(self, idx, rng, size, style=True, crops=None):
        """X [N,1,size,size] in [-1,1] (sketch), Y [N,3,size,size] in [-1,1]. crops[i] is
        None (the whole 256 image area-reduced to size) or (top, left) of a size x size
        window of the 256 image (the line widths and details of the 256 scale)."""
        idx = torch.as_tensor(idx)
        n = len(idx)
        strength = self.strength[idx].float()
        thin = self.thin[idx]
        if style:
            thr = torch.from_numpy(rng.integers(10, 33, n)).float()
            width = rng.choice([1, 2, 3], size=n, p=[0.45, 0.4, 0.15])
            dark = np.where(rng.random(n) < 0.5, rng.uniform(0.55, 1.0, n), 1.0)
        else:
            thr = torch.full((n,), float(make_sketch.DEFAULT_THRESHOLD))
            width, dark = np.ones(n, int), np.ones(n)
        line = ((strength > thr.view(-1, 1, 1)) | thin).float().unsqueeze(1)
        out = torch.empty_like(line)
        for i in range(n):  # dilation as make_sketch._max_filter: lo = (k-1)//2 before
            k = int(width[i])
            if k == 1:
                out[i] = line[i]
            else:
                lo = (k - 1) // 2
                out[i] = F.max_pool2d(F.pad(line[i:i + 1], [lo, k - 1 - lo, lo, k - 1 - lo]), k, 1)[0]
        grey = 1.0 - out * torch.from_numpy(dark).float().view(-1, 1, 1, 1)
        # the 256 sketch is stored as uint8 in the val files; quantize the same way
        grey = torch.round(grey * 255.0) / 255.0
        color = self.color[idx].float() / 255.0
        xs, ys = [], []
        for i in range(n):
            g, c = grey[i:i + 1], color[i:i + 1]
            if crops is not None and crops[i] is not None:
                t, l = crops[i]
                g, c = g[..., t:t + size, l:l + size], c[..., t:t + size, l:l + size]
            elif g.shape[-1] != size:
                factor = g.shape[-1] // size
                g = torch.floor(F.avg_pool2d(g, factor) * 255.0 + 0.5) / 255.0
                c = torch.floor(F.avg_pool2d(c * 255.0, factor) + 0.5) / 255.0
            xs.append(g)
            ys.append(c)
        x = 2.0 * torch.cat(xs) - 1.0
        y = 2.0 * torch.cat(ys) - 1.0
        if style:
            x, y = random_flip(x, y, rng)
        return x.contiguous(), y.contiguous()


def random_flip(x, y, rng):
    flip = torch.from_numpy(rng.random(x.shape[0]) < 0.5).view(-1, 1, 1, 1)
    return torch.where(flip, x.flip(-1), x), torch.where(flip, y.flip(-1), y)


class PairSet:
    """Real sketch / colour pairs (tools/build_openmoji.py's layout): the artist's line
    layer as the sketch, rendered at 256 (train/) and at 128 (train128/), held as uint8."""

    def __init__(self, data_dir, log):
        self.dir = data_dir
        self.names = _png_names(os.path.join(data_dir, "train", "color"))
        cache = os.path.join(data_dir, "cache_pairs.pt")
        if os.path.exists(cache):
            blob = torch.load(cache)
            if blob["names"] == self.names:
                self.x = blob["x"]
                self.y = blob["y"]
                log(f"pair set {data_dir}: {len(self.names)} pairs from {cache}")
                return
        t0 = time.time()
        self.x, self.y = {}, {}
        for split, side in (("train", 256), ("train128", 128)):
            xs, ys = [], []
            for n in self.names:
                xs.append(self._load(os.path.join(data_dir, split, "sketch", n), "L", side))
                ys.append(self._load(os.path.join(data_dir, split, "color", n), "RGB", side).transpose(2, 0, 1))
            self.x[side] = torch.from_numpy(np.stack(xs))
            self.y[side] = torch.from_numpy(np.stack(ys))
        torch.save({"names": self.names, "x": self.x, "y": self.y}, cache + ".tmp")
        os.replace(cache + ".tmp", cache)
        log(f"pair set {data_dir}: {len(self.names)} pairs read in {time.time() - t0:.0f} s, cached in {cache}")

    @staticmethod
    def _load(path, mode, side):
        a = np.asarray(Image.open(path).convert(mode))
        if a.shape[:2] != (side, side):
            raise ValueError(f"{path}: {a.shape[1]} x {a.shape[0]}, expected {side} x {side}")
        return a

    def __len__(self):
        return len(self.names)

    def batch(self, idx, rng, size, style=True, crops=None):
        """As TrainSet.batch: the whole picture rendered at size, or a size x size crop of
        the 256 render; style adds a flip and, for half the samples, lighter lines."""
        xs, ys = [], []
        for j, i in enumerate(idx):
            if crops is not None and crops[j] is not None:
                t, l = crops[j]
                xs.append(self.x[256][i, t:t + size, l:l + size])
                ys.append(self.y[256][i, :, t:t + size, l:l + size])
            else:
                xs.append(self.x[size][i])
                ys.append(self.y[size][i])
        x = torch.stack(xs).unsqueeze(1).float() / 255.0
        y = torch.stack(ys).float() * (2.0 / 255.0) - 1.0
        if style:
            dark = np.where(rng.random(len(idx)) < 0.5, rng.uniform(0.6, 1.0, len(idx)), 1.0)
            x = 1.0 - (1.0 - x) * torch.from_numpy(dark).float().view(-1, 1, 1, 1)
            x = torch.round(x * 255.0) / 255.0
        x = 2.0 * x - 1.0
        if style:
            x, y = random_flip(x, y, rng)
        return x.contiguous(), y.contiguous()


class Sampler:
    """Endless shuffled index stream over one data set (a new permutation per epoch)."""

    def __init__(self, n, rng):
        self.n, self.perm, self.pos = n, rng.permutation(n), 0

    def take(self, k, rng):
        out = []
        while len(out) < k:
            if self.pos == self.n:
                self.perm, self.pos = rng.permutation(self.n), 0
            out.append(int(self.perm[self.pos]))
            self.pos += 1
        return out


def draw_batch(sets, samplers, a, rng):
    """One training batch: each sample from the pair set with probability --pairs-frac
    (else from EmojiOne), and a 256-scale crop with probability --crop-frac."""
    n = a.batch
    use_pairs = rng.random(n) < (a.pairs_frac if "pairs" in sets else 0.0)
    if "emojione" not in sets:
        use_pairs[:] = True
    crop = rng.random(n) < a.crop_frac
    tops = rng.integers(0, 256 - a.size + 1, n)
    lefts = rng.integers(0, 256 - a.size + 1, n)
    xs, ys = [], []
    for key, mask in (("pairs", use_pairs), ("emojione", ~use_pairs)):
        k = int(mask.sum())
        if k == 0:
            continue
        idx = samplers[key].take(k, rng)
        crops = [(int(t), int(l)) if c else None for t, l, c in zip(tops[mask], lefts[mask], crop[mask])]
        x, y = sets[key].batch(idx, rng, a.size, style=bool(a.style), crops=crops)
        xs.append(x)
        ys.append(y)
    return torch.cat(xs), torch.cat(ys)


def load_eval_set(data_dir, split="val128"):
    """(names, X [N,1,H,W] in [-1,1], GT uint8 [N,3,H,W])."""
    sdir = os.path.join(data_dir, split, "sketch")
    cdir = os.path.join(data_dir, split, "color")
    names = _png_names(cdir)
    xs = [ref.read_image(os.path.join(sdir, n), 1) for n in names]
    gts = [np.asarray(Image.open(os.path.join(cdir, n)).convert("RGB")).transpose(2, 0, 1) for n in names]
    return names, torch.stack(xs), torch.from_numpy(np.stack(gts))


# ============================================================================ model pieces

class PatchDiscriminator(nn.Module):
    """pix2pix 70x70-style PatchGAN on [X, image] (4 channels), LSGAN targets."""

    def __init__(self, ndf=32, in_ch=4):
        super().__init__()
        layers = [nn.Conv2d(in_ch, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        ch = ndf
        for i, stride in enumerate((2, 2, 1)):
            nxt = min(ndf * 2 ** (i + 1), ndf * 8)
            layers += [nn.Conv2d(ch, nxt, 4, stride, 1), nn.BatchNorm2d(nxt), nn.LeakyReLU(0.2, True)]
            ch = nxt
        layers += [nn.Conv2d(ch, 1, 4, 1, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


def sample_nh(rng, n, p, nc=NC, uniform_frac=0.0):
    """One Nh per image: P(i) = (1-p)^i p for i < nc, P(nc) = (1-p)^nc. With
    uniform_frac > 0, that fraction of the images draws Nh uniformly from 0..nc instead
    (the geometric law gives Nh >= 20 to 7% of the samples only)."""
    nh = np.minimum(rng.geometric(p, n) - 1, nc)
    if uniform_frac > 0:
        nh = np.where(rng.random(n) < uniform_frac, rng.integers(0, nc + 1, n), nh)
    return nh


def gumbel_st(logits, tau, gen=None, noise_scale=1.0):
    """Straight-through Gumbel-softmax over channels: forward one-hot, backward soft."""
    u = torch.rand(logits.shape, generator=gen).clamp_(1e-10, 1.0 - 1e-7)
    g = -torch.log(-torch.log(u))
    soft = torch.softmax((logits + noise_scale * g) / tau, dim=1)
    hard = F.one_hot(soft.argmax(1), logits.shape[1]).permute(0, 3, 1, 2).to(soft.dtype)
    return hard - soft.detach() + soft, soft


def smoothness(t):
    """Mean L1 between 8-neighbours (each unordered pair once: right, down, two diagonals)."""
    d = [(t[..., :, 1:] - t[..., :, :-1]).abs().mean(),
         (t[..., 1:, :] - t[..., :-1, :]).abs().mean(),
         (t[..., 1:, 1:] - t[..., :-1, :-1]).abs().mean(),
         (t[..., 1:, :-1] - t[..., :-1, 1:]).abs().mean()]
    return sum(d) / 4.0


def hints_from_regions(S, y, active):
    """Region means c [N,NC,3] (over S, grads through S), hint colour C = sum_{active}
    c_i S_i, mask M = sum_{active} S_i, and the all-region image sum_i c_i S_i."""
    count = S.sum((2, 3))                                   # [N,NC]
    sums = torch.einsum("nkhw,nchw->nkc", S, y)
    c = sums / count.clamp(min=1.0).unsqueeze(-1)
    a = active.to(S.dtype)
    C = torch.einsum("nkc,nkhw->nchw", c * a.unsqueeze(-1), S)
    M = torch.einsum("nk,nkhw->nhw", a, S).unsqueeze(1)
    full = torch.einsum("nkc,nkhw->nchw", c, S)
    return c, C, M, full


def prefix_flat_loss(S, y, c, kmax):
    """Mean over K = 1..kmax of the MSE between y and the flat fill of the first K regions
    (their mean colours; white elsewhere, as eval's baseline). Region i enters every prefix
    longer than i, so the early channels are pushed to carry the most colour: the ordering
    that priority-order hints rely on, which the all-region TV term does not reward."""
    kmax = min(kmax, S.shape[1])
    parts = torch.einsum("nkc,nkhw->nkchw", c[:, :kmax], S[:, :kmax]).cumsum(1)
    covered = S[:, :kmax].cumsum(1).unsqueeze(2)
    flat = parts + (1.0 - covered)            # white is +1 in [-1, 1]
    return ((flat - y.unsqueeze(1)) ** 2).mean()


def grad_scale(t, k):
    """t in the forward pass; its gradient multiplied by k in the backward pass."""
    if k == 1.0:
        return t
    return t.detach() if k == 0.0 else t * k + t.detach() * (1.0 - k)


def colorize_batch(gp, x, S, C, M):
    inp = torch.cat([x, C, M - gp.center, S - gp.center], dim=1)
    return torch.tanh(gp.colorizer(inp))


def tau_at(a, step):
    f = min(1.0, step / max(1, a.steps))
    if a.tau_schedule == "exp":
        return a.tau_start * (a.tau_end / a.tau_start) ** f
    if a.tau_schedule == "linear":
        return a.tau_start + (a.tau_end - a.tau_start) * f
    if a.tau_schedule == "cosine":
        return a.tau_end + 0.5 * (a.tau_start - a.tau_end) * (1 + math.cos(math.pi * f))
    raise ValueError(a.tau_schedule)


def hint_grad_at(a, step):
    end = a.seg_grad_hint_end
    if end is None:
        return a.seg_grad_hint
    f = min(1.0, step / max(1.0, a.ramp_frac * a.steps))
    return a.seg_grad_hint + (end - a.seg_grad_hint) * f


def lr_at(a, step):
    if a.lr_schedule == "const":
        return a.lr
    f = min(1.0, step / max(1, a.steps))
    return a.lr * (a.lr_min_frac + (1 - a.lr_min_frac) * 0.5 * (1 + math.cos(math.pi * f)))


# ============================================================================ evaluation

def to_u8(y):
    """[-1,1] float -> uint8 as the evaluation defines it: trunc(255 * clamp((y+1)/2))."""
    return (255.0 * ((y + 1.0) / 2.0).clamp(0.0, 1.0)).to(torch.uint8)


def psnr_u8(pred, gt):
    """Per-image PSNR of uint8 [N,3,H,W] pairs; MSE 0 counts as 100 dB."""
    mse = ((pred.double() - gt.double()) ** 2).mean((1, 2, 3))
    out = 10.0 * torch.log10(255.0 ** 2 / mse.clamp(min=1e-30))
    return torch.where(mse == 0, torch.full_like(out, 100.0), out)


class MT19937_64:
    """std::mt19937_64 (the 64-bit Mersenne Twister of C++11), so that the random order
    here is the one `guidingpainter eval` draws."""
    N, M, MASK = 312, 156, (1 << 64) - 1
    LOWER = (1 << 31) - 1          # the low 31 bits of a word; the twist keeps the high 33 of the first

    def __init__(self, seed):
        self.mt = [seed & self.MASK]
        for i in range(1, self.N):
            prev = self.mt[-1]
            self.mt.append((6364136223846793005 * (prev ^ (prev >> 62)) + i) & self.MASK)
        self.i = self.N

    def __call__(self):
        if self.i >= self.N:
            mt, n, m = self.mt, self.N, self.M
            for k in range(n):
                x = (mt[k] & ~self.LOWER) | (mt[(k + 1) % n] & self.LOWER)
                mt[k] = mt[(k + m) % n] ^ (x >> 1) ^ (0xB5026F5AA96619E9 if x & 1 else 0)
            self.i = 0
        y = self.mt[self.i]
        self.i += 1
        y ^= (y >> 29) & 0x5555555555555555
        y ^= (y << 17) & 0x71D67FFFEDA60000
        y ^= (y << 37) & 0xFFF7EEE000000000
        return y ^ (y >> 43)


def random_order(n, rng):
    """The Fisher-Yates permutation of range(n) that src/cli/eval.cpp draws from rng."""
    order = list(range(n))
    for i in range(n - 1, 0, -1):
        j = rng() % (i + 1)
        order[i], order[j] = order[j], order[i]
    return order


@torch.no_grad()
def segment_labels(gp, x, chunk=32):
    """Region ids [N,H,W] of sketches x [N,1,H,W]: the segmentator's channel argmax."""
    return torch.cat([torch.stack([ref.labels_from_logits(l) for l in gp.segmentator(x[i:i + chunk])])
                      for i in range(0, x.shape[0], chunk)])


@torch.no_grad()
def evaluate(gp, x, gt, ks=EVAL_KS, seed=0, chunk=32, orders=("priority", "random"), model=True,
             min_region=ref.MIN_REGION):
    """PSNR on an eval set for K hints in priority and random order, model and flat fill.

    Regions: those the engine ranks (at least ref.min_region_pixels(min_region) pixels).
    Hints: the k chosen ranked regions get their mean ground-truth colour (GT uint8
    values mapped to [-1,1]). Random order: a permutation of each image's non-empty
    regions (nested over K), drawn as `guidingpainter eval --seed` draws it: one
    mt19937_64 seeded once, images in file-name order.
    """
    was_training = gp.training
    gp.eval()
    n = x.shape[0]
    y = gt.float() * (2.0 / 255.0) - 1.0
    labels = segment_labels(gp, x, chunk)
    S = F.one_hot(labels, NC).permute(0, 3, 1, 2).float()
    colors = torch.stack([ref.region_means(labels[i], y[i]) for i in range(n)])   # [N,NC,3]
    min_pixels = ref.min_region_pixels(min_region, x.shape[-2] * x.shape[-1])   # the engine's rule
    ranked = [ref.ranked_regions(labels[i], min_pixels=min_pixels) for i in range(n)]
    mt = MT19937_64(seed)
    perms = [r[torch.tensor(random_order(len(r), mt), dtype=torch.long)] for r in ranked]
    res = {"regions": float(np.mean([len(r) for r in ranked])), "n": n}
    for order in orders:
        lists = ranked if order == "priority" else perms
        res[order], res["flat_" + order] = {}, {}
        for k in ks:
            active = torch.zeros(n, NC)
            for i, r in enumerate(lists):
                active[i, r[:k]] = 1.0
            C = torch.einsum("nkc,nkhw->nchw", colors * active.unsqueeze(-1), S)
            M = torch.einsum("nk,nkhw->nhw", active, S).unsqueeze(1)
            if model:
                out = torch.cat([colorize_batch(gp, x[i:i + chunk], S[i:i + chunk], C[i:i + chunk], M[i:i + chunk])
                                 for i in range(0, n, chunk)])
                res[order][k] = float(psnr_u8(to_u8(out), gt).mean())
            else:
                res[order][k] = float("nan")
            flat = C * M + (1.0 - M)
            res["flat_" + order][k] = float(psnr_u8(to_u8(flat), gt).mean())
    gp.train(was_training)
    return res


def format_eval(res):
    ks = list(res["priority"].keys())
    head = "K        " + " ".join(f"{k:>6}" for k in ks)
    lines = [f"val: {res['n']} images, mean non-empty regions {res['regions']:.2f}", head]
    for key in ("priority", "random", "flat_priority", "flat_random"):
        if key in res:
            lines.append(f"{key:<9}" + " ".join(f"{res[key][k]:6.2f}" for k in ks))
    return "\n".join(lines)


# ============================================================================ checkpoints

def fold_logit_scale(sd, scale, prefix=""):
    """Training multiplies the segmentator's logits by a fixed gain; the exported model
    has it folded into outc (argmax, hence the regions, are unchanged)."""
    sd = dict(sd)
    for k in ("segmentator.outc.conv.weight", "segmentator.outc.conv.bias"):
        sd[prefix + k] = sd[prefix + k] * scale
    return sd


def lightning_checkpoint(gp, disc, a, step):
    sd = fold_logit_scale(gp.state_dict(), a.logit_scale)
    sd = {f"generator.{k}": v.detach().clone() for k, v in sd.items()}
    if disc is not None:
        sd.update({f"discriminator.{k}": v.detach().clone() for k, v in disc.state_dict().items()})
    # strings only: torch 1.13's weights_only unpickler (convert_checkpoint.py) refuses floats
    hp = {k: str(v) for k, v in vars(a).items() if isinstance(v, (int, float, str, bool))}
    return {"state_dict": sd, "hyper_parameters": hp, "global_step": int(step), "epoch": 0}


def atomic_save(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def load_generator(path):
    """GuidingPainter from final.ckpt / ckpt.pt (Lightning layout) or a .safetensors file."""
    if path.endswith(".safetensors"):
        return ref.model_from_safetensors(path)
    blob = torch.load(path, map_location="cpu")
    if "gp" in blob:                      # resume checkpoint
        sd = fold_logit_scale(blob["gp"], blob["args"].get("logit_scale", 1.0))
    else:
        sd = {k[len("generator."):]: v for k, v in blob["state_dict"].items() if k.startswith("generator.")}
    width = sd["segmentator.inc.double_conv.0.weight"].shape[0]
    gp = ref.GuidingPainter(width)
    gp.load_state_dict(sd)
    return gp.eval()


# ============================================================================ training

def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--name", help="run name: outputs in runs/NAME")
    ap.add_argument("--data", default=os.path.join(ROOT, "data"),
                    help="EmojiOne data (tools/build_dataset.py), synthetic sketches; '' for none")
    ap.add_argument("--pairs", default="", metavar="DIR",
                    help="real sketch/colour pairs (tools/build_openmoji.py's layout)")
    ap.add_argument("--pairs-frac", type=float, default=0.75, help="share of each batch drawn from --pairs")
    ap.add_argument("--crop-frac", type=float, default=0.0,
                    help="share of samples that are --size crops of the 256 render (the 256 scale)")
    ap.add_argument("--runs", default=os.path.join(ROOT, "runs"))
    ap.add_argument("--resume", action="store_true", help="continue runs/NAME/ckpt.pt")
    ap.add_argument("--init", metavar="WEIGHTS",
                    help="start from these generator weights (.safetensors or checkpoint) instead of random ones; "
                         "optimiser and schedules start fresh")
    ap.add_argument("--eval-only", metavar="CKPT", help="evaluate a checkpoint (or exported weights) on val128 and exit")
    ap.add_argument("--eval-split", default="val128", help="with --eval-only: the split of --data (val128, val)")
    ap.add_argument("--eval-json", metavar="OUT", help="with --eval-only: also write the table as JSON")
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--size", type=int, default=128, help="training side (256 renders area-reduced)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--lr-schedule", choices=("const", "cosine"), default="const")
    ap.add_argument("--lr-min-frac", type=float, default=0.1)
    ap.add_argument("--p", type=float, default=0.125, help="geometric law of Nh")
    ap.add_argument("--nh-uniform", type=float, default=0.0,
                    help="fraction of samples whose Nh is uniform on 0..30 instead of geometric")
    ap.add_argument("--tau-start", type=float, default=1.0)
    ap.add_argument("--tau-end", type=float, default=0.1)
    ap.add_argument("--tau-schedule", choices=("exp", "linear", "cosine"), default="exp")
    ap.add_argument("--noise-scale", type=float, default=1.0, help="Gumbel noise multiplier")
    ap.add_argument("--logit-scale", type=float, default=1.0,
                    help="fixed gain on the segmentator's logits in training; folded into outc on export")
    ap.add_argument("--w-rec", type=float, default=30.0)
    ap.add_argument("--w-tv", type=float, default=5.0)
    ap.add_argument("--w-smooth", type=float, default=1.0)
    ap.add_argument("--w-prefix", type=float, default=0.0,
                    help="weight of the nested flat-fill term (first K regions' mean colours, white elsewhere; "
                         "mean over K = 1..--prefix-kmax): pushes the most colour into the first channels")
    ap.add_argument("--prefix-kmax", type=int, default=10)
    ap.add_argument("--smooth-on", choices=("logits", "probs"), default="logits")
    ap.add_argument("--tv-on", choices=("sample", "soft"), default="sample",
                    help="TV term on the straight-through samples (recipe) or on noise-free softmax(logits / tau)")
    ap.add_argument("--seg-grad-input", type=float, default=1.0,
                    help="scale of the reconstruction gradient reaching the segmentator through S as the "
                         "colorizer's input channels (forward unchanged)")
    ap.add_argument("--seg-grad-hint", type=float, default=1.0,
                    help="scale of the reconstruction gradient reaching the segmentator through the hint maps C, M")
    ap.add_argument("--seg-grad-hint-end", type=float, default=None,
                    help="if set, --seg-grad-hint ramps linearly to this value over the first --ramp-frac of training")
    ap.add_argument("--ramp-frac", type=float, default=0.5)
    ap.add_argument("--seg-only", action="store_true",
                    help="probe: train only the segmentator on TV + smoothness (eval: flat fill only)")
    ap.add_argument("--gan-weight", type=float, default=0.0, help="LSGAN PatchGAN weight (0: off)")
    ap.add_argument("--style", type=int, default=1, help="1: random sketch style + flips")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--eval-every", type=int, default=0, help="steps between val evals (0: end only)")
    ap.add_argument("--eval-ks", default="0,1,2,3,5,10", help="K list of the periodic evals")
    ap.add_argument("--ckpt-minutes", type=float, default=5.0)
    ap.add_argument("--note", default="", help="free text for the experiments table")
    return ap.parse_args(argv)


def train(a, argv):
    run = os.path.join(a.runs, a.name)
    os.makedirs(run, exist_ok=True)
    logf = open(os.path.join(run, "log.txt"), "a")

    def log(msg):
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    ckpt_path = os.path.join(run, "ckpt.pt")
    state = None
    if a.resume:
        if not os.path.exists(ckpt_path):
            log(f"error: --resume but {ckpt_path} does not exist")
            return 1
        state = torch.load(ckpt_path, map_location="cpu")
        saved = state["args"]
        for k in ("steps", "eval_every", "ckpt_minutes", "log_every", "threads"):   # may change on resume
            if f"--{k.replace('_', '-')}" in argv:
                saved[k] = getattr(a, k)
        saved["resume"] = True
        a = argparse.Namespace(**{**vars(parse_args([])), **saved})   # options newer than the run: defaults
        log(f"resuming {ckpt_path} at step {state['step']}")
    else:
        log("command: /usr/bin/python3 tools/train.py " + " ".join(shlex.quote(s) for s in argv))
        log("options: " + json.dumps(vars(a), sort_keys=True))
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    gen = torch.Generator().manual_seed(a.seed + 1)

    sets = {}
    if a.data:
        sets["emojione"] = TrainSet(a.data, log)
    if a.pairs:
        sets["pairs"] = PairSet(a.pairs, log)
    if not sets:
        log("error: no training data (--data '' and no --pairs)")
        return 2
    samplers = {k: Sampler(len(v), rng) for k, v in sets.items()}
    eval_dir = a.pairs or a.data
    _, vx, vgt = load_eval_set(eval_dir)
    eval_ks = tuple(int(k) for k in a.eval_ks.split(","))

    gp = ref.GuidingPainter(a.width)
    gp.train()
    opt = torch.optim.Adam(gp.parameters(), lr=a.lr, betas=(0.5, 0.999))
    disc = opt_d = None
    if a.gan_weight > 0:
        disc = PatchDiscriminator(ndf=2 * a.width)
        opt_d = torch.optim.Adam(disc.parameters(), lr=a.lr, betas=(0.5, 0.999))
    step, elapsed, history = 0, 0.0, []
    if state is None and a.init:
        # Exported weights carry the logit gain folded into outc; training applies it itself.
        sd = fold_logit_scale(load_generator(a.init).state_dict(), 1.0 / a.logit_scale)
        gp.load_state_dict(sd)
        gp.train()
        log(f"initialised from {a.init}")
    if state is not None:
        gp.load_state_dict(state["gp"])
        opt.load_state_dict(state["opt"])
        if disc is not None:
            disc.load_state_dict(state["disc"])
            opt_d.load_state_dict(state["opt_d"])
        step, elapsed, history = state["step"], state["elapsed"], state["history"]
        rng.bit_generator.state = state["rng"]
        gen.set_state(state["gen"])
        torch.set_rng_state(state["torch_rng"])

    def save_ckpt():
        blob = {"gp": gp.state_dict(), "opt": opt.state_dict(), "step": step,
                "elapsed": elapsed + time.time() - t_start, "history": history, "args": vars(a),
                "rng": rng.bit_generator.state, "gen": gen.get_state(),
                "torch_rng": torch.get_rng_state(),
                "samplers": {k: (v.perm.tolist(), v.pos) for k, v in samplers.items()}}
        if disc is not None:
            blob["disc"], blob["opt_d"] = disc.state_dict(), opt_d.state_dict()
        atomic_save(blob, ckpt_path)

    nparam = sum(p.numel() for p in gp.parameters())
    ntrain = sum(len(v) for v in sets.values())
    log(f"GuidingPainter width {a.width}: {nparam / 1e6:.2f} M parameters; "
        + ", ".join(f"{len(v)} {k}" for k, v in sets.items()) + f" train images, {vx.shape[0]} val "
        f"({eval_dir}); {a.steps} steps of {a.batch} = {a.steps * a.batch / ntrain:.1f} epochs")
    t_start = time.time()
    t_ckpt = t_start
    acc = {}
    t_log, steps_log = time.time(), 0
    if state is not None and "samplers" in state:
        for k, (perm, pos) in state["samplers"].items():
            samplers[k].perm, samplers[k].pos = np.asarray(perm), pos
    while step < a.steps:
        x, y = draw_batch(sets, samplers, a, rng)
        tau = tau_at(a, step)
        lr = lr_at(a, step)
        for g in opt.param_groups:
            g["lr"] = lr
        if opt_d is not None:
            for g in opt_d.param_groups:
                g["lr"] = lr

        logits = a.logit_scale * gp.segmentator(x)
        S, soft = gumbel_st(logits, tau, gen, a.noise_scale)
        nh = torch.from_numpy(sample_nh(rng, a.batch, a.p, uniform_frac=a.nh_uniform))
        active = torch.arange(NC).view(1, -1) < nh.view(-1, 1)
        c, C, M, full = hints_from_regions(S, y, active)
        k_hint = hint_grad_at(a, step)
        if k_hint != 1.0:
            C, M = hints_from_regions(grad_scale(S, k_hint), y, active)[1:3]
        if a.tv_on == "soft":
            full = hints_from_regions(torch.softmax(logits / tau, 1), y, active)[3]
        l_tv = F.mse_loss(full, y)
        l_prefix = prefix_flat_loss(S, y, c, a.prefix_kmax) if a.w_prefix > 0 else torch.zeros(())
        if a.seg_only:
            out, l_rec = None, torch.zeros(())
        else:
            out = colorize_batch(gp, x, grad_scale(S, a.seg_grad_input), C, M)
            l_rec = (out - y).abs().mean()
        l_smooth = smoothness(logits if a.smooth_on == "logits" else torch.softmax(logits, 1))
        loss = a.w_rec * l_rec + a.w_tv * l_tv + a.w_smooth * l_smooth + a.w_prefix * l_prefix
        terms = {"rec": l_rec.item(), "tv": l_tv.item(), "smooth": l_smooth.item()}
        if a.w_prefix > 0:
            terms["prefix"] = l_prefix.item()
        if disc is not None and out is not None:
            pred_fake = disc(torch.cat([x, out], 1))
            l_adv = ((pred_fake - 1.0) ** 2).mean()
            loss = loss + a.gan_weight * l_adv
            terms["adv"] = l_adv.item()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if disc is not None and out is not None:
            d_real = disc(torch.cat([x, y], 1))
            d_fake = disc(torch.cat([x, out.detach()], 1))
            l_d = 0.5 * (((d_real - 1.0) ** 2).mean() + (d_fake ** 2).mean())
            opt_d.zero_grad(set_to_none=True)
            l_d.backward()
            opt_d.step()
            terms["d"] = l_d.item()
        with torch.no_grad():
            terms["loss"] = loss.item()
            terms["reg_sample"] = float((S.detach().sum((2, 3)) > 0).sum(1).float().mean())
            terms["reg_argmax"] = float((F.one_hot(logits.argmax(1), NC).sum((1, 2)) > 0).sum(1).float().mean())
            terms["agree"] = float((S.detach().argmax(1) == logits.argmax(1)).float().mean())
            terms["used_ch"] = float((F.one_hot(logits.argmax(1), NC).sum((0, 1, 2)) > 0).sum())
            terms["margin"] = float((logits.topk(2, 1).values[:, 0] - logits.topk(2, 1).values[:, 1]).mean())
        for k, v in terms.items():
            acc[k] = acc.get(k, 0.0) + v
        step += 1
        steps_log += 1

        if step % a.log_every == 0 or step == a.steps:
            now = time.time()
            sps = steps_log / max(1e-9, now - t_log)
            eta = (a.steps - step) / max(sps, 1e-9)
            msg = " ".join(f"{k} {v / steps_log:.4g}" for k, v in acc.items())
            log(f"step {step}/{a.steps} tau {tau:.3f} lr {lr:.2g} hintgrad {k_hint:.2f} | {msg} | {sps:.2f} step/s "
                f"({sps * a.batch:.1f} img/s), eta {eta / 60:.1f} min")
            acc, t_log, steps_log = {}, now, 0
        if a.eval_every and step % a.eval_every == 0 and step < a.steps:
            t0 = time.time()
            res = evaluate(gp, vx, vgt, ks=eval_ks, orders=("priority",), model=not a.seg_only)
            history.append({"step": step, **res})
            log(f"eval at step {step} ({time.time() - t0:.0f} s): regions {res['regions']:.2f} | priority "
                + " ".join(f"K{k} {v:.2f}" for k, v in res["priority"].items()))
            t_log = time.time()
        if time.time() - t_ckpt > a.ckpt_minutes * 60 or step == a.steps:
            save_ckpt()
            t_ckpt = time.time()

    total = elapsed + time.time() - t_start
    final = os.path.join(run, "final.ckpt")
    atomic_save(lightning_checkpoint(gp, disc, a, step), final)
    log(f"training done: {step} steps in {total / 60:.1f} min; wrote {final}")
    res = evaluate(gp, vx, vgt, model=not a.seg_only)
    res["step"], res["train_minutes"] = step, total / 60
    others = {}
    for d, split in ((a.data, "val128"), (a.pairs, "val")):
        if d and (d != eval_dir or split != "val128") and os.path.isdir(os.path.join(d, split)):
            ox, ogt = load_eval_set(d, split)[1:]
            others[f"{d}:{split}"] = evaluate(gp, ox, ogt, ks=(0, 1, 2, 3, 5, 10), model=not a.seg_only)
    with open(os.path.join(run, "eval.json"), "w") as f:
        json.dump({"final": res, "eval_set": f"{eval_dir}:val128", "others": others,
                   "history": history, "args": vars(a)}, f, indent=1)
    log(f"\n{eval_dir}:val128\n" + format_eval(res))
    for k, r in others.items():
        log(f"\n{k}\n" + format_eval(r))
    append_experiment(a, res, argv)
    return 0


def append_experiment(a, res, argv):
    path = os.path.join(a.runs, "EXPERIMENTS.md")
    new = not os.path.exists(path)
    with open(path, "a") as f:
        if new:
            f.write("# Training experiments (auto-appended by tools/train.py; notes edited by hand)\n\n"
                    "PSNR on val128 (169 images, 128 x 128); P = priority order, R = random order.\n\n"
                    "| run | steps x batch | min | regions | P 0/1/2/3/5/10 | R 1/2/3/5/10 | note | command |\n"
                    "|---|---|---|---|---|---|---|---|\n")
        key = "flat_" if a.seg_only else ""
        p = key + "/".join(f"{res[key + 'priority'][k]:.1f}" for k in (0, 1, 2, 3, 5, 10))
        r = key + "/".join(f"{res[key + 'random'][k]:.1f}" for k in (1, 2, 3, 5, 10))
        cmd = "tools/train.py " + " ".join(shlex.quote(s) for s in argv)
        f.write(f"| {a.name} | {res['step']} x {a.batch} | {res['train_minutes']:.0f} | {res['regions']:.2f} | "
                f"{p} | {r} | {a.note} | `{cmd}` |\n")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    a = parse_args(argv)
    if a.eval_only:
        torch.set_num_threads(a.threads)
        gp = load_generator(a.eval_only)
        _, vx, vgt = load_eval_set(a.data, a.eval_split)
        t0 = time.time()
        res = evaluate(gp, vx, vgt)
        print(format_eval(res))
        print(f"({time.time() - t0:.0f} s)")
        if a.eval_json:
            with open(a.eval_json, "w") as f:
                json.dump({"model": a.eval_only, **res}, f, indent=1)
        return 0
    if not a.name:
        print("train.py: --name is required", file=sys.stderr)
        return 2
    return train(a, argv)


if __name__ == "__main__":
    sys.exit(main())
