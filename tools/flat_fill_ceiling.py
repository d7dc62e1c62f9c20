"""How far can flat fill go at K hints? Reference points for the eval table.

For each validation image (val128) and hint count K, three flat fills (hinted pixels
get one colour per hint, the rest stays white, as `guidingpainter eval`'s baseline):

  palette  the best K colours for the picture itself: K-means on its pixels with white
           as a fixed (K+1)-th centre. No segmentation network can hand a K-hint flat
           fill more than this (up to K-means' local optima): a ceiling.
  areas    the sketch's closed areas (4-connected pixels off the lines; each line pixel
           joins a neighbouring area), one hint per area, greedily in the order that
           lowers the error most: a segmenter that only ever splits along the lines,
           never merges two areas into one region, with a perfect ranking.
  oracle   the model's own regions, hinted greedily in the order that lowers the error
           most (needs the ground truth, so no product can do it): what a perfect
           ranking of these regions would give.
  priority the model's regions in its priority order (eval's flat_priority).

Usage: /usr/bin/python3 tools/flat_fill_ceiling.py [--model weights/guidingpainter-emoji.safetensors]
                                                   [--data data] [--json OUT.json]
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference as ref  # noqa: E402
import train  # noqa: E402

KS = (1, 2, 3, 5, 10, 20, 30)
WHITE = np.array([255.0, 255.0, 255.0])


def psnr(pred, gt):
    """eval's PSNR (train.psnr_u8) of a fill and the picture, both [P,3] in 0..255."""
    as_u8 = lambda a: torch.from_numpy(np.trunc(a).astype(np.uint8).T[None, :, :, None].copy())  # noqa: E731
    return float(train.psnr_u8(as_u8(pred), as_u8(gt))[0])


def palette_fill(px, k, rng, iters=25):
    """K-means with k free centres and white fixed; px [P,3] float. Returns the fill."""
    dist_white = ((px - WHITE) ** 2).sum(1)
    # k-means++ seeding against white and the centres chosen so far.
    centres = []
    d = dist_white.copy()
    for _ in range(k):
        if d.sum() <= 0:
            break
        centres.append(px[rng.choice(len(px), p=d / d.sum())])
        d = np.minimum(d, ((px - centres[-1]) ** 2).sum(1))
    if not centres:
        return np.broadcast_to(WHITE, px.shape)
    c = np.stack(centres)
    for _ in range(iters):
        dc = ((px[:, None, :] - c[None]) ** 2).sum(2)
        nearest = dc.argmin(1)
        use_white = dist_white <= dc[np.arange(len(px)), nearest]
        for j in range(len(c)):
            members = (nearest == j) & ~use_white
            if members.any():
                c[j] = px[members].mean(0)
    dc = ((px[:, None, :] - c[None]) ** 2).sum(2)
    nearest = dc.argmin(1)
    use_white = dist_white <= dc[np.arange(len(px)), nearest]
    return np.where(use_white[:, None], WHITE, c[nearest])


def region_fills(labels, px):
    """Per non-empty region: (pixel mask, mean colour, error reduction vs white)."""
    out = []
    for r in np.unique(labels):
        m = labels == r
        mean = px[m].mean(0)
        gain = ((px[m] - WHITE) ** 2).sum() - ((px[m] - mean) ** 2).sum()
        out.append((int(r), m, mean, gain))
    return out


def sketch_areas(sketch):
    """Labels of the 4-connected areas of non-line pixels (sketch > 0.5 in [-1,1]: any
    visible grey blocks, since thin lines at 128 x 128 are light and leak otherwise); line
    pixels take the label of a neighbour, spreading outwards until all are labelled."""
    h, w = sketch.shape
    lab = np.full((h, w), -1, np.int64)
    free = sketch > 0.5
    n = 0
    for y0 in range(h):
        for x0 in range(w):
            if not free[y0, x0] or lab[y0, x0] >= 0:
                continue
            lab[y0, x0] = n
            stack = [(y0, x0)]
            while stack:
                y, x = stack.pop()
                for yy, xx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
                    if 0 <= yy < h and 0 <= xx < w and free[yy, xx] and lab[yy, xx] < 0:
                        lab[yy, xx] = n
                        stack.append((yy, xx))
            n += 1
    while (lab < 0).any():
        grown = lab.copy()
        for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            src = np.full_like(lab, -1)
            src[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
                lab[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
            take = (grown < 0) & (src >= 0)
            grown[take] = src[take]
        if (grown == lab).all():
            grown[grown < 0] = n  # a picture that is all line: one area
        lab = grown
    return lab


def fill(regions, chosen, n):
    y = np.broadcast_to(WHITE, (n, 3)).copy()
    for r, m, mean, _ in regions:
        if r in chosen:
            y[m] = mean
    return y


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="weights/guidingpainter-emoji.safetensors")
    ap.add_argument("--data", default="data")
    ap.add_argument("--json")
    a = ap.parse_args()

    names, x, gt = train.load_eval_set(a.data)
    gp = train.load_generator(a.model)
    gp.eval()
    labels = train.segment_labels(gp, x).numpy()
    rng = np.random.default_rng(0)
    res = {key: {k: [] for k in KS} for key in ("palette", "areas", "oracle", "priority")}
    area_counts = []
    for i in range(len(names)):
        px = gt[i].numpy().reshape(3, -1).T.astype(np.float64)
        lab = labels[i].reshape(-1)
        regions = region_fills(lab, px)
        ranked = [int(r) for r in ref.ranked_regions(torch.from_numpy(labels[i]))]
        by_gain = [r for r, *_ in sorted(regions, key=lambda t: -t[3])]
        areas = region_fills(sketch_areas(x[i, 0].numpy()).reshape(-1), px)
        area_counts.append(len(areas))
        areas_by_gain = [r for r, *_ in sorted(areas, key=lambda t: -t[3])]
        for k in KS:
            res["palette"][k].append(psnr(palette_fill(px, k, rng), px))
            res["areas"][k].append(psnr(fill(areas, set(areas_by_gain[:k]), len(px)), px))
            # Regions are disjoint, so the greedy order by gain is the best order.
            res["oracle"][k].append(psnr(fill(regions, set(by_gain[:k]), len(px)), px))
            res["priority"][k].append(psnr(fill(regions, set(ranked[:k]), len(px)), px))
        if (i + 1) % 40 == 0:
            print(f"{i + 1}/{len(names)} images", file=sys.stderr)
    table = {key: {k: float(np.mean(v)) for k, v in d.items()} for key, d in res.items()}
    print(f"flat fill on val128 ({len(names)} images), model {a.model}; "
          f"{np.mean(area_counts):.1f} sketch areas per image")
    print("K         " + " ".join(f"{k:>6}" for k in KS))
    for key, d in table.items():
        print(f"{key:<9} " + " ".join(f"{d[k]:6.2f}" for k in KS))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"model": a.model, "areas_per_image": float(np.mean(area_counts)), **table}, f, indent=1)


if __name__ == "__main__":
    main()
