"""A character-level tokenizer: every distinct character of a text is one token."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["CharTokenizer"]


class CharTokenizer:
    """Maps characters to ids 0..V-1 (in the order given) and back.

    Args:
        chars: the vocabulary, each character once.

    Example::

        >>> tok = CharTokenizer.from_text("hello")
        >>> tok.chars, tok.encode("hell"), tok.decode([3, 2])
        ('ehlo', [1, 0, 2, 2], 'ol')
    """

    def __init__(self, chars: str) -> None:
        if not chars:
            raise ValueError("vocabulary must hold at least one character, got an empty string")
        if len(set(chars)) != len(chars):
            dupes = sorted({c for c in chars if chars.count(c) > 1})
            raise ValueError(f"vocabulary characters must be distinct; repeated: {dupes}")
        self.chars = chars
        self.stoi = {c: i for i, c in enumerate(chars)}

    @classmethod
    def from_text(cls, text: str) -> CharTokenizer:
        """The vocabulary of every distinct character of ``text``, sorted by code point."""
        return cls("".join(sorted(set(text))))

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``; raises ``ValueError`` naming the first character not in the vocabulary."""
        try:
            return [self.stoi[c] for c in text]
        except KeyError as exc:
            ch = exc.args[0]
            pos = text.index(ch)
            raise ValueError(
                f"character {ch!r} (U+{ord(ch):04X}) at position {pos} is not in the vocabulary of "
                f"{self.vocab_size} characters"
            ) from None

    def decode(self, ids: Iterable[int]) -> str:
        """The text of token ids; raises ``ValueError`` for an id outside 0..V-1."""
        out = []
        for i in ids:
            i = int(i)
            if not 0 <= i < self.vocab_size:
                raise ValueError(f"token id {i} is out of range for a vocabulary of {self.vocab_size} characters")
            out.append(self.chars[i])
        return "".join(out)

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size})"
