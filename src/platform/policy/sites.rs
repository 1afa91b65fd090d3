//! Where policies are written, on each platform, and how each form is read
//! into the JSON shape [`normalise`](super::normalise) takes.

use super::normalise::normalise_policy;
use super::{DOCUMENT_KEY, INDEX_KEY, MAX_STATEMENTS_PER_FILE, OWNER_KEY, unknown};
use crate::platform::{Entity, LoadedFile, Model, Platform, View, entities};
use crate::tree::{Entry, LineIndex, Node, Object, Span, Value};

/// Stands for an interpolation in a policy's JSON text: a string holding
/// it is unknown.
const PLACEHOLDER: &str = "__rampart_unknown__";

/// What kind of policy an attribute holds.
#[derive(Clone, Copy)]
enum Document {
    /// Permissions of an identity (user, group, role).
    Identity,
    /// Who may assume a role.
    Trust,
    /// Who may use a resource.
    Resource,
}

impl Document {
    fn name(self) -> &'static str {
        match self {
            Document::Identity => "identity",
            Document::Trust => "trust",
            Document::Resource => "resource",
        }
    }
}

/// How a site holds its policy.
#[derive(Clone, Copy)]
enum Form {
    /// A policy document at this path (`*` steps into every element).
    At(&'static [&'static str], Document),
    /// The statement blocks of a Terraform `aws_iam_policy_document`.
    DocumentBlocks,
    /// A Lambda permission's principal, action and source attributes.
    Permission(PermissionKeys),
}

/// The attribute names of a Lambda permission on one platform.
#[derive(Clone, Copy)]
struct PermissionKeys {
    principal: &'static [&'static str],
    action: &'static [&'static str],
    source_arn: &'static [&'static str],
    source_account: &'static [&'static str],
    org_id: &'static [&'static str],
}

const TF_PERMISSION: PermissionKeys = PermissionKeys {
    principal: &["principal"],
    action: &["action"],
    source_arn: &["source_arn"],
    source_account: &["source_account"],
    org_id: &["principal_org_id"],
};

const CFN_PERMISSION: PermissionKeys = PermissionKeys {
    principal: &["Properties", "Principal"],
    action: &["Properties", "Action"],
    source_arn: &["Properties", "SourceArn"],
    source_account: &["Properties", "SourceAccount"],
    org_id: &["Properties", "PrincipalOrgID"],
};

const POLICY: &[&str] = &["policy"];
const RESOURCE: Document = Document::Resource;

/// The policies of a Terraform entity kind.
fn terraform_sites(kind: &str) -> &'static [Form] {
    use Form::At;
    match kind {
        "resource.aws_iam_policy"
        | "resource.aws_iam_role_policy"
        | "resource.aws_iam_user_policy"
        | "resource.aws_iam_group_policy" => &[At(POLICY, Document::Identity)],
        "resource.aws_iam_role" => &[
            At(&["assume_role_policy"], Document::Trust),
            At(&["inline_policy", "*", "policy"], Document::Identity),
        ],
        "resource.aws_s3_bucket_policy"
        | "resource.aws_s3_bucket"
        | "resource.aws_sqs_queue_policy"
        | "resource.aws_sqs_queue"
        | "resource.aws_sns_topic_policy"
        | "resource.aws_sns_topic"
        | "resource.aws_kms_key"
        | "resource.aws_kms_key_policy"
        | "resource.aws_ecr_repository_policy"
        | "resource.aws_ecr_registry_policy"
        | "resource.aws_glacier_vault_lock"
        | "resource.aws_secretsmanager_secret_policy"
        | "resource.aws_secretsmanager_secret"
        | "resource.aws_api_gateway_rest_api"
        | "resource.aws_api_gateway_rest_api_policy"
        | "resource.aws_efs_file_system_policy"
        | "resource.aws_backup_vault_policy"
        | "resource.aws_vpc_endpoint"
        | "resource.aws_s3_access_point" => &[At(POLICY, RESOURCE)],
        "resource.aws_glacier_vault" => &[At(&["access_policy"], RESOURCE)],
        "resource.aws_elasticsearch_domain"
        | "resource.aws_opensearch_domain"
        | "resource.aws_elasticsearch_domain_policy"
        | "resource.aws_opensearch_domain_policy" => &[At(&["access_policies"], RESOURCE)],
        "resource.aws_cloudwatch_log_resource_policy" => &[At(&["policy_document"], RESOURCE)],
        "resource.aws_lambda_permission" => &[Form::Permission(TF_PERMISSION)],
        "data.aws_iam_policy_document" => &[Form::DocumentBlocks],
        _ => &[],
    }
}

/// The policies of a CloudFormation entity kind.
fn cloudformation_sites(kind: &str) -> &'static [Form] {
    use Form::At;
    const DOC: &[&str] = &["Properties", "PolicyDocument"];
    const INLINE: &[&str] = &["Properties", "Policies", "*", "PolicyDocument"];
    match kind {
        "resource.AWS::IAM::Policy"
        | "resource.AWS::IAM::ManagedPolicy"
        | "resource.AWS::IAM::RolePolicy"
        | "resource.AWS::IAM::UserPolicy"
        | "resource.AWS::IAM::GroupPolicy" => &[At(DOC, Document::Identity)],
        "resource.AWS::IAM::Role" => &[
            At(&["Properties", "AssumeRolePolicyDocument"], Document::Trust),
            At(INLINE, Document::Identity),
        ],
        "resource.AWS::IAM::User" | "resource.AWS::IAM::Group" => &[At(INLINE, Document::Identity)],
        "resource.AWS::S3::BucketPolicy"
        | "resource.AWS::SQS::QueuePolicy"
        | "resource.AWS::SQS::QueueInlinePolicy"
        | "resource.AWS::SNS::TopicPolicy"
        | "resource.AWS::SNS::TopicInlinePolicy"
        | "resource.AWS::Logs::ResourcePolicy"
        | "resource.AWS::EC2::VPCEndpoint" => &[At(DOC, RESOURCE)],
        "resource.AWS::KMS::Key" => &[At(&["Properties", "KeyPolicy"], RESOURCE)],
        "resource.AWS::ECR::Repository" => &[At(&["Properties", "RepositoryPolicyText"], RESOURCE)],
        "resource.AWS::ECR::RegistryPolicy" => &[At(&["Properties", "PolicyText"], RESOURCE)],
        "resource.AWS::SecretsManager::ResourcePolicy" => {
            &[At(&["Properties", "ResourcePolicy"], RESOURCE)]
        }
        "resource.AWS::Elasticsearch::Domain" | "resource.AWS::OpenSearchService::Domain" => {
            &[At(&["Properties", "AccessPolicies"], RESOURCE)]
        }
        "resource.AWS::ApiGateway::RestApi" | "resource.AWS::S3::AccessPoint" => {
            &[At(&["Properties", "Policy"], RESOURCE)]
        }
        "resource.AWS::EFS::FileSystem" => &[At(&["Properties", "FileSystemPolicy"], RESOURCE)],
        "resource.AWS::Backup::BackupVault" => &[At(&["Properties", "AccessPolicy"], RESOURCE)],
        "resource.AWS::Lambda::Permission" => &[Form::Permission(CFN_PERMISSION)],
        _ => &[],
    }
}

/// Reads values of one file as its platform does.
struct Reader<'a> {
    model: &'static dyn Model,
    document: &'a Node,
}

impl Reader<'_> {
    /// A copy of `node` as the platform reads it, placed where it is
    /// written: a CloudFormation `Ref` to a parameter becomes its default,
    /// whatever rampart cannot know becomes unknown.
    fn materialise(&self, node: &Node) -> Node {
        let seen = match self.model.view(node, self.document) {
            View::Unknown => return unknown(node),
            View::Known(seen) => seen,
        };
        match &seen.value {
            Value::Object(o) => Node::new(
                Value::Object(Object {
                    entries: o
                        .entries
                        .iter()
                        .map(|e| Entry {
                            key: e.key.clone(),
                            key_span: e.key_span,
                            value: self.materialise(&e.value),
                        })
                        .collect(),
                }),
                node.span,
            ),
            Value::Array(items) => Node::new(
                Value::Array(items.iter().map(|i| self.materialise(i)).collect()),
                node.span,
            ),
            other => Node::new(other.clone(), node.span),
        }
    }

    /// The policy document `node` holds, in JSON shape, if it can be read.
    fn policy(&self, node: &Node) -> Option<Node> {
        match self.model.view(node, self.document) {
            View::Known(seen) => match &seen.value {
                Value::String(text) => decode(text, node.span),
                Value::Object(_) => Some(self.materialise(node)),
                _ => None,
            },
            View::Unknown => match &node.value {
                Value::Expr(e) => terraform_expression(e, node.span),
                Value::Object(o) if o.len() == 1 => {
                    self.cloudformation_text(&o.entries[0], node.span)
                }
                _ => None,
            },
        }
    }

    /// The JSON text an `Fn::Sub` or `Fn::Join` builds, each substitution
    /// unknown.
    fn cloudformation_text(&self, function: &Entry, at: Span) -> Option<Node> {
        let text = match function.key.as_str() {
            "Fn::Sub" => {
                let template = match &function.value.value {
                    Value::String(s) => s.as_str(),
                    Value::Array(parts) => parts.first()?.as_str()?,
                    _ => return None,
                };
                substitute(template)
            }
            "Fn::Join" => {
                let parts = function.value.as_array()?;
                let separator = parts.first()?.as_str()?;
                let mut pieces = Vec::new();
                for part in parts.get(1)?.as_array()? {
                    match self.model.view(part, self.document) {
                        View::Known(seen) => match &seen.value {
                            Value::String(s) => pieces.push(s.clone()),
                            Value::Number(n) => pieces.push(n.to_string()),
                            _ => pieces.push(PLACEHOLDER.to_string()),
                        },
                        View::Unknown => pieces.push(PLACEHOLDER.to_string()),
                    }
                }
                pieces.join(separator)
            }
            _ => return None,
        };
        decode(&text, at)
    }
}

/// `${...}` in an `Fn::Sub` template replaced by the placeholder (`${!x}`
/// is the literal `${x}`).
fn substitute(template: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        if let Some(literal) = after.strip_prefix('!') {
            out.push_str("${");
            rest = literal;
            continue;
        }
        match after.find('}') {
            Some(end) => {
                out.push_str(PLACEHOLDER);
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// A Terraform expression holding a policy: `jsonencode(...)` of a value
/// that is partly unknown, or a template (heredoc) with interpolations.
fn terraform_expression(e: &crate::tree::Expression, at: Span) -> Option<Node> {
    let source = e.source.trim();
    if let Some(argument) = source
        .strip_prefix("jsonencode(")
        .and_then(|s| s.strip_suffix(')'))
    {
        let text = format!("value = {argument}\n");
        let index = LineIndex::new(&text);
        let parsed = crate::parse::hcl::parse(&text, &index);
        if !parsed.errors.is_empty() {
            return None;
        }
        let mut value = parsed.documents.into_iter().next()?.get("value")?.clone();
        value.respan(at);
        return match &value.value {
            Value::String(s) => decode(s, at),
            Value::Object(_) => Some(value),
            _ => None,
        };
    }
    if (source.starts_with("<<") || source.starts_with('"')) && !e.literal_parts.is_empty() {
        return decode(&e.literal_parts.join(PLACEHOLDER), at);
    }
    None
}

/// A policy written as JSON text, every node placed at `at`; strings
/// holding a placeholder are unknown.
fn decode(text: &str, at: Span) -> Option<Node> {
    let t = text.trim_start();
    if !t.starts_with('{') {
        return None;
    }
    let index = LineIndex::new(text);
    let parsed = crate::parse::json::parse(text, &index, crate::parse::json::Strings::Plain);
    if !parsed.errors.is_empty() {
        return None;
    }
    let mut node = parsed.documents.into_iter().next()?;
    node.respan(at);
    mark_placeholders(&mut node);
    Some(node)
}

fn mark_placeholders(node: &mut Node) {
    match &mut node.value {
        Value::String(s) if s.contains(PLACEHOLDER) => *node = unknown(node),
        Value::Array(items) => items.iter_mut().for_each(mark_placeholders),
        Value::Object(o) => o
            .entries
            .iter_mut()
            .for_each(|e| mark_placeholders(&mut e.value)),
        _ => {}
    }
}

/// The nodes at `path` (`*` steps into every element; a Terraform block
/// written once or several times alike).
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

/// The JSON-shaped statements of a Terraform `aws_iam_policy_document`
/// body (`effect` defaults to Allow).
fn document_blocks(reader: &Reader, body: &Node) -> Node {
    let mut statements = Vec::new();
    for block in body.get("statement").map(Node::items).unwrap_or_default() {
        if block.as_object().is_none() {
            continue;
        }
        let mut s = Vec::new();
        let put = |s: &mut Vec<Entry>, key: &str, value: Node| {
            s.push(Entry {
                key: key.to_string(),
                key_span: value.span,
                value,
            });
        };
        if let Some(sid) = block.get("sid") {
            put(&mut s, "Sid", reader.materialise(sid));
        }
        put(
            &mut s,
            "Effect",
            block.get("effect").map_or_else(
                || Node::new(Value::String("Allow".into()), block.span),
                |e| reader.materialise(e),
            ),
        );
        for (key, name) in [
            ("actions", "Action"),
            ("not_actions", "NotAction"),
            ("resources", "Resource"),
            ("not_resources", "NotResource"),
        ] {
            if let Some(v) = block.get(key) {
                put(&mut s, name, reader.materialise(v));
            }
        }
        for (key, name) in [
            ("principals", "Principal"),
            ("not_principals", "NotPrincipal"),
        ] {
            let Some(blocks) = block.get(key) else {
                continue;
            };
            put(&mut s, name, principal_blocks(reader, blocks));
        }
        if let Some(conditions) = block.get("condition") {
            put(&mut s, "Condition", condition_blocks(reader, conditions));
        }
        statements.push(Node::new(Value::Object(Object { entries: s }), block.span));
    }
    let span = body.span;
    Node::new(
        Value::Object(Object {
            entries: vec![Entry {
                key: "Statement".into(),
                key_span: span,
                value: Node::new(Value::Array(statements), span),
            }],
        }),
        span,
    )
}

/// `principals { type, identifiers }` blocks as a JSON `Principal`:
/// `type = "*"` is the anonymous `"*"`.
fn principal_blocks(reader: &Reader, blocks: &Node) -> Node {
    let mut entries = Vec::new();
    for p in blocks.items() {
        let ty = p.get("type").map(|t| reader.materialise(t));
        let ids = p.get("identifiers").map(|i| reader.materialise(i));
        match (ty, ids) {
            (Some(ty), Some(ids)) => match ty.as_str() {
                Some("*") => {
                    return Node::new(Value::String("*".into()), ids.span);
                }
                Some(name) => entries.push(Entry {
                    key: name.to_string(),
                    key_span: ty.span,
                    value: ids,
                }),
                None => return unknown(p),
            },
            _ => return unknown(p),
        }
    }
    Node::new(Value::Object(Object { entries }), blocks.span)
}

/// `condition { test, variable, values }` blocks as a JSON `Condition`.
fn condition_blocks(reader: &Reader, blocks: &Node) -> Node {
    let mut operators: Vec<Entry> = Vec::new();
    for c in blocks.items() {
        let test = c.get("test").map(|t| reader.materialise(t));
        let variable = c.get("variable").map(|v| reader.materialise(v));
        let values = c.get("values").map(|v| reader.materialise(v));
        let (Some(test), Some(variable), Some(values)) = (test, variable, values) else {
            return unknown(c);
        };
        let (Some(test_name), Some(variable_name)) = (test.as_str(), variable.as_str()) else {
            return unknown(c);
        };
        let entry = Entry {
            key: variable_name.to_string(),
            key_span: variable.span,
            value: values,
        };
        match operators.iter_mut().find(|o| o.key == test_name) {
            Some(op) => {
                if let Some(obj) = op.value.as_object_mut() {
                    obj.entries.push(entry);
                }
            }
            None => operators.push(Entry {
                key: test_name.to_string(),
                key_span: test.span,
                value: Node::new(
                    Value::Object(Object {
                        entries: vec![entry],
                    }),
                    c.span,
                ),
            }),
        }
    }
    Node::new(Value::Object(Object { entries: operators }), blocks.span)
}

/// A Lambda permission as the one statement it adds to the function's
/// policy.
fn permission(reader: &Reader, body: &Node, keys: PermissionKeys) -> Option<Node> {
    let get = |path: &[&str]| {
        let mut found = Vec::new();
        at_path(body, path, &mut found);
        found.first().map(|n| reader.materialise(n))
    };
    let principal = get(keys.principal)?;
    let mut entries = vec![Entry {
        key: "Effect".into(),
        key_span: body.span,
        value: Node::new(Value::String("Allow".into()), body.span),
    }];
    let principal = match principal.as_str() {
        Some("*") => principal,
        _ => Node::new(
            Value::Object(Object {
                entries: vec![Entry {
                    key: "AWS".into(),
                    key_span: principal.span,
                    value: principal.clone(),
                }],
            }),
            principal.span,
        ),
    };
    entries.push(Entry {
        key: "Principal".into(),
        key_span: principal.span,
        value: principal,
    });
    if let Some(action) = get(keys.action) {
        entries.push(Entry {
            key: "Action".into(),
            key_span: action.span,
            value: action,
        });
    }
    let mut tests = Vec::new();
    for (path, key) in [
        (keys.source_arn, "aws:SourceArn"),
        (keys.source_account, "aws:SourceAccount"),
        (keys.org_id, "aws:PrincipalOrgID"),
    ] {
        if let Some(v) = get(path) {
            tests.push(Entry {
                key: key.into(),
                key_span: v.span,
                value: v,
            });
        }
    }
    if !tests.is_empty() {
        let span = tests[0].key_span;
        entries.push(Entry {
            key: "Condition".into(),
            key_span: span,
            value: Node::new(
                Value::Object(Object {
                    entries: vec![Entry {
                        key: "StringEquals".into(),
                        key_span: span,
                        value: Node::new(Value::Object(Object { entries: tests }), span),
                    }],
                }),
                span,
            ),
        });
    }
    let statement = Node::new(Value::Object(Object { entries }), body.span);
    Some(Node::new(
        Value::Object(Object {
            entries: vec![Entry {
                key: "Statement".into(),
                key_span: body.span,
                value: statement,
            }],
        }),
        body.span,
    ))
}

/// The `aws_iam_policy_document` a Terraform policy attribute names by its
/// `json` (not evaluated, because something in it is unknown), and the
/// file holding it.
fn referenced_document<'f>(
    files: &'f [LoadedFile],
    module: Option<&str>,
    node: &Node,
) -> Option<(usize, &'f Node, &'f Node)> {
    let source = node.as_expr()?.source.trim();
    let name = source
        .strip_prefix("data.aws_iam_policy_document.")?
        .strip_suffix(".json")?;
    let address = format!("data.aws_iam_policy_document.{name}");
    for (i, file) in files.iter().enumerate() {
        if file.platform != Platform::Terraform || file.module.as_deref() != module {
            continue;
        }
        let found = entities(file.platform, &file.documents)
            .into_iter()
            .find(|e| e.name == address)
            .and_then(|e| Some((e.node, file.documents.get(e.document)?)));
        if let Some((body, document)) = found {
            return Some((i, body, document));
        }
    }
    None
}

/// The derived document of the policy statements of `files[index]`, if it
/// has any.
pub(super) fn statements_document(files: &[LoadedFile], index: usize) -> Option<Node> {
    let file = files.get(index)?;
    let platform = file.platform;
    let model = platform.model();
    let found: Vec<Entity> = entities(platform, &file.documents);
    let mut statements: Vec<Node> = Vec::new();
    for (owner, entity) in found.iter().enumerate() {
        // Statements are numbered across all the policies of their owner
        // (a role's trust policy, then its inline policies).
        let mut numbered = 0;
        let sites = match platform {
            Platform::Terraform => terraform_sites(&entity.kind),
            Platform::CloudFormation => cloudformation_sites(&entity.kind),
            _ => &[],
        };
        let Some(document) = file.documents.get(entity.document) else {
            continue;
        };
        let reader = Reader { model, document };
        for form in sites {
            let mut policies: Vec<(Node, Document)> = Vec::new();
            match *form {
                Form::At(path, kind) => {
                    let mut nodes = Vec::new();
                    at_path(entity.node, path, &mut nodes);
                    for node in nodes {
                        if let Some(policy) = reader.policy(node) {
                            policies.push((policy, kind));
                        } else if let Some((i, body, doc)) =
                            referenced_document(files, file.module.as_deref(), node)
                        {
                            let other = Reader {
                                model,
                                document: doc,
                            };
                            let mut policy = document_blocks(&other, body);
                            // Written in another file: point at the
                            // attribute that uses it.
                            if i != index {
                                policy.respan(node.span);
                            }
                            policies.push((policy, kind));
                        }
                    }
                }
                Form::DocumentBlocks => {
                    policies.push((document_blocks(&reader, entity.node), Document::Identity));
                }
                Form::Permission(keys) => {
                    if let Some(policy) = permission(&reader, entity.node, keys) {
                        policies.push((policy, RESOURCE));
                    }
                }
            }
            for (policy, kind) in policies {
                let start = statements.len();
                normalise_policy(
                    &policy,
                    kind.name(),
                    &mut statements,
                    MAX_STATEMENTS_PER_FILE,
                );
                for statement in &mut statements[start..] {
                    tag(statement, owner, numbered);
                    numbered += 1;
                }
            }
        }
    }
    if statements.is_empty() {
        return None;
    }
    let span = file.documents.first().map(|d| d.span).unwrap_or_default();
    Some(Node::new(
        Value::Object(Object {
            entries: vec![Entry {
                key: DOCUMENT_KEY.into(),
                key_span: span,
                value: Node::new(Value::Array(statements), span),
            }],
        }),
        span,
    ))
}

/// Records a statement's owner (by index among the file's entities) and
/// its position in its policy.
fn tag(statement: &mut Node, owner: usize, index: usize) {
    let span = statement.span;
    if let Some(o) = statement.as_object_mut() {
        for (key, value) in [(OWNER_KEY, owner), (INDEX_KEY, index)] {
            o.entries.insert(
                0,
                Entry {
                    key: key.into(),
                    key_span: span,
                    value: Node::new(
                        Value::Number(crate::tree::Number::Int(
                            i64::try_from(value).unwrap_or(i64::MAX),
                        )),
                        span,
                    ),
                },
            );
        }
    }
}
