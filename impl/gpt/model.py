"""A GPT-2 style language model whose every building block comes from a component namespace.

After nanoGPT's ``model.py``: token and learned position embeddings, pre-LayerNorm blocks of causal multi-head
self-attention and a 4x GELU MLP, a final LayerNorm and an output head tied to the token embedding. Three switches
turn it into a more modern decoder: rotary instead of learned positions (``pos``), RMSNorm instead of LayerNorm
(``norm``), and grouped-query attention (``n_kv_head``). A key/value cache makes decoding cost one position per
token (``new_kv_cache``, ``generate(use_kv_cache=True)``). Shapes use B (batch), T (time), C (n_embd),
nh (n_head), nkv (n_kv_head), hs (head size = C // nh), V (vocab_size).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from impl.gpt.components import ComponentModule, Components
from impl.nn.kv_cache import KVCache, LayerKVCache, causal_attention_kwargs

__all__ = ["GPT", "GPTConfig", "GPTConfigError"]


class GPTConfigError(ValueError):
    """A :class:`GPTConfig` value the model cannot take: ``field`` names it (None for a rule between fields), so that
    a caller holding the value under another name (``impl.train``'s ``model.n_head``) can report it as its own."""

    def __init__(self, field: str | None, reason: str) -> None:
        self.field, self.reason = field, reason
        super().__init__(self.named("GPTConfig"))

    def named(self, owner: str) -> str:
        """The message with the field under ``owner``: ``"model.n_embd (128) must be ..."``."""
        return f"{owner}: {self.reason}" if self.field is None else f"{owner}.{self.field} {self.reason}"


@dataclass
class GPTConfig:
    """Hyperparameters of :class:`GPT`.

    Args:
        block_size: longest context, in tokens (the number of learned positions).
        vocab_size: number of token ids.
        n_layer: number of transformer blocks.
        n_head: attention heads per block; must divide ``n_embd``.
        n_embd: width of the residual stream.
        dropout: dropout probability on embeddings, attention weights and residual branches.
        bias: whether Linear and LayerNorm layers carry a bias.
        gelu_approximate: ``"none"`` (exact GELU) or ``"tanh"`` (the approximation GPT-2 was trained with).
        mlp: ``"gelu"``, GPT-2's feed-forward (C -> 4C, GELU, 4C -> C), or ``"swiglu"``, LLaMA's
            (:class:`SwiGLU`, about as many parameters).
        pos: ``"learned"`` position embeddings (GPT-2) or ``"rope"``, rotary embeddings of queries and keys.
        norm: ``"layernorm"`` (GPT-2) or ``"rmsnorm"``.
        n_kv_head: key/value heads per block, dividing ``n_head``; None (or ``n_head``) is multi-head attention,
            1 multi-query attention, anything between grouped-query attention.
        max_seq_len: with ``pos="rope"``, the longest sequence the model accepts (its rotary table); None means
            ``block_size``. Learned positions stop at ``block_size``.
        rope_base: the wavelength base of the rotary angles.
    """

    block_size: int = 1024
    vocab_size: int = 50304
    n_layer: int = 12
    n_head: int = 12
    n_embd: int = 768
    dropout: float = 0.0
    bias: bool = True
    gelu_approximate: str = "none"
    mlp: str = "gelu"
    pos: str = "learned"
    norm: str = "layernorm"
    n_kv_head: int | None = None
    max_seq_len: int | None = None
    rope_base: float = 10000.0

    def __post_init__(self) -> None:
        for name in ("block_size", "vocab_size", "n_layer", "n_head", "n_embd"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise GPTConfigError(name, f"must be a positive int, got {value!r}")
        if self.n_embd % self.n_head:
            raise GPTConfigError("n_embd", f"({self.n_embd}) must be divisible by n_head ({self.n_head})")
        if not 0.0 <= self.dropout < 1.0:
            raise GPTConfigError("dropout", f"must be in [0, 1), got {self.dropout!r}")
        if self.gelu_approximate not in ("none", "tanh"):
            raise GPTConfigError("gelu_approximate", f"must be 'none' or 'tanh', got {self.gelu_approximate!r}")
        if self.mlp not in ("gelu", "swiglu"):
            raise GPTConfigError("mlp", f"must be 'gelu' or 'swiglu', got {self.mlp!r}")
        if self.pos not in ("learned", "rope"):
            raise GPTConfigError("pos", f"must be 'learned' or 'rope', got {self.pos!r}")
        if self.norm not in ("layernorm", "rmsnorm"):
            raise GPTConfigError("norm", f"must be 'layernorm' or 'rmsnorm', got {self.norm!r}")
        if self.kv_heads < 1 or self.n_head % self.kv_heads:
            raise GPTConfigError("n_kv_head", f"({self.n_kv_head}) must divide n_head ({self.n_head})")
        if self.pos == "rope" and not 0.0 < self.rope_base < math.inf:  # unused by learned positions
            raise GPTConfigError("rope_base", f"must be a positive number, got {self.rope_base!r}")
        if self.pos == "rope" and (self.n_embd // self.n_head) % 2:
            raise GPTConfigError(None, f"rotary positions need an even head size, got {self.n_embd // self.n_head}")
        if self.max_seq_len is not None and (self.max_seq_len < self.block_size or self.pos == "learned"):
            raise GPTConfigError(
                "max_seq_len",
                f"({self.max_seq_len}) needs pos='rope' and must be >= block_size "
                f"({self.block_size}); learned positions stop at block_size",
            )

    @property
    def kv_heads(self) -> int:
        """Key/value heads per block (``n_kv_head``, or ``n_head`` when that is None)."""
        return self.n_head if self.n_kv_head is None else self.n_kv_head

    @property
    def mlp_hidden(self) -> int:
        """The feed-forward's hidden width: 4C for GELU; for SwiGLU two thirds of that, rounded up to a multiple of
        8, so that its three matrices hold about as many parameters as GELU's two."""
        if self.mlp == "gelu":
            return 4 * self.n_embd
        return 8 * -(-self.n_embd // 3)  # ceil(8C/3 / 8) * 8

    @property
    def context_len(self) -> int:
        """The longest sequence the model takes: ``block_size``, or ``max_seq_len`` with rotary positions."""
        return self.max_seq_len or self.block_size


def norm_layer(config: GPTConfig, nn: Components) -> Any:
    """The normalisation the config asks for, over the residual stream's width."""
    if config.norm == "rmsnorm":
        return nn.RMSNorm(config.n_embd)
    return nn.LayerNorm(config.n_embd, bias=config.bias)


class CausalSelfAttention(ComponentModule):
    """Self-attention where position t attends to positions <= t, with nh query heads sharing nkv key/value heads.

    With a cache, ``x`` holds only the new positions: their keys and values are appended to the layer's cache and
    the queries attend over everything stored, under the bottom-right aligned causal mask.
    """

    def __init__(self, config: GPTConfig, nn: Components) -> None:
        super().__init__()
        self.n_head, self.n_kv_head = config.n_head, config.kv_heads
        self.head_size = config.n_embd // config.n_head
        qkv = (self.n_head + 2 * self.n_kv_head) * self.head_size
        self.c_attn = nn.Linear(config.n_embd, qkv, bias=config.bias)  # q, k, v in one matmul
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = config.dropout
        self.resid_dropout = nn.Dropout(config.dropout)
        self.attention = nn.scaled_dot_product_attention
        self.rope = None
        if config.pos == "rope":
            self.rope = nn.RotaryEmbedding(self.head_size, config.context_len, base=config.rope_base)

    def forward(self, x: Tensor, cache: LayerKVCache | None = None) -> Tensor:
        B, T, C = x.shape
        nh, nkv, hs = self.n_head, self.n_kv_head, self.head_size
        past = 0 if cache is None else cache.length
        q, k, v = self.c_attn(x).split([nh * hs, nkv * hs, nkv * hs], dim=2)
        q = q.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, nkv, hs).transpose(1, 2)  # (B, nkv, T, hs)
        v = v.view(B, T, nkv, hs).transpose(1, 2)  # (B, nkv, T, hs)
        if self.rope is not None:  # rotate by the absolute positions past .. past + T - 1
            q, k = self.rope(q, offset=past), self.rope(k, offset=past)
        if cache is not None:
            k, v = cache.update(k, v)  # (B, nkv, past + T, hs)
        y = self.attention(
            q,
            k,
            v,
            dropout_p=self.dropout if self.training else 0.0,
            enable_gqa=nkv != nh,
            **causal_attention_kwargs(T, past + T, x.device),
        )  # (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # heads side by side again
        return self.resid_dropout(self.c_proj(y))  # (B, T, C)


class MLP(ComponentModule):
    """Position-wise feed-forward: Linear C -> 4C, GELU, Linear 4C -> C, dropout."""

    def __init__(self, config: GPTConfig, nn: Components) -> None:
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU(approximate=config.gelu_approximate)
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))  # (B, T, C) -> (B, T, 4C) -> (B, T, C)


class SwiGLU(ComponentModule):
    """LLaMA's feed-forward (Shazeer, 2020): ``c_proj(SiLU(c_fc(x)) * c_up(x))``, then dropout; hidden width H =
    ``config.mlp_hidden`` (about 8C/3)."""

    def __init__(self, config: GPTConfig, nn: Components) -> None:
        super().__init__()
        hidden = config.mlp_hidden
        self.c_fc = nn.Linear(config.n_embd, hidden, bias=config.bias)  # the gate, through SiLU
        self.c_up = nn.Linear(config.n_embd, hidden, bias=config.bias)
        self.silu = nn.SiLU()
        self.c_proj = nn.Linear(hidden, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.c_proj(self.silu(self.c_fc(x)) * self.c_up(x)))  # (B, T, C) -> (B, T, H) -> (B, T, C)


class Block(ComponentModule):
    """A pre-norm transformer block: ``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``."""

    def __init__(self, config: GPTConfig, nn: Components) -> None:
        super().__init__()
        self.ln_1 = norm_layer(config, nn)
        self.attn = CausalSelfAttention(config, nn)
        self.ln_2 = norm_layer(config, nn)
        self.mlp = SwiGLU(config, nn) if config.mlp == "swiglu" else MLP(config, nn)

    def forward(self, x: Tensor, cache: LayerKVCache | None = None) -> Tensor:
        x = x + self.attn(self.ln_1(x), cache)
        return x + self.mlp(self.ln_2(x))


class GPT(ComponentModule):
    r"""GPT-2 style decoder-only transformer.

    .. math::
        h_0 = \mathrm{drop}(W_{te}[\mathrm{idx}] + W_{pe}[0..T)), \quad h_l = \mathrm{Block}_l(h_{l-1}), \quad
        \mathrm{logits} = \mathrm{LayerNorm}(h_L)\, W_{te}^\top

    Weights follow GPT-2's initialisation: N(0, 0.02) for Linear and Embedding weights, zero biases, and
    N(0, 0.02 / sqrt(2 n_layer)) for the projections that write into the residual stream (``c_proj``).

    Args:
        config: the hyperparameters.
        components: where the building blocks come from (the model's ``Module`` base included);
            default ``Components()``, everything from ``impl``.

    Shape:
        - idx: (B, T) token ids, T <= block_size (``max_seq_len`` with rotary positions). With ``kv_cache``, only
          the new tokens, at positions ``kv_cache.length ..``.
        - targets: (B, T) token ids, or None.
        - Output: logits (B, T, V), and the mean cross-entropy loss (a scalar) or None without targets.

    Example::

        >>> model = GPT(GPTConfig(block_size=8, vocab_size=10, n_layer=1, n_head=2, n_embd=8), Components("torch"))
        >>> logits, loss = model(torch.zeros(2, 8, dtype=torch.long), torch.ones(2, 8, dtype=torch.long))
        >>> logits.shape
        torch.Size([2, 8, 10])
    """

    def __init__(self, config: GPTConfig, components: Components | None = None) -> None:
        super().__init__()
        nn = components if components is not None else Components()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.block_size, config.n_embd) if config.pos == "learned" else None
        self.drop = nn.Dropout(config.dropout)
        self.h = nn.ModuleList([Block(config, nn) for _ in range(config.n_layer)])
        self.ln_f = norm_layer(config, nn)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.wte.weight = self.lm_head.weight  # tied: one (V, C) matrix embeds tokens and scores them
        self.cross_entropy = nn.cross_entropy
        self.softmax = nn.softmax

        proj_std = 0.02 / math.sqrt(2 * config.n_layer)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                nn.normal_(p, mean=0.0, std=proj_std if name.endswith("c_proj.weight") else 0.02)
            elif name.endswith("bias"):
                nn.zeros_(p)

    def num_params(self) -> int:
        """Number of parameters, the tied embedding counted once."""
        return sum(p.numel() for p in {id(p): p for p in self.parameters()}.values())

    def forward(
        self, idx: Tensor, targets: Tensor | None = None, kv_cache: KVCache | None = None
    ) -> tuple[Tensor, Tensor | None]:
        B, T = idx.shape
        past = 0 if kv_cache is None else kv_cache.length
        if past + T > self.config.context_len:
            limit = "max_seq_len" if self.config.pos == "rope" else "block_size"
            raise ValueError(f"sequence length {past + T} exceeds {limit} {self.config.context_len}")
        x = self.wte(idx)  # (B, T, C)
        if self.wpe is not None:
            x = x + self.wpe(torch.arange(past, past + T, device=idx.device))  # positions past .. past + T - 1
        x = self.drop(x)
        for i, block in enumerate(self.h):
            x = block(x, None if kv_cache is None else kv_cache[i])  # (B, T, C)
        logits = self.lm_head(self.ln_f(x))  # (B, T, V)
        if targets is None:
            return logits, None
        loss = self.cross_entropy(logits.view(B * T, -1), targets.reshape(B * T))
        return logits, loss

    def optim_groups(self, weight_decay: float) -> list[dict[str, Any]]:
        """Parameter groups for AdamW: weight decay on matrices (2-D: Linear and Embedding weights) only."""
        params = list({id(p): p for p in self.parameters() if p.requires_grad}.values())
        return [
            {"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
            {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
        ]

    def new_kv_cache(self, batch_size: int) -> KVCache:
        """An empty key/value cache for decoding ``batch_size`` sequences of up to ``config.context_len`` tokens."""
        c = self.config
        w = self.lm_head.weight
        return KVCache(c.n_layer, batch_size, c.kv_heads, c.n_embd // c.n_head, c.context_len, w.dtype, w.device)

    def generate(
        self,
        idx: Tensor,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        generator: torch.Generator | None = None,
        use_kv_cache: bool = True,
    ) -> Tensor:
        """Extend ``idx`` (B, T) by ``max_new_tokens`` tokens, each sampled from the model's next-token distribution.

        ``temperature`` divides the logits (0 picks the most likely token: greedy decoding); ``top_k`` keeps only
        the k most likely tokens. Call ``eval()`` first so that dropout is off. Returns (B, T + max_new_tokens).

        With ``use_kv_cache`` each step runs the model over the new token only; the tokens are the same as without
        (up to rounding). Past ``config.context_len`` the context is cropped to its last ``context_len`` tokens;
        then every position shifts, so the cache is refilled from the cropped context at each step.
        """
        steps = self.stream(idx, max_new_tokens, temperature, top_k, generator, use_kv_cache)
        return torch.cat([idx, *steps], dim=1)

    def stream(
        self,
        idx: Tensor,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        generator: torch.Generator | None = None,
        use_kv_cache: bool = True,
    ) -> Iterator[Tensor]:
        """:meth:`generate`'s new tokens one step at a time: an iterator of (B, 1) tensors, each yielded as soon as
        it is drawn (to print text as it comes). The arguments are checked here, before the first step."""
        if not 0 <= temperature < math.inf:  # also refuses nan, which would make every probability nan
            raise ValueError(f"temperature must be finite and >= 0, got {temperature}")
        if top_k is not None and top_k < 1:
            raise ValueError(f"top_k must be >= 1 or None, got {top_k}")
        return self._steps(idx, max_new_tokens, temperature, top_k, generator, use_kv_cache)

    @torch.no_grad()  # on a generator, torch enters and leaves the mode around each step
    def _steps(
        self,
        idx: Tensor,
        max_new_tokens: int,
        temperature: float,
        top_k: int | None,
        generator: torch.Generator | None,
        use_kv_cache: bool,
    ) -> Iterator[Tensor]:
        n = self.config.context_len
        cache = self.new_kv_cache(idx.size(0)) if use_kv_cache else None
        for _ in range(max_new_tokens):
            context = idx[:, -n:]  # (B, T'), T' <= context_len
            if cache is not None:
                if idx.size(1) > n:
                    cache.reset()  # cropped: what the cache holds sits at positions that have moved
                context = context[:, cache.length :]  # the tokens the cache has not seen
            logits, _ = self(context, kv_cache=cache)  # (B, T'', V)
            logits = logits[:, -1, :]  # (B, V): the prediction for the next position
            if temperature == 0:
                idx_next = logits.argmax(dim=-1, keepdim=True)  # (B, 1)
            else:
                logits = logits / temperature
                if top_k is not None:
                    kth = torch.topk(logits, min(top_k, logits.size(-1))).values[:, [-1]]  # (B, 1)
                    logits = logits.masked_fill(logits < kth, float("-inf"))
                probs = self.softmax(logits, dim=-1)
                idx_next = torch.multinomial(probs, num_samples=1, generator=generator)  # (B, 1)
            idx = torch.cat((idx, idx_next), dim=1)
            yield idx_next

    @classmethod
    def from_gpt2(
        cls,
        state_dict: dict[str, Tensor],
        n_head: int,
        components: Components | None = None,
        gelu_approximate: str = "tanh",
    ) -> GPT:
        """Build a GPT from a Hugging Face ``GPT2LMHeadModel.state_dict()``; see :mod:`impl.gpt.gpt2_weights`."""
        from impl.gpt.gpt2_weights import from_gpt2

        return from_gpt2(state_dict, n_head, components, gelu_approximate)
