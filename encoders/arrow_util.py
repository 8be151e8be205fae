"""Small Arrow helpers that avoid ``pyarrow.array``.

``pyarrow.array`` (and Arrow-to-numpy conversion) import pandas on first use
when it is installed, which costs a third of a second of start-up in
``tiplink encode``; the agency side needs none of pandas. These build arrays
from their buffers instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa


def string_array(values: Sequence[str]) -> pa.Array:
    """A UTF-8 string array of ``values`` (no nulls)."""
    encoded = [v.encode("utf-8") for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    if encoded:
        np.cumsum([len(b) for b in encoded], out=offsets[1:])
    return pa.Array.from_buffers(pa.string(), len(encoded),
                                 [None, pa.py_buffer(offsets.tobytes()),
                                  pa.py_buffer(b"".join(encoded))])


def int_array_to_numpy(array: pa.Array) -> np.ndarray:
    """The values of a null-free integer array, read from its buffer."""
    width = array.type.byte_width
    return np.frombuffer(array.buffers()[1], dtype=f"<i{width}", count=len(array),
                         offset=array.offset * width)
