//! Who the API caller is.

use axum::{Extension, Json};
use vigia_domain::account::Permission;

use crate::auth::Ctx;
use crate::kit::json::*;
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::default().get("/api/v1/me", me)
}

async fn me(Extension(ctx): Extension<Ctx>) -> ApiResult<Json<serde_json::Value>> {
    let u = api_user(&ctx, Permission::ReadFacilities)?;
    Ok(Json(serde_json::json!({
        "id": u.id, "email": u.email, "display_name": u.display_name, "role": u.role,
        "locale": u.locale,
        "organization": ctx.org.as_ref().map(|o| serde_json::json!({"id": o.id, "slug": o.slug, "name": o.name})),
    })))
}
