"""Cells of the CSV exports: a spreadsheet runs a cell that starts like a formula, so people's
words and names (a client called "=HYPERLINK(…)" in Alegra) go out with a quote in front."""

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text
