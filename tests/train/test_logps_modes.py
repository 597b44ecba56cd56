"""The two non-standard scoring modes: DOVE's joint log-probs and mDPO/VDPO's rejected media."""

import json

import torch

from mmalign.data import read_records
from mmalign.data.collate import PreferenceCollator
from mmalign.train.step import PairForward


def concatenated_forward(model, adapter, batch, pad):
    return PairForward(adapter, pad, "concatenated")(model, batch)


def token_logps(logits, ids):
    """log p(ids[:, j] | ids[:, :j]) for j >= 1, from a full forward's logits."""
    return torch.log_softmax(logits[:, :-1].float(), -1).gather(2, ids[:, 1:, None])[..., 0]


def _records(tmp_path, synth_pairs):
    data, root = synth_pairs
    rows = [json.loads(line) for line in data.read_text().splitlines()][:3]
    for i, row in enumerate(rows):
        row["rejected_images"] = rows[(i + 1) % 3]["images"]
        row["rejected_prompt"] = rows[(i + 2) % 3]["prompt"]
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return read_records(path, root)[0], root


def test_joint_scores_prompt_text_but_not_image_tokens(tmp_path, synth_pairs, tiny_llava):
    records, root = _records(tmp_path, synth_pairs)
    model, proc, adapter = tiny_llava.model, tiny_llava.processor, tiny_llava.adapter
    pad = proc.tokenizer.pad_token_id
    plain = concatenated_forward(model, adapter, PreferenceCollator(proc, adapter, root)(records), pad)
    batch = PreferenceCollator(proc, adapter, root, needs=frozenset({"joint"}))(records)
    joint = concatenated_forward(model, adapter, batch, pad)
    with torch.no_grad():
        for i, rec in enumerate(records):
            # By hand: one unpadded sequence, every text token after the first scored.
            p = batch["prompt_input_ids"][i][batch["prompt_attention_mask"][i].bool()]
            a = batch["chosen_input_ids"][i][batch["chosen_attention_mask"][i].bool()]
            ids = torch.cat([p, a])[None]
            out = model(input_ids=ids, pixel_values=batch["pixel_values"][i:i + 1])
            lp = token_logps(out.logits, ids)[0]
            scored = (ids[0, 1:] != adapter.image_token_id).float()
            assert torch.allclose(joint.chosen[i], (lp * scored).sum(), atol=1e-4)
            assert torch.allclose(plain.chosen[i], lp[-len(a):].sum(), atol=1e-4)
            assert joint.chosen_lengths[i] == scored.sum() > plain.chosen_lengths[i]
    # The rejected side is scored under its own instruction (rejected_prompt).
    assert not torch.equal(batch["rejected_prompt_input_ids"], batch["prompt_input_ids"])


def test_rejected_media_scores_chosen_answer_under_other_images(tmp_path, synth_pairs, tiny_llava):
    records, root = _records(tmp_path, synth_pairs)
    model, proc, adapter = tiny_llava.model, tiny_llava.processor, tiny_llava.adapter
    pad = proc.tokenizer.pad_token_id
    batch = PreferenceCollator(proc, adapter, root, needs=frozenset({"rejected_media"}))(records)
    out = concatenated_forward(model, adapter, batch, pad)
    # By hand: swap the images in and score the chosen answer normally.
    swapped = [r for r in records]
    for r in swapped:
        r.images = r.rejected_images
    ref = concatenated_forward(model, adapter, PreferenceCollator(proc, adapter, root)(swapped), pad)
    assert torch.allclose(out.rejected[:, 0], ref.chosen, atol=1e-4)
    assert torch.equal(batch["rejected_input_ids"], batch["chosen_input_ids"])
    assert not torch.allclose(out.rejected[:, 0], out.chosen)
