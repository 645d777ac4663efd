//! Text for the PDF's two fonts, Helvetica and Helvetica-Bold: two of the
//! fourteen fonts every PDF reader has, so nothing is embedded and the file
//! stays small. Their simple encoding (WinAnsi, the Windows-1252 code page)
//! covers Latin-1 and the typographic quotes and dashes; anything else is
//! brought to its base letter (č → c) or shown as `?`, never dropped
//! silently. Layout needs the width of every glyph, so the fonts' advance
//! widths are tabled here (1/1000 of the font size, the standard Helvetica
//! metrics that Nimbus Sans and Arial match).

use unicode_normalization::UnicodeNormalization;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Font {
    Regular,
    Bold,
}

impl Font {
    /// Its name in the page resources.
    pub(super) fn resource(self) -> &'static [u8] {
        match self {
            Font::Regular => b"F1",
            Font::Bold => b"F2",
        }
    }

    /// Width of WinAnsi-encoded text at `size` points.
    pub(super) fn width(self, text: &[u8], size: f32) -> f32 {
        let table = match self {
            Font::Regular => &REGULAR,
            Font::Bold => &BOLD,
        };
        let units: u32 = text
            .iter()
            .map(|&b| {
                b.checked_sub(32)
                    .map_or(0, |i| u32::from(table[usize::from(i)]))
            })
            .sum();
        units as f32 * size / 1000.0
    }
}

/// The WinAnsi byte of `…`, used where text is cut.
const ELLIPSIS: u8 = 0x85;

/// The code points WinAnsi puts at 0x80–0x9F (0 where it has none).
const HIGH: [char; 32] = [
    '€', '\0', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\0', 'Ž', '\0', '\0', '‘',
    '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\0', 'ž', 'Ÿ',
];

fn winansi(c: char) -> Option<u8> {
    match u32::from(c) {
        0x20..=0x7e | 0xa0..=0xac | 0xae..=0xff => u8::try_from(u32::from(c)).ok(),
        _ => HIGH
            .iter()
            .position(|&h| h == c && h != '\0')
            .and_then(|i| u8::try_from(0x80 + i).ok()),
    }
}

/// `s` in WinAnsi, composed first (a decomposed "o" + "¨" is the one "ö").
/// Line breaks stay (`\n`) for the wrapping to honour, other control
/// characters become spaces, soft hyphens and stray combining marks go.
pub(super) fn encode(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for c in s.nfc() {
        if c == '\n' {
            out.push(b'\n');
        } else if c.is_control() {
            out.push(b' ');
        } else if c == '\u{ad}' || unicode_normalization::char::is_combining_mark(c) {
            continue;
        } else if let Some(b) = winansi(c) {
            out.push(b);
        } else {
            let base = std::iter::once(c).nfd().next().and_then(winansi);
            out.push(base.unwrap_or(b'?'));
        }
    }
    out
}

/// `text` broken into lines no wider than `width`: at spaces where it can,
/// inside a word too long for a line of its own (after a hyphen or slash
/// if there is one), at the explicit line breaks. More than `max_lines` lines are cut to that many, the last one
/// ending in `…`. Always at least one (maybe empty) line.
pub(super) fn wrap(
    text: &[u8],
    font: Font,
    size: f32,
    width: f32,
    max_lines: usize,
) -> Vec<Vec<u8>> {
    let space = font.width(b" ", size);
    let mut lines = Vec::new();
    for paragraph in text.split(|&b| b == b'\n') {
        let mut line: Vec<u8> = Vec::new();
        let mut line_width = 0.0;
        for word in paragraph.split(|&b| b == b' ').filter(|w| !w.is_empty()) {
            let w = font.width(word, size);
            if !line.is_empty() && line_width + space + w <= width {
                line.push(b' ');
                line.extend_from_slice(word);
                line_width += space + w;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            let mut rest = word;
            while font.width(rest, size) > width {
                let n = fitting(rest, font, size, width).max(1);
                // After a hyphen or slash if one fits: "SUPPLIER-" / "CODE".
                let n = rest[..n]
                    .iter()
                    .rposition(|&b| b == b'-' || b == b'/')
                    .filter(|&p| p > 0)
                    .map_or(n, |p| p + 1);
                lines.push(rest[..n].to_vec());
                rest = &rest[n..];
            }
            line = rest.to_vec();
            line_width = font.width(rest, size);
        }
        lines.push(line);
    }
    while lines.len() > 1 && lines.last().is_some_and(Vec::is_empty) {
        lines.pop();
    }
    if lines.len() > max_lines.max(1) {
        lines.truncate(max_lines.max(1));
        if let Some(last) = lines.last_mut() {
            let dots = font.width(&[ELLIPSIS], size);
            while !last.is_empty() && font.width(last, size) + dots > width {
                last.pop();
            }
            while last.last() == Some(&b' ') {
                last.pop();
            }
            last.push(ELLIPSIS);
        }
    }
    lines
}

/// How many leading bytes of `text` fit in `width`.
fn fitting(text: &[u8], font: Font, size: f32, width: f32) -> usize {
    let mut used = 0.0;
    for (i, &b) in text.iter().enumerate() {
        used += font.width(&[b], size);
        if used > width {
            return i;
        }
    }
    text.len()
}

/// Advance widths of the WinAnsi codes 32–255.
const REGULAR: [u16; 224] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667,
    611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500,
    222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
    0, 556, 0, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0, 0, 222, 222,
    333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 0, 500, 667, 278, 333, 556, 556, 556, 556,
    260, 556, 333, 737, 370, 556, 584, 333, 737, 333, 400, 584, 333, 333, 333, 556, 537, 278, 333,
    333, 365, 556, 834, 834, 834, 611, 667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667,
    278, 278, 278, 278, 722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667,
    611, 556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278, 556, 556,
    556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500,
];

const BOLD: [u16; 224] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667,
    611, 778, 722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556,
    278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
    0, 556, 0, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0, 0, 278, 278,
    500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 0, 500, 667, 278, 333, 556, 556, 556, 556,
    280, 556, 333, 737, 370, 556, 584, 333, 737, 333, 400, 584, 333, 333, 333, 611, 556, 278, 333,
    333, 365, 556, 834, 834, 834, 611, 722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667,
    278, 278, 278, 278, 722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667,
    611, 556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278, 611, 611,
    611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556,
];
