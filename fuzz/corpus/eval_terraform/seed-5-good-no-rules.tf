# No rules: Terraform strips the default ones.
resource "aws_default_security_group" "default" {
  vpc_id = aws_vpc.main.id
}

# Empty attribute lists say the same thing.
resource "aws_default_security_group" "other" {
  vpc_id  = aws_vpc.other.id
  ingress = []
  egress  = []
}

# Rules generated from a variable without a default: unknown.
resource "aws_default_security_group" "configurable" {
  vpc_id = aws_vpc.conf.id

  dynamic "ingress" {
    for_each = var.default_sg_rules
    content {
      protocol  = ingress.value.protocol
      from_port = ingress.value.from
      to_port   = ingress.value.to
    }
  }
}
