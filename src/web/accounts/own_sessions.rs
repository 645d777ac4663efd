//! The signed-in user's own sessions: where they are signed in, and ending
//! any of them (a phone left signed in, a shared PC).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::accounts::sessions::{self, SessionInfo};
use crate::db::DbError;
use crate::domain::Timestamp;
use crate::web::context::{Ctx, Principal};
use crate::web::error::AppError;
use crate::web::render::{Layout, redirect_with_flash, render_status};

struct Row {
    session: SessionInfo,
    /// "Chrome on Windows", from the User-Agent.
    browser: String,
    started: String,
    last_seen: String,
    this_one: bool,
}

#[derive(Template)]
#[template(path = "account/sessions.html")]
struct SessionsPage {
    layout: Layout,
    rows: Vec<Row>,
}
crate::page!(SessionsPage);

fn current_handle(ctx: &Ctx) -> Option<String> {
    match &ctx.principal {
        Principal::User(s, _) => Some(sessions::handle_of(&s.id_hash).to_string()),
        _ => None,
    }
}

pub async fn list(req: HttpRequest, ctx: Ctx) -> Result<HttpResponse, AppError> {
    let user_id = ctx.user()?.id;
    let (now, idle) = (ctx.state.clock.now(), ctx.state.config.session.idle_timeout);
    let current = current_handle(&ctx);
    let found = ctx
        .state
        .db
        .read(move |c| sessions::of_user(c, user_id, now, idle).map_err(DbError::from))
        .await?;
    let human = |t: &str| Timestamp::parse(t).map(|t| t.human()).unwrap_or_default();
    let rows = found
        .into_iter()
        .map(|s| Row {
            browser: browser_name(&s.user_agent),
            started: human(&s.created_at),
            last_seen: human(&s.last_seen_at),
            this_one: current.as_deref() == Some(s.handle.as_str()),
            session: s,
        })
        .collect();
    render_status(
        StatusCode::OK,
        &SessionsPage {
            layout: Layout::for_request(&req, "Where you are signed in"),
            rows,
        },
    )
}

pub async fn end(ctx: Ctx, handle: web::Path<String>) -> Result<HttpResponse, AppError> {
    let handle = handle.into_inner();
    if current_handle(&ctx).as_deref() == Some(handle.as_str()) {
        return Ok(redirect_with_flash(
            "/account/sessions",
            "error",
            "This is the browser you are using: sign out with the button at the top.",
        ));
    }
    let (user_id, a) = (ctx.user()?.id, ctx.audit());
    let ended = ctx
        .state
        .db
        .write(move |tx| sessions::end_own(tx, &a, user_id, &handle).map_err(DbError::from))
        .await?;
    Ok(if ended {
        redirect_with_flash("/account/sessions", "success", "Signed out there.")
    } else {
        redirect_with_flash(
            "/account/sessions",
            "error",
            "That session had already ended.",
        )
    })
}

/// A User-Agent in words a person recognises: "Firefox on Android". The
/// whole string stays in the page as the cell's title.
fn browser_name(agent: &str) -> String {
    if agent.is_empty() {
        return "an unknown browser".into();
    }
    let has = |s: &str| agent.contains(s);
    let browser = if has("Edg/") {
        "Edge"
    } else if has("Firefox/") {
        "Firefox"
    } else if has("Chrome/") || has("Chromium/") {
        "Chrome"
    } else if has("Safari/") {
        "Safari"
    } else {
        "A browser"
    };
    let system = if has("Android") {
        "Android"
    } else if has("iPhone") || has("iPad") {
        "iPhone or iPad"
    } else if has("Windows") {
        "Windows"
    } else if has("Mac OS X") || has("Macintosh") {
        "a Mac"
    } else if has("Linux") {
        "Linux"
    } else {
        return browser.to_string();
    };
    format!("{browser} on {system}")
}

#[cfg(test)]
mod tests {
    use super::browser_name;

    #[test]
    fn user_agents_read_as_words() {
        assert_eq!(
            browser_name(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
            ),
            "Chrome on Windows"
        );
        assert_eq!(
            browser_name(
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
            ),
            "Safari on iPhone or iPad"
        );
        assert_eq!(browser_name(""), "an unknown browser");
    }
}
