use proptest::prelude::*;

use super::*;

const YEAR: i32 = 2026;
const GS: &str = "\u{1d}";

fn ok(code: &str) -> Scan {
    parse(code, YEAR).unwrap_or_else(|e| panic!("{code:?}: {e}"))
}

fn day(y: i32, m: u8, d: u8) -> Option<Date> {
    Some(Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), d).unwrap())
}

#[test]
fn gtin_check_digits() {
    // Published valid numbers: GS1's example GTIN, an EAN-13, a UPC-A, an EAN-8.
    for valid in [
        "09506000134352",
        "4006381333931",
        "036000291452",
        "96385074",
    ] {
        Gtin::parse(valid).unwrap_or_else(|e| panic!("{valid}: {e}"));
    }
    assert_eq!(
        Gtin::parse("4006381333932"),
        Err(GtinProblem::CheckDigit {
            found: 2,
            expected: 1
        })
    );
    assert_eq!(Gtin::parse("12345"), Err(GtinProblem::Length(5)));
    assert_eq!(Gtin::parse("40063813339a1"), Err(GtinProblem::NotDigits));
    assert_eq!(
        Gtin::parse("036000291452").unwrap().as_str(),
        "00036000291452"
    );
    assert_eq!(
        Gtin::parse("4006381333931").unwrap().display(),
        "4006381333931"
    );
}

/// The example of the GS1 General Specifications (GS1-128):
/// (01)09501101020917 (17)190508 (10)ABCD1234 (21)10.
fn assert_spec_example(scan: &Scan) {
    assert_eq!(scan.gtin.as_ref().unwrap().as_str(), "09501101020917");
    assert_eq!(scan.expiry, day(2019, 5, 8));
    assert_eq!(scan.lot.as_deref(), Some("ABCD1234"));
    assert_eq!(scan.serial.as_deref(), Some("10"));
    // Digital Link puts query attributes last; the set of AIs is the same.
    let mut ais: Vec<&str> = scan.elements.iter().map(|e| e.ai.as_str()).collect();
    ais.sort_unstable();
    assert_eq!(ais, ["01", "10", "17", "21"]);
}

#[test]
fn the_spec_example_in_every_encoding() {
    let element = format!("]C101095011010209171719050810ABCD1234{GS}2110");
    let s = ok(&element);
    assert_eq!(s.format, Format::Gs1ElementString);
    assert_eq!(s.symbology.as_deref(), Some("]C1"));
    assert_spec_example(&s);

    let s = ok("(01)09501101020917(17)190508(10)ABCD1234(21)10");
    assert_eq!(s.format, Format::Gs1HumanReadable);
    assert_spec_example(&s);

    let s = ok("https://id.example.org/01/09501101020917/10/ABCD1234/21/10?17=190508");
    assert_eq!(s.format, Format::Gs1DigitalLink);
    assert_spec_example(&s);

    // GS1 DataMatrix and QR identifiers, with the Enter the scanner types.
    assert_spec_example(&ok(&format!(
        "]d201095011010209171719050810ABCD1234{GS}2110\r\n"
    )));
    assert_spec_example(&ok(&format!(
        "]Q301095011010209171719050810ABCD1234{GS}2110"
    )));
    // Terminals that show the separator as text or as the ␝ symbol.
    assert_spec_example(&ok("01095011010209171719050810ABCD1234<GS>2110"));
    assert_spec_example(&ok("01095011010209171719050810ABCD1234\u{241d}2110"));
}

#[test]
fn fixed_length_fields_need_no_separator_and_variable_ones_end_at_gs() {
    // Lot first, then expiry: the lot must be ended by FNC1.
    let s = ok(&format!("]d2010950600013435210LOT-7{GS}17271200"));
    assert_eq!(s.lot.as_deref(), Some("LOT-7"));
    assert_eq!(
        s.expiry,
        day(2027, 12, 31),
        "DD=00 is the last day of the month"
    );
}

#[test]
fn the_required_application_identifiers() {
    let sscc = "(00)106141411234567897";
    assert_eq!(ok(sscc).sscc.as_deref(), Some("106141411234567897"));
    let s = ok("(02)09506000134352(37)12(11)260101(15)270600(240)REF-991(241)CUST-7(30)5");
    assert_eq!(s.content_gtin.unwrap().as_str(), "09506000134352");
    assert_eq!(s.quantity, Some(5), "the last count wins");
    assert_eq!(s.production_date, day(2026, 1, 1));
    assert_eq!(s.best_before, day(2027, 6, 30));
    assert_eq!(s.additional_id.as_deref(), Some("REF-991"));
    assert!(
        s.elements
            .iter()
            .any(|e| e.ai == "241" && e.value == "CUST-7")
    );
}

#[test]
fn plain_retail_barcodes() {
    for (code, gtin14) in [
        ("4006381333931", "04006381333931"),
        ("]E04006381333931", "04006381333931"),
        ("036000291452", "00036000291452"),
        ("96385074", "00000096385074"),
        ("09506000134352", "09506000134352"),
    ] {
        let s = ok(code);
        assert_eq!(s.format, Format::PlainGtin);
        assert_eq!(s.gtin.unwrap().as_str(), gtin14);
    }
    assert!(matches!(
        parse("4006381333932", YEAR),
        Err(ScanProblem::Gtin(GtinProblem::CheckDigit { .. }))
    ));
}

#[test]
fn digital_link_variants() {
    // GTIN-13 in the path, short names, percent-encoded lot, other parameters ignored.
    let s =
        ok("https://example.com/shop/gtin/4006381333931/lot/AB%2F12?exp=280430&linkType=gs1:pip");
    assert_eq!(s.gtin.unwrap().as_str(), "04006381333931");
    assert_eq!(s.lot.as_deref(), Some("AB/12"));
    assert_eq!(s.expiry, day(2028, 4, 30));
    assert!(matches!(
        parse("https://example.com/about", YEAR),
        Err(ScanProblem::Malformed(_))
    ));
}

fn with_check(data: &str) -> String {
    format!("{data}{}", hibcc::check_char(data).unwrap())
}

#[test]
fn hibcc_primary_and_secondary() {
    // Primary only: labeler A123, product BJC5D6E7, unit of measure 1.
    let s = ok(&with_check("+A123BJC5D6E71"));
    let h = s.hibcc.unwrap();
    assert_eq!(h.labeler.as_deref(), Some("A123"));
    assert_eq!(h.product.as_deref(), Some("BJC5D6E7"));
    assert_eq!(h.unit_of_measure, Some(1));

    // Concatenated, expiry YYJJJ (format 5) and lot.
    let s = ok(&with_check("+A99912345/$$52001510X3"));
    assert_eq!(s.expiry, day(2020, 1, 15));
    assert_eq!(s.lot.as_deref(), Some("10X3"));
    // Expiry MMYY (format 0/1) and lot; MMDDYY (2); YYMMDD (3); serial (+).
    assert_eq!(
        ok(&with_check("+A99912345/$$0928LOT1")).expiry,
        day(2028, 9, 30)
    );
    assert_eq!(
        ok(&with_check("+A99912345/$$2123128LOT1")).expiry,
        day(2028, 12, 31)
    );
    assert_eq!(
        ok(&with_check("+A99912345/$$3281231LOT1")).lot.as_deref(),
        Some("LOT1")
    );
    let s = ok(&with_check("+A99912345/$$+3281231SN42"));
    assert_eq!(
        (s.serial.as_deref(), s.lot.as_deref()),
        (Some("SN42"), None)
    );
    assert_eq!(
        ok(&with_check("+A99912345/$LOT9")).lot.as_deref(),
        Some("LOT9")
    );
    // Secondary data on a separate label, with its link character.
    assert_eq!(
        ok(&with_check("+$$3281231LOT1L")).lot.as_deref(),
        Some("LOT1")
    );

    // A misread character fails the modulo-43 check.
    let good = with_check("+A123BJC5D6E71");
    let bad = good.replace("BJC", "BJD");
    assert!(matches!(
        parse(&bad, YEAR),
        Err(ScanProblem::CheckCharacter { .. })
    ));
}

#[test]
fn mistakes_are_refused_with_a_reason() {
    let cases: Vec<(String, &str)> = vec![
        ("".into(), "nothing was scanned"),
        ("\r\n".into(), "nothing was scanned"),
        ("0109501101020918".into(), "check digit"),
        ("(17)261301".into(), "month 13"),
        ("(17)250230".into(), "day 30"),
        ("(10)".into(), "1 to 20 characters"),
        (format!("(10){}", "X".repeat(21)), "1 to 20 characters"),
        ("(10)AB\u{e9}".into(), "does not allow"),
        (
            "(01)09501101020917(01)09506000134352".into(),
            "appears twice",
        ),
        ("8888123".into(), "unknown application identifier"),
        ("0109501101".into(), "exactly 14"),
        ("]d2".into(), "symbology identifier with no data"),
        ("x".repeat(600), "longer than"),
        // Found by the fuzzer: a short "+digits" code once panicked.
        ("+110".into(), "HIBCC"),
        (with_check("+1"), "HIBCC"),
    ];
    for (input, expected) in cases {
        let err = parse(&input, YEAR).expect_err(&input);
        assert!(
            err.to_string().contains(expected),
            "{input:?}: {err} (wanted {expected:?})"
        );
    }
}

fn arb_lot() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[A-Z0-9\\-./]{1,20}").unwrap()
}

fn arb_gtin() -> impl Strategy<Value = String> {
    proptest::collection::vec(0u8..10, 13).prop_map(|body| {
        let check = gtin::check_digit(&body);
        body.iter()
            .chain(std::iter::once(&check))
            .map(|d| char::from(b'0' + d))
            .collect()
    })
}

proptest! {
    #[test]
    fn any_input_is_parsed_or_refused_without_panicking(input in ".{0,80}") {
        let _ = parse(&input, YEAR);
    }

    #[test]
    fn gs1_like_input_never_panics(input in "[\\]dCQ(0-9)A-Z\u{1d}+$/%]{0,60}") {
        let _ = parse(&input, YEAR);
    }

    #[test]
    fn every_encoding_gives_the_same_fields(
        gtin in arb_gtin(), lot in arb_lot(), yy in 20u8..40, mm in 1u8..=12, dd in 0u8..=28,
    ) {
        let exp = format!("{yy:02}{mm:02}{dd:02}");
        let forms = [
            format!("]d201{gtin}17{exp}10{lot}"),
            format!("]C101{gtin}10{lot}{GS}17{exp}"),
            format!("(01){gtin}(10){lot}(17){exp}"),
            format!("https://id.example.org/01/{gtin}/10/{}?17={exp}",
                percent_encoding::utf8_percent_encode(&lot, percent_encoding::NON_ALPHANUMERIC)),
        ];
        let scans: Vec<Scan> = forms.iter().map(|f| parse(f, YEAR).unwrap()).collect();
        for s in &scans {
            prop_assert_eq!(s.gtin.as_ref().unwrap().as_str(), gtin.as_str());
            prop_assert_eq!(s.lot.as_deref(), Some(lot.as_str()));
            prop_assert_eq!(s.expiry, scans[0].expiry);
        }
    }
}

#[test]
fn a_hibcc_primary_label_names_a_pack_and_reads_back() {
    let label = with_check("+A123BJC5D6E71");
    let h = ok(&label).hibcc.unwrap();
    assert_eq!(h.identity().as_deref(), Some("A123BJC5D6E71"));
    assert_eq!(hibcc::primary_label("A123BJC5D6E71"), label);
    // With secondary data the identity is the same pack.
    let both = ok(&with_check("+A123BJC5D6E71/$$0928LOT1")).hibcc.unwrap();
    assert_eq!(both.identity(), h.identity());
    // A secondary-only label names no pack.
    let secondary = ok(&with_check("+$$0928LOT1X")).hibcc.unwrap();
    assert_eq!(secondary.identity(), None);

    assert_eq!(
        PackCode::parse(&label, YEAR),
        Ok(PackCode::Hibcc("A123BJC5D6E71".into()))
    );
    assert_eq!(
        PackCode::parse(&label.to_lowercase(), YEAR),
        Ok(PackCode::Hibcc("A123BJC5D6E71".into())),
        "scanners in lower-case mode"
    );
    assert_eq!(PackCode::Hibcc("A123BJC5D6E71".into()).key(), label);
    assert!(
        PackCode::parse(&with_check("+$$0928LOT1X"), YEAR)
            .unwrap_err()
            .contains("secondary label")
    );
    assert!(
        PackCode::parse("+A123BJC5D6E71Z", YEAR)
            .unwrap_err()
            .contains("check character")
    );
    assert_eq!(
        PackCode::parse("4006381333931", YEAR).map(|c| c.key()),
        Ok("04006381333931".into())
    );
    assert!(PackCode::parse("4006381333932", YEAR).is_err());
}
