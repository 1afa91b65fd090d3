resource "aws_ecs_task_definition" "app" {
  family                = "app"
  container_definitions = file("containers.json")

  volume {
    name = "scratch"
    host_path = "/ecs/scratch"
  }

  # rampart-expect: tf-aws-ecs-efs-volume-transit-encryption-disabled
  volume {
    name = "shared"
    efs_volume_configuration {
      file_system_id = aws_efs_file_system.shared.id
    }
  }

  volume {
    name = "media"
    efs_volume_configuration {
      file_system_id     = aws_efs_file_system.media.id
      transit_encryption = "DISABLED" # rampart-expect: tf-aws-ecs-efs-volume-transit-encryption-disabled
    }
  }
}
