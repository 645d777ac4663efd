//! Reading CSV as spreadsheets really save it: UTF-8 with or without a
//! byte-order mark, `,` or `;` as separator (or tabs, when cells are pasted
//! straight from a spreadsheet), detected from the header line; quoted
//! fields, CRLF, blank lines and rows of empty cells anywhere. The parsing
//! itself is the `csv` crate's; this module only decides how to call it and
//! turns what it finds into lines and cells with their line numbers.

use super::report::human_size;

/// The largest file accepted.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
/// The most rows (below the header) one import may have.
pub const MAX_ROWS: usize = 50_000;

/// Why a file cannot be read at all (as opposed to a row with mistakes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileProblem {
    #[error("is empty: it has no header line")]
    Empty,
    #[error("has a header line but no rows below it")]
    NoRows,
    #[error("is {size}; the largest file accepted is 5 MB: split it into smaller files")]
    TooLarge { size: String },
    /// Too large to be read to its end: its size is not known.
    #[error("is larger than the largest file accepted, 5 MB: split it into smaller files")]
    FarTooLarge,
    #[error(
        "is UTF-16 text, not UTF-8: save it as \"CSV UTF-8\" from your spreadsheet and try again"
    )]
    Utf16,
    #[error(
        "has a quote (\") opened on line {line} that is never closed, so the rest of the file would be one cell: check that line"
    )]
    UnclosedQuote { line: u64 },
    #[error(
        "is not UTF-8 text (line {line}): save it as \"CSV UTF-8\" from your spreadsheet and try again"
    )]
    NotUtf8 { line: u64 },
    #[error("has more than {MAX_ROWS} rows: split it into files of at most {MAX_ROWS} rows")]
    TooManyRows,
    #[error("cannot be read at line {line}: {message}")]
    Malformed { line: u64, message: String },
}

/// One data row: where it starts in the file and its cells, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: u64,
    pub cells: Vec<String>,
}

/// A file as read: its separator, its header (normalised) and its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub separator: u8,
    pub header_line: u64,
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
}

/// The uploaded bytes as text: size checked, a UTF-8 byte-order mark
/// removed, invalid UTF-8 refused with the line it is on.
pub fn decode(bytes: &[u8]) -> Result<String, FileProblem> {
    if bytes.len() > MAX_BYTES {
        return Err(FileProblem::TooLarge {
            size: human_size(bytes.len()),
        });
    }
    if looks_utf16(bytes) {
        return Err(FileProblem::Utf16);
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => {
            let before = &bytes[..e.valid_up_to()];
            let line = 1 + before.iter().filter(|b| **b == b'\n').count() as u64;
            Err(FileProblem::NotUtf8 { line })
        }
    }
}

/// UTF-16 (what some spreadsheets call "Unicode text"): a UTF-16 byte-order
/// mark, or — without one — text whose every other byte is zero, as Latin
/// letters are in UTF-16. (Zero bytes never occur in a real CSV.)
fn looks_utf16(bytes: &[u8]) -> bool {
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return true;
    }
    let head = &bytes[..bytes.len().min(512)];
    let zeros = head.iter().filter(|b| **b == 0).count();
    head.len() >= 4 && zeros * 3 >= head.len()
}

/// The line on which a quote opens that the file never closes, if any
/// (quotes are doubled inside a quoted cell, so they pair up).
fn unclosed_quote(text: &str) -> Option<u64> {
    let (mut quoted, mut line, mut opened) = (false, 1u64, 0u64);
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                if quoted {
                    opened = line;
                }
            }
            '\n' => line += 1,
            _ => {}
        }
    }
    quoted.then_some(opened)
}

/// The separator the header line uses: whichever of `,`, `;` and tab
/// occurs most often outside quotes, `,` when none does.
pub fn detect_separator(text: &str) -> u8 {
    let header = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let (mut commas, mut semicolons, mut tabs) = (0, 0, 0);
    let mut quoted = false;
    for c in header.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => commas += 1,
            ';' if !quoted => semicolons += 1,
            '\t' if !quoted => tabs += 1,
            _ => {}
        }
    }
    if tabs > commas && tabs > semicolons {
        b'\t'
    } else if semicolons > commas {
        b';'
    } else {
        b','
    }
}

/// A header as the import matches it: lower case, spaces, hyphens and
/// underscores alike (`Lot tracked`, `lot-tracked` and `LOT_TRACKED` are
/// one name), a trailing note in brackets dropped (`Price (EUR)`).
pub fn normalize_header(raw: &str) -> String {
    let mut s = raw.trim().to_lowercase();
    if s.ends_with(')')
        && let Some(open) = s.find('(')
        && open > 0
    {
        s.truncate(open);
    }
    let mut out = String::new();
    let mut gap = false;
    for c in s.chars() {
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('_');
            }
            gap = false;
            out.push(c);
        } else {
            gap = true;
        }
    }
    out
}

/// Line numbers from byte offsets. The reader reports where it began
/// looking for a record, which is before the line breaks and blank lines it
/// then skipped; the record itself starts after them. Offsets only grow, so
/// counting goes on from the last one.
struct LineCounter<'a> {
    text: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a [u8]) -> Self {
        LineCounter {
            text,
            offset: 0,
            line: 1,
        }
    }

    fn line_at(&mut self, byte: u64) -> u64 {
        let mut start = usize::try_from(byte)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        if start > self.offset {
            let newlines = self.text[self.offset..start]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            self.line += newlines as u64;
            self.offset = start;
        }
        self.line
    }
}

/// Reads the whole text: the first line with content is the header; lines
/// without content (blank, or only separators) are skipped.
pub fn parse(text: &str) -> Result<Table, FileProblem> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(FileProblem::Empty);
    }
    if let Some(line) = unclosed_quote(text) {
        return Err(FileProblem::UnclosedQuote { line });
    }
    let separator = detect_separator(text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator)
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut lines = LineCounter::new(text.as_bytes());
    let mut header: Option<(u64, Vec<String>)> = None;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| FileProblem::Malformed {
            line: e.position().map_or(0, |p| lines.line_at(p.byte())),
            message: e.to_string(),
        })?;
        if record.iter().all(str::is_empty) {
            continue;
        }
        let line = record.position().map_or(0, |p| lines.line_at(p.byte()));
        // What stockroom's own export guarded against formulas reads back
        // as it was.
        let cells: Vec<String> = record
            .iter()
            .map(|c| super::export::unguard(c).to_string())
            .collect();
        if header.is_none() {
            header = Some((line, cells.iter().map(|c| normalize_header(c)).collect()));
            continue;
        }
        if rows.len() == MAX_ROWS {
            return Err(FileProblem::TooManyRows);
        }
        rows.push(Row { line, cells });
    }
    let (header_line, columns) = header.ok_or(FileProblem::Empty)?;
    if rows.is_empty() {
        return Err(FileProblem::NoRows);
    }
    Ok(Table {
        separator,
        header_line,
        columns,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_separator_comes_from_the_header_line() {
        assert_eq!(detect_separator("code,name,unit\nA;B;C\n"), b',');
        assert_eq!(detect_separator("code;name;unit\r\nA,1;B;C\r\n"), b';');
        assert_eq!(detect_separator("\n\ncode\tname\tunit\n"), b'\t');
        // Separators inside quotes do not count.
        assert_eq!(detect_separator("\"a,b,c\";\"d\"\n"), b';');
        // One column: the default.
        assert_eq!(detect_separator("name\nSmith, Jones & Co\n"), b',');
        assert_eq!(detect_separator("\u{feff}code;name\n"), b';');
    }

    #[test]
    fn utf16_and_an_unclosed_quote_are_named() {
        let utf16 = |text: &str, bom: bool| -> Vec<u8> {
            let mut out = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
            for u in text.encode_utf16() {
                out.extend_from_slice(&u.to_le_bytes());
            }
            out
        };
        let file = "code,name,unit\nGLV-M,Gloves M,box\n";
        assert_eq!(decode(&utf16(file, true)), Err(FileProblem::Utf16));
        assert_eq!(decode(&utf16(file, false)), Err(FileProblem::Utf16));
        let e = FileProblem::Utf16.to_string();
        assert!(e.contains("UTF-16") && e.contains("CSV UTF-8"), "{e}");

        let open = "code,name,unit\nGLV-M,\"Gloves M,box\nGLV-L,Gloves L,box\n";
        assert_eq!(
            parse(open).err(),
            Some(FileProblem::UnclosedQuote { line: 2 })
        );
        // Quotes doubled inside a quoted cell pair up: nothing is open.
        assert!(parse("code,name,unit\nA,\"Gloves \"\"M\"\"\",box\n").is_ok());
    }

    #[test]
    fn a_byte_order_mark_is_removed_and_bad_utf8_is_located() {
        assert_eq!(decode(b"\xEF\xBB\xBFcode\n").unwrap(), "code\n");
        assert_eq!(decode(b"code\n").unwrap(), "code\n");
        // "Müller" in Windows-1252 on line 3.
        let e = decode(b"name\nA\nM\xfcller\n").unwrap_err();
        assert_eq!(e, FileProblem::NotUtf8 { line: 3 });
        assert!(e.to_string().contains("CSV UTF-8"), "{e}");
        let big = vec![b'a'; MAX_BYTES + 1];
        assert!(matches!(decode(&big), Err(FileProblem::TooLarge { .. })));
    }

    #[test]
    fn headers_are_matched_loosely() {
        for raw in [
            "Lot tracked",
            "lot-tracked",
            " LOT_TRACKED ",
            "Lot  Tracked?",
        ] {
            assert_eq!(normalize_header(raw), "lot_tracked", "{raw}");
        }
        assert_eq!(normalize_header("Price (EUR)"), "price");
        assert_eq!(normalize_header("\u{feff}Code"), "code");
        assert_eq!(normalize_header("(notes)"), "notes");
    }

    #[test]
    fn messy_files_are_read_with_their_line_numbers() {
        let text = "\u{feff}Code;Name;Notes\r\n\r\nA1;\"Gauze; sterile\";\"two\r\nlines\"\r\n;;\r\n  B2 ; Tape ;\r\n\r\n\r\n";
        let t = parse(text).unwrap();
        assert_eq!(t.separator, b';');
        assert_eq!(t.header_line, 1);
        assert_eq!(t.columns, ["code", "name", "notes"]);
        assert_eq!(t.rows.len(), 2, "{t:?}");
        assert_eq!(t.rows[0].line, 3);
        assert_eq!(t.rows[0].cells, ["A1", "Gauze; sterile", "two\r\nlines"]);
        // After a quoted line break, line numbers still match the file.
        assert_eq!(t.rows[1].line, 6);
        assert_eq!(t.rows[1].cells, ["B2", "Tape", ""]);
    }

    #[test]
    fn empty_files_and_too_many_rows_are_refused() {
        assert_eq!(parse(""), Err(FileProblem::Empty));
        assert_eq!(parse("\u{feff}\r\n \r\n"), Err(FileProblem::Empty));
        assert_eq!(parse("code,name\n,\n"), Err(FileProblem::NoRows));
        let mut text = String::from("name\n");
        for n in 0..=MAX_ROWS {
            text.push_str(&format!("S{n}\n"));
        }
        assert_eq!(parse(&text), Err(FileProblem::TooManyRows));
    }
}
