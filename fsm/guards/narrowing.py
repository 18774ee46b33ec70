"""What a boolean guard expression proves about which places are not None.

A ``Facts`` value holds the paths known non-None when an expression is true and when it is
false. ``and``/``or``/``not`` combine them exactly as their evaluation does, so the checker can
accept ``review is not None and review.score > 0.8`` and the flow analysis can learn that
``review`` is set after a transition guarded by it.
"""

from __future__ import annotations

from typing import Literal

import attrs

from fsm.guards.nodes import Path


@attrs.frozen
class Facts:
    if_true: frozenset[Path] = frozenset()
    if_false: frozenset[Path] = frozenset()

    @classmethod
    def is_none(cls, path: Path, *, negated: bool) -> Facts:
        """``path is not None`` proves it when true; ``path is None`` when false."""
        proven = frozenset({path})
        return cls(if_true=proven) if negated else cls(if_false=proven)

    def negated(self) -> Facts:
        return Facts(if_true=self.if_false, if_false=self.if_true)

    def assumed(self, op: Literal["and", "or"]) -> frozenset[Path]:
        """What holds while evaluating the next operand: ``and`` continues only when true."""
        return self.if_true if op == "and" else self.if_false

    def combine(self, op: Literal["and", "or"], right: Facts) -> Facts:
        """Facts of ``self <op> right`` (``right`` was checked under ``assumed(op)``)."""
        if op == "and":
            # False when the left is false, or the left is true and the right false.
            return Facts(
                if_true=self.if_true | right.if_true,
                if_false=self.if_false & (self.if_true | right.if_false),
            )
        return Facts(
            if_true=self.if_true & (self.if_false | right.if_true),
            if_false=self.if_false | right.if_false,
        )
