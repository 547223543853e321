environment    = "dev"
project_id     = "acme-portal"
region         = "europe-west1"
static_ip_name = "portal-dev-lb-ip"

# Component Enable Flags
enable_api    = true
enable_web    = true
enable_worker = false

# Image Variables
api_image = "europe-west1-docker.pkg.dev/acme-portal/portal/api:2.5.0-rc.1"
web_image = "europe-west1-docker.pkg.dev/acme-portal/portal/web:3.1.0"

# Set by the release workflow
migrations_image_tag = "2.5.0-rc.1"

domains = {
  dev = {
    api = "api.dev.example.com"
    web = "www.dev.example.com"
  }
}

scaling = {
  dev = { min = 1, max = 2 }
}
