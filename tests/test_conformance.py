"""The conformance suite, run by the pytest plugin over each implementation in ``conformance_impls`` (or --impl).

Each function runs one check; ids name implementation and component: ``test_backward[impl-LayerNorm]``.
"""

from conformance.api import Case


def test_forward(conformance_case: Case) -> None:
    conformance_case.run()


def test_backward(conformance_case: Case) -> None:
    conformance_case.run()


def test_no_grad(conformance_case: Case) -> None:
    conformance_case.run()


def test_strided(conformance_case: Case) -> None:
    conformance_case.run()


def test_half(conformance_case: Case) -> None:
    conformance_case.run()


def test_parameters(conformance_case: Case) -> None:
    conformance_case.run()


def test_state_dict(conformance_case: Case) -> None:
    conformance_case.run()


def test_repr(conformance_case: Case) -> None:
    conformance_case.run()


def test_init(conformance_case: Case) -> None:
    conformance_case.run()


def test_dtype(conformance_case: Case) -> None:
    conformance_case.run()


def test_stability(conformance_case: Case) -> None:
    conformance_case.run()


def test_errors(conformance_case: Case) -> None:
    conformance_case.run()


def test_random_mask(conformance_case: Case) -> None:
    conformance_case.run()


def test_semantics(conformance_case: Case) -> None:
    conformance_case.run()


def test_batches(conformance_case: Case) -> None:
    conformance_case.run()


def test_decoding(conformance_case: Case) -> None:
    conformance_case.run()


def test_trajectory(conformance_case: Case) -> None:
    conformance_case.run()


def test_resume(conformance_case: Case) -> None:
    conformance_case.run()


def test_properties(conformance_case: Case) -> None:
    conformance_case.run()
