use super::*;
use crate::dispatch::x12::syntax::{text, transactions};

#[test]
fn po_850_for_an_order_is_exactly_the_expected_interchange() {
    let expected = "\
ISA*00*          *00*          *ZZ*RIVERSIDE      *01*123456789      *260115*0930*U*00401*000000042*0*P*>~
GS*PO*RIVERSIDE*123456789*20260115*0930*7*X*004010~
ST*850*0003~
BEG*00*SA*PO-2026-00042**20260115~
CUR*BY*EUR~
REF*IA*C-77~
DTM*002*20260120~
N9*L1*NOTE~
MSG*Please deliver to the back door~
N1*BY*Riverside Practice*91*C-77~
N3*1 High Street*Riverton RV1 2AB~
PER*IC**TE*+44 1234 567890*EM*supplies@riverside.example~
N1*ST*Riverside Practice~
N3*1 High Street*Riverton RV1 2AB~
PO1*1*2*CA*8.00**BP*GLV-M*VP*GL-100~
PID*F****Nitrile gloves M~
PO1*2*5*EA*12.50**BP*THERM*VP*TH-9~
PID*F****Ear thermometer~
CTT*2*7~
AMT*TT*78.50~
SE*19*0003~
GE*1*7~
IEA*1*000000042~
";
    assert_eq!(po850(), expected);
}

#[test]
fn isa_header_is_fixed_width_and_declares_the_separators() {
    let x12 = po850();
    let isa = x12.lines().next().unwrap();
    // 105 characters and the terminator: the width every X12 reader expects.
    assert_eq!(isa.len(), 106, "{isa:?}");
    assert_eq!(&isa[3..4], "*");
    assert_eq!(&isa[104..106], ">~", "ISA16 then the segment terminator");
    let e: Vec<&str> = isa.trim_end_matches('~').split('*').collect();
    assert_eq!(e.len(), 17);
    assert_eq!((e[5], e[6]), ("ZZ", "RIVERSIDE      "));
    assert_eq!((e[7], e[8]), ("01", "123456789      "));
    assert_eq!((e[9], e[10]), ("260115", "0930"));
    assert_eq!((e[11], e[12]), ("U", "00401"));
    assert_eq!((e[14], e[15]), ("0", "P"));

    let test = Settings {
        test: true,
        ..settings()
    };
    let x12 = purchase_order_850(&test, controls(), at(), &practice(), &supplier(), &detail());
    assert_eq!(
        &x12.lines().next().unwrap()[102..103],
        "T",
        "ISA15 marks test data"
    );
}

#[test]
fn control_numbers_are_padded_and_repeated_in_the_trailers() {
    let cases = [
        ((5, 123, 98_765), ("000000005", "123", "98765")),
        ((999_999_999, 1, 1), ("999999999", "1", "0001")),
        // Past nine digits the number wraps rather than widening the ISA.
        (
            (1_000_000_007, 1_000_000_002, 1_000_000_003),
            ("000000007", "2", "0003"),
        ),
    ];
    for ((interchange, group, transaction), (isa13, gs06, st02)) in cases {
        let c = Controls {
            interchange,
            group,
            transaction,
        };
        let x12 = purchase_order_850(&settings(), c, at(), &practice(), &supplier(), &detail());
        assert_eq!(x12.lines().next().unwrap().len(), 106);
        assert_eq!(only(&x12, "ISA")[13], isa13);
        assert_eq!(only(&x12, "IEA")[1..], ["1", isa13]);
        assert_eq!(only(&x12, "GS")[6], gs06);
        assert_eq!(only(&x12, "GE")[1..], ["1", gs06]);
        assert_eq!(only(&x12, "ST")[1..], ["850", st02]);
        assert_eq!(only(&x12, "SE")[2], st02);
    }
}

#[test]
fn se01_counts_the_segments_from_st_to_se() {
    let bare = {
        let mut d = detail();
        d.order.note.clear();
        d.order.expected_on.clear();
        d.lines
            .push(line("SWAB", "SW-1", "Alcohol swabs", 200, 3, 450));
        d
    };
    let no_account = Supplier {
        account_number: String::new(),
        ..supplier()
    };
    for (d, s) in [(detail(), supplier()), (bare, no_account)] {
        let x12 = purchase_order_850(&settings(), controls(), at(), &practice(), &s, &d);
        let segs = split(&x12);
        let st = segs.iter().position(|s| s[0] == "ST").unwrap();
        let se = segs.iter().position(|s| s[0] == "SE").unwrap();
        assert_eq!(only(&x12, "SE")[1], (se - st + 1).to_string(), "{x12}");
    }
}

#[test]
fn packs_go_as_cases_at_the_pack_price_and_single_units_as_each() {
    let mut d = detail();
    d.lines = vec![
        line("GLV-M", "GL-100", "Gloves", 100, 2, 800),
        line("THERM", "TH-9", "Thermometer", 1, 5, 1250),
        line("GAUZE", "", "Gauze", 10, 4, 3),
    ];
    let x12 = purchase_order_850(&settings(), controls(), at(), &practice(), &supplier(), &d);
    let po1 = all(&x12, "PO1");
    assert_eq!(
        po1[0],
        [
            "PO1", "1", "2", "CA", "8.00", "", "BP", "GLV-M", "VP", "GL-100"
        ]
    );
    assert_eq!(
        po1[1],
        [
            "PO1", "2", "5", "EA", "12.50", "", "BP", "THERM", "VP", "TH-9"
        ]
    );
    // No supplier code: the pair is left out rather than sent empty.
    assert_eq!(po1[2], ["PO1", "3", "4", "CA", "0.03", "", "BP", "GAUZE"]);
    assert_eq!(only(&x12, "CTT")[1..], ["3", "11"], "lines and hash total");
}

#[test]
fn separators_in_free_text_cannot_break_the_structure() {
    let mut d = detail();
    d.order.note = "Ring*twice~then>wait^ok".into();
    d.lines[0].item_name = "Gloves *~> size^M\r\nnew~".into();
    d.lines[0].item_code = "GL*V~".into();
    let p = Practice {
        name: "Dr. A*B~C>D".into(),
        address: "1 High*Street~\nTown>".into(),
        ..practice()
    };
    let x12 = purchase_order_850(&settings(), controls(), at(), &p, &supplier(), &d);
    for (i, l) in x12.lines().enumerate() {
        assert_eq!(l.matches('~').count(), 1, "{l}");
        assert!(l.ends_with('~'), "{l}");
        assert!(i == 0 || !l.contains(['>', '^']), "{l}");
    }
    assert_eq!(
        all(&x12, "PID")[0],
        ["PID", "F", "", "", "", "Gloves size M new"]
    );
    assert_eq!(only(&x12, "MSG"), ["MSG", "Ring twice then wait ok"]);
    let po1 = all(&x12, "PO1");
    assert_eq!(po1[0][6..], ["BP", "GL V", "VP", "GL-100"]);
    let n1 = all(&x12, "N1");
    assert_eq!(n1[0], ["N1", "BY", "Dr. A B C D", "91", "C-77"]);
    // And the envelope still adds up when read back.
    let t = transactions(&x12).unwrap();
    assert_eq!(t.len(), 1);
}

#[test]
fn free_text_is_cut_to_each_element_maximum() {
    let mut d = detail();
    d.lines[0].item_name = "x".repeat(200);
    d.order.number = "PO-".to_string() + &"9".repeat(40);
    d.order.note = "n".repeat(600);
    let p = Practice {
        name: "P".repeat(100),
        address: "A".repeat(100),
        ..practice()
    };
    let x12 = purchase_order_850(&settings(), controls(), at(), &p, &supplier(), &d);
    assert_eq!(all(&x12, "PID")[0][5].len(), 80);
    assert_eq!(only(&x12, "BEG")[3].len(), 22);
    let n1 = all(&x12, "N1");
    assert_eq!(n1[0][2].len(), 60);
    let n3 = all(&x12, "N3");
    assert_eq!(n3[0][1].len(), 55);
    // A long note goes in several MSG segments of at most 264 characters.
    let msg: Vec<usize> = split(&x12)
        .into_iter()
        .filter(|s| s[0] == "MSG")
        .map(|s| s[1].len())
        .collect();
    assert_eq!(msg, [264, 264, 72]);
}

#[test]
fn text_becomes_plain_ascii_without_separators_or_control_characters() {
    assert_eq!(
        text("Müller-Lüdenscheidt Straße 5\tµl", 80),
        "Muller-Ludenscheidt Strasse 5 ul"
    );
    assert_eq!(text("  a*b~c>d^e\u{7}f\n\ng  ", 80), "a b c d e f g");
    assert_eq!(text("Ærø Ørsted 20 °C", 80), "AEro Orsted 20 C");
    assert_eq!(text("abc def", 4), "abc", "cut, then no trailing space");
    assert_eq!(text("*~>^", 10), "");
}

#[test]
fn optional_segments_are_left_out_when_there_is_nothing_to_say() {
    let mut d = detail();
    d.order.note.clear();
    d.order.expected_on.clear();
    let s = Supplier {
        account_number: String::new(),
        ..supplier()
    };
    let p = Practice {
        address: String::new(),
        phone: String::new(),
        email: String::new(),
        ..practice()
    };
    let x12 = purchase_order_850(&settings(), controls(), at(), &p, &s, &d);
    let ids: Vec<String> = split(&x12).into_iter().map(|s| s[0].clone()).collect();
    assert_eq!(
        ids,
        [
            "ISA", "GS", "ST", "BEG", "CUR", "N1", "N1", "PO1", "PID", "PO1", "PID", "CTT", "AMT",
            "SE", "GE", "IEA"
        ]
    );
    let n1 = all(&x12, "N1");
    assert_eq!(n1[0], ["N1", "BY", "Riverside Practice"]);
}

#[test]
fn own_850_passes_own_envelope_check() {
    let x12 = po850();
    assert_eq!(parse(&x12), Ok(vec![Inbound::Other { code: "850".into() }]));
    let t = transactions(&x12).unwrap();
    let seg = |id: &'static str| t[0].segments.iter().filter(move |s| s.id == id);
    assert_eq!(seg("BEG").next().unwrap().el(3), "PO-2026-00042");
    let pids: Vec<&str> = seg("PID").map(|s| s.el(5)).collect();
    assert_eq!(pids, ["Nitrile gloves M", "Ear thermometer"]);
}

#[test]
fn address_lines_fill_n3_two_at_a_time() {
    let n3 = |address: &str| {
        let p = Practice {
            address: address.into(),
            ..practice()
        };
        let x12 = purchase_order_850(&settings(), controls(), at(), &p, &supplier(), &detail());
        // The ship-to loop repeats the buyer's address.
        let n3 = all(&x12, "N3");
        assert_eq!(n3.len() % 2, 0);
        n3[..n3.len() / 2].to_vec()
    };
    // The first line repeats the name: left out.
    assert_eq!(
        n3("Riverside Practice\n1 High Street\n\nRiverton\nRV1 2AB"),
        [
            vec!["N3", "1 High Street", "Riverton"],
            // An odd line out ends the segment without an empty element.
            vec!["N3", "RV1 2AB"],
        ]
    );
    // At most two N3: the lines past the fourth join it.
    assert_eq!(
        n3("Unit 4\nThe Old Mill\n1 High Street\nRiverton\nRV1 2AB\nUK"),
        [
            vec!["N3", "Unit 4", "The Old Mill"],
            vec!["N3", "1 High Street", "Riverton, RV1 2AB, UK"],
        ]
    );
}
