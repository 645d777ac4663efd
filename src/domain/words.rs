//! Numbers with their words, as a practice reads them: "1 ampoule",
//! "7 doses", "3 boxes", "250 ml".

/// `n` with the stocking unit `unit`, in the plural when `n` is not 1 or
/// −1. Abbreviations (`ml`, `mg`, `IU`) and units that are not one plain
/// word are left as they are.
pub fn quantity(n: i64, unit: &str) -> String {
    let unit = unit.trim();
    if unit.is_empty() {
        return n.to_string();
    }
    if n.abs() == 1 {
        return format!("{n} {unit}");
    }
    format!("{n} {}", plural(unit))
}

/// The plural of a unit's name, by the ordinary English rules.
pub fn plural(word: &str) -> String {
    let lower = word.to_lowercase();
    let plain = word.chars().all(|c| c.is_ascii_alphabetic());
    // An abbreviation or symbol ("ml", "IU", "µg"), a word already in the
    // plural ("pieces"), or more than one word ("pair of gloves").
    // Words that stay as they are after a number ("5 each").
    const SAME: &[&str] = &["each", "ea", "pcs", "stk"];
    if !plain
        || word.len() <= 2
        || word.chars().all(|c| c.is_ascii_uppercase())
        || lower.ends_with('s')
        || SAME.contains(&lower.as_str())
    {
        return word.to_string();
    }
    if lower.ends_with('x')
        || lower.ends_with("ch")
        || lower.ends_with("sh")
        || lower.ends_with('z')
    {
        return format!("{word}es");
    }
    if let Some(stem) = word.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        return format!("{stem}ies");
    }
    format!("{word}s")
}

/// `n` things: "1 lot", "2 lots".
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_read_as_a_practice_says_them() {
        for (n, unit, said) in [
            (1, "ampoule", "1 ampoule"),
            (2, "ampoule", "2 ampoules"),
            (0, "dose", "0 doses"),
            (-1, "piece", "-1 piece"),
            (3, "box", "3 boxes"),
            (5, "vial", "5 vials"),
            (2, "syringe", "2 syringes"),
            (4, "battery", "4 batteries"),
            (2, "tray", "2 trays"),
            (250, "ml", "250 ml"),
            (10, "IU", "10 IU"),
            (2, "pair of gloves", "2 pair of gloves"),
            (7, "pieces", "7 pieces"),
            (5, "each", "5 each"),
            (3, "", "3"),
        ] {
            assert_eq!(quantity(n, unit), said);
        }
        assert_eq!(count(1, "lot", "lots"), "1 lot");
        assert_eq!(count(2, "lot", "lots"), "2 lots");
    }
}
