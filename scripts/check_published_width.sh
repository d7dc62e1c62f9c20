#!/usr/bin/env bash
# The engine against PyTorch at the published width (64), 256 x 256, from a checkpoint
# in the authors' Lightning layout: make a random one, convert it, colorize with five
# reference hints on the simulator (timed), compare labels and raw output in float64.
#
#   scripts/check_published_width.sh [WORKDIR] [PRECISION]   (default /tmp/gp-width64 fp32)
# PRECISION fp16 or bf16 runs the engine's 16-bit path and compares with the bounds of
# tools/engine_vs_torch.py. Takes several minutes, most of it PyTorch in float64 (and
# the simulator's tensor cores for 16-bit); needs build/guidingpainter.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/gp-width64}
precision=${2:-fp32}
mkdir -p "$work"
sketch=examples/samples/1F432-sketch.png
reference=examples/samples/1F432-color.png
py=/usr/bin/python3

[[ -f "$work/authors.ckpt" ]] || $py tools/engine_vs_torch.py checkpoint --width 64 --sketch "$sketch" "$work/authors.ckpt"
$py tools/convert_checkpoint.py "$work/authors.ckpt" "$work/model.safetensors"
start=$(date +%s%N)
GP_DEVICE=sim build/guidingpainter colorize --model "$work/model.safetensors" --sketch "$sketch" --size 256 \
  --precision "$precision" --reference "$reference" --hints 5 --raw "$work/raw-$precision.npy" \
  --labels "$work/labels-$precision.npy" -o "$work/out-$precision.png"
end=$(date +%s%N)
echo "simulator wall time of the $precision colorize run: $(( (end - start) / 1000000 )) ms"
$py tools/engine_vs_torch.py compare --model "$work/model.safetensors" --sketch "$sketch" --reference "$reference" \
  --hints 5 --raw "$work/raw-$precision.npy" --labels "$work/labels-$precision.npy" --precision "$precision"
