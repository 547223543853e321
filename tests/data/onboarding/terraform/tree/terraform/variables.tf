variable "environment" {
  description = "The environment (dev, staging, prod)"
  type        = string
}

variable "api_image" {
  description = "Container image of the API, with its tag"
  type        = string
}

variable "web_image" {
  description = "Container image of the web front end, with its tag"
  type        = string
}

variable "migrations_image_tag" {
  description = "Tag of the API image the migration job runs"
  type        = string
  default     = "latest"
}
