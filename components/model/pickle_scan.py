"""What a pickle or joblib file says about itself, read from its opcodes without unpickling it.

Unpickling runs code, and a user's model file is checked before anything is created, on a machine
that may not even have its libraries. So this module walks the opcode stream with the standard
library's `pickletools.genops` and a symbolic stack: nothing is imported and no object is built.
It answers two questions the scikit-learn runtime cares about:

- which scikit-learn wrote the file: `BaseEstimator.__getstate__` adds `_sklearn_version` to the
  state of every estimator whose class lives in `sklearn.*` (scikit-learn sklearn/base.py), so the
  state dicts the BUILD opcodes receive carry it;
- which modules the file imports (GLOBAL / STACK_GLOBAL): the server can unpickle only classes its
  image installs.

joblib's own layout (joblib/numpy_pickle.py, 1.x): `joblib.dump` pickles a `NumpyArrayWrapper`
(subclass, shape, order, dtype, allow_mmap, numpy_array_alignment_bytes) in place of every numpy
array and writes the array's bytes into the file right after that wrapper's BUILD opcode, outside
any pickle frame: one padding-length byte and that many padding bytes when the wrapper has an
alignment (joblib >= 1.2), then the raw data; an array of Python objects is a nested, complete
protocol-5 pickle there instead. The scanner reads the wrapper's state and skips exactly those
bytes. Compressed joblib files (compress=...) are read through the standard library's zlib, gzip,
bz2 and lzma (xz) decompressors, detected by joblib's own magic numbers; lz4 needs a package the
standard library lacks, and the pre-0.9.3 "ZF" layout stores arrays in side files: both are
refused with a PickleScanError saying so.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import math
import pickletools
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

# joblib/compressor.py magic numbers (the first bytes of a compressed dump).
_ZLIB, _GZIP, _BZ2, _XZ, _LZMA, _LZ4, _ZFILE = (
    b"\x78", b"\x1f\x8b", b"BZ", b"\xfd7zXZ", b"\x5d\x00", b"\x04\x22\x4d\x18", b"ZF",
)
_WRAPPER = ("joblib.numpy_pickle", "NumpyArrayWrapper")
_MARK = object()


class PickleScanError(Exception):
    """The file is not a pickle (or joblib dump) this scanner can read; `reason` says why."""

    def __init__(self, reason: str, file_name: str = "") -> None:
        self.reason = reason
        super().__init__(f"{file_name} cannot be read as a pickle: {reason}" if file_name else reason)


@dataclass(frozen=True)
class PickleFacts:
    """What the opcodes of one file say."""

    sklearn_versions: frozenset[str]
    """Every `_sklearn_version` found in an estimator's state (one per scikit-learn release)."""
    globals: frozenset[str]
    """Every `module.qualname` the file imports."""
    compression: str
    """`none`, or the joblib compressor whose format the file is in (zlib, gzip, bz2, xz, lzma)."""


@dataclass
class _Global:
    module: str
    name: str


@dataclass
class _Object:
    """An object the pickle would build: its callable (a _Global or anything) and its state."""

    factory: Any
    args: Any = None
    state: Any = None


@dataclass
class _Machine:
    stream: Any
    memo: dict[int, Any] = field(default_factory=dict)
    stack: list[Any] = field(default_factory=list)
    versions: set[str] = field(default_factory=set)
    globals: set[str] = field(default_factory=set)


def scan(path: str | Path) -> PickleFacts:
    """The scikit-learn versions and imports of a pickle or joblib file, without unpickling it."""
    path = Path(path)
    with path.open("rb") as raw:
        head = raw.read(8)
        raw.seek(0)
        try:
            compression, stream = _open(head, raw)
            with stream:
                machine = _Machine(_Positioned(stream))
                _run(machine)
        except PickleScanError as error:
            raise PickleScanError(error.reason, path.name) from None
        except Exception as error:  # a truncated or foreign file fails somewhere in genops or a decompressor
            reason = f"it breaks off or is not a pickle where it claims to be ({type(error).__name__}: {error})"
            raise PickleScanError(reason, path.name) from None
    return PickleFacts(frozenset(machine.versions), frozenset(machine.globals), compression)


def _open(head: bytes, raw: IO[bytes]) -> tuple[str, IO[bytes]]:
    if head.startswith(_ZFILE):
        raise PickleScanError("it is a joblib < 0.9.3 dump (\"ZF\" header), whose arrays live in side files")
    if head.startswith(_LZ4):
        raise PickleScanError(
            "it is an lz4-compressed joblib dump, which needs the lz4 package to read (servebox reads "
            "uncompressed dumps and joblib's zlib, gzip, bz2, xz and lzma compression)"
        )
    if head.startswith(_GZIP):
        return "gzip", gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]  # a GzipFile is a binary stream
    if head.startswith(_BZ2):
        return "bz2", bz2.BZ2File(raw, mode="rb")
    if head.startswith(_XZ):
        return "xz", lzma.LZMAFile(raw, mode="rb", format=lzma.FORMAT_XZ)
    if head.startswith(_LZMA):
        return "lzma", lzma.LZMAFile(raw, mode="rb", format=lzma.FORMAT_ALONE)
    if head.startswith(_ZLIB):
        return "zlib", io.BufferedReader(_ZlibReader(raw))
    # After the compressors, as joblib does: lzma's magic is also the opcode EMPTY_LIST.
    if head.startswith(b"\x80") or head[:1] in (b"(", b"c", b"]", b"}", b"I", b"N"):
        return "none", raw
    raise PickleScanError(
        f"it starts with the bytes {head[:4]!r}, and a pickle starts with 0x80 (or a protocol 0 or 1 opcode), "
        "a compressed joblib dump with a zlib, gzip, bz2, xz or lzma header"
    )


class _ZlibReader(io.RawIOBase):
    """joblib's BinaryZlibFile output: one zlib stream (wbits 15), decompressed as it is read."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._inflate = zlib.decompressobj()
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending and not self._inflate.eof:
            chunk = self._raw.read(64 * 1024)
            self._pending = self._inflate.decompress(chunk) if chunk else self._inflate.flush()
            if not chunk:
                break
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count


class _Positioned:
    """A read-only stream that counts what it has given out: genops asks every stream for its
    position, and a decompressing stream cannot seek."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._position = 0

    def read(self, count: int = -1) -> bytes:
        data = self._stream.read(count)
        self._position += len(data)
        return data

    def readline(self) -> bytes:
        data = self._stream.readline()
        self._position += len(data)
        return data

    def tell(self) -> int:
        return self._position


def _read_exact(stream: Any, count: int) -> None:
    remaining = count
    while remaining:
        chunk = stream.read(min(remaining, 1 << 20))
        if not chunk:
            raise PickleScanError(f"the file ends inside a joblib array ({remaining} of {count} bytes missing)")
        remaining -= len(chunk)


def _run(machine: _Machine) -> None:
    """Execute one pickle (up to its STOP) symbolically."""
    stack, memo = machine.stack, machine.memo
    operations: Iterator[tuple[pickletools.OpcodeInfo, Any, int | None]] = pickletools.genops(machine.stream)
    for opcode, arg, _ in operations:
        name = opcode.name
        if name in ("PROTO", "FRAME"):
            continue
        if name == "STOP":
            return
        if name == "MARK":
            stack.append(_MARK)
        elif name in _PUSH_ARG:
            stack.append(arg)
        elif name in _PUSH_CONST:
            stack.append(_PUSH_CONST[name])
        elif name in ("EMPTY_LIST", "EMPTY_SET"):
            stack.append([])  # a set is kept as a list: its items may be unhashable stand-ins
        elif name == "EMPTY_DICT":
            stack.append({})
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[arg] = stack[-1]
        elif name == "MEMOIZE":
            memo[len(memo)] = stack[-1]
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            stack.append(memo[arg])
        elif name == "POP":
            stack.pop()
        elif name == "POP_MARK":
            _pop_mark(stack)
        elif name == "DUP":
            stack.append(stack[-1])
        elif name in ("GLOBAL", "INST"):
            module, qualname = arg.split(" ", 1)
            machine.globals.add(f"{module}.{qualname}")
            if name == "GLOBAL":
                stack.append(_Global(module, qualname))
            else:
                stack.append(_Object(_Global(module, qualname), tuple(_pop_mark(stack))))
        elif name == "STACK_GLOBAL":
            qualname, module = stack.pop(), stack.pop()
            machine.globals.add(f"{module}.{qualname}")
            stack.append(_Global(str(module), str(qualname)))
        elif name == "OBJ":
            items = _pop_mark(stack)
            stack.append(_Object(items[0], tuple(items[1:])))
        elif name in ("REDUCE", "NEWOBJ"):
            args = stack.pop()
            stack.append(_Object(stack.pop(), args))
        elif name == "NEWOBJ_EX":
            stack.pop()
            args = stack.pop()
            stack.append(_Object(stack.pop(), args))
        elif name == "BUILD":
            _build(machine, stack.pop())
        elif name in ("TUPLE", "FROZENSET"):
            items = _pop_mark(stack)
            stack.append(tuple(items) if name == "TUPLE" else frozenset(map(_hashable, items)))
        elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
            size = int(name[-1])
            items = stack[-size:]
            del stack[-size:]
            stack.append(tuple(items))
        elif name == "LIST":
            stack.append(_pop_mark(stack))
        elif name == "DICT":
            items = _pop_mark(stack)
            stack.append({_hashable(items[i]): items[i + 1] for i in range(0, len(items), 2)})
        elif name in ("APPEND", "APPENDS", "ADDITEMS"):
            items = [stack.pop()] if name == "APPEND" else _pop_mark(stack)
            target = stack[-1]
            if isinstance(target, list):
                target.extend(items)
        elif name in ("SETITEM", "SETITEMS"):
            items = stack[-2:] if name == "SETITEM" else _pop_mark(stack)
            if name == "SETITEM":
                del stack[-2:]
            target = stack[-1]
            if isinstance(target, dict):
                for i in range(0, len(items), 2):
                    target[_hashable(items[i])] = items[i + 1]
        elif name in ("PERSID", "BINPERSID"):
            if name == "BINPERSID":
                stack.pop()
            stack.append(_Object("persistent id"))
        elif name in ("EXT1", "EXT2", "EXT4"):
            stack.append(_Object(f"extension {arg}"))
        elif name in ("NEXT_BUFFER", "READONLY_BUFFER"):
            raise PickleScanError("the pickle uses out-of-band buffers (protocol 5 buffer_callback), which no file holds")
        else:
            raise PickleScanError(f"unknown pickle opcode {name}")
    raise PickleScanError("the pickle ends without its STOP opcode")


# Opcodes that push their argument as it is (numbers, strings, bytes).
_PUSH_ARG = frozenset({
    "INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "FLOAT", "BINFLOAT",
    "STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "BINUNICODE", "SHORT_BINUNICODE",
    "BINUNICODE8", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8",
})
_PUSH_CONST: dict[str, Any] = {
    "NONE": None, "NEWTRUE": True, "NEWFALSE": False, "EMPTY_TUPLE": (),
}


def _pop_mark(stack: list[Any]) -> list[Any]:
    for index in range(len(stack) - 1, -1, -1):
        if stack[index] is _MARK:
            items = stack[index + 1 :]
            del stack[index:]
            return items
    raise PickleScanError("the pickle pops a MARK it never pushed")


def _hashable(value: Any) -> Any:
    try:
        hash(value)
        return value
    except TypeError:
        return id(value)


def _build(machine: _Machine, state: Any) -> None:
    target = machine.stack[-1]
    if isinstance(state, tuple) and len(state) == 2 and isinstance(state[0], dict):
        state = state[0]  # (dict state, slot state)
    if isinstance(state, dict):
        version = state.get("_sklearn_version")
        if isinstance(version, str):
            machine.versions.add(version)
    if isinstance(target, _Object):
        target.state = state
        factory = target.factory
        if isinstance(factory, _Global) and (factory.module, factory.name) == _WRAPPER and isinstance(state, dict):
            _skip_joblib_array(machine, state)


def _skip_joblib_array(machine: _Machine, state: dict[Any, Any]) -> None:
    """Step over the array bytes joblib wrote right after this NumpyArrayWrapper."""
    itemsize, has_object = _dtype_layout(state.get("dtype"))
    if has_object:
        nested = _Machine(machine.stream, versions=machine.versions, globals=machine.globals)
        _run(nested)
        return
    if state.get("numpy_array_alignment_bytes") is not None:
        padding = machine.stream.read(1)
        if len(padding) != 1:
            raise PickleScanError("the file ends before a joblib array's padding byte")
        _read_exact(machine.stream, padding[0])
    shape = state.get("shape")
    if not isinstance(shape, tuple) or not all(isinstance(n, int) for n in shape):
        raise PickleScanError(f"a joblib array wrapper has no readable shape ({shape!r})")
    _read_exact(machine.stream, math.prod(shape) * itemsize)


def _dtype_layout(dtype: Any) -> tuple[int, bool]:
    """(itemsize, holds Python objects) of a pickled `numpy.dtype`: its reduce arguments are
    (type string, align, copy) and its state (version, byte order, subarray, names, fields,
    elsize, alignment, flags[, metadata]); elsize is -1 for fixed-size types, whose size the type
    string ends with, and flags bit 0 is NPY_ITEM_HASOBJECT."""
    if not (isinstance(dtype, _Object) and isinstance(dtype.args, tuple) and dtype.args):
        raise PickleScanError(f"a joblib array wrapper has no readable dtype ({dtype!r})")
    type_string = str(dtype.args[0])
    state = dtype.state if isinstance(dtype.state, tuple) else ()
    flags = state[7] if len(state) > 7 and isinstance(state[7], int) else 0
    elsize = state[5] if len(state) > 5 and isinstance(state[5], int) else -1
    if type_string.startswith("O") or flags & 1:
        return 0, True
    if elsize > 0:
        return elsize, False
    match = re.fullmatch(r"[a-zA-Z](\d+)", type_string)
    if not match:
        raise PickleScanError(f"a joblib array has a dtype this scanner cannot size ({type_string!r})")
    return int(match.group(1)), False
