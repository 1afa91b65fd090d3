//! Policy documents as data: IAM identity policies, role trust policies and
//! resource policies (S3, SQS, SNS, KMS, ECR, Lambda, Secrets Manager,
//! Glacier, API Gateway, OpenSearch...) read once, wherever and however
//! they are written, into normalised *policy statements*.
//!
//! A statement is a derived entity of kind `policy_statement.<owner type>`
//! (`policy_statement.aws_s3_bucket_policy`,
//! `policy_statement.AWS::SQS::QueuePolicy`), whose `$parent` is the entity
//! that holds the policy. Its fields are always in one shape, whatever the
//! policy looked like:
//!
//! | field | what |
//! | --- | --- |
//! | `effect` | `Allow` or `Deny` (`Allow` when a policy document block omits it) |
//! | `actions`, `not_actions` | lists of action strings (`s3:GetObject`, `*`) |
//! | `resources`, `not_resources` | lists of resource ARNs |
//! | `principals`, `not_principals` | lists of principal identifiers of any type (`*`, an account ARN, `lambda.amazonaws.com`) |
//! | `anyone` | the principal is everyone: `"*"`, `{"AWS": "*"}`, or an Allow with `NotPrincipal` |
//! | `condition_keys` | the condition keys, lower case (`aws:sourcevpce`) |
//! | `restricted_by` | those condition keys that narrow who may act (`aws:SourceVpce`, `aws:PrincipalOrgID`...), lower case |
//! | `public` | an Allow to anyone that no such condition narrows |
//! | `document` | `identity`, `trust` or `resource` |
//!
//! Every form is read: a JSON string (a heredoc, a `jsonencode` of a
//! literal), a `jsonencode(...)` whose arguments are partly unknown, a
//! Terraform template with interpolations, the statements of a
//! `data.aws_iam_policy_document` a resource's policy refers to, a
//! CloudFormation `PolicyDocument` object, or a JSON text built with
//! `Fn::Sub`/`Fn::Join`, and the `principal`/`source_arn` attributes of a
//! Lambda permission. A value rampart cannot know (a variable, a `Ref`
//! without default, an interpolation) is unknown in the statement too, and
//! so is whatever is computed from it (`anyone`, `public`).
//!
//! The statements of a file are built once at load time into one extra
//! document of that file (the key [`DOCUMENT_KEY`]), which the platform
//! models turn into entities: queries select them like any other entity.

mod normalise;
mod sites;

use crate::platform::{Entity, LoadedFile, Platform};
use crate::tree::{Node, Value};

pub use normalise::{RESTRICTING_KEYS, normalise_policy, normalise_statement};

/// The root key of the document holding a file's policy statements.
pub const DOCUMENT_KEY: &str = "$policy_statements";

/// The most statements one file may produce: a bound on the work and the
/// memory spent on a generated or hostile policy.
pub const MAX_STATEMENTS_PER_FILE: usize = 20_000;

/// Adds to every Terraform and CloudFormation file of a unit the document
/// of its policy statements (when it has any). Called once per unit, after
/// Terraform evaluation.
pub fn derive(files: &mut [LoadedFile]) {
    let mut derived: Vec<Option<Node>> = Vec::with_capacity(files.len());
    for (index, file) in files.iter().enumerate() {
        derived.push(match file.platform {
            Platform::Terraform | Platform::CloudFormation => {
                sites::statements_document(files, index)
            }
            _ => None,
        });
    }
    for (file, document) in files.iter_mut().zip(derived) {
        if let Some(document) = document {
            file.documents.push(document);
        }
    }
}

/// Whether a document is the derived document of policy statements.
pub fn is_statements_document(document: &Node) -> bool {
    document.get(DOCUMENT_KEY).is_some()
}

/// Appends the policy statement entities of the derived document to
/// `out`, which holds the entities of the file's other documents (each
/// statement names its owner by index into them).
pub fn entities<'a>(document_index: usize, document: &'a Node, out: &mut Vec<Entity<'a>>) {
    let owners = out.len();
    for statement in document
        .get(DOCUMENT_KEY)
        .map(Node::items)
        .unwrap_or_default()
    {
        let Some(owner) = statement
            .get(OWNER_KEY)
            .and_then(whole_number)
            .filter(|&i| i < owners)
        else {
            continue;
        };
        let index = statement.get(INDEX_KEY).and_then(whole_number).unwrap_or(0);
        let (owner_kind, owner_identity, owner_name) = {
            let o = &out[owner];
            (o.kind.clone(), o.identity.clone(), o.name.clone())
        };
        let tail = owner_kind
            .split_once('.')
            .map_or(owner_kind.as_str(), |(_, t)| t);
        out.push(Entity {
            kind: format!("policy_statement.{tail}"),
            identity: format!("{owner_identity} statement {index}"),
            name: format!("{owner_name} statement {index}"),
            document: document_index,
            node: statement,
            header: statement.span,
            parent: Some(owner),
        });
    }
}

/// A non-negative integer held by a node.
fn whole_number(node: &Node) -> Option<usize> {
    match node.as_number()? {
        crate::tree::Number::Int(i) => usize::try_from(i).ok(),
        crate::tree::Number::Float(_) => None,
    }
}

/// The key of a statement holding its owner's index among the file's
/// entities.
const OWNER_KEY: &str = "$owner";

/// The key of a statement holding its position in its policy.
const INDEX_KEY: &str = "$index";

/// An unknown value at `node`'s place: what a query sees as unknown on
/// every platform.
fn unknown(at: &Node) -> Node {
    Node::new(
        Value::Expr(Box::new(crate::tree::Expression {
            source: String::new(),
            references: Vec::new(),
            literal_parts: Vec::new(),
        })),
        at.span,
    )
}

#[cfg(test)]
mod tests;
