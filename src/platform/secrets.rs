//! Secrets written into configuration: AWS access key ids and secret keys,
//! private keys, passwords and tokens, found in the places AWS
//! configuration carries them (EC2 user data, Lambda and ECS environment
//! variables, CloudFormation parameter defaults and outputs), as literals
//! only: a reference, a variable, an interpolation or a
//! `{{resolve:secretsmanager:...}}` is where a secret *should* come from.
//!
//! Each secret found is a derived entity of kind `secret.<owner type>`
//! (`secret.aws_instance`, `secret.AWS::Lambda::Function`,
//! `secret.parameter`, `secret.output`) whose `$parent` is its owner, with
//! the fields `type` (what it is), `masked` (a form safe to print: the
//! secret itself never leaves the scanner in a message) and `where` (the
//! attribute or variable). It points at the value that holds the secret.
//! Like policy statements, they are built once at load time into one extra
//! document of the file (the key [`DOCUMENT_KEY`]).

use std::sync::LazyLock;

use regex::Regex;

use crate::platform::{Entity, LoadedFile, Model, Platform, View, entities};
use crate::tree::{Entry, Node, Object, Span, Value};

/// The root key of the document holding a file's secrets.
pub const DOCUMENT_KEY: &str = "$secrets";

/// The most secrets one file may produce.
const MAX_SECRETS_PER_FILE: usize = 10_000;

/// The longest text searched (user data is at most 16 KB; a larger
/// literal is searched up to this many bytes).
const MAX_TEXT: usize = 256 * 1024;

/// The key of a secret holding its owner's index among the file's
/// entities.
const OWNER_KEY: &str = "$owner";

static ACCESS_KEY_ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^A-Z0-9])((?:AKIA|ASIA)[A-Z2-7]{16})(?:[^A-Z0-9]|$)").expect("valid regex")
});

static SECRET_ACCESS_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)aws_?secret_?access_?key["']?\s*[=:]\s*["']?([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+]|$)"#,
    )
    .expect("valid regex")
});

static PRIVATE_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?)-----",
    )
    .expect("valid regex")
});

/// An assignment of a password or token in a script or config text
/// (`DB_PASSWORD=s3cr3t`, `password: "s3cr3t"`), the value literal.
static ASSIGNED_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)(?:^|[^a-z0-9])((?:db_|database_|admin_|root_|master_|mysql_|postgres_|pg|redis_)?(?:password|passwd|pwd|secret_key|api_key|apikey|auth_token|access_token))["']?\s*[=:]\s*["']?([^\s"'$`{}()<>;|&]{6,})"#,
    )
    .expect("valid regex")
});

/// A variable or parameter name that holds a secret.
static SECRET_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(^|[_.-])(passwords?|passwd|pass|secrets?|tokens?|api_?keys?|access_?keys?|private_?keys?|secret_?keys?|credentials?|client_?secret)([_.-]|$)|[_.-]pwd$|^pwd$|(password|secret|token|apikey)$",
    )
    .expect("valid regex")
});

/// ... unless it names where or how to find one.
static NOT_A_SECRET_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)([_.-]|[a-z])(file|path|dir|url|uri|arn|endpoint|host|port|name|id|user|username|length|len|size|ttl|expiry|expires|timeout|type|algorithm|enabled|required|header|prefix|format|param|parameter|ref|key_id|policy|rotation|version|region)$",
    )
    .expect("valid regex")
});

/// What kind of secret a value is, with its masked form, when it is one.
#[derive(Debug, PartialEq, Eq)]
pub struct Found {
    /// `aws-access-key-id`, `aws-secret-access-key`, `private-key`,
    /// `password`.
    pub kind: &'static str,
    /// A form safe to print.
    pub masked: String,
}

/// The secrets in a free text (user data, a script).
pub fn in_text(text: &str) -> Vec<Found> {
    let text = cut(text);
    let mut out = Vec::new();
    for c in ACCESS_KEY_ID.captures_iter(text) {
        if let Some(m) = c.get(1) {
            out.push(Found {
                kind: "aws-access-key-id",
                masked: mask_key_id(m.as_str()),
            });
        }
    }
    for c in SECRET_ACCESS_KEY.captures_iter(text) {
        if let Some(m) = c.get(1) {
            out.push(Found {
                kind: "aws-secret-access-key",
                masked: mask(m.as_str()),
            });
        }
    }
    for c in PRIVATE_KEY.captures_iter(text) {
        if let Some(m) = c.get(1) {
            out.push(Found {
                kind: "private-key",
                masked: format!("-----BEGIN {}----- (key body hidden)", m.as_str()),
            });
        }
    }
    for c in ASSIGNED_PASSWORD.captures_iter(text) {
        if let (Some(name), Some(value)) = (c.get(1), c.get(2)) {
            if is_placeholder(value.as_str()) {
                continue;
            }
            out.push(Found {
                kind: "password",
                masked: format!("{}={}", name.as_str(), mask(value.as_str())),
            });
        }
    }
    out
}

/// The secret a named value holds (an environment variable, a
/// parameter): a credential by its shape, or anything literal under a
/// secret's name.
pub fn in_named_value(name: &str, value: &str) -> Option<Found> {
    if let Some(found) = in_text(value).into_iter().next() {
        return Some(found);
    }
    let value = value.trim();
    let named = SECRET_NAME.is_match(name) && !NOT_A_SECRET_NAME.is_match(name);
    if named && value.len() >= 4 && !is_placeholder(value) && !is_reference(value) {
        return Some(Found {
            kind: "password",
            masked: format!("{name}={}", mask(value)),
        });
    }
    None
}

/// A value that points at a secret rather than being one.
fn is_reference(value: &str) -> bool {
    let v = value.to_ascii_lowercase();
    v.starts_with("{{resolve:")
        || v.starts_with("arn:")
        || v.starts_with("ssm:")
        || v.starts_with("secretsmanager:")
        || v.starts_with('/')
        || v.starts_with("${")
        || v.starts_with("$(")
        || v.starts_with("http://")
        || v.starts_with("https://")
}

/// A value that is obviously not a real secret: a switch, a placeholder.
fn is_placeholder(value: &str) -> bool {
    let v = value.trim().to_ascii_lowercase();
    matches!(
        v.as_str(),
        "true"
            | "false"
            | "yes"
            | "no"
            | "none"
            | "null"
            | "changeme"
            | "change_me"
            | "placeholder"
            | "redacted"
            | "example"
            | "xxxx"
            | "xxxxxx"
            | "******"
    ) || v.chars().all(|c| c == '*' || c == 'x')
        || v.starts_with('<')
}

fn cut(text: &str) -> &str {
    if text.len() <= MAX_TEXT {
        return text;
    }
    let mut end = MAX_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// An access key id keeps its prefix and last four characters, as the AWS
/// console shows it.
fn mask_key_id(id: &str) -> String {
    let n = id.chars().count();
    let head: String = id.chars().take(4).collect();
    let tail: String = id.chars().skip(n.saturating_sub(4)).collect();
    format!("{head}************{tail}")
}

/// Any other secret keeps its first two characters; its length is not
/// shown.
pub fn mask(secret: &str) -> String {
    let head: String = secret.chars().take(2).collect();
    format!("{head}********")
}

/// Where secrets are looked for.
#[derive(Clone, Copy)]
enum Site {
    /// A free text at this path (`*` steps into every element).
    Text(&'static [&'static str]),
    /// A base64 text at this path (Terraform `user_data_base64`).
    Base64(&'static [&'static str]),
    /// A map of variable names to values.
    Variables(&'static [&'static str]),
    /// A list of `{name, value}` (ECS container environment), each key
    /// name given.
    NameValue(&'static [&'static str], &'static str, &'static str),
    /// ECS container definitions as JSON text, each with an
    /// `environment` of `{name, value}`.
    ContainerDefinitions(&'static [&'static str]),
    /// A password or token property: any literal value there is a secret.
    Password(&'static [&'static str]),
    /// The entity's own name and a value at this path (a CloudFormation
    /// parameter's default, an output's value).
    Named(&'static [&'static str]),
}

fn terraform_sites(kind: &str) -> &'static [Site] {
    match kind {
        "resource.aws_instance" | "resource.aws_launch_configuration" => &[
            Site::Text(&["user_data"]),
            Site::Base64(&["user_data_base64"]),
        ],
        "resource.aws_launch_template" => &[Site::Base64(&["user_data"])],
        "resource.aws_lambda_function" => &[Site::Variables(&["environment", "variables"])],
        "resource.aws_ecs_task_definition" => {
            &[Site::ContainerDefinitions(&["container_definitions"])]
        }
        "resource.aws_db_instance" => &[Site::Password(&["password"])],
        "resource.aws_rds_cluster"
        | "resource.aws_docdb_cluster"
        | "resource.aws_neptune_cluster"
        | "resource.aws_redshift_cluster" => &[Site::Password(&["master_password"])],
        "resource.aws_dms_endpoint" | "resource.aws_directory_service_directory" => {
            &[Site::Password(&["password"])]
        }
        "resource.aws_elasticache_replication_group" | "resource.aws_elasticache_cluster" => {
            &[Site::Password(&["auth_token"])]
        }
        "resource.aws_mq_broker" => &[Site::Password(&["user", "*", "password"])],
        "resource.aws_amplify_app" => &[
            Site::Password(&["basic_auth_credentials"]),
            Site::Password(&["access_token"]),
            Site::Password(&["oauth_token"]),
        ],
        "resource.aws_amplify_branch" => &[Site::Password(&["basic_auth_credentials"])],
        _ => &[],
    }
}

fn cloudformation_sites(kind: &str) -> &'static [Site] {
    match kind {
        "resource.AWS::EC2::Instance" | "resource.AWS::AutoScaling::LaunchConfiguration" => {
            &[Site::Text(&["Properties", "UserData"])]
        }
        "resource.AWS::EC2::LaunchTemplate" => &[Site::Text(&[
            "Properties",
            "LaunchTemplateData",
            "UserData",
        ])],
        "resource.AWS::Lambda::Function" | "resource.AWS::Serverless::Function" => {
            &[Site::Variables(&["Properties", "Environment", "Variables"])]
        }
        "resource.AWS::ECS::TaskDefinition" => &[Site::NameValue(
            &[
                "Properties",
                "ContainerDefinitions",
                "*",
                "Environment",
                "*",
            ],
            "Name",
            "Value",
        )],
        "parameter" => &[Site::Named(&["Default"])],
        "resource.AWS::RDS::DBInstance"
        | "resource.AWS::RDS::DBCluster"
        | "resource.AWS::DocDB::DBCluster"
        | "resource.AWS::Neptune::DBCluster"
        | "resource.AWS::Redshift::Cluster" => {
            &[Site::Password(&["Properties", "MasterUserPassword"])]
        }
        "resource.AWS::DMS::Endpoint" => &[
            Site::Password(&["Properties", "Password"]),
            Site::Password(&["Properties", "MongoDbSettings", "Password"]),
        ],
        "resource.AWS::DirectoryService::SimpleAD"
        | "resource.AWS::DirectoryService::MicrosoftAD" => {
            &[Site::Password(&["Properties", "Password"])]
        }
        "resource.AWS::ElastiCache::ReplicationGroup" => {
            &[Site::Password(&["Properties", "AuthToken"])]
        }
        "resource.AWS::AmazonMQ::Broker" => {
            &[Site::Password(&["Properties", "Users", "*", "Password"])]
        }
        "resource.AWS::Amplify::App" => &[
            Site::Password(&["Properties", "BasicAuthConfig", "Password"]),
            Site::Password(&["Properties", "AccessToken"]),
            Site::Password(&["Properties", "OauthToken"]),
        ],
        "resource.AWS::Amplify::Branch" => &[Site::Password(&[
            "Properties",
            "BasicAuthConfig",
            "Password",
        ])],
        "resource.AWS::IAM::User" => &[Site::Password(&["Properties", "LoginProfile", "Password"])],
        _ => &[],
    }
}

/// Reads values of one file as its platform does.
struct Reader<'a> {
    model: &'static dyn Model,
    document: &'a Node,
}

impl<'a> Reader<'a> {
    /// The literal text of a value, as the platform reads it: a
    /// CloudFormation `Fn::Base64` of a literal is its argument; nothing
    /// for what rampart cannot know.
    fn text(&self, node: &'a Node) -> Option<&'a str> {
        match self.model.view(node, self.document) {
            View::Known(seen) => match &seen.value {
                Value::String(s) => Some(s),
                Value::Object(o) if o.len() == 1 && o.entries[0].key == "Fn::Base64" => {
                    self.text(&o.entries[0].value)
                }
                _ => None,
            },
            View::Unknown => match &node.value {
                // `Fn::Base64` itself is an intrinsic function: look inside.
                Value::Object(o) if o.len() == 1 && o.entries[0].key == "Fn::Base64" => {
                    self.text(&o.entries[0].value)
                }
                _ => None,
            },
        }
    }
}

fn at_path<'n>(node: &'n Node, path: &[&str], out: &mut Vec<&'n Node>) {
    let Some((step, rest)) = path.split_first() else {
        out.push(node);
        return;
    };
    if *step == "*" {
        for item in node.items() {
            at_path(item, rest, out);
        }
        return;
    }
    for item in node.items() {
        if let Some(child) = item.get(step) {
            at_path(child, rest, out);
        }
    }
}

/// One secret as a node of the derived document.
fn secret_node(owner: usize, found: Found, place: &str, at: Span) -> Node {
    let entry = |key: &str, value: Value| Entry {
        key: key.to_string(),
        key_span: at,
        value: Node::new(value, at),
    };
    Node::new(
        Value::Object(Object {
            entries: vec![
                entry(
                    OWNER_KEY,
                    Value::Number(crate::tree::Number::Int(
                        i64::try_from(owner).unwrap_or(i64::MAX),
                    )),
                ),
                entry("type", Value::String(found.kind.to_string())),
                entry("masked", Value::String(found.masked)),
                entry("where", Value::String(place.to_string())),
            ],
        }),
        at,
    )
}

/// Adds to every Terraform and CloudFormation file of a unit the document
/// of its secrets (when it has any).
pub fn derive(files: &mut [LoadedFile]) {
    for file in files.iter_mut() {
        if !matches!(
            file.platform,
            Platform::Terraform | Platform::CloudFormation
        ) {
            continue;
        }
        if let Some(document) = secrets_document(file) {
            file.documents.push(document);
        }
    }
}

fn secrets_document(file: &LoadedFile) -> Option<Node> {
    let model = file.platform.model();
    let found: Vec<Entity> = entities(file.platform, &file.documents);
    let mut secrets = Vec::new();
    for (owner, entity) in found.iter().enumerate() {
        let sites = match file.platform {
            Platform::Terraform => terraform_sites(&entity.kind),
            _ => cloudformation_sites(&entity.kind),
        };
        let Some(document) = file.documents.get(entity.document) else {
            continue;
        };
        let reader = Reader { model, document };
        for site in sites {
            if secrets.len() >= MAX_SECRETS_PER_FILE {
                break;
            }
            collect(&reader, entity, owner, *site, &mut secrets);
        }
    }
    if file.platform == Platform::CloudFormation {
        outputs(file, &mut secrets);
    }
    if secrets.is_empty() {
        return None;
    }
    let span = file.documents.first().map(|d| d.span).unwrap_or_default();
    Some(Node::new(
        Value::Object(Object {
            entries: vec![Entry {
                key: DOCUMENT_KEY.into(),
                key_span: span,
                value: Node::new(Value::Array(secrets), span),
            }],
        }),
        span,
    ))
}

/// CloudFormation outputs are not entities of the model: a literal
/// credential in an output's value is recorded with no owner and the
/// output's name, and becomes an entity of kind `secret.output`.
fn outputs(file: &LoadedFile, out: &mut Vec<Node>) {
    let Some(document) = file.documents.iter().find(|d| d.get("Outputs").is_some()) else {
        return;
    };
    let reader = Reader {
        model: file.platform.model(),
        document,
    };
    let Some(outputs) = document.get("Outputs").and_then(Node::as_object) else {
        return;
    };
    for output in &outputs.entries {
        let Some(value) = output.value.get("Value") else {
            continue;
        };
        let Some(text) = reader.text(value) else {
            continue;
        };
        if let Some(found) = in_text(text).into_iter().next() {
            let mut node = secret_node(
                usize::MAX,
                found,
                &format!("Outputs.{}", output.key),
                value.span,
            );
            if let Some(o) = node.as_object_mut() {
                o.entries.push(Entry {
                    key: "$output".into(),
                    key_span: output.key_span,
                    value: Node::new(Value::String(output.key.clone()), output.key_span),
                });
            }
            out.push(node);
        }
    }
}

fn collect(reader: &Reader, entity: &Entity, owner: usize, site: Site, out: &mut Vec<Node>) {
    match site {
        Site::Text(path) => {
            let mut nodes = Vec::new();
            at_path(entity.node, path, &mut nodes);
            for node in nodes {
                if let Some(text) = reader.text(node) {
                    for found in in_text(text) {
                        out.push(secret_node(owner, found, &path.join("."), node.span));
                    }
                }
            }
        }
        Site::Base64(path) => {
            let mut nodes = Vec::new();
            at_path(entity.node, path, &mut nodes);
            for node in nodes {
                let decoded = reader.text(node).and_then(decode_base64);
                if let Some(text) = decoded {
                    for found in in_text(&text) {
                        out.push(secret_node(owner, found, &path.join("."), node.span));
                    }
                }
            }
        }
        Site::Variables(path) => {
            let mut nodes = Vec::new();
            at_path(entity.node, path, &mut nodes);
            for map in nodes {
                let Some(vars) = map.as_object() else {
                    continue;
                };
                for var in &vars.entries {
                    let Some(text) = scalar_text(reader, &var.value) else {
                        continue;
                    };
                    if let Some(found) = in_named_value(&var.key, &text) {
                        let place = format!("{}.{}", path.join("."), var.key);
                        out.push(secret_node(owner, found, &place, var.value.span));
                    }
                }
            }
        }
        Site::NameValue(path, name_key, value_key) => {
            let mut nodes = Vec::new();
            at_path(entity.node, path, &mut nodes);
            for pair in nodes {
                let (Some(name), Some(value)) = (
                    pair.get(name_key).and_then(|n| reader.text(n)),
                    pair.get(value_key),
                ) else {
                    continue;
                };
                let Some(text) = scalar_text(reader, value) else {
                    continue;
                };
                if let Some(found) = in_named_value(name, &text) {
                    out.push(secret_node(owner, found, name, value.span));
                }
            }
        }
        Site::ContainerDefinitions(path) => {
            let mut nodes = Vec::new();
            at_path(entity.node, path, &mut nodes);
            for node in nodes {
                let Some(text) = reader.text(node) else {
                    continue;
                };
                let Ok(json) = serde_json::from_str::<serde_json::Value>(text) else {
                    continue;
                };
                for container in json.as_array().map(Vec::as_slice).unwrap_or_default() {
                    let env = container.get("environment").and_then(|e| e.as_array());
                    for pair in env.map(Vec::as_slice).unwrap_or_default() {
                        let name = pair.get("name").and_then(|n| n.as_str());
                        let value = pair.get("value").and_then(|v| v.as_str());
                        if let (Some(name), Some(value)) = (name, value)
                            && let Some(found) = in_named_value(name, value)
                        {
                            out.push(secret_node(owner, found, name, node.span));
                        }
                    }
                }
            }
        }
        Site::Password(path) => {
            let mut nodes = Vec::new();
            at_path(entity.node, path, &mut nodes);
            let name = path.last().copied().unwrap_or_default();
            for node in nodes {
                if let Some(text) = scalar_text(reader, node) {
                    let value = text.trim();
                    if value.is_empty() || is_placeholder(value) || is_reference(value) {
                        continue;
                    }
                    let found = Found {
                        kind: "password",
                        masked: format!("{name}={}", mask(value)),
                    };
                    out.push(secret_node(owner, found, &path.join("."), node.span));
                }
            }
        }
        Site::Named(path) => {
            let mut nodes = Vec::new();
            at_path(entity.node, path, &mut nodes);
            for node in nodes {
                if let Some(text) = scalar_text(reader, node)
                    && let Some(found) = in_named_value(&entity.name, &text)
                {
                    out.push(secret_node(owner, found, &entity.name, node.span));
                }
            }
        }
    }
}

/// A literal scalar's text (a string, or a number: a PIN is a secret too).
fn scalar_text(reader: &Reader, node: &Node) -> Option<String> {
    match reader.model.view(node, reader.document) {
        View::Known(seen) => match &seen.value {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        },
        View::Unknown => None,
    }
}

/// Standard base64, padding optional, whitespace ignored.
fn decode_base64(text: &str) -> Option<String> {
    let mut bits: u32 = 0;
    let mut count = 0;
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for c in cut(text).bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push(((bits >> count) & 0xff) as u8);
        }
    }
    String::from_utf8(out).ok()
}

/// Whether a document is the derived document of secrets.
pub fn is_secrets_document(document: &Node) -> bool {
    document.get(DOCUMENT_KEY).is_some()
}

/// Appends the secret entities of the derived document to `out`, which
/// holds the entities of the file's other documents.
pub fn entities_of<'a>(document_index: usize, document: &'a Node, out: &mut Vec<Entity<'a>>) {
    let owners = out.len();
    // Numbered within their owner, so that a secret added to another
    // resource leaves these identities (and fingerprints) alone.
    let mut numbered: std::collections::HashMap<Option<usize>, usize> =
        std::collections::HashMap::new();
    for secret in document
        .get(DOCUMENT_KEY)
        .map(Node::items)
        .unwrap_or_default()
    {
        let owner = secret.get(OWNER_KEY).and_then(|o| match o.as_number()? {
            crate::tree::Number::Int(i) => usize::try_from(i).ok().filter(|&i| i < owners),
            crate::tree::Number::Float(_) => None,
        });
        let counter = numbered.entry(owner).or_insert(0);
        let n = *counter;
        *counter += 1;
        let (kind, identity, parent) = match owner {
            Some(i) => {
                let o = &out[i];
                let tail = o.kind.split_once('.').map_or(o.kind.as_str(), |(_, t)| t);
                (
                    format!("secret.{tail}"),
                    format!("{} secret {n}", o.identity),
                    Some(i),
                )
            }
            None => {
                let Some(output) = secret.get("$output").and_then(Node::as_str) else {
                    continue;
                };
                (
                    "secret.output".to_string(),
                    format!("output {output}"),
                    None,
                )
            }
        };
        out.push(Entity {
            kind,
            name: identity.clone(),
            identity,
            document: document_index,
            node: secret,
            header: secret.span,
            parent,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_text_are_found_and_masked() {
        let found = in_text(
            "#!/bin/sh\nexport AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nexport AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\nDB_PASSWORD='Sup3rS3cret!'\n",
        );
        let kinds: Vec<&str> = found.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            ["aws-access-key-id", "aws-secret-access-key", "password"]
        );
        assert_eq!(found[0].masked, "AKIA************MPLE");
        assert_eq!(found[1].masked, "wJ********");
        assert_eq!(found[2].masked, "DB_PASSWORD=Su********");
        for f in &found {
            assert!(!f.masked.contains("wJalrXUtnFEMI"));
            assert!(!f.masked.contains("Sup3rS3cret"));
        }
    }

    #[test]
    fn a_private_key_is_named_not_shown() {
        let found = in_text(
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, "private-key");
        assert!(!found[0].masked.contains("MIIE"));
    }

    #[test]
    fn references_and_expansions_are_not_secrets() {
        assert!(
            in_text("PASSWORD=$(aws ssm get-parameter --name db)\npassword: ${DB_PASSWORD}\n")
                .is_empty()
        );
        assert_eq!(
            in_named_value("DB_PASSWORD", "{{resolve:secretsmanager:db}}"),
            None
        );
        assert_eq!(in_named_value("DB_PASSWORD_ARN", "hunter2hunter2"), None);
        assert_eq!(
            in_named_value("API_TOKEN", "arn:aws:secretsmanager:eu-west-1:1:secret:x"),
            None
        );
        assert_eq!(in_named_value("LOG_LEVEL", "debug"), None);
        assert_eq!(in_named_value("PASSWORD", "true"), None);
        assert_eq!(
            in_named_value("DbPassword", "hunter2hunter2").map(|f| f.masked),
            Some("DbPassword=hu********".to_string())
        );
    }

    #[test]
    fn base64_user_data_is_decoded() {
        // "AWS_SECRET_ACCESS_KEY=" + 40 characters.
        let text = "export AKIAIOSFODNN7EXAMPLE";
        let encoded = "ZXhwb3J0IEFLSUFJT1NGT0ROTjdFWEFNUExF";
        assert_eq!(decode_base64(encoded).as_deref(), Some(text));
        assert_eq!(decode_base64("not base64!"), None);
    }
}
