//! What the pages of every area share: form helpers (the active/inactive
//! buttons, `next=` targets, page numbers, list links).

/// The deactivate/reactivate buttons of items, suppliers and locations:
/// `active=1` reactivates, anything else deactivates.
#[derive(Debug, serde::Deserialize)]
pub struct ActiveForm {
    #[serde(default)]
    active: String,
}

impl ActiveForm {
    pub fn is_active(&self) -> bool {
        self.active == "1"
    }
}

/// Price in minor units as "12.50" (the currency is shown beside it).
pub fn money(minor: impl std::borrow::Borrow<i64>) -> String {
    crate::domain::money::format_minor(*minor.borrow())
}

/// A `next=` target that stays on this site: a local absolute path only.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.contains("://") =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

/// A list's `?page=` as typed: 1 when empty, a field error on `page` when
/// it is not a page number.
pub fn page_number(errors: &mut crate::validation::FieldErrors, raw: &str) -> u32 {
    match raw.trim() {
        "" => 1,
        t => errors
            .check(
                "page",
                t.parse::<u32>()
                    .ok()
                    .filter(|p| (1..=100_000).contains(p))
                    .ok_or("must be a page number"),
            )
            .unwrap_or(1),
    }
}

/// `path?name=value&…` with the empty values left out.
pub fn query_link(path: &str, pairs: &[(&str, &str)]) -> String {
    let kept: Vec<(&str, &str)> = pairs
        .iter()
        .copied()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    format!(
        "{path}?{}",
        serde_urlencoded::to_string(kept).unwrap_or_default()
    )
}

/// "12.50", "12,50", "12" → 1250 minor units; `None` when not a price.
pub fn parse_price(raw: &str) -> Option<i64> {
    let t = raw.trim().replace(',', ".");
    let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
    if whole.is_empty()
        || whole.len() > 9
        || frac.len() > 2
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let frac = format!("{frac:0<2}");
    Some(whole.parse::<i64>().ok()? * 100 + frac.parse::<i64>().ok()?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn next_stays_on_site() {
        assert_eq!(super::safe_next(Some("/admin/users")), "/admin/users");
        for bad in ["//evil.example", "https://evil.example", "/\\evil", "evil"] {
            assert_eq!(super::safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(super::safe_next(None), "/");
    }

    #[test]
    fn prices_take_a_decimal_point_or_comma() {
        assert_eq!(super::parse_price("12.50"), Some(1250));
        assert_eq!(super::parse_price("12,5"), Some(1250));
        assert_eq!(super::parse_price(" 7 "), Some(700));
        assert_eq!(super::parse_price("0,05"), Some(5));
        for bad in ["", "12.505", "-1", "1,2,3", "12.x", "€12", ".5"] {
            assert_eq!(super::parse_price(bad), None, "{bad}");
        }
    }
}
