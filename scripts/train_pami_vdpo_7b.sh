#!/usr/bin/env bash
# PaMi-VDPO (online video preferences: augmented clips as rejections, close-to-far selection) on a 7B video
# model, configs/pami_vdpo_7b.yaml. The paper's numbers are unconfirmed (docs/research/video.md A.3):
# the config's values are our choices. DDP by default (LoRA: the base fits on every GPU).
#   scripts/train_pami_vdpo_7b.sh data=... root=...
#   NUM_MACHINES=2 MACHINE_RANK=1 MAIN_PROCESS_IP=10.0.0.1 scripts/train_pami_vdpo_7b.sh ...
set -euo pipefail
cd "$(dirname "$0")/.."
GPUS=${GPUS:-8}
NUM_MACHINES=${NUM_MACHINES:-1}
ACCUM=$((64 / (GPUS * NUM_MACHINES)))
(( ACCUM >= 1 )) || ACCUM=1
GPUS=$GPUS NUM_MACHINES=$NUM_MACHINES exec scripts/launch.sh "${ACCEL_CONFIG:-configs/accelerate/ddp.yaml}" \
  configs/pami_vdpo_7b.yaml gradient_accumulation_steps="$ACCUM" "$@"
