"""Contracts at run time: classes built from the spec, strict conversion, JSON Schema.

``build_classes`` turns a spec's record and enum types into attrs classes and ``StrEnum``s;
``make_converter`` gives those classes one strict cattrs converter (``structure``,
``unstructure``, ``validate``); ``json_schema`` exports any type as JSON Schema 2020-12;
``matches_pattern`` is the attrs validator generated classes give a field with a ``pattern``
(RE2: linear time).
"""

from fsm.contracts.build import ContractClasses, build_classes
from fsm.contracts.convert import ContractConverter, make_converter
from fsm.contracts.schema import json_schema
from fsm.pattern_engine import matches_pattern

__all__ = [
    "ContractClasses",
    "ContractConverter",
    "build_classes",
    "json_schema",
    "make_converter",
    "matches_pattern",
]
