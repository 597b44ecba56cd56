"""K rejections per prompt (`rejections: all`): one packed pass gives the loss and gradients of the K
separate (chosen, rejection) pairs, and the concatenated backend gives the same numbers."""

import copy

import pytest
import torch
from speed_kit import assert_grads_close, build_family, grads, records, setup, write_images

from mmalign.data.schema import PreferenceRecord
from mmalign.losses import build_loss
from mmalign.train.pair_loss import AnswerLogps, rejection_loss
from mmalign.train.reference import AdapterDisabled, FrozenCopy
from mmalign.train.rejections import LIST_IDS, attach_rejected_list
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
    assert out.rejected_rewards.shape == (3, 3) and pol.rejected.shape == (3, 3)

    # The same pairs one per row, plain forward: the per-prompt mean of their losses.
    per_pair = []
    for j in range(3):
        single = [copy.copy(r) for r in recs]
        for r in single:
            r.rejected, r.rejected_list = _answers(r)[j], None
        b = collator(single)
        o, _ = compute_loss(model, reference, loss, PairForward(adapter, pad, "concatenated"), b)
        per_pair.append(o.losses)
    want = torch.stack(per_pair, 1).mean(1)
    want.sum().backward()
    torch.testing.assert_close(out.losses.detach(), want.detach(), rtol=0, atol=1e-6)
    assert_grads_close(g_many, grads(model))


def test_concatenated_backend_equals_packed(paths):
    model, adapter, collator, pad = setup(paths["llava"], paths["root"], "lora")
    recs = _with_lists(records())
    batch = attach_rejected_list(collator, recs, collator(recs))
    with torch.no_grad():
        fast = PairForward(adapter, pad, "packed")(model, batch)
        slow = PairForward(adapter, pad, "concatenated")(model, batch)
    assert fast.rejected.shape == (3, 3)
    torch.testing.assert_close(fast.rejected, slow.rejected, rtol=0, atol=1e-5)
    torch.testing.assert_close(fast.rejected_lengths, slow.rejected_lengths)
    torch.testing.assert_close(fast.chosen, slow.chosen, rtol=0, atol=1e-5)


def test_pairwise_loss_passes_lengths():
    pol = AnswerLogps(torch.tensor([-1.0, -2.0]), torch.tensor([[-3.0, -5.0], [-4.0, -6.0]]),
                      torch.tensor([2.0, 4.0]), torch.tensor([[3.0, 6.0], [5.0, 8.0]]))
    loss = build_loss("ipo", beta=0.1)
    out = rejection_loss(loss, pol, torch.zeros(2), torch.zeros(2, 2), {})
    first = loss(pol.chosen, pol.rejected[:, 0], torch.zeros(2), torch.zeros(2), chosen_lengths=pol.chosen_lengths,
                 rejected_lengths=pol.rejected_lengths[:, 0]).losses
    second = loss(pol.chosen, pol.rejected[:, 1], torch.zeros(2), torch.zeros(2), chosen_lengths=pol.chosen_lengths,
                  rejected_lengths=pol.rejected_lengths[:, 1]).losses
    torch.testing.assert_close(out.losses, (first + second) / 2)
    assert out.rejected_rewards.shape == (2, 2)


def test_rejection_sets_go_to_losses_that_take_them():
    """VDPO over K candidates gets the [B, K] block; a K = 1 layout gives a pair loss its [B] vectors."""
    pol = AnswerLogps(torch.tensor([-1.0]), torch.tensor([[-3.0, -2.0]]), torch.ones(1), torch.ones(1, 2))
    vdpo = build_loss("vdpo", beta=1.0, aggregation="mean")
    out = rejection_loss(vdpo, pol, torch.zeros(1), torch.zeros(1, 2), {})
    # h = r_w - r_l = (-1 + 3, -1 + 2) = (2, 1); mean of -log sigmoid(h) = (0.126928 + 0.313262) / 2
    torch.testing.assert_close(out.losses, torch.tensor([0.220095]), rtol=0, atol=1e-6)
    single = AnswerLogps(torch.tensor([-1.0]), torch.tensor([[-3.0]]), torch.ones(1), torch.ones(1, 1))
    sig = build_loss("sigmoid", beta=1.0)
    torch.testing.assert_close(rejection_loss(sig, single, torch.zeros(1), torch.zeros(1, 1), {}).losses,
                               sig(single.chosen, single.rejected[:, 0], torch.zeros(1), torch.zeros(1)).losses)
