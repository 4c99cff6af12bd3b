#!/usr/bin/env bash
# One GPU session: train variants in parallel for MINUTES each; copy their weights (.pt, float16) and
# logs to $OUT (export the ONNX here with export.py, as the shipped model was).
# CONFIGS: comma-separated "name arch mask-res fpn-channels [more train.py arguments]"; the default is
# the shipped model's recipe (g2: MobileNetV3-small FPN-64, 56x56 masks, from scratch, MR normalised
# as at run time with a 0.05 floor, MR images 60% of draws, seed 3) beside two other seeds.
# Data: .devcarry/seg from make_labels.py (carried). Usage: MINUTES=5.2 bash models/train/device-run.sh
set -uo pipefail
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2 PYTHONWARNINGS=ignore
OUT=${OUT:-/tmp/out}
MINUTES=${MINUTES:-5.2}
WORKERS=${WORKERS:-5}
PY=${PY:-python3}
R=/tmp/seg-run
rm -rf "$R"; mkdir -p "$R" "$OUT"
nvidia-smi -L 2>&1 | head -2
"$PY" -c "import torch, torchvision; print('torch', torch.__version__, torchvision.__version__, torch.cuda.is_available())"
DEFAULT="g2 small 56 64 --mr-floor 0.05 --mr-weight 0.6 --seed 3"
DEFAULT+=",s4 small 56 64 --mr-floor 0.05 --mr-weight 0.6 --seed 4"
DEFAULT+=",s5 small 56 64 --mr-floor 0.05 --mr-weight 0.6 --seed 5"
IFS=, read -ra CFGS <<< "${CONFIGS:-$DEFAULT}"
for cfg in "${CFGS[@]}"; do
  set -- $cfg; NAME=$1 ARCH=$2 RES=$3 FPN=$4; shift 4
  "$PY" models/train/train.py --data .devcarry/seg --out "$R" --name "$NAME" --arch "$ARCH" \
    --mask-res "$RES" --fpn "$FPN" --batch 16 --workers "$WORKERS" --minutes "$MINUTES" --seed 1 "$@" &
done
wait
cp "$R"/*.pt "$R"/*.log "$OUT"/ 2>/dev/null
ls -la "$OUT"
