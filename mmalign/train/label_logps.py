"""Log-probabilities of label tokens without a full-vocabulary float32 log-softmax.

`label_logps(logits, rows, labels)` = logits[rows, labels] - logsumexp(logits[rows]) in float32, with the
logsumexp taken chunk by chunk. The autograd function keeps only the logits (which the model produced
anyway) and one float per row; its backward rebuilds the softmax chunk by chunk and, with
`overwrite_logits=True`, writes the gradient into the logits' own storage (they are not needed after this
backward when nothing else reads them, as in the trainer's scoring call). A plain
`log_softmax(logits.float())` keeps a float32 copy of the whole [M, V] block for the backward and creates
two more for the gradients: with Qwen's 151,936-entry vocabulary that is most of a step's activation
memory (`mmalign bench logps` measures it).

Several labels may share a row: in the packed layout the context's last position predicts the first
token of every answer.
"""

from __future__ import annotations

import torch

CHUNK_ROWS = 128  # rows of float32 softmax alive at once: 128 x 151,936 x 4 bytes = 78 MB


class _LabelLogps(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, rows, labels, chunk, overwrite):
        lse = torch.empty(logits.shape[0], dtype=torch.float32, device=logits.device)
        for start in range(0, logits.shape[0], chunk):
            lse[start:start + chunk] = torch.logsumexp(logits[start:start + chunk].float(), dim=-1)
        picked = logits[rows, labels].float() - lse[rows]
        ctx.save_for_backward(logits, rows, labels, lse)
        ctx.chunk, ctx.overwrite = chunk, overwrite
        return picked

    @staticmethod
    def backward(ctx, grad):
        logits, rows, labels, lse = ctx.saved_tensors
        # d/dz [z_label - lse(z)] = onehot(label) - softmax(z): the softmax part is weighted by the summed
        # gradient of every label read from that row.
        per_row = torch.zeros_like(lse).index_add_(0, rows, grad.float())
        out = logits if ctx.overwrite else torch.empty_like(logits)
        for start in range(0, logits.shape[0], ctx.chunk):
            end = start + ctx.chunk
            soft = logits[start:end].float().sub(lse[start:end, None]).exp_()
            out[start:end] = soft.mul_(-per_row[start:end, None])
        out.index_put_((rows, labels), grad.to(out.dtype), accumulate=True)
        return out, None, None, None, None


def label_logps(logits: torch.Tensor, rows: torch.Tensor, labels: torch.Tensor, chunk: int = CHUNK_ROWS,
                overwrite_logits: bool = False) -> torch.Tensor:
    """[T] float32 log p(labels[i] | the position of logits row rows[i]); `logits` [M, V].

    `overwrite_logits`: the backward leaves the gradient in the logits' storage (only when nothing reads
    the logits after the backward)."""
    if logits.requires_grad and torch.is_grad_enabled():
        return _LabelLogps.apply(logits, rows, labels, chunk, overwrite_logits)
    lse = torch.cat([torch.logsumexp(logits[s:s + chunk].float(), dim=-1) for s in range(0, logits.shape[0], chunk)]
                    ) if logits.shape[0] else logits.new_zeros(0, dtype=torch.float32)
    return logits[rows, labels].float() - lse[rows]


def full_logsoftmax_logps(logits: torch.Tensor, rows: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The plain computation `label_logps` replaces (for tests and `mmalign bench logps`)."""
    return torch.log_softmax(logits.float(), dim=-1)[rows, labels]
