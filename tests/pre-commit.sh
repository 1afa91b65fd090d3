#!/usr/bin/env bash
# End-to-end test of the pre-commit hook through the real pre-commit
# framework: a scratch repository with a bad Terraform file and a clean one;
# the hook (built from this checkout by pre-commit, as users get it) must
# block a commit of the bad file and pass one of the clean file.
#
#   tests/pre-commit.sh        (needs `pre-commit` on PATH: pip install pre-commit)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
command -v pre-commit >/dev/null || { echo "pre-commit is not installed (pip install pre-commit)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
git init -q scratch
cd scratch
git config user.email ci@example.invalid
git config user.name ci

mkdir -p infra/bad infra/good
cat > infra/bad/main.tf <<'TF'
resource "aws_s3_bucket" "public" {
  bucket = "public-assets"
  acl    = "public-read"
}
TF
cat > infra/good/main.tf <<'TF'
resource "aws_ebs_volume" "data" {
  availability_zone = "eu-west-1a"
  size              = 40
  encrypted         = true
  kms_key_id        = var.kms_key_arn
}

variable "kms_key_arn" {
  type = string
}
TF

# pre-commit clones the hook repository; a clean clone of HEAD plus the
# working tree's hook file is what users would get from a tag.
run_hook() { pre-commit try-repo "$here" rampart --files "$@" 2>&1; }

git add infra/good/main.tf
if ! out=$(run_hook infra/good/main.tf); then
  echo "FAIL: the hook blocked a clean file:"; echo "$out"; exit 1
fi
echo "ok: clean file passes"

git add infra/bad/main.tf
if out=$(run_hook infra/bad/main.tf); then
  echo "FAIL: the hook let a public bucket through:"; echo "$out"; exit 1
fi
case "$out" in
  *"infra/bad/main.tf:3:12: high aws-s3-public-acl"*) echo "ok: bad file blocked with its finding" ;;
  *) echo "FAIL: unexpected hook output:"; echo "$out"; exit 1 ;;
esac
# A staged file named like an option must be read as a file: without the
# entry's `--`, `--config=evil.yaml` (fail_on: none) turned failing off.
printf 'fail_on: none\n' > ./--config=evil.yaml
git add -- ./--config=evil.yaml
if out=$(pre-commit try-repo "$here" rampart --all-files 2>&1); then
  echo "FAIL: a file named --config=evil.yaml turned failing off:"; echo "$out"; exit 1
fi
case "$out" in
  *"infra/bad/main.tf:3:12: high aws-s3-public-acl"*) echo "ok: a file named like a flag is a file" ;;
  *) echo "FAIL: unexpected hook output:"; echo "$out"; exit 1 ;;
esac
echo "pre-commit: 3 passed, 0 failed"
