# Production values for the portal stack.
# Used with: terraform apply -var-file="environments/prod.tfvars"

environment           = "prod"
project_id            = "acme-portal"
region                = "asia-south1"
static_ip_name        = "portal-lb-ip"
backend_image         = "asia-south1-docker.pkg.dev/acme-portal/portal/backend:2.5.0"
customer_portal_image = "asia-south1-docker.pkg.dev/acme-portal/portal/customer-portal:2.4.1" # pinned by release
platform_portal_image = "asia-south1-docker.pkg.dev/acme-portal/portal/platform-portal:1.9.0"

domains = {
  prod = {
    customer_portal = "www.example.com",
    platform_portal = "pp.example.com",
  }
}

scaling = {
  prod = { min = 2, max = 100 }
}
