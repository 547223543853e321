variable "env_name" {
  type    = string
  default = "prod"
}

variable "app_name" {
  type    = string
  default = "api2" //todo
}

variable "image_tag" {
  type    = string
  default = "latest-prod"
}
