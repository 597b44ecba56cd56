"""mmalign vs TRL `DPOTrainer` on the same tiny LLaVA, the same multi-image pairs and the same settings.

One run builds one tiny LLaVA (random weights, saved to disk) and, for each shape (images per prompt)
and each gradient-checkpointing setting, writes the synthetic pairs once and trains twice, each in its
own subprocess (`python -m mmalign.bench.dpo_worker`): once with TRL's `DPOTrainer`, once with
`mmalign.train.trainer.train`. Both get the same initial weights (loaded from the same folder), full
fine-tuning with the vision tower frozen, fp32, AdamW with the same learning rate / linear schedule /
clipping, the same batch, steps and data order (mmalign's epoch-0 permutation; TRL is given the records
in that order and a sequential sampler), and the sigmoid loss with beta 0.1.

Reported per framework: samples/s and tokens/s over the training steps (data collation, policy and
reference forwards, backward and optimiser step; model building and the final save excluded), peak RSS
of the subprocess, step-0 policy log-probs of the chosen answers (mean over the first batch's pairs of
the summed answer log-probs), and the loss of the last step. Tokens are counted the same way for both:
the distinct tokens of a pair (prompt with its image tokens, chosen answer and rejected answer, no
padding), so the tokens/s ratio equals the samples/s ratio.

Rejections per prompt (`rejections`, K): each prompt gets K wrong answers. TRL has no multi-rejection
loss, so it trains on the K pairs (chosen, rejection) written one per line; mmalign trains on the records
as they are (`rejections: all`: each rejection paired with chosen, the pair losses averaged), with batch/K
prompts per step, so both see the same `batch` pairs per step and make the same update. samples/s counts
pairs for both, and `ms_per_pair` is its inverse: the cost of one more rejection.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

from ..io import read_jsonl, write_jsonl_atomic

ORDINALS = ("first", "second", "third", "fourth")


def _ordinal_words(i: int) -> list[str]:
    return [ORDINALS[i], "image"] if i < len(ORDINALS) else ["image", str(i + 1)]


def _answer(words: list[str], tokens: int) -> str:
    """`tokens - 1` words (cycled) and a full stop: exactly `tokens` tokens for the word tokenizer."""
    need = max(tokens - 1, 1)
    out = (words * (need // len(words) + 1))[:need]
    return " ".join(out) + " ."


def write_multi_image_pairs(root: str | Path, *, count: int, images: int, px: int = 64,
                            answer_tokens: int = 16, seed: int = 0, name: str = "pairs.jsonl",
                            rejections: int = 1) -> Path:
    """`count` pairs of `images` synthetic scenes each: the prompt asks about one of them, the chosen
    answer describes it truly and the rejected answer with a wrong colour; both answers are
    `answer_tokens` tokens long (before the end-of-turn token). With `rejections` K > 1 each record
    also has a `rejected_list` of K-1 more answers, each with another wrong colour. Records are in the
    preference record format (docs/data-format.md; TRL's conversational vision format) with image paths
    relative to `root`."""
    from ..data.synth.scenes import COLOURS, draw_scene, sample_scene

    root = Path(root)
    (root / "img").mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    records = []
    for i in range(count):
        scenes = [sample_scene(rng) for _ in range(images)]
        rels = []
        for j, scene in enumerate(scenes):
            rel = f"img/p{images}-{seed}-{i}-{j}.png"
            draw_scene(scene, px).save(root / rel)
            rels.append(rel)
        t = rng.randrange(images)
        s = scenes[t]
        others = [c for c in sorted(COLOURS) if c != s.colour]
        wrongs = [rng.choice(others)] if rejections == 1 else rng.sample(others, rejections)
        where = _ordinal_words(t)
        chosen = ["there", "is", "a", s.colour, s.shape, "in", "the", *where, "and", "it", "is", "not", "a",
                  wrongs[0], s.shape]
        rejected = [["there", "is", "a", w, s.shape, "in", "the", *where, "and", "it", "is", "not", "a",
                     s.colour, s.shape] for w in wrongs]
        question = " ".join(["describe", "the", "object", "in", "the", *where]) + " ."
        answer = [[{"role": "assistant", "content": [{"type": "text", "text": _answer(r, answer_tokens)}]}]
                  for r in rejected]
        records.append({
            "id": f"bench-{images}-{seed}-{i}",
            "images": rels,
            "prompt": [{"role": "user", "content": [{"type": "image"} for _ in range(images)]
                        + [{"type": "text", "text": question}]}],
            "chosen": [{"role": "assistant", "content": [{"type": "text", "text": _answer(chosen, answer_tokens)}]}],
            "rejected": answer[0],
            **({"rejected_list": answer[1:]} if rejections > 1 else {}),
        })
    path = root / name
    write_jsonl_atomic(path, records)
    return path


def as_separate_pairs(record: dict) -> list[dict]:
    """One record per (chosen, rejection): how a pairwise trainer without multi-rejection losses (TRL)
    takes a record with a `rejected_list`."""
    answers = [record["rejected"], *record.get("rejected_list", [])]
    base = {k: v for k, v in record.items() if k not in ("rejected", "rejected_list")}
    if len(answers) == 1:
        return [record]
    return [{**base, "id": f"{record['id']}#r{j}", "rejected": a} for j, a in enumerate(answers)]


def _run_worker(args: list[str], result: Path, env: dict, timeout: float | None) -> dict:
    cmd = [sys.executable, "-m", "mmalign.bench.dpo_worker", *args, "--result", str(result)]
    proc = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0 or not result.exists():
        tail = (proc.stdout + proc.stderr)[-4000:]
        raise RuntimeError(f"worker failed ({' '.join(cmd[2:5])}, rc={proc.returncode}):\n{tail}")
    return json.loads(result.read_text())


def _tokens_per_pair(model: Path, data: Path, root: Path) -> float:
    """Distinct tokens of a pair, averaged: prompt (image tokens included) + chosen + rejected, no padding."""
    from transformers import AutoConfig

    from ..data.collate import PreferenceCollator
    from ..data.reader import read_records
    from ..models.load import adapter_for, load_processor
    from ..train.step import batch_tokens

    processor = load_processor(str(model), True)  # the processor only: no weights loaded here
    collator = PreferenceCollator(processor, adapter_for(AutoConfig.from_pretrained(model), processor), root)
    records, _ = read_records(data, root, "error")
    return round(sum(batch_tokens(collator([r])) for r in records) / len(records), 1)


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if not a or b is None else round(b / a, 3)


def run_dpo_bench(images: tuple[int, ...] = (4,), rejections: tuple[int, ...] = (1,), steps: int = 8,
                  batch: int = 8, hidden: int = 256, layers: int = 4, px: int = 64, answer_tokens: int = 16,
                  checkpointing: tuple[bool, ...] = (False, True), learning_rate: float = 1e-5,
                  seed: int = 0, workdir: str | Path | None = None, timeout: float | None = None,
                  model: str | Path | None = None, device: str = "cpu", lora: bool = False,
                  precision: str = "fp32", patch_size: int = 8, runs: int = 1) -> dict:
    """Train with TRL and with mmalign for every (images, rejections, checkpointing), `runs` times each
    (interleaved; each framework's row is its median run by samples/s), and return
    ``{"config", "rows", "trl", "mmalign", "ratio_samples_per_s"}`` (the top-level keys repeat the
    first row). Each row has ``trl`` and ``mmalign`` (``samples_per_s``, ``tokens_per_s``,
    ``peak_rss_mb``, ``final_loss``, ``step0_logps_chosen``, ``seconds``) and the ratios mmalign / TRL
    (``ratio_peak_rss_mb`` likewise; ``step0_logps_abs_diff``). ``model``: a saved LLaVA folder to use
    instead of building the tiny one (then ``hidden``/``layers`` are ignored and ``px`` must match its
    vision tower); ``device="cuda"`` leaves the GPU visible to the workers."""
    from ..models.tiny import TinyLlavaSpec, build_tiny_llava
    from ..train.order import DataOrder

    if runs < 1:
        raise ValueError("--runs must be at least 1")
    for k in rejections:
        if batch % k or k > 5:
            raise ValueError(f"--rejections {k}: the batch ({batch} pairs) must be a multiple of it, and at most "
                             "5 (the synthetic world's wrong colours)")
    if hidden % 4 or min(steps, batch, hidden, layers, px, answer_tokens) < 1 or px % patch_size:
        raise ValueError("steps, batch, hidden, layers, answer_tokens must be >= 1; hidden a multiple of 4; "
                         "px a multiple of the patch size")
    spec = TinyLlavaSpec(hidden_size=hidden, num_layers=layers, num_heads=4, intermediate_size=hidden * 2,
                         vision_hidden_size=64, vision_layers=2, vision_heads=2, image_size=px, patch_size=patch_size,
                         seed=seed)
    config = {"images": list(images), "rejections": list(rejections), "steps": steps, "batch": batch,
              "hidden": hidden, "layers": layers, "px": px, "answer_tokens": answer_tokens,
              "checkpointing": list(checkpointing), "learning_rate": learning_rate, "precision": "fp32",
              "loss": "sigmoid", "beta": 0.1, "vision_tower": "frozen", "threads": os.environ.get("OMP_NUM_THREADS"),
              "image_tokens_per_image": (px // spec.patch_size) ** 2, "cpu_count": os.cpu_count(),
              "device": device, "lora": lora, "runs": runs}
    config["precision"] = precision
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "HF_DATASETS_OFFLINE": "1"}
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    env.setdefault("PYTHONPATH", str(Path(__file__).resolve().parents[2]))
    rows = []
    with tempfile.TemporaryDirectory(prefix="mmalign-bench-dpo-") as tmp:
        work = Path(workdir) if workdir is not None else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        model = Path(model) if model is not None else build_tiny_llava(work / "model", spec)
        for n_img in images:
            for k in rejections:
                # `batch` pairs per step for both: TRL gets them one per line, mmalign as batch/k prompts
                # with k rejections each (the same pairs, so the same mean loss and update).
                count = steps * batch // k
                order = DataOrder(count, batch // k, 1, 1, seed).permutation(0)
                data_dir = work / f"data-{n_img}img-{k}rej"
                data = write_multi_image_pairs(data_dir, count=count, images=n_img, px=px,
                                               answer_tokens=answer_tokens, seed=seed, rejections=k)
                records = read_jsonl(data)
                ordered = data_dir / "pairs-ordered.jsonl"  # TRL's sequential order = mmalign's permutation
                write_jsonl_atomic(ordered, [p for i in order for p in as_separate_pairs(records[i])])
                tokens_per_pair = _tokens_per_pair(model, data, data_dir)
                for ckpt in checkpointing:
                    tag = f"{n_img}img-{k}rej-ckpt{'on' if ckpt else 'off'}"
                    common = ["--model", str(model), "--root", str(data_dir), "--batch", str(batch),
                              "--steps", str(steps), "--lr", str(learning_rate), "--seed", str(seed),
                              "--rejections", str(k)]
                    if ckpt:
                        common.append("--checkpointing")
                    if lora:
                        common.append("--lora")
                    common += ["--precision", precision]
                    trl_runs, mm_runs = [], []
                    for run in range(runs):  # interleaved, so load on a shared machine hits both alike
                        rtag = f"{tag}-run{run}"
                        trl_runs.append(_run_worker(["--framework", "trl", "--data", str(ordered), "--out",
                                                     str(work / f"trl-{rtag}"), *common], work / f"trl-{rtag}.json",
                                                    env, timeout))
                        mm_runs.append(_run_worker(["--framework", "mmalign", "--data", str(data), "--out",
                                                    str(work / f"mmalign-{rtag}"), *common],
                                                   work / f"mmalign-{rtag}.json", env, timeout))
                    trl, mm = _median_run(trl_runs), _median_run(mm_runs)
                    for r in (trl, mm):
                        r["tokens_per_s"] = round(r["samples_per_s"] * tokens_per_pair, 1)
                        r["ms_per_pair"] = round(1000.0 / r["samples_per_s"], 1)
                    rows.append({
                        "images": n_img, "rejections": k, "checkpointing": ckpt, "tokens_per_pair": tokens_per_pair,
                        "trl": trl, "mmalign": mm,
                        "ratio_samples_per_s": _ratio(trl["samples_per_s"], mm["samples_per_s"]),
                        "ratio_steady_samples_per_s": _ratio(trl.get("steady_samples_per_s"),
                                                             mm.get("steady_samples_per_s")),
                        "ratio_tokens_per_s": _ratio(trl["tokens_per_s"], mm["tokens_per_s"]),
                        "ratio_peak_rss_mb": _ratio(trl["peak_rss_mb"], mm["peak_rss_mb"]),
                        "step0_logps_abs_diff": abs(trl["step0_logps_chosen"] - mm["step0_logps_chosen"]),
                        "final_loss_abs_diff": abs(trl["final_loss"] - mm["final_loss"]),
                    })
    first = rows[0]
    return {"config": config, "trl": first["trl"], "mmalign": first["mmalign"],
            "ratio_samples_per_s": first["ratio_samples_per_s"], "rows": rows}


def _median_run(runs: list[dict]) -> dict:
    """The run with the median samples/s (the lower middle one for an even count), with every run's
    samples/s beside it."""
    ranked = sorted(runs, key=lambda r: r["samples_per_s"])
    return {**ranked[(len(ranked) - 1) // 2], "samples_per_s_runs": [r["samples_per_s"] for r in runs]}


def format_table(result: dict) -> str:
    c = result["config"]
    head = (f"mmalign bench dpo: LLaVA hidden {c['hidden']}, {c['layers']} layers, {c['px']} px "
            f"({c['image_tokens_per_image']} tokens/image), {c['answer_tokens']}-token answers, batch {c['batch']}, "
            f"{c['steps']} steps, {c['precision']}, {'LoRA' if c.get('lora') else 'full'}, lr {c['learning_rate']}, "
            f"vision tower frozen, {c.get('device', 'cpu')}")
    cols = ("img", "rej", "ckpt", "framework", "samples/s", "tokens/s", "peak RSS MB", "step0 logps", "final loss")
    lines = [head, "", "  ".join(f"{h:>11}" for h in cols)]
    for r in result["rows"]:
        for name in ("trl", "mmalign"):
            m = r[name]
            vals = (r["images"], r["rejections"], "on" if r["checkpointing"] else "off", name,
                    f"{m['samples_per_s']:.2f}", f"{m['tokens_per_s']:.0f}", f"{m['peak_rss_mb']:.0f}",
                    f"{m['step0_logps_chosen']:.5f}", f"{m['final_loss']:.5f}")
            lines.append("  ".join(f"{v:>11}" for v in vals))
        lines.append(f"{'':>11}  {'':>11}  {'':>11}  {'mmalign/TRL':>11}  {r['ratio_samples_per_s']!s:>11}  "
                     f"{r['ratio_tokens_per_s']!s:>11}  {r['ratio_peak_rss_mb']!s:>11}  "
                     f"{'|d|=' + format(r['step0_logps_abs_diff'], '.1e'):>11}  "
                     f"{'|d|=' + format(r['final_loss_abs_diff'], '.1e'):>11}")
    return "\n".join(lines)


# -- LLaVA-1.5-7B-shaped comparison (scripts/bench_gpu.sh) ---------------------------------------------

# LLaVA-1.5-7B: Vicuna-7B decoder (Llama-2 shape) + CLIP ViT-L/14 at 336 px (576 tokens per image).
LLAVA7B = {"hidden": 4096, "layers": 32, "heads": 32, "intermediate": 11008, "vocab": 32064,
           "v_hidden": 1024, "v_layers": 24, "v_heads": 16, "v_intermediate": 4096, "px": 336, "patch": 14}
# The same structure, small enough for a CPU smoke run (--tiny).
LLAVA7B_TINY = {"hidden": 64, "layers": 2, "heads": 4, "intermediate": 128, "vocab": 256,
                "v_hidden": 32, "v_layers": 2, "v_heads": 2, "v_intermediate": 64, "px": 28, "patch": 14}


def build_llava7b_shaped(path: str | Path, shape: dict = LLAVA7B, device: str = "cuda",
                         dtype: str = "bf16", seed: int = 0) -> tuple[Path, int]:
    """A LLaVA-1.5-7B-shaped model with random weights, built on the meta device, materialised on
    `device` in `dtype` (normal(0, 0.02) weights, unit norms, zero biases) and saved with a word-level
    processor to `path`. Returns the folder and the number of parameters."""
    import torch
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )

    from ..data.synth import vocabulary
    from ..models.tokenizer import build_word_tokenizer

    path = Path(path)
    tokenizer = build_word_tokenizer(vocabulary())
    s = shape
    vision = CLIPVisionConfig(hidden_size=s["v_hidden"], intermediate_size=s["v_intermediate"],
                              num_hidden_layers=s["v_layers"], num_attention_heads=s["v_heads"],
                              image_size=s["px"], patch_size=s["patch"], projection_dim=768)
    text = LlamaConfig(vocab_size=max(s["vocab"], len(tokenizer)), hidden_size=s["hidden"],
                       intermediate_size=s["intermediate"], num_hidden_layers=s["layers"],
                       num_attention_heads=s["heads"], num_key_value_heads=s["heads"], max_position_embeddings=4096,
                       pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                       eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=False)
    config = LlavaConfig(vision_config=vision, text_config=text, image_token_id=tokenizer.image_token_id,
                         vision_feature_layer=-2, vision_feature_select_strategy="default",
                         pad_token_id=tokenizer.pad_token_id)
    torch_dtype = {"bf16": torch.bfloat16, "fp32": torch.float32}[dtype]
    with torch.device("meta"):
        model = LlavaForConditionalGeneration(config)
    model = model.to_empty(device=device).to(torch_dtype)
    g = torch.Generator(device=device).manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.zero_()
            elif p.ndim == 1:  # layer / RMS norm weights
                p.fill_(1.0)
            else:
                p.normal_(0.0, 0.02, generator=g)
        for _, b in model.named_buffers():  # e.g. CLIP position_ids, rotary inv_freq: recompute on load
            b.zero_()
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    image_processor = CLIPImageProcessor(size={"shortest_edge": s["px"]},
                                         crop_size={"height": s["px"], "width": s["px"]}, do_center_crop=True)
    processor = LlavaProcessor(image_processor=image_processor, tokenizer=tokenizer, patch_size=s["patch"],
                               vision_feature_select_strategy="default", num_additional_image_tokens=1,
                               chat_template=tokenizer.chat_template)
    model.save_pretrained(path)
    processor.save_pretrained(path)
    n_params = sum(p.numel() for p in model.parameters())
    del model
    return path, n_params


def model_flops_per_pair(n_params: int, tokens_per_pair: float) -> float:
    """Model FLOPs a DPO pair needs, the same for every framework: 6·N per distinct token for the policy
    (forward + backward) and 2·N for the reference forward (attention FLOPs left out)."""
    return 8.0 * n_params * tokens_per_pair


def add_mfu(result: dict, n_params: int, peak_flops: float | None) -> dict:
    """Add ``mfu`` (fraction of `peak_flops`; None without a peak) to each framework of each row of a
    `run_dpo_bench` result."""
    for row in result["rows"]:
        per_pair = model_flops_per_pair(n_params, row["tokens_per_pair"])
        for name in ("trl", "mmalign"):
            row[name]["mfu"] = (round(row[name]["samples_per_s"] * per_pair / peak_flops, 4)
                                if peak_flops else None)
    result["config"]["n_params"] = n_params
    result["config"]["peak_flops"] = peak_flops
    return result
