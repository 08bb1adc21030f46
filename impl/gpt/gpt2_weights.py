"""Load GPT-2 weights in Hugging Face layout into :class:`~impl.gpt.model.GPT`.

Our parameter names are GPT-2's without the ``transformer.`` prefix (``h.0.attn.c_attn.weight``), so the mapping is
one-to-one. GPT-2 stores its Linear layers as ``Conv1D`` modules whose weight is (in_features, out_features), the
transpose of a Linear's (out_features, in_features), so those four matrices per block are transposed on the way in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from torch import Tensor

from impl.gpt.components import Components
from impl.gpt.model import GPT, GPTConfig

__all__ = ["from_gpt2"]

_CONV1D = re.compile(r"h\.\d+\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.weight")
# Causal-mask buffers that some transformers versions keep in the state_dict; we build our own mask.
_BUFFERS = re.compile(r"h\.\d+\.attn\.(bias|masked_bias)")


def from_gpt2(
    state_dict: Mapping[str, Tensor],
    n_head: int,
    components: Components | None = None,
    gelu_approximate: str = "tanh",
) -> GPT:
    """Build a GPT holding the weights of a Hugging Face GPT-2 model.

    Args:
        state_dict: ``GPT2LMHeadModel.state_dict()`` (keys ``transformer.h.0.attn.c_attn.weight``, ...,
            ``lm_head.weight``); a ``GPT2Model`` state_dict without the prefix and head works too.
        n_head: attention heads per block (the state_dict does not record it).
        components: where the model's building blocks come from; default everything from ``impl``.
        gelu_approximate: the MLP's activation; GPT-2 uses ``"tanh"`` (its ``gelu_new``).

    Returns:
        the model, in training mode as a freshly built one is; call ``eval()`` for inference.

    Example::

        >>> from transformers import GPT2Config, GPT2LMHeadModel
        >>> hf = GPT2LMHeadModel(GPT2Config(vocab_size=50, n_positions=16, n_embd=32, n_layer=2, n_head=2))
        >>> model = GPT.from_gpt2(hf.state_dict(), n_head=2)
    """
    sd = {k.removeprefix("transformer."): v for k, v in state_dict.items()}
    sd = {k: v for k, v in sd.items() if not _BUFFERS.fullmatch(k)}
    for required in ("wte.weight", "wpe.weight"):
        if required not in sd:
            raise KeyError(f"not a GPT-2 state_dict: no {required!r} (with or without 'transformer.'): {list(sd)[:5]}")
    if "lm_head.weight" in sd:
        if sd["lm_head.weight"].shape != sd["wte.weight"].shape or not sd["lm_head.weight"].equal(sd["wte.weight"]):
            raise ValueError("lm_head.weight differs from wte.weight; this GPT ties them and cannot hold both")
    else:
        sd["lm_head.weight"] = sd["wte.weight"]
    layers = {int(m.group(1)) for k in sd if (m := re.match(r"h\.(\d+)\.", k))}
    if layers != set(range(len(layers))):
        raise ValueError(f"GPT-2 state_dict has blocks {sorted(layers)}; expected 0..{len(layers) - 1}")
    vocab_size, n_embd = sd["wte.weight"].shape
    config = GPTConfig(
        block_size=sd["wpe.weight"].shape[0],
        vocab_size=vocab_size,
        n_layer=len(layers),
        n_head=n_head,
        n_embd=n_embd,
        dropout=0.0,
        bias="h.0.attn.c_attn.bias" in sd or "ln_f.bias" in sd,
        gelu_approximate=gelu_approximate,
    )
    model = GPT(config, components)
    ours = model.state_dict()
    missing = sorted(set(ours) - set(sd))
    unexpected = sorted(set(sd) - set(ours))
    if missing or unexpected:
        raise KeyError(f"GPT-2 state_dict does not fit: missing {missing}, unexpected {unexpected}")
    weights = {k: (v.t() if _CONV1D.fullmatch(k) else v).detach().contiguous() for k, v in sd.items()}
    for k, v in weights.items():
        if tuple(v.shape) != tuple(ours[k].shape):
            raise ValueError(f"{k}: GPT-2 weight has shape {tuple(v.shape)}, the model expects {tuple(ours[k].shape)}")
    model.load_state_dict(weights)
    return model
