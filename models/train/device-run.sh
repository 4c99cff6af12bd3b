#!/usr/bin/env bash
# One GPU session: train variants in parallel for MINUTES each; copy their weights (.pt, float16) and
# logs to $OUT (export the ONNX here with export.py, as the shipped model was).
# CONFIGS: comma-separated "name arch mask-res fpn-channels [more train.py arguments]"; default three
# variants of MobileNetV3-small FPN-64 with 56x56 masks: from scratch and fine-tuned from the shipped
# weights, MR normalised as at run time with a 0.05 floor, MR images 40% of draws.
# Data: .devcarry/seg from make_labels.py (carried). Usage: MINUTES=6.5 bash models/train/device-run.sh
set -uo pipefail
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2 PYTHONWARNINGS=ignore
OUT=${OUT:-/tmp/out}
MINUTES=${MINUTES:-6.5}
WORKERS=${WORKERS:-5}
PY=${PY:-python3}
R=/tmp/seg-run
rm -rf "$R"; mkdir -p "$R" "$OUT"
nvidia-smi -L 2>&1 | head -2
"$PY" -c "import torch, torchvision; print('torch', torch.__version__, torchvision.__version__, torch.cuda.is_available())"
DEFAULT="f1 small 56 64 --mr-floor 0.05 --mr-weight 0.4"
DEFAULT+=",f2 small 56 64 --mr-floor 0.05 --mr-weight 0.4 --init models/train/b2-fp16.pt --lr 1e-3 --warmup 50"
DEFAULT+=",f3 small 56 64 --mr-floor 0.05 --init models/train/b2-fp16.pt --lr 1e-3 --warmup 50"
IFS=, read -ra CFGS <<< "${CONFIGS:-$DEFAULT}"
for cfg in "${CFGS[@]}"; do
  set -- $cfg; NAME=$1 ARCH=$2 RES=$3 FPN=$4; shift 4
  "$PY" models/train/train.py --data .devcarry/seg --out "$R" --name "$NAME" --arch "$ARCH" \
    --mask-res "$RES" --fpn "$FPN" --batch 16 --workers "$WORKERS" --minutes "$MINUTES" --seed 1 "$@" &
done
wait
cp "$R"/*.pt "$R"/*.log "$OUT"/ 2>/dev/null
ls -la "$OUT"
