resource "google_compute_instance" "default" {
  name         = "app-1"
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
}

resource "google_compute_instance_template" "explicit" {
  name_prefix  = "app-"
  machine_type = "e2-small"

  disk {
    source_image = "debian-cloud/debian-12"
  }
  network_interface {
    network = "default"
  }

  shielded_instance_config {
    enable_secure_boot          = true
    enable_vtpm                 = true
    enable_integrity_monitoring = true
  }
}

# Secure Boot off only: vTPM and monitoring stay on by default.
resource "google_compute_instance" "no_secure_boot" {
  name         = "app-2"
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

  shielded_instance_config {
    enable_secure_boot = false
  }
}

resource "google_compute_instance" "configurable" {
  name         = "app-3"
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

  shielded_instance_config {
    enable_vtpm                 = var.vtpm
    enable_integrity_monitoring = var.monitoring
  }
}
