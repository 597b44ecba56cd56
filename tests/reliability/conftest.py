"""`batch_marked`: every answer `mmalign.models.generate` gives ends with the size of the batch it was
generated in, so a resumed run that batches differently from an uninterrupted one shows in its output (a
real model's padded batches differ in the last bits, too rarely to see in a small test)."""

from __future__ import annotations

import pytest


@pytest.fixture
def batch_marked(monkeypatch):
    import mmalign.models

    real = mmalign.models.generate

    def marked(model, processor, records, **kw):
        records = list(records)
        outs = real(model, processor, records, **kw)
        for out in outs:
            out.text = f"{out.text} [batch of {len(records)}]"
        return outs

    monkeypatch.setattr(mmalign.models, "generate", marked)


@pytest.fixture(autouse=True)
def default_image_limit():
    """Every test starts and ends with the default max_image_pixels (it is one setting per process)."""
    from PIL import Image

    from mmalign.data.image_limits import DEFAULT_MAX_IMAGE_PIXELS, set_max_image_pixels

    pil = Image.MAX_IMAGE_PIXELS
    set_max_image_pixels(DEFAULT_MAX_IMAGE_PIXELS)
    yield
    set_max_image_pixels(DEFAULT_MAX_IMAGE_PIXELS)
    Image.MAX_IMAGE_PIXELS = pil
