"""Receptive-field calculator: a layer-string parser and the per-layer arithmetic.

A layer string is a chain such as ``conv(3,1) conv(3,1) conv(1,1) pool(2,2) conv(2,2)``.
Grammar (recursive descent over the tokens of ``_tokenize``; nothing is ever ``eval``-ed)::

    stack  := layer ( [',' | ';' | '->' | '|'] layer )* EOF
    layer  := NAME '(' [ arg ( ',' arg )* ] ')'
    arg    := [ NAME '=' ] value
    value  := DIMS | BOOL                     DIMS is ``3`` or ``3x5`` (height x width)

Positional arguments are k, s, p, d (kernel, stride, padding, dilation). Keywords accept the
short names and PyTorch's (``kernel_size``, ``stride``, ``padding``, ``dilation``, ``ceil_mode``).
Pooling's stride defaults to its kernel, as in PyTorch; a convolution's to 1.

Coordinates: input pixel i has its centre at i (0-based), so ``start`` is the input coordinate of
the centre of the first output unit's field; it goes negative when padding reaches outside.
The model walker and the autograd cross-check live in ``receptive_model.py``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from nnlab.errors import NnlabError

__all__ = [
    "LayerSpec", "LayerRow", "ReceptiveParseError", "TableLine",
    "parse", "compute", "parse_input_size", "parse_table", "format_rf", "output_size",
]

Pair = tuple[int, int]

# Layer spellings -> canonical kind. "pool" means max pooling, as in most course notes.
_KINDS = {
    "conv": "conv", "conv2d": "conv",
    "pool": "maxpool", "maxpool": "maxpool", "maxpool2d": "maxpool", "max_pool": "maxpool",
    "max_pool2d": "maxpool", "mp": "maxpool",
    "avgpool": "avgpool", "avgpool2d": "avgpool", "avg_pool": "avgpool", "avg_pool2d": "avgpool",
}
_KEYS = {
    "k": "k", "kernel": "k", "kernel_size": "k",
    "s": "s", "stride": "s",
    "p": "p", "pad": "p", "padding": "p",
    "d": "d", "dilation": "d",
    "ceil": "ceil", "ceil_mode": "ceil",
}
_POSITIONAL = ("k", "s", "p", "d")
MAX_LITERAL = 1_000_000  # any kernel, stride, padding, dilation or size; larger ones overflow the arithmetic


class ReceptiveParseError(NnlabError):
    """A malformed layer string; ``position`` is the 0-based offset of the offending token."""

    def __init__(self, message: str, text: str, position: int):
        self.text = text
        self.position = position
        super().__init__(message)

    def caret(self) -> str:
        """The string and, below it, a caret under the offending character (two lines)."""
        # Tabs become single spaces so the caret lines up whatever the terminal's tab stops.
        return f"{self.text.replace(chr(9), ' ')}\n{' ' * self.position}^"


@dataclass(frozen=True)
class LayerSpec:
    """One layer's geometry; every field is (height, width). kind: conv | maxpool | avgpool | global."""

    kind: str
    kernel: Pair = (1, 1)
    stride: Pair = (1, 1)
    padding: Pair = (0, 0)
    dilation: Pair = (1, 1)
    ceil_mode: bool = False
    label: str = ""  # how the user (or the module walker) wrote it, for tables

    @property
    def effective_kernel(self) -> Pair:
        # A dilated kernel spans d*(k-1)+1 input pixels.
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilation))  # type: ignore[return-value]


@dataclass(frozen=True)
class LayerRow:
    """The state after one layer. ``rf`` is None after a global layer (it sees the whole input)."""

    index: int
    spec: LayerSpec
    jump: Pair                       # distance in input pixels between neighbouring output units
    rf: Pair | None                  # receptive field of one output unit, in input pixels
    start: tuple[float, float]       # input coordinate of the first output unit's field centre
    out: Pair | None = None          # output size, when the input size is known
    flags: tuple[str, ...] = field(default=())
    # After a global layer, with the input size known and not all of it read: the input rows and
    # columns (inclusive) any unit before it saw. Strided layers can leave border pixels unread.
    covered: tuple[Pair, Pair] | None = None


# ---- tokenizer --------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"(?P<ws>\s+)"
    r"|(?P<dims>\d+(?:\s*[xX×*]\s*\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<arrow>->|→)"
    r"|(?P<punct>[(),=;|])"
)


@dataclass(frozen=True)
class _Tok:
    kind: str   # dims | name | arrow | punct | eof
    text: str
    pos: int


def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ReceptiveParseError(f"unexpected character {text[pos]!r}", text, pos)
        if m.lastgroup != "ws":
            toks.append(_Tok(m.lastgroup or "", m.group(), pos))
        pos = m.end()
    toks.append(_Tok("eof", "", len(text)))
    return toks


# ---- parser -----------------------------------------------------------------------------------

class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def fail(self, message: str, tok: _Tok) -> ReceptiveParseError:
        return ReceptiveParseError(message, self.text, tok.pos)

    def expect(self, text: str) -> _Tok:
        tok = self.take()
        if tok.text != text:
            found = "end of string" if tok.kind == "eof" else repr(tok.text)
            raise self.fail(f"expected {text!r}, found {found}", tok)
        return tok

    def stack(self) -> list[LayerSpec]:
        if self.peek().kind == "eof":
            raise self.fail("empty layer string: expected a layer such as conv(3,1)", self.peek())
        layers = [self.layer()]
        while self.peek().kind != "eof":
            if self.peek().text in (",", ";", "|") or self.peek().kind == "arrow":
                self.take()  # optional separator between layers
            layers.append(self.layer())
        return layers

    def layer(self) -> LayerSpec:
        name = self.take()
        if name.kind != "name":
            raise self.fail("expected a layer name (conv, pool, maxpool, avgpool)", name)
        kind = _KINDS.get(name.text.lower())
        if kind is None:
            raise self.fail(f"unknown layer {name.text!r}; known: conv, conv2d, pool, maxpool, "
                            "maxpool2d, avgpool, avgpool2d", name)
        self.expect("(")
        args: dict[str, object] = {}
        n_pos = 0
        if self.peek().text != ")":
            while True:
                n_pos = self.arg(args, n_pos)
                if self.peek().text != ",":
                    break
                self.take()
        end = self.expect(")")
        if "k" not in args:
            raise self.fail(f"{name.text}(...) needs a kernel size", end)
        return self._spec(kind, args, self.text[name.pos:end.pos + 1], name)

    def arg(self, args: dict[str, object], n_pos: int) -> int:
        tok = self.take()
        if tok.kind == "name" and self.peek().text == "=":
            key = _KEYS.get(tok.text.lower())
            if key is None:
                raise self.fail(f"unknown argument {tok.text!r}; use k, s, p, d or ceil_mode", tok)
            self.take()
            value_tok = self.take()
            if key in args:
                raise self.fail(f"argument {tok.text!r} given twice", tok)
        else:
            if n_pos >= len(_POSITIONAL):
                raise self.fail("too many positional arguments (at most k, s, p, d)", tok)
            key, value_tok, n_pos = _POSITIONAL[n_pos], tok, n_pos + 1
            if key in args:
                raise self.fail(f"positional argument {key!r} also given by keyword", tok)
        args[key] = self.value(key, value_tok)
        return n_pos

    def value(self, key: str, tok: _Tok) -> object:
        if key == "ceil":
            if tok.text.lower() in ("true", "1"):
                return True
            if tok.text.lower() in ("false", "0"):
                return False
            raise self.fail("ceil_mode takes true or false", tok)
        if tok.kind != "dims":
            raise self.fail(f"expected a number for {key!r}, found {tok.text or 'end of string'!r}", tok)
        texts = re.split(r"\s*[xX×*]\s*", tok.text)
        if any(len(t.lstrip("0")) > len(str(MAX_LITERAL)) or int(t) > MAX_LITERAL for t in texts):
            raise self.fail(f"{key} is too large: at most {MAX_LITERAL:,}", tok)
        parts = [int(x) for x in texts]
        pair = (parts[0], parts[-1])  # "3" means 3x3
        low = 0 if key == "p" else 1
        if min(pair) < low:
            raise self.fail(f"{key} must be at least {low}", tok)
        return pair

    def _spec(self, kind: str, args: dict, label: str, name: _Tok) -> LayerSpec:
        k = args["k"]
        s = args.get("s", k if kind != "conv" else (1, 1))  # PyTorch: pool stride defaults to kernel
        if kind == "conv" and args.get("ceil"):
            raise self.fail("ceil_mode applies to pooling only", name)
        return LayerSpec(kind, k, s, args.get("p", (0, 0)), args.get("d", (1, 1)),
                         bool(args.get("ceil", False)), label)


def parse(text: str) -> list[LayerSpec]:
    """Parse a layer string into specs; raise ``ReceptiveParseError`` (with a position) if malformed."""
    return _Parser(text).stack()


def parse_input_size(text: str) -> Pair:
    """``"32"`` -> (32, 32); ``"28x20"`` -> (28, 20). Raises NnlabError for anything else."""
    m = re.fullmatch(r"\s*(\d{1,9})\s*(?:[xX×*]\s*(\d{1,9}))?\s*", text)
    if not m or not (1 <= int(m.group(1)) <= MAX_LITERAL and 1 <= int(m.group(2) or 1) <= MAX_LITERAL):
        raise NnlabError(f"--input expects H or HxW with integers from 1 to {MAX_LITERAL:,}, got {text[:40]!r}")
    return int(m.group(1)), int(m.group(2) or m.group(1))


# ---- arithmetic -------------------------------------------------------------------------------

def output_size(n: int, k_eff: int, s: int, p: int, ceil_mode: bool) -> int:
    """PyTorch's output length: floor((n + 2p - k_eff)/s) + 1, or ceil(...) for ceil_mode pooling."""
    span = n + 2 * p - k_eff
    # Python's // floors like PyTorch's div_rtn, negative spans included.
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    # PyTorch drops a last window that would start entirely inside the right padding.
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    out = max(out, 0)
    return out


def _flags(spec: LayerSpec, out: Pair | None) -> tuple[str, ...]:
    flags = []
    if spec.kind in ("maxpool", "avgpool"):
        # PyTorch rejects pool padding beyond half the kernel (torch 2.x compares with the
        # undilated kernel even for dilated max pooling): an edge window could see only padding.
        if any(p > k // 2 for p, k in zip(spec.padding, spec.kernel)):
            flags.append("padding > half kernel (PyTorch rejects)")
        if spec.kind == "avgpool" and spec.dilation != (1, 1):
            flags.append("AvgPool2d has no dilation")
    if out is not None and min(out) < 1:
        flags.append("empty output")
    return tuple(flags)


def compute(layers: list[LayerSpec], input_size: Pair | None = None) -> list[LayerRow]:
    """Walk the stack; return one row per layer with jump, receptive field, start and output size.

    Recurrence per axis (jump j, field r, start c; before any layer j=1, r=1, c=0):
    ``r += (k_eff - 1) * j``; ``c += ((k_eff - 1)/2 - p) * j``; ``j *= s``.
    """
    jump, rf, start = [1, 1], [1, 1], [0.0, 0.0]
    whole = False
    size = list(input_size) if input_size else None
    covered = None
    rows = []
    for i, spec in enumerate(layers):
        flags: tuple[str, ...] = ()
        if spec.kind == "global":
            if not whole and size is not None and input_size is not None:
                covered = _covered(start, jump, rf, size, input_size)
                if covered == ((0, input_size[0] - 1), (0, input_size[1] - 1)):
                    covered = None  # the usual case: the whole input
                else:
                    flags = (f"reads input rows {covered[0][0]}-{covered[0][1]}, "
                             f"cols {covered[1][0]}-{covered[1][1]} only",)
            whole = True
            out = (1, 1) if size else None
        else:
            for ax in (0, 1):
                ke = spec.effective_kernel[ax]
                rf[ax] += (ke - 1) * jump[ax]
                start[ax] += ((ke - 1) / 2 - spec.padding[ax]) * jump[ax]
                jump[ax] *= spec.stride[ax]
            out = None
            if size is not None:
                out = tuple(output_size(size[ax], spec.effective_kernel[ax], spec.stride[ax],
                                      spec.padding[ax], spec.ceil_mode) for ax in (0, 1))
        rows.append(LayerRow(i, spec, (jump[0], jump[1]), None if whole else (rf[0], rf[1]),
                             (start[0], start[1]), out, flags + _flags(spec, out), covered))
        if out is not None:
            size = list(out) if min(out) > 0 else [0, 0]
    return rows


def _covered(start, jump, rf, size, input_size) -> tuple[Pair, Pair]:
    """Union of all current units' fields, clipped to the input: (rows, cols), inclusive."""
    box = []
    for ax in (0, 1):
        half = (rf[ax] - 1) / 2
        lo = math.ceil(start[ax] - half)
        hi = math.floor(start[ax] + (size[ax] - 1) * jump[ax] + half)
        box.append((max(0, lo), min(input_size[ax] - 1, hi)))
    return box[0], box[1]


def format_rf(rf: Pair | None) -> str:
    """``(8, 8)`` -> ``"8 x 8"``; None -> ``"whole input"``."""
    return "whole input" if rf is None else f"{rf[0]} x {rf[1]}"


# ---- tables -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class TableLine:
    """One row of a ``--table`` file: an optional label, the layers, an optional expected field."""

    line_no: int
    label: str
    text: str
    expected: Pair | None


_LABEL = re.compile(r"^\s*(\d+)[.:)]?\s+(?=[A-Za-z])")
_EXPECTED = re.compile(r"(?:\s*=\s*|\s+)(\d{1,9})\s*[xX×]\s*(\d{1,9})\s*$|\s+[_?]\s*$")


def parse_table(content: str) -> list[TableLine]:
    """Split a table file into rows: one layer string per line; blank lines and ``#`` comments skip.

    A row may start with a number (``3`` or ``3.``), as when pasted from the assignment, and may end
    with the expected field (``8 x 8``; ``_`` or ``?`` for "unknown"), which is then checked.
    """
    rows = []
    for no, raw in enumerate(content.splitlines(), start=1):
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        label = ""
        m = _LABEL.match(line)
        if m:
            label, line = m.group(1), line[m.end():]
        expected = None
        m = _EXPECTED.search(line)
        if m:
            if m.group(1):
                expected = (int(m.group(1)), int(m.group(2)))
            line = line[:m.start()]
        rows.append(TableLine(no, label or str(len(rows) + 1), line.strip(), expected))
    return rows

