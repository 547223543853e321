variable "project" { default = "acme-genai" }
variable "region" { default = "europe-west1" }
variable "image" { default = "europe-west1-docker.pkg.dev/acme-genai/apps/genai-app:0.4.0" }

variable "service_account_key_path" {
  description = <<-EOD
  The path to the service account key file.
  Never an image: "europe-west1-docker.pkg.dev/acme-genai/apps/genai-app:0.0.1"
  EOD
  type        = string
}

resource "google_cloud_run_service" "app" {
  name     = "genai-app-v2"
  location = "us-central1"

  template {
    spec {
      containers {
        image = "europe-west1-docker.pkg.dev/acme-genai/apps/genai-app:0.4.0"
        env {
          name  = "PROJECT_ID"
          value = var.project
        }
        env {
          name  = "REGION"
          value = "us-central1"
        }
        ports {
          container_port = 8080
        }
      }
      # The sidecar follows its own releases.
      containers {
        image = "${var.region}-docker.pkg.dev/acme-genai/apps/sidecar:1.0.0"
      }
    }
  }

  traffic {
    percent         = 100
    latest_revision = false
  }

  lifecycle {
    ignore_changes = [traffic[0].revision_name]
  }
}
