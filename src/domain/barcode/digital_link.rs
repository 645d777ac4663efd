//! GS1 Digital Link URIs, as printed in QR codes:
//! `https://example.com/01/09506000134352/10/ABC123?17=271231`.
//! The path holds a primary key and its qualifiers as AI/value pairs (or
//! the older short names such as `gtin` and `lot`); the query string holds
//! further attributes keyed by AI number.

use super::ScanProblem;
use super::gs1::{Element, validate};

/// Short names from the first Digital Link standard, still seen on packs.
fn ai_for(key: &str) -> Option<&str> {
    Some(match key {
        "gtin" => "01",
        "sscc" => "00",
        "lot" => "10",
        "ser" => "21",
        "cpv" => "22",
        "exp" => "17",
        k if !k.is_empty() && k.len() <= 4 && k.bytes().all(|b| b.is_ascii_digit()) => k,
        _ => return None,
    })
}

pub fn looks_like_digital_link(input: &str) -> bool {
    let lower = input.get(..8).unwrap_or(input).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

pub fn parse(input: &str) -> Result<Vec<Element>, ScanProblem> {
    let without_scheme = input
        .split_once("://")
        .map(|(_, rest)| rest)
        .ok_or(ScanProblem::Malformed("not a web address"))?;
    let (host_and_path, query) = match without_scheme.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (without_scheme, None),
    };
    let path = host_and_path.split_once('/').map_or("", |(_, p)| p);
    let path = path.split_once('#').map_or(path, |(p, _)| p);
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect::<Result<_, _>>()?;
    // The primary key may follow any path prefix the brand owner chose.
    let start = segments
        .iter()
        .position(|s| matches!(ai_for(s), Some("01" | "00" | "414")))
        .ok_or(ScanProblem::Malformed(
            "the web address holds no GS1 key such as /01/<GTIN>",
        ))?;
    let mut out = Vec::new();
    let mut pairs = segments[start..].chunks(2);
    for pair in &mut pairs {
        let [key, value] = pair else {
            return Err(ScanProblem::Malformed("a path key has no value"));
        };
        let ai = ai_for(key).ok_or(ScanProblem::Malformed(
            "unknown key in the web address path",
        ))?;
        push(&mut out, ai, value)?;
    }
    for param in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = param.split_once('=').unwrap_or((param, ""));
        // Non-AI parameters (linkType, context, …) are for resolvers.
        if let Some(ai) = ai_for(&decode(key)?) {
            push(&mut out, ai, &decode(value)?)?;
        }
    }
    Ok(out)
}

fn push(out: &mut Vec<Element>, ai: &str, value: &str) -> Result<(), ScanProblem> {
    // Digital Link may carry GTIN-8/12/13; the element string form is 14 digits.
    let value = if ai == "01" && value.len() < 14 && value.bytes().all(|b| b.is_ascii_digit()) {
        format!("{value:0>14}")
    } else {
        value.to_string()
    };
    validate(ai, &value)?;
    out.push(Element {
        ai: ai.to_string(),
        value,
    });
    Ok(())
}

fn decode(s: &str) -> Result<String, ScanProblem> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| ScanProblem::Malformed("the web address has invalid percent-encoding"))
}
