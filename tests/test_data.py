"""Tokenizer, bundled text, train/val split and the seeded batch sampler."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from impl.data import BatchSampler, load_text, train_val_split
from impl.tokenizer import CharTokenizer


def test_tokenizer_round_trip_and_order() -> None:
    tok = CharTokenizer.from_text("hello, world")
    assert tok.chars == " ,dehlorw"
    assert tok.vocab_size == 9
    ids = tok.encode("hello")
    assert ids == [4, 3, 5, 5, 6]
    assert tok.decode(ids) == "hello"
    assert tok.decode(torch.tensor(ids)) == "hello"


def test_tokenizer_unknown_character_is_named() -> None:
    tok = CharTokenizer.from_text("abc")
    with pytest.raises(ValueError, match=r"character 'z' \(U\+007A\) at position 2 is not in the vocabulary of 3"):
        tok.encode("abz")
    with pytest.raises(ValueError, match="token id 3 is out of range for a vocabulary of 3"):
        tok.decode([0, 3])


def test_tokenizer_rejects_bad_vocabularies() -> None:
    with pytest.raises(ValueError, match="at least one character"):
        CharTokenizer("")
    with pytest.raises(ValueError, match=r"repeated: \['a'\]"):
        CharTokenizer("aba")


def test_bundled_tiny_shakespeare() -> None:
    text = load_text()
    assert text.startswith("First Citizen:")
    assert len(text) == 1_115_394
    tok = CharTokenizer.from_text(text)
    assert tok.vocab_size == 65
    assert tok.decode(tok.encode(text[:1000])) == text[:1000]


def test_other_text_file(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("naïve café\n", encoding="utf-8")
    assert load_text(path) == "naïve café\n"
    assert load_text(str(path)) == "naïve café\n"
    with pytest.raises(FileNotFoundError, match=r"missing\.txt"):
        load_text(tmp_path / "missing.txt")
    with pytest.raises(FileNotFoundError, match=r"^--text '.*missing\.txt' is not a file$"):
        load_text(tmp_path / "missing.txt", "--text")
    path.write_bytes("café".encode("latin-1"))
    with pytest.raises(
        ValueError, match=r"^data\.path '.*t\.txt' is not UTF-8 text: cannot decode byte 0xe9 at offset 3 "
    ):
        load_text(path)


def test_train_val_split_is_a_90_10_cut() -> None:
    data = torch.arange(1000)
    train, val = train_val_split(data)
    assert torch.equal(train, torch.arange(900)) and torch.equal(val, torch.arange(900, 1000))
    train, val = train_val_split(data, 0.5)
    assert len(train) == len(val) == 500
    with pytest.raises(ValueError, match="train_fraction"):
        train_val_split(data, 1.0)


def test_sampler_windows_are_shifted_slices_of_the_data() -> None:
    data = torch.arange(500) * 7 % 101
    x, y = BatchSampler(data, block_size=16, batch_size=8, generator=torch.Generator().manual_seed(3))()
    assert x.shape == y.shape == (8, 16) and x.dtype == torch.long
    for row_x, row_y in zip(x, y, strict=True):
        starts = [s for s in range(len(data) - 16) if torch.equal(data[s : s + 16], row_x)]
        assert starts, "every input row is a window of the data"
        assert any(torch.equal(data[s + 1 : s + 17], row_y) for s in starts)


def test_sampler_covers_the_last_window() -> None:
    data = torch.arange(10)
    sampler = BatchSampler(data, block_size=9, batch_size=4, generator=torch.Generator().manual_seed(0))
    x, y = sampler()  # only one window fits: 0..9
    assert torch.equal(x, torch.arange(9).expand(4, 9)) and torch.equal(y, torch.arange(1, 10).expand(4, 9))


def test_sampler_is_deterministic_and_resumable() -> None:
    data = torch.arange(10_000)
    a = BatchSampler(data, 8, 4, torch.Generator().manual_seed(7))
    b = BatchSampler(data, 8, 4, torch.Generator().manual_seed(7))
    first = [a()[0] for _ in range(3)]
    assert all(torch.equal(p, b()[0]) for p in first)
    state = a.generator.get_state()
    expected = a()[0]
    c = BatchSampler(data, 8, 4, torch.Generator().manual_seed(999))
    c.generator.set_state(state)
    assert torch.equal(c()[0], expected)
    assert not torch.equal(BatchSampler(data, 8, 4, torch.Generator().manual_seed(8))()[0], first[0])


def test_sampler_rejects_too_little_data() -> None:
    with pytest.raises(ValueError, match="data has 8 tokens; a window needs block_size \\+ 1 = 9"):
        BatchSampler(torch.arange(8), 8, 2, torch.Generator())
    with pytest.raises(ValueError, match="1-D"):
        BatchSampler(torch.zeros(2, 20), 8, 2, torch.Generator())
