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

/// A `next=` target that stays on this site, by construction: the text is
/// read as a browser would read it (WHATWG URL parsing, which drops tabs and
/// newlines and treats `\` as `/`) against a placeholder origin, and only a
/// result on that origin is kept, as its path and query, percent-encoded.
/// Anything else, or text with control characters, gives `/`.
pub fn safe_next(next: Option<&str>) -> String {
    const BASE: &str = "http://stockroom.invalid/";
    let Some(n) = next else {
        return "/".into();
    };
    if !n.starts_with('/') || n.chars().any(char::is_control) {
        return "/".into();
    }
    let base = url::Url::parse(BASE).expect("a valid placeholder origin");
    match base.join(n) {
        Ok(u) if u.origin() == base.origin() => match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        },
        _ => "/".into(),
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
        assert_eq!(
            super::safe_next(Some("/orders?state=queued&page=2")),
            "/orders?state=queued&page=2"
        );
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "evil",
            // A browser drops the tab and reads `//evil.example/phish`.
            "/\t/evil.example/phish",
            "/\n/evil.example",
            "/\\/evil.example",
            "/%09/evil.example/phish\r\nSet-Cookie: x=1",
            "/ok\r\nSet-Cookie: x=1",
            "/ok\u{b}",
        ] {
            assert_eq!(super::safe_next(Some(bad)), "/", "{bad:?}");
        }
        // What is kept is encoded: nothing in it can end a header line.
        assert_eq!(super::safe_next(Some("/a b")), "/a%20b");
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
