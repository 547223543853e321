/*
 * One object per service; the bot promotes api and worker.
 */
images = {
  api = {
    name          = "api",
    image         = "ghcr.io/acme/api",
    image_version = "1.4.0",
    env           = ["MYSQL_HOST=127.0.0.1"],
  },
  worker = {
    repository = "acme/worker"
    registry   = "ghcr.io"
    tag        = "1.4.0@sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
  },
}

# Bare tags, named by the config (apps.NAME.tags).
image_tags = {
  api    = "1.4.0"
  worker = "1.4.0"
}
