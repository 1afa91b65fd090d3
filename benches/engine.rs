//! The query engine alone: every query of the built-in library over units
//! parsed beforehand, so the figure is what the queries cost on top of
//! parsing (`cargo bench --bench engine`).

use divan::Bencher;
use divan::counter::ItemsCount;
use rampart::load::LoadedUnit;
use rampart::parse;
use rampart::platform::LoadedFile;
use rampart::platform::{Platform, entities};
use rampart::query::engine::run_unit;
use rampart::query::registry::Registry;
use rampart::tree::LineIndex;
use rampart::tree::SourceText;

fn main() {
    divan::main();
}

fn kubernetes_text(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-{i}\nspec:\n  template:\n    spec:\n      hostNetwork: {}\n      containers:\n        - name: web\n          image: nginx:latest\n          securityContext:\n            privileged: {}\n        - name: sidecar\n          image: envoy@sha256:abc\n          resources:\n            limits: {{memory: 128Mi}}\n",
                i % 7 == 0,
                i % 3 == 0
            )
        })
        .collect()
}

fn terraform_text(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "resource \"aws_s3_bucket\" \"b{i}\" {{\n  bucket = \"b{i}\"\n  acl = \"{}\"\n}}\nresource \"aws_security_group\" \"sg{i}\" {{\n  ingress {{\n    from_port = 22\n    to_port = 22\n    protocol = \"tcp\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }}\n}}\n",
                if i % 2 == 0 { "private" } else { "public-read" }
            )
        })
        .collect()
}

fn unit(platform: Platform, text: String) -> LoadedUnit {
    let index = LineIndex::new(&text);
    let documents = match platform {
        Platform::Terraform => parse::hcl::parse(&text, &index).documents,
        _ => parse::yaml::parse(&text, &index).documents,
    };
    LoadedUnit {
        files: vec![LoadedFile {
            display: "bench".to_string(),
            platform,
            source: SourceText { text, bom_len: 0 },
            documents,
            streamed: false,
            derived: false,
            module: None,
            module_call: None,
        }],
        ..LoadedUnit::default()
    }
}

fn bench_engine(bencher: Bencher, platform: Platform, text: String) {
    let registry = Registry::load(true, &[] as &[&std::path::Path]).expect("library loads");
    let unit = unit(platform, text);
    let count = entities(platform, &unit.files[0].documents).len();
    let first = run_unit(&registry, &unit, None);
    assert!(
        !first.findings.is_empty(),
        "the generated unit has findings"
    );
    bencher
        .counter(ItemsCount::new(count))
        .bench(|| run_unit(&registry, divan::black_box(&unit), None));
}

#[divan::bench(sample_count = 10)]
fn engine_kubernetes(bencher: Bencher) {
    bench_engine(bencher, Platform::Kubernetes, kubernetes_text(2000));
}

#[divan::bench(sample_count = 10)]
fn engine_terraform(bencher: Bencher) {
    bench_engine(bencher, Platform::Terraform, terraform_text(2000));
}
