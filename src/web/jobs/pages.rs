//! The admin list of the job queue: counters, jobs per kind and state, the
//! newest jobs with a filter.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::db::DbError;
use crate::domain::Timestamp;
use crate::jobs::{self, Job, JobState, Stats};
use crate::validation::FieldErrors;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::render::{Layout, render_status};

const PER_PAGE: u32 = 50;
/// How much of a last error the list shows.
const ERROR_PREVIEW: usize = 80;

/// The states the queue counts (the others are finished).
const COUNTED: [&str; 4] = ["queued", "running", "failed", "dead"];

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    page: String,
}

impl ListQuery {
    fn parse(&self) -> Result<(Option<JobState>, Option<String>, u32), FieldErrors> {
        let mut errors = FieldErrors::default();
        let state = match self.state.trim() {
            "" => None,
            t => {
                let s = JobState::parse(t);
                if s.is_none() {
                    errors.add("state", "is not one of the choices");
                }
                s
            }
        };
        let kind = self.kind.trim();
        if kind.chars().count() > 64 {
            errors.add("kind", "must be at most 64 characters");
        }
        let page = crate::web::forms::page_number(&mut errors, &self.page);
        errors.into_result()?;
        Ok((state, (!kind.is_empty()).then(|| kind.to_string()), page))
    }

    /// This query on another page.
    fn with_page(&self, page: u32) -> String {
        let page = if page == 1 {
            String::new()
        } else {
            page.to_string()
        };
        crate::web::forms::query_link(
            "/admin/jobs",
            &[
                ("state", self.state.trim()),
                ("kind", self.kind.trim()),
                ("page", &page),
            ],
        )
    }
}

/// One kind's counts, in the order of [`COUNTED`].
struct KindRow {
    kind: String,
    counts: [i64; 4],
}

impl KindRow {
    fn dead(&self) -> i64 {
        self.counts[3]
    }
}

fn by_kind(stats: &Stats) -> Vec<KindRow> {
    let mut rows: Vec<KindRow> = Vec::new();
    for (kind, state, n) in &stats.by_kind {
        let Some(i) = COUNTED.iter().position(|s| s == state) else {
            continue;
        };
        match rows.iter_mut().find(|r| &r.kind == kind) {
            Some(r) => r.counts[i] += n,
            None => {
                let mut counts = [0; 4];
                counts[i] = *n;
                rows.push(KindRow {
                    kind: kind.clone(),
                    counts,
                });
            }
        }
    }
    rows
}

/// A job as a row of the list.
struct JobRow {
    job: Job,
    run_at: String,
    error: String,
}

impl JobRow {
    fn of(job: Job) -> Self {
        JobRow {
            run_at: human_time(&job.run_at),
            error: shortened(&job.last_error, ERROR_PREVIEW),
            job,
        }
    }

    fn is_dead(&self) -> bool {
        self.job.state == JobState::Dead
    }
}

/// `2026-11-21 23:57 UTC` for a stored time, the text itself if it does not parse.
pub(super) fn human_time(stored: &str) -> String {
    Timestamp::parse(stored).map_or_else(|_| stored.to_string(), |t| t.human())
}

pub(super) fn human_opt(stored: &Option<String>) -> String {
    stored.as_deref().map(human_time).unwrap_or_default()
}

/// The first `max` characters of `text` on one line, with `…` when cut.
fn shortened(text: &str, max: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        return one_line;
    }
    let mut s: String = one_line.chars().take(max).collect();
    s.push('…');
    s
}

/// A wait in words: "nothing waiting", "45 seconds", "12 minutes",
/// "3 hours 5 minutes", "2 days 4 hours".
pub fn human_duration(secs: i64) -> String {
    fn unit(n: i64, name: &str) -> String {
        format!("{n} {name}{}", if n == 1 { "" } else { "s" })
    }
    match secs {
        i64::MIN..=0 => "nothing waiting".into(),
        1..=59 => unit(secs, "second"),
        60..=3599 => unit(secs / 60, "minute"),
        3600..=86_399 => {
            let (h, m) = (secs / 3600, secs % 3600 / 60);
            if m == 0 {
                unit(h, "hour")
            } else {
                format!("{} {}", unit(h, "hour"), unit(m, "minute"))
            }
        }
        _ => {
            let (d, h) = (secs / 86_400, secs % 86_400 / 3600);
            if h == 0 {
                unit(d, "day")
            } else {
                format!("{} {}", unit(d, "day"), unit(h, "hour"))
            }
        }
    }
}

#[derive(Template)]
#[template(path = "admin/jobs.html")]
struct ListPage {
    layout: Layout,
    stats: Stats,
    oldest_wait: String,
    kinds: Vec<KindRow>,
    query: ListQuery,
    states: [JobState; 6],
    rows: Vec<JobRow>,
    total: i64,
    page: u32,
    pages: u32,
    prev: Option<String>,
    next: Option<String>,
    errors: FieldErrors,
}

crate::page!(ListPage);

pub async fn list(
    req: HttpRequest,
    ctx: Ctx,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let query = q.into_inner();
    let (state, kind, page, errors) = match query.parse() {
        Ok((s, k, p)) => (s, k, p, FieldErrors::default()),
        Err(e) => (None, None, 1, e),
    };
    let offset = (page - 1) * PER_PAGE;
    let now = ctx.state.clock.now();
    let (stats, (jobs, total)) = ctx
        .state
        .db
        .read(move |c| {
            Ok::<_, DbError>((
                jobs::stats(c, now)?,
                jobs::list(c, state, kind.as_deref(), PER_PAGE, offset)?,
            ))
        })
        .await?;
    let pages = (total.max(1) as u32).div_ceil(PER_PAGE);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render_status(
        status,
        &ListPage {
            layout: Layout::for_request(&req, "Jobs"),
            oldest_wait: human_duration(stats.oldest_queued_secs),
            kinds: by_kind(&stats),
            stats,
            prev: (page > 1).then(|| query.with_page(page - 1)),
            next: (page < pages).then(|| query.with_page(page + 1)),
            query,
            states: JobState::ALL,
            rows: jobs.into_iter().map(JobRow::of).collect(),
            total,
            page,
            pages,
            errors,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_as_words() {
        assert_eq!(human_duration(0), "nothing waiting");
        assert_eq!(human_duration(1), "1 second");
        assert_eq!(human_duration(45), "45 seconds");
        assert_eq!(human_duration(60), "1 minute");
        assert_eq!(human_duration(12 * 60 + 30), "12 minutes");
        assert_eq!(human_duration(3600), "1 hour");
        assert_eq!(human_duration(3 * 3600 + 5 * 60), "3 hours 5 minutes");
        assert_eq!(human_duration(86_400), "1 day");
        assert_eq!(human_duration(2 * 86_400 + 4 * 3600 + 59), "2 days 4 hours");
    }

    #[test]
    fn long_errors_are_cut_on_one_line() {
        assert_eq!(shortened("short\nerror", 80), "short error");
        let long = "x".repeat(100);
        let cut = shortened(&long, 80);
        assert_eq!(cut.chars().count(), 81);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn counts_per_kind_fill_the_state_columns() {
        let stats = Stats {
            by_kind: vec![
                ("digest".into(), "dead".into(), 2),
                ("digest".into(), "queued".into(), 3),
                ("send".into(), "failed".into(), 1),
            ],
            ..Stats::default()
        };
        let rows = by_kind(&stats);
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].kind.as_str(), rows[0].counts),
            ("digest", [3, 0, 0, 2])
        );
        assert_eq!(
            (rows[1].kind.as_str(), rows[1].counts),
            ("send", [0, 0, 1, 0])
        );
    }

    #[test]
    fn the_pager_keeps_the_filter() {
        let q = ListQuery {
            state: "dead".into(),
            kind: "send order".into(),
            page: "3".into(),
        };
        assert_eq!(q.with_page(1), "/admin/jobs?state=dead&kind=send+order");
        assert_eq!(
            q.with_page(4),
            "/admin/jobs?state=dead&kind=send+order&page=4"
        );
    }
}
