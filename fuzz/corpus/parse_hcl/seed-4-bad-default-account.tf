resource "google_compute_instance" "no_email" {
  name         = "web-1"
  machine_type = "e2-small"
  zone         = "europe-west1-b"

  boot_disk {
    initialize_params {
      image = "debian-cloud/debian-12"
    }
  }
  network_interface {
    network = "default"
  }

  service_account { # rampart-expect: tf-gcp-compute-default-service-account
    scopes = ["cloud-platform"]
  }
}

resource "google_compute_instance_template" "literal" {
  name_prefix  = "web-"
  machine_type = "e2-small"

  disk {
    source_image = "debian-cloud/debian-12"
  }
  network_interface {
    network = "default"
  }

  service_account {
    email  = "123456789012-compute@developer.gserviceaccount.com" # rampart-expect: tf-gcp-compute-default-service-account
    scopes = ["cloud-platform"]
  }
}

resource "google_compute_instance_from_template" "override" {
  name                     = "web-2"
  zone                     = "europe-west1-b"
  source_instance_template = google_compute_instance_template.literal.self_link_unique

  service_account { # rampart-expect: tf-gcp-compute-default-service-account
    scopes = ["userinfo-email"]
  }
}
