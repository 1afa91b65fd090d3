variable "env" {
  default = "prod"
}

variable "ports" {
  type    = list(number)
  default = [22, 443]
}

locals {
  name   = "${var.env}-logs"
  tags   = merge({ env = var.env }, { team = "infra" })
  rules  = [for p in var.ports : { port = p, open = p == 22 }]
  joined = join(",", [for p in var.ports : tostring(p)])
  doc    = jsonencode({ Statement = [{ Effect = "Allow", Action = "s3:*" }] })
}

resource "aws_s3_bucket" "logs" {
  bucket = local.name
  tags   = local.tags
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket            = aws_s3_bucket.logs.id
  block_public_acls = true
}

resource "aws_security_group" "web" {
  dynamic "ingress" {
    for_each = local.rules
    content {
      from_port   = ingress.value.port
      to_port     = ingress.value.port
      cidr_blocks = ingress.value.open ? ["0.0.0.0/0"] : ["10.0.0.0/8"]
    }
  }
}
