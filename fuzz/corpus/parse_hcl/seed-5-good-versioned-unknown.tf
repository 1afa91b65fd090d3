resource "google_storage_bucket" "versioned" {
  name                        = "acme-data"
  location                    = "EU"
  uniform_bucket_level_access = true

  versioning {
    enabled = true
  }
}

resource "google_storage_bucket" "quoted" {
  name     = "acme-quoted"
  location = "EU"

  versioning {
    enabled = "true"
  }
}

resource "google_storage_bucket" "configurable" {
  name     = "acme-configurable"
  location = "EU"

  versioning {
    enabled = var.versioning
  }
}

resource "google_storage_bucket" "dyn" {
  name     = "acme-dyn"
  location = "EU"

  dynamic "versioning" {
    for_each = var.versioning_enabled ? [1] : []
    content {
      enabled = true
    }
  }
}
