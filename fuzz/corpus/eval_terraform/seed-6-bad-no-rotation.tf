# rampart-expect: tf-aws-kms-key-rotation-disabled
resource "aws_kms_key" "missing" {
  description = "application data"
}

resource "aws_kms_key" "disabled" {
  description         = "backups"
  enable_key_rotation = false # rampart-expect: tf-aws-kms-key-rotation-disabled
}

# SYMMETRIC_DEFAULT written out is still a symmetric key.
resource "aws_kms_key" "explicit_symmetric" { # rampart-expect: tf-aws-kms-key-rotation-disabled
  description              = "logs"
  customer_master_key_spec = "SYMMETRIC_DEFAULT"
  key_usage                = "ENCRYPT_DECRYPT"
}
