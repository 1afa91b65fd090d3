# rampart-expect: tf-aws-sns-topic-not-encrypted
resource "aws_sns_topic" "alerts" {
  name = "alerts"
}
