//! HTTP: routes, middleware, extractors, pages and the JSON API. Handlers
//! are thin: extract input, call one accounts/audit function inside one
//! transaction, render.

pub mod api;
pub mod assets;
pub mod client;
pub mod context;
pub mod error;
pub mod forms;
pub mod health;
pub mod middleware;
pub mod openapi;
pub mod render;
pub mod routes;
pub mod state;

// One folder per area, each with its pages, its API and its routes.
pub mod accounts;
pub mod audit;
pub mod catalog;
pub mod dispatch;
pub mod home;
pub mod imports;
pub mod jobs;
pub mod notify;
pub mod orders;
pub mod purchasing;
pub mod stock;
pub mod suppliers;

use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, web};

use crate::web::error::AppError;
use crate::web::state::AppState;

/// The whole application, as the server builds it for each worker.
pub fn app(
    state: AppState,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let limit = state.config.http.max_body_bytes;
    App::new()
        .app_data(web::Data::new(state))
        .app_data(
            web::FormConfig::default()
                .limit(limit)
                .error_handler(|e, _| match e {
                    actix_web::error::UrlencodedError::Overflow { .. } => {
                        AppError::PayloadTooLarge.into()
                    }
                    actix_web::error::UrlencodedError::Payload(p)
                        if middleware::body_deadline::is_timeout(&p) =>
                    {
                        AppError::RequestTimeout.into()
                    }
                    e => AppError::BadRequest(format!("the form could not be read: {e}")).into(),
                }),
        )
        .app_data(
            web::JsonConfig::default()
                .limit(limit)
                .error_handler(|e, _| match e {
                    // Over the size limit: 413, as documented.
                    actix_web::error::JsonPayloadError::OverflowKnownLength { .. }
                    | actix_web::error::JsonPayloadError::Overflow { .. } => {
                        AppError::PayloadTooLarge.into()
                    }
                    actix_web::error::JsonPayloadError::Payload(p)
                        if middleware::body_deadline::is_timeout(&p) =>
                    {
                        AppError::RequestTimeout.into()
                    }
                    e => {
                        AppError::BadRequest(format!("the JSON body could not be read: {e}")).into()
                    }
                }),
        )
        .app_data(web::PayloadConfig::default().limit(limit))
        .app_data(web::QueryConfig::default().error_handler(|e, _| {
            AppError::BadRequest(format!("the query string could not be read: {e}")).into()
        }))
        .app_data(web::PathConfig::default().error_handler(|_, _| AppError::NotFound.into()))
        .configure(routes::configure)
        .default_service(web::to(|| async {
            Err::<actix_web::HttpResponse, _>(AppError::NotFound)
        }))
        // Innermost first: the last `wrap` sees the request first.
        .wrap(from_fn(middleware::csrf::csrf))
        .wrap(from_fn(middleware::body_deadline::body_deadline))
        .wrap(from_fn(middleware::authenticate::authenticate))
        .wrap(from_fn(middleware::cors::api_origin))
        .wrap(from_fn(middleware::error_pages::error_pages))
        .wrap(Compress::default())
        .wrap(from_fn(middleware::headers::security_headers))
        .wrap(from_fn(middleware::request_id::request_id))
}
