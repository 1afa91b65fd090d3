resource "google_container_cluster" "private" {
  name               = "prod"
  location           = "europe-west1"
  initial_node_count = 1

  private_cluster_config {
    enable_private_nodes    = true
    enable_private_endpoint = false
    master_ipv4_cidr_block  = "172.16.0.0/28"
  }
}

resource "google_container_cluster" "autopilot_private" {
  name             = "autopilot"
  location         = "europe-west1"
  enable_autopilot = true

  private_cluster_config {
    enable_private_nodes = "true"
  }
}

resource "google_container_cluster" "configurable" {
  name               = "dev"
  location           = "europe-west1"
  initial_node_count = 1

  private_cluster_config {
    enable_private_nodes = var.private_nodes
  }
}

resource "google_container_cluster" "dyn" {
  name               = "dyn"
  location           = "europe-west1"
  initial_node_count = 1

  dynamic "private_cluster_config" {
    for_each = var.private ? [1] : []
    content {
      enable_private_nodes = true
    }
  }
}
