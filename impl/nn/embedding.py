"""``Embedding``: a lookup table of learnable vectors."""

from __future__ import annotations

import torch
from torch import Tensor

from impl.nn import init
from impl.nn.functional.embedding import embedding, normalize_padding_idx
from impl.nn.module import Module
from impl.nn.parameter import Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    r"""A lookup table that stores embeddings of a fixed dictionary and size.

    Args:
        num_embeddings: size of the dictionary of embeddings.
        embedding_dim: the size of each embedding vector.
        padding_idx: if given, the entries at ``padding_idx`` do not contribute to the gradient; the row is
            initialised to zeros. Negative values count from the end.
        max_norm: if given, each embedding vector looked up with norm larger than ``max_norm`` is renormalised
            in place to have norm ``max_norm``.
        norm_type: the p of the p-norm for ``max_norm``. Default: ``2.0``.
        scale_grad_by_freq: scale gradients by the inverse frequency of the words in the mini-batch.
        sparse: sparse gradients are not supported; ``True`` raises ``NotImplementedError``.
        device: device of the weight. Default: torch's default device.
        dtype: dtype of the weight. Default: torch's default dtype.

    Attributes:
        weight: the learnable table of shape :math:`(\text{num\_embeddings}, \text{embedding\_dim})`,
            initialised from :math:`\mathcal{N}(0, 1)`.

    Shape:
        - Input: :math:`(*)`, ``torch.long`` or ``torch.int`` indices
        - Output: :math:`(*, H)` where :math:`H = \text{embedding\_dim}`

    Example::

        >>> emb = Embedding(10, 3)
        >>> emb(torch.tensor([[1, 2, 4, 5], [4, 3, 2, 9]])).shape
        torch.Size([2, 4, 3])
    """

    num_embeddings: int
    embedding_dim: int
    padding_idx: int | None
    max_norm: float | None
    norm_type: float
    scale_grad_by_freq: bool
    weight: Tensor
    sparse: bool

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight: Tensor | None = None,
        _freeze: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        if sparse:
            raise NotImplementedError("Embedding(sparse=True): sparse gradients are not supported")
        factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = normalize_padding_idx(padding_idx, num_embeddings)
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        if _weight is None:
            self.weight = Parameter(
                torch.empty((num_embeddings, embedding_dim), **factory_kwargs),  # type: ignore[arg-type]
                requires_grad=not _freeze,
            )
            self.reset_parameters()
        else:
            if list(_weight.shape) != [num_embeddings, embedding_dim]:
                raise AssertionError(
                    f"Shape of weight does not match num_embeddings and embedding_dim: expected "
                    f"{[num_embeddings, embedding_dim]}, got {list(_weight.shape)}"
                )
            self.weight = Parameter(_weight, requires_grad=not _freeze)
        self.sparse = sparse

    def reset_parameters(self) -> None:
        """Re-draw the table from :math:`\\mathcal{N}(0, 1)` and zero the padding row."""
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self) -> None:
        if self.padding_idx is not None:
            with torch.no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(self, input: Tensor) -> Tensor:
        return embedding(
            input, self.weight, self.padding_idx, self.max_norm, self.norm_type, self.scale_grad_by_freq, self.sparse
        )

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse is not False:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Tensor,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> Embedding:
        r"""Create an ``Embedding`` whose table is ``embeddings`` (shared, not copied).

        Args:
            embeddings: a 2-D tensor, :math:`(\text{num\_embeddings}, \text{embedding\_dim})`.
            freeze: if ``True`` the table is not updated in training (``requires_grad=False``). Default: ``True``.
            padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse: as for the constructor.

        Example::

            >>> emb = Embedding.from_pretrained(torch.tensor([[1.0, 2.3, 3.0], [4.0, 5.1, 6.3]]))
            >>> emb(torch.tensor([1]))
            tensor([[4.0000, 5.1000, 6.3000]])
        """
        if embeddings.dim() != 2:
            raise AssertionError(
                f"Embeddings parameter is expected to be 2-dimensional, but got shape {list(embeddings.shape)}"
            )
        rows, cols = embeddings.shape
        return cls(
            num_embeddings=rows,
            embedding_dim=cols,
            _weight=embeddings,
            _freeze=freeze,
            padding_idx=padding_idx,
            max_norm=max_norm,
            norm_type=norm_type,
            scale_grad_by_freq=scale_grad_by_freq,
            sparse=sparse,
        )
