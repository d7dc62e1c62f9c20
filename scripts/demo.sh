#!/usr/bin/env bash
# The main job: for each bundled sample sketch (examples/samples, from the validation
# split), rank its regions and colorize it with the bundled model, the first ranked
# regions taking the colours of the sample's colour picture (a simulated user).
# Writes, per sample, out/NAME-regions.png (ranked regions), out/NAME-hints.png (the
# hints given) and out/NAME-colorized.png (the result).
#   GP_DEMO_HINTS (5): hints per sample; GP_DEMO_OUT (out): the folder;
#   GP_CLI: an already built guidingpainter to run instead of building build/guidingpainter.
set -euo pipefail
cd "$(dirname "$0")/.."
hints=${GP_DEMO_HINTS:-5}
out=${GP_DEMO_OUT:-out}
cli=${GP_CLI:-build/guidingpainter}
if [[ -z ${GP_CLI:-} ]]; then
  # The first build takes minutes on a small machine: its progress is shown, a line a step.
  echo "demo: building the command-line tool (build/guidingpainter)"
  scripts/build.sh --target guidingpainter_cli
fi
# Where it runs, said once: without a GPU each command would repeat the simulator's note.
device=$("$cli" info 2>/dev/null | sed -n 's/^device: *//p')
echo "demo: running on ${device:-an unknown device}"
if [[ $device == gpusim* ]]; then
  echo "demo: no CUDA GPU found: the kernels run on the CPU simulator (a few seconds per picture)"
  export GP_DEVICE=sim
fi
mkdir -p "$out"
for sketch in examples/samples/*-sketch.png; do
  name=$(basename "$sketch" -sketch.png)
  "$cli" regions --sketch "$sketch" -o "$out/$name-regions.png" --json "$out/$name-regions.json"
  "$cli" colorize --sketch "$sketch" --reference "examples/samples/$name-color.png" --hints "$hints" \
    --hint-picture "$out/$name-hints.png" -o "$out/$name-colorized.png"
done
echo "pictures are in $(cd "$out" && pwd): NAME-regions.png, NAME-hints.png, NAME-colorized.png"
