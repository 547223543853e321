environment    = "prod"
project_id     = "acme-portal"
region         = "europe-west1"
static_ip_name = "portal-prod-lb-ip"

# Component Enable Flags
enable_api    = true
enable_web    = true
enable_worker = true

# Image Variables
api_image = "europe-west1-docker.pkg.dev/acme-portal/portal/api:2.4.1"
web_image = "europe-west1-docker.pkg.dev/acme-portal/portal/web:3.0.2"

# Set by the release workflow
migrations_image_tag = "2.4.1"

worker = {
  repository = "ghcr.io/acme/worker"
  tag        = "1.7.3"
  replicas   = 2
}

domains = {
  prod = {
    api = "api.prod.example.com"
    web = "www.prod.example.com"
  }
}

scaling = {
  prod = { min = 2, max = 100 }
}
