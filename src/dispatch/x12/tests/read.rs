use jiff::civil::date;

use super::*;

/// An 855 from the supplier for PO-2026-00042 with every line status.
pub(crate) const ACK_855: &str = "\
ISA*00*          *00*          *01*123456789      *ZZ*RIVERSIDE      *260116*1015*U*00401*000000501*0*P*>~
GS*PR*123456789*RIVERSIDE*20260116*1015*501*X*004010~
ST*855*0001~
BAK*00*AC*PO-2026-00042*20260116~
PO1*1*2*CA*8.00**BP*GLV-M*VP*GL-100~
ACK*IA*2*CA*068*20260119~
PO1*2*10*EA*12.50**BP*THERM*VP*TH-9~
ACK*IA*6*EA~
ACK*IB*4*EA~
DTM*067*20260130~
PO1*3*1*CA*4.50**BP*SWAB*VP*SW-1~
ACK*IR*1*CA~
PO1*4*3*CA*9.00**BP*MASK*VP*MK-2~
ACK*IS*3*CA*068*20260119**VP*MK-3~
PO1*5*5*CA*2.00**BP*TAPE*VP*TP-1~
ACK*IQ*4*CA~
PO1*6*1*EA*30.00**BP*SCALE*VP*SC-5~
CTT*6~
SE*17*0001~
GE*1*501~
IEA*1*000000501~
";

fn ack_line(
    line: &str,
    parts: (&str, &str),
    quantity: i64,
    status: LineStatus,
    date: Option<jiff::civil::Date>,
) -> AckLine {
    AckLine {
        line: line.into(),
        buyer_part: parts.0.into(),
        vendor_part: parts.1.into(),
        quantity: Some(quantity),
        status,
        date,
    }
}

#[test]
fn an_855_reads_every_line_status() {
    let parsed = parse(ACK_855).unwrap();
    let expected = Ack855 {
        po_number: "PO-2026-00042".into(),
        ack_type: "AC".into(),
        lines: vec![
            ack_line(
                "1",
                ("GLV-M", "GL-100"),
                2,
                LineStatus::Accepted,
                Some(date(2026, 1, 19)),
            ),
            // One line split in two: six now, four backordered until the 30th.
            ack_line("2", ("THERM", "TH-9"), 6, LineStatus::Accepted, None),
            ack_line(
                "2",
                ("THERM", "TH-9"),
                4,
                LineStatus::Backordered,
                Some(date(2026, 1, 30)),
            ),
            ack_line("3", ("SWAB", "SW-1"), 1, LineStatus::Rejected, None),
            ack_line(
                "4",
                ("MASK", "MK-2"),
                3,
                LineStatus::Substituted {
                    vendor_part: "MK-3".into(),
                },
                Some(date(2026, 1, 19)),
            ),
            ack_line("5", ("TAPE", "TP-1"), 4, LineStatus::Changed, None),
            // No ACK: as the acknowledgment as a whole says, at the ordered quantity.
            ack_line("6", ("SCALE", "SC-5"), 1, LineStatus::Accepted, None),
        ],
    };
    assert_eq!(parsed, vec![Inbound::Ack(expected)]);
}

#[test]
fn a_rejected_855_rejects_the_lines_it_does_not_detail() {
    let text = ACK_855.replace("BAK*00*AC*", "BAK*00*RD*");
    let Inbound::Ack(a) = &parse(&text).unwrap()[0] else {
        panic!("an acknowledgment");
    };
    assert_eq!(a.ack_type, "RD");
    assert_eq!(a.lines.last().unwrap().status, LineStatus::Rejected);
    assert_eq!(a.lines[0].status, LineStatus::Accepted, "ACK01 still wins");
}

#[test]
fn an_855_with_what_cannot_be_read_is_refused_with_the_reason() {
    let cases = [
        (
            "ACK*IQ*4*CA~",
            "ACK*XX*4*CA~",
            "\"XX\" (ACK01) is not one stockroom knows",
        ),
        (
            "ACK*IA*2*CA*068*20260119~",
            "ACK*IA*2*CA*068*2026-01-19~",
            "ACK05 (\"2026-01-19\") is not a date",
        ),
        (
            "ACK*IA*2*CA*068*20260119~",
            "ACK*IA*2*CA*068*20260231~",
            "ACK05 (\"20260231\") is not a date",
        ),
        (
            "ACK*IR*1*CA~",
            "ACK*IR*one*CA~",
            "ACK02 (\"one\") is not a whole quantity",
        ),
        (
            "PO1*1*2*CA*8.00**BP*GLV-M*VP*GL-100~\n",
            "",
            "an ACK comes before any PO1 line",
        ),
        (
            "BAK*00*AC*PO-2026-00042*20260116~",
            "REF*IA*C-77~",
            "has no BAK segment",
        ),
    ];
    for (from, to, reason) in cases {
        assert!(ACK_855.contains(from), "{from}");
        let mut text = ACK_855.replacen(from, to, 1);
        if to.is_empty() {
            text = text.replace("SE*17*0001", "SE*16*0001");
        }
        let err = parse(&text).unwrap_err();
        assert!(matches!(err, X12Error::Content(_)), "{err:?}");
        assert!(
            err.to_string().contains(reason),
            "{err} should say {reason}"
        );
    }
}

/// An 856 with its own separators (`|`, `:`) and CRLF after each segment:
/// shipment, order, pack and two items, one lot in LIN, one in REF.
pub(crate) const SHIP_856: &str = "\
ISA|00|          |00|          |01|123456789      |ZZ|RIVERSIDE      |260117|0800|U|00401|000000502|0|P|:~\r
GS|SH|123456789|RIVERSIDE|20260117|0800|502|X|004010~\r
ST|856|0001~\r
BSN|00|SHP-7781|20260117|0800~\r
HL|1||S~\r
TD5|B|2|DHL~\r
DTM|011|20260117~\r
DTM|017|20260119~\r
HL|2|1|O~\r
PRF|PO-2026-00042~\r
HL|3|2|P~\r
MAN|GM|00012345678901234567~\r
HL|4|3|I~\r
LIN||BP|GLV-M|VP|GL-100|LT|L2401~\r
SN1||2|CA~\r
DTM|036|20280131~\r
HL|5|3|I~\r
LIN||BP|THERM|VP|TH-9~\r
SN1||5|EA~\r
REF|LT|T-88~\r
CTT|2~\r
SE|20|0001~\r
GE|1|502~\r
IEA|1|000000502~\r
";

#[test]
fn an_856_walks_shipment_order_pack_and_items() {
    let expected = vec![Inbound::Ship(Ship856 {
        po_number: "PO-2026-00042".into(),
        shipment_id: "SHP-7781".into(),
        delivery: Some(date(2026, 1, 19)),
        lines: vec![
            ShipLine {
                buyer_part: "GLV-M".into(),
                vendor_part: "GL-100".into(),
                quantity: 2,
                lot: Some("L2401".into()),
                expiry: Some(date(2028, 1, 31)),
            },
            ShipLine {
                buyer_part: "THERM".into(),
                vendor_part: "TH-9".into(),
                quantity: 5,
                lot: Some("T-88".into()),
                expiry: None,
            },
        ],
    })];
    assert_eq!(parse(SHIP_856).unwrap(), expected);
    // The same with a newline as the segment terminator, and a byte-order mark.
    let newline = format!("\u{feff}{}", SHIP_856.replace("~\r\n", "\n"));
    assert_eq!(parse(&newline).unwrap(), expected);
}

#[test]
fn an_856_for_two_orders_reads_as_two_with_the_shipped_date() {
    let text = "\
ISA*00*          *00*          *01*123456789      *ZZ*RIVERSIDE      *260118*0900*U*00401*000000503*0*P*>~
GS*SH*123456789*RIVERSIDE*20260118*0900*503*X*004010~
ST*856*0002~
BSN*00*SHP-7782*20260118*0900~
HL*1**S~
DTM*011*20260118~
HL*2*1*O~
PRF*PO-2026-00042~
HL*3*2*I~
LIN**VP*GL-100~
SN1**1*CA~
HL*4*1*O~
PRF*PO-2026-00043~
HL*5*4*I~
LIN**BP*SWAB~
SN1**3.0*CA~
SE*15*0002~
GE*1*503~
IEA*1*000000503~
";
    let ship = |po: &str, line: ShipLine| {
        Inbound::Ship(Ship856 {
            po_number: po.into(),
            shipment_id: "SHP-7782".into(),
            delivery: Some(date(2026, 1, 18)),
            lines: vec![line],
        })
    };
    let item = |buyer: &str, vendor: &str, quantity| ShipLine {
        buyer_part: buyer.into(),
        vendor_part: vendor.into(),
        quantity,
        lot: None,
        expiry: None,
    };
    assert_eq!(
        parse(text).unwrap(),
        vec![
            ship("PO-2026-00042", item("", "GL-100", 1)),
            ship("PO-2026-00043", item("SWAB", "", 3)),
        ]
    );
}

#[test]
fn an_856_with_what_cannot_be_read_is_refused_with_the_reason() {
    let cases = [
        ("SN1||5|EA~\r\n", "", "\"TH-9\" has no quantity (SN1)"),
        (
            "SN1||5|EA~",
            "SN1||-5|EA~",
            "SN102 (\"-5\") is not a quantity shipped",
        ),
        ("PRF|PO-2026-00042~\r\n", "", "without naming their order"),
        (
            "DTM|036|20280131~",
            "DTM|036|280131~",
            "DTM02 (\"280131\") is not a date",
        ),
        (
            "BSN|00|SHP-7781|20260117|0800~",
            "BGN|00|SHP-7781~",
            "has no BSN segment",
        ),
        (
            "BSN|00|SHP-7781|20260117|0800~",
            "BSN|01|SHP-7781|20260117|0800~",
            "the ship notice SHP-7781 withdraws an earlier one",
        ),
        (
            "BSN|00|SHP-7781|20260117|0800~",
            "BSN|03|SHP-7781|20260117|0800~",
            "(BSN01 \"03\")",
        ),
    ];
    for (from, to, reason) in cases {
        assert!(SHIP_856.contains(from), "{from}");
        // Removing a segment changes the count in SE01 too.
        let mut text = SHIP_856.replacen(from, to, 1);
        if to.is_empty() {
            text = text.replace("SE|20|0001", "SE|19|0001");
        }
        let err = parse(&text).unwrap_err();
        assert!(matches!(err, X12Error::Content(_)), "{err:?}");
        assert!(
            err.to_string().contains(reason),
            "{err} should say {reason}"
        );
    }
}
