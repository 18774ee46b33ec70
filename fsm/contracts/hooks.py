"""The one cattrs configuration contracts use: strict scalars, enums by value, no extra keys.

cattrs' defaults are lenient on purpose (``int("3")``, ``int(3.7)``); contracts are not. Data
is always checked with ``fsm.values.check_value`` before it reaches cattrs, so these hooks are a
second line of defence that also normalises: an ``int`` in a ``float`` field becomes a
``float``, and ``str``/``int`` subclasses become the plain builtin. Hooks are registered on a
fresh converter, never on cattrs' global one.
"""

from __future__ import annotations

import enum
from typing import Any

import cattrs


def new_cattrs_converter() -> cattrs.Converter:
    """A converter configured for contract classes; the caller owns it."""
    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(float, _structure_float)
    converter.register_structure_hook(str, _structure_str)
    # StrEnum comes before str in a contract enum's MRO, so these win over the str hooks.
    converter.register_structure_hook(enum.StrEnum, _structure_enum)
    converter.register_unstructure_hook(enum.StrEnum, _unstructure_enum)
    return converter


def _structure_bool(value: object, _: type[Any]) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected bool, got {value!r}")
    return value


def _structure_int(value: object, _: type[Any]) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected int, got {value!r}")
    return int.__int__(value)  # the value that was checked, whatever a subclass's __int__ says


def _structure_float(value: object, _: type[Any]) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected float, got {value!r}")
    # the value that was checked, whatever a subclass's own __float__ says
    return float.__float__(value) if isinstance(value, float) else int.__float__(value)


def _structure_str(value: object, _: type[Any]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected str, got {value!r}")
    return str.__str__(value)


def _structure_enum(value: object, enum_class: type[enum.StrEnum]) -> enum.StrEnum:
    if not isinstance(value, str):
        raise TypeError(f"expected one of {[m.value for m in enum_class]}, got {value!r}")
    return enum_class(value)


def _unstructure_enum(member: enum.StrEnum | str) -> str:
    """The member's text; plain text an agent put in an enum field passes on to be checked."""
    return member.value if isinstance(member, enum.Enum) else member
