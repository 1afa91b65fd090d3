resource "aws_ebs_encryption_by_default" "on" {
  enabled = true
}

resource "aws_launch_configuration" "app" {
  image_id      = "ami-0abcdef1234567890"
  instance_type = "t3.small"

  ebs_block_device {
    device_name = "/dev/xvdb"
    volume_size = 100
  }
}
