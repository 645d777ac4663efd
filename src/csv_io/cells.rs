//! Cell values as spreadsheets write them: yes/no in many spellings, prices
//! with a decimal comma or point, dates in three common orders. Each parser
//! says what it expected, so the message beside the line and column tells
//! the person how to fix the cell.

use time::{Date, Month};

/// yes/no, true/false, 1/0, x (ticked) or empty (no); any case.
pub fn boolean(raw: &str) -> Result<bool, String> {
    match raw.trim().to_lowercase().as_str() {
        "yes" | "y" | "true" | "1" | "x" => Ok(true),
        "no" | "n" | "false" | "0" | "" => Ok(false),
        _ => Err("must be yes or no (or true/false, 1/0, x, empty for no)".into()),
    }
}

/// A whole number such as `12` or `+12`; negative numbers are read (the
/// caller says what range it allows).
pub fn whole(raw: &str) -> Result<i64, String> {
    let t = raw.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || digits.len() > 12 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err("must be a whole number".into());
    }
    t.trim_start_matches('+')
        .parse()
        .map_err(|_| "must be a whole number".into())
}

/// A price in minor units (cents): `12.50`, `12,50`, `12,5`, `12` — with
/// the practice's currency code or a currency sign before or after it, and
/// spaces anywhere. Thousands separators are refused rather than guessed:
/// `1.250` could be either.
pub fn money_minor(raw: &str, currency: &str) -> Result<i64, String> {
    let mut t: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    let upper = t.to_uppercase();
    let code = currency.to_uppercase();
    if !code.is_empty() {
        if upper.starts_with(&code) {
            t = t[code.len()..].to_string();
        } else if upper.ends_with(&code) {
            t.truncate(t.len() - code.len());
        }
    }
    let t = t.trim_matches(|c| matches!(c, '€' | '$' | '£'));
    if t.starts_with('-') {
        return Err("must not be negative".into());
    }
    let bad = || {
        format!(
            "is not a price: write it like 12.50 or 12,50 (in {currency}, without thousands separators)"
        )
    };
    let (units, cents) = match t.find([',', '.']) {
        Some(i) => (&t[..i], &t[i + 1..]),
        None => (t, ""),
    };
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let has_point = units.len() < t.len();
    if units.is_empty()
        || units.len() > 9
        || !digits(units)
        || !digits(cents)
        || (has_point && cents.is_empty())
    {
        return Err(bad());
    }
    if cents.len() > 2 {
        return Err(format!("{}: at most two decimals", bad()));
    }
    let units: i64 = units.parse().map_err(|_| bad())?;
    let cents: i64 = format!("{cents:0<2}").parse().map_err(|_| bad())?;
    Ok(units * 100 + cents)
}

/// A date as YYYY-MM-DD, DD.MM.YYYY or DD/MM/YYYY (a time of exactly
/// midnight after it, as some spreadsheets add, is allowed); empty is none.
pub fn date(raw: &str) -> Result<Option<Date>, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let bad = || "is not a date: write it as YYYY-MM-DD, DD.MM.YYYY or DD/MM/YYYY".to_string();
    let day_part = match t.split_once([' ', 'T']) {
        Some((d, time)) if matches!(time.trim(), "00:00" | "00:00:00") => d,
        Some(_) => return Err(bad()),
        None => t,
    };
    let number = |s: &str, max_len: usize| -> Option<i32> {
        (!s.is_empty() && s.len() <= max_len && s.chars().all(|c| c.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let parts: Vec<&str> = day_part.split(['-', '.', '/']).collect();
    let separators: Vec<char> = day_part.chars().filter(|c| "-./".contains(*c)).collect();
    if parts.len() != 3 || separators[0] != separators[1] {
        return Err(bad());
    }
    let (y, m, d) = match separators[0] {
        '-' if parts[0].len() == 4 => (parts[0], parts[1], parts[2]),
        '.' | '/' if parts[2].len() == 4 => (parts[2], parts[1], parts[0]),
        _ => return Err(bad()),
    };
    let (Some(y), Some(m), Some(d)) = (number(y, 4), number(m, 2), number(d, 2)) else {
        return Err(bad());
    };
    let month = Month::try_from(u8::try_from(m).map_err(|_| bad())?).map_err(|_| bad())?;
    Date::from_calendar_date(y, month, u8::try_from(d).map_err(|_| bad())?)
        .map(Some)
        .map_err(|_| format!("is not a date in the calendar ({t})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn booleans_in_every_usual_spelling() {
        for yes in ["yes", "YES", "Y", "true", "True", "1", "x", "X", " x "] {
            assert_eq!(boolean(yes), Ok(true), "{yes}");
        }
        for no in ["no", "No", "n", "false", "FALSE", "0", "", "  "] {
            assert_eq!(boolean(no), Ok(false), "{no}");
        }
        for bad in ["maybe", "2", "ja", "-"] {
            assert!(boolean(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn prices_with_decimal_comma_or_point() {
        let eur = |s: &str| money_minor(s, "EUR");
        assert_eq!(eur("12,50"), Ok(1250));
        assert_eq!(eur("12.50"), Ok(1250));
        assert_eq!(eur("12,5"), Ok(1250));
        assert_eq!(eur("12"), Ok(1200));
        assert_eq!(eur("0,99"), Ok(99));
        assert_eq!(eur(" 7 "), Ok(700));
        assert_eq!(eur("EUR 3,20"), Ok(320));
        assert_eq!(eur("3,20 eur"), Ok(320));
        assert_eq!(eur("€3.20"), Ok(320));
        assert_eq!(eur("1 250,00"), Ok(125_000));
        assert_eq!(eur("-1,00"), Err("must not be negative".into()));
        for bad in [
            "12,5,0", "1.250,00", "12.", ",50", "abc", "12,505", "", "12 USD",
        ] {
            let e = eur(bad).unwrap_err();
            assert!(e.starts_with("is not a price"), "{bad}: {e}");
        }
    }

    #[test]
    fn whole_numbers() {
        assert_eq!(whole("12"), Ok(12));
        assert_eq!(whole("+3"), Ok(3));
        assert_eq!(whole("-5"), Ok(-5));
        for bad in ["", "1.5", "1,000", "ten", "-", "9999999999999"] {
            assert!(whole(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dates_in_three_orders() {
        assert_eq!(date("2027-03-31"), Ok(Some(date!(2027 - 03 - 31))));
        assert_eq!(date("31.03.2027"), Ok(Some(date!(2027 - 03 - 31))));
        assert_eq!(date("31/03/2027"), Ok(Some(date!(2027 - 03 - 31))));
        assert_eq!(date("1.3.2027"), Ok(Some(date!(2027 - 03 - 01))));
        assert_eq!(date("2027-03-31 00:00:00"), Ok(Some(date!(2027 - 03 - 31))));
        assert_eq!(date(""), Ok(None));
        let e = date("31.02.2027").unwrap_err();
        assert!(e.contains("not a date in the calendar"), "{e}");
        for bad in [
            "2027/03/31",
            "31-03-2027",
            "03.2027",
            "2027-03-31 12:00",
            "31.03/2027",
            "tomorrow",
            "27-03-31",
        ] {
            assert!(date(bad).is_err(), "{bad}");
        }
    }
}
