//! The AdmissionReview wire format (`admission.k8s.io/v1`): what the API
//! server sends to `POST /validate` and what it expects back.

use serde::Deserialize;
use serde_json::{Value, json};

/// The API version this webhook speaks; the webhook configuration's
/// `admissionReviewVersions` must list it.
pub const API_VERSION: &str = "admission.k8s.io/v1";

/// One admission request, as the decision needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// Echoed in the response; the API server matches on it.
    pub uid: String,
    /// The object's kind (`Pod`, `Deployment`).
    pub kind: String,
    /// The object's namespace (empty for cluster-scoped objects).
    pub namespace: String,
    /// The object's name (empty when the API server generates it).
    pub name: String,
    /// `CREATE`, `UPDATE`, `DELETE` or `CONNECT`.
    pub operation: String,
    /// Who asked (`userInfo.username`).
    pub user: String,
    /// A `--dry-run=server` request: evaluated, never counted as enforced.
    pub dry_run: bool,
    /// The object as it would be stored; `None` for a DELETE.
    pub object: Option<Value>,
}

/// The body as sent; unknown fields are ignored as the API may add some.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    api_version: Option<String>,
    kind: Option<String>,
    request: Option<WireRequest>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireRequest {
    uid: String,
    kind: Option<WireKind>,
    namespace: Option<String>,
    name: Option<String>,
    operation: Option<String>,
    user_info: Option<WireUser>,
    dry_run: Option<bool>,
    object: Option<Value>,
}

#[derive(Deserialize)]
struct WireKind {
    kind: String,
}

#[derive(Deserialize)]
struct WireUser {
    username: Option<String>,
}

/// Reads a request body; the error says what is wrong, for the 400 and the
/// log.
pub fn parse(body: &[u8]) -> Result<Request, String> {
    let wire: Wire =
        serde_json::from_slice(body).map_err(|e| format!("not an AdmissionReview: {e}"))?;
    if wire.api_version.as_deref() != Some(API_VERSION)
        || wire.kind.as_deref() != Some("AdmissionReview")
    {
        return Err(format!(
            "expected apiVersion {API_VERSION} and kind AdmissionReview, got {} {}",
            wire.api_version.as_deref().unwrap_or("(none)"),
            wire.kind.as_deref().unwrap_or("(none)")
        ));
    }
    let request = wire
        .request
        .ok_or_else(|| "AdmissionReview without \"request\"".to_string())?;
    if request.uid.is_empty() {
        return Err("AdmissionReview request without \"uid\"".into());
    }
    let object = request.object.filter(|o| !o.is_null());
    if object.as_ref().is_some_and(|o| !o.is_object()) {
        return Err("request.object is not an object".into());
    }
    let kind = request
        .kind
        .map(|k| k.kind)
        .or_else(|| object_field(object.as_ref(), &["kind"]))
        .unwrap_or_default();
    let name = request
        .name
        .filter(|n| !n.is_empty())
        .or_else(|| object_field(object.as_ref(), &["metadata", "name"]))
        .unwrap_or_default();
    Ok(Request {
        uid: request.uid,
        kind,
        namespace: request.namespace.unwrap_or_default(),
        name,
        operation: request.operation.unwrap_or_default(),
        user: request
            .user_info
            .and_then(|u| u.username)
            .unwrap_or_default(),
        dry_run: request.dry_run.unwrap_or(false),
        object,
    })
}

fn object_field(object: Option<&Value>, path: &[&str]) -> Option<String> {
    let mut at = object?;
    for key in path {
        at = at.get(key)?;
    }
    at.as_str().map(str::to_string)
}

/// The verdict sent back.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Response {
    /// Whether the object may be stored.
    pub allowed: bool,
    /// For a denial: what `kubectl` prints after "denied the request:".
    pub message: Option<String>,
    /// Shown by `kubectl` as `Warning: ...` lines.
    pub warnings: Vec<String>,
}

/// The response body for request `uid`.
pub fn render(uid: &str, response: &Response) -> Vec<u8> {
    let mut inner = json!({ "uid": uid, "allowed": response.allowed });
    if let Some(message) = &response.message {
        inner["status"] = json!({ "code": 403, "reason": "Forbidden", "message": message });
    }
    if !response.warnings.is_empty() {
        inner["warnings"] = json!(response.warnings);
    }
    let body = json!({ "apiVersion": API_VERSION, "kind": "AdmissionReview", "response": inner });
    serde_json::to_vec(&body).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_fields_the_decision_needs() {
        let body = json!({
            "apiVersion": API_VERSION, "kind": "AdmissionReview",
            "request": {
                "uid": "u1", "kind": {"group": "", "version": "v1", "kind": "Pod"},
                "namespace": "prod", "operation": "CREATE",
                "userInfo": {"username": "alice"}, "dryRun": true,
                "object": {"kind": "Pod", "metadata": {"name": "web"}}
            }
        });
        let request = parse(body.to_string().as_bytes()).expect("parses");
        assert_eq!(request.uid, "u1");
        assert_eq!(request.kind, "Pod");
        assert_eq!(request.name, "web");
        assert_eq!(request.namespace, "prod");
        assert_eq!(request.user, "alice");
        assert!(request.dry_run);
    }

    #[test]
    fn refuses_what_is_not_a_v1_review() {
        assert!(parse(b"{").is_err());
        assert!(parse(b"[]").is_err());
        let old = json!({"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview",
            "request": {"uid": "u"}});
        assert!(
            parse(old.to_string().as_bytes())
                .unwrap_err()
                .contains("v1beta1")
        );
        let no_uid =
            json!({"apiVersion": API_VERSION, "kind": "AdmissionReview", "request": {"uid": ""}});
        assert!(parse(no_uid.to_string().as_bytes()).is_err());
    }

    #[test]
    fn a_denial_carries_uid_status_and_message() {
        let body = render(
            "u9",
            &Response {
                allowed: false,
                message: Some("no".into()),
                warnings: vec!["w".into()],
            },
        );
        let v: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(v["response"]["uid"], "u9");
        assert_eq!(v["response"]["allowed"], false);
        assert_eq!(v["response"]["status"]["code"], 403);
        assert_eq!(v["response"]["status"]["message"], "no");
        assert_eq!(v["response"]["warnings"][0], "w");
    }
}
