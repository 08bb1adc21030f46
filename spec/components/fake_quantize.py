"""fake_quantize_per_tensor_affine and fake_quantize_per_channel_affine: rounding to an integer grid and back, with
the straight-through gradient of quantization-aware training. The page is spec/pages/fake_quantize.md.

Both live at the top of torch's namespace (``torch.fake_quantize_per_tensor_affine``), so their paths have no
``nn.`` prefix: an implementation offers them as ``mylib.fake_quantize_per_tensor_affine``.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from spec.entry import CALL_CHECKS, Entry, ErrorCase, Example, T
from spec.strategies import batch_shape, float_dtypes, seeds

#: Integer ranges: int8 signed and unsigned, int4, int2-ish, binary, int16.
_RANGES = st.sampled_from([(-128, 127), (-128, 127), (0, 255), (-8, 7), (0, 15), (-1, 1), (0, 1), (-32768, 32767)])
_scales = st.sampled_from([0.1, 0.05, 1 / 127, 0.02]) | st.floats(1e-3, 1.0)


def _input(draw: st.DrawFn, shape: tuple[int, ...], step: float, quant_min: int, quant_max: int) -> T:
    # Spread so that some values fall in range and some are clamped at either end.
    spread = step * (quant_max - quant_min) / 2 * draw(st.sampled_from([0.5, 1.0, 2.0]))
    return T(shape, scale=spread, grad=True)


@st.composite
def _per_tensor(draw: st.DrawFn) -> Example:
    quant_min, quant_max = draw(_RANGES)
    dtype = draw(float_dtypes)
    scale = draw(_scales)
    zero_point = draw(st.integers(quant_min, quant_max))
    shape = (*draw(batch_shape(2)), draw(st.integers(1, 32)))
    x = _input(draw, shape, scale, quant_min, quant_max)
    if draw(st.integers(0, 3)) == 0:
        # Ties: integers with scale 2 (1/2 exact in float32) put every odd one at k + 0.5 on the grid, where
        # rounding half to even and half away from zero part. Random inputs almost never land on a tie.
        scale = 2.0
        width = 2 * (quant_max - quant_min) + 2
        x = T(shape, fill="index", low=2 * quant_min - width, high=2 * quant_max + width, dtype=dtype, grad=True)
    if draw(st.integers(0, 2)) == 0:
        # The tensor form of the parameters: a one-element float32 scale (exactly ``scale``) and an int32 zero point.
        qparams: tuple[Any, Any] = (
            T((1,), fill="uniform", low=scale, high=scale, dtype="float32"),
            T((1,), fill="index", low=zero_point, high=zero_point + 1, dtype="int32"),
        )
    else:
        qparams = (scale, zero_point)
    return Example(args=(x, *qparams, quant_min, quant_max), dtype=dtype, seed=draw(seeds))


@st.composite
def _per_channel(draw: st.DrawFn) -> Example:
    quant_min, quant_max = draw(_RANGES)
    # No empty dimension: along the axis torch cannot check the zero points of no channel.
    shape = (*draw(batch_shape(1, allow_empty=False)), draw(st.integers(1, 16)), *draw(batch_shape(1, False)))
    axis = draw(st.integers(0, len(shape) - 1))
    channels = (shape[axis],)
    scale = T(channels, fill="uniform", low=0.005, high=0.3, dtype="float32")
    zero_point = T(channels, fill="index", low=quant_min, high=quant_max + 1, dtype="int32")
    x = _input(draw, shape, 0.15, quant_min, quant_max)
    return Example(args=(x, scale, zero_point, axis, quant_min, quant_max), dtype=draw(float_dtypes), seed=draw(seeds))


def _channels(n: int, zero: int = 0) -> tuple[T, T]:
    return T((n,), fill="uniform", low=0.05, high=0.2, dtype="float32"), T(
        (n,), fill="index", low=zero, high=zero + 1, dtype="int32"
    )


ENTRIES = [
    Entry(
        name="fake_quantize_per_tensor_affine",
        path="fake_quantize_per_tensor_affine",
        kind="function",
        page="fake_quantize",
        checks=(*CALL_CHECKS, "dtype", "errors"),
        examples=_per_tensor(),
        errors=(
            ErrorCase("quant_min above quant_max", Example(args=(T((3,)), 0.1, 0, 5, 3))),
            ErrorCase("zero_point above quant_max", Example(args=(T((3,)), 0.1, 200, -128, 127))),
            ErrorCase("zero_point below quant_min", Example(args=(T((3,)), 0.1, -1, 0, 255))),
        ),
    ),
    Entry(
        name="fake_quantize_per_channel_affine",
        path="fake_quantize_per_channel_affine",
        kind="function",
        page="fake_quantize",
        checks=(*CALL_CHECKS, "dtype", "errors"),
        examples=_per_channel(),
        errors=(
            ErrorCase("quant_min above quant_max", Example(args=(T((3, 4)), *_channels(3), 0, 5, 3))),
            ErrorCase("a zero_point outside the range", Example(args=(T((3, 4)), *_channels(3, 200), 0, -128, 127))),
            ErrorCase("axis past the last dimension", Example(args=(T((3, 4)), *_channels(3), 2, -128, 127))),
            ErrorCase("a negative axis", Example(args=(T((4, 3)), *_channels(3), -1, -128, 127))),
            ErrorCase("fewer scales than channels", Example(args=(T((3, 4)), *_channels(2), 0, -128, 127))),
            ErrorCase(
                "scale and zero_point of different lengths",
                Example(args=(T((3, 4)), _channels(3)[0], _channels(2)[1], 0, -128, 127)),
            ),
        ),
    ),
]
