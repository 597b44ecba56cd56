"""MIA-DPO's per-format, per-image-count thresholds and the attention-aware decision (mia_dpo.md §2.5).

A sample's model answer becomes a rejection when its attention ratio on the target is *below* the
threshold: the model looked elsewhere. The paper's code compares with ``<=`` for sequences and ``<`` for
collages and pic-in-pic; both are kept.
"""

from __future__ import annotations

import math

# Paper code (make_data_duotu.py / make_data_ping.py / make_data_pip.py).
THRESHOLDS: dict[str, dict[int, float]] = {
    "sequence": {2: 0.8, 3: 0.7, 4: 0.6, 5: 0.6},
    "grid_collage": {2: 0.7, 3: 0.6, 4: 0.5, 6: 0.4, 9: 0.3},
    "pic_in_pic": {2: 0.8},
}
INCLUSIVE: dict[str, bool] = {"sequence": True, "grid_collage": False, "pic_in_pic": False}


def threshold_for(fmt: str, n_images: int, thresholds: dict[str, dict[int, float]] | None = None) -> float:
    """The threshold for ``fmt`` with ``n_images`` source images. A count the table lacks takes the
    entry of the largest listed count below it, else the smallest listed (ours)."""
    table = (thresholds or THRESHOLDS).get(fmt)
    if not table:
        raise ValueError(f"no thresholds for format {fmt!r}; known: {sorted(thresholds or THRESHOLDS)}")
    if n_images in table:
        return table[n_images]
    below = [n for n in table if n < n_images]
    return table[max(below)] if below else table[min(table)]


def is_rejection(ratio: float, fmt: str, n_images: int, *, thresholds: dict[str, dict[int, float]] | None = None,
                 inclusive: bool | None = None) -> bool:
    """True when the answer's attention on the target is below the threshold (keep it as a rejection).
    ``inclusive`` (default: the paper's per format) makes a ratio equal to the threshold count as below.
    A NaN ratio (no image attention at all) is never a rejection."""
    if math.isnan(ratio):
        return False
    limit = threshold_for(fmt, n_images, thresholds)
    inclusive = INCLUSIVE.get(fmt, False) if inclusive is None else inclusive
    return ratio <= limit if inclusive else ratio < limit
