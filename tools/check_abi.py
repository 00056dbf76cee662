#!/usr/bin/env python3
"""Check that Include/eprop.h, the @_cdecl functions of Sources/EpropC and libeprop.so agree.

    python3 tools/check_abi.py [LIB] [--header H] [--sources DIR] [--no-nm]

1. Every function prototype of the header is parsed (multi-line prototypes, comments such
   as /* OUT */, const, pointer-to-pointer, typedefs such as eprop_progress_fn) and mapped
   to the Swift type its @_cdecl implementation must use:

       int32_t, int64_t, double, …     Int32, Int64, Double, …  (void return: no return type)
       eprop_network *, const … *      OpaquePointer?            (any pointer to an opaque struct)
       const T *  /  T *               UnsafePointer<T'>?  /  UnsafeMutablePointer<T'>?
       const char **                   UnsafeMutablePointer<UnsafePointer<CChar>?>?
       const char *const *             UnsafePointer<UnsafePointer<CChar>?>?
       const void *  /  void *         UnsafeRawPointer?  /  UnsafeMutableRawPointer?
       eprop_progress_fn               (@convention(c) (Int64, Int64, UnsafeMutableRawPointer?) -> Int32)?

   Pointer arguments must be optional (C may pass NULL, and the header promises
   EPROP_ERR_NULL_ARGUMENT for it). Whether a returned pointer is optional does not change
   the ABI, so both `UnsafePointer<CChar>` and `UnsafePointer<CChar>?` are accepted.
2. Every `@_cdecl("name") public func …(…) -> T` of the Swift sources is parsed (multi-line
   signatures; typealiases such as ProgressFunction are resolved, as are Swift's C aliases
   such as CChar = Int8 and Optional<T> = T?).
3. Both are compared: functions on one side only, argument counts, argument and return types.
4. Unless --no-nm: `nm -D --defined-only LIB` must export every header function, and every
   exported eprop_* symbol must be declared in the header.

Exit status: 0 and the line `abi: N functions match` when all agree; 1 with one entry and
a diff per problem otherwise; 2 when something needed for the check is missing.

Importable: parse_header(text), parse_swift(texts), compare(header, swift),
nm_symbols(path), parse_nm(output), check_exports(header, symbols), main(argv).
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import os
import re
import shutil
import subprocess
import sys
from typing import Iterable, Mapping

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_HEADER = os.path.join("Include", "eprop.h")
DEFAULT_SOURCES = os.path.join("Sources", "EpropC")
DEFAULT_LIB = os.path.join(".build", "release", "libeprop.so")
SYMBOL_PREFIX = "eprop_"

# --------------------------------------------------------------------------------------------
# Swift types: a small AST shared by both sides.
#   ("named", name, (args…))       Int32, UnsafePointer<CChar>
#   ("opt", inner)                 inner?
#   ("func", convention, (params…), ret)
#   ("tuple", (elems…))            () is Void
#   ("inout", inner)
# --------------------------------------------------------------------------------------------

VOID = ("tuple", ())

# Swift's own aliases of C types (the standard library's CTypes.swift, 64-bit Linux/macOS).
SWIFT_BUILTIN_ALIASES = {
    "CChar": "Int8", "CSignedChar": "Int8", "CUnsignedChar": "UInt8", "CShort": "Int16",
    "CUnsignedShort": "UInt16", "CInt": "Int32", "CUnsignedInt": "UInt32", "CLong": "Int",
    "CUnsignedLong": "UInt", "CLongLong": "Int64", "CUnsignedLongLong": "UInt64",
    "CFloat": "Float", "CDouble": "Double", "CBool": "Bool",
}


class SwiftTypeError(ValueError):
    pass


_SWIFT_TOKEN = re.compile(r"\s*(->|@[A-Za-z_]\w*|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*|[<>(),?!\[\]:=&.])")


def _swift_tokens(text: str) -> list[str]:
    tokens, pos = [], 0
    while pos < len(text):
        m = _SWIFT_TOKEN.match(text, pos)
        if not m:
            if text[pos:].strip() == "":
                break
            raise SwiftTypeError(f"cannot read Swift type at {text[pos:pos + 30]!r}")
        tokens.append(m.group(1))
        pos = m.end()
    return tokens


def _parse_swift_type_tokens(tokens: list[str], i: int) -> tuple[tuple, int]:
    """Parses one type starting at tokens[i]; returns (ast, index after it)."""

    def peek(k=0):
        return tokens[i + k] if i + k < len(tokens) else None

    convention = None
    while peek() is not None and peek().startswith("@"):
        attr = peek()[1:]
        i += 1
        if peek() == "(":
            depth, j = 0, i
            while j < len(tokens):
                depth += {"(": 1, ")": -1}.get(tokens[j], 0)
                j += 1
                if depth == 0:
                    break
            if attr == "convention":
                convention = "".join(tokens[i + 1:j - 1])
            i = j
    if peek() in ("inout",):
        i += 1
        inner, i = _parse_swift_type_tokens(tokens, i)
        return ("inout", inner), i
    while peek() in ("some", "any", "borrowing", "consuming", "__owned", "__shared", "sending"):
        i += 1
    tok = peek()
    if tok is None:
        raise SwiftTypeError("type expected, found the end")
    if tok == "(":
        i += 1
        elems = []
        while peek() != ")":
            if peek() is None:
                raise SwiftTypeError("unclosed '('")
            # Labels: `_ name: T` or `name: T`.
            if peek(1) == ":" and re.fullmatch(r"[A-Za-z_]\w*", peek() or ""):
                i += 2
            elif peek(2) == ":" and re.fullmatch(r"[A-Za-z_]\w*", peek() or "") \
                    and re.fullmatch(r"[A-Za-z_]\w*", peek(1) or ""):
                i += 3
            elem, i = _parse_swift_type_tokens(tokens, i)
            elems.append(elem)
            if peek() == ",":
                i += 1
            elif peek() != ")":
                raise SwiftTypeError(f"',' or ')' expected, found {peek()!r}")
        i += 1
        while peek() in ("async", "throws", "rethrows"):
            i += 1
            if peek() == "(":  # typed throws: throws(E)
                _, i = _parse_swift_type_tokens(tokens, i)
        if peek() == "->":
            ret, i = _parse_swift_type_tokens(tokens, i + 1)
            node = ("func", convention, tuple(elems), ret)
        elif len(elems) == 1:
            node = elems[0]
        else:
            node = ("tuple", tuple(elems))
    elif tok == "[":
        key, i = _parse_swift_type_tokens(tokens, i + 1)
        if peek() == ":":
            value, i = _parse_swift_type_tokens(tokens, i + 1)
            node = ("named", "Dictionary", (key, value))
        else:
            node = ("named", "Array", (key,))
        if peek() != "]":
            raise SwiftTypeError("']' expected")
        i += 1
    elif re.fullmatch(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*", tok):
        i += 1
        args = []
        if peek() == "<":
            i += 1
            while True:
                arg, i = _parse_swift_type_tokens(tokens, i)
                args.append(arg)
                if peek() == ",":
                    i += 1
                    continue
                if peek() != ">":
                    raise SwiftTypeError(f"'>' expected, found {peek()!r}")
                i += 1
                break
        node = ("named", tok, tuple(args))
    else:
        raise SwiftTypeError(f"type expected, found {tok!r}")
    while peek() in ("?", "!"):
        node = ("opt", node)
        i += 1
    return node, i


def parse_swift_type(text: str) -> tuple:
    """The AST of one Swift type written as text."""
    tokens = _swift_tokens(text)
    node, i = _parse_swift_type_tokens(tokens, 0)
    if i != len(tokens):
        raise SwiftTypeError(f"unexpected {' '.join(tokens[i:])!r} after the type in {text!r}")
    return node


def render(node: tuple) -> str:
    """Swift spelling of an AST."""
    kind = node[0]
    if kind == "named":
        name, args = node[1], node[2]
        return name + ("<" + ", ".join(render(a) for a in args) + ">" if args else "")
    if kind == "opt":
        inner = render(node[1])
        return f"({inner})?" if node[1][0] in ("func", "inout") else inner + "?"
    if kind == "func":
        conv = f"@convention({node[1]}) " if node[1] else ""
        return f"{conv}({', '.join(render(p) for p in node[2])}) -> {render(node[3])}"
    if kind == "tuple":
        return "Void" if not node[1] else "(" + ", ".join(render(e) for e in node[1]) + ")"
    if kind == "inout":
        return "inout " + render(node[1])
    raise AssertionError(node)


def _strip_opt(node: tuple) -> tuple:
    while node[0] == "opt":
        node = node[1]
    return node


def normalize(node: tuple, aliases: Mapping[str, tuple] | None = None, _seen=()) -> tuple:
    """Canonical form for comparison: typealiases resolved, Optional<T> → T?, Void → (),
    Swift.Int32 → Int32, CChar → Int8, function results without top-level optionality."""
    aliases = aliases or {}
    kind = node[0]
    if kind == "named":
        name = node[1]
        if name.startswith("Swift."):
            name = name[len("Swift."):]
        args = tuple(normalize(a, aliases, _seen) for a in node[2])
        if name in aliases and not args:
            if name in _seen:
                raise SwiftTypeError(f"typealias cycle through {name}")
            return normalize(aliases[name], aliases, _seen + (name,))
        if name in ("Optional", "ImplicitlyUnwrappedOptional") and len(args) == 1:
            return ("opt", args[0])
        if name == "Void" and not args:
            return VOID
        name = SWIFT_BUILTIN_ALIASES.get(name, name)
        return ("named", name, args)
    if kind == "opt":
        inner = normalize(node[1], aliases, _seen)
        return inner if inner[0] == "opt" else ("opt", inner)
    if kind == "func":
        return ("func", node[1], tuple(normalize(p, aliases, _seen) for p in node[2]),
                _strip_opt(normalize(node[3], aliases, _seen)))
    if kind == "tuple":
        elems = tuple(normalize(e, aliases, _seen) for e in node[1])
        return elems[0] if len(elems) == 1 else ("tuple", elems)
    if kind == "inout":
        return ("inout", normalize(node[1], aliases, _seen))
    raise AssertionError(node)


# --------------------------------------------------------------------------------------------
# C header
# --------------------------------------------------------------------------------------------

C_SCALARS = {
    "int8_t": "Int8", "int16_t": "Int16", "int32_t": "Int32", "int64_t": "Int64",
    "uint8_t": "UInt8", "uint16_t": "UInt16", "uint32_t": "UInt32", "uint64_t": "UInt64",
    "intptr_t": "Int", "uintptr_t": "UInt", "size_t": "Int", "ssize_t": "Int", "ptrdiff_t": "Int",
    "double": "Double", "float": "Float", "bool": "Bool", "_Bool": "Bool",
    "char": "CChar", "signed char": "CSignedChar", "unsigned char": "CUnsignedChar",
    "short": "CShort", "short int": "CShort", "unsigned short": "CUnsignedShort",
    "int": "CInt", "signed": "CInt", "signed int": "CInt", "unsigned": "CUnsignedInt",
    "unsigned int": "CUnsignedInt", "long": "CLong", "long int": "CLong",
    "unsigned long": "CUnsignedLong", "long long": "CLongLong",
    "unsigned long long": "CUnsignedLongLong",
}
_C_TYPE_WORDS = {"void", "char", "short", "int", "long", "float", "double", "signed", "unsigned",
                 "_Bool", "bool", "struct", "union", "enum", "const", "volatile", "restrict"} | set(C_SCALARS)


@dataclasses.dataclass(frozen=True)
class CType:
    """base with its const, then one entry per '*' saying whether that pointer is const."""
    base: str
    base_const: bool = False
    pointers: tuple = ()

    def __str__(self) -> str:
        s = ("const " if self.base_const else "") + self.base
        if self.pointers:
            s += " " + "".join("*" + ("const " if c else "") for c in self.pointers)
        return s.strip()


@dataclasses.dataclass
class CFunctionPointer:
    ret: CType
    params: list  # of CParam

    def __str__(self) -> str:
        return f"{self.ret} (*)({', '.join(str(p.type) for p in self.params) or 'void'})"


@dataclasses.dataclass
class CParam:
    name: str | None
    type: object  # CType or CFunctionPointer (inline function-pointer parameter)
    text: str

    def __str__(self) -> str:
        return self.text


@dataclasses.dataclass
class HeaderFunction:
    name: str
    ret: CType
    params: list  # of CParam
    line: int
    variadic: bool = False

    def prototype(self) -> str:
        args = ", ".join(p.text for p in self.params) or "void"
        if self.variadic:
            args += ", ..."
        ret = str(self.ret)
        return f"{ret}{'' if ret.endswith('*') else ' '}{self.name}({args})"


@dataclasses.dataclass
class Header:
    functions: dict  # name -> HeaderFunction, in header order
    function_pointers: dict  # typedef name -> CFunctionPointer
    aliases: dict  # typedef name -> CType
    opaque: set  # struct tags and typedef names of incomplete structs
    complete: set  # struct tags and typedef names with a body
    problems: list
    path: str = DEFAULT_HEADER


def _blank_preserving_lines(text: str) -> str:
    return re.sub(r"[^\n]", " ", text)


def _strip_c_comments_and_directives(text: str) -> str:
    """Comments and preprocessor lines become blanks (lines kept); string literals are skipped."""
    out, i, n = [], 0, len(text)
    at_line_start = True
    while i < n:
        c = text[i]
        if at_line_start and c == "#":  # directive, with backslash continuations
            j = i
            while True:
                k = text.find("\n", j)
                k = n if k < 0 else k
                # A comment inside a directive may span lines.
                seg = text[j:k]
                cpos = seg.find("/*")
                if cpos >= 0 and seg.find("*/", cpos) < 0:
                    end = text.find("*/", j + cpos)
                    k = text.find("\n", end) if end >= 0 else n
                    k = n if k < 0 else k
                if k > i and text[k - 1] == "\\" and k < n:
                    j = k + 1
                    continue
                break
            out.append(_blank_preserving_lines(text[i:k]))
            i = k
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(_blank_preserving_lines(text[i:j]))
            i = j
            continue
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
            continue
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
            continue
        out.append(c)
        if c == "\n":
            at_line_start = True
        elif not c.isspace():
            at_line_start = False
        i += 1
    return "".join(out)


def _empty_macros(text: str) -> set:
    """Object-like macros that expand to nothing or to an attribute (export decorations)."""
    names = set()
    for m in re.finditer(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)(?![\w(])[ \t]*(.*)$", text, re.M):
        body = m.group(2).strip()
        if body == "" or body.startswith(("__attribute__", "__declspec", "extern")):
            names.add(m.group(1))
    return names


def _split_statements(text: str) -> list[tuple[int, str]]:
    """Top-level declarations ended by ';' as (start offset, text); extern "C" { } unwrapped."""
    text = re.sub(r'extern\s+"C"\s*\{', lambda m: _blank_preserving_lines(m.group(0)), text)
    out, depth, start = [], 0, 0
    opened_at = []
    for i, c in enumerate(text):
        if c == "{":
            depth += 1
            opened_at.append(i)
        elif c == "}":
            if depth == 0:  # closes the unwrapped extern "C" block
                text = text[:i] + " " + text[i + 1:]
                start = i + 1
                continue
            depth -= 1
            opened_at.pop()
            if depth == 0:
                stmt = text[start:i + 1]
                # A function definition ends at its '}'.
                if re.search(r"\)\s*\{", stmt) and "=" not in stmt.split("{", 1)[0]:
                    out.append((start, stmt))
                    start = i + 1
        elif c == ";" and depth == 0:
            out.append((start, text[start:i]))
            start = i + 1
    if text[start:].strip():
        out.append((start, text[start:]))
    return out


def _split_top_level(text: str, sep: str = ",") -> list[str]:
    parts, depth, cur = [], 0, []
    for k, c in enumerate(text):
        if c in "([{<":
            depth += 1
        elif c in ")]}>" and not (c == ">" and k > 0 and text[k - 1] == "-"):  # not the '>' of '->'
            depth -= 1
        if c == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    parts.append("".join(cur))
    return [p.strip() for p in parts]


_C_TOKEN = re.compile(r"\s*([A-Za-z_]\w*|\*|\[[^\]]*\]|\.\.\.|\S)")


def _c_tokens(text: str) -> list[str]:
    return [m.group(1) for m in _C_TOKEN.finditer(text)]


def _ctype_from_tokens(tokens: list[str], known_types: set) -> CType:
    base_words, base_const, pointers = [], False, []
    for t in tokens:
        if t == "*":
            pointers.append(False)
        elif t == "const":
            if pointers:
                pointers[-1] = True
            else:
                base_const = True
        elif t in ("volatile", "restrict", "__restrict", "__restrict__"):
            continue
        elif pointers:
            raise ValueError(f"unexpected {t!r} after '*'")
        else:
            base_words.append(t)
    if not base_words:
        raise ValueError("no type")
    base = " ".join(base_words)
    base = {"long long int": "long long", "unsigned long long int": "unsigned long long",
            "unsigned long int": "unsigned long", "unsigned short int": "unsigned short",
            "signed long": "long", "signed long long": "long long"}.get(base, base)
    return CType(base, base_const, tuple(pointers))


def _parse_c_param(text: str, known_types: set) -> CParam:
    text = " ".join(text.split())
    m = re.fullmatch(r"(.+?)\(\s*\*\s*([A-Za-z_]\w*)?\s*\)\s*\((.*)\)", text)
    if m:  # inline function-pointer parameter: R (*name)(args)
        ret = _ctype_from_tokens(_c_tokens(m.group(1)), known_types)
        inner = [] if m.group(3).strip() in ("", "void") else \
            [_parse_c_param(p, known_types) for p in _split_top_level(m.group(3))]
        return CParam(m.group(2), CFunctionPointer(ret, inner), text)
    tokens = _c_tokens(text)
    array = False
    while tokens and tokens[-1].startswith("["):
        tokens.pop()
        array = True
    name = None
    if len(tokens) >= 2 and re.fullmatch(r"[A-Za-z_]\w*", tokens[-1]) \
            and tokens[-1] not in _C_TYPE_WORDS and tokens[-1] not in known_types:
        name = tokens.pop()
    ctype = _ctype_from_tokens(tokens, known_types)
    if array:  # T name[] is T *name
        ctype = CType(ctype.base, ctype.base_const, ctype.pointers + (False,))
    return CParam(name, ctype, text)


def parse_header(text: str, path: str = DEFAULT_HEADER) -> Header:
    """Every function prototype and typedef of a C header."""
    header = Header({}, {}, {}, set(), set(), [], path)
    macros = _empty_macros(text)
    clean = _strip_c_comments_and_directives(text)
    clean = re.sub(r"__attribute__\s*\(\(.*?\)\)", lambda m: _blank_preserving_lines(m.group(0)), clean,
                   flags=re.S)
    if macros:
        clean = re.sub(r"\b(" + "|".join(map(re.escape, sorted(macros))) + r")\b",
                       lambda m: " " * len(m.group(0)), clean)
    known: set = set()
    for start, stmt in _split_statements(clean):
        offset = start + (len(stmt) - len(stmt.lstrip()))
        line = clean.count("\n", 0, offset) + 1
        s = " ".join(stmt.split())
        if not s:
            continue
        s = re.sub(r"^(extern|static|inline)\s+", "", s)
        try:
            if s.startswith("typedef "):
                body = s[len("typedef "):]
                m = re.fullmatch(r"(.+?)\(\s*\*\s*([A-Za-z_]\w*)\s*\)\s*\((.*)\)", body)
                if m:
                    ret = _ctype_from_tokens(_c_tokens(m.group(1)), known)
                    params = [] if m.group(3).strip() in ("", "void") else \
                        [_parse_c_param(p, known) for p in _split_top_level(m.group(3))]
                    header.function_pointers[m.group(2)] = CFunctionPointer(ret, params)
                    known.add(m.group(2))
                    continue
                m = re.fullmatch(r"(struct|union)\s+([A-Za-z_]\w*)?\s*(\{.*\})?\s*([A-Za-z_]\w*)", body)
                if m:
                    names = {n for n in (m.group(2), m.group(4)) if n}
                    (header.complete if m.group(3) else header.opaque).update(names)
                    known.update(names)
                    continue
                m = re.fullmatch(r"enum\s+([A-Za-z_]\w*)?\s*(\{.*\})?\s*([A-Za-z_]\w*)", body)
                if m:
                    header.aliases[m.group(3)] = CType("int")
                    known.add(m.group(3))
                    continue
                tokens = _c_tokens(body)
                name = tokens.pop()
                header.aliases[name] = _ctype_from_tokens(tokens, known)
                known.add(name)
                continue
            m = re.fullmatch(r"(struct|union)\s+([A-Za-z_]\w*)\s*(\{.*\})?", s)
            if m:
                if m.group(3):
                    header.complete.add(m.group(2))
                else:
                    header.opaque.add(m.group(2))
                continue
            m = re.fullmatch(r"(.+?)\b([A-Za-z_]\w*)\s*\((.*)\)\s*(\{.*\})?", s)
            if not m:
                continue  # a variable or something else that is not a function prototype
            if m.group(4):
                header.problems.append(f"{m.group(2)}: {path}:{line}: a function body in the header")
            ret = _ctype_from_tokens(_c_tokens(m.group(1)), known)
            params_text = m.group(3).strip()
            variadic = False
            params = []
            if params_text not in ("", "void"):
                parts = _split_top_level(params_text)
                if parts[-1] == "...":
                    variadic = True
                    parts.pop()
                params = [_parse_c_param(p, known) for p in parts]
            fn = HeaderFunction(m.group(2), ret, params, line, variadic)
            old = header.functions.get(fn.name)
            if old is not None and old.prototype() != fn.prototype():
                header.problems.append(
                    f"{fn.name}: declared twice and differently: {path}:{old.line} and {path}:{line}")
                continue
            header.functions.setdefault(fn.name, fn)
        except ValueError as e:
            header.problems.append(f"{path}:{line}: cannot parse {s!r}: {e}")
    # A struct declared opaque somewhere and defined elsewhere is complete.
    header.opaque -= header.complete
    return header


def _expand_alias(ct: CType, header: Header, depth: int = 0) -> CType:
    if ct.base not in header.aliases or depth > 20:
        return ct
    alias = header.aliases[ct.base]
    if alias.pointers:  # const applies to the alias's own (outermost) pointer
        ptrs = alias.pointers[:-1] + (alias.pointers[-1] or ct.base_const,) + ct.pointers
        merged = CType(alias.base, alias.base_const, ptrs)
    else:
        merged = CType(alias.base, alias.base_const or ct.base_const, ct.pointers)
    return _expand_alias(merged, header, depth + 1)


def _base_name(base: str) -> str:
    return re.sub(r"^(struct|union)\s+", "", base)


def c_to_swift(ctype, header: Header, position: str = "param") -> tuple:
    """The Swift type (AST) a @_cdecl function must use for a C type.

    position: "param", "return" or "pointee" (the T of UnsafePointer<T>)."""
    if isinstance(ctype, CFunctionPointer):
        return ("opt", _function_pointer_to_swift(ctype, header))
    ct = _expand_alias(ctype, header)
    if not ct.pointers:
        if ct.base in header.function_pointers:
            return ("opt", _function_pointer_to_swift(header.function_pointers[ct.base], header))
        if ct.base == "void":
            if position == "return":
                return VOID
            raise ValueError("void is only a return type")
        if ct.base in C_SCALARS:
            return ("named", C_SCALARS[ct.base], ())
        if _base_name(ct.base) in header.opaque | header.complete:
            raise ValueError(f"{ct} is passed by value; only pointers to it can cross the C ABI")
        raise ValueError(f"no Swift mapping for C type {ct}")
    pointee = CType(ct.base, ct.base_const, ct.pointers[:-1])
    pointee_const = ct.pointers[-2] if len(ct.pointers) >= 2 else ct.base_const
    if len(ct.pointers) == 1 and _base_name(ct.base) in header.opaque:
        node = ("named", "OpaquePointer", ())
    elif len(ct.pointers) == 1 and ct.base == "void":
        node = ("named", "UnsafeRawPointer" if ct.base_const else "UnsafeMutableRawPointer", ())
    elif len(ct.pointers) == 1 and _base_name(ct.base) in header.complete:
        raise ValueError(f"{ct}: pointers to structs with a layout need the C module in Swift")
    else:
        inner = c_to_swift(pointee, header, "pointee")
        node = ("named", "UnsafePointer" if pointee_const else "UnsafeMutablePointer", (inner,))
    return ("opt", node)


def _function_pointer_to_swift(fp: CFunctionPointer, header: Header) -> tuple:
    params = tuple(c_to_swift(p.type, header, "param") for p in fp.params)
    return ("func", "c", params, c_to_swift(fp.ret, header, "return"))


# --------------------------------------------------------------------------------------------
# Swift sources
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class SwiftParam:
    text: str
    type: tuple  # AST as written
    resolved: tuple  # normalized, typealiases resolved


@dataclasses.dataclass
class SwiftFunction:
    cname: str
    swift_name: str
    params: list  # of SwiftParam
    ret_text: str
    ret: tuple
    ret_resolved: tuple
    path: str
    line: int
    public: bool

    def signature(self) -> str:
        ret = "" if self.ret_text == "" else f" -> {self.ret_text}"
        return f"func {self.swift_name}({', '.join(p.text for p in self.params)}){ret}"


@dataclasses.dataclass
class SwiftInterface:
    functions: dict  # C name -> SwiftFunction
    typealiases: dict  # name -> AST
    problems: list


def _strip_swift_comments(text: str) -> str:
    """Comments become blanks; string literals are kept (lines and offsets preserved)."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):  # Swift block comments nest
            depth, j = 0, i
            while j < n:
                if text.startswith("/*", j):
                    depth += 1
                    j += 2
                elif text.startswith("*/", j):
                    depth -= 1
                    j += 2
                    if depth == 0:
                        break
                else:
                    j += 1
            out.append(_blank_preserving_lines(text[i:j]))
            i = j
        elif text.startswith('"""', i):
            j = text.find('"""', i + 3)
            j = n if j < 0 else j + 3
            out.append(text[i:j])
            i = j
        elif text[i] == '"':
            j = i + 1
            while j < n and text[j] not in '"\n':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _matching(text: str, open_pos: int, open_c: str = "(", close_c: str = ")") -> int:
    """Index of the bracket closing the one at open_pos (string literals skipped)."""
    depth, i = 0, open_pos
    while i < len(text):
        c = text[i]
        if c == '"':
            j = i + 1
            while j < len(text) and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if c == open_c:
            depth += 1
        elif c == close_c:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError(f"unclosed {open_c!r}")


_CDECL = re.compile(r'@_cdecl\s*\(\s*"([^"]*)"\s*\)')
_TYPEALIAS = re.compile(
    r"\b(?:(?:public|internal|fileprivate|private|package)\s+)?typealias\s+([A-Za-z_]\w*)\s*=")


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _parse_swift_param(text: str) -> str:
    """The type part of `_ name: Type = default`."""
    parts = _split_top_level(text, ":")
    if len(parts) < 2:
        raise SwiftTypeError(f"parameter without a type: {text!r}")
    type_text = ":".join(parts[1:])
    type_text = _split_top_level(type_text, "=")[0]
    return " ".join(type_text.split())


def parse_swift(texts) -> SwiftInterface:
    """Every @_cdecl function and typealias of the Swift sources.

    texts: a mapping path -> source text, or an iterable of source texts."""
    if isinstance(texts, Mapping):
        items = list(texts.items())
    elif isinstance(texts, str):
        items = [("<swift>", texts)]
    else:
        items = [(f"<swift {k}>", t) for k, t in enumerate(texts)]
    iface = SwiftInterface({}, {}, [])
    cleaned = [(path, _strip_swift_comments(text)) for path, text in items]

    for path, text in cleaned:
        for m in _TYPEALIAS.finditer(text):
            tokens = _swift_tokens_prefix(text[m.end():])
            try:
                node, _ = _parse_swift_type_tokens(tokens, 0)
            except SwiftTypeError as e:
                iface.problems.append(f"{path}:{_line_of(text, m.start())}: typealias {m.group(1)}: {e}")
                continue
            if m.group(1) in iface.typealiases and iface.typealiases[m.group(1)] != node:
                iface.problems.append(f"{path}:{_line_of(text, m.start())}: typealias {m.group(1)} defined twice")
            iface.typealiases[m.group(1)] = node

    for path, text in cleaned:
        for m in _CDECL.finditer(text):
            cname, line = m.group(1), _line_of(text, m.start())
            where = f"{path}:{line}"
            fm = re.compile(r"\s*((?:@[A-Za-z_]\w*(?:\([^)]*\))?\s*|"
                            r"(?:public|internal|fileprivate|private|package|open|final|static|"
                            r"nonisolated|dynamic)\s+)*)func\s+([A-Za-z_]\w*|`[^`]+`)\s*(<[^>]*>)?\s*\(")
            f = fm.match(text, m.end())
            if not f:
                iface.problems.append(f'{cname}: {where}: @_cdecl("{cname}") is not followed by a func')
                continue
            modifiers = f.group(1)
            open_pos = f.end() - 1
            try:
                close_pos = _matching(text, open_pos)
                params_text = text[open_pos + 1:close_pos]
                rest = text[close_pos + 1:]
                body = rest.find("{")
                head = rest[:body if body >= 0 else len(rest)]
                head = re.split(r"\bwhere\b", head)[0]
                rm = re.match(r"\s*(?:async\s*)?(?:(?:throws|rethrows)\s*(?:\([^)]*\))?\s*)?(?:->(.*))?$",
                              head, re.S)
                if not rm:
                    raise SwiftTypeError(f"cannot read the signature's end {head.strip()!r}")
                ret_text = " ".join((rm.group(1) or "").split())
                ret = parse_swift_type(ret_text) if ret_text else VOID
                params = []
                for p in ([] if params_text.strip() == "" else _split_top_level(params_text)):
                    ptype_text = _parse_swift_param(p)
                    ptype = parse_swift_type(ptype_text)
                    params.append(SwiftParam(" ".join(p.split()), ptype, normalize(ptype, iface.typealiases)))
                fn = SwiftFunction(cname, f.group(2).strip("`"), params, ret_text, ret,
                                   normalize(ret, iface.typealiases), path, line,
                                   re.search(r"\b(public|open)\b", modifiers) is not None)
            except (SwiftTypeError, ValueError) as e:
                iface.problems.append(f"{cname}: {where}: cannot parse the signature: {e}")
                continue
            if cname in iface.functions:
                old = iface.functions[cname]
                iface.problems.append(f'{cname}: @_cdecl("{cname}") twice: {old.path}:{old.line} and {where}')
                continue
            iface.functions[cname] = fn
    return iface


def _swift_tokens_prefix(text: str) -> list[str]:
    """Tokens from the start of text for as long as they are Swift type tokens."""
    tokens, pos = [], 0
    while pos < len(text):
        m = _SWIFT_TOKEN.match(text, pos)
        if not m:
            break
        tokens.append(m.group(1))
        pos = m.end()
        if len(tokens) > 400:
            break
    return tokens


# --------------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------------


def expected_swift(fn: HeaderFunction, header: Header) -> tuple[list, tuple]:
    """(parameter ASTs, return AST) that the @_cdecl implementation of fn must use."""
    if fn.variadic:
        raise ValueError("variadic functions cannot be implemented with @_cdecl")
    params = [c_to_swift(p.type, header, "param") for p in fn.params]
    return params, c_to_swift(fn.ret, header, "return")


def _signature_lines(name: str, params: list, ret: str) -> list[str]:
    lines = [f"{name}("]
    lines += [f"    {p}{',' if k + 1 < len(params) else ''}" for k, p in enumerate(params)]
    lines.append(f") -> {ret}")
    return lines


def compare(header: Header, swift: SwiftInterface) -> list[str]:
    """Problems (each a multi-line text) between a parsed header and parsed Swift sources."""
    problems = list(header.problems) + list(swift.problems)
    sources = "the Swift sources"
    for name, fn in header.functions.items():
        where_h = f"{header.path}:{fn.line}"
        try:
            exp_params, exp_ret = expected_swift(fn, header)
        except ValueError as e:
            problems.append(f"{name}: {where_h}: {e}\n    header: {fn.prototype()}")
            continue
        expected_text = (f'@_cdecl("{name}") public func {name}('
                         + ", ".join(f"_ {p.name or f'arg{k}'}: {render(t)}"
                                     for k, (p, t) in enumerate(zip(fn.params, exp_params)))
                         + ")" + ("" if exp_ret == VOID else f" -> {render(_strip_opt(exp_ret))}"))
        sw = swift.functions.get(name)
        if sw is None:
            problems.append(f"{name}: declared in the header ({where_h}) but no @_cdecl(\"{name}\") in {sources}\n"
                            f"    header:   {fn.prototype()}\n"
                            f"    expected: {expected_text}")
            continue
        where_s = f"{sw.path}:{sw.line}"
        details = []
        if not sw.public:
            details.append(f"the Swift function is not public ({where_s})")
        if len(sw.params) != len(exp_params):
            details.append(f"{len(exp_params)} arguments in the header, {len(sw.params)} in Swift")
        exp_norm = [normalize(t) for t in exp_params]
        for k in range(min(len(sw.params), len(exp_params))):
            if sw.params[k].resolved != exp_norm[k]:
                p = fn.params[k]
                details.append(f"argument {k + 1} ({p.name or 'unnamed'}): header `{p.text}` needs "
                               f"{render(exp_params[k])}, Swift has {render(sw.params[k].type)}")
        ret_ok = _strip_opt(sw.ret_resolved) == _strip_opt(normalize(exp_ret))
        if not ret_ok:
            details.append(f"return type: header `{fn.ret}` needs "
                           f"{'no return type' if exp_ret == VOID else render(_strip_opt(exp_ret))}, "
                           f"Swift has {'none' if sw.ret == VOID and sw.ret_text == '' else render(sw.ret)}")
        if not details:
            continue
        # A diff of the signatures, one argument per line; equal arguments shown once.
        exp_lines = [render(t) for t in exp_params]
        act_lines = []
        for k, p in enumerate(sw.params):
            same = k < len(exp_params) and p.resolved == exp_norm[k]
            act_lines.append(exp_lines[k] if same else render(p.type))
        exp_ret_text = render(_strip_opt(exp_ret))
        act_ret_text = exp_ret_text if ret_ok else render(sw.ret)
        diff = difflib.unified_diff(_signature_lines(name, exp_lines, exp_ret_text),
                                    _signature_lines(name, act_lines, act_ret_text),
                                    f"expected from {where_h}", f"implemented at {where_s}",
                                    lineterm="", n=len(exp_lines) + 2)
        problems.append(f"{name}: " + "; ".join(details) + "\n"
                        + f"    header: {fn.prototype()}\n"
                        + "\n".join("    " + d for d in diff))
    for name, sw in swift.functions.items():
        if name not in header.functions:
            problems.append(f'{name}: @_cdecl("{name}") at {sw.path}:{sw.line} but not declared in the header\n'
                            f"    swift: {sw.signature()}")
    return problems


# --------------------------------------------------------------------------------------------
# Exports
# --------------------------------------------------------------------------------------------


def parse_nm(output: str) -> dict:
    """name -> symbol type letter from `nm -D --defined-only` output."""
    symbols = {}
    for line in output.splitlines():
        fields = line.split()
        if len(fields) < 2:
            continue
        name, kind = fields[-1], fields[-2]
        if len(kind) != 1:
            continue
        symbols[name.split("@")[0]] = kind
    return symbols


def nm_symbols(path: str) -> dict:
    """Defined dynamic symbols of a shared library (name -> nm type letter)."""
    nm = shutil.which("nm")
    if nm is None:
        raise FileNotFoundError("nm not found (binutils); pass --no-nm to skip the export check")
    result = subprocess.run([nm, "-D", "--defined-only", path], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"nm -D --defined-only {path} failed: {result.stderr.strip()}")
    return parse_nm(result.stdout)


def check_exports(header: Header, symbols: Mapping[str, str], lib: str = DEFAULT_LIB) -> list[str]:
    """Every header function exported as a function; every exported eprop_* in the header."""
    problems = []
    for name, fn in header.functions.items():
        kind = symbols.get(name)
        if kind is None:
            problems.append(f"{name}: declared in the header ({header.path}:{fn.line}) but not exported by {lib}")
        elif kind not in "TWi":
            problems.append(f"{name}: exported by {lib} as a '{kind}' symbol, not as a function")
    for name in sorted(symbols):
        if name.startswith(SYMBOL_PREFIX) and name not in header.functions:
            problems.append(f"{name}: exported by {lib} but not declared in the header")
    return problems


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def read_sources(directory: str) -> dict:
    paths = sorted(os.path.join(directory, f) for f in os.listdir(directory) if f.endswith(".swift"))
    out = {}
    for p in paths:
        with open(p, encoding="utf-8") as fh:
            out[os.path.relpath(p, ROOT) if p.startswith(ROOT + os.sep) else p] = fh.read()
    return out


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lib", nargs="?", default=os.path.join(ROOT, DEFAULT_LIB),
                        help=f"the built library (default {DEFAULT_LIB})")
    parser.add_argument("--header", default=os.path.join(ROOT, DEFAULT_HEADER))
    parser.add_argument("--sources", default=os.path.join(ROOT, DEFAULT_SOURCES),
                        help="directory of the @_cdecl Swift files")
    parser.add_argument("--no-nm", action="store_true", help="skip the export check of the library")
    args = parser.parse_args(None if argv is None else list(argv))

    def rel(p):
        return os.path.relpath(p, ROOT) if os.path.abspath(p).startswith(ROOT + os.sep) else p

    try:
        with open(args.header, encoding="utf-8") as fh:
            header = parse_header(fh.read(), rel(args.header))
        swift = parse_swift(read_sources(args.sources))
    except OSError as e:
        print(f"abi: cannot read {e.filename}: {e.strerror}", file=sys.stderr)
        return 2
    if not swift.functions and not swift.problems:
        print(f"abi: no @_cdecl functions in {rel(args.sources)}", file=sys.stderr)
        return 2
    problems = compare(header, swift)
    if not args.no_nm:
        if not os.path.exists(args.lib):
            print(f"abi: {rel(args.lib)} does not exist; build it (make lib) or pass --no-nm", file=sys.stderr)
            return 2
        try:
            symbols = nm_symbols(args.lib)
        except (OSError, RuntimeError) as e:
            print(f"abi: {e}", file=sys.stderr)
            return 2
        problems += check_exports(header, symbols, rel(args.lib))
    if problems:
        print(f"abi: {len(problems)} problem{'s' if len(problems) != 1 else ''} between "
              f"{rel(args.header)}, {rel(args.sources)}/*.swift"
              + ("" if args.no_nm else f" and {rel(args.lib)}") + ":")
        for p in problems:
            print()
            print(p)
        return 1
    print(f"abi: {len(header.functions)} functions match"
          + (" (exports not checked: --no-nm)" if args.no_nm else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
