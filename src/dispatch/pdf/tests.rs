//! The order PDF read back with an independent reader (lopdf): what a
//! supplier's PDF viewer would find in it, page by page.

use lopdf::content::Content;
use lopdf::{Document, Object};

use super::text::{Font, encode, wrap};
use super::{PdfError, columns, order_pdf};
use crate::catalog::suppliers::Supplier;
use crate::domain::money::format_minor;
use crate::domain::order::OrderState;
use crate::orders::{Order, OrderDetail, OrderLine};
use crate::practice::Practice;

fn practice() -> Practice {
    Practice {
        name: "Praxis Dr. Müller".into(),
        address: "Hauptstraße 12\n\n  80331 München  \n".into(),
        phone: "+49 89 123456".into(),
        email: "praxis@example.org".into(),
    }
}

fn supplier() -> Supplier {
    Supplier {
        id: 7,
        name: "Medizinbedarf Süd GmbH".into(),
        contact_name: "Frau Weiß".into(),
        email: "orders@example.com".into(),
        phone: "+49 89 654321".into(),
        account_number: "KD-4711".into(),
        lead_time_days: 3,
        notes: String::new(),
        active: true,
    }
}

fn line(n: usize, name: &str, packs: i64, pack_size: i64, price: i64) -> OrderLine {
    OrderLine {
        id: n as i64,
        order_id: 1,
        item_id: n as i64,
        item_name: name.into(),
        item_code: format!("IT{n:04}"),
        unit: "piece".into(),
        lot_tracked: false,
        expiry_tracked: false,
        supplier_item_id: n as i64,
        supplier_code: format!("SC-{n:04}"),
        location_id: 1,
        location_name: "Store".into(),
        pack_size,
        packs,
        quantity: packs * pack_size,
        unit_price_minor: price,
        line_total_minor: price * packs,
        received: 0,
        damaged: 0,
        substituted: 0,
        outstanding: packs * pack_size,
        note: String::new(),
    }
}

fn detail(lines: Vec<OrderLine>) -> OrderDetail {
    OrderDetail {
        order: Order {
            id: 1,
            number: "PO-2026-00042".into(),
            supplier_id: 7,
            supplier_name: "Medizinbedarf Süd GmbH".into(),
            state: OrderState::Queued,
            currency: "EUR".into(),
            total_minor: lines.iter().map(|l| l.line_total_minor).sum(),
            note: "Bitte an den Hintereingang liefern.".into(),
            expected_on: "2026-12-01".into(),
            overdue: false,
            channel: String::new(),
            supplier_reference: String::new(),
            reason: String::new(),
            created_by: Some(1),
            created_by_name: "Anna".into(),
            submitted_by: Some(1),
            created_at: "2026-11-18T09:00:00Z".into(),
            submitted_at: Some("2026-11-20T10:30:00Z".into()),
            approved_at: None,
            sent_at: None,
            acknowledged_at: None,
            received_at: None,
            closed_at: None,
            cancelled_at: None,
        },
        lines,
        approvals: vec![],
        events: vec![],
        receipts: vec![],
        hidden_lines: 0,
    }
}

fn three_lines() -> Vec<OrderLine> {
    vec![
        line(1, "Spritzen Größe 5 ml", 2, 100, 1250),
        line(2, "Handschuhe Nitril µ-Schutz, Größe M", 10, 50, 899),
        line(3, "Kompressen, stérile 10×10 cm", 1, 25, 40_000),
    ]
}

/// The document and each page's text, in page order.
fn read(pdf: &[u8]) -> (Document, Vec<String>) {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF header");
    let doc = Document::load_mem(pdf).expect("the PDF opens");
    let texts = doc
        .get_pages()
        .keys()
        .map(|&n| doc.extract_text(&[n]).expect("the page's text"))
        .collect();
    (doc, texts)
}

fn render(detail: &OrderDetail) -> Vec<u8> {
    order_pdf(&practice(), &supplier(), detail, "2026-11-21 14:03").unwrap()
}

#[test]
fn page_one_carries_the_letterhead_supplier_lines_and_total() {
    let detail = detail(three_lines());
    let (_, pages) = read(&render(&detail));
    assert_eq!(pages.len(), 1);
    let text = &pages[0];
    for expected in [
        "Purchase order",
        "PO-2026-00042",
        "Praxis Dr. Müller",
        "Hauptstraße 12",
        "80331 München",
        "Phone +49 89 123456",
        "praxis@example.org",
        "Date: 2026-11-20",
        "Expected delivery: 2026-12-01",
        "Medizinbedarf Süd GmbH",
        "Attn. Frau Weiß",
        "Our account number: KD-4711",
        "SC-0001",
        "SC-0002",
        "SC-0003",
        "10 × 50",
        "8.99",
        "89.90",
        "Order total (EUR)",
        &format_minor(detail.order.total_minor),
        "Bitte an den Hintereingang liefern.",
        "Page 1 of 1",
        "Printed 2026-11-21 14:03",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    assert_eq!(format_minor(detail.order.total_minor), "514.90");
}

#[test]
fn umlauts_and_latin_1_come_back_intact() {
    let (_, pages) = read(&render(&detail(three_lines())));
    for expected in [
        "Spritzen Größe 5 ml",
        "Handschuhe Nitril µ-Schutz, Größe M",
        "Kompressen, stérile 10×10 cm",
    ] {
        assert!(
            pages[0].contains(expected),
            "{expected:?} missing from:\n{}",
            pages[0]
        );
    }
}

#[test]
fn many_lines_flow_onto_further_pages_with_the_header_repeated() {
    let lines = (1..=120)
        .map(|n| line(n, &format!("Verbandsmaterial Typ {n}"), 1, 10, 500))
        .collect();
    let (doc, pages) = read(&render(&detail(lines)));
    let count = pages.len();
    assert!(count > 1, "120 lines on one page");
    assert_eq!(doc.get_pages().len(), count);
    let all = pages.concat();
    for n in 1..=120 {
        let code = format!("SC-{n:04}");
        assert_eq!(
            all.matches(&code).count(),
            1,
            "{code} is not there exactly once"
        );
    }
    for (i, text) in pages.iter().enumerate() {
        let page = format!("Page {} of {count}", i + 1);
        assert!(text.contains(&page), "{page:?} missing on page {}", i + 1);
        assert!(
            text.contains("Your code"),
            "no table header on page {}",
            i + 1
        );
        assert!(
            text.contains("PO-2026-00042"),
            "no order number on page {}",
            i + 1
        );
    }
    // All of it on the paper: above the footer, below the top margin.
    for (i, page) in runs(&doc).iter().enumerate() {
        for (x, y, font, size, bytes) in page {
            let footer = *y == super::FOOTER_Y;
            assert!(
                footer || (super::BOTTOM..=super::TOP).contains(y),
                "{:?} at y = {y} on page {}",
                String::from_utf8_lossy(bytes),
                i + 1
            );
            assert!(*x >= super::LEFT && x + font.width(bytes, *size) <= super::RIGHT + 0.01);
        }
    }
    assert!(pages[count - 1].contains("Order total (EUR)"));
    assert!(pages[count - 1].contains("600.00"));
}

#[test]
fn an_empty_note_and_expected_date_print_no_labels() {
    let mut d = detail(three_lines());
    let (_, pages) = read(&render(&d));
    assert!(pages[0].contains("Note") && pages[0].contains("Expected delivery"));

    d.order.note = "  ".into();
    d.order.expected_on = String::new();
    let (_, pages) = read(&render(&d));
    assert!(
        !pages[0].contains("Note"),
        "stray note label:\n{}",
        pages[0]
    );
    assert!(
        !pages[0].contains("Expected delivery"),
        "stray date label:\n{}",
        pages[0]
    );
    assert!(!pages[0].contains("Your reference"));
}

/// A piece of text as shown: where it starts (x, baseline), its font, its size
/// and its bytes.
type Run = (f32, f32, Font, f32, Vec<u8>);

/// Every page's text runs, from the page's operators.
fn runs(doc: &Document) -> Vec<Vec<Run>> {
    let mut pages = Vec::new();
    for id in doc.get_pages().values() {
        let content = Content::decode(&doc.get_page_content(*id)).unwrap();
        let (mut font, mut size, mut at) = (Font::Regular, 0.0, (0.0, 0.0));
        let mut out = Vec::new();
        for op in content.operations {
            let num = |i: usize| op.operands[i].as_float().unwrap();
            match op.operator.as_str() {
                "Tf" => {
                    font = match op.operands[0].as_name().unwrap() {
                        b"F2" => Font::Bold,
                        _ => Font::Regular,
                    };
                    size = num(1);
                }
                "Td" => at = (num(0), num(1)),
                "Tj" => {
                    let Object::String(bytes, _) = &op.operands[0] else {
                        panic!("a Tj without a string");
                    };
                    out.push((at.0, at.1, font, size, bytes.clone()));
                }
                _ => {}
            }
        }
        pages.push(out);
    }
    pages
}

#[test]
fn long_descriptions_wrap_inside_their_column() {
    let long = "Einmal-Injektionsnadeln steril, Luer-Lock, 0,45 × 25 mm, \
                hypoallergen verpackt, für subkutane und intramuskuläre Anwendung, \
                Packung mit Aufreißlasche und Entsorgungshinweis";
    let unbroken = "Verbandstoff".repeat(30);
    let mut lines = three_lines();
    lines[1].item_name = long.into();
    lines[2].item_name = unbroken.clone();
    lines[2].supplier_code = "SUPPLIER-CODE-THAT-IS-FAR-TOO-LONG".into();
    let pdf = render(&detail(lines));
    let (doc, pages) = read(&pdf);

    let cols = columns();
    let runs = runs(&doc).remove(0);
    let y_of = |text: &[u8]| runs.iter().find(|r| r.4 == text).map(|r| r.1).unwrap();
    let (header, total) = (y_of(b"Your code"), y_of(b"Order total (EUR)"));
    let mut checked = 0;
    for (x, _, font, size, bytes) in runs.iter().filter(|r| r.1 <= header && r.1 > total) {
        let end = x + font.width(bytes, *size);
        let i = cols
            .iter()
            .position(|c| *x >= c.x && *x < c.x + c.width)
            .expect("a run inside the table");
        let limit = cols.get(i + 1).map_or(super::RIGHT, |c| c.x);
        // Right-aligned cells start inside too; nothing reaches the next column.
        assert!(
            end <= limit,
            "{:?} runs from {x} to {end}, past {limit}",
            String::from_utf8_lossy(bytes),
        );
        checked += 1;
    }
    assert!(checked > 20, "only {checked} runs checked");
    // The long description is all there, over several lines; the word too
    // long for any line is broken and cut with an ellipsis.
    let text = &pages[0];
    for word in long.split_whitespace() {
        assert!(text.contains(word), "{word:?} lost");
    }
    assert!(!text.contains(long), "the long description was not wrapped");
    assert!(text.contains('…'), "the overlong word was not cut");
    // The long code is all there, broken after a hyphen.
    assert!(
        text.contains("SUPPLIER-\n"),
        "not broken at its hyphen:\n{text}"
    );
    let joined = text.replace('\n', "");
    assert!(
        joined.contains("SUPPLIER-CODE-THAT-IS-FAR-TOO-LONG"),
        "the long code was cut"
    );
}

#[test]
fn the_supplier_must_be_the_orders() {
    let mut other = supplier();
    other.id = 8;
    let result = order_pdf(&practice(), &other, &detail(three_lines()), "");
    assert!(
        matches!(
            result,
            Err(PdfError::WrongSupplier {
                expected: 7,
                given: 8,
                ..
            })
        ),
        "another supplier's order was rendered"
    );
}

#[test]
fn text_outside_win_ansi_falls_back_to_its_base_letter() {
    assert_eq!(encode("Größe €5 – µl"), b"Gr\xf6\xdfe \x805 \x96 \xb5l");
    // Decomposed input is composed first; č has no WinAnsi code, ł no base letter.
    assert_eq!(encode("Gro\u{308}ße Čech ł\tx"), b"Gr\xf6\xdfe Cech ? x");
}

#[test]
fn wrapping_breaks_at_spaces_then_inside_words_then_cuts() {
    let at = |s: &str, w: f32, max: usize| {
        wrap(s.as_bytes(), Font::Regular, 10.0, w, max)
            .into_iter()
            .map(|l| String::from_utf8_lossy(&l).into_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(at("aaa bbb ccc", 40.0, 9), ["aaa bbb", "ccc"]);
    assert_eq!(at("aaaaaaaaaa", 30.0, 9), ["aaaaa", "aaaaa"]);
    assert_eq!(at("abc-defghij", 40.0, 9), ["abc-", "defghij"]);
    assert_eq!(at("one\n\ntwo\n\n", 40.0, 9), ["one", "", "two"]);
    let cut = at("aaa bbb ccc ddd", 40.0, 1);
    assert_eq!(cut.len(), 1);
    assert!(cut[0].starts_with("aaa") && cut[0].ends_with('\u{fffd}'));
    assert_eq!(at("", 40.0, 3), [""]);
}
