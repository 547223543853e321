locals {
  region = "eu-west-1"
  name   = "ex-${basename(path.cwd)}"

  container_name = "ecsdemo-frontend"
  container_port = 3000
}

################################################################################
# Service
################################################################################

module "ecs_service" {
  source = "../../modules/service"

  name = local.name
  cpu    = 1024
  memory = 4096

  # Container definition(s)
  container_definitions = {

    fluent-bit = {
      cpu       = 512
      memory    = 1024
      essential = true
      image     = nonsensitive(data.aws_ssm_parameter.fluentbit.value)
      user      = "0"
    }

    (local.container_name) = {
      cpu       = 512
      memory    = 1024
      essential = true
      image     = "public.ecr.aws/aws-containers/ecsdemo-frontend:776fd50"
      # image   = "public.ecr.aws/aws-containers/ecsdemo-frontend:0000000"
      portMappings = [
        {
          name          = local.container_name
          containerPort = local.container_port
          protocol      = "tcp"
        }
      ]
    }
  }
}

module "ecs_task_definition" {
  source = "../../modules/service"

  create_service = false

  container_definitions = {
    al2023 = {
      image = "public.ecr.aws/amazonlinux/amazonlinux:2023-minimal"

      command    = ["echo hello world"]
      entrypoint = ["/usr/bin/sh", "-c"]
    }
  }
}

resource "aws_ecs_task_definition" "legacy" {
  family = "legacy-frontend"

  container_definitions = <<DEFINITION
[
  {
    "essential": true,
    "image": "public.ecr.aws/aws-containers/ecsdemo-frontend:776fd50",
    "name": "legacy-frontend"
  }
]
DEFINITION
}
