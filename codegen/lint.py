"""What ruff would report in generated code because of spec text, and what codegen does about it.

**Names: a file-level exemption.** Spec names become Python names verbatim: a field
``textBody`` (JSON APIs use camelCase) must stay ``textBody`` or data would not round-trip.
pep8-naming then reports N815 (a mixedCase class attribute), N803 (a parameter of ``start()``),
N802 (``send_Approve``, an agent's scaffold function), N801 (a contract ``Review_Decision``)
and N999 (the scaffold module ``agents_impl/echoAgent.py``). Each generated file, and each
scaffold, carries one ``# ruff: noqa: <codes>`` line naming exactly the codes that occur in
it, rather than a ``# noqa`` on each line: the names sit on many kinds of lines (attributes,
parameters, ``def`` lines that layout may wrap), one line after the header says once why the
file differs from hand-written code, and it cannot interfere with layout. Because ruff's RUF100
reports a directive naming a code that does not occur, ``exemptions`` computes the codes from
the generated text itself (pep8-naming's rules, with its default ``ignore-names``), never
from what a template is expected to contain.

**Values and names other rules report: the same exemption.** Spec data reaches code verbatim
too, and ruff's flake8-bandit rules read it as a security smell: a default host ``"0.0.0.0"``
(S104), an enum value ``password`` assigned to its member ``PASSWORD`` (S105), a record
default ``Login(token="guest")`` (S106), a default path ``"/tmp/reports"`` (S108). pycodestyle
reports a field, parameter, class or function named ``l``, ``I`` or ``O`` (E741, E742, E743: a
blood group ``O`` becomes an enum member). None of them can be written another way without
changing the data, so ``exemptions`` names those codes too, computed from the text in the same
way.

**Ambiguous characters: escaped.** Descriptions, defaults and enum values keep characters
(typographic apostrophes and dashes, a multiplication sign, a fullwidth comma) that ruff
reports as ambiguous (RUF001 in strings, RUF002 in docstrings, RUF003 in comments). Every one is
written as an escape (``\\u2019``) wherever spec text lands: string literals, docstrings and
comments (``codegen.pysource``). Exempting docstrings instead would not be enough: ruff treats
a field's docstring (a string after the attribute) as a string, so the file would need RUF001
exempted too, which would also hide an unescaped data literal. An escape denotes the same
text (``__doc__`` and ``help()`` show the original), a reader sees exactly which code points a
value holds, and nothing is left for a directive to go stale on. ``CONFUSABLES`` is ruff's
table; ``tests/codegen/test_codegen_lint.py`` checks it against the installed ruff.
"""

from __future__ import annotations

import ast
import re
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath

from codegen.confusables import CONFUSABLES

PEP8_NAMING_IGNORED = frozenset(
    {
        "setUp",
        "tearDown",
        "setUpClass",
        "tearDownClass",
        "setUpModule",
        "tearDownModule",
        "asyncSetUp",
        "asyncTearDown",
        "setUpTestData",
        "failureException",
        "longMessage",
        "maxDiff",
    }
)
"""pep8-naming's default ``ignore-names``: ruff reports none of the N rules for them."""

AMBIGUOUS_NAMES = frozenset({"l", "I", "O"})
"""Names pycodestyle reports as ambiguous (E741 variable, E742 class, E743 function)."""

SECRET_NAME = re.compile(
    r"(?:^|_)(?:pas+wo?r?d|pass(?:phrase)?|pwd|token|secrete?)(?:$|_)", re.IGNORECASE
)
"""A name ruff's flake8-bandit takes for a password's (S105, S106, S107), searched anywhere."""

TEMPORARY_PREFIXES = ("/tmp", "/var/tmp", "/dev/shm")  # noqa: S108  (the prefixes themselves)
"""ruff's default ``hardcoded-tmp-directory``: a string starting with one is S108."""


def ambiguous_positions(text: str) -> list[int]:
    """The indices of the characters of ``text`` (the source text of a string, docstring or
    comment) that ruff reports as ambiguous (RUF001, RUF002, RUF003).

    ruff's rule: a confusable character (one that looks like an ASCII character) that is not
    part of a word is always reported; one inside a word (a run of alphanumeric characters) is
    reported when the word also has an ASCII character, or has no other non-ASCII character
    that is unambiguous (a Greek capital alpha next to a gamma is fine: the gamma makes the word
    Greek; next to a beta, or to a Latin letter, it is reported).
    Rust's notion of alphanumeric also covers some combining marks and symbols that Python's
    ``isalnum`` does not; where the two could disagree, this errs towards reporting."""
    if text.isascii():
        return []
    with_ascii = _word_flags(text, _maybe_word_char, str.isascii)
    unambiguous = _word_flags(text, str.isalnum, _unambiguous)
    return [
        index
        for index, char in enumerate(text)
        if ord(char) in CONFUSABLES
        and (not char.isalnum() or with_ascii[index] or not unambiguous[index])
    ]


_LETTER_SYMBOLS = ((0x24B6, 0x24E9), (0x1F130, 0x1F149), (0x1F150, 0x1F169), (0x1F170, 0x1F189))
"""Circled and squared Latin letters: symbols that Unicode (and Rust) count as alphabetic."""


def _maybe_word_char(char: str) -> bool:
    """Alphanumeric for Rust (and so for ruff), or possibly so: Unicode's Alphabetic property
    also covers combining marks Python's ``isalnum`` does not, and some letter symbols."""
    if char.isalnum() or unicodedata.category(char)[0] == "M":
        return True
    return any(first <= ord(char) <= last for first, last in _LETTER_SYMBOLS)


def _unambiguous(char: str) -> bool:
    return not char.isascii() and ord(char) not in CONFUSABLES


def _word_flags(
    text: str, in_word: Callable[[str], bool], wanted: Callable[[str], bool]
) -> list[bool]:
    """For each index, whether the word (run of ``in_word`` characters) around it has a
    ``wanted`` character (False outside words)."""
    flags = [False] * len(text)
    start = 0
    while start < len(text):
        if not in_word(text[start]):
            start += 1
            continue
        end = start
        found = False
        while end < len(text) and in_word(text[end]):
            found = found or wanted(text[end])
            end += 1
        if found:
            flags[start:end] = [True] * (end - start)
        start = end
    return flags


def escape_ambiguous(units: list[str], escape: Callable[[str], str]) -> list[str]:
    """``units`` (the source text of each character of a literal or comment) with every
    character ruff would report replaced by ``escape(char)``.

    An escape adds ASCII characters (``\\u2013``) that can join the next word and make its
    confusables reportable, so this repeats until nothing more is reported."""
    units = list(units)
    while True:
        source = "".join(units)
        owners: list[int] = []
        for index, unit in enumerate(units):
            owners.extend([index] * len(unit))
        reported = {owners[position] for position in ambiguous_positions(source)}
        if not reported:
            return units
        for index in reported:
            units[index] = escape(units[index])


def exemptions(path: str, source: str) -> tuple[str, ...]:
    """The ruff codes a file-level ``# ruff: noqa`` in the generated file at ``path`` (inside
    the package) must name: those its spec-dictated names cause."""
    codes: set[str] = set()
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            if _reported(node.name, not _is_cap_words(node.name)):
                codes.add("N801")
            if any(_reported(name, _is_mixed_case(name)) for name in _class_attributes(node)):
                codes.add("N815")
            if node.name in AMBIGUOUS_NAMES:
                codes.add("E742")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if _reported(node.name, not _is_lowercase(node.name)):
                codes.add("N802")
            arguments = node.args
            every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
            every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
            if any(_reported(a.arg, not _is_lowercase(a.arg)) for a in every):
                codes.add("N803")
            if node.name in AMBIGUOUS_NAMES:
                codes.add("E743")
        codes.update(_value_codes(node))
    module = PurePosixPath(path).stem
    if module != "__init__" and _reported(module, not _is_module_name(module)):
        codes.add("N999")
    return tuple(sorted(codes))


def _value_codes(node: ast.AST) -> Iterator[str]:
    """The E741 and flake8-bandit codes ruff reports at ``node`` (one node, not its children)."""
    match node:
        case ast.Name(id=name, ctx=ast.Store()) | ast.arg(arg=name) if name in AMBIGUOUS_NAMES:
            yield "E741"
        case ast.Constant(value=str(text)):
            if text == "0.0.0.0":  # noqa: S104  (the value ruff looks for)
                yield "S104"
            if text.startswith(TEMPORARY_PREFIXES):
                yield "S108"
        case ast.Assign(targets=targets, value=value) if _secret(value):
            if any(_secret_target(target) for target in targets):
                yield "S105"
        case ast.AnnAssign(target=target, value=value) if _secret(value):
            if _secret_target(target):
                yield "S105"
        case ast.Call(keywords=keywords):
            if any(k.arg and SECRET_NAME.search(k.arg) and _secret(k.value) for k in keywords):
                yield "S106"
        case ast.arguments(posonlyargs=positional, args=plain, defaults=defaults):
            pairs = [*zip(reversed([*positional, *plain]), reversed(defaults), strict=False)]
            pairs += [(a, d) for a, d in zip(node.kwonlyargs, node.kw_defaults, strict=True) if d]
            if any(SECRET_NAME.search(a.arg) and _secret(d) for a, d in pairs):
                yield "S107"


def _secret(value: ast.expr | None) -> bool:
    """A non-empty string literal: what flake8-bandit takes for a hardcoded secret."""
    return isinstance(value, ast.Constant) and isinstance(value.value, str) and bool(value.value)


def _secret_target(target: ast.expr) -> bool:
    match target:
        case ast.Name(id=name) | ast.Attribute(attr=name):
            return bool(SECRET_NAME.search(name))
    return False


def exemption_line(codes: tuple[str, ...]) -> str:
    """The directive for ``codes``, or nothing."""
    return f"# ruff: noqa: {', '.join(codes)}\n" if codes else ""


def _reported(name: str, breaks_rule: bool) -> bool:
    return breaks_rule and name not in PEP8_NAMING_IGNORED


def _class_attributes(node: ast.ClassDef) -> Iterator[str]:
    for statement in node.body:
        targets: list[ast.expr] = []
        if isinstance(statement, ast.Assign):
            targets = statement.targets
        elif isinstance(statement, ast.AnnAssign | ast.AugAssign):
            targets = [statement.target]
        yield from (t.id for t in targets if isinstance(t, ast.Name))


def _is_lowercase(name: str) -> bool:
    """pep8-naming's test for function and argument names: no uppercase letter."""
    return not any(char.isupper() for char in name)


def _is_mixed_case(name: str) -> bool:
    """pep8-naming's mixedCase: not lowercase, first letter (after ``_``) lowercase."""
    return not _is_lowercase(name) and name.lstrip("_")[:1].islower()


def _is_cap_words(name: str) -> bool:
    """pep8-naming's CapWords class name: uppercase first letter, no underscore after it."""
    stripped = name.lstrip("_")
    return stripped[:1].isupper() and "_" not in stripped


def _is_module_name(name: str) -> bool:
    """pep8-naming's module name: lowercase ASCII letters, digits and ``_``, not a digit first."""
    return (name[:1].islower() or name[:1] == "_") and all(
        char.islower() or char.isdigit() or char == "_" for char in name
    )
