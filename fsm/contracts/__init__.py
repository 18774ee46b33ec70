"""Contracts at run time: classes built from the spec, strict conversion, JSON Schema.

``build_classes`` turns a spec's record and enum types into attrs classes and ``StrEnum``s;
``make_converter`` gives those classes one strict cattrs converter (``structure``,
``unstructure``, ``validate``); ``json_schema`` exports any type as JSON Schema 2020-12.
"""

from fsm.contracts.build import ContractClasses, build_classes
from fsm.contracts.convert import ContractConverter, make_converter
from fsm.contracts.schema import json_schema

__all__ = ["ContractClasses", "ContractConverter", "build_classes", "json_schema", "make_converter"]
