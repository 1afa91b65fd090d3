resource "google_compute_instance" "no_vtpm" {
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

  shielded_instance_config {
    enable_vtpm                 = false # rampart-expect: tf-gcp-compute-shielded-vm-disabled
    enable_integrity_monitoring = false # rampart-expect: tf-gcp-compute-shielded-vm-disabled
  }
}

resource "google_compute_instance_template" "no_monitoring" {
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
    enable_integrity_monitoring = "false" # rampart-expect: tf-gcp-compute-shielded-vm-disabled
  }
}
