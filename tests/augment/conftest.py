import pytest
from augment_helpers import sample_images


@pytest.fixture
def imgs():
    return sample_images()
