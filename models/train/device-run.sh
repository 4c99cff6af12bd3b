#!/usr/bin/env bash
# One GPU session: train three variants in parallel for MINUTES each, export ONNX, copy to $OUT.
# CONFIGS: comma-separated "name arch mask-res fpn-channels"; default a: MobileNetV3-small FPN-64,
# 28x28 masks; b: small, 56x56 masks; c: MobileNetV3-large, 56x56 masks.
# Data: .devcarry/seg from make_labels.py (carried). Usage: MINUTES=5.5 bash models/train/device-run.sh
set -uo pipefail
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2 PYTHONWARNINGS=ignore
OUT=${OUT:-/tmp/out}
MINUTES=${MINUTES:-5.5}
PY=${PY:-python3}
R=/tmp/seg-run
mkdir -p "$R" "$OUT"
nvidia-smi -L 2>&1 | head -2
"$PY" -c "import torch, torchvision; print('torch', torch.__version__, torchvision.__version__, torch.cuda.is_available())"
IFS=, read -ra CFGS <<< "${CONFIGS:-a small 28 64,b small 56 64,c large 56 64}"
for cfg in "${CFGS[@]}"; do
  set -- $cfg; FPN=${4:-64}
  "$PY" models/train/train.py --data .devcarry/seg --out "$R" --name "$1" --arch "$2" \
    --mask-res "$3" --fpn "$FPN" --batch 16 --workers 4 --minutes "$MINUTES" --seed 1 &
done
wait
cp "$R"/*.onnx "$R"/*.pt "$OUT"/ 2>/dev/null
ls -la "$OUT"
