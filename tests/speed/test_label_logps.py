"""Label log-probs by a chunked logsumexp equal the full log-softmax's, values and gradients, with rows read
by several labels (the packed layout's last context position) and chunks smaller than the rows."""

import torch

from mmalign.train.label_logps import full_logsoftmax_logps, label_logps


def _case(dtype):
    torch.manual_seed(0)
    logits = (torch.randn(7, 50) * 3).to(dtype).requires_grad_(True)
    rows = torch.tensor([0, 0, 0, 1, 2, 4, 4, 6])  # row 0 read three times, rows 3 and 5 never
    labels = torch.tensor([3, 9, 3, 0, 49, 7, 8, 1])
    weights = torch.linspace(-1, 2, rows.numel())
    return logits, rows, labels, weights


def test_values_and_gradients_equal_the_full_log_softmax():
    logits, rows, labels, weights = _case(torch.float32)
    got = label_logps(logits, rows, labels, chunk=3)
    (got * weights).sum().backward()
    g_got = logits.grad.clone()
    logits.grad = None
    want = full_logsoftmax_logps(logits, rows, labels)
    (want * weights).sum().backward()
    torch.testing.assert_close(got, want, rtol=0, atol=1e-6)
    torch.testing.assert_close(g_got, logits.grad, rtol=0, atol=1e-6)
    assert not g_got[3].any() and not g_got[5].any()  # unread rows get no gradient


def test_by_hand_two_tokens():
    # logits (0, ln 3): softmax (1/4, 3/4); label 1 -> ln 3/4; gradient of that: onehot - softmax.
    logits = torch.tensor([[0.0, float(torch.log(torch.tensor(3.0)))]], requires_grad=True)
    out = label_logps(logits, torch.tensor([0]), torch.tensor([1]))
    torch.testing.assert_close(out, torch.log(torch.tensor([0.75])))
    out.sum().backward()
    torch.testing.assert_close(logits.grad, torch.tensor([[-0.25, 0.25]]))


def test_bfloat16_logits_give_float32_results_and_bf16_gradients():
    logits, rows, labels, weights = _case(torch.bfloat16)
    got = label_logps(logits, rows, labels, chunk=2)
    assert got.dtype == torch.float32
    (got * weights).sum().backward()
    assert logits.grad.dtype == torch.bfloat16
    want = full_logsoftmax_logps(logits.detach().float(), rows, labels)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-5)


def test_without_gradients_no_autograd_function():
    logits, rows, labels, _ = _case(torch.float32)
    with torch.no_grad():
        got = label_logps(logits, rows, labels, chunk=4)
    assert got.grad_fn is None
    torch.testing.assert_close(got, full_logsoftmax_logps(logits.detach(), rows, labels), rtol=0, atol=1e-6)


def test_overwriting_the_logits_gives_the_same_gradients_through_the_head():
    """The trainer's use: logits from an output head, gradient written into their storage."""
    torch.manual_seed(1)
    hidden = torch.randn(6, 8, requires_grad=True)
    head = torch.nn.Linear(8, 40, bias=False)
    rows, labels = torch.tensor([0, 0, 2, 5]), torch.tensor([1, 2, 3, 39])
    got = label_logps(head(hidden), rows, labels, chunk=4, overwrite_logits=True)
    got.sum().backward()
    g_hidden, g_head = hidden.grad.clone(), head.weight.grad.clone()
    hidden.grad, head.weight.grad = None, None
    full_logsoftmax_logps(head(hidden), rows, labels).sum().backward()
    torch.testing.assert_close(g_hidden, hidden.grad, rtol=0, atol=1e-6)
    torch.testing.assert_close(g_head, head.weight.grad, rtol=0, atol=1e-6)
