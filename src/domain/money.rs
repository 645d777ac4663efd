//! Money as people read it: integer minor units shown with two decimals
//! (the practice's one currency has cents; see `csv_io::cells::money_minor`
//! for reading amounts back).

/// `123450` → `"1234.50"`, `-5` → `"-0.05"`.
pub fn format_minor(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    format!("{sign}{}.{:02}", m / 100, m % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_decimals_with_the_sign_in_front() {
        assert_eq!(format_minor(123_450), "1234.50");
        assert_eq!(format_minor(7), "0.07");
        assert_eq!(format_minor(-5), "-0.05");
        assert_eq!(format_minor(i64::MIN), "-92233720368547758.08");
    }
}
