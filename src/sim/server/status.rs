//! Kubernetes `Status` error bodies (`kind: Status`), the shape kube-rs turns into
//! `kube::Error::Api` and kubectl prints as `Error from server (…)`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A failure `Status` response with `reason`, `message` and optional `details`.
pub fn failure(
    code: StatusCode,
    reason: &str,
    message: &str,
    details: Option<(&str, &str)>,
) -> Response {
    let mut body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code.as_u16(),
    });
    if let Some((kind, name)) = details {
        body["details"] = json!({"name": name, "kind": kind});
    }
    (code, Json(body)).into_response()
}

/// 401 for a missing or wrong bearer token.
pub fn unauthorized() -> Response {
    failure(
        StatusCode::UNAUTHORIZED,
        "Unauthorized",
        "Unauthorized",
        None,
    )
}

/// 404 `pods "x" not found`.
pub fn not_found(plural: &str, name: &str) -> Response {
    let message = format!("{plural} \"{name}\" not found");
    failure(
        StatusCode::NOT_FOUND,
        "NotFound",
        &message,
        Some((plural, name)),
    )
}

/// 404 for a URL the server does not serve at all.
pub fn unknown_path() -> Response {
    failure(
        StatusCode::NOT_FOUND,
        "NotFound",
        "the server could not find the requested resource",
        None,
    )
}

/// 400 for a request the server understood but will not serve (bad selector, no ports).
pub fn bad_request(message: &str) -> Response {
    failure(StatusCode::BAD_REQUEST, "BadRequest", message, None)
}

/// 403 as RBAC words it for a subresource the user may not create.
pub fn forbidden_subresource(
    user: &str,
    namespace: &str,
    pod: &str,
    subresource: &str,
) -> Response {
    let message = format!(
        "pods \"{pod}\" is forbidden: User \"{user}\" cannot create resource \
         \"pods/{subresource}\" in API group \"\" in the namespace \"{namespace}\""
    );
    failure(
        StatusCode::FORBIDDEN,
        "Forbidden",
        &message,
        Some(("pods", pod)),
    )
}

/// 500, the `api_500` fault.
pub fn internal_error() -> Response {
    failure(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalError",
        "Internal error occurred: injected fault (meshtop sim api_500)",
        None,
    )
}

/// 503 as the API server answers a pod proxy request to a port nothing listens on.
pub fn proxy_refused(ip: &str, port: u16) -> Response {
    let message =
        format!("error trying to reach service: dial tcp {ip}:{port}: connect: connection refused");
    failure(
        StatusCode::SERVICE_UNAVAILABLE,
        "ServiceUnavailable",
        &message,
        None,
    )
}
