"""A logical row's dates and period names, parsed in Spark exactly as
`contract.values.row_periods` parses them in Python, with built-in functions only (no Python UDF,
and no regex but for a spelling of a period that is not written as the exports write it).

The Date Range is cut at its separators: the dates before the first comma, each date's numbers
between its slashes (checked to be plain digits by writing them back), then up to two trailing
parts, each looked up in the contract's spelling tables (`contract.periods`): as written first,
then in its normal form. The tests compare this parser with the Python one value by value."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from contract import columns as c
from contract import periods
from contract.table import quote_string
from contract.values import MAX_YEAR, MIN_YEAR
from glue.built_once import per_context
from glue.stages import new_stage

# The columns `with_periods` adds: dates null for an invalid value, names null when absent,
# `date_range_valid` false (never null) unless everything parses.
START_DATE, END_DATE, DAY_TYPE, TIME_OF_DAY, VALID = (
    "start_date",
    "end_date",
    "day_type",
    "time_of_day",
    "date_range_valid",
)
_PIECES = [f"_dr_{name}" for name in ("sm", "sd", "sy", "em", "ed", "ey")]  # M, D, Y of both
_BY_COMMA, _BY_DASH = "_dr_by_comma", "_dr_by_dash"  # the value cut at its commas, the dates at '-'
_CUTS = ("_dr_start_cut", "_dr_end_cut")  # each date cut at its slashes
_PARTS = ("_dr_p1", "_dr_p2")  # the trailing parts, trimmed (null when absent)
_SHAPE = "_dr_shape"  # true when the value has the shape (one '-', at most two parts, ...)
_NORMALS = ("_dr_n1", "_dr_n2")  # each part's normal form, unless written as the exports do
_NAMES = ("_dr_d1", "_dr_t1", "_dr_d2", "_dr_t2")  # what each part names as days / time
SPACE_TAB = " \t"


def _trim_space_tab(text: Column) -> Column:
    """`btrim(text, ' \t')`, fast. Spark trims a set of characters by looking each end
    character up in the set as a one-character string, and from the right only after listing
    every character's position in two new arrays (`UTF8String.trimRight`). The plain `trim` is
    a byte loop over spaces; what it leaves needs the set's trim only when a tab is at an end.
    Measured on 1M rows, `with_periods` alone (four runs each, after a first): about 7% less
    CPU."""
    spaces = F.trim(text)
    return F.when(
        spaces.startswith("\t") | spaces.endswith("\t"), F.btrim(spaces, F.lit(SPACE_TAB))
    ).otherwise(spaces)


def _map(mapping: dict[str, str]) -> Column:
    """`mapping` as a map literal, parsed from SQL in one call: built with `F.create_map` and one
    `F.lit` per key and value, the Date Range's lookups took about 700 Py4J calls per run."""
    return F.expr(f"map({', '.join(quote_string(x) for pair in mapping.items() for x in pair)})")


def _normal_form(text: Column) -> Column:
    """`contract.periods.normal_form` in Spark ((?d): `$` skips only a final "\\n", as in
    Python)."""
    without = F.regexp_replace(text, "(?d)" + periods.NORMAL_FORM_PATTERN, "")
    return F.lower(F.btrim(F.regexp_replace(without, "[ \t]+", " "), F.lit(SPACE_TAB)))


def canonical_day_type(text: Column, normal: Column | None = None) -> Column:
    """The canonical day type a spelling names, else null (contract.periods). `normal`: the
    text's normal form when already computed (see `_normal_unless_written`)."""
    return F.coalesce(
        F.element_at(_map(periods.DAY_TYPE_AS_WRITTEN), text),
        F.element_at(
            _map(periods.DAY_TYPE_NORMAL), _normal_form(text) if normal is None else normal
        ),
    )


def canonical_time_of_day(text: Column, normal: Column | None = None) -> Column:
    """The canonical time of day a spelling names, else null (contract.periods). `normal`: the
    text's normal form when already computed (see `_normal_unless_written`)."""
    return F.coalesce(
        F.element_at(_map(periods.TIME_OF_DAY_AS_WRITTEN), text),
        F.element_at(
            _map(periods.TIME_OF_DAY_NORMAL), _normal_form(text) if normal is None else normal
        ),
    )


def _normal_unless_written(text: Column) -> Column:
    """The text's normal form, or null when it is a spelling as the exports write it, of either
    kind: a Date Range part is looked up as both kinds, and the normal form (two regex
    replacements) cost 7 s per million rows when computed for each. Equivalent because no
    spelling as written of one kind has a normal form of the other
    (tests/glue/test_transform.py checks it)."""
    written = (
        F.element_at(_map(periods.DAY_TYPE_AS_WRITTEN), text).isNotNull()
        | F.element_at(_map(periods.TIME_OF_DAY_AS_WRITTEN), text).isNotNull()
    )
    return F.when(~written, _normal_form(text))


def _digits(piece: Column, widths: tuple[int, ...]) -> Column:
    """`piece` as an int when it is 1-2 (or 4) ASCII digits and nothing else, else null: the
    int written back with the piece's own zero padding must give the piece again."""
    number = piece.cast("int")
    length = F.length(piece)
    written = number.cast("string")
    plain = [(length == width) & (F.lpad(written, width, "0") == piece) for width in widths]
    return F.when(plain[0] | plain[1] if len(plain) == 2 else plain[0], number)


def _date_numbers(pieces: Column) -> list[Column]:
    """Month, day and year of a date's pieces (`M/D/YYYY` cut at its slashes, a column: see
    `with_periods`), null where a piece is not plain digits."""
    whole = F.size(pieces) == 3
    return [
        F.when(whole, _digits(pieces.getItem(0), (1, 2))),
        F.when(whole, _digits(pieces.getItem(1), (1, 2))),
        F.when(whole, _digits(pieces.getItem(2), (4,))),
    ]


def with_periods(rows: DataFrame, single_date: bool = False) -> DataFrame:
    """`rows` (logical rows: `contract.columns` fields) with the parsed dates and canonical
    period names of their `date_range` (or the daily export's Date when `single_date`), a Day Of
    Week or Time Of Day column naming its part when the rows have one.

    A few projections, each using the previous one's results by name, and every cut (`split`)
    a column of its own: built as one expression, every use of a piece is a copy of its whole
    tree, which Spark evaluates again for each use inside a `when` (no common subexpression is
    shared into a conditional branch). Measured on 1M rows: the start date's numbers alone took
    8 s as one expression, against well under 1 s cut in steps. Spark keeps two projections
    apart when merging them would repeat a costly expression (the `CollapseProject` rule)."""
    for step in _projections(single_date, c.DAY_OF_WEEK in rows.columns, c.PERIOD in rows.columns):
        if step is _NEW_STAGE:
            rows = new_stage(rows)
            continue
        added, dropped = step
        rows = rows.select("*", *added)
        if dropped:
            rows = rows.drop(*dropped)
    return rows


# Between `_projections`' steps: the generated code ends there (`glue.stages`).
_NEW_STAGE: tuple[list[Column], tuple[str, ...]] = ([], ())


@per_context
def _projections(
    single_date: bool, has_day_of_week: bool, has_period: bool
) -> list[tuple[list[Column], tuple[str, ...]]]:
    """`with_periods`' projections in order: the columns each adds, and those it then drops."""
    steps: list[tuple[list[Column], tuple[str, ...]]] = []
    value = F.col(c.DATE_RANGE)
    if single_date:
        date = _trim_space_tab(value)
        steps.append(([F.split(date, "/", -1).alias(_CUTS[0])], ()))
        start_cut = end_cut = F.col(_CUTS[0])
        shape: Column = F.lit(True)
        parts: list[Column] = [F.lit(None).cast("string")] * 2
    else:
        steps.append(([F.split(value, ",", -1).alias(_BY_COMMA)], ()))
        cut = F.col(_BY_COMMA)
        steps.append(([F.split(cut.getItem(0), "-", -1).alias(_BY_DASH)], ()))
        dates = F.col(_BY_DASH)
        steps.append(
            (
                [
                    F.split(_trim_space_tab(dates.getItem(i)), "/", -1).alias(name)
                    for i, name in enumerate(_CUTS)
                ],
                (),
            )
        )
        start_cut, end_cut = (F.col(name) for name in _CUTS)
        shape = (F.size(dates) == 2) & (F.size(cut) <= 3)
        parts = [F.when(F.size(cut) > i, _trim_space_tab(cut.getItem(i))) for i in (1, 2)]
    numbers = _date_numbers(start_cut) + _date_numbers(end_cut)
    steps.append(
        (
            [
                *(n.alias(name) for n, name in zip(numbers, _PIECES, strict=True)),
                *(p.alias(name) for p, name in zip(parts, _PARTS, strict=True)),
                F.coalesce(shape, F.lit(False)).alias(_SHAPE),
            ],
            (_BY_COMMA, _BY_DASH, *_CUTS),
        )
    )
    steps.append(_NEW_STAGE)  # the cuts and numbers, then the names and dates

    p1, p2 = (F.col(name) for name in _PARTS)
    steps.append(
        ([_normal_unless_written(p).alias(n) for p, n in zip((p1, p2), _NORMALS, strict=True)], ())
    )
    n1, n2 = (F.col(name) for name in _NORMALS)
    steps.append(
        (
            [
                canonical_day_type(p1, n1).alias(_NAMES[0]),
                canonical_time_of_day(p1, n1).alias(_NAMES[1]),
                canonical_day_type(p2, n2).alias(_NAMES[2]),
                canonical_time_of_day(p2, n2).alias(_NAMES[3]),
            ],
            (),
        )
    )

    # Each part names the days or the time of day, the first of each kind wins, a part naming
    # neither (or a kind named twice) makes the value invalid: contract.values.parse_date_range.
    d1, t1, d2, t2 = (F.col(name) for name in _NAMES)
    time1 = F.when(d1.isNull(), t1)
    day2 = F.when(d1.isNull(), d2)
    time2 = F.when(d2.isNull() & time1.isNull(), t2)
    parts_ok = (p1.isNull() | (p1 != "") & (d1.isNotNull() | t1.isNotNull())) & (
        p2.isNull() | (p2 != "") & (day2.isNotNull() | time2.isNotNull())
    )
    day_type = F.coalesce(d1, day2)
    time_of_day = F.coalesce(time1, time2)
    names_ok = F.lit(True)
    if has_day_of_week:
        day_type = canonical_day_type(F.col(c.DAY_OF_WEEK))
        names_ok = names_ok & day_type.isNotNull()
    if has_period:
        time_of_day = canonical_time_of_day(F.col(c.PERIOD))
        names_ok = names_ok & time_of_day.isNotNull()

    sm, sd, sy, em, ed, ey = (F.col(name) for name in _PIECES)

    def date(year: Column, month: Column, day: Column) -> Column:
        # Null for a day that does not exist (make_date, non-ANSI as the job runs) or a year
        # outside the contract's.
        return F.when(year.between(MIN_YEAR, MAX_YEAR), F.make_date(year, month, day))

    steps.append(
        (
            [
                date(sy, sm, sd).alias(START_DATE),
                date(ey, em, ed).alias(END_DATE),
                day_type.alias(DAY_TYPE),
                time_of_day.alias(TIME_OF_DAY),
                F.coalesce(parts_ok & names_ok, F.lit(False)).alias("_dr_named"),
            ],
            (),
        )
    )
    valid = (
        F.col(_SHAPE)
        & F.col("_dr_named")
        & F.coalesce(F.col(START_DATE) <= F.col(END_DATE), F.lit(False))
    )
    steps.append(
        ([valid.alias(VALID)], (*_PIECES, *_PARTS, _SHAPE, *_NORMALS, *_NAMES, "_dr_named"))
    )
    return steps
