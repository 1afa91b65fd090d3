variable "env" {
  type    = string
  default = "prod"
}

variable "acl" {
  default = "private"
}

variable "ports" {
  type    = list(number)
  default = [80, 443]
}

locals {
  cidr = "10.0.0.0/16"
}
