"""The catalogue of rejection reasons: stable English codes with plain-language text.

What belongs here: every reason a row or a file can be quarantined for, as a stable code
(what tests, dashboards and SQL filter on) with the Chinese text shown to users first and an
English equivalent. What does not: deciding when a reason applies (`row_checks`, the readers).
"""

from __future__ import annotations

from typing import NamedTuple


class Reason(NamedTuple):
    zh: str
    en: str


REASONS: dict[str, Reason] = {
    # file-level: every row of the file (or the file itself) is rejected
    "unreadable_file": Reason(
        "文件无法读取（不是可识别的CSV/XLSX，或编码无法识别）",
        "file cannot be read (not a recognisable CSV/XLSX, or unknown encoding)",
    ),
    "unsupported_format": Reason(
        "不支持的文件格式（仅接受 .csv 与 .xlsx）", "unsupported file format (only .csv and .xlsx)"
    ),
    "file_too_large": Reason(
        "文件超过大小上限，未读取", "file is above the size limit and was not read"
    ),
    "no_header": Reason(
        "未找到可识别的表头行", "no recognisable header row in the first rows of the file"
    ),
    "missing_column": Reason(
        "文件缺少必填列，整份文件被拒收", "file lacks a required column; the whole file is rejected"
    ),
    "ragged_row": Reason("该行的列数多于表头", "the row has more cells than the header"),
    # cell-level
    "missing_required": Reason("必填项为空", "required value is missing"),
    "invalid_uscc": Reason(
        "统一社会信用代码校验不通过（GB 32100-2015）",
        "USCC fails the GB 32100-2015 format or checksum",
    ),
    "invalid_date": Reason("日期无法识别或日期不存在", "date cannot be read or does not exist"),
    "date_too_early": Reason("日期早于1990年1月1日", "date is before 1990-01-01"),
    "future_date": Reason("日期晚于处理当日", "date is in the future"),
    "invalid_number": Reason("数值无法识别", "number cannot be read"),
    "negative_amount": Reason("数值不能为负", "number must not be negative"),
    "invalid_enum": Reason("取值不在允许的范围内", "value is not one of the allowed values"),
    "value_too_long": Reason("内容超过长度上限", "value is longer than allowed"),
    "date_order": Reason("日期先后顺序错误", "dates are out of order"),
    "fine_above_limit": Reason(
        "罚款金额超过法定上限", "the fine is above the maximum the law allows"
    ),
    "no_penalty_with_penalty": Reason(
        "不予处罚决定不能同时载明处罚种类或罚款",
        "a decision not to penalise cannot also name a penalty or a fine",
    ),
    # row-level, against other tables or rows
    "unknown_firm": Reason("该单位不在检查对象名录库中", "firm is not in the firm directory"),
    "unknown_inspector": Reason(
        "该人员不在执法检查人员名录库中", "inspector is not in the inspector directory"
    ),
    "duplicate_conflict": Reason(
        "同一编号存在内容不一致的多条记录，均不采用",
        "the same key arrived with different content; none of the versions is used",
    ),
    "conflicts_established": Reason(
        "与已确认的记录内容不一致，已确认的记录继续有效，本行待核实",
        "contradicts the established record, which stays in force; this row awaits resolution",
    ),
}

FILE_LEVEL_CODES = (
    "unreadable_file",
    "unsupported_format",
    "file_too_large",
    "no_header",
    "missing_column",
)
