//! The GS1 Application Identifiers stockroom understands, with their data
//! lengths (GS1 General Specifications, section 3.2). An element string
//! without separators can only be split with this table: a fixed-length AI
//! needs no FNC1 after it, a variable-length one ends at FNC1 or the end.

/// What the data of an AI is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Digits only.
    Numeric,
    /// GS1 AI encodable character set 82 (printable ASCII subset).
    Alphanumeric,
    /// YYMMDD, where DD may be 00 for "end of month".
    Date,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ai {
    pub code: &'static str,
    pub title: &'static str,
    /// Exact data length for fixed AIs; the maximum for variable ones.
    pub len: usize,
    pub fixed: bool,
    pub kind: Kind,
}

const fn fixed(code: &'static str, title: &'static str, len: usize, kind: Kind) -> Ai {
    Ai {
        code,
        title,
        len,
        fixed: true,
        kind,
    }
}

const fn var(code: &'static str, title: &'static str, len: usize, kind: Kind) -> Ai {
    Ai {
        code,
        title,
        len,
        fixed: false,
        kind,
    }
}

use Kind::*;

pub const TABLE: &[Ai] = &[
    fixed("00", "SSCC", 18, Numeric),
    fixed("01", "GTIN", 14, Numeric),
    fixed("02", "CONTENT", 14, Numeric),
    var("10", "BATCH/LOT", 20, Alphanumeric),
    fixed("11", "PROD DATE", 6, Date),
    fixed("12", "DUE DATE", 6, Date),
    fixed("13", "PACK DATE", 6, Date),
    fixed("15", "BEST BEFORE", 6, Date),
    fixed("16", "SELL BY", 6, Date),
    fixed("17", "USE BY", 6, Date),
    fixed("20", "VARIANT", 2, Numeric),
    var("21", "SERIAL", 20, Alphanumeric),
    var("22", "CPV", 20, Alphanumeric),
    var("30", "VAR. COUNT", 8, Numeric),
    var("37", "COUNT", 8, Numeric),
    var("240", "ADDITIONAL ID", 30, Alphanumeric),
    var("241", "CUST. PART No.", 30, Alphanumeric),
    var("242", "MTO VARIANT", 6, Numeric),
    var("250", "SECONDARY SERIAL", 30, Alphanumeric),
    var("251", "REF. TO SOURCE", 30, Alphanumeric),
    var("400", "ORDER NUMBER", 30, Alphanumeric),
    fixed("410", "SHIP TO LOC", 13, Numeric),
    fixed("414", "LOC No.", 13, Numeric),
    var("710", "NHRN PZN", 20, Alphanumeric),
    var("711", "NHRN CIP", 20, Alphanumeric),
    var("712", "NHRN CN", 20, Alphanumeric),
    var("713", "NHRN DRN", 20, Alphanumeric),
    var("714", "NHRN AIM", 20, Alphanumeric),
    var("715", "NHRN NDC", 20, Alphanumeric),
    var("7003", "EXPIRY TIME", 10, Numeric),
    fixed("8005", "PRICE PER UNIT", 6, Numeric),
    var("8020", "REF No.", 25, Alphanumeric),
    var("90", "INTERNAL", 30, Alphanumeric),
    var("91", "INTERNAL", 90, Alphanumeric),
    var("92", "INTERNAL", 90, Alphanumeric),
    var("93", "INTERNAL", 90, Alphanumeric),
    var("94", "INTERNAL", 90, Alphanumeric),
    var("95", "INTERNAL", 90, Alphanumeric),
    var("96", "INTERNAL", 90, Alphanumeric),
    var("97", "INTERNAL", 90, Alphanumeric),
    var("98", "INTERNAL", 90, Alphanumeric),
    var("99", "INTERNAL", 90, Alphanumeric),
];

/// Measures (31nn-36nn: weights, lengths, volumes) are 4-digit AIs with six
/// digits of data; the fourth digit is the decimal point position.
fn measure(code: &str) -> Option<Ai> {
    let n: u16 = code.parse().ok()?;
    ((3100..=3699).contains(&n)).then_some(Ai {
        code: "3nnn",
        title: "MEASURE",
        len: 6,
        fixed: true,
        kind: Numeric,
    })
}

/// The AI at the start of `text`, trying 2-, 3- and 4-digit codes.
pub fn lookup_prefix(text: &str) -> Option<(Ai, usize)> {
    for n in 2..=4 {
        let Some(code) = text.get(..n) else { break };
        if let Some(ai) = TABLE.iter().find(|a| a.code == code) {
            return Some((*ai, n));
        }
        if n == 4
            && let Some(ai) = measure(code)
        {
            return Some((ai, 4));
        }
    }
    None
}

/// The AI with exactly this code.
pub fn lookup(code: &str) -> Option<Ai> {
    TABLE
        .iter()
        .find(|a| a.code == code)
        .copied()
        .or_else(|| measure(code))
}

/// GS1 character set 82: the characters an alphanumeric AI may carry.
pub fn is_cset82(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!\"%&'()*+,-./:;<=>?_".contains(c)
}
