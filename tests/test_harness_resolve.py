"""nnresolve: finding components by torch-style path, overrides, and map files."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from nnresolve import Implementation, MissingComponent, import_object, load_map_file


def test_torch_paths_resolve_to_torch_objects() -> None:
    impl = Implementation("torch")
    assert impl.name == "torch"
    assert impl.get("nn.Linear") is torch.nn.Linear
    assert impl.get("nn.functional.layer_norm") is torch.nn.functional.layer_norm
    assert impl.get("optim.AdamW") is torch.optim.AdamW
    assert impl.has("nn.init.trunc_normal_")
    assert not impl.has("nn.NoSuchLayer")
    assert repr(impl) == "Implementation('torch')"


def test_a_submodule_is_imported_only_where_the_attribute_is_absent() -> None:
    # tests.planted is a package whose submodules are not attributes until imported.
    impl = Implementation("tests")
    assert impl.get("planted.torchlike.torch_like").__name__ == "torch_like"


def test_missing_component_names_implementation_path_and_reason() -> None:
    impl = Implementation("tests.planted.partial_linear")
    with pytest.raises(MissingComponent) as info:
        impl.get("nn.functional.linear")
    assert info.value.implementation == "tests.planted.partial_linear"
    assert info.value.path == "nn.functional.linear"
    assert info.value.reason == "tests.planted.partial_linear.nn.functional does not exist"
    assert str(info.value) == (
        "tests.planted.partial_linear has no nn.functional.linear: "
        "tests.planted.partial_linear.nn.functional does not exist"
    )


def test_a_missing_submodule_is_missing_but_a_broken_import_is_not(
    write_packages: Callable[[Mapping[str, str]], None],
) -> None:
    write_packages({"brokenpkg/nn.py": "import module_that_does_not_exist\n"})
    impl = Implementation("brokenpkg")
    with pytest.raises(MissingComponent, match=r"brokenpkg\.optim does not exist"):
        impl.get("optim.AdamW")
    # The implementation's own import error is its bug, not a missing component: it must surface.
    with pytest.raises(ModuleNotFoundError, match="module_that_does_not_exist"):
        impl.get("nn.Linear")


def test_a_namespace_object_works_as_an_implementation() -> None:
    ns = SimpleNamespace(__name__="mine", nn=SimpleNamespace(Linear=torch.nn.Linear))
    impl = Implementation(ns)
    assert impl.name == "mine"
    assert impl.get("nn.Linear") is torch.nn.Linear
    with pytest.raises(MissingComponent, match=r"mine\.nn\.functional does not exist"):
        impl.get("nn.functional.linear")
    assert Implementation(SimpleNamespace()).name == "SimpleNamespace"


def test_lookups_are_cached() -> None:
    impl = Implementation("torch")
    assert impl.get("nn.GELU") is impl.get("nn.GELU")
    assert "nn.GELU" in impl._cache


def test_root_may_be_an_object_path() -> None:
    impl = Implementation("tests.planted.bug_linear_bias_twice:nn")
    assert impl.get("Linear").__module__ == "tests.planted.bug_linear_bias_twice"


@pytest.mark.parametrize("key", ["Linear", "nn.Linear"], ids=["short", "full"])
def test_override_by_short_or_full_key(key: str) -> None:
    impl = Implementation("tests.planted.partial_linear", {key: "tests.planted.correct_remapped.layers:Dense"})
    assert impl.get("nn.Linear").__name__ == "Dense"
    assert impl.source("nn.Linear") == "tests.planted.correct_remapped.layers:Dense"
    assert impl.source("nn.functional.linear") == "tests.planted.partial_linear"
    # failure messages name the object that is called, wherever it lives
    assert impl.qualname("nn.Linear") == "tests.planted.correct_remapped.layers.Dense"
    assert impl.qualname("nn.functional.linear") == "tests.planted.partial_linear.nn.functional.linear"
    assert "overrides=" in repr(impl)


def test_full_key_wins_over_short_key() -> None:
    impl = Implementation(
        "torch", {"linear": "tests.planted.bug_linear_truncates_input", "nn.functional.linear": "torch"}
    )
    assert impl.get("nn.functional.linear") is torch.nn.functional.linear


def test_override_naming_another_implementation_takes_its_component() -> None:
    impl = Implementation("tests.planted.partial_linear", {"linear": "torch"})
    assert impl.get("nn.functional.linear") is torch.nn.functional.linear
    assert impl.qualname("nn.functional.linear") == "torch.nn.functional.linear"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("tests.planted.correct_remapped.layers:NoSuchClass", "has no attribute 'NoSuchClass'"),
        ("no_such_package_anywhere:Dense", "No module named 'no_such_package_anywhere'"),
    ],
)
def test_override_that_does_not_import_is_missing_with_its_reason(value: str, reason: str) -> None:
    impl = Implementation("torch", {"Linear": value})
    with pytest.raises(MissingComponent) as info:
        impl.get("nn.Linear")
    assert info.value.reason.startswith(f"override {value!r} failed: ")
    assert reason in info.value.reason
    assert not impl.has("nn.Linear")


def test_import_object() -> None:
    assert import_object("torch.nn:Linear") is torch.nn.Linear
    assert import_object("torch.nn:functional.gelu") is torch.nn.functional.gelu
    assert import_object("torch.nn") is torch.nn


def test_map_file_with_components_table(maps_dir: Path) -> None:
    assert load_map_file(maps_dir / "correct_remapped.toml") == {
        "Linear": "tests.planted.correct_remapped.layers:Dense",
        "nn.functional.linear": "tests.planted.correct_remapped.functions:affine",
    }


def test_map_file_without_a_table_is_read_as_the_table(tmp_path: Path) -> None:
    path = tmp_path / "flat.toml"
    path.write_text('LayerNorm = "torch"\n"nn.functional.gelu" = "mylib.act:gelu"\n')
    assert load_map_file(str(path)) == {"LayerNorm": "torch", "nn.functional.gelu": "mylib.act:gelu"}


def test_map_file_with_a_non_string_value_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[components]\nLinear = 3\nGELU = "torch"\n')
    with pytest.raises(ValueError, match=r"values must be strings like 'mylib.layers:Dense', got \{'Linear': 3\}"):
        load_map_file(path)


def test_map_file_that_is_not_toml_or_absent_raises(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("Linear = \n")
    with pytest.raises(ValueError, match=r"broken\.toml: not valid TOML: Invalid value \(at line 1, column 10\)$"):
        load_map_file(path)
    with pytest.raises(ValueError, match=r"^map file '.*absent\.toml' is not a file$"):
        load_map_file(tmp_path / "absent.toml")
