"""K rejections per prompt (`rejections: all`): one shared-prefix pass gives the loss and gradients of the
K separate (chosen, rejection) pairs, and the plain fallback gives the same numbers."""

import copy

import pytest
import torch
from speed_kit import assert_grads_close, build_family, grads, records, setup, write_images

from mmalign.data.schema import PreferenceRecord
from mmalign.losses import build_loss
from mmalign.train.logps import concatenated_forward
from mmalign.train.reference import AdapterDisabled, FrozenCopy
from mmalign.train.rejections import LIST_IDS, attach_rejected_list, pairwise_loss, plain_with_list
from mmalign.train.step import PairForward, compute_loss


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    base = tmp_path_factory.mktemp("speed-rej")
    write_images(base / "media")
    return {"root": base / "media", "llava": build_family("llava", base / "llava")}


def _with_lists(recs: list[PreferenceRecord]) -> list[PreferenceRecord]:
    """Two extra rejections per record: another record's rejected answer and its own chosen, reworded."""
    out = []
    for i, r in enumerate(recs):
        r = copy.copy(r)
        other = recs[(i + 1) % len(recs)].rejected
        r.rejected_list = [other, [{"role": "assistant", "content": [{"type": "text", "text": "no"}]}]]
        out.append(r)
    return out


def _answers(r):
    return [r.rejected, *r.rejected_list]


@pytest.mark.parametrize("mode", ["lora", "full"])
def test_k_rejections_equal_k_separate_pairs(paths, mode):
    model, adapter, collator, pad = setup(paths["llava"], paths["root"], mode)
    reference = AdapterDisabled() if mode == "lora" else FrozenCopy(model)
    loss = build_loss("sigmoid", beta=0.1)
    recs = _with_lists(records())
    batch = attach_rejected_list(collator, recs, collator(recs))
    assert batch[LIST_IDS].shape[0] == 2 * len(recs)
    out, pol = compute_loss(model, reference, loss, PairForward(adapter, pad), batch)
    out.losses.sum().backward()
    g_many = grads(model)
    assert out.rejected_rewards.shape == (3, 3) and pol.rejected_list.shape == (3, 2)

    # The same pairs one per row, plain forward: the per-prompt mean of their losses.
    per_pair = []
    for j in range(3):
        single = [copy.copy(r) for r in recs]
        for r in single:
            r.rejected, r.rejected_list = _answers(r)[j], None
        b = collator(single)
        o, _ = compute_loss(model, reference, loss, lambda m, x: concatenated_forward(m, adapter, x, pad), b)
        per_pair.append(o.losses)
    want = torch.stack(per_pair, 1).mean(1)
    want.sum().backward()
    torch.testing.assert_close(out.losses.detach(), want.detach(), rtol=0, atol=1e-6)
    assert_grads_close(g_many, grads(model))


def test_plain_fallback_equals_prefix(paths):
    model, adapter, collator, pad = setup(paths["llava"], paths["root"], "lora")
    recs = _with_lists(records())
    batch = attach_rejected_list(collator, recs, collator(recs))
    with torch.no_grad():
        fast = PairForward(adapter, pad)(model, batch)
        slow = plain_with_list(lambda b: concatenated_forward(model, adapter, b, pad), batch)
    torch.testing.assert_close(fast.rejected_list, slow.rejected_list, rtol=0, atol=1e-4)
    torch.testing.assert_close(fast.rejected_list_lengths, slow.rejected_list_lengths)
    torch.testing.assert_close(fast.chosen, slow.chosen, rtol=0, atol=1e-4)


def test_pairwise_loss_passes_lengths():
    from mmalign.train.logps import AnswerLogps

    pol = AnswerLogps(torch.tensor([-1.0, -2.0]), torch.tensor([-3.0, -4.0]), torch.tensor([2.0, 4.0]),
                      torch.tensor([3.0, 5.0]))
    pol.rejected_list = torch.tensor([[-5.0], [-6.0]])
    pol.rejected_list_lengths = torch.tensor([[6.0], [8.0]])
    loss = build_loss("ipo", beta=0.1)
    ref = AnswerLogps(*(torch.zeros(2) for _ in range(4)))
    ref.rejected_list, ref.rejected_list_lengths = torch.zeros(2, 1), torch.zeros(2, 1)
    out = pairwise_loss(loss, pol, ref)
    first = loss(pol.chosen, pol.rejected, ref.chosen, ref.rejected, chosen_lengths=pol.chosen_lengths,
                 rejected_lengths=pol.rejected_lengths).losses
    second = loss(pol.chosen, pol.rejected_list[:, 0], ref.chosen, ref.rejected, chosen_lengths=pol.chosen_lengths,
                  rejected_lengths=pol.rejected_list_lengths[:, 0]).losses
    torch.testing.assert_close(out.losses, (first + second) / 2)
