use super::*;

/// Two groups: two acknowledgments, then a functional acknowledgment (997).
const TWO_GROUPS: &str = "\
ISA*00*          *00*          *01*123456789      *ZZ*RIVERSIDE      *260116*1015*U*00401*000000900*0*P*>~
GS*PR*123456789*RIVERSIDE*20260116*1015*900*X*004010~
ST*855*0001~
BAK*00*AD*PO-2026-00042*20260116~
PO1*1*2*CA*8.00**BP*GLV-M*VP*GL-100~
SE*4*0001~
ST*855*0002~
BAK*00*AK*PO-2026-00043*20260116~
SE*3*0002~
GE*2*900~
GS*FA*123456789*RIVERSIDE*20260116*1015*901*X*004010~
ST*997*0003~
AK1*PO*7~
AK9*A*1*1*1~
SE*4*0003~
GE*1*901~
IEA*2*000000900~
";

#[test]
fn a_sound_envelope_gives_every_transaction_set_in_order() {
    let parsed = parse(TWO_GROUPS).unwrap();
    let ack = |po: &str, kind: &str, lines| {
        Inbound::Ack(Ack855 {
            po_number: po.into(),
            ack_type: kind.into(),
            lines,
        })
    };
    assert_eq!(
        parsed,
        vec![
            ack(
                "PO-2026-00042",
                "AD",
                vec![AckLine {
                    line: "1".into(),
                    buyer_part: "GLV-M".into(),
                    vendor_part: "GL-100".into(),
                    quantity: Some(2),
                    status: LineStatus::Accepted,
                    date: None,
                }]
            ),
            ack("PO-2026-00043", "AK", vec![]),
            Inbound::Other { code: "997".into() },
        ]
    );
    // Windows line ends change nothing.
    assert_eq!(parse(&TWO_GROUPS.replace('\n', "\r\n")).unwrap(), parsed);
}

#[test]
fn each_envelope_mismatch_is_refused_with_its_reason() {
    let cases = [
        (
            "IEA*2*000000900",
            "IEA*2*000000901",
            "control number \"000000901\" (IEA02) but began with \"000000900\" (ISA13)",
        ),
        (
            "IEA*2*",
            "IEA*1*",
            "says it holds 1 functional groups (IEA01) but holds 2",
        ),
        ("IEA*2*", "IEA*two*", "IEA01 (\"two\") is not a count"),
        (
            "GE*2*900",
            "GE*2*909",
            "control number \"909\" (GE02) but began with \"900\" (GS06)",
        ),
        (
            "GE*2*900",
            "GE*3*900",
            "says it holds 3 transaction sets (GE01) but holds 2",
        ),
        (
            "SE*4*0001",
            "SE*4*0009",
            "control number \"0009\" (SE02) but began with \"0001\" (ST02)",
        ),
        (
            "SE*4*0001",
            "SE*5*0001",
            "says it has 5 segments (SE01) but has 4",
        ),
        (
            "SE*3*0002~\n",
            "",
            "segment 9 (GE): GE comes before the transaction set was closed by SE",
        ),
        (
            "GE*1*901~\n",
            "",
            "IEA comes where a transaction set (ST) or the group trailer (GE) belongs",
        ),
        (
            "GS*FA*123456789*RIVERSIDE*20260116*1015*901*X*004010~\n",
            "",
            "ST comes where a functional group (GS) or the interchange trailer (IEA) belongs",
        ),
        (
            "IEA*2*000000900~\n",
            "IEA*2*000000900~\nST*855*0009~\n",
            "ST comes outside an interchange",
        ),
        (
            "IEA*2*000000900~\n",
            "",
            "the file ends without the interchange trailer IEA",
        ),
        (
            "IEA*2*000000900~\n",
            "IEA*2*000000900~\nISA*00~\n",
            "the ISA header must have 16 elements, this one has 1",
        ),
    ];
    for (from, to, reason) in cases {
        assert!(TWO_GROUPS.contains(from), "{from}");
        let err = parse(&TWO_GROUPS.replacen(from, to, 1)).unwrap_err();
        assert!(matches!(err, X12Error::Envelope(_)), "{from}: {err:?}");
        assert_eq!(err.code(), "x12-envelope");
        assert!(
            err.to_string().contains(reason),
            "{err}\nshould say: {reason}"
        );
    }
}

#[test]
fn what_is_not_x12_is_refused_as_such() {
    let cases = [
        ("", "does not start with an ISA header"),
        ("order,PO-2026-00042\n", "does not start with an ISA header"),
        ("ISA", "the ISA header is cut short"),
        ("ISA*00*          *00*", "the ISA header is cut short"),
        (
            "ISA*00*          *00*          *ZZ*A              *ZZ*B              *260116*1015*U*00401*000000900*0*P*A~",
            "unusable separators",
        ),
    ];
    for (text, reason) in cases {
        let err = parse(text).unwrap_err();
        assert!(matches!(err, X12Error::NotX12(_)), "{text:?}: {err:?}");
        assert!(
            err.to_string().contains(reason),
            "{err}\nshould say: {reason}"
        );
    }
}

#[test]
fn a_utf16_file_is_named_as_such() {
    let utf16: String = TWO_GROUPS
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .map(char::from)
        .collect();
    let e = parse(&utf16).unwrap_err();
    assert!(e.to_string().contains("it is UTF-16 text"), "{e}");
}

#[test]
fn an_isa_header_of_the_wrong_length_is_refused() {
    // ISA06 one character short: 105 characters.
    let short = TWO_GROUPS.replace("*01*123456789      *", "*01*123456789     *");
    let e = parse(&short).unwrap_err();
    assert!(
        e.to_string().contains("ISA06 must be 15 characters long"),
        "{e}"
    );
    let long = TWO_GROUPS.replace("*01*123456789      *", "*01*123456789       *");
    assert!(parse(&long).is_err());
}
