"""Posts tests: no background flushing of impressions; an empty buffer around each test."""

from __future__ import annotations

import pytest

from backsoon.posts import impressions


@pytest.fixture(autouse=True)
def _impressions_buffer(settings):
    # Tests flush explicitly with impressions_flush(); a background flush from
    # another thread would race with them.
    settings.IMPRESSIONS_FLUSH_SECONDS = 0
    impressions.impressions_discard()
    yield
    impressions.impressions_discard()
