//! Realistic files of each platform, read the way a scan reads them, with
//! exact spans asserted on chosen nodes and exact entity lists.

use std::path::{Path, PathBuf};

use rampart::discover::{DiscoverOptions, discover};
use rampart::load::{LoadOptions, load_unit, units};
use rampart::platform::LoadedFile;
use rampart::platform::{Platform, entities};
use rampart::source::DEFAULT_MAX_FILE_SIZE;
use rampart::tree::Node;

fn data(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(path)
}

/// Loads every file under `path` (a file or a directory) as a scan would.
fn load(path: &str) -> Vec<LoadedFile> {
    let discovery = discover(&[data(path)], &DiscoverOptions::default()).expect("discover");
    assert!(
        discovery.diagnostics.is_empty(),
        "{:?}",
        discovery.diagnostics
    );
    let options = LoadOptions::with_max_file_size(DEFAULT_MAX_FILE_SIZE);
    let mut files = Vec::new();
    for unit in units(discovery.files) {
        let loaded = load_unit(&unit, &options);
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        files.extend(loaded.files);
    }
    files
}

fn file<'a>(files: &'a [LoadedFile], name: &str) -> &'a LoadedFile {
    files
        .iter()
        .find(|f| f.display.ends_with(name))
        .unwrap_or_else(|| panic!("{name} not loaded"))
}

/// (start line, start col, end line, end col) and the source text of a node.
fn located<'a>(file: &'a LoadedFile, node: &Node) -> ((u32, u32, u32, u32), &'a str) {
    let s = node.span;
    (
        (s.start_line, s.start_col, s.end_line, s.end_col),
        &file.source.text[s.range()],
    )
}

fn at<'a>(node: &'a Node, path: &[&str]) -> &'a Node {
    path.iter()
        .fold(node, |n, step| match step.parse::<usize>() {
            Ok(i) => &n.items()[i],
            Err(_) => n
                .get(step)
                .unwrap_or_else(|| panic!("no {step} in {}", n.type_name())),
        })
}

fn entity_list(file: &LoadedFile) -> Vec<String> {
    entities(file.platform, &file.documents)
        .iter()
        .map(|e| {
            format!(
                "{}:{} {} {}",
                e.header.start_line, e.header.start_col, e.kind, e.identity
            )
        })
        .collect()
}

#[test]
fn terraform_module_directory() {
    let files = load("terraform/app");
    assert_eq!(files.len(), 3);
    assert!(files.iter().all(|f| f.platform == Platform::Terraform));

    let main = file(&files, "main.tf");
    let root = &main.documents[0];
    let bucket = at(root, &["resource", "0", "aws_s3_bucket", "logs"]);
    let name = at(bucket, &["bucket"]);
    assert_eq!(located(main, name), ((3, 12, 3, 29), "\"${var.env}-logs\""));
    // Evaluated with the module's variables (variables.tf: env = "prod"),
    // still pointing at the template in main.tf.
    assert_eq!(name.as_str(), Some("prod-logs"));
    assert_eq!(at(bucket, &["acl"]).as_str(), Some("private"));

    // A nested block three levels down.
    let sse = at(
        bucket,
        &[
            "server_side_encryption_configuration",
            "rule",
            "apply_server_side_encryption_by_default",
        ],
    );
    assert_eq!(located(main, sse).0, (8, 7, 10, 8));
    assert_eq!(at(sse, &["sse_algorithm"]).as_str(), Some("aws:kms"));

    // Two written `ingress` blocks are an array; the `dynamic "ingress"`
    // over var.ports (default [80, 443]) adds the two blocks it generates.
    let sg = at(root, &["resource", "1", "aws_security_group", "web"]);
    let ingress = at(sg, &["ingress"]);
    assert_eq!(ingress.items().len(), 4);
    let cidr = at(ingress, &["1", "cidr_blocks", "1"]);
    assert_eq!(located(main, cidr), ((38, 33, 38, 39), "\"::/0\""));
    let generated: Vec<_> = ingress.items()[2..]
        .iter()
        .filter_map(|b| b.get("from_port").and_then(Node::as_number))
        .collect();
    assert_eq!(
        generated,
        vec![
            rampart::tree::Number::Int(80),
            rampart::tree::Number::Int(443)
        ]
    );
    assert!(
        sg.get("dynamic").is_none(),
        "an expanded dynamic block is gone"
    );

    // jsonencode of a literal is folded into the JSON text it produces,
    // spanning the whole call.
    let policy = at(
        root,
        &["resource", "2", "aws_iam_policy", "admin", "policy"],
    );
    assert_eq!(
        policy.as_str(),
        Some(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
        )
    );
    assert_eq!(located(main, policy).0, (43, 12, 50, 5));

    assert_eq!(
        entity_list(main),
        vec![
            "2:1 resource.aws_s3_bucket aws_s3_bucket.logs",
            "15:1 resource.aws_security_group aws_security_group.web",
            "42:1 resource.aws_iam_policy aws_iam_policy.admin",
            "53:1 module module.network",
            // The policy's statement, derived by the policy model.
            "43:12 policy_statement.aws_iam_policy aws_iam_policy.admin statement 0",
        ]
    );
    let json = file(&files, "override.tf.json");
    assert_eq!(
        entity_list(json),
        vec!["4:7 resource.aws_ebs_volume aws_ebs_volume.data"]
    );
    let encrypted = at(
        &json.documents[0],
        &["resource", "aws_ebs_volume", "data", "encrypted"],
    );
    assert_eq!(located(json, encrypted), ((6, 22, 6, 27), "false"));
    assert_eq!(
        entity_list(file(&files, "variables.tf")),
        vec![
            "1:1 variable var.env",
            "6:1 variable var.acl",
            "10:1 variable var.ports",
            "16:3 local local.cidr"
        ]
    );
}

#[test]
fn kubernetes_workloads_pod_specs_and_containers() {
    let files = load("kubernetes");
    let web = file(&files, "web.yaml");
    assert_eq!(web.platform, Platform::Kubernetes);
    assert_eq!(web.documents.len(), 3);
    let image = at(
        &web.documents[1],
        &["spec", "template", "spec", "containers", "0", "image"],
    );
    assert_eq!(located(web, image), ((25, 18, 25, 30), "\"nginx:1.27\""));
    assert_eq!(image.as_str(), Some("nginx:1.27"));
    assert_eq!(
        entity_list(web),
        vec![
            "2:1 object.Namespace Namespace/prod",
            "7:1 object.Deployment Deployment/prod/web",
            "17:5 pod_spec pod spec in Deployment/prod/web",
            "21:11 container init container migrate in Deployment/prod/web",
            "24:11 container container web in Deployment/prod/web",
            "30:11 container container sidecar in Deployment/prod/web",
            "34:1 object.CronJob CronJob/backup",
            "42:9 pod_spec pod spec in CronJob/backup",
            "44:15 container container backup in CronJob/backup",
        ]
    );
    let list = file(&files, "list.json");
    assert_eq!(
        entity_list(list),
        vec![
            "3:3 object.List List/?",
            "7:7 object.Pod Pod/debug",
            "9:7 pod_spec pod spec in Pod/debug",
            "9:53 container container shell in Pod/debug",
        ]
    );
}

#[test]
fn cloudformation_short_tags_and_parameters() {
    let files = load("cloudformation");
    let bucket = file(&files, "bucket.yaml");
    assert_eq!(bucket.platform, Platform::CloudFormation);
    let root = &bucket.documents[0];
    let name = at(
        root,
        &["Resources", "LogsBucket", "Properties", "BucketName"],
    );
    // `!Sub "..."` reads as {"Fn::Sub": "..."}, spanning the tagged value.
    let sub = at(name, &["Fn::Sub"]);
    assert_eq!(sub.as_str(), Some("${Env}-logs-${AWS::AccountId}"));
    assert_eq!(
        located(bucket, name),
        ((13, 19, 13, 55), "!Sub \"${Env}-logs-${AWS::AccountId}\"")
    );
    let public = at(
        root,
        &[
            "Resources",
            "Database",
            "Properties",
            "PubliclyAccessible",
            "Ref",
        ],
    );
    assert_eq!(public.as_str(), Some("Public"));
    let get_att = at(root, &["Outputs", "BucketArn", "Value", "Fn::GetAtt"]);
    let parts: Vec<_> = get_att.items().iter().filter_map(Node::as_str).collect();
    assert_eq!(parts, vec!["LogsBucket", "Arn"]);
    assert_eq!(
        entity_list(bucket),
        vec![
            "4:3 parameter parameter Public",
            "7:3 parameter parameter Env",
            "10:3 resource.AWS::S3::Bucket AWS::S3::Bucket LogsBucket",
            "15:3 resource.AWS::RDS::DBInstance AWS::RDS::DBInstance Database",
        ]
    );
    let sam = file(&files, "sam.template");
    assert_eq!(sam.platform, Platform::CloudFormation);
    assert_eq!(
        entity_list(sam),
        vec!["4:5 resource.AWS::Serverless::Function AWS::Serverless::Function Handler"]
    );
}

#[test]
fn dockerfile_stages_instructions_and_commands() {
    let files = load("dockerfile");
    let docker = file(&files, "Dockerfile");
    let root = &docker.documents[0];
    assert_eq!(
        at(root, &["directives", "syntax"]).as_str(),
        Some("docker/dockerfile:1")
    );
    assert_eq!(
        at(root, &["global_args", "0", "pairs", "BASE"]).as_str(),
        Some("golang:1.23")
    );
    let builder = at(root, &["stages", "0"]);
    assert_eq!(at(builder, &["name"]).as_str(), Some("builder"));
    assert_eq!(at(builder, &["platform"]).as_str(), Some("$BUILDPLATFORM"));
    // The second command of a RUN continued over three lines.
    let run = at(builder, &["instructions", "3"]);
    assert_eq!(at(run, &["instruction"]).as_str(), Some("RUN"));
    assert_eq!(located(docker, run).0, (7, 1, 9, 32));
    let install = at(run, &["commands", "1"]);
    assert_eq!(
        located(docker, install),
        ((8, 5, 8, 32), "apt-get install -y curl git")
    );
    let args: Vec<_> = at(install, &["args"])
        .items()
        .iter()
        .filter_map(Node::as_str)
        .collect();
    assert_eq!(args, vec!["install", "-y", "curl", "git"]);
    let mount = at(builder, &["instructions", "4", "flags", "mount"]);
    assert_eq!(mount.as_str(), Some("type=cache,target=/root/.cache"));
    let final_stage = at(root, &["stages", "1"]);
    assert_eq!(at(final_stage, &["tag"]).as_str(), Some("nonroot"));
    let entrypoint = at(final_stage, &["instructions", "3"]);
    assert_eq!(at(entrypoint, &["form"]).as_str(), Some("exec"));
    assert_eq!(
        entity_list(docker),
        vec![
            "1:1 dockerfile Dockerfile",
            "2:1 instruction.ARG ARG #1 before the first FROM",
            "4:1 stage stage builder",
            "4:1 instruction.FROM FROM #1 in stage builder",
            "5:1 instruction.WORKDIR WORKDIR #1 in stage builder",
            "6:1 instruction.COPY COPY #1 in stage builder",
            "7:1 instruction.RUN RUN #1 in stage builder",
            "10:1 instruction.RUN RUN #2 in stage builder",
            "12:1 stage.final stage 1",
            "12:1 instruction.FROM FROM #1 in stage 1",
            "13:1 instruction.COPY COPY #1 in stage 1",
            "14:1 instruction.USER USER #1 in stage 1",
            "15:1 instruction.ENTRYPOINT ENTRYPOINT #1 in stage 1",
        ]
    );
}
