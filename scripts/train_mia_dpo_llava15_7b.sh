#!/usr/bin/env bash
# MIA-DPO on LLaVA-1.5-7B, the released script's settings (configs/mia_dpo_llava15_7b.yaml: LoRA r128/a256,
# beta 0.1, lr 5e-5, 1 epoch, warmup 0.1, bf16, checkpointing). The original ran DeepSpeed ZeRO-2; here DDP is the
# default (18.6 GiB per GPU, docs/scaling.md) because the trainer refuses DeepSpeed with accumulation > 1 until
# a GPU run has checked it (ACCEL_CONFIG=configs/accelerate/deepspeed_zero2.yaml with GPUS=64 / 1 pair).
# Global batch 64 = 8 GPUs x 1 pair x 8 accumulation; with other GPU counts, keep 64 via accumulation.
#   scripts/train_mia_dpo_llava15_7b.sh data=... root=...
#   NUM_MACHINES=2 MACHINE_RANK=0 MAIN_PROCESS_IP=10.0.0.1 scripts/train_mia_dpo_llava15_7b.sh ...
set -euo pipefail
cd "$(dirname "$0")/.."
GPUS=${GPUS:-8}
NUM_MACHINES=${NUM_MACHINES:-1}
ACCUM=$((64 / (GPUS * NUM_MACHINES)))
(( ACCUM >= 1 )) || ACCUM=1
GPUS=$GPUS NUM_MACHINES=$NUM_MACHINES exec scripts/launch.sh "${ACCEL_CONFIG:-configs/accelerate/ddp.yaml}" \
  configs/mia_dpo_llava15_7b.yaml per_device_batch_size=1 gradient_accumulation_steps="$ACCUM" "$@"
