"""Import Wekinator training data (Weka ARFF files) into a gesturemap project.

What Wekinator writes (its source, ``wekimini/DataManager.java``, Wekinator 2.x): the data set
is a Weka ``Instances`` saved with Weka's ``ArffSaver`` — by "save data" in the examples
viewer and into a saved project's data folder::

    @relation dataset

    @attribute ID numeric
    @attribute Time date 'yyyy/MM/dd HH:mm:ss:SSS'
    @attribute 'Training round' numeric
    @attribute inputs-1 numeric                      one per input, Wekinator's input names
    @attribute inputs-2 numeric
    @attribute outputs-1 {0,1,2,3}                    a classifier output: class numbers
    @attribute outputs-2 numeric                      a continuous (regression) output

    @data
    1,'2016/03/01 14:02:11:123',1,0.52,0.12,1,0.25
    2,'2016/03/01 14:02:11:133',1,0.53,0.11,1,?

The three metadata columns come first (an example's ID, when it was recorded, and its
recording round: every example recorded between one start and stop of recording shares a
round). A classifier output is nominal with the values ``0`` to ``N`` (0 means "no class"); a
missing value ``?`` means the example was not recorded for that output. Per-output exports
(one model's data) have the same metadata, the inputs that output uses, and one output last.
Plain ARFF files (no metadata columns, the output last) load too.

How examples become takes: consecutive examples of one recording round with the same class
form a take (classification); consecutive examples of one round form a take (regression).
Without a round column, a new take starts whenever the class (or the output values) change.
The Time column gives each take's frame times. Class numbers become ``int`` labels (the class
numbers Wekinator sends); other nominal values stay ``str``. A file gesturemap exported names its
classes in header comments, ``% class 2: swipe``: those classes come back by name, keeping their
numbers for ``/wek/outputs`` (the project's ``outputs.class_numbers``).

Which columns are outputs: the trailing nominal (classifier) columns, else the last column;
``outputs=N`` says the last N. One classifier output makes a classification project; numeric
outputs a regression project (takes with outputs); several outputs with a classifier among
them a project whose takes hold every output value (class numbers included) and whose model
is ``per_output``: one model per output, kNN for a classifier and MLP for a regressor
(Wekinator's defaults). ``output=NAME`` imports one output alone.

``scipy.io.arff`` is not used: it cannot parse Wekinator's date format (milliseconds after a
colon, ``HH:mm:ss:SSS``), and the importer needs each row's raw metadata anyway.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import FormatError, GesturemapError
from ...utils.reading import (
    MAX_IMPORT_BYTES,
    open_regular_file,
    read_at_most,
    read_regular_file,
    text_lines,
)

#: the first bytes of a gzip file
GZIP_MAGIC = b"\x1f\x8b"

__all__ = [
    "Arff",
    "Attribute",
    "ImportSummary",
    "import_arff",
    "read_arff",
    "takes_from_arff",
]

#: Wekinator's metadata columns (DataManager: ID, Time, "Training round").
ID_COLUMN, TIME_COLUMN, ROUND_COLUMN = "ID", "Time", "Training round"
META_COLUMNS = (ID_COLUMN, TIME_COLUMN, ROUND_COLUMN)


# ---- parsing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attribute:
    """One ARFF column: ``kind`` is numeric, nominal, date or string."""

    name: str
    kind: str
    values: tuple[str, ...] = ()
    date_format: str | None = None


@dataclass
class Arff:
    """A parsed ARFF file: its columns and its rows (str values; None where missing)."""

    relation: str
    attributes: list[Attribute]
    rows: list[list[str | None]]
    lines: list[int] = field(default_factory=list)  # source line of each row, for errors
    #: class number (as written) -> class name, from gesturemap's own ``% class N: NAME``
    #: comments in the header (see :func:`gesturemap.interop.wekinator.examples.export_arff`)
    class_names: dict[str, str] = field(default_factory=dict)
    #: how many trailing columns are outputs, from gesturemap's ``% outputs: N`` comment
    output_count: int | None = None

    def index(self, name: str) -> int | None:
        for i, a in enumerate(self.attributes):
            if a.name == name:
                return i
        return None


_WORD = re.compile(r"""\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s{},]+)""")


def _unquote(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "'\"":
        return re.sub(r"\\(.)", r"\1", token[1:-1])
    return token


#: one ARFF token, as Weka's reader cuts a line: whitespace and commas alike separate values, a
#: comma alone between two separators is an empty value (named in the error it leads to),
#: quotes keep spaces, commas and % (backslash escapes inside), braces stand alone, and % ends
#: the line outside quotes
_TOKEN = re.compile(r"""[\x00-\x20]*(?:(,)|'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|([{}])|(%)"""
                    r"""|([^\x00-\x20,%{}'"][^\x00-\x20,%{}]*))""", re.S)
#: the characters that make a line more than plain comma-separated values
_SPECIAL = re.compile(r"""['"%{}]""")

#: a token: its text and whether it was quoted (a quoted ? or brace is a value, not syntax)
Token = tuple[str, bool]


def _tokens(text: str, where: str) -> list[Token]:
    """Cut an ARFF line into tokens (see :data:`_TOKEN`).

    Raises
    ------
    FormatError
        If a quote is not closed.
    """
    if not _SPECIAL.search(text):  # Wekinator's rows: plain values and commas, read at once
        parts = [p.strip() for p in text.split(",")]
        if parts[-1] == "":  # a comma ending the line separates nothing
            parts.pop()
        if all(parts) and not any(" " in p or "\t" in p for p in parts):
            return [(p, False) for p in parts]
    tokens: list[Token] = []
    pos, after_comma = 0, False
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            if text[pos:].strip(" \t\r\n\x0b\x0c"):
                raise FormatError(f"{where}: a quote is not closed.")
            break
        comma, single, double, brace, comment, word = match.groups()
        pos = match.end()
        if comment is not None:
            break
        if comma is not None:
            if after_comma:
                tokens.append(("", False))
            after_comma = True
            continue
        after_comma = False
        if single is not None or double is not None:
            tokens.append((re.sub(r"\\(.)", r"\1", single if single is not None else double,
                                  flags=re.S), True))
        elif brace is not None:
            tokens.append((brace, False))
        else:
            tokens.append((word, False))
    return tokens


def _value(token: Token) -> str | None:
    """A token's value: None for Weka's missing value, an unquoted ``?``."""
    text, quoted = token
    return None if text == "?" and not quoted else text


def _braced(tokens: list[Token], where: str, what: str) -> list[Token]:
    """The tokens between ``{`` and ``}`` (a nominal attribute's values, a sparse row), which
    must hold no other braces."""
    if not tokens or tokens[0] != ("{", False):
        raise FormatError(f"{where}: {what} must start with '{{'.")
    if tokens[-1] != ("}", False):
        raise FormatError(f"{where}: {what} must end with '}}'.")
    inner = tokens[1:-1]
    if ("{", False) in inner or ("}", False) in inner:
        raise FormatError(f"{where}: {what} holds a brace of its own; quote a value that has "
                          "one.")
    return inner


def _attribute(line: str, where: str) -> Attribute:
    rest = line[len("@attribute") :].strip()
    match = _WORD.match(rest)
    if not match:
        raise FormatError(f"{where}: an @attribute line without a name.")
    name = _unquote(match.group(1))
    kind_text = rest[match.end() :].strip()
    kind = _tokens(kind_text, where)
    lower = kind[0][0].lower() if kind else ""
    if kind and kind[0] == ("{", False):
        values = _braced(kind, where, f"the nominal values of {name!r}")
        return Attribute(name, "nominal", tuple(text for text, _ in values))
    if lower in ("numeric", "real", "integer") and len(kind) == 1:
        return Attribute(name, "numeric")
    if lower == "string" and len(kind) == 1:
        return Attribute(name, "string")
    if lower == "date" and len(kind) <= 2:
        fmt = kind[1][0] if len(kind) == 2 else "yyyy-MM-dd'T'HH:mm:ss"
        return Attribute(name, "date", date_format=fmt)
    raise FormatError(
        f"{where}: attribute {name!r} has type {kind_text!r}; gesturemap reads numeric, "
        "nominal {…}, date and string attributes (not relational ones)."
    )


def read_arff(path: str | os.PathLike[str]) -> Arff:
    """Parse an ARFF file (dense or sparse rows, values separated by commas or whitespace as
    Weka separates them, % comments, quoted names and values), plain or gzip-compressed (Weka's ``.arff.gz``, recognised by its content, whatever the name).

    Raises
    ------
    FormatError
        If the file is missing or is not ARFF; the message names the line.
    """
    where = os.fspath(path)
    with open_regular_file(path, max_bytes=MAX_IMPORT_BYTES) as handle:
        head = handle.read(2)
    packed = head == GZIP_MAGIC
    if head in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16's byte-order mark: Windows' "Unicode" text
        raw = read_regular_file(path, max_bytes=MAX_IMPORT_BYTES)
        return _parse_arff(where, iter(raw.decode("utf-16", errors="replace").splitlines()))
    if not packed:
        with text_lines(path, max_bytes=MAX_IMPORT_BYTES) as file_lines:  # one line at a time
            return _parse_arff(where, file_lines)
    raw = read_regular_file(path, max_bytes=MAX_IMPORT_BYTES)
    try:  # Weka's compressed ARFF: unpacked within the same bound
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as unpacked:
            raw = read_at_most(unpacked, MAX_IMPORT_BYTES + 1)
    except OSError as error:  # gzip's own errors (a damaged archive) are OSErrors too
        raise FormatError(f"{where}: cannot read it ({error.strerror or error}).") from None
    except EOFError:
        raise FormatError(f"{where}: cannot read it (the gzip archive is cut short).") from None
    if len(raw) > MAX_IMPORT_BYTES:
        raise FormatError(f"{where}: unpacked, it is more than the {MAX_IMPORT_BYTES} bytes "
                          "accepted here.")
    return _parse_arff(where, iter(raw.decode("utf-8", errors="replace").splitlines()))


#: gesturemap's export names each class number in a header comment, exactly this form (any
#: other comment is a comment): ``% class 2: swipe``, the name in ARFF quotes when it has
#: surrounding spaces, quotes or control characters
_CLASS_COMMENT = re.compile(r"% class (\d+): (.+)")
_UNESCAPES = {"n": "\n", "r": "\r", "t": "\t"}
#: ... and, for named outputs, how many trailing columns are outputs: ``% outputs: 2``
_OUTPUTS_COMMENT = re.compile(r"% outputs: (\d+)")


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    return chr(int(code[1:], 16)) if len(code) == 5 else _UNESCAPES.get(code, code)


def _class_comment(raw: str, names: dict[str, str], here: str) -> None:
    """Note a ``% class N: NAME`` header comment in ``names``; refuse a number or a name given
    twice (which class the rows mean would be a guess)."""
    match = _CLASS_COMMENT.fullmatch(raw.rstrip("\r\n"))
    if not match:
        return
    number, name = match.group(1), match.group(2)
    if name[0] == "'" and len(name) > 1 and name[-1] == "'":  # quoted: escapes as exported
        name = re.sub(r"\\(u[0-9a-f]{4}|.)", _unescape, name[1:-1])
    if number in names or name in names.values():
        raise FormatError(f"{here}: '% class {number}: {name}' names a class number or a class "
                          "a comment above named already; keep one line per class.")
    names[number] = name


def _parse_arff(where: str, file_lines: Any) -> Arff:
    relation, attributes, rows, lines = "", [], [], []
    class_names: dict[str, str] = {}
    output_count = None
    in_data = False
    for number, raw in enumerate(file_lines, start=1):
        line = raw.lstrip("\ufeff").strip() if number == 1 else raw.strip()  # a BOM: no data
        if not line or line.startswith("%"):
            if not in_data and line.startswith("% class "):
                _class_comment(raw.lstrip("\ufeff"), class_names, f"{where}, line {number}")
            elif not in_data and (count := _OUTPUTS_COMMENT.fullmatch(raw.rstrip("\r\n"))):
                output_count = int(count.group(1))
            continue
        here = f"{where}, line {number}"
        if not in_data:
            lower = line.lower()
            if lower.startswith("@relation"):
                relation = _unquote(line[len("@relation") :].strip())
            elif lower.startswith("@attribute"):
                attributes.append(_attribute(line, here))
            elif lower.startswith("@data"):
                in_data = True
            elif "\x00" in line or "\ufffd" in line:  # its bytes shown said nothing useful
                raise FormatError(f"{where} is not an ARFF file: it holds binary data, not "
                                  "text (a .npz dataset is read by gesturemap eval --train).")
            elif "," in line or "\t" in line or ";" in line:
                # a table of values with no header (a CSV, or Wekinator's data saved as one):
                # the commonest file that is not an ARFF, and one line of header makes it one
                raise FormatError(
                    f"{here}: expected @relation, @attribute or @data, got {line[:40]!r}: this "
                    "is a table (CSV), not an ARFF file. gesturemap imports ARFF: put a header "
                    "above its rows (@relation NAME, one '@attribute NAME numeric' per column, "
                    "the outputs last, named outputs-1, outputs-2, ... or counted with "
                    "--outputs N, then @data), with the values separated by commas and no row "
                    "of column names.")
            else:
                raise FormatError(
                    f"{here}: expected @relation, @attribute or @data, got {line[:40]!r}; is "
                    "this an ARFF file?"
                )
            continue
        tokens = _tokens(line, here)
        if not tokens:  # a line holding only a comment
            continue
        weight = tokens[-3:] if len(tokens) >= 3 and tokens[-3] == ("{", False) else []
        if weight and (tokens[0] != ("{", False) or tokens.count(("{", False)) == 2):
            raise FormatError(
                f"{here}: the row ends with an instance weight {{{weight[1][0]}}}; gesturemap "
                "gives every example the same weight: remove the weights to import the file.")
        if tokens[0] == ("{", False):  # sparse row: {index value, ...}; absent values are 0
            values = _sparse_row(_braced(tokens, here, "a sparse row"), len(attributes), here)
        else:
            if len(tokens) != len(attributes):
                raise FormatError(f"{here}: {len(tokens)} values for {len(attributes)} attributes.")
            values = [_value(t) for t in tokens]
        rows.append(values)
        lines.append(number)
    if not attributes or not in_data:
        raise FormatError(f"{where} is not an ARFF file: it has no @attribute lines or no @data.")
    return Arff(relation, attributes, rows, lines, class_names, output_count)


def _sparse_row(items: list[Token], width: int, here: str) -> list[str | None]:
    """A sparse row's values from its ``index value`` pairs (absent values are 0; ``?`` is
    missing in a sparse row as in a dense one)."""
    if len(items) % 2:
        raise FormatError(f"{here}: bad sparse entry {items[-1][0]!r} (an index without its "
                          "value).")
    values: list[str | None] = ["0"] * width
    for (index_text, quoted), value in zip(items[::2], items[1::2], strict=True):
        try:
            index = int(index_text)
            if quoted or not 0 <= index < width:
                raise ValueError
        except ValueError:
            raise FormatError(f"{here}: bad sparse entry {index_text} {value[0]!r} (the index "
                              f"must be a column number, 0 to {width - 1}).") from None
        values[index] = _value(value)
    return values


_JAVA_DATE = [
    ("yyyy", "%Y"),
    ("MM", "%m"),
    ("dd", "%d"),
    ("HH", "%H"),
    ("mm", "%M"),
    ("ss", "%S"),
    ("SSS", "%f"),
]


def _python_date_format(java: str) -> str:
    """Java SimpleDateFormat pattern -> strptime pattern (the fields Weka files use)."""
    out, i = [], 0
    while i < len(java):
        if java[i] == "'":  # a quoted literal, e.g. 'T'
            end = java.index("'", i + 1) if "'" in java[i + 1 :] else len(java)
            out.append(java[i + 1 : end].replace("%", "%%"))
            i = end + 1
            continue
        for pattern, code in _JAVA_DATE:
            if java.startswith(pattern, i):
                out.append(code)
                i += len(pattern)
                break
        else:
            out.append("%%" if java[i] == "%" else java[i])
            i += 1
    return "".join(out)


def _moment(value: str | None, fmt: str) -> _dt.datetime | None:
    if value is None:
        return None
    try:
        return _dt.datetime.strptime(value, fmt)
    except ValueError:
        return None


# ---- from rows to takes -------------------------------------------------------------------------


@dataclass
class ImportedTake:
    """One take: inputs (T, D), its label, frame times (T,) or None, outputs (T, D_out) or
    None, and when it was recorded (its last example's Time, local: a take is recorded when
    it ends) or None."""

    label: Any
    inputs: np.ndarray
    times: np.ndarray | None
    outputs: np.ndarray | None
    ended: _dt.datetime | None = None


@dataclass
class ImportSummary:
    """What :func:`takes_from_arff` found and did."""

    task: str
    inputs: list[str]
    outputs: list[str]
    takes: list[ImportedTake]
    examples: int
    skipped: int
    metadata: list[str]
    #: per output: "classifier" (class numbers) or "regressor"
    output_types: list[str] = field(default_factory=list)
    #: class name -> the number the file wrote it as (named classes of gesturemap's export)
    class_numbers: dict[str, int] = field(default_factory=dict)
    #: into an existing project: where the file's classes went, which are new (else "")
    merged: str = ""

    def describe(self) -> str:
        labels = sorted({t.label for t in self.takes}, key=_number_first)
        if self.task == "classification":
            what = (f"{len(labels)} class{'es' if len(labels) != 1 else ''} "
                    f"({', '.join(map(str, labels))})")
        else:
            what = "outputs " + ", ".join(
                f"{n} ({t})" for n, t in zip(self.outputs, self.output_types, strict=True)
            )
        skipped = f", {self.skipped} skipped (missing values)" if self.skipped else ""
        merged = f"; {self.merged}" if self.merged else ""
        return (
            f"{len(self.takes)} takes, {self.examples} examples{skipped}; {what}; "
            f"inputs {', '.join(self.inputs)}{merged}"
        )


def _number_first(label: Any) -> tuple[int, float, str]:
    """Sort key: class numbers as numbers (1, 2, 10), then other labels as text."""
    try:
        return (0, float(label), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(label))


def _output_columns(data: Arff, candidates: list[int], outputs: int | None,
                    where: str = "the ARFF file") -> list[int]:
    """The output block: the last ``outputs`` columns; else, in a Wekinator export (its
    metadata columns first), the columns named ``outputs-N`` (Wekinator's default names) or a
    single trailing class column; else the trailing nominal columns (class outputs), else
    the last column (a plain ARFF, Weka's convention). A Wekinator export whose outputs
    cannot be told apart from its inputs is refused, unless gesturemap's own export says how
    many trailing columns are outputs (``% outputs: N``)."""
    if outputs is None and data.output_count is not None \
            and 1 <= data.output_count < len(candidates):
        outputs = data.output_count
    if outputs is None and all(data.index(m) is not None for m in META_COLUMNS):
        names = [data.attributes[i].name for i in candidates]
        named = [i for i, n in zip(candidates, names, strict=True)
                 if re.fullmatch(r"outputs-\d+", n)]
        nominal = [i for i in candidates if data.attributes[i].kind == "nominal"]
        if named and named == candidates[-len(named):]:
            return named
        if not named and nominal == candidates[-1:]:
            return nominal
        if len(candidates) == 2:  # one input, one output: nothing else it can be
            return candidates[-1:]
        if not named and not nominal and any(re.fullmatch(r"inputs-\d+", n) for n in names) \
                and sum(bool(re.fullmatch(r"inputs-\d+", n)) for n in names) == len(names) - 1:
            return candidates[-1:]
        raise GesturemapError(
            f"{where}: a Wekinator export whose outputs cannot be told from its inputs (columns "
            f"{', '.join(names)}). Import the whole project folder (with its outputConfig.xml), "
            "or say how many trailing columns are outputs (--outputs N).")
    if outputs is not None:
        if isinstance(outputs, bool) or not 1 <= outputs < len(candidates):
            raise GesturemapError(
                f"outputs={outputs}: expected 1 to {len(candidates) - 1} (the file has "
                f"{len(candidates)} columns besides Wekinator's metadata)."
            )
        return candidates[-outputs:]
    tail: list[int] = []
    for i in reversed(candidates):
        if data.attributes[i].kind != "nominal":
            break
        tail.insert(0, i)
    return tail or candidates[-1:]


def takes_from_arff(
    data: Arff,
    *,
    outputs: int | None = None,
    output: str | None = None,
    where: str = "the ARFF file",
) -> ImportSummary:
    """Cut an ARFF file's examples into takes (see the module docstring).

    Parameters
    ----------
    data : Arff
        From :func:`read_arff`.
    outputs : int, optional
        How many trailing columns are outputs. Default: the trailing nominal columns
        (classifier outputs), else the last column (a per-output export).
    output : str, optional
        Import only this output column (a full export with several outputs); the other
        trailing outputs (``outputs``, or the default) are left out.
    """
    meta = {name: data.index(name) for name in META_COLUMNS}
    meta_index = {i for i in meta.values() if i is not None}
    candidates = [i for i in range(len(data.attributes)) if i not in meta_index]
    if len(candidates) < 2:
        raise GesturemapError(f"{where}: it needs at least one input and one output column.")
    out_cols = _output_columns(data, candidates, outputs, where)
    in_cols = [i for i in candidates if i not in out_cols]
    if output is not None:
        names = [data.attributes[i].name for i in candidates]
        if output not in names:
            raise GesturemapError(
                f"{where}: output={output!r}: no such column; the columns are {', '.join(names)}."
            )
        pos = names.index(output)
        # Wekinator writes every output after the inputs: the other outputs are not inputs
        block = out_cols if candidates[pos] in out_cols else candidates[pos:]
        in_cols = [i for i in candidates if i not in block]
        out_cols = [candidates[pos]]
    for i in in_cols:
        a = data.attributes[i]
        if a.kind != "numeric":
            raise GesturemapError(
                f"{where}: input column {a.name!r} is {a.kind}, not numeric. If it is an output, "
                "say how many trailing columns are outputs (--outputs N) or pick one (--output "
                "NAME)."
            )
    kinds = {data.attributes[i].kind for i in out_cols}
    if kinds - {"nominal", "numeric"}:
        raise GesturemapError(f"{where}: an output column is a {kinds - {'nominal', 'numeric'}}.")
    # several outputs with classifiers among them: every column becomes an output value, class
    # numbers included (a per-output project, one model per output, as in Wekinator)
    several = len(out_cols) > 1 and "nominal" in kinds
    if several:
        for i in out_cols:
            a = data.attributes[i]
            if a.kind == "nominal" and not all(re.fullmatch(r"[+-]?\d+", v) for v in a.values):
                raise GesturemapError(
                    f"{where}: classifier output {a.name!r} has values {{{','.join(a.values)}}}, "
                    "not class numbers: import it alone with --output NAME."
                )
    classification = kinds == {"nominal"} and not several
    time_col, round_col = meta[TIME_COLUMN], meta[ROUND_COLUMN]
    date_format = None
    if time_col is not None and data.attributes[time_col].kind == "date":
        date_format = _python_date_format(data.attributes[time_col].date_format or "")

    labels_raw: list[Any] = []
    rounds, times = [], []
    # the numbers go straight into arrays of the file's row count (cut to the examples
    # kept): lists of Python floats took four times their memory on a large import
    x_all = np.empty((len(data.rows), len(in_cols)))
    y_all = None if classification else np.empty((len(data.rows), len(out_cols)))
    count = skipped = 0
    numeric_out = [] if classification else out_cols
    for values, line in zip(data.rows, data.lines, strict=True):
        y = [values[i] for i in out_cols]
        numbers = _numbers(data, values, in_cols + numeric_out, f"{where}, line {line}")
        if numbers is None or any(v is None for v in y):
            skipped += 1  # not recorded for this output (Wekinator's "?"), or masked inputs
            continue
        x_all[count] = numbers[: len(in_cols)]
        if y_all is not None:
            y_all[count] = numbers[len(in_cols) :]
        if classification:
            attribute = data.attributes[out_cols[0]]
            if y[0] not in attribute.values:
                raise GesturemapError(
                    f"{where}, line {line}: class {y[0]!r} is not one of {attribute.name}'s "
                    f"values {{{','.join(attribute.values)}}}."
                )
            labels_raw.append(y[0])
        rounds.append(values[round_col] if round_col is not None else None)
        times.append(
            _moment(values[time_col], date_format)
            if date_format is not None and time_col is not None
            else None
        )
        count += 1
    if not count:
        raise GesturemapError(f"{where}: no example has every input and output value.")
    x_all = x_all[:count]
    y_all = None if y_all is None else y_all[:count]
    numbering: dict[str, int] = {}
    if classification:
        as_int = all(re.fullmatch(r"[+-]?\d+", v) for v in labels_raw)
        labels: list[Any] = [int(v) if as_int else v for v in labels_raw]
        if as_int and data.class_names:
            # the names gesturemap's export gave its class numbers; a number without one is
            # kept as text, as a project's classes are all names or all numbers, and keeps its
            # number too: a class "1" the export wrote as 1 is sent as 1 again, not as a new
            # class after the named ones
            labels = [data.class_names.get(str(n), str(n)) for n in labels]
            numbering = {data.class_names.get(str(n), str(n)): n
                         for n in sorted(set(map(int, labels_raw)))}
    else:
        labels = ["take"] * count  # what the engine names a take with output values

    def key(i: int) -> Any:
        if round_col is not None:
            return (rounds[i], labels[i])
        return labels[i] if classification else tuple(y_all[i])  # type: ignore[index]

    takes, start = [], 0
    for i in range(1, count + 1):
        if i < count and key(i) == key(start):
            continue
        t = times[start:i]
        frame_times = None
        if all(v is not None for v in t):
            rel = np.array([(v - t[0]).total_seconds() for v in t])  # type: ignore[operator]
            frame_times = rel if np.all(np.diff(rel) >= 0) else None
        takes.append(
            ImportedTake(
                labels[start],
                x_all[start:i],
                frame_times,
                None if y_all is None else y_all[start:i],
                t[-1],
            )
        )
        start = i
    return ImportSummary(
        "classification" if classification else ("outputs" if several else "regression"),
        [data.attributes[i].name for i in in_cols],
        [data.attributes[i].name for i in out_cols],
        takes,
        count,
        skipped,
        [name for name, i in meta.items() if i is not None],
        ["classifier" if data.attributes[i].kind == "nominal" else "regressor" for i in out_cols],
        numbering,
    )


def _numbers(data: Arff, values: list[str | None], columns: list[int], here: str) -> Any:
    """The row's numbers in ``columns``, or None when one is missing: ``?``, or ``NaN``, which
    Weka reads as its missing value too (a NaN went on to fail the take's check without
    saying which file or line). Anything else that is not a finite number is refused with its
    line and column."""
    numbers = []
    for i in columns:
        text = values[i]
        if text is None:
            return None
        try:
            number = float(text)
        except ValueError:
            number = None
        if number is not None and np.isnan(number):
            return None
        if number is None or not np.isfinite(number):
            raise GesturemapError(
                f"{here}, column {i + 1} ({data.attributes[i].name}): {text!r} is not a "
                "finite number (a missing value is written ?)."
            )
        numbers.append(number)
    return numbers


def _new_model(summary: ImportSummary, model: str | None) -> dict[str, Any]:
    """A new project's model: ``model``, else Wekinator's defaults — kNN for classes, and for
    several outputs one model per output (kNN for classifiers, MLP for regressors)."""
    from ...models import MODEL_REGISTRY

    def known(kind: str) -> str:
        if kind not in MODEL_REGISTRY:
            raise GesturemapError(
                f"model {kind!r} is not known; expected one of {', '.join(sorted(MODEL_REGISTRY))}."
            )
        return kind

    fallback = "knn" if "knn" in MODEL_REGISTRY else "gmm"
    if summary.task != "outputs":
        return {"kind": known(model or fallback), "params": {}}
    if "per_output" not in MODEL_REGISTRY:
        raise GesturemapError(
            f"{len(summary.outputs)} outputs ({', '.join(summary.outputs)}) with classes among "
            "them: import one with --output NAME."
        )
    defaults = {"classifier": fallback, "regressor": "mlp" if "mlp" in MODEL_REGISTRY else fallback}
    outputs = [
        {"kind": known(model or defaults[kind]), "target": name, "type": kind}
        for name, kind in zip(summary.outputs, summary.output_types, strict=True)
    ]
    return {"kind": "per_output", "params": {"outputs": outputs}}


def _check_same_task(proj: Any, summary: ImportSummary, folder: Path, where: str) -> None:
    """Refuse takes of another kind than the project's (continuous outputs into a project of
    classes, or the other way round, or another number of outputs): appended, they would be
    takes the project cannot train on."""
    names = list(proj.output_names or [])
    if summary.task == "classification":
        if names:
            raise GesturemapError(
                f"{folder} maps to continuous outputs ({', '.join(names)}); {where} holds "
                f"classes ({', '.join(summary.outputs)}). Import into a new project.")
        return
    if not names:
        raise GesturemapError(
            f"{folder} recognises classes; {where} holds continuous outputs "
            f"({', '.join(summary.outputs)}) after {len(summary.inputs)} inputs. Import into a "
            "new project, or say how many trailing columns are outputs (--outputs N).")
    if len(names) != len(summary.outputs):
        raise GesturemapError(
            f"{folder} has {len(names)} outputs ({', '.join(names)}); {where} has "
            f"{len(summary.outputs)} ({', '.join(summary.outputs)}). Import into a new project.")


def _merge_classes(proj: Any, summary: ImportSummary, folder: Path, where: str
                   ) -> dict[Any, Any]:
    """The project class each class of the file goes to (by name, else by number: see
    :mod:`gesturemap.interop.classes`); the project's numbering kept for its old classes, the
    summary saying what went where. Refuses classes that cannot be matched."""
    from ..classes import merge_classes

    if summary.task != "classification":
        return {}
    merge = merge_classes(proj, [t.label for t in summary.takes], summary.class_numbers,
                          where, folder)
    if merge.numbering is not None:
        proj.outputs = {**(proj.outputs or {}), "class_numbers": merge.numbering}
    summary.merged = merge.describe(merge.numbering)
    return merge.labels


def import_arff(
    path: str | os.PathLike[str],
    project: str | os.PathLike[str],
    *,
    outputs: int | None = None,
    output: str | None = None,
    model: str | None = None,
) -> tuple[Any, ImportSummary]:
    """Import a Wekinator ARFF file into a project folder (created, or appended to).

    A new project gets the file's input names (and output names, for outputs) and the
    model kind ``model`` (default ``knn`` when registered — Wekinator's default classifier —
    else ``gmm``; several outputs: ``per_output``, see the module docstring). An existing
    project must have the same number of inputs; its takes are kept and the imported ones
    added after them, their classes matched with the project's by name, else by number
    (:mod:`gesturemap.interop.classes`). The project is saved (atomically) before
    returning.

    Returns
    -------
    (Project, ImportSummary)
    """
    from ...project import PROJECT_FILE, Project

    summary = takes_from_arff(
        read_arff(path), outputs=outputs, output=output, where=os.fspath(path)
    )
    folder = Path(project)
    if (folder / PROJECT_FILE).exists():
        proj = Project.load(folder)
        if proj.input_dim is not None and proj.input_dim != len(summary.inputs):
            raise GesturemapError(
                f"{folder} has {proj.input_dim} inputs; {os.fspath(path)} has "
                f"{len(summary.inputs)} ({', '.join(summary.inputs)}). Import into a new project."
            )
        _check_same_task(proj, summary, folder, os.fspath(path))
        labels = _merge_classes(proj, summary, folder, os.fspath(path))
        if model is not None:
            proj.model = model
    else:
        proj = Project(
            folder.name or "imported",
            model=_new_model(summary, model),
            # named classes go on sending the numbers the file gave them on /wek/outputs
            outputs={"class_numbers": summary.class_numbers} if summary.class_numbers else None,
            input_names=summary.inputs,
            output_names=None if summary.task == "classification" else summary.outputs,
        )
        labels = {}
    added = [proj.add_take(take.inputs, labels.get(take.label, take.label), times=take.times,
                           created=take.ended,
                           outputs=take.outputs) for take in summary.takes]
    proj.save_batch(folder, [take.id for take in added])  # all or nothing: Ctrl-C included
    return proj, summary
