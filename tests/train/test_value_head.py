"""Reward models (`head: value`): value-head scores agree between the packed and concatenated backends
(scores and gradients, every family, Qwen2-VL video too); the saved text reward model loads with
AutoModelForSequenceClassification and the saved vision one with `load_reward`, both giving our scores;
losses a reward model cannot train with are refused at setup."""

import pytest
import torch
from speed.speed_kit import family_paths, grads, records, setup, video_records

from mmalign.data.candidates import message_text
from mmalign.data.collate import PreferenceCollator
from mmalign.errors import ConfigError
from mmalign.models.value_head import HEAD_CONFIG, HEAD_WEIGHTS, ValueModel
from mmalign.train.checkpoint import save_model_folder
from mmalign.train.concatenated import glue
from mmalign.train.value_scoring import ValueForward


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    return family_paths(tmp_path_factory.mktemp("value-head"))


def _batch(paths, family, video=False):
    mode = "full" if family != "qwen" else "lora"  # LoRA on one family: the head trains beside the adapters
    model, adapter, _, pad = setup(paths[family], paths["root"], mode)
    collator = PreferenceCollator(adapter.processor, adapter, paths["root"], num_frames=4)
    recs = video_records() if video else records(vision=family != "text")
    return ValueModel.around(model, seed=3), adapter, collator(recs), pad, recs


def _values(model, adapter, batch, pad, backend):
    forward = ValueForward(adapter, pad, backend)
    return forward(model, batch)


@pytest.mark.parametrize("family, video", [("llava", False), ("qwen", False), ("qwen", True), ("text", False)])
def test_packed_and_concatenated_give_the_same_scores_and_gradients(paths, family, video):
    model, adapter, batch, pad, _ = _batch(paths, family, video)
    want = _values(model, adapter, batch, pad, "concatenated")
    (want.chosen.sum() - 0.5 * want.rejected.sum()).backward()
    g_want = grads(model)
    got = _values(model, adapter, batch, pad, "packed")
    (got.chosen.sum() - 0.5 * got.rejected.sum()).backward()
    g_got = grads(model)
    torch.testing.assert_close(got.chosen, want.chosen, rtol=0, atol=1e-5)
    torch.testing.assert_close(got.rejected, want.rejected, rtol=0, atol=1e-5)
    assert "value_head.weight" in g_got and float(g_got["value_head.weight"].abs().sum()) > 0
    assert g_got.keys() == g_want.keys()
    for name, value in g_got.items():
        torch.testing.assert_close(value, g_want[name], rtol=1e-4, atol=1e-5, msg=lambda m, n=name: f"{n}: {m}")
    # Different answers get different scores: the head reads each answer's own last token.
    assert len({round(float(v), 5) for v in torch.cat([got.chosen, got.rejected[:, 0]])}) == 2 * len(got.chosen)


@pytest.mark.parametrize("mode", ["full", "lora"])
def test_text_reward_model_loads_as_sequence_classification_with_our_scores(paths, tmp_path, mode):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model, adapter, collator, pad = setup(paths["text"], paths["root"], mode)
    model = ValueModel.around(model, seed=5).eval()
    batch = collator(records(vision=False))
    with torch.no_grad():
        ours = _values(model, adapter, batch, pad, "packed")
    save_model_folder(tmp_path / "final", model, collator.processor, final=True)
    loaded = AutoModelForSequenceClassification.from_pretrained(tmp_path / "final")
    assert type(loaded).__name__ == "LlamaForSequenceClassification" and loaded.config.num_labels == 1
    assert AutoTokenizer.from_pretrained(tmp_path / "final").pad_token_id == pad
    # Right-padded [prompt | answer] rows of different lengths: transformers pools at the last non-pad token.
    rows = []
    for side in ("chosen", "rejected"):
        ids, attn, _, _ = glue(batch["prompt_input_ids"], batch["prompt_attention_mask"], batch[f"{side}_input_ids"],
                               batch[f"{side}_attention_mask"], pad)
        rows.append((ids, attn))
    width = max(ids.shape[1] for ids, _ in rows)
    ids = torch.cat([torch.nn.functional.pad(i, (0, width - i.shape[1]), value=pad) for i, _ in rows])
    attn = torch.cat([torch.nn.functional.pad(a, (0, width - a.shape[1])) for _, a in rows])
    assert bool((attn.sum(1) < width).any())  # some rows are padded
    with torch.no_grad():
        theirs = loaded(input_ids=ids, attention_mask=attn).logits[:, 0]
    torch.testing.assert_close(theirs, torch.cat([ours.chosen, ours.rejected[:, 0]]), rtol=0, atol=1e-4)


def _candidates(recs):
    return [{"id": r.id, "prompt": r.prompt, "images": r.images, "videos": r.videos,
             "candidates": [{"text": message_text(r.chosen)}, {"text": message_text(r.rejected)}]} for r in recs]


@pytest.mark.parametrize("family, video", [("llava", False), ("qwen", True)])
def test_vision_reward_model_round_trips_through_load_reward(paths, tmp_path, family, video):
    from mmalign.judge import load_reward

    model, adapter, batch, pad, recs = _batch(paths, family, video)
    model.eval()
    with torch.no_grad():
        ours = _values(model, adapter, batch, pad, "packed")
    save_model_folder(tmp_path / "final", model, adapter.processor, final=True)
    assert (tmp_path / "final" / HEAD_WEIGHTS).is_file() and (tmp_path / "final" / HEAD_CONFIG).is_file()
    judge = load_reward(tmp_path / "final", root=paths["root"], video_frames=4, batch_size=1)
    theirs = torch.tensor(judge.score(_candidates(recs)))
    torch.testing.assert_close(theirs, torch.stack([ours.chosen, ours.rejected[:, 0]], 1), rtol=0, atol=1e-4)


def test_losses_a_reward_model_cannot_train_with_are_refused(tmp_path):
    from mmalign.config import from_dict
    from mmalign.train.config import TrainConfig
    from mmalign.train.trainer import train

    cfg = from_dict(TrainConfig, {"head": "value", "loss": {"name": "sigmoid"}, "data": "synthetic-text",
                                  "output_dir": str(tmp_path)})
    with pytest.raises(ConfigError, match="loss 'sigmoid' needs a policy's log-probs; reward-model losses: bt, "
                                          "bt_margin"):
        train(cfg)
    with pytest.raises(ConfigError, match="precompute_ref"):
        train(from_dict(TrainConfig, {"head": "value", "loss": {"name": "bt"}, "precompute_ref": True,
                                      "data": "synthetic-text", "output_dir": str(tmp_path)}))
    with pytest.raises(Exception, match="head"):
        from_dict(TrainConfig, {"head": "reward"})


def test_a_text_reward_run_resumes_exactly_and_its_final_folder_scores_like_the_trainer(tmp_path):
    """LoRA text reward model: a run killed in step 3 and resumed from checkpoint-2 ends with the weights of
    the uninterrupted run (value head included); final/ is a sequence classifier whose scores give the
    held-out accuracy and margin the trainer computed in memory."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from mmalign.config import from_dict
    from mmalign.data.reader import read_records
    from mmalign.train.config import TrainConfig
    from mmalign.train.trainer import train

    def config(name, **over):
        return from_dict(TrainConfig, {
            "model": "tiny-llama", "data": "synthetic-text", "synthetic_pairs": 16, "eval_data": "synthetic-text",
            "synthetic_eval_pairs": 8, "head": "value", "loss": {"name": "bt"}, "max_steps": 3, "save_steps": 2,
            "per_device_batch_size": 4, "learning_rate": 1e-3, "progress": False, "output_dir": str(tmp_path / name),
            "lora": {"enabled": True, "r": 4, "alpha": 8, "dropout": 0.0}, **over})

    class Crash(Exception):
        pass

    def crash_in_step_3(batch, step, **_):
        if step == 2:
            raise Crash
        return batch

    whole = train(config("a"))
    with pytest.raises(Crash):
        train(config("b"), pair_sampler=crash_in_step_3)
    resumed = train(config("b", resume_from="latest"))
    assert (tmp_path / "b" / "checkpoint-2" / "value_head.safetensors").is_file()
    from safetensors.torch import load_file

    a, b = (load_file(str(r.final_dir / "model.safetensors")) for r in (whole, resumed))
    assert a.keys() == b.keys() and "score.weight" in a and not any("lora" in k for k in a)
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=1e-6)
    assert whole.eval == resumed.eval

    heldout = tmp_path / "a" / "data" / "heldout.jsonl"
    records, _ = read_records(heldout, heldout.parent, "skip")
    tokenizer = AutoTokenizer.from_pretrained(whole.final_dir)
    classifier = AutoModelForSequenceClassification.from_pretrained(whole.final_dir).eval()
    margins = []
    for r in records:
        rows = [[{"role": m["role"], "content": " ".join(i["text"] for i in m["content"])} for m in r.prompt + a]
                for a in (r.chosen, r.rejected)]
        enc = tokenizer([tokenizer.apply_chat_template(m, tokenize=False) for m in rows], return_tensors="pt",
                        padding=True, add_special_tokens=False)
        with torch.no_grad():
            chosen, rejected = classifier(**enc).logits[:, 0].tolist()
        margins.append(chosen - rejected)
    assert whole.eval["reward_accuracy"] == sum(m > 0 for m in margins) / len(margins)
    assert whole.eval["reward_margin"] == pytest.approx(sum(margins) / len(margins), rel=1e-4, abs=1e-8)
    # The reward-model judge reads the same folder (sequence-classification layout) and gives the same scores.
    from mmalign.judge import load_reward

    judged = load_reward(whole.final_dir).score(_candidates(records))
    assert [c - r for c, r in judged] == pytest.approx(margins, rel=1e-4, abs=1e-6)
