//! Cells a spreadsheet will not run as formulas. Every CSV stockroom
//! writes (exports, orders for suppliers) puts an apostrophe in front of a
//! text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return;
//! every CSV it reads drops that apostrophe again, so its own files read
//! back as they were written.

use std::borrow::Cow;

const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A text cell that a spreadsheet will not run as a formula.
pub fn guard(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_START) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A cell as it was before [`guard`].
pub fn unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_START) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guarded_cells_read_back_as_they_were() {
        for cell in [
            "=HYPERLINK(\"x\")",
            "+1",
            "-2",
            "@SUM(A1)",
            "\tx",
            "plain",
            "'quoted",
            "",
            "O'Brien",
        ] {
            assert_eq!(unguard(&guard(cell)), cell, "{cell:?}");
        }
        assert_eq!(guard("=1+1"), "'=1+1");
        assert_eq!(guard("Lidocaine"), "Lidocaine");
    }
}
