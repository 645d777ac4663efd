//! The syntax both directions share: the separators, making free text safe
//! for a data element, and reading a file into checked transactions.
//!
//! Reading is two steps so that the envelope rules live in one place: the
//! file is split into segments with the separators its own ISA header
//! declares, then walked once through ISA/GS/ST … SE/GE/IEA, checking every
//! control number and count, before anything looks at the content.

use unicode_normalization::UnicodeNormalization;

use super::X12Error;

/// Element separator of what stockroom writes.
pub(crate) const ELEMENT: char = '*';
/// Component separator (ISA16) of what stockroom writes.
pub(crate) const COMPONENT: char = '>';
/// Segment terminator of what stockroom writes; each is followed by a newline.
pub(crate) const TERMINATOR: char = '~';
/// The usual repetition separator of later versions, kept out of data too so
/// a partner whose software assumes it cannot misread a description.
const REPETITION: char = '^';

/// `raw` as the content of a data element of at most `max` characters:
/// accents dropped (`é` → `e`), the separators, control characters and
/// anything else outside printable ASCII replaced or dropped, runs of
/// spaces collapsed, then cut to `max`. The result never contains a
/// separator, so no text can end an element or a segment early.
pub(crate) fn text(raw: &str, max: usize) -> String {
    let mut out = String::with_capacity(raw.len().min(max));
    let mut space = false;
    for c in raw.nfkd() {
        let mapped: &str = match c {
            ELEMENT | COMPONENT | TERMINATOR | REPETITION => " ",
            c if c.is_whitespace() || c.is_control() => " ",
            'ß' | 'ẞ' => "ss",
            'æ' => "ae",
            'Æ' => "AE",
            'œ' => "oe",
            'Œ' => "OE",
            'ø' => "o",
            'Ø' => "O",
            'ł' => "l",
            'Ł' => "L",
            'đ' => "d",
            'Đ' => "D",
            'µ' | 'μ' => "u",
            c if c.is_ascii_graphic() => {
                push(&mut out, &mut space, c);
                continue;
            }
            // Combining accents (from the decomposition) and everything a
            // partner's ASCII software could not show.
            _ => "",
        };
        for m in mapped.chars() {
            push(&mut out, &mut space, m);
        }
    }
    let cut: String = out.trim().chars().take(max).collect();
    cut.trim_end().to_string()
}

fn push(out: &mut String, space: &mut bool, c: char) {
    if c == ' ' {
        if !*space && !out.is_empty() {
            out.push(' ');
        }
        *space = true;
    } else {
        out.push(c);
        *space = false;
    }
}

/// One segment as read: its id and its elements (`el(1)` is the first
/// after the id), with its position in the file for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Segment {
    pub id: String,
    pub elements: Vec<String>,
    /// 1-based, counted over the whole file.
    pub position: usize,
}

impl Segment {
    /// Element `n` (1-based, as in `BEG03`), trimmed; empty when absent.
    pub fn el(&self, n: usize) -> &str {
        n.checked_sub(1)
            .and_then(|i| self.elements.get(i))
            .map_or("", |e| e.trim())
    }
}

/// Who an interchange and its group name as sender or receiver.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Party {
    /// ISA05 or ISA07.
    pub qualifier: String,
    /// ISA06 or ISA08, trimmed.
    pub id: String,
    /// GS02 or GS03.
    pub group_id: String,
}

/// ISA01 … ISA16 are fixed-width: a header of other widths (105 or 107
/// characters) is not a valid interchange.
const ISA_WIDTHS: [usize; 16] = [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1];

/// One transaction set (ST … SE) whose envelope added up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Transaction {
    /// ST01: 850, 855, 856, 997 …
    pub code: String,
    /// The interchange's and the group's sender and receiver.
    pub from: Party,
    pub to: Party,
    /// The segments between ST and SE.
    pub segments: Vec<Segment>,
}

struct Separators {
    element: char,
    terminator: char,
}

/// The separators declared by the ISA header at the start of `text`.
fn separators(text: &str) -> Result<Separators, X12Error> {
    let not_x12 = |why: &str| X12Error::NotX12(why.to_string());
    if !text.starts_with("ISA") {
        return Err(not_x12("it does not start with an ISA header"));
    }
    let mut chars = text.chars().skip(3);
    let element = chars
        .next()
        .ok_or_else(|| not_x12("the ISA header is cut short"))?;
    // ISA16 follows the 16th element separator, the terminator follows ISA16.
    let mut seen = 1;
    for c in chars.by_ref() {
        if c == element {
            seen += 1;
            if seen == 16 {
                break;
            }
        }
    }
    let (Some(component), Some(terminator)) = (chars.next(), chars.next()) else {
        return Err(not_x12(
            "the ISA header is cut short: it needs 16 elements and a segment terminator",
        ));
    };
    let all = [element, component, terminator];
    if all.iter().any(|c| c.is_ascii_alphanumeric() || *c == ' ')
        || element == component
        || element == terminator
        || component == terminator
    {
        return Err(not_x12(&format!(
            "the ISA header declares unusable separators (element {element:?}, component {component:?}, segment {terminator:?})"
        )));
    }
    Ok(Separators {
        element,
        terminator,
    })
}

/// The segments of `text`, with newlines (LF or CRLF) after terminators
/// tolerated and a leading byte-order mark ignored.
fn segments(text: &str) -> Result<Vec<Segment>, X12Error> {
    // UTF-16 ("Unicode") puts a zero byte beside every Latin letter.
    if text.chars().take(64).filter(|c| *c == '\0').count() >= 8 {
        return Err(X12Error::NotX12(
            "it is UTF-16 text; X12 files are plain ASCII: ask the supplier (or its EDI translator) to send ASCII or UTF-8".into(),
        ));
    }
    let text = text.trim_start_matches('\u{feff}').trim_start();
    let sep = separators(text)?;
    Ok(text
        .split(sep.terminator)
        .map(|s| s.trim_matches(['\r', '\n']))
        .filter(|s| !s.is_empty())
        .enumerate()
        .map(|(i, s)| {
            let mut parts = s.split(sep.element).map(str::to_string);
            Segment {
                id: parts.next().unwrap_or_default().trim().to_string(),
                elements: parts.collect(),
                position: i + 1,
            }
        })
        .collect())
}

/// An envelope problem found at segment `s`.
fn envelope(s: &Segment, reason: String) -> X12Error {
    X12Error::Envelope(format!("segment {} ({}): {reason}", s.position, s.id))
}

fn count(s: &Segment, n: usize) -> Result<usize, X12Error> {
    s.el(n)
        .parse()
        .map_err(|_| envelope(s, format!("{}{n:02} ({:?}) is not a count", s.id, s.el(n))))
}

/// Where the walk through the envelope stands.
enum Open {
    Nothing,
    Interchange {
        control: String,
        groups: usize,
    },
    Group {
        isa: (String, usize),
        control: String,
        sets: usize,
    },
    Set {
        isa: (String, usize),
        gs: (String, usize),
        control: String,
        code: String,
        segments: Vec<Segment>,
    },
}

/// The transactions of `text` after checking the whole envelope: every
/// ISA has its IEA with the same control number and the right number of
/// groups, every GS its GE, every ST its SE with the right segment count.
pub(crate) fn transactions(text: &str) -> Result<Vec<Transaction>, X12Error> {
    let mut out = Vec::new();
    let mut open = Open::Nothing;
    let mut interchanges = 0;
    let (mut from, mut to) = (Party::default(), Party::default());
    for s in segments(text)? {
        open = match (open, s.id.as_str()) {
            (Open::Nothing, "ISA") => {
                if s.elements.len() != 16 {
                    return Err(envelope(
                        &s,
                        format!(
                            "the ISA header must have 16 elements, this one has {}",
                            s.elements.len()
                        ),
                    ));
                }
                for (i, width) in ISA_WIDTHS.iter().enumerate() {
                    let got = s.elements[i].chars().count();
                    if got != *width {
                        return Err(envelope(
                            &s,
                            format!(
                                "ISA{:02} must be {width} characters long (the ISA header has fixed widths, 106 characters in all), this one is {got}",
                                i + 1
                            ),
                        ));
                    }
                }
                from = Party {
                    qualifier: s.el(5).to_string(),
                    id: s.el(6).to_string(),
                    group_id: String::new(),
                };
                to = Party {
                    qualifier: s.el(7).to_string(),
                    id: s.el(8).to_string(),
                    group_id: String::new(),
                };
                interchanges += 1;
                Open::Interchange {
                    control: s.el(13).to_string(),
                    groups: 0,
                }
            }
            (Open::Interchange { control, groups }, "IEA") => {
                if s.el(2) != control {
                    return Err(envelope(
                        &s,
                        format!(
                            "the interchange ends with control number {:?} (IEA02) but began with {control:?} (ISA13)",
                            s.el(2)
                        ),
                    ));
                }
                if count(&s, 1)? != groups {
                    return Err(envelope(
                        &s,
                        format!(
                            "the interchange says it holds {} functional groups (IEA01) but holds {groups}",
                            s.el(1)
                        ),
                    ));
                }
                Open::Nothing
            }
            (Open::Interchange { control, groups }, "GS") => {
                from.group_id = s.el(2).to_string();
                to.group_id = s.el(3).to_string();
                Open::Group {
                    isa: (control, groups + 1),
                    control: s.el(6).to_string(),
                    sets: 0,
                }
            }
            (
                Open::Group {
                    isa: (isa, groups),
                    control,
                    sets,
                },
                "GE",
            ) => {
                if s.el(2) != control {
                    return Err(envelope(
                        &s,
                        format!(
                            "the functional group ends with control number {:?} (GE02) but began with {control:?} (GS06)",
                            s.el(2)
                        ),
                    ));
                }
                if count(&s, 1)? != sets {
                    return Err(envelope(
                        &s,
                        format!(
                            "the functional group says it holds {} transaction sets (GE01) but holds {sets}",
                            s.el(1)
                        ),
                    ));
                }
                Open::Interchange {
                    control: isa,
                    groups,
                }
            }
            (Open::Group { isa, control, sets }, "ST") => Open::Set {
                isa,
                gs: (control, sets + 1),
                control: s.el(2).to_string(),
                code: s.el(1).to_string(),
                segments: Vec::new(),
            },
            (
                Open::Set {
                    isa,
                    gs: (gs, sets),
                    control,
                    code,
                    segments,
                },
                "SE",
            ) => {
                if s.el(2) != control {
                    return Err(envelope(
                        &s,
                        format!(
                            "transaction set {code} ends with control number {:?} (SE02) but began with {control:?} (ST02)",
                            s.el(2)
                        ),
                    ));
                }
                // ST and SE count too.
                let real = segments.len() + 2;
                if count(&s, 1)? != real {
                    return Err(envelope(
                        &s,
                        format!(
                            "transaction set {code} ({control}) says it has {} segments (SE01) but has {real}",
                            s.el(1)
                        ),
                    ));
                }
                out.push(Transaction {
                    code,
                    from: from.clone(),
                    to: to.clone(),
                    segments,
                });
                Open::Group {
                    isa,
                    control: gs,
                    sets,
                }
            }
            (Open::Set { .. }, "ISA" | "IEA" | "GS" | "GE" | "ST") => {
                return Err(envelope(
                    &s,
                    format!("{} comes before the transaction set was closed by SE", s.id),
                ));
            }
            (
                Open::Set {
                    isa,
                    gs,
                    control,
                    code,
                    mut segments,
                },
                _,
            ) => {
                segments.push(s);
                Open::Set {
                    isa,
                    gs,
                    control,
                    code,
                    segments,
                }
            }
            (Open::Nothing, _) => {
                return Err(envelope(
                    &s,
                    format!("{} comes outside an interchange (ISA … IEA)", s.id),
                ));
            }
            (Open::Interchange { .. }, _) => {
                return Err(envelope(
                    &s,
                    format!(
                        "{} comes where a functional group (GS) or the interchange trailer (IEA) belongs",
                        s.id
                    ),
                ));
            }
            (Open::Group { .. }, _) => {
                return Err(envelope(
                    &s,
                    format!(
                        "{} comes where a transaction set (ST) or the group trailer (GE) belongs",
                        s.id
                    ),
                ));
            }
        };
    }
    let missing = match open {
        Open::Nothing => None,
        Open::Interchange { .. } => Some("the interchange trailer IEA"),
        Open::Group { .. } => Some("the group trailer GE"),
        Open::Set { .. } => Some("the transaction set trailer SE"),
    };
    if let Some(what) = missing {
        return Err(X12Error::Envelope(format!(
            "the file ends without {what}: it may have been cut short"
        )));
    }
    if interchanges == 0 {
        return Err(X12Error::NotX12("it holds no interchange".into()));
    }
    Ok(out)
}
