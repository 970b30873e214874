//! Error pages inside the site's frame: the layer that lets an error answered anywhere
//! below it keep the menu of the person reading it ([`crate::error::FRAME`]).

use askama::Template;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

use crate::auth::Ctx;
use crate::error::{Frame, FRAME};
use crate::kit::Chrome;

/// The error page inside the site's frame: the menu stays, so the person goes on.
#[derive(Template)]
#[template(path = "error_framed.html")]
struct FramedError {
    c: Chrome,
    message: String,
    todo: String,
    signed_in: bool,
}

/// Runs inside the context layer: with the request's person and path at hand, any error
/// page answered below is drawn with the menu.
pub async fn frame_errors(req: Request, next: Next) -> Response {
    let Some(ctx) = req.extensions().get::<Ctx>().cloned() else { return next.run(req).await };
    let path = req.uri().path().to_string();
    let frame: Frame = std::sync::Arc::new(move |message: &str, todo: &str| {
        FramedError {
            c: Chrome::new(&ctx, &path),
            message: message.to_string(),
            todo: todo.to_string(),
            signed_in: ctx.user.is_some(),
        }
        .render()
        .ok()
    });
    FRAME.scope(frame, next.run(req)).await
}
