"""The fast validator (fastjsonschema) and the explaining one (jsonschema) agree."""

from __future__ import annotations

import pytest

from appfn.catalog import load_catalog, make_context
from appfn.catalog.validation import _fast_context, _passes, context_validator

CATALOG = load_catalog()
WITH_EXAMPLES = [t.name for t in CATALOG if t.example_data]


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_both_validators_agree_on_every_mutation_of_the_example(name: str) -> None:
    example = CATALOG.get(name).example_data
    cases = [example] + [
        {**example, key: bad} for key in example for bad in ({"x": 1}, [1], True, 7, "text", None)
    ]
    for data in cases:
        context = make_context(name, data)
        slow_ok = not list(context_validator(name).iter_errors(context))
        assert _passes(_fast_context(name), context) == slow_ok, (name, data)
