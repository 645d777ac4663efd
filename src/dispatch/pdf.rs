//! The purchase order as a PDF document, attached to the email that sends
//! an order to its supplier. It carries what the printable page
//! (`templates/orders/print.html`) shows: the practice's letterhead, the
//! order's number and date, the supplier, the lines with their prices, the
//! total and the note, with "Page n of m" on every A4 page.
//!
//! Laid out by hand on `pdf-writer` with the readers' built-in Helvetica
//! (see `text`): an order is one simple table, so neither a layout engine
//! nor an embedded font earns its weight in the binary. The layout runs once
//! into one content stream per page and the footers go on last, when the
//! page count is known. Every cell wraps to its column (and is cut with
//! `…` past a few lines), so text never runs into the next column; a table
//! that does not fit flows onto further pages with its header repeated.

mod text;

use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use self::text::{Font, encode, wrap};
use crate::catalog::suppliers::Supplier;
use crate::domain::money::format_minor;
use crate::orders::OrderDetail;
use crate::practice::Practice;

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The supplier handed in is not the order's: its name and account
    /// number must never go out on another supplier's order.
    #[error("order {order} is for supplier {expected}, not for supplier {given}")]
    WrongSupplier {
        order: String,
        expected: i64,
        given: i64,
    },
}

// A4 in points, with margins of about 20 mm.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const LEFT: f32 = 56.7;
const RIGHT: f32 = PAGE_W - 56.7;
const TOP: f32 = PAGE_H - 50.0;
/// Content stops here; the footer sits below.
const BOTTOM: f32 = 64.0;
const FOOTER_Y: f32 = 38.0;

const BODY: f32 = 9.0;
const SMALL: f32 = 8.0;
/// Line height as a multiple of the font size.
const LEADING: f32 = 1.3;
/// Cell padding, left and right, top and bottom.
const PAD_X: f32 = 3.0;
const PAD_Y: f32 = 3.5;
/// A letterhead item or a table cell longer than this is cut with `…`;
/// the supplier's code and the description get more room.
const MAX_CELL_LINES: usize = 3;
const MAX_LONG_CELL_LINES: usize = 6;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Right,
}

struct Column {
    x: f32,
    width: f32,
    align: Align,
    max_lines: usize,
}

/// The table's columns, left to right: supplier code, description, packs ×
/// pack size, unit, price per pack, line total. The description takes what
/// the others leave.
fn columns() -> [Column; 6] {
    let (long, short) = (MAX_LONG_CELL_LINES, MAX_CELL_LINES);
    let fixed = [
        (74.0, Align::Left, long),
        (0.0, Align::Left, long),
        (62.0, Align::Right, short),
        (44.0, Align::Left, short),
        (62.0, Align::Right, short),
        (66.0, Align::Right, short),
    ];
    let rest = RIGHT - LEFT - fixed.iter().map(|c| c.0).sum::<f32>();
    let mut x = LEFT;
    fixed.map(|(width, align, max_lines)| {
        let width = if width == 0.0 { rest } else { width };
        let column = Column {
            x,
            width,
            align,
            max_lines,
        };
        x += width;
        column
    })
}

/// Renders the order as a PDF. `printed_at` is shown as it is in every
/// page's footer (empty: not shown).
pub fn order_pdf(
    practice: &Practice,
    supplier: &Supplier,
    detail: &OrderDetail,
    printed_at: &str,
) -> Result<Vec<u8>, PdfError> {
    let order = &detail.order;
    if supplier.id != order.supplier_id {
        return Err(PdfError::WrongSupplier {
            order: order.number.clone(),
            expected: order.supplier_id,
            given: supplier.id,
        });
    }
    let mut doc = Doc::new(practice, detail);
    doc.letterhead(practice, supplier);
    doc.lines();
    doc.note();
    Ok(doc.finish(practice, supplier, printed_at))
}

struct Doc<'a> {
    detail: &'a OrderDetail,
    practice_name: String,
    columns: [Column; 6],
    pages: Vec<Content>,
    /// The top of what comes next on the current page.
    y: f32,
}

impl<'a> Doc<'a> {
    fn new(practice: &Practice, detail: &'a OrderDetail) -> Self {
        let practice_name = if practice.name.trim().is_empty() {
            "(Practice name not set)".to_string()
        } else {
            practice.name.trim().to_string()
        };
        Doc {
            detail,
            practice_name,
            columns: columns(),
            pages: vec![Content::new()],
            y: TOP,
        }
    }

    fn content(&mut self) -> &mut Content {
        self.pages.last_mut().expect("a document has a page")
    }

    fn show(&mut self, x: f32, baseline: f32, font: Font, size: f32, text: &[u8]) {
        show(self.content(), x, baseline, font, size, text);
    }

    fn show_right(&mut self, right: f32, baseline: f32, font: Font, size: f32, text: &[u8]) {
        show(
            self.content(),
            right - font.width(text, size),
            baseline,
            font,
            size,
            text,
        );
    }

    fn rule(&mut self, y: f32, width: f32, gray: f32) {
        rule(self.content(), y, width, gray);
    }

    /// Lines of text from `top` down in a column of `width`, each wrapped;
    /// returns the bottom. Used on the first page only, where it fits.
    fn block(&mut self, x: f32, top: f32, width: f32, items: &[(Font, f32, String)]) -> f32 {
        let mut y = top;
        for (font, size, s) in items {
            for line in wrap(&encode(s), *font, *size, width, MAX_CELL_LINES) {
                self.show(x, y - size, *font, *size, &line);
                y -= size * LEADING;
            }
        }
        y
    }

    /// Starts a page with a short heading naming the order.
    fn new_page(&mut self) {
        self.pages.push(Content::new());
        let number = encode(&format!("Purchase order {}", self.detail.order.number));
        let name = encode(&self.practice_name);
        self.show(LEFT, TOP - 10.0, Font::Bold, 10.0, &number);
        self.show_right(RIGHT, TOP - 10.0, Font::Regular, BODY, &name);
        self.rule(TOP - 16.0, 0.5, 0.6);
        self.y = TOP - 28.0;
    }

    /// Makes room for `height` more, on a new page when this one is full.
    fn room(&mut self, height: f32) -> bool {
        if self.y - height < BOTTOM {
            self.new_page();
            return true;
        }
        false
    }

    fn letterhead(&mut self, practice: &Practice, supplier: &Supplier) {
        let order = &self.detail.order;
        let mut left = vec![(Font::Bold, 14.0, self.practice_name.clone())];
        left.extend(
            practice
                .address
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                // What fits beside the order's block on the first page.
                .take(8)
                .map(|l| (Font::Regular, BODY, l.to_string())),
        );
        if !practice.phone.trim().is_empty() {
            left.push((
                Font::Regular,
                BODY,
                format!("Phone {}", practice.phone.trim()),
            ));
        }
        if !practice.email.trim().is_empty() {
            left.push((Font::Regular, BODY, practice.email.trim().to_string()));
        }
        // The order's date: when it was submitted (prices are fixed then),
        // else when it was drafted.
        let date = order.submitted_at.as_deref().unwrap_or(&order.created_at);
        let mut right = vec![
            (Font::Bold, 16.0, "Purchase order".to_string()),
            (Font::Bold, 12.0, order.number.clone()),
            (
                Font::Regular,
                BODY,
                format!("Date: {}", date.get(..10).unwrap_or(date)),
            ),
        ];
        if !order.expected_on.trim().is_empty() {
            right.push((
                Font::Regular,
                BODY,
                format!("Expected delivery: {}", order.expected_on.trim()),
            ));
        }
        if !order.supplier_reference.trim().is_empty() {
            right.push((
                Font::Regular,
                BODY,
                format!("Your reference: {}", order.supplier_reference.trim()),
            ));
        }
        let split = LEFT + (RIGHT - LEFT) * 0.58;
        let left_bottom = self.block(LEFT, self.y, split - LEFT - 12.0, &left);
        let right_bottom = self.block(split, self.y, RIGHT - split, &right);
        self.y = left_bottom.min(right_bottom) - 16.0;

        let mut to = vec![
            (Font::Bold, BODY, "To".to_string()),
            (Font::Bold, 11.0, supplier.name.trim().to_string()),
        ];
        let optional = [
            ("Our account number: ", &supplier.account_number),
            ("Attn. ", &supplier.contact_name),
            ("", &supplier.email),
            ("Phone ", &supplier.phone),
        ];
        for (label, value) in optional {
            if !value.trim().is_empty() {
                to.push((Font::Regular, BODY, format!("{label}{}", value.trim())));
            }
        }
        self.y = self.block(LEFT, self.y, split - LEFT - 12.0, &to) - 16.0;
    }

    /// One table row, each cell wrapped to its column; returns its height,
    /// and only measures when `draw` is false.
    fn row(&mut self, cells: &[Vec<u8>; 6], font: Font, size: f32, draw: bool) -> f32 {
        let wrapped: Vec<Vec<Vec<u8>>> = self
            .columns
            .iter()
            .zip(cells)
            .map(|(c, t)| wrap(t, font, size, c.width - 2.0 * PAD_X, c.max_lines))
            .collect();
        let count = wrapped.iter().map(Vec::len).max().unwrap_or(1);
        let height = count as f32 * size * LEADING + 2.0 * PAD_Y;
        if !draw {
            return height;
        }
        let top = self.y;
        for (i, lines) in wrapped.iter().enumerate() {
            let (x, width, align) = {
                let c = &self.columns[i];
                (c.x, c.width, c.align)
            };
            for (n, line) in lines.iter().enumerate() {
                let baseline = top - PAD_Y - size - n as f32 * size * LEADING + 1.5;
                match align {
                    Align::Left => self.show(x + PAD_X, baseline, font, size, line),
                    Align::Right => self.show_right(x + width - PAD_X, baseline, font, size, line),
                }
            }
        }
        self.y -= height;
        height
    }

    fn header_cells(&self) -> [Vec<u8>; 6] {
        let currency = &self.detail.order.currency;
        [
            "Your code".into(),
            "Description".into(),
            "Packs × size".into(),
            "Unit".into(),
            format!("Price per pack ({currency})"),
            format!("Line total ({currency})"),
        ]
        .map(|s: String| encode(&s))
    }

    fn table_header(&mut self) {
        let cells = self.header_cells();
        let height = self.row(&cells, Font::Bold, SMALL, false);
        let bottom = self.y - height;
        self.content()
            .set_fill_gray(0.9)
            .rect(LEFT, bottom, RIGHT - LEFT, height)
            .fill_nonzero()
            .set_fill_gray(0.0);
        self.row(&cells, Font::Bold, SMALL, true);
        let y = self.y;
        self.rule(y, 0.75, 0.0);
    }

    fn lines(&mut self) {
        let detail = self.detail;
        let header = self.row(&self.header_cells(), Font::Bold, SMALL, false);
        // Never a header alone at the foot of a page.
        self.room(header + 2.0 * BODY * LEADING + 2.0 * PAD_Y);
        self.table_header();
        for line in &detail.lines {
            let cells = [
                encode(&line.supplier_code),
                encode(&line.item_name),
                encode(&format!("{} × {}", line.packs, line.pack_size)),
                encode(&line.unit),
                encode(&format_minor(line.unit_price_minor)),
                encode(&format_minor(line.line_total_minor)),
            ];
            let height = self.row(&cells, Font::Regular, BODY, false);
            if self.room(height) {
                self.table_header();
            }
            self.row(&cells, Font::Regular, BODY, true);
            let y = self.y;
            self.rule(y, 0.25, 0.7);
        }

        let height = BODY * LEADING + 2.0 * PAD_Y + 2.0;
        if self.room(height) {
            self.table_header();
        }
        let order = &detail.order;
        let label = encode(&format!("Order total ({})", order.currency));
        let total = encode(&format_minor(order.total_minor));
        let y = self.y;
        self.rule(y, 0.75, 0.0);
        let baseline = y - PAD_Y - BODY - 1.0;
        let price = &self.columns[4];
        let price_right = price.x + price.width - PAD_X;
        self.show_right(price_right, baseline, Font::Bold, BODY, &label);
        self.show_right(RIGHT - PAD_X, baseline, Font::Bold, BODY, &total);
        self.y -= height + 14.0;
    }

    fn note(&mut self) {
        let note = self.detail.order.note.trim();
        if note.is_empty() {
            return;
        }
        let lines = wrap(&encode(note), Font::Regular, BODY, RIGHT - LEFT, 500);
        self.room(BODY * LEADING * 3.0);
        self.show(LEFT, self.y - BODY, Font::Bold, BODY, b"Note");
        self.y -= BODY * LEADING + 2.0;
        for line in lines {
            self.room(BODY * LEADING);
            self.show(LEFT, self.y - BODY, Font::Regular, BODY, &line);
            self.y -= BODY * LEADING;
        }
    }

    /// Footers on every page, then the file.
    fn finish(self, practice: &Practice, supplier: &Supplier, printed_at: &str) -> Vec<u8> {
        let order = &self.detail.order;
        let count = self.pages.len();
        let printed = match printed_at.trim() {
            "" => String::new(),
            at => format!(" · Printed {at}"),
        };
        let left = format!(
            "{} · Purchase order {}{printed}",
            self.practice_name, order.number
        );
        let left = encode(&left);
        let mut pages = self.pages;
        for (i, page) in pages.iter_mut().enumerate() {
            let number = encode(&format!("Page {} of {count}", i + 1));
            let room = RIGHT - LEFT - Font::Regular.width(&number, SMALL) - 12.0;
            let footer = wrap(&left, Font::Regular, SMALL, room, 1);
            rule(page, FOOTER_Y + 12.0, 0.5, 0.6);
            page.set_fill_gray(0.3);
            show(page, LEFT, FOOTER_Y, Font::Regular, SMALL, &footer[0]);
            let x = RIGHT - Font::Regular.width(&number, SMALL);
            show(page, x, FOOTER_Y, Font::Regular, SMALL, &number);
        }

        let mut pdf = Pdf::new();
        let mut next = 0;
        let mut id = || {
            next += 1;
            Ref::new(next)
        };
        let (catalog, tree, regular, bold, info) = (id(), id(), id(), id(), id());
        let ids: Vec<(Ref, Ref)> = pages.iter().map(|_| (id(), id())).collect();
        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree)
            .kids(ids.iter().map(|(page, _)| *page))
            .count(i32::try_from(ids.len()).unwrap_or(i32::MAX));
        for (font, name) in [
            (regular, b"Helvetica".as_slice()),
            (bold, b"Helvetica-Bold"),
        ] {
            pdf.type1_font(font)
                .base_font(Name(name))
                .encoding_predefined(Name(b"WinAnsiEncoding"));
        }
        pdf.document_info(info)
            .title(TextStr(&format!("Purchase order {}", order.number)))
            .author(TextStr(practice.name.trim()))
            .subject(TextStr(&format!("Order to {}", supplier.name.trim())))
            .creator(TextStr("stockroom"));
        for (content, (page_id, content_id)) in pages.into_iter().zip(&ids) {
            let mut page = pdf.page(*page_id);
            page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
                .parent(tree)
                .contents(*content_id);
            page.resources()
                .fonts()
                .pair(Name(Font::Regular.resource()), regular)
                .pair(Name(Font::Bold.resource()), bold);
            page.finish();
            let data = miniz_oxide::deflate::compress_to_vec_zlib(&content.finish(), 6);
            pdf.stream(*content_id, &data).filter(Filter::FlateDecode);
        }
        pdf.finish()
    }
}

fn show(c: &mut Content, x: f32, baseline: f32, font: Font, size: f32, text: &[u8]) {
    c.begin_text()
        .set_font(Name(font.resource()), size)
        .next_line(x, baseline)
        .show(Str(text))
        .end_text();
}

/// A horizontal line across the text width.
fn rule(c: &mut Content, y: f32, width: f32, gray: f32) {
    c.set_line_width(width)
        .set_stroke_gray(gray)
        .move_to(LEFT, y)
        .line_to(RIGHT, y)
        .stroke();
}

#[cfg(test)]
mod tests;
