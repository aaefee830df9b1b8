"""Figures as PNG bytes that repeat: matplotlib's Agg backend, no timestamp and no software tag."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def chart_png(figure: Figure) -> bytes:
    """The figure as PNG bytes (Agg backend; no timestamp or software tag, so the bytes repeat)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
