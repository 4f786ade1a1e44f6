"""A public suite's CSV data file with the wrong header is a clear error naming the file and
the missing columns, read before a single answer is asked for."""

from __future__ import annotations

import pytest

from accord.audit import SuiteContext
from accord.errors import AccordError
from accord.model import SamplingConfig


def _context(tmp_path) -> SuiteContext:
    # csv_rows reads the data folder only; no model is asked anything here.
    return SuiteContext(backend=None, sampling=SamplingConfig(), data_dir=tmp_path)


def test_a_csv_without_the_published_columns_names_what_is_missing(tmp_path):
    (tmp_path / "evenhandedness").mkdir()
    (tmp_path / "evenhandedness" / "eval_set.csv").write_text("a,b\n1,2\n")
    with pytest.raises(AccordError, match=r"eval_set.csv lacks the column\(s\) prompt_a, "
                                          r"prompt_b"):
        _context(tmp_path).csv_rows("evenhandedness/eval_set.csv", ("prompt_a", "prompt_b"))


def test_a_csv_with_only_a_header_is_an_error_and_a_good_one_is_read_and_hashed(tmp_path):
    ctx = _context(tmp_path)
    (tmp_path / "x.csv").write_text("prompt,type\n")
    with pytest.raises(AccordError, match=r"x\.csv has no rows"):
        ctx.csv_rows("x.csv", ("prompt",))
    (tmp_path / "y.csv").write_text("prompt,type\nhello,safe\n")
    assert ctx.csv_rows("y.csv", ("prompt", "type")) == [{"prompt": "hello", "type": "safe"}]
    assert [f["path"] for f in ctx.files_read] == ["x.csv", "y.csv"]
